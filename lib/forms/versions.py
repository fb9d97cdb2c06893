"""Form and campaign definitions kept as versions in the shared store: the system sheet ``form_versions``.

One row per version of one file name (``projects.yaml``, ``campaign.yaml``): its whole YAML ``text`` (at most
:data:`MAX_TEXT_CHARS` characters: a cell holds 32,767, Google's 50,000), the text's ``sha256``, the
``version`` number (1, 2, … per file, assigned at publish), the published version the edit started from
(``based_on``; 0 for a new file), where it came from (``origin``: :data:`ORIGINS`) and the publisher's
``note``. The row's status is the version's state: a draft (``lib.core.statuses.DRAFT``, the word of
every row's draft; edited in place), published (:data:`PUBLISHED`, never changed again), a discarded
draft (:data:`DISCARDED`), or the file withdrawn (:data:`WITHDRAWN`: a numbered row, never changed again,
after which the file is served no more). Who and when are the record's own (owner, updated_at); the store audits every
change.

What is served (:func:`served`): per file, the published version with the highest number (none when a
withdrawal came after it); of two rows
with one number (two servers on one Google spreadsheet publishing within one cache period) the earlier
in the store's log, which every server reads in the same order. :func:`publish_version` notices such a
lost race right after writing and discards its own row (``version_race``), so a tie never lasts.

>>> sha256("a: 1\\n")[:12]
'37b128c59f1f'
>>> check_file_name("projects - 副本.yaml")
'projects - 副本.yaml'
>>> def code(name):
...     try:
...         return check_file_name(name)
...     except VersionError as refused:
...         return refused.code
>>> {code(n) for n in ("../x.yaml", ".x.yaml", "x.yml", "x\\u202e.yaml", "a/b.yaml", " x.yaml", "con.yaml", "Lpt1.a.yaml")}
{'version_file_name'}
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace

import yaml

from lib.core.errors import AppError
from lib.core.records import Actor, Record, is_pending
from lib.core.roles import ADMIN
from lib.core.text import hidden_character, quotable
from lib.core.values import text as shown
from lib.store.base import Column, SheetSpec, Store

from .columns import sheet_spec
from .errors import FormProblem, problem
from .spec import CampaignSpec, FieldSpec, FormSpec
from .yamltext import load_yaml

VERSIONS = SheetSpec("form_versions", "表单版本", (
    Column("file", "文件名"),
    Column("form_id", "表单编号"),
    Column("version", "定义版本", "integer"),
    Column("text", "YAML 内容"),
    Column("sha256", "SHA-256"),
    Column("based_on", "基于版本", "integer"),
    Column("origin", "来源"),
    Column("note", "说明"),
))
#: The store lock held while a version number is chosen and written (one process's publishes queue on it;
#: across Google Sheets servers :func:`publish_version`'s check after writing decides).
LOCK = VERSIONS.form_id
PUBLISHED = "已发布"  # a version's status once published: immutable from then on
DISCARDED = "已放弃"  # a draft given up, or a publish that lost a race to another server's
#: A file withdrawn (lib.designer.withdraw): a version row taking the next number, after which the file is
#: served no more; a later publish of the file (the designer's, or a developer's changed file) brings it back.
WITHDRAWN = "已停用"
_NUMBERED = (PUBLISHED, WITHDRAWN)  # the statuses of rows holding a version number
#: Where a version came from: the first start's copy of ``forms/``, a developer's changed file, the
#: browser's designer, an earlier version published again.
ORIGINS = ("seed", "file", "designer", "rollback")
#: Longest YAML text a version holds (a cell holds 32,767 characters; a bigger paste is refused).
MAX_TEXT_CHARS = 30_000
#: Longest publisher's note kept.
MAX_NOTE_CHARS = 500
#: The system account that publishes the first start's copy of ``forms/`` and a developer's changed file.
DEVELOPER = Actor("开发者文件", ADMIN)

#: What a removed field's column is headed with (its values stay; columns are never dropped).
RETIRED_LABEL = "{label}（已停用）"
BOM = "\ufeff"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Longest file name a version may have.
MAX_NAME_CHARS = 100
_NOT_IN_NAMES = '/\\:*?"<>|'
#: Names Windows keeps for devices, whatever follows the first dot: such a file cannot be written there.
_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))})


class VersionError(AppError):
    """A version that cannot be written; nothing was published. Finer codes: ``version_file_name``,
    ``version_text_too_long``, ``version_origin``, ``version_note_too_long``, ``version_stale`` (another
    version was published since the edit began: the message says who, when and which), ``version_race``
    (another server published the same number first: this one is discarded)."""

    code = "form_version"


def sha256(text: str) -> str:
    """The hex SHA-256 of ``text`` as UTF-8 (what the sheet's ``sha256`` holds)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def check_file_name(file: str) -> str:
    """``file`` when it is a plain ``.yaml`` file name a folder can hold anywhere (no folder, not hidden,
    no control or invisible character, no Windows device name, at most :data:`MAX_NAME_CHARS` characters),
    else VersionError.
    Windows' copies ("x - 副本.yaml") are names too: a folder of forms may hold them."""
    if (not isinstance(file, str) or not file.endswith(".yaml") or file.startswith(".") or len(file) > MAX_NAME_CHARS
            or any(c in file for c in _NOT_IN_NAMES) or hidden_character(file) or file.strip() != file
            or file.split(".")[0].rstrip().upper() in _DEVICES):
        raise VersionError(f"文件名「{quotable(file)}」无效：应为以 .yaml 结尾、不含目录、不以“.”开头的文件名，"
                           "不含 / \\ : * ? \" < > | 和控制字符或不可见字符，也不能是 Windows 保留的设备名（如 con、aux、nul、com1）。",
                           code="version_file_name")
    return file


def check_text(file: str, text: str) -> None:
    """VersionError when ``text`` is longer than a version may hold (nothing is cut: a YAML cut short
    would be another definition)."""
    if len(text) > MAX_TEXT_CHARS:
        raise VersionError(f"{file} 的内容有 {len(text)} 个字符，超过上限 {MAX_TEXT_CHARS}：表单定义保存在表格的一个单元格中，"
                           "请精简（例如删去过长的说明文字）或拆分表单。", code="version_text_too_long")


def ensure_sheet(store: Store) -> None:
    store.ensure_sheet(VERSIONS)


def versions(store: Store, file: str | None = None) -> list[Record]:
    """Every version row (drafts and discarded ones too) in the store's order, of one file or of all.
    A row still waiting on this machine to reach Google Sheets is left out: no other server has it."""
    return [r for r in store.records(VERSIONS.form_id)
            if not is_pending(r) and (file is None or r.values.get("file") == file)]


def newest(rows: Iterable[Record]) -> dict[str, Record]:
    """File name -> its newest numbered row (published or withdrawn): of ``rows``, the highest number per
    file, and of two with one number the earlier (``rows`` in the store's order). The next version of a
    file takes the number after it."""
    best: dict[str, Record] = {}
    for row in rows:
        if row.status not in _NUMBERED:
            continue
        file, current = row.values.get("file"), best.get(row.values.get("file"))
        if current is None or number(row) > number(current):
            best[file] = row
    return best


def served(rows: Iterable[Record]) -> dict[str, Record]:
    """File name -> the version served: the newest numbered row of each file (:func:`newest`) unless it
    withdrew the file."""
    return {file: row for file, row in newest(rows).items() if row.status == PUBLISHED}


def last_number(store: Store, file: str) -> int:
    """The number of ``file``'s newest version row, withdrawn or not (0: none): an edit is based on it."""
    row = newest(versions(store, file)).get(file)
    return number(row) if row is not None else 0


def latest(store: Store, file: str) -> Record | None:
    """The version of ``file`` served now (None when it has none)."""
    return served(versions(store, file)).get(file)


def number(row: Record) -> int:
    """A version row's number (0 for a draft that has none yet)."""
    return int(row.values.get("version") or 0)


def published_by(row: Record) -> str:
    """「<account> 于 <time> 发布了第 N 版」: who published ``row`` and when, as a stale edit is told (「停用了该文件
    （第 N 版）」 for a withdrawal)."""
    if row.status == WITHDRAWN:
        return f"{row.owner} 于 {shown(row.updated_at)} 停用了该文件（第 {number(row)} 版）"
    return f"{row.owner} 于 {shown(row.updated_at)} 发布了第 {number(row)} 版"


def publish_version(store: Store, actor: Actor, file: str, text: str, *, form_id: str, based_on: int, origin: str,
                    note: str = "") -> Record:
    """Publish ``text`` as the next version of ``file`` (the served one's number + 1) and return its row.

    Checks here are the store's alone (the caller checks the definition): the file name, the length, and
    that ``based_on`` is the version served now (``version_stale`` naming who published what since,
    nothing written). Two processes of one store queue on the store lock; two servers on one Google
    spreadsheet may both write the same number within a cache period: the one later in the log is
    discarded at once and told so (``version_race``)."""
    check_file_name(file)
    check_text(file, text)
    if origin not in ORIGINS:
        raise VersionError(f"版本来源「{origin}」无效，应为 {'、'.join(ORIGINS)} 之一。", code="version_origin")
    if len(note) > MAX_NOTE_CHARS:
        raise VersionError(f"说明有 {len(note)} 个字，超过上限 {MAX_NOTE_CHARS}，请精简。", code="version_note_too_long")
    ensure_sheet(store)
    with store.exclusive(LOCK):
        store.refresh()
        current = newest(versions(store, file)).get(file)
        last = number(current) if current is not None else 0
        if based_on != last:
            since = f"{published_by(current)}" if current is not None else "该文件已没有已发布的版本"
            raise VersionError(f"{file} 已有更新的版本：{since}（您的修改基于第 {based_on} 版）。"
                               "请查看最新版本并在其基础上重新修改后再发布。", code="version_stale")
        return append_version(store, actor, file, text, form_id=form_id, version=last + 1, based_on=based_on,
                              origin=origin, note=note)


def append_version(store: Store, actor: Actor, file: str, text: str, *, form_id: str, version: int, based_on: int,
                   origin: str, note: str, status: str = PUBLISHED) -> Record:
    """Write one published row (the caller holds :data:`LOCK` and chose ``version``): :func:`append_versions`
    of one, raising ``version_race`` naming the other server's row when that came first."""
    values = {"file": file, "form_id": form_id, "version": version, "text": text, "based_on": based_on,
              "origin": origin, "note": note}
    (row,) = append_together(store, actor, [values], status)
    return row


def append_together(store: Store, actor: Actor, rows: list[dict], status: str = PUBLISHED) -> list[Record]:
    """:func:`append_versions` of rows that stand or fall together (a form and the campaign bindings following
    its rename): when another server's version of one of them came first, the others written are discarded
    too, and ``version_race`` names it."""
    written = append_versions(store, actor, rows, status)
    lost = [values for values, row in zip(rows, written, strict=True) if row is None]
    if not lost:
        return written
    for row in written:
        if row is not None:
            store.update(VERSIONS.form_id, row.id, base_rev=row.rev, actor=actor, status=DISCARDED,
                         note="同时发布的另一个文件的版本未生效，本版本一并作废")
    file, version = lost[0]["file"], lost[0]["version"]
    first = next(r for r in versions(store, file) if r.status in _NUMBERED and number(r) == version)
    raise VersionError(f"{file} 的第 {version} 版刚刚由另一台服务器发布（{published_by(first)}），您的发布未生效。"
                       "请查看最新版本后重新发布。", code="version_race")


def append_versions(store: Store, actor: Actor, rows: list[dict], status: str = PUBLISHED) -> list[Record | None]:
    """Write published rows (``status``: :data:`WITHDRAWN` for a withdrawal) (each the sheet's values but
    ``sha256``, which is computed here) as one change:
    all become durable together or none (``write_batch``, never left waiting in a local outbox, so the
    check after it sees the log). The caller holds :data:`LOCK` and chose the numbers. Then, for each, make
    sure no other server's row of the same file and number came first in the log; one that came second is
    discarded at once and given back as None."""
    items = [(VERSIONS.form_id, {**values, "sha256": sha256(values["text"])}, status) for values in rows]
    written, _ = store.write_batch(items, [], actor=actor)
    store.refresh()
    first: dict[tuple[str, int], str] = {}
    for r in versions(store):
        if r.status in _NUMBERED:
            first.setdefault((r.values.get("file"), number(r)), r.id)
    kept: list[Record | None] = []
    for row in written:
        if first[(row.values["file"], number(row))] == row.id:
            kept.append(row)
            continue
        store.update(VERSIONS.form_id, row.id, base_rev=row.rev, actor=actor, status=DISCARDED,
                     note=f"与另一台服务器同时发布了第 {number(row)} 版，以先写入的为准")
        kept.append(None)
    return kept


def renames_of(before: FormSpec | None, form: FormSpec, renamed: Mapping[str, str], held: Callable[[str], bool]) -> list[tuple[str, str]]:
    """(old key, new key) of each rename that serving ``form`` in place of ``before`` applies; ``renamed``:
    the store's keys renamed away already (``Store.renamed_keys``: old -> where its values live), ``held``:
    whether some stored row has a value under a key.

    * a field's ``replaces: old`` naming a field of ``before``, or a key the rows hold values under (a
      field retired earlier: its values come back under the new key), unless that rename is in force;
    * a field taking back a key renamed away to a key no field of ``form`` keeps (an earlier version
      restored across a rename): the values move back."""
    keys = {f.key for f in form.all_fields()}
    old_keys = {f.key for f in before.all_fields()} if before is not None else set()
    found: list[tuple[str, str]] = []
    for spec in form.all_fields():
        old = spec.replaces
        if old and old not in keys and renamed.get(old) != spec.key and (old in old_keys or held(old)):
            found.append((old, spec.key))
        elif spec.key in renamed and renamed[spec.key] not in keys and (not old or old == renamed[spec.key]):
            found.append((renamed[spec.key], spec.key))
    return found


def retired_of(before: FormSpec | None, form: FormSpec) -> list[FieldSpec]:
    """The fields of ``before`` that ``form`` neither keeps nor renames: their columns and values stay, retired."""
    if before is None:
        return []
    keys = {f.key for f in form.all_fields()} | {f.replaces for f in form.all_fields() if f.replaces}
    return [f for f in before.all_fields() if f.key not in keys]


def apply_form_change(store: Store, actor: Actor, before: FormSpec | None, form: FormSpec, renames: Iterable[tuple[str, str]],
                      retired: Iterable[FieldSpec]) -> None:
    """What a published version of a form changes in its sheet, the same for the designer and a developer's
    file (called once the version row is written, so a publish refused or lost writes none of it): the
    ``renames`` applied (``Store.rename_field``; one in force writes nothing), and the sheet declared
    with each ``retired`` field's column kept, headed ``<label>（已停用）``."""
    renames, retired = list(renames), {f.key for f in retired}
    if renames and before is not None:  # the sheet a rename works on, as the form before declared it
        store.ensure_sheet(sheet_spec(before))
    for old, new in renames:
        store.rename_field(form.id, old, new, actor=actor)
    spec = sheet_spec(form)
    if before is not None and retired:
        kept = [replace(c, label=RETIRED_LABEL.format(label=c.label)) for c in sheet_spec(before).columns if c.key in retired]
        spec = replace(spec, columns=spec.columns + tuple(kept))
    store.ensure_sheet(spec)


def next_number(form: FormSpec, before: FormSpec | None) -> int:
    """The ``version:`` a form is published with: one more than the form served before, or its own when more."""
    return max(form.version, before.version + 1) if before is not None else form.version


def numbered(text: str, file: str, number: int) -> str:
    """``text`` with its top-level ``version:`` value set to ``number``, everything else as written
    (the text must parse and declare one). A leading BOM (Windows editors write one) is dropped: the
    parser's positions do not count it.

    >>> print(numbered("\\ufeffid: a\\nversion: 3   # 每次修改加一\\ntitle: A\\n", "a.yaml", 4), end="")
    id: a
    version: 4   # 每次修改加一
    title: A
    """
    text = text.removeprefix(BOM)
    load_yaml(text, file)  # bounded before composing
    root = yaml.compose(text, Loader=_Loader)
    node = next(v for k, v in root.value if k.value == "version")
    return text[: node.start_mark.index] + str(number) + text[node.end_mark.index:]


def campaign_needs(campaign: CampaignSpec | None, file: str = "campaign.yaml") -> list[FormProblem]:
    """What a campaign must declare for the pages served to work, beyond what its schema requires (the
    schema keeps these blocks optional for campaigns read by other tools): the registers, which 看板 reads
    (a campaign published without them took the board down on every server). Empty for None."""
    if campaign is None or campaign.registers is not None:
        return []
    return [problem("invalid_definition", where=file,
                    detail="缺少 registers（服务券台账与项目台账的定义）：看板和台账页面需要它，请保留这一部分")]


def rebound(campaign_text: str, form_id: str, renames: Iterable[tuple[str, str]]) -> str:
    """``campaign_text`` with each binding of form ``form_id`` to a key renamed (old key, new key) following
    it, everything else as written (a leading BOM dropped when anything moves): a bound field renamed in
    the designer carries its binding along in the same publish.

    >>> print(rebound("bindings:\\n  projects:\\n    form: a\\n    fields: {firm: name, year: y}  # 注释\\n", "a", [("name", "firm_name")]), end="")
    bindings:
      projects:
        form: a
        fields: {firm: firm_name, year: y}  # 注释
    """
    moves = dict(renames)
    if not moves:
        return campaign_text
    text = campaign_text.removeprefix(BOM)
    load_yaml(text, "campaign.yaml")  # bounded before composing
    edits = []
    for key, value in _pairs(yaml.compose(text, Loader=_Loader)):
        if key.value != "bindings":
            continue
        for _, binding in _pairs(value):
            parts = {k.value: v for k, v in _pairs(binding)}
            form, fields = parts.get("form"), parts.get("fields")
            if not isinstance(form, yaml.ScalarNode) or form.value != form_id:
                continue
            edits += [(v.start_mark.index, v.end_mark.index, moves[v.value]) for _, v in _pairs(fields)
                      if isinstance(v, yaml.ScalarNode) and v.value in moves]
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text if edits else campaign_text


def _pairs(node) -> list:
    """The (key, value) nodes of a mapping node; none of anything else."""
    return node.value if isinstance(node, yaml.MappingNode) else []
