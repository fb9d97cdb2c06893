"""Who has reported, who is late, what the reports say: every board figure from snapshots.

Pure functions on DataFrames, in two steps so many viewers share the work:

1. ``prepare(frames, vouchers, projects, calendar, as_of)`` — the expensive part, once per data
   change: normalise the three forms, keep the rows that count (not 草稿/已撤回, created on or before
   ``as_of``), match them to the registers, and build ``units``: one row per thing that is due or
   was reported (a register entry, an off-register report, a duplicate, a draft).
2. ``board(prepared, scope)`` — cheap: narrow to what the viewer may see and aggregate.

What is expected (应报) per city:

* 附件1 — the in-scope entries of the voucher register in that city (one row per project);
* 附件2 — the in-scope benchmark projects (在建 / 到期未验收) of that city;
* 附件3 — also the voucher register entries of that city: the form asks the city to list every
  2018/2019 project, checked or not (检查方式 未检查), so "one row per city" would hide omissions.

A register entry counts as reported by its earliest filing; a filing made after the form's deadline
is 逾期报送 (late), one still in 退回修改 is returned; once the deadline has passed (as of the
campaign clock) an entry with no filing is 逾期未报.

This module is the board's public face; the work lives in the modules named after its parts:
``schedule`` (Calendar), ``scope`` (what a viewer sees), ``units`` (states of due and filed things),
``detail_tables``, ``preparation`` (step 1), ``board`` (step 2), with ``tally`` and ``late_list``.
"""

from __future__ import annotations

from lib.campaign.board.detail_tables import CONCLUSIONS, EXEMPT, NO_RATIO, USAGE_STATES
from lib.campaign.board.figures import ALL, RATE, Board, board, compute_board, narrow, state_counts
from lib.campaign.board.preparation import Prepared, change_counter, prepare
from lib.campaign.board.scope import Scope, scope_for
from lib.campaign.board.units import (
    DUPLICATE,
    LATE_FILED,
    MISSING,
    ON_TIME,
    OVERDUE,
    REPORTED_STATES,
    REPORTED_STATUSES,
    RETURNED_STATE,
    STATES,
)
from lib.campaign.schedule import FORM_IDS, Calendar

__all__ = [
    "ALL", "CONCLUSIONS", "DUPLICATE", "EXEMPT", "FORM_IDS", "LATE_FILED", "MISSING", "NO_RATIO", "ON_TIME", "OVERDUE",
    "RATE", "REPORTED_STATES", "REPORTED_STATUSES", "RETURNED_STATE", "STATES", "USAGE_STATES",
    "Board", "Calendar", "Prepared", "Scope", "board", "change_counter", "compute_board", "narrow", "prepare",
    "scope_for", "state_counts",
]
