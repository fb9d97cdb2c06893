"""The readable sheets of the Google Sheets backend: one per form, plus ``_audit``.

They are a view of the ``_log`` sheet for people who open the spreadsheet: Chinese headers,
one row per record, every value as ``lib.core.values`` renders it (dates ``YYYY-MM-DD``, booleans
是/否), numbers kept as numbers; a money or percent column (``Column.display``) gets the number
format ``0.00`` (``column_formats``), as in the local workbook. The backend never reads them back (the log is the truth), so a view
cell only has to read well, not to round-trip.

Positions are deterministic: the record created k-th (in log order) sits on row k + 2 of its
form's sheet and audit entry k on row k + 2 of ``_audit``; every app process computes the same
places, so concurrent writers patch the view without reading it first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lib.core.records import Record
from lib.core.values import AUDIT_HEADERS, change_text, text, xlsx_format
from lib.store.base import SYSTEM_COLUMNS
from lib.store.sheets.client import MAX_CELL_CHARS, a1, cell_chars, cut_text, json_bytes
from lib.store.sheets.log import AUDIT_SHEET, Replay
from lib.store.state import STATUS_LABEL, AuditRow

CUT_MARK = "…（内容过长，表格中只显示前 {shown} 字，共 {total} 字；完整内容见系统中的记录）"


def fit_cell(value: Any) -> Any:
    """A view cell that Google accepts: text over the cell limit is cut, with a marker saying so.

    Only the view is cut: the ``_log`` keeps every entry whole (cut across cells there).

    >>> fit_cell("短文本"), fit_cell(7)
    ('短文本', 7)
    >>> cut = fit_cell("字" * 60_000)
    >>> len(cut) <= 50_000 and cut.endswith("共 60000 字；完整内容见系统中的记录）")
    True
    """
    if not isinstance(value, str) or cell_chars(value) <= MAX_CELL_CHARS:
        return value
    total = cell_chars(value)
    room = MAX_CELL_CHARS - cell_chars(CUT_MARK.format(shown=MAX_CELL_CHARS, total=total))
    shown = cut_text(value, room)[0]
    return shown + CUT_MARK.format(shown=cell_chars(shown), total=total)


def view_cell(value: Any) -> Any:
    """What a person reads in a view cell (sent RAW: text stays text): a number as a number (to 15
    digits, what a sheet keeps), anything else as ``lib.core.values.text``.

    >>> import datetime as dt
    >>> view_cell(True), view_cell(dt.datetime(2020, 9, 1, 8)), view_cell(["甲", "乙"]), view_cell(None), view_cell(7)
    ('是', '2020-09-01 08:00:00', '甲；乙', '', 7)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < 10**15 else str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return text(value)


def header(replay: Replay, form: str) -> list[str]:
    spec = replay.state.specs.get(form)
    labels = {c.key: c.label for c in spec.columns} if spec else {}
    keys = replay.layout.get(form, [])
    # A rename that joined two columns leaves the view narrower: its last cells are blanked, not left stale.
    blank = [""] * (replay.widest.get(form, 0) - len(keys))
    return [label for _, label in SYSTEM_COLUMNS] + [labels.get(k, k) for k in keys] + blank


def column_formats(replay: Replay, form: str) -> tuple[tuple[int, str], ...]:
    """(column index, number format) of each column of ``form``'s view whose numbers have a display
    of their own (money, percent: ``0.00``; the pattern reads the same in Sheets as in .xlsx). Dates
    need none: the view writes them as text."""
    spec = replay.state.specs.get(form)
    display = {c.key: c.display for c in spec.columns} if spec else {}
    return tuple((len(SYSTEM_COLUMNS) + i, xlsx_format(display[k])) for i, k in enumerate(replay.layout.get(form, []))
                 if xlsx_format(display.get(k, "")))


def record_row(replay: Replay, rec: Record) -> list[Any]:
    system = [rec.id, rec.rev, rec.status, rec.form_version, rec.owner, rec.org, rec.city,
              view_cell(rec.created_at), view_cell(rec.updated_at), rec.updated_by]
    keys = replay.layout.get(rec.form_id, [])
    return system + [view_cell(rec.values.get(k)) for k in keys] + [""] * (replay.widest.get(rec.form_id, 0) - len(keys))


