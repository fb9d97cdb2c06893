"""The life of a rectification item: the acting organisation ticks its checklist and attaches evidence
(``tick``), submits it (``submit``), the city verifies or returns it (``verify``), the province closes it
(``close``) and records violations on it (``record_violation``); ``actions_for`` says what waits for whom.

Each write is authorised by the policy (``lib.auth.policy``: RECTIFY_ACT, RECTIFY_VERIFY, RECTIFY_CLOSE,
RECTIFY_GENERATE; a refusal audited 拒绝访问), checked against the item's status and the campaign's
checklist, then made as one ``store.update`` from the revision the caller read (``base_rev``): a stale one
is refused naming who changed the item since. A refused write writes nothing. Every write is audited by
the store; its note is the readable line (status from → to, by whom, what).

>>> ACTION_NAMES[VERIFY]
'核实整改材料'
"""

from __future__ import annotations

import datetime as dt

from lib.auth.policy import RECTIFY_ACT, RECTIFY_CLOSE, RECTIFY_VERIFY, can
from lib.core.records import Actor, Record

from .records import IN_PROGRESS, PENDING, SUBMITTED, VERIFIED

TICK = "tick"  # tick / untick steps, write their text, attach their files
SUBMIT = "submit"  # hand the finished checklist to the city
VERIFY = "verify"  # the city: accept (通过) or return (退回) what was submitted
CLOSE = "close"  # the province: close (销号) a verified item
#: What each action is called on a button and in a to-do line.
ACTION_NAMES = {TICK: "办理整改", SUBMIT: "提交整改材料", VERIFY: "核实整改材料", CLOSE: "销号"}


def _all_ticked(item: Record) -> bool:
    steps = item.values.get("steps") or []
    return bool(steps) and all(s.get("done") for s in steps)


def actions_for(actor: Actor, item: Record, today: dt.date) -> tuple[str, ...]:
    """What waits for ``actor`` on ``item`` now, in the order of the lifecycle: keys of ``ACTION_NAMES``.
    An overdue item (``today``, the campaign clock, past its due date) is worked on, verified and closed
    all the same: 逾期 is shown, it blocks nothing. Recording a violation never waits for anyone (the
    province may record one on any item: ``can(actor, RECTIFY_GENERATE)``)."""
    if item.status in (PENDING, IN_PROGRESS) and can(actor, RECTIFY_ACT, row=item):
        return (TICK, SUBMIT) if item.status == IN_PROGRESS and _all_ticked(item) else (TICK,)
    if item.status == SUBMITTED and can(actor, RECTIFY_VERIFY, row=item):
        return (VERIFY,)
    if item.status == VERIFIED and can(actor, RECTIFY_CLOSE, row=item):
        return (CLOSE,)
    return ()
