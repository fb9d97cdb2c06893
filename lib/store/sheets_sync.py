"""The engine under the Google Sheets store: the log replay, the refresh, the views.

:class:`SheetSync` owns everything that talks to the spreadsheet:

* reads of ``_log`` (at open, then incrementally: at most one per ``cache_seconds`` for readers,
  plus one when another app process wrote between this one's reads and its append);
* the readable sheets, patched from the replay with one ``values.batchUpdate`` at a time;
* through :class:`lib.store.sheets_delivery.Delivery`, the writer thread and the durable outbox
  that send new entries to ``_log``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gspread
from gspread.exceptions import APIError

from lib.store.base import Unavailable
from lib.store.sheets_client import SheetsConfig, SheetsDown, SheetsSession, build_credentials
from lib.store.sheets_delivery import Delivery, Job
from lib.store.sheets_log import LOG_COLUMNS, LOG_SHEET, Replay, decode_row
from lib.store.sheets_outbox import Outbox
from lib.store.sheets_view import AUDIT_HEADER, AUDIT_SHEET, col_letters, plan_views

log = logging.getLogger(__name__)


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

    # --- the readable sheets ---------------------------------------------------------------------

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
