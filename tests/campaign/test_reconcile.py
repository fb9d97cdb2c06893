"""不得漏报: each discrepancy between 附件1 and the register, on hand-built frames.

Both sides are keyed by meaning, as the board hands them over: the filed projects through
``lib.campaign.bound.meaning_frame`` (with ``_filed_at``), the register from ``current_register``.
The second campaign's reconciliation, from its own form and register file, is in test_register_other.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from lib.auth.policy import comparable
from lib.campaign.bound import meaning_frame
from lib.campaign.register import reconcile as rc

from .conftest import SHIPPED, att1, frame, voucher


def filed(*rows: dict) -> pd.DataFrame:
    """附件1 snapshot rows (conftest.att1: the form's own keys) as reconciliation takes them."""
    return meaning_frame(frame(*rows), SHIPPED.bindings.of("projects"))


def kinds(issues: pd.DataFrame) -> list[tuple[str, str]]:
    return sorted(zip(issues["问题类型"], issues["服务券编号"], strict=True))


def test_clean_match_has_no_issue():
    register = pd.DataFrame([voucher("V-000001")])
    assert rc.reconcile(filed(att1("v-000001 ")), register).empty  # voucher compared upper-case, no spaces


def test_every_kind_of_discrepancy():
    register = pd.DataFrame([
        voucher("V-000001", amount=10.0), voucher("V-000002", city="佛山"), voucher("V-000003", code="F3"),
        voucher("V-000004", provider="服务商乙"), voucher("V-000005"), voucher("V-000006"),
    ])
    reported = filed(
        att1("V-000001", amount=12.5),
        att1("V-000002", city="广州"),
        att1("V-000003", code="OTHER"),
        att1("V-000004", provider="服务商甲"),  # the register gives V-000004 to 服务商乙
        att1("V-000006", created="2020-09-10"),
        att1("V-000006", created="2020-09-12"),  # reported twice by the same provider
        att1("V-000777"),
    )
    issues = rc.reconcile(reported, register)
    assert kinds(issues) == sorted([
        (rc.AMOUNT, "V-000001"), (rc.CITY, "V-000002"), (rc.FIRM, "V-000003"), (rc.PROVIDER, "V-000004"),
        (rc.NOT_REPORTED, "V-000004"), (rc.NOT_REPORTED, "V-000005"), (rc.DUPLICATE, "V-000006"),
        (rc.NOT_IN_REGISTER, "V-000777"),
    ])
    amount = issues[issues["问题类型"] == rc.AMOUNT].iloc[0]
    assert (amount["台账奖补金额"], amount["填报奖补金额"]) == (10.0, 12.5)
    city = issues[issues["问题类型"] == rc.CITY].iloc[0]
    assert (city["地市"], city["台账地市"], city["填报地市"]) == ("佛山", "佛山", "广州")  # the register is the authority
    dup = issues[issues["问题类型"] == rc.DUPLICATE].iloc[0]
    assert dup[rc.FILED_UNIT] == "服务商甲" and dup[rc.UNIT] == "服务商甲"


def test_a_voucher_of_another_provider_is_a_conflict_not_a_match():
    # 服务商乙 files 服务商甲's voucher (wrong firm, wrong amount) before 甲 does, then files it again.
    register = pd.DataFrame([voucher("V-000001", amount=10.0, code="F1"), voucher("V-000002")])
    reported = filed(
        att1("V-000001", provider="服务商乙", amount=99.0, code="X", created="2020-09-09"),
        att1("V-000001", provider="服务商乙", amount=99.0, code="X", created="2020-09-11"),
        att1("V-000001", code="F1", created="2020-09-12"),  # 服务商甲's own, correct filing
    )
    issues = rc.reconcile(reported, register)
    assert kinds(issues) == sorted([(rc.PROVIDER, "V-000001"), (rc.DUPLICATE, "V-000001"), (rc.NOT_REPORTED, "V-000002")])
    conflict = issues[issues["问题类型"] == rc.PROVIDER].iloc[0]
    # shown as 乙's filing (its facts), with the register's facts beside it for the province
    assert (conflict[rc.UNIT], conflict[rc.FILED_UNIT], conflict[rc.REGISTER_UNIT]) == ("服务商乙", "服务商乙", "服务商甲")
    assert (conflict["填报奖补金额"], conflict["台账奖补金额"], conflict["填报账号"]) == (99.0, 10.0, "p2")
    assert issues[issues["问题类型"] == rc.DUPLICATE].iloc[0][rc.UNIT] == "服务商乙"  # 乙's second filing
    # 甲's filing matched its entry (no amount or firm issue, not a duplicate of 乙's)
    assert not ((issues["填报账号"] == "p1") & (issues["问题类型"] != rc.NOT_REPORTED)).any()


def test_the_organisation_is_the_filers_not_the_name_typed_in_the_row():
    register = pd.DataFrame([voucher("V-000001")])
    typed = filed(att1("V-000001", provider="服务商乙") | {"provider_name": "服务商甲"})  # 乙 types 甲's name
    issues = rc.reconcile(typed, register)
    assert kinds(issues) == sorted([(rc.PROVIDER, "V-000001"), (rc.NOT_REPORTED, "V-000001")])


@pytest.mark.parametrize("listed", ["广州ＡＢＣ云科技有限公司", "广州abc云科技有限公司", "广州ABC云科技有限公司\u200b",
                                    " 广州 ABC 云科技有限公司", "广州\u2060ABC云科技有限公司\u200e", "广州ABC云科技\u2800有限公司"],
                         ids=["full-width letters", "lower case", "ZWSP", "blanks", "word joiner + LRM", "braille blank"])
def test_the_register_names_the_provider_as_the_account_names_itself_the_same_rule_as_policy(listed):
    """F18: a register line in another width, case or with an invisible character is the provider's own
    voucher (policy.comparable calls the names equal), not a false 服务券属其他单位."""
    own = "广州ABC云科技有限公司"
    assert comparable(own) == comparable(listed)  # the rule of the forms and the policy
    register = pd.DataFrame([voucher("V-000001", provider=listed)])
    issues = rc.reconcile(filed(att1("V-000001", provider=own)), register)
    assert issues.empty
    assert rc.bind(rc.reported_frame(filed(att1("V-000001", provider=own))), rc.register_frame(register))["conflict"].tolist() == [False]


def test_a_name_that_differs_in_a_letter_is_still_another_provider():
    register = pd.DataFrame([voucher("V-000001", provider="广州ABD云科技有限公司")])
    issues = rc.reconcile(filed(att1("V-000001", provider="广州ABC云科技有限公司")), register)
    assert kinds(issues) == sorted([(rc.PROVIDER, "V-000001"), (rc.NOT_REPORTED, "V-000001")])


def test_amounts_within_half_a_cent_match():
    register = pd.DataFrame([voucher("V-000001", amount=10.0)])
    assert rc.reconcile(filed(att1("V-000001", amount=10.004)), register).empty


def test_without_a_register_every_report_is_unknown_and_nothing_is_missing():
    empty = pd.DataFrame(columns=["voucher", "firm", "firm_code", "provider", "city", "subsidy"])
    issues = rc.reconcile(filed(att1("V-000001"), att1("V-000002")), empty)
    assert set(issues["问题类型"]) == {rc.NOT_IN_REGISTER} and len(issues) == 2
    assert rc.reconcile(filed(), empty).empty


def test_summary_per_provider_and_per_city():
    register = pd.DataFrame([voucher("V-000001"), voucher("V-000002", provider="服务商乙", city="佛山"), voucher("V-000003", provider="服务商乙", city="佛山")])
    issues = rc.reconcile(filed(att1("V-000001", amount=1.0)), register)
    by_provider = rc.summarize(issues, rc.UNIT).set_index(rc.UNIT)
    assert by_provider.loc["服务商乙", rc.NOT_REPORTED] == 2 and by_provider.loc["服务商甲", rc.AMOUNT] == 1
    assert by_provider.index.tolist() == ["服务商乙", "服务商甲"]  # most issues first
    by_city = rc.summarize(issues, "地市").set_index("地市")
    assert by_city.loc["佛山", "合计"] == 2 and by_city.loc["广州", "合计"] == 1
    assert list(rc.summarize(issues.iloc[0:0], "地市").columns) == ["地市", *rc.ISSUE_TYPES, "合计"]


def test_match_without_a_merge_equals_the_merge():
    # _match_fast finds the pairs by hash lookups; _match_merge (the outer merge it replaced, still used
    # for repeated register vouchers) is the reference.
    import datetime as dt

    import numpy as np

    rng = np.random.default_rng(5)
    register = pd.DataFrame([
        voucher(f"V-{i:06d}", provider=f"服务商{i % 3}", city=("广州", "佛山")[i % 2], amount=float(i % 7 + 1), code=f"F{i}")
        for i in rng.permutation(60)
    ])
    rows = []
    for k, i in enumerate(rng.integers(0, 80, 90)):  # vouchers 60..79 are not in the register; some repeat
        rows.append(att1(f"v-{i:06d} " if k % 11 == 0 else f"V-{i:06d}", provider=f"服务商{(i + (k % 13 == 0)) % 3}",
                         city=("广州", "佛山")[(i + (k % 17 == 0)) % 2], amount=float(i % 7 + 1) + (k % 19 == 0),
                         code=f"F{i}" if k % 23 else "OTHER", created=str(dt.date(2020, 9, 7 + k % 9))))
    rep, reg = rc.reported_frame(filed(*rows)), rc.register_frame(register)
    assert rep["duplicate"].any()
    fast, merged = rc._match_fast(rep, reg), rc._match_merge(rep, reg)
    assert set(fast["问题类型"]) == set(rc.ISSUE_TYPES)
    pd.testing.assert_frame_equal(fast, merged)