def audit_row(replay: Replay, a: AuditRow) -> list[Any]:
    labels = {**replay.state.labels(a.form_id), "_status": STATUS_LABEL}
    displays = replay.state.displays(a.form_id)
    changes = change_text(a.changes, lambda k: labels.get(k, k), created=a.created, kind=displays.get)
    return [view_cell(a.at), a.account, a.action, replay.titles.get(a.form_id, a.form_id), a.row_id, a.rev or "", changes, a.note]


@dataclass(frozen=True)
class ViewRow:
    """One sheet row to write, and the view work writing it completes."""

    title: str
    row: int  # 1-based
    cells: list[Any]
    done: tuple[Any, ...]  # ("record", form, id) | ("audit", index; -1 the header) | ("header", form, shape)

    def size(self) -> int:
        """Bytes it adds to a values.batchUpdate body (its cells plus a range of its own at most)."""
        return json_bytes(self.cells) + len(self.title) * 6 + 40


class ViewPlan:
    """Rows that bring the views up to date with a replay, plus the grid and number formats they need."""

    def __init__(self) -> None:
        self.rows: list[ViewRow] = []
        self.need: dict[str, tuple[int, int]] = {}  # sheet title -> (rows, columns) the writes need
        self.formats: dict[str, tuple[tuple[int, str], ...]] = {}  # sheet title -> its columns' number formats

    def _put(self, title: str, row: int, cells: list[Any], done: tuple[Any, ...]) -> None:
        self.rows.append(ViewRow(title, row, [fit_cell(c) for c in cells], done))
        rows, cols = self.need.get(title, (0, 0))
        self.need[title] = (max(rows, row), max(cols, len(cells)))


def batch_data(rows: list[ViewRow]) -> list[dict[str, Any]]:
    """``values.batchUpdate`` ranges for ``rows``: consecutive rows of one sheet share a range.

    >>> [d["range"] for d in batch_data([ViewRow("表", 2, [1], ()), ViewRow("表", 3, [2], ()), ViewRow("表", 9, [3], ())])]
    ["'表'!A2", "'表'!A9"]
    """
    data: list[dict[str, Any]] = []
    last: ViewRow | None = None
    for r in rows:
        if last is not None and r.title == last.title and r.row == last.row + 1:
            data[-1]["values"].append(r.cells)
        else:
            data.append({"range": a1(r.title, f"A{r.row}"), "values": [r.cells]})
        last = r
    return data


def header_shape(replay: Replay, form: str) -> tuple[tuple[str, ...], tuple[tuple[int, str], ...]]:
    """What a form's view must show above its rows: the header and its columns' number formats."""
    return tuple(header(replay, form)), column_formats(replay, form)


def plan_views(replay: Replay, rows: Iterable[tuple[str, str]], audit_from: int, headers: dict[str, Any]) -> ViewPlan:
    """Rows for the records ``rows`` ((form, id) pairs), audit entries from index ``audit_from``
    and the header (with its number formats) of every form whose ``header_shape`` differs from
    ``headers`` (form -> the shape written so far)."""
    plan = ViewPlan()
    shapes = {f: header_shape(replay, f) for f in replay.titles}
    forms = {form for form, _ in rows} | {f for f in replay.titles if headers.get(f) != shapes[f]}
    for form in sorted(forms):
        if form not in replay.titles:
            continue  # rows of a form without a sheet entry stay in the log only
        shape = shapes[form]
        if headers.get(form) != shape:
            plan._put(replay.titles[form], 1, list(shape[0]), ("header", form, shape))
            if shape[1]:
                plan.formats[replay.titles[form]] = shape[1]
    def place(key: tuple[str, str]) -> tuple[str, int]:
        return key[0], replay.ordinal.get(key[0], {}).get(key[1], 0)

    for form, row_id in sorted(dict.fromkeys(rows), key=place):  # in sheet order: neighbours share a range
        rec = replay.state.rows.get(form, {}).get(row_id)
        if rec is None or form not in replay.titles:
            continue
        plan._put(replay.titles[form], replay.ordinal[form][row_id] + 2, record_row(replay, rec), ("record", form, row_id))
    audit = replay.state.audit
    if audit_from < len(audit):
        if audit_from == 0:
            plan._put(AUDIT_SHEET, 1, list(AUDIT_HEADERS), ("audit", -1))
        for i in range(audit_from, len(audit)):
            plan._put(AUDIT_SHEET, i + 2, audit_row(replay, audit[i]), ("audit", i))
    return plan
