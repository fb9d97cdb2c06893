"""Stricter answers where the rules are clear, and the warnings a filler confirms (issue 12, outcome 6):
money refuses percentages, exponent notation and more than its declared maximum; dates are read as
people write them; past dates are not after the campaign clock's today; an idle or stopped project
has few users; a credit code registered outside the declared city and a subsidy equal to the payment
warn. Each rule is YAML, so the second campaign (tests/campaigns/other) carries its own copy with its
own keys, words and numbers, and is tested the same way."""

from __future__ import annotations

import copy
import datetime as dt
import pickle

import pytest

from lib.forms import FormDefinitionError, check_answers, load_catalog, parse_campaign
from lib.forms.spec import Cities

from .conftest import FORMS_DIR, ROOT, make_code

OTHER_DIR = ROOT / "tests" / "campaigns" / "other"
CLOCK = dt.date(2020, 9, 15)


@pytest.fixture(scope="module")
def other():
    loaded = load_catalog(OTHER_DIR)
    assert loaded.problems() == {}, loaded.problems()
    return loaded


def problems_of(outcome) -> dict[str, str]:
    return {p.field: p.code for p in outcome.problems}


def warnings_of(outcome) -> dict[str, str]:
    return {w.field: w.message for w in outcome.warnings}


# --- money and numbers ----------------------------------------------------------------------


@pytest.mark.parametrize("raw, code", [
    ("20%", "no_percent"),
    ("20 %", "no_percent"),
    ("２０％", "no_percent"),  # full width, as a Chinese input method types it
    ("1e3", "exponent"),
    ("1E+3", "exponent"),
    ("2.5e-1", "exponent"),
    ("１Ｅ３", "exponent"),
    ("1,000x", "not_number"),
])
def test_money_refuses_a_percentage_and_exponent_notation_with_its_own_message(check, att1_answers, raw, code):
    outcome = check("att1", att1_answers(contract_amount=raw))
    assert problems_of(outcome) == {"contract_amount": code}
    assert outcome.problems[0].message.startswith("「合同金额（万元）」")


def test_a_percent_still_takes_its_sign_and_a_number_from_a_workbook_cell_is_no_notation(catalog):
    from lib.forms.types import REGISTRY

    percent = catalog.form("att2").field("percent_complete")
    assert REGISTRY["percent"].parse("42.5%", percent, {}) == 42.5
    money = catalog.form("att1").field("contract_amount")
    assert REGISTRY["money"].parse(1e3, money, {}) == 1000.0  # a float, as openpyxl reads a cell


def test_money_above_its_declared_maximum_is_refused_naming_the_field_and_the_unit(check, att1_answers):
    at_most = check("att1", att1_answers(contract_amount="10000", paid_amount="10000", subsidy_amount="3"))
    assert at_most.ok
    over = check("att1", att1_answers(contract_amount="100000", paid_amount="95000", subsidy_amount="3"))
    assert problems_of(over) == {"contract_amount": "money_above_max", "paid_amount": "money_above_max"}
    assert "「合同金额（万元）」不能大于 10000 万元" in over.problems[0].message


@pytest.mark.parametrize("raw, stored", [("12.", 12.0), ("1,234.", 1234.0), ("１２．", 12.0), ("12.50", 12.5)])
def test_money_typed_with_a_point_and_no_decimals_is_the_whole_number(check, att1_answers, raw, stored):
    outcome = check("att1", att1_answers(contract_amount=raw, paid_amount=raw))  # paid in full
    assert outcome.ok, outcome.problems
    assert (outcome.values["contract_amount"], outcome.values["paid_amount"]) == (stored, stored)


@pytest.mark.parametrize("raw", [".", "12..", "1.2.", "12.,5"])
def test_a_point_alone_or_twice_is_still_no_number(check, att1_answers, raw):
    assert problems_of(check("att1", att1_answers(contract_amount=raw))) == {"contract_amount": "not_number"}


@pytest.mark.parametrize("forms_dir", [FORMS_DIR, OTHER_DIR], ids=["shipped", "other"])
def test_every_money_field_declares_its_maximum(forms_dir):
    catalog = load_catalog(forms_dir)
    money = [(form.id, spec.key, spec.max) for form in catalog.forms() for spec in form.all_fields() if spec.type == "money"]
    assert money and [m for m in money if m[2] is None] == []


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2019-04-12", "2019-4-12", "2019/4/12", "2019/04/12", "2019.4.12", "2019年4月12日", "２０１９/４/１２"])
def test_a_date_is_read_as_people_write_it(check, att1_answers, raw):
    outcome = check("att1", att1_answers(contract_date=raw))
    assert outcome.ok, outcome.problems
    assert outcome.values["contract_date"] == dt.date(2019, 4, 12)


