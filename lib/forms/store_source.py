"""The form catalog's source in the store: the published versions of ``lib.forms.versions``.

**Which wins: the store.** ``StoreSource`` serves, per file, the version ``lib.forms.versions.served``
names. The folder is the seed and a developer's way in:

* on the very first start (no row at all in ``form_versions``) every file of the folder is published as
  version 1 (origin ``seed``);
* afterwards a file whose text changed since this server last saw it (its SHA-256 differs from the one
  ``data_dir/forms_seen.json`` records for it) is published as a new version (origin ``file``, by the
  system account ``开发者文件``); a designer's later version then wins until the file changes again;
* a server with no such record (a new server on a store that has versions) takes its files as seen
  without publishing, so two servers with different checkouts never flip-flop;
* a file whose text was published before, as any version of it (not only the one served), is taken as
  seen: the next server of a rolling deploy must not undo a designer's version published meanwhile.

A developer's version is published as the designer publishes one: its ``version:`` numbered
(``versions.next_number``), then its renames (``replaces:``) and retired fields applied to the form's
sheet (``versions.apply_form_change``, after its row is written).

A changed file that cannot be published — it does not parse or fails its form checks, it is longer than
a version may hold, its name is none a version may have, it breaks the campaign's bindings with the
versions served (the same judgement as the designer's), a campaign lacks what the pages need
(``versions.campaign_needs``), a rename onto a key holding values, or it is a copy of a form another file
serves (another name, the same id) — is not sent to the other servers:
this server alone reads it from the folder (its problems are listed and the last valid version keeps
serving, as with a folder), until the file is mended (then published) or put back to the version served.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import yaml

from lib.core.files import fsync_dir, private_dir, private_opener
from lib.core.records import Record
from lib.store.base import InvalidValue, Store, StoreError
from lib.store.codec import validate_values

from . import versions
from .errors import FormDefinitionError, FormProblem, problem
from .loader import FormCatalog, parse_form
from .sources import CAMPAIGN_FILE, Check, FolderSource
from .spec import FormSpec
from .validate import is_blank

#: In data_dir: the SHA-256 of each folder file as this server last saw it (published or taken as seen).
SEEN_FILE = "forms_seen.json"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Local:
    """A folder file changed since it was seen that could not be published: served on this server only."""

    sha: str
    text: str | None  # None: unreadable or too long, the catalog shows ``refused`` instead
    refused: FormDefinitionError
    against: str  # the SHA-256 of the campaign it was checked against: checked again when that changes


class StoreSource:
    """The published versions of the store (``lib.forms.versions``), kept in step with ``folder`` as the
    module docstring says. ``store`` is the store or a function opening it: while it cannot be opened
    (StoreError) the source serves what it served last, or the folder before it ever reached the store."""

    def __init__(self, store: Store | Callable[[], Store], folder: Path | str, data_dir: Path | str):
        self._store = store
        self.folder = FolderSource(folder)
        self.seen_path = Path(data_dir) / SEEN_FILE
        self._seen_kept: dict[str, str] | None = None
        self._served: dict[str, Record] | None = None  # None: the store never answered
        self._local: dict[str, _Local] = {}
        self._read: dict[str, tuple[Hashable, str, str | None, FormDefinitionError | None]] = {}
        self._sheet_for: Store | None = None

    # --- the catalog's questions ---------------------------------------------------------------

    def names(self) -> list[str]:
        if self._served is None:
            return self.folder.names()
        return sorted(set(self._served) | set(self._local))

    def stamp(self, name: str) -> Hashable:
        if self._served is None:
            return self.folder.stamp(name)
        if name in self._local:
            return ("folder", self._local[name].sha)
        row = self._served.get(name)
        if row is None:
            raise FileNotFoundError(name)
        return versions.number(row), row.id

    def text(self, name: str) -> str:
        if self._served is None:
            return self.folder.text(name)
        local = self._local.get(name)
        if local is not None:
            if local.text is None:
                raise local.refused
            return local.text
        row = self._served.get(name)
        if row is None:
            raise FileNotFoundError(name)
        return row.values["text"]

    def __str__(self) -> str:
        return f"数据存储中的表单版本（种子目录 {self.folder}）"

    # --- keeping in step -----------------------------------------------------------------------

    def sync(self, check: Check) -> None:
        """Publish the folder's changed files (the very first start: all of them) and read what the
        store serves now. A store that cannot be reached or refuses a write leaves the view as it was and
        the file unseen, so the next refresh tries again."""
        try:
            store = self._store() if callable(self._store) else self._store
            if self._sheet_for is not store:
                versions.ensure_sheet(store)
                self._sheet_for = store
            self._sync(store, check)
        except StoreError as exc:
            _log.warning("表单版本未能与数据存储同步（代码 %s）：%s", exc.code, exc)

    def _sync(self, store: Store, check: Check) -> None:
        files = self._folder_files()
        rows = versions.versions(store)
        served = versions.served(rows)
        seen = self._seen()
        if rows and seen is None:  # a new server on a store with versions: its checkout is not news
            seen = {name: sha for name, (sha, _, _) in files.items()}
            self._write_seen(seen)
        for _ in range(2):  # again when this publish changed the campaign: a form refused against the old may fit
            against = _campaign_sha(served)
            changed = {name: f for name, f in files.items() if (seen or {}).get(name) != f[0] and (
                name not in self._local or (self._local[name].sha, self._local[name].against) != (f[0], against))}
            if not changed and seen is not None:
                break
            # a file held for what it breaks is judged again with any other change: it may be its other half
            changed.update({name: files[name] for name, local in self._local.items()
                            if changed and name in files and files[name][0] == local.sha})
            served, seen = self._publish(store, files, changed, seen, check)
            if _campaign_sha(served) == against:
                break
        self._served = served
        self._local = {name: local for name, local in self._local.items()
                       if name in files and files[name][0] == local.sha and seen.get(name) != local.sha}

    def _publish(self, store: Store, files: dict, changed: dict, seen: dict[str, str] | None,
                 check: Check) -> tuple[dict, dict]:
        """Under the store lock, with the store read anew: publish every changed file that is not the
        version served already (the first start's as ``seed``) as ONE change, so another server sees a
        change made of several files (a field renamed in a form and in campaign.yaml's bindings) whole or
        not at all; the forms are checked against the campaign served after it, and the change with the
        bindings (``_hold_breaking``). A file whose text was published before (any version: another server
        of a rolling deploy sent it already) is only counted seen. A form's text is published with its
        ``version:`` numbered as the designer numbers it, and its renames and retired fields applied after
        its row is written (``versions.apply_form_change``, as the designer's publish). Returns what is
        served then, and the seen record."""
        with store.exclusive(versions.LOCK):
            store.refresh()
            rows = versions.versions(store)
            served, numbered = versions.served(rows), versions.newest(rows)
            if seen is None and rows:  # another process seeded the store meanwhile: as a new server
                seen = {name: sha for name, (sha, _, _) in files.items()}
                self._write_seen(seen)
                return served, seen
            first, seen = seen is None, dict(seen or {})
            campaign = served.get(CAMPAIGN_FILE)
            campaign_text = campaign.values["text"] if campaign is not None else None
            planned: dict[str, tuple[str, str, dict]] = {}  # name -> (SHA-256 of the file, its text, the row)
            for name in sorted(changed, key=lambda n: (n != CAMPAIGN_FILE, n)):
                sha, text, refused = changed[name]
                if _published_before(name, sha, text, rows):
                    seen[name] = sha  # put back to a version published, or sent by another server already
                    continue
                current = served.get(name)
                form_id, refused, text = _judged(name, text, refused, campaign_text, check)
                twin = next((f for f, r in served.items() if f != name and form_id and r.values.get("form_id") == form_id), None)
                if refused is None and not first and twin is not None and name != f"{form_id}.yaml":
                    # a copy of a form another file serves (Windows' "att1 - 副本.yaml"): never served, so not sent
                    # to every server to be listed as a duplicate there for good; this server reads and lists it
                    refused = FormDefinitionError(name, [problem("duplicate_form_id", where=name, form_id=form_id, first=twin)])
                if refused is not None:
                    self._local[name] = _Local(sha, text, refused, _sha_of(campaign_text))
                    continue
                if name == CAMPAIGN_FILE:
                    campaign_text = text
                last = versions.number(numbered[name]) if name in numbered else 0  # after a withdrawal too
                body = text if first or name == CAMPAIGN_FILE else _numbered(name, text, current)
                planned[name] = (sha, text, {
                    "file": name, "form_id": form_id, "version": last + 1, "text": body, "based_on": last,
                    "origin": "seed" if first else "file",
                    "note": "首次启动，由 forms 目录中的文件导入" if first else "开发者修改了 forms 目录中的文件"})
            if not first:
                self._hold_breaking(store, served, planned, _sha_of(campaign.values["text"] if campaign is not None else None))
            names = list(planned)
            written = versions.append_versions(store, versions.DEVELOPER, [planned[n][2] for n in names]) if names else []
            for name, row in zip(names, written, strict=True):
                if row is None:  # another server's version of that number came first: tried again next time
                    _log.warning("%s 未发布：另一台服务器同时发布了同一版本号", name)
                    continue
                before, served[name] = served.get(name), row
                seen[name] = planned[name][0]
                if not first and row.values.get("form_id"):
                    _apply_change(store, before, row)
        self._write_seen(seen)
        return served, seen

    def _hold_breaking(self, store: Store, served: dict[str, Record], planned: dict, against: str) -> None:
        """Keep out of ``planned`` the files that break what the served versions keep: the campaign's
        bindings, what the pages need of the campaign (``versions.campaign_needs``), or a rename onto a key
        whose column holds values. The change is judged whole first (a field renamed in a form and in the
        bindings fits only together); if it breaks something, each file is judged alone and those that
        break it alone are held; if the rest still breaks it together, all are held. A file held for the
        bindings alone is read by this server from the folder, as a folder's catalog reads it (its last
        valid version keeps serving and the problem is listed; a restarted server lists it under
        campaign.yaml); one held for another reason is refused here with its problem listed."""
        texts = {name: row.values["text"] for name, row in served.items()}
        base = _bound_problems(texts)

        def breaks(names) -> list[FormProblem]:
            return [p for p in _bound_problems({**texts, **{n: planned[n][2]["text"] for n in names}}) if p not in base]

        held = {name: found for name in planned if (found := _rename_clash(store, name, served.get(name), planned[name][2]))}
        bound: set[str] = set()  # held for the bindings alone: this server reads the file, as a folder's catalog would
        if breaks([n for n in planned if n not in held]):
            alone = {name: breaks([name]) for name in planned if name not in held}
            held.update({name: problems for name, problems in alone.items() if problems})
            rest = [name for name in planned if name not in held]
            if rest and (still := breaks(rest)):
                held.update({name: still for name in rest})
            bound = {name for name, problems in held.items() if all(p.code != "invalid_definition" for p in problems)}
        for name, problems in held.items():
            detail = (f"这个修改未发布到数据存储，其他服务器继续使用已发布的版本：{'；'.join(map(str, problems))}。"
                      "请改正文件，或在「表单设计」中修改")
            sha, text, _ = planned.pop(name)
            self._local[name] = _Local(sha, text if name in bound else None,
                                       FormDefinitionError(name, [problem("invalid_definition", where=name, detail=detail)]), against)

    def _folder_files(self) -> dict[str, tuple[str, str | None, FormDefinitionError | None]]:
        """Name -> (SHA-256, text, why it cannot be read) of every folder file, read again only when its
        stamp changed. A file that cannot be read is hashed by its problem, so it counts as changed."""
        files = {}
        for name in self.folder.names():
            try:
                stamp = self.folder.stamp(name)
            except OSError:
                continue  # gone between listing and stat
            cached = self._read.get(name)
            if cached is None or cached[0] != stamp:
                try:
                    text, refused = self.folder.text(name), None
                    sha = versions.sha256(text)
                except FormDefinitionError as exc:
                    text, refused = None, exc
                    sha = "unreadable:" + versions.sha256(str(exc))
                except OSError as exc:
                    text, refused = None, FormDefinitionError(name, [problem("invalid_definition", where=name,
                                                                             detail=f"文件无法读取（{type(exc).__name__}）")])
                    sha = "unreadable:" + type(exc).__name__
                cached = self._read[name] = (stamp, sha, text, refused)
            files[name] = cached[1:]
        for name in set(self._read) - set(files):
            del self._read[name]
        return files

    def _seen(self) -> dict[str, str] | None:
        """The seen record; None when there is none (or it cannot be read: then it is written anew). Read
        once, then kept: another process on this data_dir that updated it meanwhile only makes this one
        look in the store under the lock, find the file's text served, and count it seen."""
        if self._seen_kept is not None:
            return dict(self._seen_kept)
        try:
            data = json.loads(self.seen_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            _log.warning("%s 无法读取（%s），按首次见到本机表单文件处理", self.seen_path, type(exc).__name__)
            return None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict):
            return None
        return {str(k): str(v) for k, v in files.items()}

    def _write_seen(self, seen: dict[str, str]) -> None:
        """Keep the seen record, and replace its file at once (a crash leaves the old one or the new one
        whole). A file that cannot be written is logged: this process still knows what it saw."""
        self._seen_kept = dict(seen)
        try:
            folder = private_dir(self.seen_path.parent)
            temp = folder / f".{SEEN_FILE}.{os.getpid()}.tmp"
            with open(temp, "w", encoding="utf-8", opener=private_opener) as out:
                json.dump({"files": dict(sorted(seen.items()))}, out, ensure_ascii=False, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.seen_path)
            fsync_dir(folder)
        except OSError as exc:
            _log.warning("%s 无法写入（%s）：重启后将按首次见到本机表单文件处理", self.seen_path, exc)


def _judged(name: str, text: str | None, refused: FormDefinitionError | None, campaign_text: str | None,
            check: Check) -> tuple[str, FormDefinitionError | None, str | None]:
    """(form id, why it may not be published, the text this server reads meanwhile): the text when it
    does not parse (the catalog lists its problems by line), None when it is unreadable, too long, named
    as no version may be, or holds what the store cannot (the catalog lists why and keeps the version
    served)."""
    if refused is not None or text is None:
        return "", refused, None
    try:
        versions.check_file_name(name)
        versions.check_text(name, text)
    except versions.VersionError as exc:
        return "", FormDefinitionError(name, [problem("invalid_definition", where=name, detail=str(exc))]), None
    try:
        form_id = check(name, text, campaign_text)
    except FormDefinitionError as exc:
        return "", exc, text
    try:  # as the store will check it, so that this file alone is refused, not the change it is part of
        validate_values({"text": text}, {"text": "YAML 内容"})
    except InvalidValue as exc:
        return "", FormDefinitionError(name, [problem("invalid_definition", where=name, detail=f"无法保存到数据存储：{exc}")]), None
    return form_id, None, text


def _published_before(name: str, sha: str, text: str | None, rows: list[Record]) -> bool:
    """Whether the folder's ``text`` of ``name`` (SHA-256 ``sha``) was published already, by this server
    or another: as any version (not only the one served: a designer's version published since must not be
    undone by the next server of a rolling deploy), or as a developer's version differing only in the
    ``version:`` numbered at publish."""
    published = [r for r in rows if r.status == versions.PUBLISHED and r.values.get("file") == name]
    if any(r.values.get("sha256") == sha for r in published):
        return True
    numbered = [r for r in published if r.values.get("origin") == "file"]
    if text is None or name == CAMPAIGN_FILE or not numbered:
        return False
    mine = _unnumbered(name, text)
    return mine is not None and any(_unnumbered(name, r.values["text"]) == mine for r in numbered)


def _unnumbered(name: str, text: str) -> str | None:
    """``text`` with its ``version:`` written as 0 (None: it has none that can be found)."""
    try:
        return versions.numbered(text, name, 0)
    except (FormDefinitionError, yaml.YAMLError, StopIteration, AttributeError, TypeError):
        return None


def _served_form(name: str, row: Record | None) -> FormSpec | None:
    """The form of a version row, its text parsed alone (None: no row, or it no longer parses alone)."""
    if row is None:
        return None
    try:
        return parse_form(row.values["text"], name)
    except FormDefinitionError:
        return None


def _numbered(name: str, text: str, current: Record | None) -> str:
    """A developer's form ``text`` with its ``version:`` set as the designer sets it (``versions.next_number``),
    so the rows filed under it say it is another definition; as written when that cannot be done safely."""
    try:
        form = parse_form(text, name)
        number = versions.next_number(form, _served_form(name, current))
        if number == form.version:
            return text
        body = versions.numbered(text, name, number)
        versions.check_text(name, body)
        if parse_form(body, name) == form.model_copy(update={"version": number}):
            return body
    except (FormDefinitionError, versions.VersionError, yaml.YAMLError, StopIteration, AttributeError, TypeError):
        pass
    _log.warning("%s 的 version 写法特殊，未能自动改为新的版本号，按原文发布", name)
    return text


def _changes(store: Store, name: str, current: Record | None, values: dict) -> tuple[FormSpec | None, FormSpec, list]:
    """(the form served before, the new form, the renames its publish applies: ``versions.renames_of``)."""
    before, form = _served_form(name, current), parse_form(values["text"], name)
    if before is not None and before.id != form.id:
        before = None  # another id: its rows stay under the old one, nothing moves
    held = {key for r in store.records(form.id) for key, value in r.values.items() if not is_blank(value)}
    return before, form, versions.renames_of(before, form, store.renamed_keys(form.id), held.__contains__)


def _rename_clash(store: Store, name: str, current: Record | None, values: dict) -> list[FormProblem]:
    """A rename of the planned form whose new key holds values already (two columns would mix): its problem."""
    if not values.get("form_id"):
        return []
    _, form, renames = _changes(store, name, current, values)
    rows = store.records(form.id) if renames else []
    return [problem("invalid_definition", where=name, detail=f"字段「{old}」不能改名为「{new}」：已有记录在「{new}」下有值，两列会混在一起，"
                    "请另起一个字段键")
            for old, new in renames if any(not is_blank(r.values.get(new)) for r in rows)]


def _apply_change(store: Store, current: Record | None, row: Record) -> None:
    """After a developer's form version is written: its renames applied and retired columns kept, as the
    designer's publish does. A store refusing it is logged; the next publish of the form applies what is
    still not in force."""
    name = row.values["file"]
    before, form, renames = _changes(store, name, current, row.values)
    try:
        versions.apply_form_change(store, versions.DEVELOPER, before, form, renames, versions.retired_of(before, form))
    except StoreError as exc:
        _log.warning("%s 第 %s 版的字段改名未能完成（代码 %s）：%s", name, versions.number(row), exc.code, exc)


def catalog_of(texts: dict[str, str]) -> FormCatalog:
    """A catalog of the files ``texts`` (name -> text), as every server's catalog serving them would be."""
    catalog = FormCatalog(_Texts(texts))
    catalog.refresh()
    return catalog


def served_catalog(store: Store) -> FormCatalog:
    """A catalog of what the store serves now (its published versions): what a publish must fit, whatever
    this server's own catalog still holds (attack D9: two publishes judged against two older views)."""
    return catalog_of({name: row.values["text"] for name, row in versions.served(versions.versions(store)).items()})


def _bound_problems(texts: dict[str, str]) -> list[FormProblem]:
    """The problems of the campaign's bindings, and of what the pages need of it, with the files ``texts``
    (name -> text) served, judged by a catalog of those texts as every server's catalog would judge them."""
    catalog = catalog_of(texts)
    try:
        catalog.bindings  # noqa: B018 - reading it is the check
    except FormDefinitionError as exc:
        return list(exc.problems) + versions.campaign_needs(catalog.campaign_or_none())
    return versions.campaign_needs(catalog.campaign_or_none())


class _Texts:
    """A catalog source of texts held in memory (the versions a publish would serve)."""

    def __init__(self, texts: dict[str, str]):
        self._texts = texts

    def sync(self, check: Check) -> None:
        """Nothing to bring up to date."""

    def names(self) -> list[str]:
        return sorted(self._texts)

    def stamp(self, name: str) -> Hashable:
        if name not in self._texts:
            raise FileNotFoundError(name)
        return versions.sha256(self._texts[name])

    def text(self, name: str) -> str:
        return self._texts[name]


def _sha_of(text: str | None) -> str:
    return versions.sha256(text) if text is not None else ""


def _campaign_sha(served: dict) -> str:
    row = served.get(CAMPAIGN_FILE)
    return row.values.get("sha256", "") if row is not None else ""
