"""The engine under the Google Sheets store: the log replay, the writer thread, the outbox, the views.

:class:`SheetSync` owns everything that talks to the spreadsheet:

* reads of ``_log`` (at open, then incrementally: at most one per ``cache_seconds`` for readers,
  plus one when another app process wrote between this one's reads and its append);
* one writer thread that commits pending entries in groups — one ``values.append`` to ``_log``
  per flush — and patches the readable sheets with one ``values.batchUpdate`` when idle (or
  every few flushes under sustained load);
* the durable outbox: durable entries are in it before they are sent; when the spreadsheet
  stays unreachable past the retry budget their callers are answered "queued" (待同步) at
  once and the writer probes every ``offline_probe_seconds`` until delivery succeeds.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gspread
from gspread.exceptions import APIError

from lib.store.base import ConflictError, Record, StoreError, Unavailable
from lib.store.codec import decode_values
from lib.store.sheets_client import SheetsConfig, SheetsDown, SheetsSession, build_credentials
from lib.store.sheets_log import LOG_COLUMNS, LOG_SHEET, Replay, decode_row, encode_row
from lib.store.sheets_outbox import Outbox
from lib.store.sheets_view import AUDIT_HEADER, AUDIT_SHEET, col_letters, plan_views

log = logging.getLogger(__name__)

MAX_BATCH = 500  # entries per values.append
VIEW_EVERY = 4  # under sustained load, patch the view at least every this many log flushes
VIEW_IDLE_SECONDS = 0.5  # otherwise patch it once submissions pause this long
_LOG_RANGE = f"{LOG_SHEET}!A1:{col_letters(LOG_COLUMNS - 1)}"


class QueuedRecord(Record):
    """A record kept in the local outbox: durable on this machine, not yet in the spreadsheet.

    The UI shows it as 待同步; it is delivered by the store once the spreadsheet answers again.
    """

    pending = True


@dataclass(eq=False)
class _Job:
    entry: dict[str, Any]
    durable: bool  # in the outbox: a failed delivery queues it instead of failing the caller
    done: threading.Event = field(default_factory=threading.Event)
    result: Record | None = None
    error: StoreError | None = None


class SheetSync:
    """Keeps a :class:`Replay` of one spreadsheet's ``_log`` and sends new entries to it."""

    def __init__(self, config: SheetsConfig, data_dir: Path, *, credentials: Any = None):
        self.config = config
        self.key = config.spreadsheet_key
        self.session = SheetsSession(credentials or build_credentials(config), config)
        self.http = gspread.Client(None, session=self.session).http_client  # type: ignore[arg-type]
        self.replay = Replay()
        self.state_lock = threading.RLock()  # the replay and the bookkeeping below
        self.state_lock = threading.RLock()  # the replay and the bookkeeping below
        self._sync = threading.Lock()  # one reader of _log at a time, so rows apply in order
        self._cv = threading.Condition(threading.Lock())  # the job queue
        self._jobs: list[_Job] = []
        self._offline = False
        self._next_probe = 0.0
        self._closing = False
        self._last_refresh = float("-inf")
        self._grid: dict[str, list[int]] = {}  # sheet title -> [sheetId, rows, columns]
        self._dirty_rows: dict[tuple[str, str], None] = {}
        self._audit_written = 0
        self._headers: dict[str, int] = {}
        self._flushes_since_view = 0
        self._last_flush = 0.0
        self._queued: set[str] = set()  # eids whose caller was answered "待同步"
        self._open_sheets()
        with self._sync:
            self._read_log_tail()
        self.outbox = Outbox(Path(data_dir) / "sheets_outbox" / re.sub(r"[^0-9A-Za-z_-]", "_", self.key))
        for entry in self.outbox.adopt_orphans():
            self._queued.add(entry["eid"])
            self._enqueue([_Job(entry, durable=True)])
        self._writer = threading.Thread(target=self._run, name="sheets-writer", daemon=True)
        self._writer.start()

    # --- talking to the spreadsheet --------------------------------------------------------------

    def _call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            return fn(self.key, *args, **kw)
        except APIError as err:
            raise self._refused(err) from err

    def _refused(self, err: APIError) -> Unavailable:
        code, message = err.code, err.error.get("message", "")
        if code == 404:
            return Unavailable(f"找不到 Google 表格 {self.key}：请检查 [gsheets] spreadsheet_key。")
        if code == 403:
            who = self.config.service_account.get("client_email", "服务账号")
            return Unavailable(f"{who} 没有这个 Google 表格的编辑权限：请在表格中点击“共享”，把它添加为编辑者。")
        return Unavailable(f"Google 表格拒绝了请求（{code}：{message}）。")

    def _open_sheets(self, *, again: bool = True) -> None:
        meta = self._call(self.http.fetch_sheet_metadata)
        self._grid = {s["properties"]["title"]: [s["properties"]["sheetId"], s["properties"]["gridProperties"]["rowCount"],
                                                 s["properties"]["gridProperties"]["columnCount"]]
                      for s in meta.get("sheets", [])}
        wanted = {LOG_SHEET: (1000, LOG_COLUMNS, True), AUDIT_SHEET: (1000, len(AUDIT_HEADER), False)}
        requests = [{"addSheet": {"properties": {"title": t, "hidden": hidden,
                                                 "gridProperties": {"rowCount": rows, "columnCount": cols}}}}
                    for t, (rows, cols, hidden) in wanted.items() if t not in self._grid]
        if requests:
            try:
                self._add_sheets(requests)
            except Unavailable:
                if not again:  # another app process added them at the same moment
                    raise
                self._open_sheets(again=False)

    def _add_sheets(self, requests: list[dict[str, Any]]) -> None:
        reply = self._call(self.http.batch_update, {"requests": requests})
        for r in reply.get("replies", []):
            if "addSheet" in r:
                p = r["addSheet"]["properties"]
                self._grid[p["title"]] = [p["sheetId"], p["gridProperties"]["rowCount"], p["gridProperties"]["columnCount"]]

    def _read_log_tail(self) -> None:
        """Read and apply log rows after the last applied one. Caller holds ``_sync``."""
        start = max(self.replay.rows_read, 1)
        reply = self._call(self.http.values_get, f"{LOG_SHEET}!A{start}:{col_letters(LOG_COLUMNS - 1)}")
        rows = reply.get("values", [])
        if self.replay.rows_read:
            if not rows or decode_row(rows[0])[0] != self.replay.last_eid:
                raise Unavailable(f"Google 表格中的 {LOG_SHEET} 工作表被改动过（第 {start} 行不是应有的内容）；"
                                  f"请勿编辑或排序 {LOG_SHEET}，并联系管理员从版本历史恢复。")
        with self.state_lock:
            changed = self.replay.apply_rows(start, rows)
            self._dirty_rows.update(((f, i), None) for _, f, i in changed if i)
        self._last_refresh = time.monotonic()

    def refresh(self, *, force: bool = True) -> None:
        """See changes other app processes made (one read of ``_log``). Without ``force`` only
        when the cache period has passed, and never waiting for a read already under way."""
        if not force and time.monotonic() - self._last_refresh < self.config.cache_seconds:
            return
        if not self._sync.acquire(blocking=force):
            return  # another thread is reading right now: serve what we have
        try:
            if force or time.monotonic() - self._last_refresh >= self.config.cache_seconds:
                self._read_log_tail()
        except Unavailable as err:
            self._last_refresh = time.monotonic()  # serve the cached state; try again next period
            log.warning("refresh failed: %s", err)
        finally:
            self._sync.release()

    # --- entries waiting to be sent ---------------------------------------------------------

    def pending_entries(self, form_id: str | None = None, *, queued_only: bool = False) -> list[dict[str, Any]]:
        with self.state_lock:
            return [e for e in self.outbox.pending()
                    if e["eid"] not in self.replay.outcome and (form_id is None or e.get("form") == form_id)
                    and (not queued_only or e["eid"] in self._queued)]

    def pending(self, form_id: str | None = None) -> list[QueuedRecord]:
        """Rows accepted on this machine and still waiting to reach the spreadsheet (待同步)."""
        return [queued_record(e) for e in self.pending_entries(form_id, queued_only=True) if e["op"] == "append"]
    def submit(self, entries: list[dict[str, Any]], *, wait: bool, durable: bool = True) -> list[_Job]:
        if self._closing:
            raise Unavailable("存储已关闭，请刷新页面后重试。")
        for e in entries:
            e.setdefault("eid", secrets.token_hex(8))  # migration brings its own, stable ones
            encode_row(e)  # refuse an entry too big for the log before anything is written
        if durable:
            self.outbox.add(entries)
        jobs = [_Job(e, durable) for e in entries]
        self._enqueue(jobs)
        if wait:
            deadline = time.monotonic() + self.config.submit_wait_seconds
            for job in jobs:
                job.done.wait(None if not durable else max(0.0, deadline - time.monotonic()))
            if durable:
                with self.state_lock:
                    self._queued.update(j.entry["eid"] for j in jobs if j.entry["eid"] not in self.replay.outcome)
        return jobs

    def _enqueue(self, jobs: list[_Job]) -> None:
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

    def _next_batch(self) -> list[_Job] | None:
        """Jobs to send now, [] for view work, None for nothing to do (caller holds ``_cv``)."""
        if self._jobs:
            urgent = any(not j.durable for j in self._jobs)
            if not self._offline or urgent or time.monotonic() >= self._next_probe:
                if self._closing and self._offline and not urgent:
                    return None
                return self._jobs[:MAX_BATCH]
        view_work = self._dirty_rows or self._audit_written < len(self.replay.state.audit)
        quiet = time.monotonic() - self._last_flush >= VIEW_IDLE_SECONDS
        # Keep a write in hand for the next submission: the view can always wait a little.
        spare = self.session.gate.available("write") >= 2 or self._closing
        if view_work and quiet and spare and (not self._offline or time.monotonic() >= self._next_probe):
            return []
        return None

    def _flush(self, batch: list[_Job]) -> None:
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
            log.warning("delivery to Google Sheets failed; %d entries wait in the outbox: %s", len(self.outbox), err)
            return
        with self._cv:
            self._offline = False
        self._flushes_since_view += 1
        self._last_flush = time.monotonic()
        if self._flushes_since_view >= VIEW_EVERY:
            self._write_views()

    def _go_offline(self) -> None:
        self._offline = True
        self._next_probe = time.monotonic() + self.config.offline_probe_seconds

    def _deliver(self, batch: list[_Job]) -> None:
        fresh = self._settle(batch, precheck=True)
        if not fresh:
            return
        rows = [encode_row(j.entry) for j in fresh]
        reply = self._call(self.http.values_append, _LOG_RANGE,
                           params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                           body={"values": rows})
        first = int(re.search(r"![A-Z]+(\d+)", reply["updates"]["updatedRange"]).group(1))
        with self._sync:
            if self.replay.rows_read < first - 1:
                self._read_log_tail()  # another app process wrote in between: read its entries first
            else:
                with self.state_lock:
                    changed = self.replay.apply_rows(first, rows)
                    self._dirty_rows.update(((f, i), None) for _, f, i in changed if i)
        if self.replay.rows_read < first + len(rows) - 1:
            raise Unavailable("写入 Google 表格后读回的日志不完整，请稍后重试。")
        self._settle(fresh, precheck=False)

    def _settle(self, batch: list[_Job], *, precheck: bool) -> list[_Job]:
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
        cur = rows.get(e["id"])
        if verdict == "stale":
            base = e["rev"] - 1
            return None, ConflictError(self.replay.state.conflict_message(e["form"], e["id"], base), current=cur)
        if e["op"] == "update" and cur is not None and cur.rev > e["rev"]:
            # Later versions already landed; answer with the version this entry made.
            return _version(cur, e), None
        return cur, None

    def _write_views(self) -> None:
        self._flushes_since_view = 0
        with self.state_lock:
            rows = list(self._dirty_rows)
            audit_len = len(self.replay.state.audit)
            headers = dict(self._headers)
            plan = plan_views(self.replay, rows, self._audit_written, headers)
        try:
            if plan.data:
                self._grow_grid(plan.need)
                self._call(self.http.values_batch_update, {"valueInputOption": "RAW", "data": plan.data})
        except Unavailable as err:
            log.warning("view update failed (the log is complete; the view catches up later): %s", err)
            if isinstance(err, SheetsDown):
                with self._cv:
                    self._go_offline()
            else:  # refused for good: drop it; rebuild_views() can redo it
                self._forget_view_work(rows, audit_len, headers)
            return
        with self._cv:
            self._offline = False
        self._forget_view_work(rows, audit_len, headers)

    def _forget_view_work(self, rows: list[tuple[str, str]], audit_len: int, headers: dict[str, int]) -> None:
        with self.state_lock:
            for key in rows:
                self._dirty_rows.pop(key, None)
            self._audit_written = max(self._audit_written, audit_len)
            self._headers = headers

    def _grow_grid(self, need: dict[str, tuple[int, int]]) -> None:
        add, grow = [], []
        for title, (rows, cols) in need.items():
            if title not in self._grid:
                add.append({"addSheet": {"properties": {"title": title, "gridProperties": {
                    "rowCount": max(1000, rows + 100), "columnCount": max(26, cols + 5)}}}})
                continue
            sheet_id, have_rows, have_cols = self._grid[title]
            if rows > have_rows:
                grow.append((title, "ROWS", max(1000, rows - have_rows)))
            if cols > have_cols:
                grow.append((title, "COLUMNS", cols - have_cols + 5))
        requests = add + [{"appendDimension": {"sheetId": self._grid[t][0], "dimension": d, "length": n}}
                          for t, d, n in grow]
        if requests:
            self._add_sheets(requests)
            for title, dim, n in grow:
                self._grid[title][1 if dim == "ROWS" else 2] += n

    def rebuild_views(self) -> None:
        """Rewrite every readable sheet from the log (after a person edited or sorted them)."""
        with self.state_lock:
            for form, rows in self.replay.state.rows.items():
                self._dirty_rows.update(((form, i), None) for i in rows)
            self._audit_written, self._headers = 0, {}
        self.wait_idle()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every accepted entry is in the spreadsheet and the view is patched."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cv, self.state_lock:
                idle = not self._jobs and not self._dirty_rows and self._audit_written >= len(self.replay.state.audit)
                self._cv.notify_all()
            if idle:
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        if self._closing:
            return
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        self._writer.join(timeout=self.config.request_timeout_seconds * 2)
        self.outbox.close()
        self.session.close()



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

