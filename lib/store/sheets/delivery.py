"""Delivery of new log entries to the spreadsheet: the submission queue and the writer thread.

* one writer thread commits pending entries in groups — one ``values.append`` to ``_log`` per
  flush, more when the group is larger than one request may be (``request_chunks``) — and
  patches the readable sheets when idle (or every few flushes under sustained load);
* the durable outbox: durable entries are in it before they are sent; when the spreadsheet
  stays unreachable past the retry budget their callers are answered "queued" (待同步) at
  once and the writer probes every ``offline_probe_seconds`` until delivery succeeds.

:class:`Delivery` owns the queue, the writer thread, the outbox and whether the spreadsheet is
reachable. It reads the log and writes the views only through the :class:`Engine` interface of
the object that owns it (:class:`lib.store.sheets.sync.SheetSync`).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from lib.core.records import Record
from lib.store.base import StoreError, Unavailable
from lib.store.codec import decode_values
from lib.store.sheets.client import SheetsConfig, SheetsDown, request_chunks, send_halving
from lib.store.sheets.log import Fate, encode_row
from lib.store.sheets.outbox import Outbox

log = logging.getLogger(__name__)

MAX_BATCH = 500  # entries per values.append
VIEW_EVERY = 4  # under sustained load, patch the view at least every this many log flushes
VIEW_IDLE_SECONDS = 0.5  # otherwise patch it once submissions pause this long

#: How a pass over the readable sheets ended (see :meth:`Engine.write_views`).
ViewsOutcome = Literal["done", "interrupted", "down", "refused"]


class QueuedRecord(Record):
    """A record kept in the local outbox: durable on this machine, not yet in the spreadsheet.

    The UI shows it as 待同步; it is delivered by the store once the spreadsheet answers again.
    """

    pending = True


@dataclass(eq=False)
class Job:
    """One entry on its way to ``_log``; ``done`` is set once its caller can be answered."""

    entry: dict[str, Any]
    durable: bool  # in the outbox: a failed delivery queues it instead of failing the caller
    done: threading.Event = field(default_factory=threading.Event)
    result: Record | None = None
    error: StoreError | None = None


class Engine(Protocol):
    """What the writer needs from the engine that owns it: the log as read so far, one write to
    ``_log``, and the readable sheets. Each method takes the engine's own locks."""

    def labels(self, form_id: str) -> dict[str, str]:
        """Field key -> label of a form, to name a field in an error."""
        ...

    def logged(self, eids: Iterable[str]) -> set[str]:
        """Those of ``eids`` the log has already decided."""
        ...

    def fates(self, entries: list[dict[str, Any]], *, precheck: bool) -> list[Fate | None]:
        """Each entry's answer where the log decides it, else None (see ``Replay.fates``)."""
        ...

    def log_rows(self, entries: list[dict[str, Any]]) -> list[list[str]]:
        """The ``_log`` rows still to send for ``entries``."""
        ...

    def append_log(self, rows: list[list[str]]) -> None:
        """One ``values.append`` of ``rows`` to ``_log``, then read them into the log's state."""
        ...

    def view_work_due(self) -> bool:
        """The readable sheets are behind the log and may be written now."""
        ...

    def write_views(self, interrupted: Callable[[], bool]) -> ViewsOutcome:
        """Patch the readable sheets; stop early when ``interrupted()``."""
        ...

    def writes_available(self) -> float:
        """Writes the quota allows right now."""
        ...


