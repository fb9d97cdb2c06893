"""Rectification items in the store, and the statuses of their lifecycle.

Storage (every write audited by the store, nothing deleted): ``rectification_items``, one row per item.
Its status (the record's status) is one of ``STATUSES``; 逾期 is not a status but a fact of the day
(``overdue``): an item past its due date and not closed. Its columns: the item's id, the rule that
opened it (``manual`` for one added by hand) and the finding it came from (kind of form, form id, row
id: with the rule, the key that makes generation idempotent), its category, the supervising city, the
party answering for it (kind: provider / firm / lead unit, name, credit code) and the organisation
that acts for it (``actor_org``: the provider for a firm's item, the party itself otherwise), the
project (voucher, name), what was found, the due date; then the checklist as it stands (``steps``: one
table row per step of the category: step key, done, text), the evidence files (``evidence``: one table
row per file: step key and the file's {sha256, name, type, size}), the last return reason, and the
violations recorded on it (``violations``: ``VIOLATION_PARTS`` — how handled, amount in 万元, decision reference).
An item opens with none of these four: its checklist is its category's steps, none ticked, until the
first tick stores it whole (a blank cell reads as no step ticked, no file, no reason, no violation; 20,000
items open in one click without writing 60,000 rows of "not done").

The sheet is a record of what was done: like the sampling records, a cell edited in the workbook is
never imported (a sheet that is no form of the catalog is locked whole).

An item the province cancels (已撤销: its party answers to no account and nobody can be named, or its
source row was corrected or withdrawn; ``lib.rectification.admin``) is kept with its history, as a closed
one is: it is not open (``ENDED``), never 逾期, and generation never opens its finding again. How the
acting organisation was found is kept beside it (``actor_match``: ``lib.rectification.match``).

>>> STATUSES[0], STATUSES[-1], ALL_STATUSES[-1], CLOSED in ENDED, CANCELLED in ENDED
('待整改', '已销号', '已撤销', True, True)
"""

from __future__ import annotations

import datetime as dt

from lib.store.base import Column, SheetSpec

PENDING = "待整改"  # opened, nothing done yet
IN_PROGRESS = "整改中"  # the party has started, or the city returned its materials
SUBMITTED = "已提交整改材料"  # every step ticked with its evidence: the city verifies
VERIFIED = "地市已核实"  # the city accepted it: the province closes it
CLOSED = "已销号"  # closed by the province
CANCELLED = "已撤销"  # cancelled by the province with a reason, without evidence: kept, not open
#: The lifecycle, in order.
STATUSES = (PENDING, IN_PROGRESS, SUBMITTED, VERIFIED, CLOSED)
#: Every status an item may have: the lifecycle, then the way out of it (the lists and their filters).
ALL_STATUSES = (*STATUSES, CANCELLED)
#: The statuses of an item no longer open: nothing waits on it, it is never 逾期.
ENDED = (CLOSED, CANCELLED)
#: Not a status: what an open item past its due date is shown as, beside its status.
OVERDUE = "逾期"
#: The rule of an item added by hand.
MANUAL = "manual"
#: How a violation is handled (the notice's words; one per row of an item's ``violations``): 追回资金
#: carries the amount recovered, in 万元.
RECOVERY = "追回资金"
HANDLINGS = (RECOVERY, "取消资格", "约谈", "通报")
#: The parts of a recorded violation (one row of an item's ``violations``), in order: how it is handled
#: (one of HANDLINGS), the amount recovered in 万元 (追回资金 only, else None), the decision's reference.
VIOLATION_PARTS = (Column("measure", "处理方式"), Column("amount", "追回金额（万元）", "number", "money"),
                   Column("reference", "处理决定文号"))

ITEMS = SheetSpec("rectification_items", "整改台账", (
    Column("item_id", "整改编号"),
    Column("rule", "生成规则"),
    Column("source_kind", "问题来源类别"),
    Column("source_form", "问题来源表单"),
    Column("source_row", "问题来源记录"),
    Column("category", "整改类别"),
    Column("city", "督办地市"),
    Column("party_kind", "责任主体类别"),
    Column("party", "责任主体"),
    Column("party_code", "责任主体统一社会信用代码"),
    Column("actor_org", "整改办理单位"),
    Column("actor_match", "办理单位认定方式"),
    Column("voucher", "服务券编号"),
    Column("project", "项目名称"),
    Column("finding", "发现的问题"),
    Column("due", "整改期限", "date"),
    Column("steps", "整改步骤", "table"),
    Column("evidence", "整改材料", "table"),
    Column("reason", "退回原因"),
    Column("violations", "违规处理", "table"),
))
SHEETS = (ITEMS,)


def overdue(status: str, due: dt.date | None, today: dt.date) -> bool:
    """Whether an item in ``status`` due on ``due`` is 逾期 on ``today``: past its due date and still open.

    >>> day, due = dt.date(2020, 11, 1), dt.date(2020, 10, 31)
    >>> overdue(IN_PROGRESS, due, day), overdue(CLOSED, due, day), overdue(CANCELLED, due, day)
    (True, False, False)
    """
    return status not in ENDED and due is not None and today > due
