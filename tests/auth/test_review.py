"""The review workflow: 已提交 → 退回修改 (reason seen by the filler) → 已重新提交 → 已通过; bulk
actions; every transition in the audit trail; a city reviews only its city's 附件2."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from lib import review, submissions
from lib.auth.policy import row_city
from lib.core.statuses import APPROVED, RESUBMITTED, RETURNED, SUBMITTED
from tests.forms.inline import demo_form

from .conftest import GZ, PROVINCE

CITIES = ()


def cities(catalog):
    return tuple(catalog.campaign.cities)


def test_return_resubmit_approve(store, catalog, actors):
    form, provider = catalog.form("att1"), actors["provider"]
    row = next(r for r in submissions.my_records(store, form, provider) if r.status == SUBMITTED)

    returned = review.return_for_changes(store, form, PROVINCE, {row.id: row.rev}, "月活跃用户数与使用状态不符，请核实。")
    assert [r.status for r in returned.done] == [RETURNED] and not returned.skipped
    mine = {r.id: r for r in submissions.my_records(store, form, provider)}
    assert mine[row.id].status == RETURNED
    assert review.return_reasons(store, form, mine.values())[row.id] == "月活跃用户数与使用状态不符，请核实。"
    assert row.id not in {r.id for r in review.queue(store, PROVINCE, form)}

    current = mine[row.id]
    fixed = submissions.submit(store, form, {**current.values, "monthly_active_users": 3}, provider,
                               cities=cities(catalog), row_id=row.id, base_rev=current.rev)
    assert fixed.ok and fixed.record.status == RESUBMITTED
    assert row.id in {r.id for r in review.queue(store, PROVINCE, form)}

    approved = review.approve(store, form, PROVINCE, {row.id: fixed.record.rev})
    assert approved.done[0].status == APPROVED
    with pytest.raises(submissions.NotAllowed) as refused:
        submissions.withdraw(store, form, row.id, provider, base_rev=approved.done[0].rev)
    assert refused.value.code == "cannot_withdraw"
    approved_row = approved.done[0]
    with pytest.raises(submissions.NotAllowed) as refused:  # an approved row is not corrected any more
        submissions.submit(store, form, approved_row.values, provider, cities=cities(catalog), row_id=row.id, base_rev=approved_row.rev)
    assert refused.value.code == "closed"
    with pytest.raises(submissions.NotAllowed) as refused:  # nor saved back to a draft
        submissions.save_draft(store, form, approved_row.values, provider, cities=cities(catalog), row_id=row.id, base_rev=approved_row.rev)
    assert refused.value.code == "already_submitted"
    assert store.get("att1", row.id).rev == approved_row.rev  # nothing written

    trail = [(e.action, e.changes.get("_status"), e.note, e.account) for e in store.audit("att1", row.id)]
    assert trail[1] == ("状态变更", (SUBMITTED, RETURNED), "月活跃用户数与使用状态不符，请核实。", "province")
    assert trail[2][1] == (RETURNED, RESUBMITTED) and trail[2][3] == provider.account
    assert trail[3][:3] == ("状态变更", (RESUBMITTED, APPROVED), "审核通过")


def test_bulk_return_with_one_reason_and_bulk_approve(store, catalog):
    form = catalog.form("att3")
    waiting = review.queue(store, PROVINCE, form)
    first, rest = waiting[:5], waiting[5:10]
    out = review.return_for_changes(store, form, PROVINCE, {r.id: r.rev for r in first}, "缺少检查人员签字。")
    assert len(out.done) == 5 and "已退回 5 条记录" in out.summary("退回")
    assert set(review.return_reasons(store, form, first).values()) == {"缺少检查人员签字。"}
    out = review.approve(store, form, PROVINCE, {r.id: r.rev for r in rest})
    assert len(out.done) == 5 and {store.get("att3", r.id).status for r in rest} == {APPROVED}


def test_stale_or_finished_rows_are_skipped_not_overwritten(store, catalog, actors):
    form = catalog.form("att1")
    a, b = review.queue(store, PROVINCE, form)[:2]
    store.update("att1", a.id, base_rev=a.rev, actor=actors["provider"], values={"remarks": "刚改过"})
    review.approve(store, form, PROVINCE, {b.id: b.rev})
    out = review.approve(store, form, PROVINCE, {a.id: a.rev, b.id: b.rev + 1})
    assert not out.done and len(out.skipped) == 2
    assert "已被" in dict(out.skipped)[a.id] and "已通过" in dict(out.skipped)[b.id]


def test_a_return_needs_a_reason_and_writes_nothing_without(store, catalog):
    form = catalog.form("att1")
    row = review.queue(store, PROVINCE, form)[0]
    for reason, code in (("", "reason_missing"), ("   ", "reason_missing"), ("长" * 501, "reason_too_long")):
        with pytest.raises(review.ReviewError) as refused:
            review.return_for_changes(store, form, PROVINCE, {row.id: row.rev}, reason)
        assert refused.value.code == code
    with pytest.raises(review.ReviewError) as refused:
        review.return_for_changes(store, form, PROVINCE, {}, "请补充附件。")
    assert refused.value.code == "nothing_picked"
    assert store.get("att1", row.id).status == SUBMITTED


def test_a_city_reviews_the_att2_reports_of_its_city_only(store, catalog):
    form = catalog.form("att2")
    mine = review.queue(store, GZ, form, statuses=None)
    assert all(row_city(form, r) == "广州" for r in mine)
    assert {r.id for r in mine} == {r.id for r in store.records("att2") if row_city(form, r) == "广州" and r.status != "草稿"}
    foreign = next(r for r in store.records("att2") if row_city(form, r) != "广州" and r.status == SUBMITTED)
    out = review.approve(store, form, GZ, {foreign.id: foreign.rev})
    assert not out.done and "无权审核" in out.skipped[0][1]
    assert store.get("att2", foreign.id).status == SUBMITTED


def test_check_notes_name_what_a_row_no_longer_meets(store, catalog):
    form = catalog.form("att1")
    row = review.queue(store, PROVINCE, form)[0]
    assert review.check_notes(form, row, cities(catalog)) == []
    # a row stored before a rule was tightened (or edited in the workbook) is shown with the rule it breaks
    row.values["subsidy_amount"] = row.values["paid_amount"] + 1
    notes = review.check_notes(form, row, cities(catalog))
    assert any("「奖补金额」不能超过实际支付金额" in n for n in notes)


def test_the_reviewers_notes_judge_on_the_campaign_clock(store, catalog):
    """A follow-up date after the campaign clock is refused by the fill page; the reviewer is told
    so too, and a date before the clock is not held against the row (the real date plays no part)."""
    form, clock = catalog.form("att1"), dt.date(2020, 9, 20)
    row = review.queue(store, PROVINCE, form)[0]
    row.values["followup_date"] = dt.date(2021, 3, 1)
    later = "「回访日期」不能晚于今天"
    assert any(later in n for n in review.check_notes(form, row, catalog.campaign.cities, today=clock))
    assert not any(later in n for n in review.check_notes(form, row, catalog.campaign.cities, today=dt.date(2021, 3, 1)))
    # a warning reading today() follows the same clock
    warned = demo_form("""      - {key: due, label: 到期日, type: date, constraints: [{rule: "due >= today()", message: 已过期, severity: warning}]}
""")
    due = replace(row, form_id="demo", values={"due": dt.date(2020, 10, 1)})
    assert review.warning_notes(warned, due, catalog.campaign.cities, today=clock) == []
    assert review.warning_notes(warned, due, catalog.campaign.cities, today=dt.date(2020, 10, 2)) == ["「到期日」：已过期"]


def test_open_return_reasons_only_for_rows_still_returned(store, catalog, actors):
    form, provider = catalog.form("att1"), actors["provider"]
    a, b = [r for r in submissions.my_records(store, form, provider) if r.status == SUBMITTED][:2]
    review.return_for_changes(store, form, PROVINCE, {a.id: a.rev, b.id: b.rev}, "请补充附件。")
    current = {r.id: r for r in submissions.my_records(store, form, provider)}
    submissions.submit(store, form, current[b.id].values, provider, cities=cities(catalog), row_id=b.id, base_rev=current[b.id].rev)
    mine = submissions.my_records(store, form, provider)
    assert review.open_return_reasons(store, form, mine) == {a.id: "请补充附件。"}
