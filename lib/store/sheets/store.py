"""Google Sheets as the shared store.

Shape (reasoning and measured figures: ``notes/sheets.md``):

* a hidden ``_log`` sheet is the truth: an append-only log of row versions in the local log's
  format (``lib.store.sheets.log``), read by every app process with the same "first version
  wins" rules, so two app servers on one spreadsheet agree without transactions;
* one readable sheet per form plus ``_audit`` are a view patched from the log
  (``lib.store.sheets.view``); nothing is read back from them;
* writes are group-committed by one writer thread (``lib.store.sheets.delivery``) and reads are
  served from memory, refreshed at most every ``cache_seconds`` (``lib.store.sheets.sync``), which
  keeps an app process inside the 60 reads / 60 writes a minute quota;
* every submission is first written to a durable local outbox (``lib.store.sheets.outbox``);
  when the spreadsheet stays unreachable past the retry budget the append returns a
  :class:`QueuedRecord` (shown as 待同步) that is delivered once the sheet is back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from lib.core.records import Actor, AuditEntry, Record, is_pending
from lib.store.base import ConflictError, NotFound, RowChange, SheetSpec, Store, Unavailable, matcher
from lib.store.codec import validate_values
from lib.store.entries import (
    append_entries,
    change_entries,
    check_appends,
    check_changes,
    check_spec,
    check_status,
    event_entry,
    rename_entry,
    sheet_entry,
    update_entry,
)
from lib.store.sheets.client import SheetsConfig
from lib.store.sheets.delivery import QueuedRecord, queued_record
from lib.store.sheets.log import log_batch
from lib.store.sheets.sync import SheetSync

__all__ = ["QueuedRecord", "SheetsStore", "is_pending", "open_sheets_store"]  # is_pending re-exported from base


def open_sheets_store(secrets_table: Mapping[str, Any], data_dir: Path, **kw: Any) -> SheetsStore:
    """Open the Google Sheets store the ``[gsheets]`` secrets table describes.

    ``data_dir`` holds the local outbox. Raises Unavailable (with a Chinese message naming what
    to fix) when the settings are incomplete or the spreadsheet cannot be opened.
    """
    return SheetsStore(SheetsConfig.from_table(secrets_table), Path(data_dir), **kw)


class SheetsStore(Store):
    """The :class:`Store` on one Google spreadsheet. ``clock`` stamps changes (tests pin it);
    ``cache_clock`` measures the cache period in monotonic seconds (tests step it)."""

    def __init__(self, config: SheetsConfig, data_dir: Path, *, credentials: Any = None,
                 clock: Callable[[], dt.datetime] | None = None, cache_clock: Callable[[], float] = time.monotonic):
        self.config = config
        self._clock = clock or dt.datetime.now
        self.sync = SheetSync(config, Path(data_dir), credentials=credentials, cache_clock=cache_clock)

    def refresh(self) -> None:
        """See every change other app processes made so far (one read of the spreadsheet)."""
        self.sync.refresh()

    def pending(self, form_id: str | None = None) -> list[QueuedRecord]:
        """Rows accepted on this machine and still waiting to reach the spreadsheet (待同步); one queued before
        a field was renamed reads under the new key, as it will once delivered."""
        queued = self.sync.pending(form_id)
        with self.sync.reading() as log:
            state = log.state
            return [dataclasses.replace(r, values=state.renamed(r.form_id, r.values)) if r.form_id in state.renames else r
                    for r in queued]

    def problems(self) -> list[str]:
        """What the spreadsheet refused and this app keeps trying (Chinese, for an admin banner);
        empty when every accepted change is in the spreadsheet or merely waiting for the network."""
        return self.sync.problems()

    def records(self, form_id: str) -> list[Record]:
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            recs: list[Record] = list(log.state.rows.get(form_id, {}).values())
        return recs + self.pending(form_id)

    def snapshot(self, form_id: str) -> pd.DataFrame:
        self.sync.refresh(force=False)
        if self.pending(form_id):
            return super().snapshot(form_id)
        with self.sync.reading() as log:
            return log.state.frame(form_id)

    def get(self, form_id: str, row_id: str) -> Record:
        self.sync.refresh(force=False)
        for attempt in range(2):
            rec = self._current(form_id, row_id)
            if rec is not None:
                return rec
            queued = [r for r in self.pending(form_id) if r.id == row_id]
            if queued:
                return queued[0]
            if attempt == 0:
                self.sync.refresh()  # perhaps another app process wrote it within the cache period
        raise NotFound(f"表单「{form_id}」中找不到记录 {row_id}。")

    def audit(self, form_id: str | None = None, row_id: str | None = None) -> list[AuditEntry]:
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            rows = log.state.audit_rows(form_id, row_id)
        return [a.entry() for a in rows]

    def audit_since(self, start: int) -> list[AuditEntry]:
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            rows = log.state.audit[start:]
        return [a.entry() for a in rows]

    def audit_count(self) -> int:
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            return len(log.state.audit)

    def records_where(self, form_id: str, any_of: Mapping[str, Iterable[str]] | None = None, *,
                      statuses: Iterable[str] | None = None) -> list[Record]:
        """The stored rows from the log's indexes, then the rows waiting for the spreadsheet that match (as ``records``)."""
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            recs = log.state.where(form_id, any_of, statuses)
        match = matcher(any_of, statuses)
        return recs + [r for r in self.pending(form_id) if match(r)]

    def last_moves(self, form_id: str, status: str) -> dict[str, AuditEntry]:
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            moves = log.state.last_moves(form_id, status)
        return {rid: a.entry() for rid, a in moves.items()}

    def sheet_spec(self, form_id: str) -> SheetSpec | None:
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            return log.state.specs.get(form_id)

    # --- writing -------------------------------------------------------------------------------

    def _now(self) -> str:
        return self._clock().isoformat()

    def ensure_sheet(self, spec: SheetSpec) -> None:
        check_spec(spec)
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            entry = sheet_entry(spec, log.state.specs.get(spec.form_id), self._now())
        if entry is not None:
            self.sync.submit([entry], wait=True)

    def append(self, form_id: str, values: dict[str, Any], *, actor: Actor, status: str,
               form_version: int = 1) -> Record:
        return self.append_batch([(form_id, values, status)], actor=actor, form_version=form_version)[0]

    def append_batch(self, items: Iterable[tuple[str, dict[str, Any], str]], *, actor: Actor,
                     form_version: int = 1) -> list[Record]:
        """Add rows to one or several forms as one change (see ``sheets_log``: members, then a
        commit written last, so readers see all of them or none). Returns once they are in the
        spreadsheet, or — when it stays unreachable — in the local outbox, as
        :class:`QueuedRecord` (待同步) until the whole batch is delivered."""
        items = [(form_id, dict(values), status) for form_id, values, status in items]
        if not items:
            return []
        forms = list(dict.fromkeys(f for f, _, _ in items))
        with self.sync.reading() as log:
            undeclared = any(f not in log.state.specs for f in forms)
        if undeclared:
            self.sync.refresh(force=False)  # perhaps another app process declared it (no read on the hot path)
        with self.sync.reading() as log:
            state = log.state
            labels = {f: state.labels(f) for f in forms}
            taken = {f: state.rows.get(f, {}) for f in forms}
            unknown = [f for f in forms if f not in state.specs]
        check_appends(items, labels.__getitem__)
        self._declared(unknown)
        now = self._clock()
        entries = append_entries(items, actor=actor, form_version=form_version, now=now, taken=taken.__getitem__)
        jobs = self.sync.submit(log_batch(entries, now.isoformat()), wait=True)
        rows = [job for job in jobs if job.entry["op"] == "append"]
        for job in rows:
            if job.error is not None:
                raise job.error
        return [job.result if job.result is not None else queued_record(job.entry) for job in rows]

    def write_batch(self, appends: Iterable[tuple[str, dict[str, Any], str]], changes: Iterable[RowChange], *,
                    actor: Actor, form_version: int = 1) -> tuple[list[Record], list[Record]]:
        """New rows and changed rows as one change of ``_log`` (see ``sheets_log``: the commit applies
        every member or none, an update stale by then refusing them all). Revisions are compared against
        the log read now; a change that lost a race meanwhile is answered with ConflictError. Never
        queued in the outbox: a change of a row read now cannot wait for a later delivery, so an
        unreachable spreadsheet is an error here (nothing written)."""
        appends = [(form_id, dict(values), status) for form_id, values, status in appends]
        changes = list(changes)
        if not appends and not changes:
            return [], []
        self.sync.refresh(force=bool(changes))
        forms = list(dict.fromkeys([f for f, _, _ in appends] + [c.form_id for c in changes]))
        with self.sync.reading() as log:
            state = log.state
            labels = {f: state.labels(f) for f in forms}
            taken = {f: state.rows.get(f, {}) for f in forms}
            unknown = [f for f, _, _ in appends if f not in state.specs]
            now = self._clock()
            updates = change_entries(changes, lambda f, r: state.rows.get(f, {}).get(r), state.conflict_message,
                                     renamed=state.renamed, actor=actor, at=now.isoformat())
        check_appends(appends, labels.__getitem__)
        check_changes(changes, labels.__getitem__)
        self._declared(unknown)
        added = append_entries(appends, actor=actor, form_version=form_version, now=now, taken=taken.__getitem__)
        members = added + [e for e in updates if e is not None]
        jobs = self.sync.submit(log_batch(members, now.isoformat()), wait=True, durable=False) if members else []
        answered = [job for job in jobs if job.entry["op"] in ("append", "update")]
        errors = [job.error for job in answered if job.error is not None]
        if errors:  # a stale member's conflict says why the others were refused with it
            raise next((e for e in errors if isinstance(e, ConflictError)), errors[0])
        results = {(job.entry["form"], job.entry["id"]): job.result for job in answered}
        with self.sync.reading() as log:
            rows = log.state.rows
            return ([results[(e["form"], e["id"])] for e in added],
                    [results.get((c.form_id, c.row_id)) or rows[c.form_id][c.row_id] for c in changes])

    def update(self, form_id: str, row_id: str, *, base_rev: int, actor: Actor,
               values: dict[str, Any] | None = None, status: str | None = None, note: str = "") -> Record:
        """Change a row last read at ``base_rev``. The writer re-checks the revision against the
        log right after writing; a lost race raises ConflictError like a stale ``base_rev``."""
        values = dict(values or {})
        self.sync.refresh(force=False)
        labels = self.sync.labels(form_id)
        validate_values(values, labels)
        validate_values({"note": note})
        if status is not None:
            check_status(status)
        cur = self._current(form_id, row_id)
        if cur is None or base_rev > cur.rev:
            self.sync.refresh()
            cur = self._current(form_id, row_id)
        if cur is None:
            if any(r.id == row_id for r in self.pending(form_id)):
                raise Unavailable(f"记录 {row_id} 还在本机待同步，尚未写入 Google 表格；同步完成后才能修改。",
                                  code="pending_sync")
            raise NotFound(f"表单「{form_id}」中找不到记录 {row_id}。")
        if cur.rev != base_rev:
            with self.sync.reading() as log:
                message = log.state.conflict_message(form_id, row_id, base_rev)
            raise ConflictError(message, current=cur)
        with self.sync.reading() as log:  # a key renamed away (a page on the old version) is compared under its new key
            values = log.state.renamed(form_id, values)
        entry = update_entry(cur, values=values, status=status, actor=actor, note=note, at=self._now())
        if entry is None:
            return cur
        job, = self.sync.submit([entry], wait=True, durable=False)
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def rename_field(self, form_id: str, old_key: str, new_key: str, *, actor: Actor) -> None:
        """See ``Store.rename_field``: checked against the log read now, then checked again by every replay
        of ``_log`` where the entry lands (another server's answer under ``new_key`` in between refuses it:
        InvalidValue ``rename_target_has_values``). Never queued in the outbox: a publish needs its answer."""
        self.sync.refresh()
        with self.sync.reading() as log:
            entry = rename_entry(log.state, form_id, old_key, new_key, actor=actor, at=self._now())
        if entry is None:
            return
        job, = self.sync.submit([entry], wait=True, durable=False)
        if job.error is not None:
            raise job.error

    def renamed_keys(self, form_id: str) -> dict[str, str]:
        self.sync.refresh(force=False)
        with self.sync.reading() as log:
            return dict(log.state.renames.get(form_id, {}))

    def log_event(self, actor: Actor, action: str, *, form_id: str = "", row_id: str = "", note: str = "") -> None:
        entry = event_entry(actor, action, form_id=form_id, row_id=row_id, note=note, at=self._now())
        self.sync.submit([entry], wait=False)

    def _declared(self, unknown: Iterable[str]) -> None:
        """NotFound for the first of ``unknown`` (forms the log read has no sheet for) that no sheet entry
        waiting to be delivered declares either."""
        for form_id in dict.fromkeys(unknown):
            if not any(e["op"] == "sheet" for e in self.sync.pending_entries(form_id)):
                raise NotFound(f"表单「{form_id}」还没有建立工作表（ensure_sheet），无法保存记录。")

    def _current(self, form_id: str, row_id: str) -> Record | None:
        with self.sync.reading() as log:
            return log.state.rows.get(form_id, {}).get(row_id)

    def rebuild_views(self) -> None:
        """Rewrite every readable sheet from the log (after a person edited or sorted them)."""
        self.sync.rebuild_views()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every accepted entry is in the spreadsheet and the readable sheets are patched."""
        return self.sync.wait_idle(timeout)

    def close(self) -> None:
        self.sync.close()
