"""Delivery of new log entries to the spreadsheet: the submission queue and the writer thread.

* one writer thread commits pending entries in groups — one ``values.append`` to ``_log`` per
  flush, more when the group is larger than one request may be (``request_chunks``) — and
  patches the readable sheets when idle (or every few flushes under sustained load);
* the durable outbox: durable entries are in it before they are sent; when the spreadsheet
  stays unreachable past the retry budget their callers are answered "queued" (待同步) at
  once and the writer probes every ``offline_probe_seconds`` until delivery succeeds.

:class:`Delivery` is a part of :class:`lib.store.sheets.sync.SheetSync`, which sets up the state
it shares (the replay, the locks, the outbox) and reads the log and writes the views for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lib.core.records import Record
from lib.store.base import ConflictError, StoreError, Unavailable
from lib.store.codec import decode_values
from lib.store.sheets.client import SheetsConfig, SheetsDown, SheetsSession, request_chunks
from lib.store.sheets.log import Replay, encode_row, log_range
from lib.store.sheets.outbox import Outbox

log = logging.getLogger(__name__)

MAX_BATCH = 500  # entries per values.append
VIEW_EVERY = 4  # under sustained load, patch the view at least every this many log flushes
VIEW_IDLE_SECONDS = 0.5  # otherwise patch it once submissions pause this long
# Why a batch's commit applied none of its rows (the verdicts of lib.store.sheets.log), for its caller.
_BATCH_REFUSED = {"torn": "部分记录在提交标记之前缺失", "exists": "记录编号已被占用"}


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


class Delivery:
    """Sends submitted entries to ``_log`` from one writer thread; mixed into ``SheetSync``."""

    # Set up by SheetSync.__init__ (shared with the log reader and the view writer there).
    config: SheetsConfig
    session: SheetsSession
    http: Any
    replay: Replay
    state_lock: threading.RLock
    outbox: Outbox
    _sync: threading.Lock  # one reader of _log at a time
    _cv: threading.Condition  # the job queue
    _jobs: list[Job]
    _offline: bool
    _next_probe: float
    _closing: bool
    _dirty_rows: dict[tuple[str, str], int]
    _problems: dict[str, str]
    _view_retry_at: float
    _audit_written: int
    _flushes_since_view: int
    _last_flush: float
    _queued: set[str]  # eids whose caller was answered "待同步"

    # --- entries waiting to be sent ---------------------------------------------------------

    def pending_entries(self, form_id: str | None = None, *, queued_only: bool = False) -> list[dict[str, Any]]:
        with self.state_lock:
            return [e for e in self.outbox.pending()
                    if e["eid"] not in self.replay.outcome and (form_id is None or e.get("form") == form_id)
                    and (not queued_only or e["eid"] in self._queued)]

    def pending(self, form_id: str | None = None) -> list[QueuedRecord]:
        """Rows accepted on this machine and still waiting to reach the spreadsheet (待同步)."""
        return [queued_record(e) for e in self.pending_entries(form_id, queued_only=True) if e["op"] == "append"]

    def submit(self, entries: list[dict[str, Any]], *, wait: bool, durable: bool = True) -> list[Job]:
        if self._closing:
            raise Unavailable("存储已关闭，请刷新页面后重试。")
        for e in entries:
            e.setdefault("eid", secrets.token_hex(8))  # migration brings its own, stable ones
            with self.state_lock:
                labels = self.replay.state.labels(e["form"]) if e.get("values") else {}
            encode_row(e, labels)  # refuse an entry too big for the log before anything is written
        if durable:
            self.outbox.add(entries)
        jobs = [Job(e, durable) for e in entries]
        self._enqueue(jobs)
        if wait:
            deadline = time.monotonic() + self.config.submit_wait_seconds
            for job in jobs:
                job.done.wait(None if not durable else max(0.0, deadline - time.monotonic()))
            if durable:
                with self.state_lock:
                    self._queued.update(j.entry["eid"] for j in jobs if j.entry["eid"] not in self.replay.outcome)
        return jobs

    def _enqueue(self, jobs: list[Job]) -> None:
        with self._cv:
            for job in jobs:
                if job.durable and self._offline:
                    job.done.set()  # known unreachable: the caller gets a QueuedRecord at once
            self._jobs.extend(jobs)
            self._cv.notify_all()

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
        view_work = ((self._dirty_rows or self._audit_written < len(self.replay.state.audit))
                     and time.monotonic() >= self._view_retry_at)
        quiet = time.monotonic() - self._last_flush >= VIEW_IDLE_SECONDS
        # Keep a write in hand for the next submission: the view can always wait a little.
        spare = self.session.gate.available("write") >= 2 or self._closing
        if view_work and quiet and spare and (not self._offline or time.monotonic() >= self._next_probe):
            return []
        return None

    def _flush(self, batch: list[Job]) -> None:
        try:
            self._deliver(batch)
        except Unavailable as err:
            with self._cv:
                self._go_offline()
                for job in batch:
                    if not job.durable:
                        job.error = Unavailable(f"{err} 本次修改可能未保存，请稍后刷新页面查看后再试。")
                        self._jobs.remove(job)
                    job.done.set()
            if not isinstance(err, SheetsDown):  # refused, not unreachable: say so until it goes through
                with self.state_lock:
                    self._problems["log"] = f"Google 表格拒绝写入，{len(self.outbox)} 条记录在本机待同步：{err}"
            log.warning("delivery to Google Sheets failed; %d entries wait in the outbox: %s", len(self.outbox), err)
            return
        with self._cv:
            self._offline = False
        with self.state_lock:
            self._problems.pop("log", None)
        self._flushes_since_view += 1
        self._last_flush = time.monotonic()
        if self._flushes_since_view >= VIEW_EVERY:
            self._write_views()

    def _go_offline(self) -> None:
        self._offline = True
        self._next_probe = time.monotonic() + self.config.offline_probe_seconds

    def _deliver(self, batch: list[Job]) -> None:
        fresh = self._settle(batch, precheck=True)
        if not fresh:
            return
        with self.state_lock:  # a batch sent again after a cut: its members already in _log stay held there
            held = self.replay.held
            rows = [encode_row(j.entry) for j in fresh if j.entry["eid"] not in held.get(j.entry.get("batch", ""), ())]
        for chunk in request_chunks(rows, max_items=MAX_BATCH):
            self._send_halving(self._append_log, chunk)
        self._settle(fresh, precheck=False)

    def _append_log(self, rows: list[list[str]]) -> None:
        """One ``values.append`` of ``rows`` to ``_log``, then apply them (and anything another
        app process wrote before them) to the replay."""
        reply = self._call(self.http.values_append, log_range(),
                           params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                           body={"values": rows})
        first = int(re.search(r"![A-Z]+(\d+)", reply["updates"]["updatedRange"]).group(1))
        with self._sync:
            if self.replay.rows_read < first - 1:
                self._read_log_tail()  # another app process wrote in between: read its entries first
            else:
                with self.state_lock:
                    self._mark_dirty(self.replay.apply_rows(first, rows))
        if self.replay.rows_read < first + len(rows) - 1:
            raise Unavailable("写入 Google 表格后读回的日志不完整，请稍后重试。")

    def _settle(self, batch: list[Job], *, precheck: bool) -> list[Job]:
        """Finish jobs whose fate the log already decides; return the rest (to be sent).

        With ``precheck`` an update already stale against the rows read so far fails before
        it is sent; without it every job's entry is in the log and is finished here.
        """
        finished, rest, delivered = [], [], []
        with self.state_lock:
            expected: dict[tuple[str, str], int] = {}
            for job in batch:
                e = job.entry
                verdict = self.replay.outcome.get(e["eid"])
                if verdict is None and precheck and e["op"] == "update":
                    key = (e["form"], e["id"])
                    cur = self.replay.state.rows.get(e["form"], {}).get(e["id"])
                    if e["rev"] != expected.get(key, cur.rev if cur else 0) + 1:
                        verdict = "stale"
                    expected[key] = e["rev"]
                elif verdict is None and e["op"] == "append":
                    expected[(e["form"], e["id"])] = 1  # an update later in this batch builds on it
                if verdict is None:
                    rest.append(job)
                    continue
                job.result, job.error = self._result(e, verdict)
                finished.append(job)
                if job.durable:
                    delivered.append(e["eid"])
        self.outbox.done(delivered)
        with self._cv:
            for job in finished:
                if job in self._jobs:
                    self._jobs.remove(job)
                job.done.set()
        return rest

    def _result(self, e: dict[str, Any], verdict: str) -> tuple[Record | None, StoreError | None]:
        rows = self.replay.state.rows.get(e.get("form", ""), {})
        if e["op"] not in ("append", "update"):
            return None, None
        if e.get("batch") and verdict != "ok":
            why = _BATCH_REFUSED.get(verdict, "内容无效")
            return None, Unavailable(f"这批记录未能完整写入 Google 表格（{why}），整批未保存，请重新提交。")
        cur = rows.get(e["id"])
        if verdict == "stale":
            base = e["rev"] - 1
            return None, ConflictError(self.replay.state.conflict_message(e["form"], e["id"], base), current=cur)
        if e["op"] == "update" and cur is not None and cur.rev > e["rev"]:
            # Later versions already landed; answer with the version this entry made.
            return _version(cur, e), None
        return cur, None


def whole_batches(jobs: list[Job], limit: int) -> list[Job]:
    """The first ``limit`` jobs, or more so as not to cut a batch from its commit: a batch's
    members get no verdict before their commit is read, so they must go out in one flush."""
    end = min(limit, len(jobs))
    while 0 < end < len(jobs) and jobs[end - 1].entry.get("batch") and jobs[end - 1].entry["op"] != "commit":
        end += 1
    return jobs[:end]


def queued_record(e: dict[str, Any]) -> QueuedRecord:
    at = dt.datetime.fromisoformat(e["at"])
    actor = e["actor"]
    return QueuedRecord(e["form"], e["id"], 1, e["status"], e.get("fv", 1), actor["account"], actor.get("org", ""),
                        actor.get("city", ""), at, at, actor["account"], decode_values(e["values"]))


def _version(cur: Record, e: dict[str, Any]) -> Record:
    """The record as entry ``e`` left it, when later versions have already been applied."""
    return Record(cur.form_id, cur.id, e["rev"], e.get("status", cur.status), cur.form_version, cur.owner, cur.org,
                  cur.city, cur.created_at, dt.datetime.fromisoformat(e["at"]), e["actor"]["account"],
                  {**cur.values, **decode_values(e.get("values", {}))})

