"""The local store: an fsync'ed JSON-lines log is the truth, memory serves reads, and an .xlsx
workbook beside it is rewritten in the background as a view people can open.

Files in ``data_dir`` (0700; every file in it 0600, see lib.core.files) for workbook ``campaign.xlsx``::

    campaign.xlsx                   the view (one sheet per form + _audit)
    campaign.log.jsonl              the log (see lib.store.state for its entries)
    .campaign.log.lock              flock: one writer of the log at a time, across processes
    .campaign.xlsx.lock             flock: one writer of the workbook at a time
    .campaign.xlsx.stamp.json       which log offset the workbook on disk reflects
    .campaign.xlsx.parts.json       where each sheet's compressed row blocks lie in the workbook (a restarted writer reuses them)
    .campaign.checkpoint            the state up to a log offset, so a store opens without replaying it all
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from lib.core.files import private_dir
from lib.core.records import Actor, AuditEntry, Record
from lib.store.base import ConflictError, NotFound, RowChange, SheetSpec, Store, Unavailable
from lib.store.codec import kept_as_given, validate_values
from lib.store.entries import (
    append_entries,
    batch_entry,
    change_entries,
    check_appends,
    check_changes,
    check_spec,
    check_status,
    event_entry,
    rename_entry,
    sheet_entry,
    unbatched,
    update_entry,
)
from lib.store.local.checkpoint import Checkpoint, collector_paused
from lib.store.local.external import EXTERNAL_ACTOR, EditCheck
from lib.store.local.log import LogFile, ProcessLock, dump_line
from lib.store.local.materialiser import MaterialiserProcess, materialise
from lib.store.local.workbook import matching_stamp
from lib.store.state import FREEZE_AFTER_ENTRIES, State, freeze_loaded

__all__ = ["EXTERNAL_ACTOR", "LocalStore"]  # EXTERNAL_ACTOR re-exported from external, where edits are imported

_LOCK_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # names a file in the data folder: nothing else


class LocalStore(Store):
    """Store backed by a log and a workbook in ``data_dir``.

    ``background``: keep the workbook up to date from a separate process (``python -m lib.store
    materialise``), so appends stay fast while a big workbook is written; with False the
    workbook is only written by :meth:`flush_workbook` in this process.
    ``debounce``: seconds the background writer waits for a burst of writes to end.
    ``clock``: returns the naive local time stamped on changes (tests pin it).
    ``edit_check``: the app's rules for cells a person edits in the workbook (see
    :data:`lib.store.local.external.EditCheck`); without it, every edit the store can hold is imported.
    ``workbook_lock``: the workbook's lock when the caller already holds it (the background writer
    does, for its whole life); by default the store opens its own.
    ``use_checkpoint``: start from the checkpoint (``lib.store.local.checkpoint``) and read only the log
    after it, when it is usable; False replays the whole log (``verify`` and ``rebuild`` do: the log is the truth).
    """

    def __init__(
        self,
        data_dir: Path | str,
        workbook_name: str = "campaign.xlsx",
        *,
        background: bool = True,
        debounce: float = 0.3,
        clock: Callable[[], dt.datetime] | None = None,
        edit_check: EditCheck | None = None,
        workbook_lock: ProcessLock | None = None,
        use_checkpoint: bool = True,
    ):
        self.data_dir = private_dir(data_dir)
        self.workbook_path = self.data_dir / workbook_name
        stem = self.workbook_path.stem
        self.log_path = self.data_dir / f"{stem}.log.jsonl"
        self.log = LogFile(self.log_path, self.data_dir / f".{stem}.log.lock")
        self.workbook_lock = workbook_lock or ProcessLock(self.data_dir / f".{workbook_name}.lock")
        self._named_locks: dict[str, ProcessLock] = {}
        self.state = State()
        self._mutex = threading.RLock()  # guards state and the log reader within this process
        self._clock = clock or dt.datetime.now
        self._closed = False
        self.edit_check = edit_check
        self.checkpoint = Checkpoint(self.data_dir / f".{stem}.checkpoint")
        with self._mutex, collector_paused():
            loaded = self._load_checkpoint() if use_checkpoint else 0
            self._catch_up(loaded)  # the bulk without the log lock, as refresh() reads: writers go on meanwhile
        with self._mutex, self.log.locked():
            self._catch_up()
            if self.log.offset == 0:
                self._commit([{"op": "log", "format": 1, "at": self._now()}])
        self._materialiser = None
        if background:
            try:
                self._materialiser = MaterialiserProcess(self.data_dir, workbook_name, debounce, edit_check)
            except TypeError:  # an edit_check the child cannot receive: nothing stays open
                self.close()
                raise

    # --- reading -------------------------------------------------------------------------------

    def _load_checkpoint(self) -> int:
        """Take the state from the checkpoint when it is usable with the log; returns the entries it covers."""
        loaded = self.checkpoint.load(self.log)
        if loaded is None:
            return 0
        self.state = loaded.state
        self.log.start_at(loaded.offset, loaded.lines)
        return len(loaded.state.audit)

    def _catch_up(self, loaded: int = 0) -> None:
        """Apply the log's new entries; ``loaded``: entries just taken from a checkpoint, which count as
        applied when deciding whether to move what was loaded out of the collector's reach."""
        applied = loaded

        def apply(entry: dict[str, Any]) -> None:
            nonlocal applied
            applied += len(entry["entries"]) if entry.get("op") == "batch" else 1
            self.state.apply(entry)

        self.log.read_new(apply)
        if applied >= FREEZE_AFTER_ENTRIES:  # the first load, another process's import
            freeze_loaded()

    def refresh(self) -> None:
        """See every change any process has made so far (a stat when there is none)."""
        self._check_open()
        if self.log.size() != self.log.offset:
            with self._mutex:
                self._catch_up()

    def get(self, form_id: str, row_id: str) -> Record:
        self.refresh()
        rec = self.state.rows.get(form_id, {}).get(row_id)
        if rec is None:
            raise NotFound(f"表单「{form_id}」中找不到记录 {row_id}。")
        return rec

    def records(self, form_id: str) -> list[Record]:
        self.refresh()
        with self._mutex:
            return list(self.state.rows.get(form_id, {}).values())

    def snapshot(self, form_id: str) -> pd.DataFrame:
        """All rows as a DataFrame (cached; rebuilt only after the form changed). Later writes
        never change a frame already returned, and edits to it never reach the store."""
        self.refresh()
        with self._mutex:
            return self.state.frame(form_id)

    def audit(self, form_id: str | None = None, row_id: str | None = None) -> list[AuditEntry]:
        self.refresh()
        with self._mutex:
            rows = self.state.audit_rows(form_id, row_id)
        return [a.entry() for a in rows]

    def audit_since(self, start: int) -> list[AuditEntry]:
        self.refresh()
        with self._mutex:
            rows = self.state.audit[start:]
        return [a.entry() for a in rows]

    def audit_count(self) -> int:
        self.refresh()
        with self._mutex:
            return len(self.state.audit)

    def records_where(self, form_id: str, any_of: Mapping[str, Iterable[str]] | None = None, *,
                      statuses: Iterable[str] | None = None) -> list[Record]:
        self.refresh()
        with self._mutex:
            return self.state.where(form_id, any_of, statuses)

    def last_moves(self, form_id: str, status: str) -> dict[str, AuditEntry]:
        self.refresh()
        with self._mutex:
            moves = self.state.last_moves(form_id, status)
        return {rid: a.entry() for rid, a in moves.items()}

    @contextmanager
    def reading(self) -> Iterator[State]:
        """The state as read from the log, held still for the ``with`` block (a consistent cut: no
        entry applies meanwhile). Read it; never change it. Records are immutable, so lists of
        them taken here stay valid after."""
        with self._mutex:
            yield self.state

    def sheet_spec(self, form_id: str) -> SheetSpec | None:
        """The merged spec the store holds for a form (None before ensure_sheet)."""
        self.refresh()
        return self.state.specs.get(form_id)

    # --- writing -------------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the log lock with the view caught up to the log's end: the only way to write."""
        self._check_open()
        with self._mutex, self.log.locked():
            self._catch_up()
            yield

    def _commit(self, entries: list[dict[str, Any]], values: Mapping[str, dict[str, Any]] | None = None) -> None:
        """Durably append ``entries`` (one fsync) and apply them; ``values``: row id -> the values an
        append carries as given, when they need no decoding (``codec.kept_as_given``). Caller is inside _writing."""
        self.log.append([dump_line(e) for e in entries])
        for e in entries:
            self.state.apply(e, values)

    def _now(self) -> str:
        return self._clock().isoformat()

    def ensure_sheet(self, spec: SheetSpec) -> None:
        check_spec(spec)
        with self._writing():
            entry = sheet_entry(spec, self.state.specs.get(spec.form_id), self._now())
            if entry is not None:
                self._commit([entry])

    def append(self, form_id: str, values: dict[str, Any], *, actor: Actor, status: str,
               form_version: int = 1) -> Record:
        return self.append_batch([(form_id, values, status)], actor=actor, form_version=form_version)[0]

    def append_batch(self, items: Iterable[tuple[str, dict[str, Any], str]], *, actor: Actor,
                     form_version: int = 1) -> list[Record]:
        """Append rows to one or several forms as one log line with one fsync: every value is
        checked before anything is written, and a crash part-way leaves a torn line that no
        reader takes, so the rows are all durable or none is visible."""
        items = [(form_id, dict(values), status) for form_id, values, status in items]
        if not items:
            return []
        self.refresh()
        check_appends(items, self.state.labels)
        with self._writing():
            for form_id in dict.fromkeys(f for f, _, _ in items):
                if form_id not in self.state.specs:
                    raise NotFound(f"表单「{form_id}」还没有建立工作表（ensure_sheet），无法保存记录。")
            now = self._clock()
            entries = append_entries(items, actor=actor, form_version=form_version, now=now,
                                     taken=lambda f: self.state.rows[f])
            given = {e["id"]: values for e, (_, values, _) in zip(entries, items) if kept_as_given(values)}
            self._commit([batch_entry(entries, now.isoformat())], given)
            return [self.state.rows[e["form"]][e["id"]] for e in entries]

    def write_batch(self, appends: Iterable[tuple[str, dict[str, Any], str]], changes: Iterable[RowChange], *,
                    actor: Actor, form_version: int = 1) -> tuple[list[Record], list[Record]]:
        """New rows and changed rows as one log line with one fsync (see ``Store.write_batch``): every
        value checked and every revision compared under the log lock before the line is written."""
        appends = [(form_id, dict(values), status) for form_id, values, status in appends]
        changes = list(changes)
        self.refresh()
        check_appends(appends, self.state.labels)
        check_changes(changes, self.state.labels)
        with self._writing():
            for form_id in dict.fromkeys(f for f, _, _ in appends):
                if form_id not in self.state.specs:
                    raise NotFound(f"表单「{form_id}」还没有建立工作表（ensure_sheet），无法保存记录。")
            now = self._clock()
            rows = self.state.rows
            updates = change_entries(changes, lambda f, r: rows.get(f, {}).get(r), self.state.conflict_message,
                                     renamed=self.state.renamed, actor=actor, at=now.isoformat())
            added = append_entries(appends, actor=actor, form_version=form_version, now=now, taken=lambda f: rows[f])
            members = added + [e for e in updates if e is not None]
            if members:
                self._commit([batch_entry(members, now.isoformat())])
            return ([rows[e["form"]][e["id"]] for e in added],
                    [rows[c.form_id][c.row_id] for c in changes])

    def update(self, form_id: str, row_id: str, *, base_rev: int, actor: Actor,
               values: dict[str, Any] | None = None, status: str | None = None, note: str = "") -> Record:
        """Merge ``values`` (changed keys only are logged) and/or set ``status``. A call that changes
        nothing writes nothing and returns the current record."""
        return self.update_as(form_id, row_id, action=None, base_rev=base_rev, actor=actor, values=values,
                              status=status, note=note)

    def update_as(self, form_id: str, row_id: str, *, action: str | None, base_rev: int, actor: Actor,
                  values: dict[str, Any] | None = None, status: str | None = None, note: str = "") -> Record:
        """:meth:`update`, with the audit entry's action ``action`` (e.g. 外部编辑 for an edit imported
        from the workbook) instead of the one ``update`` derives."""
        values = dict(values or {})
        self.refresh()
        validate_values(values, self.state.labels(form_id))
        validate_values({"note": note})
        if status is not None:
            check_status(status)
        with self._writing():
            cur = self.state.rows.get(form_id, {}).get(row_id)
            if cur is None:
                raise NotFound(f"表单「{form_id}」中找不到记录 {row_id}。")
            if cur.rev != base_rev:
                raise ConflictError(self.state.conflict_message(form_id, row_id, base_rev), current=cur)
            # A key renamed away (a page on the old version of the form) is compared under its new key.
            entry = update_entry(cur, values=self.state.renamed(form_id, values), status=status, actor=actor, note=note, at=self._now(), action=action)
            if entry is None:
                return cur
            self._commit([entry])
            return self.state.rows[form_id][row_id]

    def rename_field(self, form_id: str, old_key: str, new_key: str, *, actor: Actor) -> None:
        """See ``Store.rename_field``: checked and written under the log lock, so no write slips in between."""
        with self._writing():
            entry = rename_entry(self.state, form_id, old_key, new_key, actor=actor, at=self._now())
            if entry is not None:
                self._commit([entry])

    def renamed_keys(self, form_id: str) -> dict[str, str]:
        self.refresh()
        with self._mutex:
            return dict(self.state.renames.get(form_id, {}))

    def log_event(self, actor: Actor, action: str, *, form_id: str = "", row_id: str = "", note: str = "") -> None:
        entry = event_entry(actor, action, form_id=form_id, row_id=row_id, note=note, at=self._now())
        with self._writing():
            self._commit([entry])

    # --- the workbook --------------------------------------------------------------------------

    def flush_workbook(self, timeout: float = 30.0) -> bool:
        """Wait until the workbook file reflects every change acknowledged so far (by any process).

        Returns False if that did not happen within ``timeout`` seconds. Without a background
        writer the workbook is written here and now.
        """
        self.refresh()
        target = self.log.offset
        if self._materialiser is None:
            materialise(self)
            return True
        deadline = time.monotonic() + timeout
        self.write_workbook_soon()
        while True:
            stamp = matching_stamp(self.workbook_path)
            if stamp and stamp["offset"] >= target:
                return True
            if time.monotonic() >= deadline:
                return False
            self._materialiser.ensure_running()
            time.sleep(0.05)

    def workbook_writer(self) -> subprocess.Popen[bytes] | None:
        """The background workbook writer's process while one runs (None without a background writer
        or before it started): for tests and tools that watch it, never to be written to."""
        return self._materialiser.proc if self._materialiser is not None else None

    def write_workbook_soon(self) -> None:
        """Ask the background writer to write the workbook now rather than after the debounce,
        without waiting for it (nothing to do without one)."""
        if self._materialiser is not None:
            self._materialiser.nudge()

    def replay(self, apply: Callable[[dict[str, Any]], None], upto: int) -> None:
        """Call ``apply`` on every log entry in the first ``upto`` bytes, oldest first (each member
        of a batch in turn), with a reader of its own (the store's view is left alone)."""
        reader = LogFile(self.log_path, self.log.lock.path)

        def apply_each(entry: dict[str, Any]) -> None:
            for member in unbatched(entry):
                apply(member)

        try:
            reader.read_new(apply_each, upto=upto)
        finally:
            reader.close()

    # --- lifecycle -----------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("存储已关闭，请刷新页面后重试。", code="store_closed")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the lock ``name`` across the threads AND the processes that share this data folder
        (a file lock, ``.<name>.lock``), so a check-then-write by two app servers is serialised too."""
        if not _LOCK_NAME.fullmatch(name):
            raise ValueError(f"lock name {name!r}")
        self._check_open()
        with self._mutex:
            lock = self._named_locks.get(name)
            if lock is None:
                lock = self._named_locks[name] = ProcessLock(self.data_dir / f".{name}.lock")
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def close(self) -> None:
        """Stop the background writer (it finishes a last write first) and release files."""
        if self._closed:
            return
        self._closed = True
        if self._materialiser is not None:
            self._materialiser.stop()
        with self._mutex:
            self.log.close()
            self.workbook_lock.close()
            for lock in self._named_locks.values():
                lock.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
