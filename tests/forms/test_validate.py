"""The shipped forms' rules, checked through `check_answers` exactly as the fill page runs them."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.forms import check_answers
from lib.forms.errors import MESSAGES
from lib.forms.types import credit_code_check_char


def make_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


def problems_of(outcome) -> dict[str, str]:
    """field -> code of its first problem."""
    found: dict[str, str] = {}
    for p in outcome.problems:
        found.setdefault(p.field, p.code)
    return found


# --- Attachment 1 -------------------------------------------------------------------------------


def test_valid_att1_passes_and_is_typed(check, att1_answers):
    outcome = check("att1", att1_answers())
    assert outcome.ok, outcome.problems
    v = outcome.values
    assert v["contract_date"] == dt.date(2019, 4, 12)
    assert (v["contract_amount"], v["paid_amount"], v["subsidy_amount"]) == (20.0, 19.5, 3.0)
    assert v["monthly_active_users"] == 35
    assert v["followup_services"] == ["培训辅导", "项目维保"]
    assert v["contacts"] == [{"contact_name": "陈伟", "contact_title": "信息部经理", "contact_phone": "13800138000"}]
    assert "reason" in outcome.hidden and v["reason"] is None


@pytest.mark.parametrize(
    "field, raw, ok",
    [
        ("provider_credit_code", make_code("91440101MA5CXY712"), True),
        ("provider_credit_code", make_code("91440101MA5CXY712").lower(), True),
        ("provider_credit_code", "91440101MA5CXY7120", False),  # 19 characters
        ("provider_credit_code", make_code("91440101MA5CXY712")[:-1] + ("1" if make_code("91440101MA5CXY712").endswith("0") else "0"), False),
        ("client_credit_code", "9144030071526726XG", True),
        ("client_credit_code", "9144030071526726XH", False),
        ("client_credit_code", "91440101MA59ABCDIM", False),  # the letter I is never used
    ],
)
def test_credit_codes(check, att1_answers, field, raw, ok):
    outcome = check("att1", att1_answers(**{field: raw}))
    assert outcome.ok is ok
    if not ok:
        assert problems_of(outcome) == {field: "bad_credit_code"}
    else:
        assert outcome.values[field] == raw.upper()


@pytest.mark.parametrize(
    "contract, paid, subsidy, field, fragment",
    [
        ("20", "19.5", "19.6", "subsidy_amount", "奖补金额"),  # subsidy > paid
        ("20", "17.99", "3", "paid_amount", "90%"),  # paid < 90% of contract
        ("20", "20.01", "3", "paid_amount", "不能超过合同金额"),  # paid > contract
    ],
    ids=["subsidy above paid", "paid below 90%", "paid above contract"],
)
def test_amount_rules(check, att1_answers, contract, paid, subsidy, field, fragment):
    outcome = check("att1", att1_answers(contract_amount=contract, paid_amount=paid, subsidy_amount=subsidy))
    assert problems_of(outcome) == {field: "constraint"}
    assert fragment in outcome.problems[0].message


@pytest.mark.parametrize("contract", [None, "二十万", "20.001"])
def test_amount_rule_waits_for_a_usable_contract_amount(check, att1_answers, contract):
    # Only the contract amount is reported, not a spurious "paid must be 90%..." on paid_amount.
    outcome = check("att1", att1_answers(contract_amount=contract))
    assert list(problems_of(outcome)) == ["contract_amount"]


@pytest.mark.parametrize("contract, paid, subsidy", [("20", "18", "18"), ("20", "20", "0.01"), ("33.33", "30", "1")])
def test_amount_boundaries_pass(check, att1_answers, contract, paid, subsidy):
    assert check("att1", att1_answers(contract_amount=contract, paid_amount=paid, subsidy_amount=subsidy)).ok


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.integers(min_value=100, max_value=999_999))  # below the fields' max, 10000.00 万元
def test_paid_between_90_and_100_percent_to_the_cent(check, att1_answers, cents):
    # Float arithmetic must not refuse a payment of exactly 90% (as `paid >= contract * 0.9` would).
    paid = math.ceil(cents * 9 / 10)
    contract, at_least = f"{cents / 100:.2f}", f"{paid / 100:.2f}"
    assert check("att1", att1_answers(contract_amount=contract, paid_amount=at_least, subsidy_amount="0.01")).ok
    below = check("att1", att1_answers(contract_amount=contract, paid_amount=f"{(paid - 1) / 100:.2f}", subsidy_amount="0.01"))
    assert problems_of(below) == {"paid_amount": "constraint"}
    assert check("att1", att1_answers(contract_amount=contract, paid_amount=contract, subsidy_amount="0.01")).ok
    above = check("att1", att1_answers(contract_amount=contract, paid_amount=f"{(cents + 1) / 100:.2f}", subsidy_amount="0.01"))
    assert problems_of(above) == {"paid_amount": "constraint"}


@pytest.mark.parametrize("date, ok", [("2018-03-19", False), ("2018-03-20", True), ("2017-12-31", False)])
def test_contract_date_not_before_the_scheme(check, att1_answers, date, ok):
    outcome = check("att1", att1_answers(contract_date=date, acceptance_date="2019-01-01", followup_date="2020-09-10"))
    assert outcome.ok is ok
    if not ok:
        assert problems_of(outcome) == {"contract_date": "constraint"}
        assert "2018-03-20" in outcome.problems[0].message


def test_acceptance_not_before_contract(check, att1_answers):
    outcome = check("att1", att1_answers(contract_date="2019-04-12", acceptance_date="2019-04-11"))
    assert problems_of(outcome) == {"acceptance_date": "constraint"}


def test_shenzhen_firms_are_outside_the_scheme(check, att1_answers):
    outcome = check("att1", att1_answers(client_city="深圳", client_district="南山区"))
    assert problems_of(outcome) == {"client_city": "constraint"}
    assert "深圳" in outcome.problems[0].message
    assert problems_of(check("att1", att1_answers(client_city="澳门"))) == {"client_city": "not_city"}


@pytest.mark.parametrize("status", ["使用率较低", "闲置", "停用"])
def test_reason_required_when_not_in_normal_use(check, att1_answers, status):
    outcome = check("att1", att1_answers(usage_status=status, monthly_active_users="0"))
    assert problems_of(outcome) == {"reason": "required"}
    assert "原因说明" in outcome.problems[0].message
    assert check("att1", att1_answers(usage_status=status, monthly_active_users="0", reason="企业停产。")).ok


def test_reason_hidden_and_blanked_in_normal_use(check, att1_answers):
    outcome = check("att1", att1_answers(usage_status="正常使用", reason="写了也不保存"))
    assert outcome.ok
    assert "reason" in outcome.hidden
    assert outcome.values["reason"] is None


def test_reason_hidden_until_a_status_is_chosen(check, att1_answers):
    outcome = check("att1", att1_answers(usage_status=None))
    assert problems_of(outcome) == {"usage_status": "required"}
    assert "reason" in outcome.hidden


@pytest.mark.parametrize(
    "field, raw, code",
    [
        ("monthly_active_users", "-1", "below_min"),
        ("monthly_active_users", "3.5", "not_integer"),
        ("voucher_no", "syq-2019-001", "constraint"),  # lower case
        ("voucher_no", "SYQ 2019", "constraint"),
        ("voucher_no", "A1", "constraint"),
        ("subsidy_year", "2020", "not_choice"),
        ("project_type", "工业软件上云", "not_choice"),
        ("business_area", "销售", "not_choice"),
        ("followup_services", ["请客吃饭"], "not_choice"),
        ("contract_amount", "20.001", "too_many_decimals"),
        ("followup_date", "2019-01-01", "constraint"),  # before the contract
    ],
)
def test_att1_field_rules(check, att1_answers, field, raw, code):
    assert problems_of(check("att1", att1_answers(**{field: raw}))) == {field: code}


def test_voucher_pattern_message_is_specific(check, att1_answers):
    outcome = check("att1", att1_answers(voucher_no="服务券1号"))
    assert "大写字母、数字和连字符" in outcome.problems[0].message


def test_contacts_table_reports_the_bad_row(check, att1_answers):
    contacts = [
        {"contact_name": "陈伟", "contact_phone": "13800138000"},
        {"contact_name": "李静", "contact_title": "财务经理", "contact_phone": "12345"},
    ]
    outcome = check("att1", att1_answers(contacts=contacts))
    assert len(outcome.problems) == 1
    p = outcome.problems[0]
    assert (p.field, p.row, p.code) == ("contacts", 2, "bad_phone")
    assert "第 2 行" in p.message and "企业联系人" in p.message


def test_contacts_need_at_least_one_row(check, att1_answers):
    for empty in (None, [], [{"contact_name": "", "contact_phone": ""}]):
        assert problems_of(check("att1", att1_answers(contacts=empty))) == {"contacts": "required"}


def test_contacts_row_needs_a_phone(check, att1_answers):
    outcome = check("att1", att1_answers(contacts=[{"contact_name": "陈伟"}]))
    assert [(p.field, p.row, p.code) for p in outcome.problems] == [("contacts", 1, "required")]


def test_draft_skips_required_and_rules_but_not_types(check):
    assert check("att1", {}, draft=True).ok
    assert check("att1", {"paid_amount": "30", "contract_amount": "20"}, draft=True).ok
    outcome = check("att1", {"contract_date": "明天", "client_credit_code": "123"}, draft=True)
    assert problems_of(outcome) == {"contract_date": "not_date", "client_credit_code": "bad_credit_code"}
    assert not check("att1", {}).ok


def test_every_required_att1_field_is_reported_when_empty(check, catalog):
    outcome = check("att1", {})
    required = {f.key for f in catalog.form("att1").all_fields() if f.required and f.relevant is None}
    assert set(problems_of(outcome)) == required


# --- Attachment 2 -------------------------------------------------------------------------------

SECTION_FIELDS = {
    "construction_done", "percent_complete", "key_indicators", "public_spent", "own_spent", "separate_account",
    "problems_found", "rectification_done", "difficulties", "next_steps", "expected_acceptance_date",
}


def test_exempt_ministry_project_passes_with_basic_facts_only(check, att2_basic):
    outcome = check("att2", att2_basic(programme="工信部创新发展工程", monthly_report_exempt="是"))
    assert outcome.ok, outcome.problems
    assert outcome.values["monthly_report_exempt"] is True
    assert SECTION_FIELDS | {"spending_ratio"} <= outcome.hidden
    assert outcome.values["spending_ratio"] is None


def test_exempt_project_drops_section_answers(check, att2_basic, att2_sections):
    outcome = check("att2", att2_basic(programme="工信部创新发展工程", monthly_report_exempt=True) | att2_sections)
    assert outcome.ok
    assert all(outcome.values[k] is None for k in SECTION_FIELDS)


def test_non_exempt_ministry_project_must_fill_every_section(check, att2_basic):
    outcome = check("att2", att2_basic(programme="工信部创新发展工程", monthly_report_exempt="否"))
    assert set(problems_of(outcome)) == SECTION_FIELDS
    assert set(problems_of(outcome).values()) == {"required"}


def test_ministry_project_must_say_whether_it_is_exempt(check, att2_basic, att2_sections):
    outcome = check("att2", att2_basic(programme="工信部创新发展工程") | att2_sections)
    assert problems_of(outcome) == {"monthly_report_exempt": "required"}


def test_provincial_project_cannot_claim_the_exemption(check, att2_basic):
    outcome = check("att2", att2_basic(programme="省级标杆示范", monthly_report_exempt=True))
    assert "monthly_report_exempt" in outcome.hidden
    assert set(problems_of(outcome)) == SECTION_FIELDS  # the claim is ignored, sections are due


def test_spending_ratio_is_computed(check, att2_basic, att2_sections):
    outcome = check("att2", att2_basic() | att2_sections)
    assert outcome.ok, outcome.problems
    assert outcome.values["spending_ratio"] == 50.0  # (300 + 1200) / (500 + 2500) * 100
    uneven = check("att2", att2_basic(public_funds="333.33", own_funds_planned="666.67") | att2_sections | {"public_spent": "100", "own_spent": "0"})
    assert uneven.values["spending_ratio"] == 10.0
    typed = check("att2", att2_basic() | att2_sections | {"spending_ratio": "99"})
    assert typed.values["spending_ratio"] == 50.0  # a typed value never overrides the calculation


@pytest.mark.parametrize(
    "override, field",
    [
        ({"percent_complete": "101"}, "percent_complete"),
        ({"percent_complete": "-1"}, "percent_complete"),
        ({"public_spent": "500.01"}, "public_spent"),
        ({"planned_end": "2019-06-01"}, "planned_end"),
        ({"public_funds": "3000.01"}, "public_funds own_funds_planned"),
        ({"own_funds_planned": "2500.01"}, "own_funds_planned"),
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"contact_email": "lijing@"}, "contact_email"),
        ({"partner_units": [{"partner_name": "华南理工大学"}, {"partner_name": "某公司", "partner_credit_code": "91440101MA59ABCDE1"}]}, "partner_units"),
    ],
)
def test_att2_field_rules(check, att2_basic, att2_sections, override, field):
    outcome = check("att2", att2_basic() | att2_sections | override)
    assert list(problems_of(outcome)) == field.split()


def test_partner_units_are_optional_and_rows_typed(check, att2_basic):
    rows = [{"partner_name": "华南理工大学", "partner_role": "算法支持"}, {"partner_name": "广州数联信息科技有限公司", "partner_credit_code": make_code("91440106MA59AAAA1")}]
    exempt = {"programme": "工信部创新发展工程", "monthly_report_exempt": True}
    assert check("att2", att2_basic(**exempt)).values["partner_units"] is None
    outcome = check("att2", att2_basic(partner_units=rows, **exempt))
    assert outcome.ok
    assert outcome.values["partner_units"][1]["partner_credit_code"] == make_code("91440106MA59AAAA1")


# --- Attachment 3 -------------------------------------------------------------------------------


def test_valid_att3_passes(check, att3_answers):
    outcome = check("att3", att3_answers())
    assert outcome.ok, outcome.problems
    assert {"problems", "rectification_demand", "rectification_deadline", "complaint_details"} <= outcome.hidden


@pytest.mark.parametrize("conclusion", ["基本合格", "不合格"])
def test_problems_required_unless_qualified(check, att3_answers, conclusion):
    outcome = check("att3", att3_answers(conclusion=conclusion))
    assert problems_of(outcome) == {"problems": "required"}
    assert check("att3", att3_answers(conclusion=conclusion, problems="系统闲置。")).ok


def test_problems_hidden_when_qualified(check, att3_answers):
    outcome = check("att3", att3_answers(conclusion="合格", problems="无"))
    assert outcome.ok and outcome.values["problems"] is None


def test_rectification_deadline_follows_the_demand(check, att3_answers):
    base = att3_answers(conclusion="不合格", problems="系统闲置。")
    assert problems_of(check("att3", base | {"rectification_demand": "限期整改。"})) == {"rectification_deadline": "required"}
    early = check("att3", base | {"rectification_demand": "限期整改。", "rectification_deadline": "2019-11-01"})
    assert problems_of(early) == {"rectification_deadline": "constraint"}
    assert check("att3", base | {"rectification_demand": "限期整改。", "rectification_deadline": "2019-12-31"}).ok
    # A qualified project's stray demand is dropped, and does not make the deadline due.
    qualified = check("att3", att3_answers(rectification_demand="无", rectification_deadline=None))
    assert qualified.ok and qualified.values["rectification_demand"] is None


def test_unchecked_project_needs_no_date_checkers_or_result(check, att3_answers):
    outcome = check("att3", att3_answers(check_method="未检查", check_date=None, checkers=None, conclusion=None, content_matches=None, usage_status=None, satisfaction=None))
    assert outcome.ok, outcome.problems
    assert {"check_date", "checkers", "conclusion", "problems"} <= outcome.hidden


@pytest.mark.parametrize("method", ["实地检查", "抽查", "书面核查"])
def test_checked_project_needs_date_and_checkers(check, att3_answers, method):
    outcome = check("att3", att3_answers(check_method=method, check_date=None, checkers=""))
    assert problems_of(outcome) == {"check_date": "required", "checkers": "required"}


def test_complaint_details_required_when_a_complaint_was_received(check, att3_answers):
    assert problems_of(check("att3", att3_answers(complaint="是"))) == {"complaint_details": "required"}
    assert check("att3", att3_answers(complaint="是", complaint_details="12345 热线转办。")).ok


@pytest.mark.parametrize(
    "field, raw, code",
    [
        ("city", "香港", "not_city"),
        ("check_method", "电话核查", "not_choice"),
        ("content_matches", "大致", "not_choice"),
        ("satisfaction", "非常满意", "not_choice"),
        ("check_date", "2020-09-22", "constraint"),
        ("check_date", "2018-03-01", "constraint"),
        ("subsidy_amount", "0", "below_min"),
        ("voucher_no", "第1号", "constraint"),
    ],
)
def test_att3_field_rules(check, att3_answers, field, raw, code):
    assert problems_of(check("att3", att3_answers(**{field: raw}))) == {field: code}


# --- answers of any Python type -------------------------------------------------------------------

@pytest.mark.parametrize("raw", [np.float64(12.5), np.int64(3), np.bool_(True),
                                 np.float64("nan"), np.str_("某公司"), np.nan],
                         ids=["float64", "int64", "bool_", "float64-nan", "str_", "nan"])
@pytest.mark.parametrize("draft", [False, True])
def test_numpy_scalars_give_a_value_or_a_coded_problem(catalog, cities, raw, draft):
    """pandas hands tables and .xlsx reads back as numpy scalars; comparing one with ``[]`` is an empty
    array whose truth value numpy refuses, so a blank test must not compare."""
    form = catalog.form("att1")
    for key in ("contract_amount", "client_name", "subsidy_year"):
        outcome = check_answers(form, {key: raw}, cities=cities, draft=draft)
        assert all(p.code in MESSAGES for p in outcome.problems)


def test_a_table_row_of_numpy_scalars_is_checked(catalog, cities):
    table = next(f for form in catalog.forms() for f in form.all_fields() if f.type == "table")
    form = next(form for form in catalog.forms() if table in form.all_fields())
    row = {sub.key: np.float64(1.0) for sub in table.fields}
    outcome = check_answers(form, {table.key: [row]}, cities=cities, draft=True)
    assert all(p.code in MESSAGES for p in outcome.problems)
