"""The storage contract every backend honours (local workbook, Google Sheets).

A row is a dict of field values keyed by the form's stable field keys, plus the system columns
below. Rows are never deleted: a withdrawal is a status. Every change is one audit entry.
"""

from __future__ import annotations

import abc
import functools
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lib.core.errors import AppError
from lib.core.records import SYSTEM_SHEET_PREFIXES, Actor, AuditEntry, Record  # noqa: F401 - SYSTEM_SHEET_PREFIXES: the store's names
from lib.core.text import as_text, comparable

#: System columns, in workbook order, with the Chinese header a person sees in Excel/WPS.
SYSTEM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_id", "记录编号"),
    ("_rev", "版本"),
    ("_status", "状态"),
    ("_form_version", "表单版本"),
    ("_owner", "填报账号"),
    ("_org", "填报单位"),
    ("_city", "所属地市"),
    ("_created_at", "创建时间"),
    ("_updated_at", "更新时间"),
    ("_updated_by", "最后修改人"),
)
SYSTEM_KEYS = tuple(k for k, _ in SYSTEM_COLUMNS)

#: Column kinds a backend must keep typed. ``list`` holds strings (multiselect), ``table`` a list of
#: dicts (repeatable group); both are shown in one cell in the workbook.
COLUMN_KINDS = ("text", "integer", "number", "date", "bool", "list", "table")

#: The keys :meth:`Store.records_where` reads off a Record itself rather than its values: the account
#: that filed the row, the organisation and the city of that account (none of them changes with an update).
FILER_KEYS = {"_owner": "owner", "_org": "org", "_city": "city"}



@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    display: str = ""  # how its numbers read when the kind does not say (lib.core.values.TWO_DECIMALS: money, percent)


@dataclass(frozen=True)
class SheetSpec:
    """What a backend needs to know about a form to keep its sheet: id, sheet title, columns."""

    form_id: str
    title: str
    columns: tuple[Column, ...]


class StoreError(AppError):
    """Base of every storage failure; ``str(err)`` is a Chinese message fit for a page, ``code`` says
    which failure it is (a subclass's code, or a finer one given where it is raised, e.g.
    ``Unavailable(..., code="store_closed")``)."""

    code = "store"


class ConflictError(StoreError):
    """The row changed since the revision the caller started from."""

    code = "conflict"

    def __init__(self, message: str, *, current: Record | None = None):
        super().__init__(message)
        self.current = current


class NotFound(StoreError):
    code = "not_found"


class Unavailable(StoreError):
    """The backend cannot be reached or refuses writes until an admin acts."""

    code = "unavailable"


class InvalidValue(StoreError):
    """A value the backend cannot hold faithfully; nothing was written. ``field`` is its key; ``code``
    says what is wrong with it where that is known (``control_character``, ``text_too_long`` ...)."""

    code = "invalid_value"

    def __init__(self, message: str, *, field: str, code: str | None = None):
        super().__init__(message, code=code)
        self.field = field


@dataclass(frozen=True)
class RowChange:
    """A change of one existing row in :meth:`Store.write_batch`: new ``values`` (merged; only those that
    differ are logged) and/or ``status``, from the revision ``base_rev`` its caller read."""

    form_id: str
    row_id: str
    base_rev: int
    values: dict[str, Any]
    status: str | None = None
    note: str = ""