@pytest.mark.parametrize("raw", ["2019/13/1", "2019/2/30", "19/4/12", "2019-4", "2019年4月"])
def test_a_date_that_is_no_date_is_still_refused(check, att1_answers, raw):
    assert problems_of(check("att1", att1_answers(contract_date=raw))) == {"contract_date": "not_date"}


@pytest.mark.parametrize("key", ["contract_date", "acceptance_date", "followup_date"])
def test_a_past_date_after_the_campaign_clocks_today_is_refused(catalog, att1_answers, key):
    form, cities = catalog.form("att1"), catalog.campaign.cities
    later = {"contract_date": "2019-04-12", "acceptance_date": "2019-07-01", "followup_date": "2020-09-10", key: "2020-09-16"}
    if key == "contract_date":
        later.update(acceptance_date="2020-09-16", followup_date="2020-09-16")  # not before the contract
    outcome = check_answers(form, att1_answers(**later), cities=cities, today=CLOCK)
    assert problems_of(outcome)[key] == "constraint"
    assert "不能晚于今天" in {p.field: p.message for p in outcome.problems}[key]
    on_the_day = {k: ("2020-09-15" if v == "2020-09-16" else v) for k, v in later.items()}
    assert check_answers(form, att1_answers(**on_the_day), cities=cities, today=CLOCK).ok
    # Without a clock, today() is the real date: 2020-09-16 is long past.
    assert check_answers(form, att1_answers(**later), cities=cities).ok


def test_a_check_date_after_the_clock_is_refused_in_both_campaigns(catalog, other):
    answers = {"check_method": "实地检查", "check_date": "2020-09-16"}
    outcome = check_answers(catalog.form("att3"), answers, cities=catalog.campaign.cities, today=CLOCK)
    assert problems_of(outcome)["check_date"] == "constraint"
    answers["check_date"] = "2020-09-15"
    assert "check_date" not in problems_of(check_answers(catalog.form("att3"), answers, cities=catalog.campaign.cities, today=CLOCK))
    mirrored = {"inspect_way": "现场核查", "check_date": "2020-09-16"}
    outcome = check_answers(other.form("city_inspections"), mirrored, cities=other.campaign.cities, today=CLOCK)
    assert problems_of(outcome)["check_date"] == "constraint"


# --- usage and users ------------------------------------------------------------------------


@pytest.mark.parametrize("status, users, ok", [
    ("闲置", "6", False), ("停用", "6", False), ("闲置", "5", True), ("停用", "0", True),
    ("使用率较低", "600", True), ("正常使用", "600", True),
])
def test_an_idle_or_stopped_project_with_more_users_than_declared_is_refused(check, att1_answers, status, users, ok):
    outcome = check("att1", att1_answers(usage_status=status, monthly_active_users=users, reason="企业业务调整。"))
    assert outcome.ok is ok
    if not ok:
        assert problems_of(outcome) == {"monthly_active_users": "constraint"}
        assert outcome.problems[0].message.startswith("「月活跃用户数」超过 5")


@pytest.mark.parametrize("state, users, refused", [("搁置", "4", True), ("停止使用", "3", False), ("低频使用", "40", False)])
def test_the_second_campaign_declares_its_own_words_and_number(other, state, users, refused):
    outcome = check_answers(other.form("cloud_projects"), {"use_state": state, "mau": users}, cities=other.campaign.cities)
    assert (problems_of(outcome).get("mau") == "constraint") is refused


# --- warnings -------------------------------------------------------------------------------


def test_a_credit_code_registered_outside_the_declared_city_warns_naming_the_field(check, att1_answers):
    foshan = make_code("91440605MA4UABCD1")  # registered in 佛山市南海区 (440605)
    assert check("att1", att1_answers(client_city="佛山", client_credit_code=foshan)).warnings == []
    outcome = check("att1", att1_answers(client_city="广州", client_credit_code=foshan))
    assert outcome.ok
    assert warnings_of(outcome) == {"client_credit_code": "「企业统一社会信用代码」：登记地（第 3–8 位行政区划代码）与所填“企业所在地市”不一致，请核实代码或地市。"}


def test_without_declared_codes_the_area_rule_stays_silent(catalog, att1_answers):
    names_only = tuple(catalog.campaign.cities)  # a plain tuple knows no codes
    outcome = check_answers(catalog.form("att1"), att1_answers(client_city="广州"), cities=names_only)
    assert outcome.ok and outcome.warnings == []


def test_a_subsidy_equal_to_the_payment_warns(check, att1_answers):
    outcome = check("att1", att1_answers(subsidy_amount="19.50"))
    assert outcome.ok and list(warnings_of(outcome)) == ["subsidy_amount"]
    assert warnings_of(outcome)["subsidy_amount"].startswith("「奖补金额（万元）」：与实际支付金额相同")