class Delivery:
    """Sends submitted entries to ``_log`` from one writer thread (started here, stopped by :meth:`close`).

    ``outbox`` is this store's outbox; undelivered entries of outboxes left by ended processes are
    adopted and sent first.
    """

    def __init__(self, engine: Engine, outbox: Outbox, config: SheetsConfig):
        self.outbox = outbox
        self._engine = engine
        self._config = config
        self._cv = threading.Condition(threading.Lock())  # guards every attribute below but the writer's own
        self._jobs: list[Job] = []
        self._offline = False
        self._next_probe = 0.0
        self._closing = False
        self._problem = ""  # why Google refused the log write, in Chinese; "" once a write goes through
        self._queued: set[str] = set()  # eids whose caller was answered "待同步"
        # The writer thread's own bookkeeping.
        self._flushes_since_view = 0
        self._last_flush = 0.0
        for entry in outbox.adopt_orphans():
            self._queued.add(entry["eid"])
            self._enqueue([Job(entry, durable=True)])
        self._writer = threading.Thread(target=self._run, name="sheets-writer", daemon=True)
        self._writer.start()

    # --- entries waiting to be sent ---------------------------------------------------------

    def pending_entries(self, form_id: str | None = None, *, queued_only: bool = False) -> list[dict[str, Any]]:
        """Entries in the outbox the log has not decided yet (``queued_only``: those answered 待同步)."""
        entries = self.outbox.pending()
        logged = self._engine.logged(e["eid"] for e in entries)
        with self._cv:
            queued = set(self._queued) if queued_only else set()
        return [e for e in entries
                if e["eid"] not in logged and (form_id is None or e.get("form") == form_id)
                and (not queued_only or e["eid"] in queued)]

    def pending(self, form_id: str | None = None) -> list[QueuedRecord]:
        """Rows accepted on this machine and still waiting to reach the spreadsheet (待同步)."""
        return [queued_record(e) for e in self.pending_entries(form_id, queued_only=True) if e["op"] == "append"]

    def submit(self, entries: list[dict[str, Any]], *, wait: bool, durable: bool = True) -> list[Job]:
        """Queue ``entries`` for ``_log`` (``durable``: in the outbox first); with ``wait``, return once
        each is answered or, for durable ones, ``submit_wait_seconds`` have passed (then 待同步)."""
        if self._closing:
            raise Unavailable("存储已关闭，请刷新页面后重试。", code="store_closed")
        for e in entries:
            e.setdefault("eid", secrets.token_hex(8))  # migration brings its own, stable ones
            # Refuse an entry too big for the log before anything is written.
            encode_row(e, self._engine.labels(e["form"]) if e.get("values") else {})
        if durable:
            self.outbox.add(entries)
        jobs = [Job(e, durable) for e in entries]
        self._enqueue(jobs)
        if wait:
            deadline = time.monotonic() + self._config.submit_wait_seconds
            for job in jobs:
                job.done.wait(None if not durable else max(0.0, deadline - time.monotonic()))
            if durable:
                logged = self._engine.logged(j.entry["eid"] for j in jobs)
                with self._cv:
                    self._queued.update(j.entry["eid"] for j in jobs if j.entry["eid"] not in logged)
        return jobs

    def _enqueue(self, jobs: list[Job]) -> None:
        with self._cv:
            for job in jobs:
                if job.durable and self._offline:
                    job.done.set()  # known unreachable: the caller gets a QueuedRecord at once
            self._jobs.extend(jobs)
            self._cv.notify_all()

    def has_jobs(self) -> bool:
        """Entries wait to be sent."""
        with self._cv:
            return bool(self._jobs)

    def busy(self) -> bool:
        """Like :meth:`has_jobs`, and wakes the writer so that it looks for work (view work) at once."""
        with self._cv:
            self._cv.notify_all()
            return bool(self._jobs)

    def problem(self) -> str:
        """Why Google refuses the log write (Chinese), while it does; else ""."""
        with self._cv:
            return self._problem

    # --- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cv:
                batch = self._next_batch()
                while batch is None:
                    if self._closing:
                        return
                    self._cv.wait(0.2)
                    batch = self._next_batch()
            if batch:
                self._flush(batch)
            else:
                self._write_views()

    def _next_batch(self) -> list[Job] | None:
        """Jobs to send now, [] for view work, None for nothing to do (caller holds ``_cv``)."""
        if self._jobs:
            urgent = any(not j.durable for j in self._jobs)
            if not self._offline or urgent or time.monotonic() >= self._next_probe:
                if self._closing and self._offline and not urgent:
                    return None
                return whole_batches(self._jobs, MAX_BATCH)
        view_work = self._engine.view_work_due()
        quiet = time.monotonic() - self._last_flush >= VIEW_IDLE_SECONDS
        # Keep a write in hand for the next submission: the view can always wait a little.
        spare = self._engine.writes_available() >= 2 or self._closing
        if view_work and quiet and spare and (not self._offline or time.monotonic() >= self._next_probe):
            return []
        return None

    def _write_views(self) -> None:
        self._flushes_since_view = 0
        outcome = self._engine.write_views(self.has_jobs)
        if outcome == "down":
            with self._cv:
                self._go_offline()
        elif outcome == "done":
            with self._cv:
                self._offline = False

    def _flush(self, batch: list[Job]) -> None:
        try:
            self._deliver(batch)
        except Unavailable as err:
            with self._cv:
                self._go_offline()
                for job in batch:
                    if not job.durable:
                        job.error = Unavailable(f"{err} 本次修改可能未保存，请稍后刷新页面查看后再试。",
                                                code="sheets_write_lost")
                        self._jobs.remove(job)
                    job.done.set()
                if not isinstance(err, SheetsDown):  # refused, not unreachable: say so until it goes through
                    self._problem = f"Google 表格拒绝写入，{len(self.outbox)} 条记录在本机待同步：{err}"
            log.warning("delivery to Google Sheets failed; %d entries wait in the outbox: %s", len(self.outbox), err)
            return
        with self._cv:
            self._offline = False
            self._problem = ""
        self._flushes_since_view += 1
        self._last_flush = time.monotonic()
        if self._flushes_since_view >= VIEW_EVERY:
            self._write_views()

    def _go_offline(self) -> None:
        """Caller holds ``_cv``."""
        self._offline = True
        self._next_probe = time.monotonic() + self._config.offline_probe_seconds

    def _deliver(self, batch: list[Job]) -> None:
        fresh = self._settle(batch, precheck=True)
        if not fresh:
            return
        rows = self._engine.log_rows([j.entry for j in fresh])
        for chunk in request_chunks(rows, max_items=MAX_BATCH):
            send_halving(self._engine.append_log, chunk)
        self._settle(fresh, precheck=False)

    def _settle(self, batch: list[Job], *, precheck: bool) -> list[Job]:
        """Finish jobs whose fate the log already decides; return the rest (to be sent).

        With ``precheck`` an update already stale against the rows read so far fails before
        it is sent; without it every job's entry is in the log and is finished here.
        """
        finished, rest, delivered = [], [], []
        for job, fate in zip(batch, self._engine.fates([j.entry for j in batch], precheck=precheck), strict=True):
            if fate is None:
                rest.append(job)
                continue
            job.result, job.error = fate
            finished.append(job)
            if job.durable:
                delivered.append(job.entry["eid"])
        self.outbox.done(delivered)
        with self._cv:
            for job in finished:
                if job in self._jobs:
                    self._jobs.remove(job)
                job.done.set()
        return rest

    def close(self) -> None:
        """Stop the writer (it first sends what it can) and close the outbox. Idempotent."""
        with self._cv:
            if self._closing:
                return
            self._closing = True
            self._cv.notify_all()
        self._writer.join(timeout=self._config.request_timeout_seconds * 2)
        self.outbox.close()


def whole_batches(jobs: list[Job], limit: int) -> list[Job]:
    """The first ``limit`` jobs, or more so as not to cut a batch from its commit: a batch's
    members get no verdict before their commit is read, so they must go out in one flush."""
    end = min(limit, len(jobs))
    while 0 < end < len(jobs) and jobs[end - 1].entry.get("batch") and jobs[end - 1].entry["op"] != "commit":
        end += 1
    return jobs[:end]


def queued_record(e: dict[str, Any]) -> QueuedRecord:
    """The record a queued append entry will make, shown as 待同步 until it is delivered."""
    at = dt.datetime.fromisoformat(e["at"])
    actor = e["actor"]
    return QueuedRecord(e["form"], e["id"], 1, e["status"], e.get("fv", 1), actor["account"], actor.get("org", ""),
                        actor.get("city", ""), at, at, actor["account"], decode_values(e["values"]))
