"""The demo campaign's review history: some rows approved, some returned with a reason, some of
those corrected and resubmitted — so boards, 审核 and 我的填报 show every state of the workflow.

Done through the real review and filler functions, so every transition is authorised and audited
as it would be in use; the store's clock dates the reviews after the deadlines.
"""

from __future__ import annotations

import datetime as dt
import random

from lib import review, submissions
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.store.base import Store

from .lexicon import CITY_INFO
from .timeline import FilingClock

PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")

#: Share of each form's submitted rows approved, and returned, by its reviewer.
APPROVE_SHARE = 0.3
RETURN_SHARE = 0.05
#: Share of returned rows the filler has already corrected and resubmitted.
RESUBMIT_SHARE = 0.5

REASONS = (
    "实际支付金额与合同金额不符，请核对付款凭证后重新填写。",
    "使用状态与回访记录不一致，请如实填报。",
    "请补充原因说明和下一步改进措施。",
    "联系人电话无法接通，请更新联系人信息。",
)


def _reviewer(form_reviewer: str, city: str) -> Actor:
    if form_reviewer == "city":
        info = CITY_INFO[city]
        return Actor(f"city_{info.account}", "city", info.bureau, city)
    return PROVINCE


def review_demo(store: Store, catalog, clock: FilingClock, *, seed: int = 2020) -> dict[str, dict[str, int]]:
    """Approve and return a share of every reviewed form's rows; return counts per form and status."""
    rng = random.Random(seed)
    counts: dict[str, dict[str, int]] = {}
    for form in catalog.forms():
        if not form.reviewed_by:
            continue
        deadline = catalog.campaign.deadlines[form.deadline]
        rows = [r for r in store.records(form.id) if r.status == SUBMITTED]
        rng.shuffle(rows)
        n_approve, n_return = round(len(rows) * APPROVE_SHARE), max(1, round(len(rows) * RETURN_SHARE))
        approved, returned = rows[:n_approve], rows[n_approve : n_approve + n_return]
        clock.set(dt.datetime.combine(deadline + dt.timedelta(days=2), dt.time(10)))
        by_reviewer: dict[Actor, dict[str, dict[str, int]]] = {}
        for verb, chosen in (("approve", approved), ("return", returned)):
            for record in chosen:
                who = _reviewer(form.reviewed_by, _city_of(form, record))
                by_reviewer.setdefault(who, {"approve": {}, "return": {}})[verb][record.id] = record.rev
        for who, picks in by_reviewer.items():
            review.approve(store, form, who, picks["approve"])
            if picks["return"]:
                review.return_for_changes(store, form, who, picks["return"], rng.choice(REASONS))
        clock.set(dt.datetime.combine(deadline + dt.timedelta(days=4), dt.time(15)))
        for record in returned[: round(len(returned) * RESUBMIT_SHARE)]:
            current = store.get(form.id, record.id)
            filler = Actor(current.owner, form.filled_by, current.org, current.city)
            submissions.submit(store, form, current.values, filler, cities=catalog.campaign.cities, row_id=current.id, base_rev=current.rev)
        statuses: dict[str, int] = {}
        for record in store.records(form.id):
            statuses[record.status] = statuses.get(record.status, 0) + 1
        counts[form.id] = statuses
    return counts


def _city_of(form, record) -> str:
    """The city a row belongs to for review: its form's first city field, else its filer's city."""
    for spec in form.all_fields():
        if spec.type == "city" and record.values.get(spec.key):
            return record.values[spec.key]
    return record.city
