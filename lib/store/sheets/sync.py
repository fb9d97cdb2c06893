"""The engine under the Google Sheets store: the log replay, the refresh, the views.

:class:`SheetSync` owns everything that talks to the spreadsheet:

* reads of ``_log`` (at open, then incrementally: at most one per ``cache_seconds`` for readers,
  plus one when another app process wrote between this one's reads and its append);
* the readable sheets, patched from the replay with ``values.batchUpdate`` requests cut by size
  (``request_chunks``), a request Google still finds too large sent again in halves, and a
  refusal kept as a problem the app can show (``problems``) with the work kept for a later try;
* the :class:`lib.store.sheets.delivery.Delivery` it owns: the writer thread and the durable
  outbox that send new entries to ``_log``, through the ``Engine`` methods below.

The store reads the replayed log through :meth:`SheetSync.reading` and writes through
:meth:`SheetSync.submit`.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gspread
from gspread.exceptions import APIError

from lib.core.files import private_dir
from lib.core.values import AUDIT_HEADERS
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
    send_halving,
)
from lib.store.sheets.delivery import Delivery, Job, QueuedRecord, ViewsOutcome
from lib.store.sheets.log import LOG_COLUMNS, LOG_SHEET, Fate, Replay, decode_row, encode_row, log_range
from lib.store.sheets.outbox import Outbox
from lib.store.sheets.view import AUDIT_SHEET, ViewRow, batch_data, plan_views
from lib.store.state import FREEZE_AFTER_ENTRIES, freeze_loaded

log = logging.getLogger(__name__)

# A view write Google refused (not for size, not for being unreachable) is tried again after
# this long, or at once by rebuild_views(): each try costs a write from the quota.
VIEW_RETRY_SECONDS = 300.0



class SheetSync:
    """Keeps a :class:`Replay` of one spreadsheet's ``_log``, patches the readable sheets from it,
    and owns the :class:`Delivery` that sends new entries (serving it the ``Engine`` interface).

    ``cache_clock``: monotonic seconds that measure the cache period (tests step it by hand).
    """

    def __init__(self, config: SheetsConfig, data_dir: Path, *, credentials: Any = None,
                 cache_clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.key = config.spreadsheet_key
        self.session = SheetsSession(credentials or build_credentials(config), config)
        self._http = gspread.Client(None, session=self.session).http_client  # type: ignore[arg-type]
        self._replay = Replay()
        self._state_lock = threading.RLock()  # the replay and the view bookkeeping below
        self._reading = threading.Lock()  # one reader of _log at a time, so rows apply in order
        self._closed = False
        self._cache_clock = cache_clock
        self._last_refresh = float("-inf")
        self._grid: dict[str, list[int]] = {}  # sheet title -> [sheetId, rows, columns]
        self._dirty_rows: dict[tuple[str, str], int] = {}  # (form, id) -> when marked, so a newer change survives
        self._marks = itertools.count()
        self._view_problem = ""  # what the spreadsheet refused of the views, in Chinese
        self._view_retry_at = 0.0
        self._audit_written = 0
        self._headers: dict[str, Any] = {}  # form -> the view.header_shape its sheet shows
        self._open_sheets()
        with self._reading:
            self._read_log_tail()
        outboxes = private_dir(private_dir(data_dir) / "sheets_outbox")
        self.delivery = Delivery(self, Outbox(outboxes / re.sub(r"[^0-9A-Za-z_-]", "_", self.key)), config)

    # --- what the store reads and writes ---------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[Replay]:
        """The replayed log, held still for the ``with`` block (no new rows apply meanwhile).
        Read it; never change it. Records are immutable, so what is read stays valid after."""
        with self._state_lock:
            yield self._replay

    def submit(self, entries: list[dict[str, Any]], *, wait: bool, durable: bool = True) -> list[Job]:
        """Send ``entries`` to ``_log`` (see :meth:`Delivery.submit`)."""
        return self.delivery.submit(entries, wait=wait, durable=durable)

    def pending_entries(self, form_id: str | None = None) -> list[dict[str, Any]]:
        """Entries accepted here and not yet in the log, of one form or all."""
        return self.delivery.pending_entries(form_id)

    def pending(self, form_id: str | None = None) -> list[QueuedRecord]:
        """Rows accepted on this machine and still waiting to reach the spreadsheet (待同步)."""
        return self.delivery.pending(form_id)

    # --- the Engine interface of the delivery ----------------------------------------------------

    def labels(self, form_id: str) -> dict[str, str]:
        with self._state_lock:
            return self._replay.state.labels(form_id)

    def logged(self, eids: Iterable[str]) -> set[str]:
        with self._state_lock:
            return {e for e in eids if e in self._replay.outcome}

    def fates(self, entries: list[dict[str, Any]], *, precheck: bool) -> list[Fate | None]:
        with self._state_lock:
            return self._replay.fates(entries, precheck=precheck)

    def log_rows(self, entries: list[dict[str, Any]]) -> list[list[str]]:
        """Rows of ``entries``, less members of a batch sent again after a cut that are already in
        ``_log`` (held there until their commit)."""
        with self._state_lock:
            held = self._replay.held
            return [encode_row(e) for e in entries if e["eid"] not in held.get(e.get("batch", ""), ())]

    def writes_available(self) -> float:
        return self.session.gate.available("write")

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
                               f"或把数据迁移到一个新表格（python -m lib.store.migrate）。", code="sheets_full")
        if code == 404:
            return Unavailable(f"找不到 Google 表格 {self.key}：请检查 [gsheets] spreadsheet_key。", code="sheets_not_found")
        if code == 403:
            who = self.config.service_account.get("client_email", "服务账号")
            return Unavailable(f"{who} 没有这个 Google 表格的编辑权限：请在表格中点击“共享”，把它添加为编辑者。",
                               code="sheets_no_access")
        return Unavailable(f"Google 表格拒绝了请求（{code}：{message}）。", code="sheets_refused")

    def _open_sheets(self, *, again: bool = True) -> None:
        self._read_grid()
        wanted = {LOG_SHEET: (1000, LOG_COLUMNS, True), AUDIT_SHEET: (1000, len(AUDIT_HEADERS), False)}
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

    def _read_grid(self) -> None:
        """The spreadsheet's sheets as they are now (one read): their ids and sizes."""
        meta = self._call(self._http.fetch_sheet_metadata)
        self._grid = {s["properties"]["title"]: [s["properties"]["sheetId"], s["properties"]["gridProperties"]["rowCount"],
                                                 s["properties"]["gridProperties"]["columnCount"]]
                      for s in meta.get("sheets", [])}

    def _add_sheets(self, requests: list[dict[str, Any]]) -> None:
        reply = self._call(self._http.batch_update, {"requests": requests})
        for r in reply.get("replies", []):
            if "addSheet" in r:
                p = r["addSheet"]["properties"]
                self._grid[p["title"]] = [p["sheetId"], p["gridProperties"]["rowCount"], p["gridProperties"]["columnCount"]]

    def _read_log_tail(self) -> None:
        """Read and apply log rows after the last applied one. Caller holds ``_reading``."""
        start = max(self._replay.rows_read, 1)
        reply = self._call(self._http.values_get, log_range(start))
        rows = reply.get("values", [])
        if self._replay.rows_read:
            if not rows or decode_row(rows[0])[0] != self._replay.last_eid:
                raise Unavailable(f"Google 表格中的 {LOG_SHEET} 工作表被改动过（第 {start} 行不是应有的内容）；"
                                  f"请勿编辑或排序 {LOG_SHEET}，并联系管理员从版本历史恢复。", code="sheets_log_edited")
        with self._state_lock:
            self._mark_dirty(self._replay.apply_rows(start, rows))
        if len(rows) >= FREEZE_AFTER_ENTRIES:  # the first load, another server's import
            freeze_loaded()
        self._last_refresh = self._cache_clock()

    def refresh(self, *, force: bool = True) -> None:
        """See changes other app processes made (one read of ``_log``). Without ``force`` only
        when the cache period has passed, and never waiting for a read already under way."""
        if not force and self._cache_clock() - self._last_refresh < self.config.cache_seconds:
            return
        if not self._reading.acquire(blocking=force):
            return  # another thread is reading right now: serve what we have
        try:
            if force or self._cache_clock() - self._last_refresh >= self.config.cache_seconds:
                self._read_log_tail()
        except Unavailable as err:
            self._last_refresh = self._cache_clock()  # serve the cached state; try again next period
            log.warning("refresh failed: %s", err)
        finally:
            self._reading.release()

    def append_log(self, rows: list[list[str]]) -> None:
        """One ``values.append`` of ``rows`` to ``_log``, then apply them (and anything another
        app process wrote before them) to the replay."""
        reply = self._call(self._http.values_append, log_range(),
                           params={"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                           body={"values": rows})
        first = int(re.search(r"![A-Z]+(\d+)", reply["updates"]["updatedRange"]).group(1))
        with self._reading:
            if self._replay.rows_read < first - 1:
                self._read_log_tail()  # another app process wrote in between: read its entries first
            else:
                with self._state_lock:
                    self._mark_dirty(self._replay.apply_rows(first, rows))
        if self._replay.rows_read < first + len(rows) - 1:
            raise Unavailable("写入 Google 表格后读回的日志不完整，请稍后重试。", code="sheets_read_back")

    # --- the readable sheets ---------------------------------------------------------------------

    def _mark_dirty(self, changed: list[tuple[str, str, str]]) -> None:
        """Rows whose view must be rewritten (``changed`` as ``Replay.apply_rows`` returns it).
        Caller holds ``_state_lock``."""
        self._dirty_rows.update(((f, i), next(self._marks)) for _, f, i in changed if i)

    def problems(self) -> list[str]:
        """What the spreadsheet refused and this process keeps trying, in Chinese; empty when all is well."""
        with self._state_lock:
            view = self._view_problem
        return [p for p in (self.delivery.problem(), view) if p]

    def view_work_due(self) -> bool:
        with self._state_lock:
            behind = bool(self._dirty_rows) or self._audit_written < len(self._replay.state.audit)
            return behind and time.monotonic() >= self._view_retry_at

    def write_views(self, interrupted: Callable[[], bool]) -> ViewsOutcome:
        """Patch the readable sheets, one size-bounded request at a time; stop early when
        ``interrupted()`` (submissions wait): what is not written stays to do. ``"down"``: the
        spreadsheet did not answer; ``"refused"``: Google refused, tried again after
        :data:`VIEW_RETRY_SECONDS` (or at :meth:`rebuild_views`)."""
        with self._state_lock:
            marks = dict(self._dirty_rows)
            plan = plan_views(self._replay, list(marks), self._audit_written, dict(self._headers))
        try:
            if plan.rows:
                self._grow_grid(plan.need, plan.formats)
            for chunk in request_chunks(plan.rows, ViewRow.size):
                send_halving(lambda rows: self._write_view_rows(rows, marks), chunk)
                if interrupted():
                    return "interrupted"
        except SheetsDown as err:
            log.warning("view update failed (the log is complete; the view catches up later): %s", err)
            return "down"
        except Unavailable as err:
            log.warning("view update refused; kept to try again in %.0f s: %s", VIEW_RETRY_SECONDS, err)
            with self._state_lock:
                self._view_problem = f"各表单工作表和 _audit 暂未更新（日志 _log 已完整保存）：{err}"
                self._view_retry_at = time.monotonic() + VIEW_RETRY_SECONDS
            return "refused"
        with self._state_lock:
            self._view_problem = ""
            for key, mark in marks.items():  # rows with nothing to show (no sheet entry) are done too
                if self._dirty_rows.get(key) == mark:
                    del self._dirty_rows[key]
        return "done"

    def _write_view_rows(self, rows: list[ViewRow], marks: dict[tuple[str, str], int]) -> None:
        self._call(self._http.values_batch_update, {"valueInputOption": "RAW", "data": batch_data(rows)})
        with self._state_lock:
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

    def _grow_grid(self, need: dict[str, tuple[int, int]], formats: dict[str, tuple[tuple[int, str], ...]]) -> None:
        """Add the sheets and rows/columns the writes need and give money columns their number format,
        in one ``spreadsheets.batchUpdate`` (two when a sheet with formats is new: its id comes back
        from the first). A sheet this process has not seen is looked for first: another app server may
        have added it since (a form published after this one opened); adding it again would be refused."""
        if any(title not in self._grid for title in need):
            self._read_grid()
        known = set(self._grid)
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
        requests += self._format_requests({t: f for t, f in formats.items() if t in known})
        if requests:
            self._add_sheets(requests)
            for title, dim, n in grow:
                self._grid[title][1 if dim == "ROWS" else 2] += n
        late = self._format_requests({t: f for t, f in formats.items() if t not in known})
        if late:
            self._add_sheets(late)

    def _format_requests(self, formats: dict[str, tuple[tuple[int, str], ...]]) -> list[dict[str, Any]]:
        """A ``repeatCell`` per formatted column: the number format on the whole column below its
        header (no end row: rows the grid gains later get it too)."""
        return [{"repeatCell": {
            "range": {"sheetId": self._grid[title][0], "startRowIndex": 1, "startColumnIndex": col, "endColumnIndex": col + 1},
            "cell": {"userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": pattern}}},
            "fields": "userEnteredFormat.numberFormat"}}
            for title, cols in formats.items() for col, pattern in cols]

    def rebuild_views(self) -> None:
        """Rewrite every readable sheet from the log (after a person edited or sorted them)."""
        with self._state_lock:
            for form, rows in self._replay.state.rows.items():
                self._dirty_rows.update(((form, i), next(self._marks)) for i in rows)
            self._audit_written, self._headers = 0, {}
            self._view_retry_at = 0.0  # an explicit request: try now even after a refusal
        self.wait_idle()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every accepted entry is in the spreadsheet and the view is patched."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Jobs first: a job leaves the queue only after its rows were marked for the view.
            sending = self.delivery.busy()
            with self._state_lock:
                idle = not sending and not self._dirty_rows and self._audit_written >= len(self._replay.state.audit)
                refused = not sending and bool(self._view_problem) and time.monotonic() < self._view_retry_at
            if idle:
                return True
            if refused:
                return False
            time.sleep(0.05)
        return False

    def close(self) -> None:
        """Stop the writer (it sends what it can first) and release the outbox and the session."""
        if self._closed:
            return
        self._closed = True
        self.delivery.close()
        self.session.close()
