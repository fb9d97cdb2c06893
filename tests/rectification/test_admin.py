"""The province's repairs (attack N1, N2): an item nobody answers for is listed 无对应账号 and reassigned to an
account's organisation, which can then work it; an item whose source was corrected or withdrawn is listed and
cancelled (已撤销: kept, not open, not 逾期, never generated again); each write the province's, with a reason,
audited, from the revision read."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.auth.errors import Forbidden
from lib.core.records import Actor
from lib.core.statuses import WITHDRAWN
from lib.rectification import admin, match
from lib.rectification import generate as gen
from lib.rectification import lists as rl
from lib.rectification.lifecycle import actions_for
from lib.rectification.records import CANCELLED, ITEMS, PENDING, overdue
from lib.store.base import ConflictError

from .conftest import CITY_GZ, LEAD_UNIT, OTHER_PROVIDER, PROVIDER, PROVINCE, SHIPPED, file_row, rectification_day

TODAY = rectification_day()
ACCOUNTS = [PROVINCE, CITY_GZ, PROVIDER, OTHER_PROVIDER, LEAD_UNIT]


def check(store, voucher: str, conclusion: str, provider: str):
    return file_row(store, "checks", {"voucher": voucher, "city": "广州", "firm": f"{voucher}企业", "provider": provider,
                                      "conclusion": conclusion})


def generated(store) -> dict[str, object]:
    gen.generate(store, SHIPPED, PROVINCE, TODAY, accounts=ACCOUNTS)
    return {r.values["source_row"]: r for r in store.records(ITEMS.form_id)}


def test_an_item_nobody_answers_for_is_listed_and_once_reassigned_its_provider_works_it(store):
    row = check(store, "V-0101", "fail", "无名科技")
    item = generated(store)[row.id]
    assert admin.unmatched(store.records(ITEMS.form_id), ACCOUNTS) == [item]
    assert all(actions_for(who, item, TODAY) == () for who in ACCOUNTS)  # what the attack found: stuck for good

    moved = admin.reassign(store, SHIPPED, PROVINCE, item.id, item.rev, " 广州云智科技有限公司", "城市核实为该服务商", accounts=ACCOUNTS)
    assert (moved.values["actor_org"], moved.status) == (PROVIDER.org, PENDING)
    assert moved.values["actor_match"] == f"{match.BY_PROVINCE}：城市核实为该服务商"
    assert actions_for(PROVIDER, moved, TODAY) == ("tick",) and admin.unmatched([moved], ACCOUNTS) == []
    note = store.audit(ITEMS.form_id, item.id)[-1].note
    assert admin.REASSIGNED in note and "无名科技 → 广州云智科技有限公司" in note and "城市核实为该服务商" in note


def test_an_account_created_later_under_the_typed_name_answers_for_the_item(store):
    row = check(store, "V-0107", "fail", "新设科技有限公司")
    item = generated(store)[row.id]
    later = Actor("provider_n", "provider", "新设科技有限公司", "广州")
    assert admin.unmatched([item], ACCOUNTS) == [item] and admin.unmatched([item], [*ACCOUNTS, later]) == []
    assert actions_for(later, item, TODAY) == ("tick",)


@pytest.mark.parametrize("org, reason, code", [
    ("不存在的公司", "理由", "unknown_org"),
    (LEAD_UNIT.org, "理由", "unknown_org"),  # a lead unit does not act for a provider's item
    (PROVIDER.org, "  ", "reason_missing"),
    (PROVIDER.org, "理由\u202e", "bad_text"),
])
def test_a_reassignment_to_no_account_or_without_a_reason_is_refused_and_nothing_written(store, org, reason, code):
    row = check(store, "V-0102", "fail", "无名科技")
    item = generated(store)[row.id]
    with pytest.raises(admin.AdminError) as info:
        admin.reassign(store, SHIPPED, PROVINCE, item.id, item.rev, org, reason, accounts=ACCOUNTS)
    assert info.value.code == code and store.get(ITEMS.form_id, item.id).rev == item.rev


def test_only_the_province_reassigns_or_cancels_and_a_stale_revision_is_refused(store):
    row = check(store, "V-0103", "fail", "无名科技")
    item = generated(store)[row.id]
    for who in (CITY_GZ, PROVIDER):
        with pytest.raises(Forbidden):
            admin.cancel(store, SHIPPED, who, item.id, item.rev, "理由")
        with pytest.raises(Forbidden):
            admin.reassign(store, SHIPPED, who, item.id, item.rev, PROVIDER.org, "理由", accounts=ACCOUNTS)
    admin.reassign(store, SHIPPED, PROVINCE, item.id, item.rev, PROVIDER.org, "理由", accounts=ACCOUNTS)
    with pytest.raises(ConflictError):
        admin.cancel(store, SHIPPED, PROVINCE, item.id, item.rev, "理由")
    assert store.get(ITEMS.form_id, item.id).status == PENDING


def test_a_corrected_or_withdrawn_source_is_listed_and_its_item_cancelled_kept_not_overdue_reopened_only_if_it_changes(store):
    corrected = check(store, "V-0104", "fail", PROVIDER.org)
    withdrawn = check(store, "V-0105", "fail", PROVIDER.org)
    kept = check(store, "V-0106", "fail", PROVIDER.org)
    opened = generated(store)
    binding = SHIPPED.bindings.of("checks")
    store.update(binding.form, corrected.id, base_rev=corrected.rev, actor=CITY_GZ,
                 values={binding.key("conclusion"): binding.word("conclusion", "pass")})
    store.update(binding.form, withdrawn.id, base_rev=withdrawn.rev, actor=CITY_GZ, status=WITHDRAWN)

    items = store.records(ITEMS.form_id)
    listed = {i.values["source_row"]: why for i, why in admin.stale(store, SHIPPED, items, TODAY)}
    assert listed == {corrected.id: gen.CORRECTED, withdrawn.id: gen.WITHDRAWN}
    assert gen.generate(store, SHIPPED, PROVINCE, TODAY, accounts=ACCOUNTS).stale == 2

    item = opened[corrected.id]
    done = admin.cancel(store, SHIPPED, PROVINCE, item.id, item.rev, "地市复核后改为合格")
    assert done.status == CANCELLED and "地市复核后改为合格" in store.audit(ITEMS.form_id, item.id)[-1].note
    assert not overdue(done.status, done.values["due"], done.values["due"] + dt.timedelta(days=30))
    assert actions_for(PROVIDER, done, TODAY) == () and kept.id not in listed
    with pytest.raises(admin.AdminError) as info:
        admin.cancel(store, SHIPPED, PROVINCE, done.id, done.rev, "再次撤销")
    assert info.value.code == "not_open"

    # unchanged since it was cancelled, the finding is not opened again: the province decided on it
    assert gen.generate(store, SHIPPED, PROVINCE, TODAY, accounts=ACCOUNTS).created == ()
    # changed after the cancellation and failing again, it is a finding again (attack P4: withdrawn to be
    # corrected, cancelled as 来源已撤回, refiled still failing must not be lost); the cancelled item is kept
    again = store.get(binding.form, corrected.id)
    store.update(binding.form, again.id, base_rev=again.rev, actor=CITY_GZ,
                 values={binding.key("conclusion"): binding.word("conclusion", "fail")})
    summary = gen.generate(store, SHIPPED, PROVINCE, TODAY, accounts=ACCOUNTS)
    assert len(summary.created) == 1
    reopened = [r for r in store.records(ITEMS.form_id) if r.values["source_row"] == corrected.id and r.status != CANCELLED]
    assert len(reopened) == 1 and reopened[0].status == PENDING
    assert gen.generate(store, SHIPPED, PROVINCE, TODAY, accounts=ACCOUNTS).created == ()  # once
    assert store.get(ITEMS.form_id, item.id).status == CANCELLED
    assert rl.task_list([store.get(ITEMS.form_id, item.id)], SHIPPED.campaign.rectification).empty


def test_a_source_naming_another_provider_or_city_now_is_listed_as_corrected(store):
    """Attack P2: a check corrected to name another provider still meets its rule, but its item would go on
    being worked by the old provider and verified by the old city: it is listed for the province."""
    moved = check(store, "V-0107", "fail", PROVIDER.org)
    opened = generated(store)
    binding = SHIPPED.bindings.of("checks")
    store.update(binding.form, moved.id, base_rev=moved.rev, actor=CITY_GZ, values={binding.key("provider"): OTHER_PROVIDER.org})
    items = store.records(ITEMS.form_id)
    assert {i.values["source_row"]: why for i, why in admin.stale(store, SHIPPED, items, TODAY)} == {moved.id: gen.CORRECTED}
    assert opened[moved.id].values["party"] == PROVIDER.org


def test_a_reassigned_item_leaves_the_old_provider_and_is_not_moved_once_submitted(store, tmp_path):
    """Attack P3: after 改派 the old provider went on reading the item (and the new one's evidence) as its named
    party, and counting it as its open item; and an item with the city could be moved under it."""
    from lib.core.blobs import Blobs
    from lib.rectification.lifecycle import submit, tick
    from lib.rectification.scope import visible_items

    row = check(store, "V-0108", "fail", OTHER_PROVIDER.org)
    item = generated(store)[row.id]
    assert [i.id for i in visible_items(store, OTHER_PROVIDER)] == [item.id]
    moved = admin.reassign(store, SHIPPED, PROVINCE, item.id, item.rev, PROVIDER.org, "核实为该服务商实施", accounts=ACCOUNTS)
    assert moved.values["party"] == PROVIDER.org and visible_items(store, OTHER_PROVIDER) == []
    category = SHIPPED.campaign.rectification.category(moved.values["category"])
    for step in (s for s in category.steps if s.by == "party"):
        moved = tick(store, SHIPPED, PROVIDER, moved.id, moved.rev, step.key, True,
                     text="已整改" if step.evidence == "text" else None,
                     files=[("整改.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")] if step.evidence == "file" else (),
                     blobs=Blobs(tmp_path / "files"))
    moved = submit(store, SHIPPED, PROVIDER, moved.id, moved.rev)
    with pytest.raises(admin.AdminError) as info:
        admin.reassign(store, SHIPPED, PROVINCE, moved.id, moved.rev, OTHER_PROVIDER.org, "改回", accounts=ACCOUNTS)
    assert info.value.code == "not_reassignable" and store.get(ITEMS.form_id, moved.id).rev == moved.rev
