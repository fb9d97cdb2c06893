"""The statuses a row moves through, as stored in its ``_status`` column: the one home of the words.

They are the application's row lifecycle, not a campaign's choice: every workbook stores them, and
the moves between them are code — a filler submits, resubmits, withdraws (``lib.submissions``); a
reviewer approves or returns (``lib.review``; who reviews a form is its YAML's ``reviewed_by``).
Renaming one in a campaign file would leave every stored row and every comparison behind, so a
campaign file does not declare them: its ``statuses:`` section may only restate :data:`KEYS`
exactly (a campaign file written before this rule still loads) and is refused at load when it adds,
drops or renames one (``lib.forms.spec.CampaignSpec``). Everything else compares against these
names, and the groups of them below, rather than spelling the words again.

>>> DRAFT in ALL and len(set(ALL)) == len(ALL) == 6
True
>>> KEYS["approved"] == APPROVED and tuple(KEYS.values()) == ALL
True
>>> NOT_FILED == (DRAFT, WITHDRAWN) and sorted(FILED + NOT_FILED) == sorted(ALL)
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
#: Each status by its stable key, the name configuration and workbook rules use for it.
KEYS = {"draft": DRAFT, "submitted": SUBMITTED, "returned": RETURNED, "resubmitted": RESUBMITTED,
        "approved": APPROVED, "withdrawn": WITHDRAWN}
#: Statuses nobody changes any more: approved (reviewed) and withdrawn (the filler took it back; it
#: comes back only by a new submission, through review). A row in one is read, never edited.
CLOSED = (APPROVED, WITHDRAWN)
#: Statuses in which a row counts as filed (reported): the boards count it, and its filing time is
#: when it last entered one of them from outside. A draft and a withdrawn row do not count.
FILED = (SUBMITTED, RETURNED, RESUBMITTED, APPROVED)
#: The other statuses (a draft, a withdrawn row): the boards show such a row apart and never count it.
NOT_FILED = tuple(s for s in ALL if s not in FILED)
