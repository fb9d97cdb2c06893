"""The statuses a row moves through, as stored in its ``_status`` column: the one home of the words.

``lib.submissions`` (a filler submits, resubmits, withdraws) and ``lib.review`` (a reviewer approves
or returns) hold the rules that move a row between them; everything else compares against these
names rather than spelling the words again. They equal the ``statuses:`` section of
``forms/campaign.yaml`` (key ``draft`` is ``DRAFT`` and so on), which external workbook edits read.

>>> DRAFT in ALL and len(set(ALL)) == len(ALL) == 6
True
"""

from __future__ import annotations

DRAFT = "草稿"
SUBMITTED = "已提交"
RETURNED = "退回修改"
RESUBMITTED = "已重新提交"
APPROVED = "已通过"
WITHDRAWN = "已撤回"

#: Every status, in the order a row usually meets them.
ALL = (DRAFT, SUBMITTED, RETURNED, RESUBMITTED, APPROVED, WITHDRAWN)