def test_the_second_campaign_warns_with_its_own_keys(other):
    cities = other.campaign.cities
    foshan = make_code("91440605MA4UABCD1")
    answers = {"enterprise_city": "江门", "enterprise_uscc": foshan, "paid_wan": "19.5", "grant_wan": "19.5"}
    outcome = check_answers(other.form("cloud_projects"), answers, cities=cities)
    assert set(warnings_of(outcome)) == {"enterprise_uscc", "grant_wan"}
    inspection = {"region": "佛山", "enterprise_uscc": make_code("91440101MA59ABCDE")}
    assert set(warnings_of(check_answers(other.form("city_inspections"), inspection, cities=cities))) == {"enterprise_uscc"}


# --- the campaign's cities ------------------------------------------------------------------


CAMPAIGN = (FORMS_DIR / "campaign.yaml").read_text(encoding="utf-8")
GUANGZHOU = '  - {name: 广州, code: "4401"}\n'


def test_cities_stay_a_tuple_of_names_that_knows_each_code(catalog):
    cities = catalog.campaign.cities
    assert isinstance(cities, tuple) and cities[0] == "广州" and len(cities) == 21 and "广州市" not in cities
    assert cities.codes["广州"] == "4401" and cities.codes["云浮"] == "4453" and len(cities.codes) == 21
    for copied in (copy.deepcopy(cities), pickle.loads(pickle.dumps(cities))):  # a cache's copy still knows them
        assert copied == cities and copied.codes == cities.codes and copied.outside == cities.outside == {"深圳"}


def test_a_city_may_be_written_without_a_code():
    assert CAMPAIGN.count(GUANGZHOU) == 1
    cities = parse_campaign(CAMPAIGN.replace(GUANGZHOU, "  - 广州\n")).cities
    assert isinstance(cities, Cities) and "广州" in cities and "广州" not in cities.codes and cities.codes["深圳"] == "4403"


@pytest.mark.parametrize("entry", ['{name: 广州, code: "44A1"}', '{name: 广州, code: "4401001"}', '{code: "4401"}',
                                   '{name: 广州, code: "4401", area: 1}', "[广州, 4401]"])
def test_a_bad_city_entry_is_refused_with_its_line(entry):
    line = CAMPAIGN[: CAMPAIGN.index(GUANGZHOU)].count("\n") + 1
    with pytest.raises(FormDefinitionError) as info:
        parse_campaign(CAMPAIGN.replace(GUANGZHOU, f"  - {entry}\n"))
    assert [p.code for p in info.value.problems] == ["invalid_definition"]
    assert f"第 {line} 行" in info.value.problems[0].where


def test_guangzhou_shi_is_guangzhou(check, att1_answers):
    outcome = check("att1", att1_answers(client_city="广州市", client_credit_code=make_code("91440101MA59ABCDE")))
    assert outcome.ok and outcome.values["client_city"] == "广州" and outcome.warnings == []


def test_a_code_written_as_a_number_is_the_same_code():
    assert parse_campaign(CAMPAIGN.replace(GUANGZHOU, "  - {name: 广州, code: 4401}\n")).cities.codes["广州"] == "4401"


def test_the_cities_of_a_file_without_codes_load_as_before():
    plain = CAMPAIGN
    for line in [ln for ln in CAMPAIGN.splitlines() if ln.startswith("  - {name: ")]:
        plain = plain.replace(line, "  - " + line.split("name: ")[1].split(",")[0])
    cities = parse_campaign(plain).cities
    assert len(cities) == 21 and cities.codes == {}


# --- cities outside the scheme: one list for the form and the register ------------------------------


@pytest.mark.parametrize("folder, form_id, key, outside, inside", [
    (FORMS_DIR, "att1", "client_city", "深圳", "珠海"),
    (OTHER_DIR, "cloud_projects", "enterprise_city", "珠海", "深圳"),
])
def test_the_project_form_refuses_the_cities_campaign_yaml_puts_outside_the_scheme(tmp_path, folder, form_id, key, outside, inside):
    """The project form's rule reads campaign.yaml's ``outside_scheme`` (the list the register import
    excludes): moving the scheme's border in campaign.yaml moves the form's refusal with it."""
    def refused(catalog, city):
        outcome = check_answers(catalog.form(form_id), {key: city}, cities=catalog.campaign.cities)
        return key in problems_of(outcome)

    shipped = load_catalog(folder)
    assert (refused(shipped, outside), refused(shipped, inside)) == (True, False)
    for path in folder.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if path.name == "campaign.yaml":
            assert text.count(f"outside_scheme: [{outside}]") == 1
            text = text.replace(f"outside_scheme: [{outside}]", f"outside_scheme: [{inside}]")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    moved = load_catalog(tmp_path)
    assert moved.problems() == {}
    assert (refused(moved, outside), refused(moved, inside)) == (False, True)
