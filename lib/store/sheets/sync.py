"""The engine under the Google Sheets store: the log replay, the refresh, the views.

:class:`SheetSync` owns everything that talks to the spreadsheet:

* reads of ``_log`` (at open, then incrementally: at most one per ``cache_seconds`` for readers,
  plus one when another app process wrote between this one's reads and its append);
* the readable sheets, patched from the replay with ``values.batchUpdate`` requests cut by size
  (``request_chunks``), a request Google still finds too large sent again in halves, and a
  refusal kept as a problem the app can show (``problems``) with the work kept for a later try;
* through :class:`lib.store.sheets.delivery.Delivery`, the writer thread and the durable outbox
  that send new entries to ``_log``.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gspread
from gspread.exceptions import APIError

from lib.core.files import private_dir
from lib.store.base import Unavailable
from lib.store.sheets.client import (
    MAX_REQUEST_BYTES,
    MAX_SPREADSHEET_CELLS,
    RequestTooLarge,
    SheetsConfig,
    SheetsDown,
    SheetsSession,
    build_credentials,
    request_chunks,
)
from lib.store.sheets.delivery import Delivery, Job
from lib.store.sheets.log import LOG_COLUMNS, LOG_SHEET, Replay, decode_row, log_range
from lib.store.sheets.outbox import Outbox
from lib.store.sheets.view import AUDIT_HEADER, AUDIT_SHEET, ViewRow, batch_data, plan_views

log = logging.getLogger(__name__)

# A view write Google refused (not for size, not for being unreachable) is tried again after
# this long, or at once by rebuild_views(): each try costs a write from the quota.
VIEW_RETRY_SECONDS = 300.0


class SheetSync(Delivery):
    """Keeps a :class:`Replay` of one spreadsheet's ``_log`` and sends new entries to it."""

    def __init__(self, config: SheetsConfig, data_dir: Path, *, credentials: Any = None):
        self.config = config
        self.key = config.spreadsheet_key
        self.session = SheetsSession(credentials or build_credentials(config), config)
        self.http = gspread.Client(None, session=self.session).http_client  # type: ignore[arg-type]
        self.replay = Replay()
        self.state_lock = threading.RLock()  # the replay and the bookkeeping below
        self._sync = threading.Lock()  # one reader of _log at a time, so rows apply in order
        self._cv = threading.Condition(threading.Lock())  # the job queue
        self._jobs: list[Job] = []
        self._offline = False
        self._next_probe = 0.0
        self._closing = False
        self._last_refresh = float("-inf")
        self._grid: dict[str, list[int]] = {}  # sheet title -> [sheetId, rows, columns]
        self._dirty_rows: dict[tuple[str, str], int] = {}  # (form, id) -> when marked, so a newer change survives
        self._marks = itertools.count()
        self._problems: dict[str, str] = {}  # "log" | "view" -> what the spreadsheet refused, in Chinese
        self._view_retry_at = 0.0
        self._audit_written = 0
        self._headers: dict[str, int] = {}
        self._flushes_since_view = 0
        self._last_flush = 0.0
        self._queued: set[str] = set()  # eids whose caller was answered "待同步"
        self._open_sheets()
        with self._sync:
            self._read_log_tail()
        outboxes = private_dir(private_dir(data_dir) / "sheets_outbox")
        self.outbox = Outbox(outboxes / re.sub(r"[^0-9A-Za-z_-]", "_", self.key))
        for entry in self.outbox.adopt_orphans():
            self._queued.add(entry["eid"])
            self._enqueue([Job(entry, durable=True)])
        self._writer = threading.Thread(target=self._run, name="sheets-writer", daemon=True)
        self._writer.start()

    # --- talking to the spreadsheet --------------------------------------------------------------

    def _call(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        try:
            return fn(self.key, *args, **kw)
        except APIError as err:
            raise self._refused(err) from err

    def _refused(self, err: APIError) -> Unavailable:
        code, message = err.code, str(err.error.get("message", ""))
        if err.response.status_code == 413 or "payload size" in message:
            return RequestTooLarge(f"Google 表格拒绝了超过 {MAX_REQUEST_BYTES // 2**20} MiB 的请求。")
        if "number of cells" in message:
            return Unavailable(f"Google 表格的单元格总数将超过上限（{MAX_SPREADSHEET_CELLS:,} 个）：请删除表格中不用的工作表，"
                               f"或把数据迁移到一个新表格（python -m lib.store.migrate）。")
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
        reply = self._call(self.http.values_get, log_range(start))
        rows = reply.get("values", [])
        if self.replay.rows_read:
            if not rows or decode_row(rows[0])[0] != self.replay.last_eid:
                raise Unavailable(f"Google 表格中的 {LOG_SHEET} 工作表被改动过（第 {start} 行不是应有的内容）；"
                                  f"请勿编辑或排序 {LOG_SHEET}，并联系管理员从版本历史恢复。")
        with self.state_lock:
            self._mark_dirty(self.replay.apply_rows(start, rows))
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

    # --- the readable sheets ---------------------------------------------------------------------

    def _mark_dirty(self, changed: list[tuple[str, str, str]]) -> None:
        """Rows whose view must be rewritten (``changed`` as ``Replay.apply_rows`` returns it).
        Caller holds ``state_lock``."""
        self._dirty_rows.update(((f, i), next(self._marks)) for _, f, i in changed if i)

    def problems(self) -> list[str]:
        """What the spreadsheet refused and this process keeps trying, in Chinese; empty when all is well."""
        with self.state_lock:
            return list(self._problems.values())

    def _send_halving(self, send: Callable[[list[Any]], None], items: list[Any]) -> None:
        """``send(items)``; when Google refuses the request for its size, send each half the same way."""
        try:
            send(items)
        except RequestTooLarge:
            if len(items) == 1:
                raise
            half = len(items) // 2
            self._send_halving(send, items[:half])
            self._send_halving(send, items[half:])

    def _write_views(self) -> None:
        """Patch the readable sheets, one size-bounded request at a time; stop early for waiting
        submissions (what is not written stays to do)."""
        self._flushes_since_view = 0
        with self.state_lock:
            marks = dict(self._dirty_rows)
            plan = plan_views(self.replay, list(marks), self._audit_written, dict(self._headers))
        try:
            if plan.rows:
                self._grow_grid(plan.need)
            for chunk in request_chunks(plan.rows, ViewRow.size):
                self._send_halving(lambda rows: self._write_view_rows(rows, marks), chunk)
                with self._cv:
                    if self._jobs:
                        return
        except SheetsDown as err:
            log.warning("view update failed (the log is complete; the view catches up later): %s", err)
            with self._cv:
                self._go_offline()
            return
        except Unavailable as err:
            log.warning("view update refused; kept to try again in %.0f s: %s", VIEW_RETRY_SECONDS, err)
            with self.state_lock:
                self._problems["view"] = f"各表单工作表和 _audit 暂未更新（日志 _log 已完整保存）：{err}"
                self._view_retry_at = time.monotonic() + VIEW_RETRY_SECONDS
            return
        with self._cv:
            self._offline = False
        with self.state_lock:
            self._problems.pop("view", None)
            for key, mark in marks.items():  # rows with nothing to show (no sheet entry) are done too
                if self._dirty_rows.get(key) == mark:
                    del self._dirty_rows[key]

    def _write_view_rows(self, rows: list[ViewRow], marks: dict[tuple[str, str], int]) -> None:
        self._call(self.http.values_batch_update, {"valueInputOption": "RAW", "data": batch_data(rows)})
        with self.state_lock:
            for r in rows:
                kind, *what = r.done
                if kind == "record":
                    key = (what[0], what[1])
                    if self._dirty_rows.get(key) == marks.get(key):  # not changed again meanwhile
                        self._dirty_rows.pop(key, None)
                elif kind == "audit":
                    self._audit_written = max(self._audit_written, what[0] + 1)
                else:
                    self._headers[what[0]] = what[1]

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
                self._dirty_rows.update(((form, i), next(self._marks)) for i in rows)
            self._audit_written, self._headers = 0, {}
            self._view_retry_at = 0.0  # an explicit request: try now even after a refusal
        self.wait_idle()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every accepted entry is in the spreadsheet and the view is patched."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cv, self.state_lock:
                idle = not self._jobs and not self._dirty_rows and self._audit_written >= len(self.replay.state.audit)
                refused = not self._jobs and "view" in self._problems and time.monotonic() < self._view_retry_at
                self._cv.notify_all()
            if idle:
                return True
            if refused:
                return False
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
