"""The readable sheets of the Google Sheets backend: one per form, plus ``_audit``.

They are a view of the ``_log`` sheet for people who open the spreadsheet: Chinese headers,
one row per record, dates as ``YYYY-MM-DD``, booleans as 是/否. The backend never reads them
back (the log is the truth), so a view cell only has to read well, not to round-trip.

Positions are deterministic: the record created k-th (in log order) sits on row k + 2 of its
form's sheet and audit entry k on row k + 2 of ``_audit``; every app process computes the same
places, so concurrent writers patch the view without reading it first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from lib.store.base import SYSTEM_COLUMNS, Record
from lib.store.codec import cell_text_of_list
from lib.store.sheets_log import AUDIT_SHEET, Replay
from lib.store.state import STATUS_LABEL, AuditRow

AUDIT_HEADER = ("时间", "账号", "动作", "表单", "记录编号", "版本", "变更内容", "备注")
CHANGES_CHARS = 2_000  # the full change is in the log; the view shows a readable summary


def quote_title(title: str) -> str:
    """A sheet title as A1 notation wants it.

    >>> quote_title("现场检查's")
    "'现场检查''s'"
    """
    return "'" + title.replace("'", "''") + "'"


def col_letters(index: int) -> str:
    """Spreadsheet column letters of a 0-based index.

    >>> col_letters(0), col_letters(25), col_letters(26)
    ('A', 'Z', 'AA')
    """
    out, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def view_cell(value: Any) -> Any:
    """What a person reads in a view cell (sent RAW: text stays text).

    >>> view_cell(True), view_cell(dt.date(2020, 9, 1)), view_cell(["甲", "乙"]), view_cell(None)
    ('是', '2020-09-01', '甲；乙', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return value if abs(value) < 10**15 else str(value)
    if isinstance(value, float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return cell_text_of_list(list(value))
    return str(value)


def header(replay: Replay, form: str) -> list[str]:
    spec = replay.state.specs.get(form)
    labels = {c.key: c.label for c in spec.columns} if spec else {}
    return [label for _, label in SYSTEM_COLUMNS] + [labels.get(k, k) for k in replay.layout.get(form, [])]


def record_row(replay: Replay, rec: Record) -> list[Any]:
    system = [rec.id, rec.rev, rec.status, rec.form_version, rec.owner, rec.org, rec.city,
              view_cell(rec.created_at), view_cell(rec.updated_at), rec.updated_by]
    return system + [view_cell(rec.values.get(k)) for k in replay.layout.get(rec.form_id, [])]


def audit_row(replay: Replay, a: AuditRow) -> list[Any]:
    spec = replay.state.specs.get(a.form_id)
    labels = {c.key: c.label for c in spec.columns} if spec else {}
    labels["_status"] = STATUS_LABEL
    entry = a.entry()
    parts = [f"{labels.get(k, k)}：{_short(old)} → {_short(new)}" if not a.created else f"{labels.get(k, k)}：{_short(new)}"
             for k, (old, new) in entry.changes.items()]
    text = "；".join(parts)
    if len(text) > CHANGES_CHARS:
        text = text[:CHANGES_CHARS] + "…"
    return [view_cell(a.at), a.account, a.action, replay.titles.get(a.form_id, a.form_id), a.row_id, a.rev, text, a.note]


def _short(value: Any) -> str:
    text = str(view_cell(value))
    return text if len(text) <= 200 else text[:200] + "…"


class ViewPlan:
    """Cell writes that bring the views up to date with a replay, plus the grid they need."""

    def __init__(self) -> None:
        self.data: list[dict[str, Any]] = []  # values.batchUpdate ranges
        self.need: dict[str, tuple[int, int]] = {}  # sheet title -> (rows, columns) the writes need

    def _put(self, title: str, row: int, values: list[list[Any]]) -> None:
        width = max((len(v) for v in values), default=1)
        self.data.append({"range": f"{quote_title(title)}!A{row}", "values": values})
        rows, cols = self.need.get(title, (0, 0))
        self.need[title] = (max(rows, row + len(values) - 1), max(cols, width))


def plan_views(replay: Replay, rows: Iterable[tuple[str, str]], audit_from: int, headers: dict[str, int]) -> ViewPlan:
    """Writes for the records ``rows`` ((form, id) pairs), audit entries from index ``audit_from``
    and the header of every form whose column count differs from ``headers`` (form -> columns
    written so far; updated in place)."""
    plan = ViewPlan()
    forms = {form for form, _ in rows} | {f for f in replay.titles if headers.get(f) != len(header(replay, f))}
    for form in sorted(forms):
        if form not in replay.titles:
            continue  # rows of a form without a sheet entry stay in the log only
        head = header(replay, form)
        if headers.get(form) != len(head):
            plan._put(replay.titles[form], 1, [head])
            headers[form] = len(head)
    for form, row_id in dict.fromkeys(rows):
        rec = replay.state.rows.get(form, {}).get(row_id)
        if rec is None or form not in replay.titles:
            continue
        plan._put(replay.titles[form], replay.ordinal[form][row_id] + 2, [record_row(replay, rec)])
    audit = replay.state.audit
    if audit_from < len(audit):
        if audit_from == 0:
            plan._put(AUDIT_SHEET, 1, [list(AUDIT_HEADER)])
        plan._put(AUDIT_SHEET, audit_from + 2, [audit_row(replay, a) for a in audit[audit_from:]])
    return plan