class Store(abc.ABC):
    """Backends implement these; pages and campaign code only ever see this interface."""

    @abc.abstractmethod
    def ensure_sheet(self, spec: SheetSpec) -> None:
        """Declare a form's sheet and columns. Adding a column is allowed; columns are never dropped."""

    @abc.abstractmethod
    def append(
        self, form_id: str, values: dict[str, Any], *, actor: Actor, status: str, form_version: int = 1
    ) -> Record:
        """Add a row; return only once it is durable."""

    def append_many(
        self, form_id: str, rows: list[dict[str, Any]], *, actor: Actor, status: str, form_version: int = 1
    ) -> list[Record]:
        """Add several rows to one form (bulk import): :meth:`append_batch` on one sheet."""
        return self.append_batch([(form_id, v, status) for v in rows], actor=actor, form_version=form_version)

    def append_batch(
        self, items: list[tuple[str, dict[str, Any], str]], *, actor: Actor, form_version: int = 1
    ) -> list[Record]:
        """Add rows ``(form_id, values, status)`` to one or several forms as one change: every value
        is checked before anything is written (InvalidValue, NotFound: nothing written), and the
        rows become durable and visible together — after a crash at any moment, all or none.
        Returns the records in the order of ``items``.

        Both backends override this; this default (row by row, not atomic) only serves test doubles.
        """
        return [self.append(f, v, actor=actor, status=s, form_version=form_version) for f, v, s in items]

    def write_batch(
        self, appends: list[tuple[str, dict[str, Any], str]], changes: list[RowChange], *, actor: Actor,
        form_version: int = 1,
    ) -> tuple[list[Record], list[Record]]:
        """New rows ``(form_id, values, status)`` and changes of existing rows (:class:`RowChange`, each
        from the revision its caller read) as one change: every value is checked and every change's
        revision compared before anything is written (InvalidValue, NotFound, ConflictError naming the
        row: nothing written), and all become durable and visible together, or none. A change that
        changes nothing is no entry and returns the row as it is. Returns (appended, changed) records in
        the order given. A bulk import that adds some rows and corrects others writes them this way.

        Both backends override this; this default (one by one, not atomic) only serves test doubles.
        """
        added = self.append_batch(appends, actor=actor, form_version=form_version) if appends else []
        return added, [self.update(c.form_id, c.row_id, base_rev=c.base_rev, actor=actor, values=c.values,
                                   status=c.status, note=c.note) for c in changes]

    @abc.abstractmethod
    def update(
        self,
        form_id: str,
        row_id: str,
        *,
        base_rev: int,
        actor: Actor,
        values: dict[str, Any] | None = None,
        status: str | None = None,
        note: str = "",
    ) -> Record:
        """Change values and/or status of a row last read at ``base_rev``.

        Raises ConflictError when the row's revision is no longer ``base_rev``.
        """

    @abc.abstractmethod
    def get(self, form_id: str, row_id: str) -> Record:
        """The latest version of a row; NotFound when there is none."""

    @abc.abstractmethod
    def records(self, form_id: str) -> list[Record]:
        """Latest version of every row of a form, in creation order."""

    @abc.abstractmethod
    def audit(self, form_id: str | None = None, row_id: str | None = None) -> list[AuditEntry]:
        """Audit entries, oldest first, optionally narrowed to a form or a row."""

    def audit_count(self) -> int:
        """How many entries the whole audit trail holds now: entries are only ever added, so this is a change
        counter for what is built from the trail (the audit page's table), without building every entry."""
        return len(self.audit())

    def audit_since(self, start: int) -> list[AuditEntry]:
        """The whole trail's entries from position ``start`` on, oldest first (``audit()[start:]``): what was
        added since a reader saw ``audit_count()`` entries, without building the others (the audit page's table
        takes in only those). This default, for test doubles, slices :meth:`audit`."""
        return self.audit()[start:]

    def records_where(self, form_id: str, any_of: Mapping[str, Iterable[str]] | None = None, *,
                      statuses: Iterable[str] | None = None) -> list[Record]:
        """The rows of ``records(form_id)``, in its order, that hold under at least one key of ``any_of``
        one of the values listed for it, and whose status is one of ``statuses``. A key is a field key or
        one of :data:`FILER_KEYS`; values compare as :func:`match_key` folds both sides (width, case,
        blanks), so "" finds the rows with none. ``any_of`` None: no narrowing by value ({}: no row);
        ``statuses`` None: any status.

        What a list of one person's rows reads instead of every row (``lib.auth.scope``): the backends
        answer from indexes kept as entries apply, so the cost follows the rows found, not the form's
        size. This default, for test doubles, filters :meth:`records`."""
        match = matcher(any_of, statuses)
        return [r for r in self.records(form_id) if match(r)]

    def last_moves(self, form_id: str, status: str) -> dict[str, AuditEntry]:
        """Each row of ``form_id`` a change ever moved into ``status`` (a creation moves nothing) -> the
        latest audit entry that did, keyed in the order the rows were first moved. What 退回原因 reads
        (``lib.review.return_reasons``) without turning the form's whole audit into entries: the backends
        keep it as entries apply. This default, for test doubles, walks :meth:`audit`."""
        moves: dict[str, AuditEntry] = {}
        for entry in self.audit(form_id):
            if entry.changes.get("_status", (None, None))[1] == status:
                moves[entry.row_id] = entry
        return moves

    def rename_field(self, form_id: str, old_key: str, new_key: str, *, actor: Actor) -> None:
        """Rename a field key of ``form_id`` (a published form whose field declares ``replaces: old_key``):
        every row's value under ``old_key`` moves to ``new_key``, the sheet's column takes the new key in
        its place (its label follows with the next :meth:`ensure_sheet`), and a later append or update
        still carrying ``old_key`` (a server on the old version) lands under ``new_key``. Audited as
        字段改名; rows keep their revision. A rename in force already writes nothing; a key no row has is
        renamed all the same (the column follows).

        Refused, nothing written: NotFound for a form without a sheet; InvalidValue with ``code``
        ``rename_same``, ``rename_system_key`` or ``rename_target_has_values`` (a row holds an answer under
        ``new_key``: the two columns would mix). Both backends implement it; test doubles need not."""
        raise NotImplementedError

    def renamed_keys(self, form_id: str) -> dict[str, str]:
        """Each key of ``form_id`` renamed away (:meth:`rename_field`) -> the key its values live under
        now. A form must not take such a key for a new field: its answers would land under the new key."""
        return {}

    def log_event(self, actor: Actor, action: str, *, form_id: str = "", row_id: str = "", note: str = "") -> None:
        """Record an event that changes no row (a refused access, a sign-in lock). Optional."""

    def refresh(self) -> None:
        """Catch up with changes other processes or instances made (cheap when there are none)."""

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` (a key: letters, digits, _ and -) while a caller checks and then
        writes, e.g. "is this project reported already?" then append. This default serialises the
        threads of one process; a backend whose processes share one store serialises them too."""
        with _local_lock(name):
            yield

    def problems(self) -> list[str]:
        """What the backend could not write and keeps trying, in Chinese, for the people who run the
        app (e.g. a write Google refused); empty when every accepted change is where it belongs."""
        return []

    def snapshot(self, form_id: str) -> pd.DataFrame:
        """All rows of a form as a DataFrame: system columns first, then field keys."""
        recs = self.records(form_id)
        if not recs:
            return pd.DataFrame(columns=list(SYSTEM_KEYS))
        # Lists as copies: a caller editing a cell in place must not change the records the store holds.
        return pd.DataFrame([{k: detached(v) if type(v) is list else v for k, v in r.as_row().items()} for r in recs])

    def close(self) -> None:
        """Release files, threads and processes."""


@functools.lru_cache(maxsize=65_536)
def _folded(text: str) -> str:
    return comparable(text)


def match_key(value: Any) -> str:
    """A value as :meth:`Store.records_where` compares it: "" for none (None, an empty list), else its
    text as ``lib.core.text.comparable`` folds it — the policy's ``comparable``, so an index keyed by
    it finds every row the policy would call the same organisation, city or voucher.

    >>> match_key(" ９１４４ma "), match_key(None), match_key([]), match_key(3)
    ('9144ma', '', '', '3')
    """
    if value is None or (isinstance(value, (list, tuple, dict)) and not value):
        return ""
    return _folded(value) if isinstance(value, str) else comparable(as_text(value))


def record_key(record: Record, key: str) -> str:
    """``match_key`` of what ``record`` holds under ``key`` (a field key or one of :data:`FILER_KEYS`)."""
    attr = FILER_KEYS.get(key)
    return match_key(getattr(record, attr) if attr else record.values.get(key))


def wanted_keys(values: Iterable[str]) -> set[str]:
    """The keys a row's value must fold to, to match one of ``values``: each folded, and as given too (a
    value folded already matches as it stands: folding twice changes a few rare scripts' text)."""
    out: set[str] = set()
    for v in values:
        out.add(match_key(v))
        if isinstance(v, str):
            out.add(v)
    return out


def matcher(any_of: Mapping[str, Iterable[str]] | None, statuses: Iterable[str] | None):
    """The test :meth:`Store.records_where` applies to one record (its definition, for the backends'
    rows kept outside their indexes and for tests)."""
    wanted = None if any_of is None else {k: wanted_keys(vs) for k, vs in any_of.items()}
    allowed = None if statuses is None else set(statuses)

    def match(record: Record) -> bool:
        if allowed is not None and record.status not in allowed:
            return False
        return wanted is None or any(record_key(record, k) in vs for k, vs in wanted.items())

    return match


class RowIndex:
    """One form's row ids by what :meth:`Store.records_where` asks (the backends' ``State.where`` keeps one
    per form): each row's place in creation order, its status, and — for a key (a field key or one of
    :data:`FILER_KEYS`) once it is first asked — the value it holds there as :func:`match_key` folds it. A creation adds the row; an update moves it when its status or a value asked
    by changes (a city answer corrected moves the row to its new city)."""

    __slots__ = ("pos", "status", "keys")

    def __init__(self, rows: Mapping[str, Record]) -> None:
        self.pos = {rid: i for i, rid in enumerate(rows)}
        self.status: dict[str, set[str]] = {}
        for rid, rec in rows.items():
            self.status.setdefault(rec.status, set()).add(rid)
        self.keys: dict[str, dict[str, set[str]]] = {}

    def by(self, key: str, rows: Mapping[str, Record]) -> dict[str, set[str]]:
        found = self.keys.get(key)
        if found is None:
            found = self.keys[key] = {}
            for rid, rec in rows.items():
                found.setdefault(record_key(rec, key), set()).add(rid)
        return found

    def added(self, rec: Record) -> None:
        self.pos[rec.id] = len(self.pos)
        self.status.setdefault(rec.status, set()).add(rec.id)
        for key, found in self.keys.items():
            found.setdefault(record_key(rec, key), set()).add(rec.id)

    def updated(self, old: Record, rec: Record, changed: Mapping[str, Any]) -> None:
        if rec.status != old.status:
            self.status[old.status].discard(rec.id)
            self.status.setdefault(rec.status, set()).add(rec.id)
        for key in self.keys.keys() & changed.keys():
            before, after = record_key(old, key), record_key(rec, key)
            if before != after:
                self.keys[key][before].discard(rec.id)
                self.keys[key].setdefault(after, set()).add(rec.id)


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _local_lock(name: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(name, threading.Lock())


def detached(value: list[Any]) -> list[Any]:
    """A list value (texts, or a table's rows as dicts of plain values) as a copy sharing nothing mutable
    with the record it came from (attack Q2: an ``append`` to a snapshot's list cell changed the store).

    >>> rows = [{"名": "张三"}]
    >>> copy = detached(rows); copy[0]["名"] = "李四"; rows
    [{'名': '张三'}]
    """
    return [dict(item) if type(item) is dict else item for item in value]
