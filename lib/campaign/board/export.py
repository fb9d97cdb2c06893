"""The board's tables as an Excel workbook, each column of numbers or times with the kind it shows.

``lib.office.excel.to_xlsx`` formats a column it is not told about cell by cell (a fraction gets two
decimals, a whole number none), so one money column would read 3 / 12.50 / 10. Every board column
holding money, a percent, a count, a date or a time is declared here, so it has one number format.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from lib.campaign.board.figures import RATE
from lib.campaign.board.units import UNIT_LABELS
from lib.office.excel import to_xlsx

#: The kind (a field type or column kind of ``lib.core.values``) of each board column of numbers or times.
#: A detail-table column headed with a bound field's label has that field's kind (``Board.kinds``).
COLUMN_KINDS = {
    "台账奖补金额": "money", "填报奖补金额": "money", RATE: "percent",
    UNIT_LABELS["reported_at"]: "datetime", UNIT_LABELS["days_late"]: "integer",
    "截止日期": "date", "开始": "date", "结束": "date",
}


def column_kinds(frame: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> dict[str, str]:
    """The declared kinds of ``frame``'s columns (those it has): the board's own, and ``kinds`` (a
    board's columns named after its form's fields).

    >>> column_kinds(pd.DataFrame(columns=["单位", "奖补金额（万元）", "填报时间"]), {"奖补金额（万元）": "money"})
    {'奖补金额（万元）': 'money', '填报时间': 'datetime'}
    """
    declared = {**COLUMN_KINDS, **(kinds or {})}
    return {str(c): declared[str(c)] for c in frame.columns if str(c) in declared}


def workbook(sheets: Mapping[str, pd.DataFrame], kinds: Mapping[str, str] | None = None) -> bytes:
    """``.xlsx`` bytes of board tables (sheet name -> table), every declared column in its format
    (``kinds``: ``Board.kinds``, the kinds of the columns named after a form's fields)."""
    return to_xlsx(dict(sheets), {name: column_kinds(frame, kinds) for name, frame in sheets.items()})
