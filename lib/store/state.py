"""The in-memory view of a log: latest version of every row, the audit trail, sheet specs.

A :class:`State` is built by applying log entries in order, from an empty start or from where
it left off, so every process holds the same view once it has read the same bytes. Records are
immutable; an update swaps in a new Record, so a list of records taken earlier never changes.

Log entry shapes (one JSON object per line)::

    {"op": "log", "format": 1, "at": ...}                               first line
    {"op": "sheet", "at", "form", "title", "columns": [[key, label, kind, display?], ...]}
    {"op": "append", "at", "form", "id", "rev": 1, "actor": {...}, "status", "fv", "values"}
    {"op": "update", "at", "form", "id", "rev", "actor", "action", "values"?, "status"?, "note"}
    {"op": "event", "at", "actor", "action", "form", "id", "note"}
    {"op": "batch", "at", "entries": [append entry, ...]}              several rows in one line: all or none
    {"op": "rename", "at", "form", "from", "to", "actor"}              a field key renamed (see _apply_rename)

Google Sheets' ``_log`` writes a batch as members and a commit entry instead (``lib.store.sheets.log``)
and hands this class only the members of committed batches.

``values`` of an update holds only the fields that changed; "at" is a naive local ISO datetime.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import itertools
import sys
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import pandas as pd

from lib.core.records import AuditEntry, Record
from lib.core.values import is_missing
from lib.store.base import SYSTEM_COLUMNS, SYSTEM_KEYS, Column, RowIndex, SheetSpec, Unavailable, wanted_keys
from lib.store.codec import decode_values, kind_of
from lib.store.frames import FrameBook, current_book

STATUS_LABEL = dict(SYSTEM_COLUMNS)["_status"]
#: The audit's action for a renamed field.
RENAMED = "字段改名"


class AuditRow(NamedTuple):
    """Compact audit entry; for a creation ``changes`` is the initial values dict itself (shared
    with the first Record, so a 100k-row store does not keep every value twice)."""

    at: dt.datetime
    account: str
    action: str
    form_id: str
    row_id: str
    rev: int
    changes: dict[str, Any]
    note: str
    created: bool

    def entry(self) -> AuditEntry:
        if self.created:
            changes = {k: (None, v) for k, v in self.changes.items() if v is not None}
        else:
            changes = dict(self.changes)
        return AuditEntry(self.at, self.account, self.action, self.form_id, self.row_id, self.rev, changes, self.note)


class _TrailIndex:
    """The audit rows of ``rows`` (a ``State.audit`` list, which only grows) by form and by (form, row), up to
    ``upto``."""

    def __init__(self, rows: list[AuditRow]) -> None:
        self.rows, self.upto = rows, 0
        self.by_form: dict[str, list[AuditRow]] = {}
        self.by_row: dict[tuple[str, str], list[AuditRow]] = {}

    def catch_up(self) -> None:
        by_form, by_row = self.by_form, self.by_row
        for a in itertools.islice(self.rows, self.upto, None):
            by_form.setdefault(a.form_id, []).append(a)
            by_row.setdefault((a.form_id, a.row_id), []).append(a)
        self.upto = len(self.rows)


class State:
    """Everything a log says, in memory. Not thread-safe: the store serialises access."""

    def __init__(self) -> None:
        self.specs: dict[str, SheetSpec] = {}
        self.rows: dict[str, dict[str, Record]] = {}
        self.audit: list[AuditRow] = []
        self.extra_keys: dict[str, dict[str, None]] = {}  # value keys no SheetSpec declares
        self._known_keys: dict[str, set[str]] = {}  # declared and extra keys, for a fast check
        self.generation: dict[str, int] = {}  # bumped on every change to a form
        self.renames: dict[str, dict[str, str]] = {}  # form -> renamed-away key -> the key its values live under now
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {}
        # form -> its frame's book: what it takes to bring that frame up to date after a change (lib.store.frames)
        self._frame_books: dict[str, FrameBook] = {}
        # Built the first time a question needs them (a State loaded from a checkpoint starts without), kept
        # as entries apply from then on: form -> its rows by status and folded value (``where``); form ->
        # status -> row id -> the latest audit row that moved the row into that status (``last_moves``).
        self._indexes: dict[str, RowIndex] = {}
        self._moves: dict[str, dict[str, dict[str, AuditRow]]] | None = None
        self._trail: _TrailIndex | None = None  # the audit by form and by row (``audit_rows``)

    # --- applying log entries ---------------------------------------------------------------

    def apply(self, e: dict[str, Any], given: Mapping[str, dict[str, Any]] | None = None) -> None:
        """Apply one log entry. ``given``: row id -> the values an append entry carries, already as
        ``decode_values`` would give them (the writer's own, ``codec.kept_as_given``): not decoded again."""
        op = e["op"]
        if op == "batch":
            for member in e["entries"]:
                self.apply(member, given)
        elif op == "append":
            self._apply_append(e, given.get(e["id"]) if given else None)
        elif op == "update":
            self._apply_update(e)
        elif op == "rename":
            self._apply_rename(e)
        elif op == "sheet":
            gone = self.renames.get(e["form"], {})
            # A renamed-away key declared again is a server still on the form's old version: its values land
            # under the new key (renamed()), so its column stays gone rather than coming back empty.
            cols = tuple(Column(*col) for col in e["columns"] if col[0] not in gone)  # display is absent in older logs
            self.specs[e["form"]] = SheetSpec(e["form"], e["title"], cols)
            self._known_keys.setdefault(e["form"], set()).update(c.key for c in cols)
            self.rows.setdefault(e["form"], {})
            self._bump(e["form"])
        elif op == "event":
            actor = e.get("actor") or {}
            self.audit.append(
                AuditRow(_time(e["at"]), actor.get("account", ""), e["action"], e.get("form", ""), e.get("id", ""),
                         0, {}, e.get("note", ""), False)
            )

    def _apply_append(self, e: dict[str, Any], given: dict[str, Any] | None = None) -> None:
        form, at, actor = sys.intern(e["form"]), _time(e["at"]), e["actor"]
        values = decode_values(e["values"]) if given is None else given
        if form in self.renames:
            values = self.renamed(form, values)
        account = sys.intern(actor["account"])
        rec = Record(form, e["id"], 1, sys.intern(e["status"]), e.get("fv", 1), account,
                     sys.intern(actor.get("org", "")), sys.intern(actor.get("city", "")), at, at, account, values)
        self.rows.setdefault(form, {})[rec.id] = rec
        self._note_keys(form, values)
        self.audit.append(AuditRow(at, account, "新增", form, rec.id, 1, values, e.get("note", ""), True))
        if form in self._indexes:
            self._indexes[form].added(rec)
        self._bump(form, rec.id)

    def _apply_update(self, e: dict[str, Any]) -> None:
        form, at, actor = e["form"], _time(e["at"]), e["actor"]
        old = self.rows.get(form, {}).get(e["id"])
        if old is None or e["rev"] != old.rev + 1:
            raise Unavailable(f"数据日志不一致：记录 {e['id']} 的版本 {e['rev']} 没有前一版本；请运行 verify 检查。",
                              code="log_inconsistent")
        changed = self.renamed(form, decode_values(e.get("values", {})))
        changes = {k: (old.values.get(k), v) for k, v in changed.items()}
        status = e.get("status", old.status)
        if status != old.status:
            changes["_status"] = (old.status, status)
        rec = Record(form, old.id, e["rev"], status, old.form_version, old.owner, old.org, old.city,
                     old.created_at, at, actor["account"], {**old.values, **changed})
        self.rows[form][rec.id] = rec
        self._note_keys(form, changed)
        audit = AuditRow(at, actor["account"], e["action"], form, rec.id, rec.rev, changes, e.get("note", ""), False)
        self.audit.append(audit)
        if form in self._indexes:
            self._indexes[form].updated(old, rec, changed)
        if self._moves is not None and status != old.status:
            self._moves.setdefault(form, {}).setdefault(status, {})[rec.id] = audit
        self._bump(form, rec.id)

    def _apply_rename(self, e: dict[str, Any]) -> None:
        """Move every row's value under ``from`` to ``to`` (the row's revision stays: no answer changed), give
        the sheet's ``from`` column the key ``to`` in its place, and remember the rename, so a later append or
        update still carrying ``from`` (a server on the old version of the form) lands under ``to``.

        A row whose ``to`` already holds an answer keeps both (never lost): the writers refuse such a rename
        (``rename_problem``), so only a log written otherwise has one."""
        form, old, new = e["form"], e["from"], e["to"]
        rows = self.rows.setdefault(form, {})
        moved = kept = 0
        for rid, rec in rows.items():
            if old not in rec.values:
                continue
            if not is_missing(rec.values.get(new)):
                kept += 1
                continue
            moved += not is_missing(rec.values[old])
            values = {(new if k == old else k): v for k, v in rec.values.items() if k != new}
            rows[rid] = dataclasses.replace(rec, values=values)
        moves = self.renames.setdefault(form, {})
        for key, target in list(moves.items()):
            if target == old:
                moves[key] = new  # a → old earlier, old → new now: a's values live under new
        moves.pop(new, None)  # new is a live key again
        moves[old] = new
        for key in [k for k, target in moves.items() if k == target]:
            del moves[key]
        spec = self.specs.get(form)
        label = old
        if spec is not None and any(c.key == old for c in spec.columns):
            label = next(c.label for c in spec.columns if c.key == old)
            declared = next((c for c in spec.columns if c.key == new), None)
            cols = tuple((declared or dataclasses.replace(c, key=new)) if c.key == old else c
                         for c in spec.columns if c.key != new)
            self.specs[form] = SheetSpec(form, spec.title, cols)
        self._rename_extra(form, old, new, keep_old=kept > 0)
        if form in self._indexes:
            self._indexes[form].keys.clear()  # every row's values may have moved: built again when asked
        note = f"字段「{label}」的键由 {old} 改为 {new}，{moved} 条记录的值随之改到新键下"
        if kept:
            note += f"；{kept} 条记录的新键下已有值，两者都保留"
        actor = e.get("actor") or {}
        self.audit.append(AuditRow(_time(e["at"]), actor.get("account", ""), RENAMED, form, "", 0, {}, note, False))
        self._bump(form, reshaped=True)

    def _rename_extra(self, form: str, old: str, new: str, *, keep_old: bool) -> None:
        """The keys no spec declares after a rename: ``new`` takes ``old``'s place (``old`` stays too when a
        row still holds it)."""
        declared = {c.key for c in self.specs[form].columns} if form in self.specs else set()
        extra = self.extra_keys.get(form, {})
        keys = []
        for key in extra:
            if key == old:
                keys += [old, new] if keep_old else [new]
            elif key != new:
                keys.append(key)
        if keep_old and old not in keys and old not in declared:
            keys.append(old)
        if new not in keys and any(new in r.values for r in self.rows.get(form, {}).values()):
            keys.append(new)
        self.extra_keys[form] = {k: None for k in keys if k not in declared}
        self._known_keys[form] = declared | set(self.extra_keys[form])

    def renamed(self, form: str, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` with each renamed-away key under the key its values live under now (``values`` itself
        when none is), as a rename moves a row's: where the new key has no answer. A key whose new key has
        an answer too stays as it is, so neither is lost. In the order given: every process alike."""
        moves = self.renames.get(form)
        if not moves or moves.keys().isdisjoint(values):
            return values
        out = dict(values)
        for old in [k for k in values if k in moves]:
            new = moves[old]
            if is_missing(out.get(new)):
                value = out.pop(old)
                if new not in out or not is_missing(value):
                    out[new] = value
        return out

    def rename_problem(self, form: str, old: str, new: str) -> str:
        """Why renaming ``old`` to ``new`` in ``form`` may not be written: ``unknown_form``, ``rename_same``,
        ``rename_system_key``, ``rename_target_has_values``; "" when it may (also when it is in force already:
        ``rename_in_force``, it changes nothing). Every writer and every replay of a Google ``_log`` decide it alike."""
        if form not in self.specs:
            return "unknown_form"
        if old == new:
            return "rename_same"
        if not old or not new or old[0] == "_" or new[0] == "_" or {old, new} & set(SYSTEM_KEYS):
            return "rename_system_key"
        if not self.rename_in_force(form, old, new) and any(
                not is_missing(r.values.get(new)) for r in self.rows.get(form, {}).values()):
            return "rename_target_has_values"
        return ""

    def rename_in_force(self, form: str, old: str, new: str) -> bool:
        """Renaming ``old`` to ``new`` would change nothing: it was done, and no row nor column has ``old`` since."""
        spec = self.specs.get(form)
        return (self.renames.get(form, {}).get(old) == new and spec is not None
                and all(c.key != old for c in spec.columns)
                and all(old not in r.values for r in self.rows.get(form, {}).values()))

    def _note_keys(self, form: str, values: dict[str, Any]) -> None:
        known = self._known_keys.setdefault(form, set())
        if known.issuperset(values):  # nearly always: the keys a form's rows use are known
            return
        for key in values:
            if key not in known:
                known.add(key)
                self.extra_keys.setdefault(form, {})[key] = None

    def known_keys(self) -> dict[str, list[str]]:
        """form -> every value key its sheet entries ever declared (dropped ones too) or a row carried: a key
        among them is never made an extra column later. A checkpoint keeps them (:meth:`restore_known_keys`)."""
        return {f: sorted(keys) for f, keys in self._known_keys.items()}

    def restore_known_keys(self, known: Mapping[str, Iterable[str]]) -> None:
        """Know the keys :meth:`known_keys` gave, as the replay of the same log prefix would."""
        self._known_keys = {sys.intern(f): {sys.intern(k) for k in keys} for f, keys in known.items()}

    def _bump(self, form: str, row_id: str | None = None, *, reshaped: bool = False) -> None:
        """One change to ``form``: ``row_id`` appended or updated (None: no row changed); ``reshaped``: values
        moved in every row. Its frame's book notes it, to bring the frame up to date instead of building it."""
        self.generation[form] = self.generation.get(form, 0) + 1
        book = self._frame_books.get(form)
        if book is not None:
            book.note(row_id, reshaped=reshaped)

    # --- questions ------------------------------------------------------------------------------

    def columns(self, form_id: str) -> list[Column]:
        """Field columns in sheet order: declared ones, then keys only seen in values."""
        spec = self.specs.get(form_id)
        cols = list(spec.columns) if spec else []
        declared = {c.key for c in cols}
        rows = self.rows.get(form_id, {})
        for key in self.extra_keys.get(form_id, {}):
            if key not in declared:
                sample = next((r.values[key] for r in rows.values() if r.values.get(key) is not None), None)
                cols.append(Column(key, key, kind_of(sample)))
        return cols

    def labels(self, form_id: str) -> dict[str, str]:
        """Each column's label; a key renamed away reads as the field it became (the audit of changes made
        before the rename names the field as it is called now)."""
        spec = self.specs.get(form_id)
        return self._renamed_too(form_id, {c.key: c.label for c in spec.columns}) if spec else {}

    def _renamed_too(self, form_id: str, by_key: dict[str, str]) -> dict[str, str]:
        """``by_key`` with each key renamed away given its new key's entry."""
        for old, new in self.renames.get(form_id, {}).items():
            if new in by_key:
                by_key.setdefault(old, by_key[new])
        return by_key

    def displays(self, form_id: str) -> dict[str, str]:
        """The display (money, percent) of each of ``form_id``'s columns that has one."""
        spec = self.specs.get(form_id)
        return self._renamed_too(form_id, {c.key: c.display for c in spec.columns if c.display}) if spec else {}

    def audit_rows(self, form_id: str | None = None, row_id: str | None = None) -> list[AuditRow]:
        """The trail's rows, oldest first: all, a form's, or a row's. A form's and a row's come from an index
        by form and by (form, row), taken up to date with the entries added since the last question (a
        board applying one new row asks for that row's audit: a walk of 229,000 entries at 100,000 rows)."""
        if form_id is None:
            return [a for a in self.audit if row_id is None or a.row_id == row_id]
        trail = self._trail
        if trail is None or trail.rows is not self.audit or trail.upto > len(self.audit):
            trail = self._trail = _TrailIndex(self.audit)  # a checkpoint load puts another list in place
        trail.catch_up()
        if row_id is None:
            return list(trail.by_form.get(form_id, ()))
        return list(trail.by_row.get((form_id, row_id), ()))

    def conflict_message(self, form_id: str, row_id: str, base_rev: int) -> str:
        """Chinese explanation of who changed a row after ``base_rev``, when and which fields."""
        later = [a for a in reversed(self.audit_rows(form_id, row_id)) if a.rev > base_rev]
        if not later:
            return f"记录 {row_id} 的版本号 {base_rev} 无效，请重新载入后再修改。"
        labels = {**self.labels(form_id), "_status": STATUS_LABEL}
        accounts = list(dict.fromkeys(a.account for a in reversed(later)))
        fields = list(dict.fromkeys(labels.get(k, k) for a in reversed(later) for k in a.changes))
        when = later[0].at.strftime("%Y-%m-%d %H:%M")
        return (f"该记录已被 {'、'.join(accounts)} 于 {when} 修改（字段：{'、'.join(fields) or '无'}），"
                f"请重新载入后再修改。")

    def where(self, form_id: str, any_of: Mapping[str, Iterable[str]] | None = None,
              statuses: Iterable[str] | None = None) -> list[Record]:
        """``Store.records_where`` (lib.store.base) from the indexes: the rows found by each key's values and
        status, in creation order; the cost follows the rows found (and, once per form and key, one pass
        over its rows to build the index)."""
        rows = self.rows.get(form_id)
        if not rows:
            return []
        if any_of is None and statuses is None:
            return list(rows.values())
        index = self._indexes.get(form_id)
        if index is None:
            index = self._indexes[form_id] = RowIndex(rows)
        found: set[str] | None = None
        if any_of is not None:
            found = set()
            for key, values in any_of.items():
                by = index.by(key, rows)
                for value in wanted_keys(values):
                    found.update(by.get(value, ()))
        if statuses is not None:
            status_ids = [index.status.get(s, set()) for s in dict.fromkeys(statuses)]
            if found is None:
                found = set().union(*status_ids)
            else:
                found = {rid for rid in found if any(rid in ids for ids in status_ids)}
        if len(found) * 8 > len(rows):  # many found: one pass in order beats sorting them by place
            return [rec for rid, rec in rows.items() if rid in found]
        return [rows[rid] for rid in sorted(found, key=index.pos.__getitem__)]

    def last_moves(self, form_id: str, status: str) -> dict[str, AuditRow]:
        """``Store.last_moves`` as audit rows: row id -> the latest update that moved it into ``status``."""
        if self._moves is None:
            moves: dict[str, dict[str, dict[str, AuditRow]]] = {}
            for a in self.audit:
                if not a.created and "_status" in a.changes:
                    moves.setdefault(a.form_id, {}).setdefault(a.changes["_status"][1], {})[a.row_id] = a
            self._moves = moves
        return dict(self._moves.get(form_id, {}).get(status, {}))

    def frame(self, form_id: str) -> pd.DataFrame:
        """All rows of a form as a DataFrame, cached until the form next changes; then brought up to date
        with the rows changed since (``lib.store.frames``: equal to a full build, a full build when the
        changes cannot be replayed)."""
        gen = self.generation.get(form_id, 0)
        cached = self._frames.get(form_id)
        if cached is None or cached[0] != gen:
            book = self._frame_books.pop(form_id, None)  # spent even when building fails half-way
            if book is not None and (cached is None or book.frame is not cached[1]):
                book = None  # the cache was set or cleared without it
            book = current_book(book, gen, self.rows.get(form_id, {}), self._frame_keys(form_id))
            self._frame_books[form_id] = book
            cached = self._frames[form_id] = (gen, book.frame)
        # Shallow copy: with pandas copy-on-write a caller's edits never reach the cached frame.
        return cached[1].copy(deep=False)

    def _frame_keys(self, form_id: str) -> list[str]:
        """The keys of ``columns(form_id)``, without sampling each extra key's kind."""
        spec = self.specs.get(form_id)
        keys = [c.key for c in spec.columns] if spec else []
        declared = set(keys)
        return keys + [k for k in self.extra_keys.get(form_id, {}) if k not in declared]


#: Log entries a catch-up must apply before what it loaded is moved out of the cyclic collector's reach.
FREEZE_AFTER_ENTRIES = 1_000


def freeze_loaded() -> None:
    """Move everything alive now out of the cyclic garbage collector's reach (``gc.freeze``), after a store
    has loaded much: its rows are acyclic and live long, and Streamlit's full collection after every script
    run would otherwise walk them all (423 ms of CPU at 20,000 rows, 1.5 s at 100,000, on every widget change
    and board refresh: issue 17). Collected first, so no garbage cycle of the load is kept for good."""
    gc.collect()
    gc.freeze()


@functools.lru_cache(maxsize=64)
def _time(text: str) -> dt.datetime:
    """An entry's time (cached: the rows of one batch share theirs)."""
    return dt.datetime.fromisoformat(text)
