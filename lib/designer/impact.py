"""What publishing a form's new version would mean for the rows already stored, said before it is confirmed.

Against the version served now (the store's latest published one) and every stored row of the form (read
once, whatever their status; 20,000 rows take a fraction of a second):

* a required field added (or made required): how many rows lack it — they must fill it when next submitted;
* a choice removed: how many rows chose it — they keep the word until corrected;
* a type changed: how many stored values the new type does not read (each parsed as the new type);
* a field removed: its column and values stay, marked retired (``<label>（已停用）``);
* a new field on a key the rows hold values under (a field retired before): those values become its answers;
* a field renamed (``replaces: old_key``): how many values move to the new key, and the column with them;
  a rename whose new key already holds values would mix two columns, and is refused at publish;
* the form given another id: its rows stay under the old id, shown by no page of the new version;
* inside a table kept as a table, the same for its columns (a record counted once), and a column removed:
  its answers stay in the cell until the record is saved again.
* a campaign's draft: a city it lists no more, as a choice removed from every form's city fields.

A binding the change breaks is a problem of the draft (``lib.designer.checks``), not an impact: it is
never published. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from lib.auth.policy import DESIGN_PUBLISH, READ, can
from lib.core.records import Actor, Record
from lib.core.values import text as shown
from lib.forms import versions
from lib.forms.errors import FormDefinitionError
from lib.forms.loader import CAMPAIGN_FILE, FormCatalog, parse_form
from lib.forms.spec import FieldSpec, FormSpec
from lib.forms.types import REGISTRY, ValueProblem
from lib.forms.validate import is_blank
from lib.store.base import Store

from .checks import DraftCheck, check_draft
from .drafts import drafting
from .errors import DesignError

REQUIRED_ADDED = "required_added"
CHOICE_REMOVED = "choice_removed"
TYPE_MISFIT = "type_misfit"
RETIRED = "retired"
RENAMED = "renamed"
ID_CHANGED = "id_changed"
REVIVED = "revived"  # a new field on a key whose earlier (retired) values the rows still hold
COLUMN_DROPPED = "column_dropped"  # a table's column removed: its answers are not kept when the row is saved again
#: Row ids a change names as examples.
EXAMPLES = 3
#: Problems a refusal lists (the rest are counted).
MAX_LISTED = 20
#: What a retired field's column is headed with.
RETIRED_LABEL = versions.RETIRED_LABEL
_WHOLE = ("table", "file")  # types whose values no other type reads


@dataclass(frozen=True)
class Change:
    """One consequence for the stored rows: ``kind`` (the constants above), the field (its key now, the
    key it replaces for a rename: ``detail``), how many ``rows`` it touches and a few of their ids."""

    kind: str
    key: str
    label: str
    rows: int
    detail: str = ""
    examples: tuple[str, ...] = ()

    def line(self) -> str:
        """The change as a sentence a publisher reads before confirming."""
        name = f"「{self.label}」（{self.key}）"
        some = f"（例如 {'、'.join(self.examples)}）" if self.examples else ""
        if self.kind == REQUIRED_ADDED:
            return f"必填字段{name}：已有 {self.rows} 条记录没有填写{some}，这些记录下次提交时须补填。"
        if self.kind == CHOICE_REMOVED:
            return f"字段{name}删除了选项「{self.detail}」：{self.rows} 条记录选了它{some}，这些记录保留原来的选项，下次提交时须改选。"
        if self.kind == TYPE_MISFIT:
            return f"字段{name}{self.detail}：{self.rows} 条记录的值不符合新的定义{some}，这些值保留，下次提交时须改正。"
        if self.kind == ID_CHANGED:
            return (f"表单编号由「{self.key}」（{self.label}）改为「{self.detail}」：原编号下的 {self.rows} 条记录留在原来的数据表中，"
                    "新版本的填报、审核和看板都不再显示它们。")
        if self.kind == COLUMN_DROPPED:
            return (f"表格删除了列{name}：{self.rows} 条记录的表格中这一列有值{some}，数据表中保留到这些记录下次保存为止，"
                    "之后不再保存。")
        if self.kind == REVIVED:
            return (f"字段{name}使用了之前停用的字段键：{self.rows} 条记录在这个键下已有停用前的值{some}，"
                    "发布后这些值会显示为这个字段的答案。若这不是同一个问题，请另起一个字段键。")
        if self.kind == RETIRED:
            return (f"删除字段{name}：数据表中这一列保留并标为「已停用」，{self.rows} 条记录的值保留，不会删除；"
                    "填报页面不再显示这一项。")
        return f"字段「{self.detail}」改名为{name}：{self.rows} 条记录的值移到新的字段键下，数据表的这一列随之改名。"


@dataclass(frozen=True)
class Impact:
    """What publishing would do to the stored rows of ``form_id`` (``rows`` of them): ``changes`` to
    confirm; ``renames`` (old key, new key) and ``retired`` fields that the publish applies; ``clashes``:
    renames whose new key holds values already (the publish is refused)."""

    file: str
    form_id: str = ""
    rows: int = 0
    changes: tuple[Change, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    retired: tuple[FieldSpec, ...] = ()
    clashes: tuple[Change, ...] = ()

    @property
    def needs_confirmation(self) -> bool:
        """Whether publishing changes anything for the stored rows (then it is confirmed first)."""
        return bool(self.changes)

    def lines(self) -> list[str]:
        """Each change as a sentence; empty when the stored rows are not affected."""
        return [c.line() for c in self.changes]


def impact(store: Store, catalog: FormCatalog, file: str, text: str, *, actor: Actor | None = None) -> Impact:
    """What publishing ``text`` as ``file``'s next version would do to the stored rows (see the module
    docstring); DesignError when the draft has problems (``design_invalid``) or gives a new field a key
    renamed away before (``design_key_renamed``). campaign.yaml stores no rows of its own: a city it lists
    no more is counted in every form's city fields (``campaign_impact``).

    ``actor``: who asks. One who may not publish (a city proposing a draft) is told about the rows it
    reads (``can(READ)``: its own city's), not every city's; None: every row (the publish itself)."""
    return stored_impact(store, catalog, file, checked(catalog, file, text), versions.latest(store, file), reader=actor)


def checked(catalog: FormCatalog, file: str, text: str) -> DraftCheck:
    """``check_draft``'s result when the draft has no problems; else DesignError ``design_invalid``
    listing them by line and field."""
    check = check_draft(catalog, file, text)
    if not check.ok:
        listed = "\n".join(f"- {p}" for p in check.problems[:MAX_LISTED])
        more = f"\n- 另有 {len(check.problems) - MAX_LISTED} 个问题未列出。" if len(check.problems) > MAX_LISTED else ""
        raise DesignError(f"{file} 有 {len(check.problems)} 个问题，不能发布：\n{listed}{more}", code="design_invalid",
                          problems=list(check.problems))
    return check


def stored_impact(store: Store, catalog: FormCatalog, file: str, check: DraftCheck, current: Record | None, *,
                  reader: Actor | None = None) -> Impact:
    """The impact of ``check``'s form (a checked draft of ``file``) replacing the version ``current``
    (the store's latest published row of ``file``, None: none) on the form's stored rows (those ``reader``
    reads, when it may not publish: see ``impact``). A form given another id leaves its rows behind: said
    so, and the fields compared with none. A campaign's draft: ``campaign_impact``."""
    if file == CAMPAIGN_FILE and check.campaign is not None:
        return campaign_impact(catalog, check, lambda form: _readable(store, catalog, reader, None, form))
    if check.form is None:
        return Impact(file)
    new, old = check.form, served_form(catalog, file, current)

    def readable(form: FormSpec) -> list[Record]:
        return _readable(store, catalog, reader, old, form)

    renamed = store.renamed_keys(new.id)
    stored = readable(new)
    back = versions.renames_of(None, new, renamed, lambda key: False)  # a key taken back: the values move back
    reused = [f for f in new.all_fields() if f.key in renamed and (renamed[f.key], f.key) not in back]
    if reused:
        f = reused[0]
        raise DesignError(f"字段键「{f.key}」（{f.label}）在之前的版本中已改名为「{renamed[f.key]}」，而「{renamed[f.key]}」仍是这个版本的字段，"
                          f"不能再用「{f.key}」：它的值会存到「{renamed[f.key]}」下。请另起一个字段键，"
                          f"或删去「{renamed[f.key]}」把它改回「{f.key}」。", code="design_key_renamed")
    campaign = catalog.campaign_or_none()
    moved: tuple[Change, ...] = ()
    if old is not None and old.id != new.id:
        moved = (Change(ID_CHANGED, old.id, old.short_title, len(readable(old)), new.id),)
        old = None
    found = assess(file, old, new, stored, cities=campaign.cities if campaign is not None else (), renamed=renamed)
    return replace(found, changes=moved + found.changes)


def campaign_impact(catalog: FormCatalog, check: DraftCheck, readable) -> Impact:
    """What a campaign's draft does to the stored rows: a city the campaign lists no more is a choice
    removed from every city field (the rows answering it keep the word, to be corrected when next
    submitted; the city's accounts lose their scope word), counted over ``readable(form)``, each form's
    stored rows the publisher reads."""
    before, after = catalog.campaign_or_none(), check.campaign
    gone = [c for c in before.cities if c not in after.cities] if before is not None and after is not None else []
    changes: list[Change] = []
    for form in catalog.forms() if gone else ():
        fields = [f for f in form.all_fields() if f.type == "city"]
        items = [(r.id, r.values) for r in readable(form)] if fields else []
        for spec, city in ((f, c) for f in fields for c in gone):
            users = _ids(items, spec.key, lambda v, c=city: v == c)
            if users:
                changes.append(Change(CHOICE_REMOVED, spec.key, f"{form.short_title}」的「{spec.label}", len(users), city,
                                      tuple(users[:EXAMPLES])))
    return Impact(CAMPAIGN_FILE, changes=tuple(changes))


def _readable(store: Store, catalog: FormCatalog, reader: Actor | None, old: FormSpec | None, form: FormSpec) -> list[Record]:
    """The stored rows of ``form`` that ``reader`` reads (all of them: None, or one who may publish ``old``)."""
    found = store.records(form.id)
    if reader is None or can(reader, DESIGN_PUBLISH, old, drafting(catalog)):
        return found
    return [r for r in found if can(reader, READ, form, r)]


def served_form(catalog: FormCatalog, file: str, current: Record | None) -> FormSpec | None:
    """The form of the version row ``current``: its text parsed alone (the campaign served may have moved
    on), else the catalog's form of its id. ``current`` None (the store has no version of ``file``: a new
    file, or a catalog reading a folder): the form the catalog's source gives for ``file``, if any."""
    if current is None:
        try:
            return parse_form(catalog.source.text(file), file)
        except (OSError, KeyError, FormDefinitionError):
            return None
    if not current.values.get("form_id"):
        return None
    try:
        return parse_form(current.values["text"], file)
    except FormDefinitionError:
        try:
            return catalog.form(current.values["form_id"])
        except KeyError:
            return None


def assess(file: str, old: FormSpec | None, new: FormSpec, records: Sequence[Record], *, cities: tuple[str, ...] = (),
           renamed: Mapping[str, str] | None = None) -> Impact:
    """The impact of serving ``new`` instead of ``old`` (None: the file serves no form yet) on ``records``,
    the stored rows of ``new``'s form; ``cities`` are the campaign's (a city field's values are read
    against them); ``renamed``: the store's keys renamed away already -> where their values live (a rename
    in force is no news; a key taken back moves its values back). Which renames apply is
    ``versions.renames_of``'s rule, as for a developer's file: a ``replaces`` of a retired key whose values
    the rows still hold brings them back. A new field on a key the rows hold values under (a field retired
    before) is told: those values would read as its answers.
    A table kept as a table is compared column by column over the rows of its stored answers (a record
    counts once however many of its table rows are touched)."""
    before = {f.key: f for f in old.all_fields()} if old is not None else {}
    fields = new.all_fields()
    items = [(r.id, r.values) for r in records]
    applied = versions.renames_of(old, new, renamed or {}, lambda key: bool(_ids(items, key, lambda v: True)))
    renames = {to: frm for frm, to in applied}
    found = _Found()
    ctx = {"cities": cities}
    for spec in fields:
        old_key = renames.get(spec.key)
        moving = old_key is not None
        prev = before.get(old_key) if moving else before.get(spec.key)
        if moving:
            found.renames.append((old_key, spec.key))
            held = _ids(items, spec.key, lambda v: True)
            if held:
                found.clashes.append(Change(RENAMED, spec.key, spec.label, len(held), old_key, tuple(held[:EXAMPLES])))
            found.changes.append(Change(RENAMED, spec.key, spec.label, len(_ids(items, old_key, lambda v: True)), old_key))
        elif prev is None and old is not None:
            revived = _ids(items, spec.key, lambda v: True)
            if revived:
                found.changes.append(Change(REVIVED, spec.key, spec.label, len(revived), "", tuple(revived[:EXAMPLES])))
        _compare(found, prev, spec, items, old_key if moving else spec.key, ctx)
        if prev is not None and prev.type == spec.type == "table":
            cells = [(row_id, row) for row_id, values in items for row in _table(values.get(prev.key))]
            inner = {f.key: f for f in prev.fields or ()}
            for sub in spec.fields or ():
                _compare(found, inner.get(sub.key), sub, cells, sub.key, ctx, table=spec.label)
            kept = {f.key for f in spec.fields or ()}
            for sub in [f for key, f in inner.items() if key not in kept]:
                dropped = _ids(cells, sub.key, lambda v: True)
                if dropped:
                    found.changes.append(Change(COLUMN_DROPPED, sub.key, f"{spec.label}」的「{sub.label}", len(dropped), "",
                                                tuple(dropped[:EXAMPLES])))
    retired = versions.retired_of(old, new)
    found.changes += [Change(RETIRED, f.key, f.label, len(_ids(items, f.key, lambda v: True))) for f in retired]
    return Impact(file, new.id, len(records), tuple(found.changes), tuple(found.renames), tuple(retired), tuple(found.clashes))


@dataclass
class _Found:
    changes: list[Change] = field(default_factory=list)
    clashes: list[Change] = field(default_factory=list)
    renames: list[tuple[str, str]] = field(default_factory=list)


def _compare(found: _Found, prev: FieldSpec | None, spec: FieldSpec, items: list[tuple[str, Mapping]], stored: str, ctx: dict,
             table: str = "") -> None:
    """The changes of serving ``spec`` where ``prev`` was (None: no field), over ``items`` (row id, the
    answers holding the field's value under ``stored``): a required field lacking, a removed choice in use,
    values the new type does not read. ``table``: the label of the table ``spec`` is a column of."""
    label = f"{table}」的「{spec.label}" if table else spec.label
    if spec.required and not spec.calculation and (prev is None or not prev.required):
        lacking = list(dict.fromkeys(row_id for row_id, values in items if is_blank(values.get(stored))))
        if lacking:
            found.changes.append(Change(REQUIRED_ADDED, spec.key, label, len(lacking), "", tuple(lacking[:EXAMPLES])))
    if prev is not None and prev.type == spec.type and REGISTRY.get(spec.type) and REGISTRY[spec.type].has_choices:
        for word in [c for c in prev.choices or () if c not in (spec.choices or ())]:
            users = _ids(items, stored, lambda v, w=word: v == w or (isinstance(v, list) and w in v))
            if users:
                found.changes.append(Change(CHOICE_REMOVED, spec.key, label, len(users), word, tuple(users[:EXAMPLES])))
    elif prev is None or prev.type != spec.type:
        misfits = _ids(items, stored, lambda v: not _fits(v, spec, ctx))
        if misfits:
            what = f"的类型由 {prev.type} 改为 {spec.type}" if prev is not None else "（曾经停用或新加，数据表中已有它的值）"
            found.changes.append(Change(TYPE_MISFIT, spec.key, label, len(misfits), what, tuple(misfits[:EXAMPLES])))


def _table(value) -> list[Mapping]:
    """The rows of a stored table answer (none when it holds anything else)."""
    return [row for row in value if isinstance(row, Mapping)] if isinstance(value, list) else []


def _ids(items: list[tuple[str, Mapping]], key: str, test) -> list[str]:
    """The ids of the rows whose value under ``key`` is not blank and passes ``test``, each once."""
    out: dict[str, None] = {}
    for row_id, values in items:
        value = values.get(key)
        if not is_blank(value) and test(value):
            out[row_id] = None
    return list(out)


def _fits(value, spec: FieldSpec, ctx: dict) -> bool:
    """Whether a stored value reads as an answer of ``spec``'s type (a list or a table only as its own kind)."""
    ftype = REGISTRY.get(spec.type)
    if ftype is None:
        return False
    if ftype.parse is None:  # a table: rows of answers
        return isinstance(value, list) and all(isinstance(row, dict) for row in value)
    if spec.type in _WHOLE and not isinstance(value, list):
        return False
    raw = shown(value) if isinstance(value, list) and ftype.kind != "list" else value
    try:
        ftype.parse(raw, spec, ctx)
    except ValueProblem:
        return False
    return True
