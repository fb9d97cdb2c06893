"""The outcome lists (``lib.rectification.outcomes``) on hand-built rows of a real local store: each shipped
list's rule and its edge cases (a provider with one 基本合格, a violation on a closed item, a firm 合格 but
不满意), the province's confirmations (removal and addition with and without a reason, audited), a
non-province refused, the Excel export, the load-time checks of the section, and the other campaign's
own lists (from its cities' checks: no inspection form there)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from lib.auth.errors import Forbidden
from lib.auth.policy import DENIED
from lib.core.records import Actor
from lib.core.statuses import DRAFT, SUBMITTED
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.errors import MESSAGES, FormDefinitionError
from lib.forms.expressions import Expression
from lib.forms.loader import parse_campaign
from lib.forms.rectification import Outcome, outcome_problems
from lib.rectification.outcomes import (
    ADDED,
    BY_HAND,
    BY_RULE,
    CONFIRMATIONS,
    ENTRY,
    MARK,
    REASON,
    REMOVED,
    OutcomeError,
    confirm,
    export_xlsx,
    met,
    outcome_lists,
    universe,
)
from lib.rectification.records import CLOSED, IN_PROGRESS, ITEMS, RECOVERY, VIOLATION_PARTS
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")
PROVINCE = Actor("province", "province", "省厅")
CITY = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
INSPECTOR = Actor("i1", "inspector", "检查单位", "广州")
LEAD = Actor("lead", "lead_unit", "牵头单位甲", "广州")


def file_row(store, catalog, kind, meanings, actor, status=SUBMITTED):
    """A row of ``kind``'s form, its meanings written under the campaign's keys (choices as the campaign's words)."""
    binding = catalog.bindings.of(kind)
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
    values = {binding.key(m): (binding.word(m, v) if binding.words(m) and v in binding.words(m) else v) for m, v in meanings.items()}
    return store.append(binding.form, values, actor=actor, status=status)


def inspect(store, voucher, firm, provider, conclusion="pass", usage="in_use", satisfaction="满意", status=SUBMITTED):
    file_row(store, SHIPPED, "inspections", {"voucher": voucher, "city": "广州", "firm": firm, "provider": provider,
                                             "conclusion": conclusion, "usage": usage, "satisfaction": satisfaction}, INSPECTOR, status)


def item(store, item_id, status, party, *, voucher="", party_kind="provider", violations=(), source=("", "")):
    store.ensure_sheet(ITEMS)
    values = {"item_id": item_id, "rule": "r", "category": "inspection", "city": "广州", "party_kind": party_kind, "party": party,
              "actor_org": party, "voucher": voucher, "project": "", "finding": "问题", "steps": [], "evidence": [],
              "source_kind": source[0], "source_row": source[1], "violations": [dict(v) for v in violations]}
    store.append(ITEMS.form_id, values, actor=PROVINCE, status=status)


def violation(*parts):
    """A recorded violation, in the parts the items' sheet declares (records.VIOLATION_PARTS)."""
    return dict(zip((p.key for p in VIOLATION_PARTS), parts, strict=True))


RECOVERED = violation(RECOVERY, 5.0, "粤工信〔2020〕1号")


@pytest.fixture
def store(tmp_path):
    s = open_store("local", data_dir=tmp_path / "data", background=False)
    yield s
    s.close()


@pytest.fixture
def stocked(store):
    # firms: 甲 qualifies; 乙 合格 but 不满意; 丙 基本合格; 丁 two good inspections but an open item on one
    inspect(store, "V1", "甲企业", "服务商一")
    inspect(store, "V2", "乙企业", "服务商一", satisfaction="不满意")
    inspect(store, "V3", "丙企业", "服务商一", conclusion="basic")
    inspect(store, "V4", "丁企业", "服务商五")
    inspect(store, "V5", "丁企业", "服务商五")
    inspect(store, "V99", "戊企业", "服务商五", status=DRAFT)  # a draft is no inspection
    # providers: 二 all 合格 but a violation on a CLOSED item; 三 all 合格 (V9 twice: one project); 四 a closed item, no violation
    for v in ("V6", "V7", "V8"):
        inspect(store, v, f"企业{v}", "服务商二")
    for v in ("V9", "V9", "V10", "V11"):
        inspect(store, v, f"企业{v}", "服务商三")
    for v in ("V12", "V13", "V14"):
        inspect(store, v, f"企业{v}", " 服务商四 ")  # blanks: the same name as compared
    item(store, "ZG-1", CLOSED, "服务商二", voucher="V6", violations=[RECOVERED])
    item(store, "ZG-2", IN_PROGRESS, "服务商五", voucher="V5")
    item(store, "ZG-3", CLOSED, "服务商四", voucher="V12")
    # benchmark projects: B1 to publicise; B2 reports a problem; B3 overdue for acceptance
    rows = {}
    for name, status, percent, problems in (("项目B1", "在建", 90, ""), ("项目B2", "在建", 85, "进度滞后"), ("项目B3", "到期未验收", 95, "")):
        rows[name] = file_row(store, SHIPPED, "benchmarks", {"project": name, "lead_unit": "牵头单位甲", "city": "广州", "status": status,
                                                             "percent_complete": percent, "problems": problems, "programme": "provincial"}, LEAD)
    return store


def lists(store, catalog=SHIPPED, actor=PROVINCE):
    return {lst.outcome.key: lst for lst in outcome_lists(store, catalog, actor)}


def names(lst, column):
    return sorted(lst.rows[column].tolist())


def test_the_benchmark_firms_are_inspected_good_satisfied_in_use_and_without_open_items(stocked):
    firms = lists(stocked)["benchmark_firms"]
    # 乙: 合格 but 不满意; 丙: 基本合格; 丁: an open item on one of its vouchers; 戊: only a draft
    assert names(firms, "企业名称") == ["企业V10", "企业V11", "企业V12", "企业V13", "企业V14", "企业V7", "企业V8", "企业V9", "甲企业"]
    row = firms.rows[firms.rows["企业名称"] == "甲企业"].iloc[0]
    # the facts that qualify it, a choice meaning shown in the campaign's word
    assert (row["最差检查结论"], row["检查次数"], row[MARK]) == ("合格", 1, BY_RULE)
    assert "丁企业" in firms.candidates["企业名称"].tolist() and "乙企业" in firms.candidates["企业名称"].tolist()
    # 企业V6: its voucher's item is closed but carries a violation: the firm's facts count it
    v6 = firms.candidates[firms.candidates["企业名称"] == "企业V6"].iloc[0]
    assert v6["违规处理数"] == 1


def test_the_excellent_providers_have_enough_projects_all_passed_no_violation_no_open_item(stocked):
    providers = lists(stocked)["excellent_providers"]
    # 一: one 基本合格; 二: a violation on a closed item; 五: two projects and an open item; 四: a closed item bars nothing
    assert names(providers, "服务商名称") == ["服务商三", "服务商四"]
    three = providers.rows[providers.rows["服务商名称"] == "服务商三"].iloc[0]
    assert three["检查项目数"] == 3  # V9 inspected twice is one project
    two = providers.candidates[providers.candidates["服务商名称"] == "服务商二"].iloc[0]
    assert (two["违规处理数"], two["未销号整改事项数"]) == (1, 0)


def test_the_benchmark_projects_to_publicise_and_the_violations_list(stocked):
    shown = lists(stocked)
    assert names(shown["showcase_benchmarks"], "项目名称") == ["项目B1"]
    violations = shown["violations"]
    assert violations.rows["整改编号"].tolist() == ["ZG-1"]
    assert violations.rows.iloc[0]["违规处理"] == "处理方式：追回资金；追回金额（万元）：5.00；处理决定文号：粤工信〔2020〕1号"


def test_an_open_item_on_a_benchmark_row_bars_it(stocked):
    b1 = lists(stocked)["showcase_benchmarks"].rows.iloc[0][ENTRY]
    item(stocked, "ZG-9", IN_PROGRESS, "牵头单位甲", party_kind="lead_unit", source=("benchmarks", b1))
    assert lists(stocked)["showcase_benchmarks"].rows.empty


def test_the_province_removes_an_entry_with_a_reason_and_it_is_audited(stocked):
    providers = lists(stocked)["excellent_providers"]
    key = providers.rows.loc[providers.rows["服务商名称"] == "服务商三", ENTRY].iloc[0]
    record = confirm(stocked, SHIPPED, PROVINCE, "excellent_providers", key, REMOVED, "  近期被投诉，待核实  ")
    assert record.values["reason"] == "近期被投诉，待核实" and record.owner == "province"
    assert names(lists(stocked)["excellent_providers"], "服务商名称") == ["服务商四"]
    assert [(e.account, e.row_id) for e in stocked.audit(CONFIRMATIONS.form_id)] == [("province", record.id)]


def test_the_province_adds_an_entry_with_a_reason_marked_by_hand(stocked):
    providers = lists(stocked)["excellent_providers"]
    key = providers.candidates.loc[providers.candidates["服务商名称"] == "服务商一", ENTRY].iloc[0]
    confirm(stocked, SHIPPED, PROVINCE, "excellent_providers", key, ADDED, "基本合格项目已整改到位")
    rows = lists(stocked)["excellent_providers"].rows
    one = rows[rows["服务商名称"] == "服务商一"].iloc[0]
    assert (one[MARK], one[REASON]) == (BY_HAND, "基本合格项目已整改到位")
    # removed again, with a reason: the latest confirmation decides
    confirm(stocked, SHIPPED, PROVINCE, "excellent_providers", key, REMOVED, "复核后撤回")
    assert "服务商一" not in lists(stocked)["excellent_providers"].rows["服务商名称"].tolist()


@pytest.mark.parametrize("action, entry_of, reason, code", [
    (REMOVED, "rows", "", "outcome_reason_missing"),
    (ADDED, "candidates", "   ", "outcome_reason_missing"),
    (ADDED, "candidates", "理" * 501, "outcome_reason_too_long"),
    (REMOVED, "rows", "近期被投诉\u202e待核实", "bidi_text"),  # the lifecycle's text check: no direction override (attack N10)
    (ADDED, "candidates", "理由\x07", "bad_text"),
    (REMOVED, "candidates", "理由", "outcome_entry_refused"),  # not shown: nothing to remove
    (ADDED, "rows", "理由", "outcome_entry_refused"),  # shown already
    (ADDED, None, "理由", "outcome_entry_refused"),  # no candidate of the list
    ("删除", "rows", "理由", "outcome_entry_refused"),
])
def test_a_refused_confirmation_writes_nothing(stocked, action, entry_of, reason, code):
    providers = lists(stocked)["excellent_providers"]
    entry = getattr(providers, entry_of)[ENTRY].iloc[0] if entry_of else "不存在的服务商"
    with pytest.raises(OutcomeError) as err:
        confirm(stocked, SHIPPED, PROVINCE, "excellent_providers", entry, action, reason)
    assert err.value.code == code
    assert stocked.records(CONFIRMATIONS.form_id) == []


def test_an_unknown_list_is_refused(stocked):
    with pytest.raises(OutcomeError) as err:
        confirm(stocked, SHIPPED, PROVINCE, "no_such_list", "x", REMOVED, "理由")
    assert err.value.code == "outcome_unknown"


@pytest.mark.parametrize("actor", [CITY, LEAD, INSPECTOR, Actor("admin", "admin")])
def test_only_the_province_reads_and_confirms_and_a_refusal_is_audited(stocked, actor):
    key = lists(stocked)["excellent_providers"].rows[ENTRY].iloc[0]
    with pytest.raises(Forbidden):
        outcome_lists(stocked, SHIPPED, actor)
    with pytest.raises(Forbidden):
        confirm(stocked, SHIPPED, actor, "excellent_providers", key, REMOVED, "理由")
    assert [e.account for e in stocked.audit() if e.action == DENIED] == [actor.account, actor.account]
    assert stocked.records(CONFIRMATIONS.form_id) == []


def test_the_export_has_one_sheet_per_list_with_the_facts_and_marks(stocked):
    providers = lists(stocked)["excellent_providers"]
    key = providers.candidates.loc[providers.candidates["服务商名称"] == "服务商一", ENTRY].iloc[0]
    confirm(stocked, SHIPPED, PROVINCE, "excellent_providers", key, ADDED, "基本合格项目已整改到位")
    book = openpyxl.load_workbook(io.BytesIO(export_xlsx(outcome_lists(stocked, SHIPPED, PROVINCE))))
    assert book.sheetnames == [o.name for o in SHIPPED.campaign.rectification.outcomes]
    sheet = book["优秀服务商培育对象"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=2)]
    assert {(r["服务商名称"], r[MARK]) for r in rows} == {("服务商三", BY_RULE), ("服务商四", BY_RULE), ("服务商一", BY_HAND)}
    assert "合格项目数" in header  # a fact the rule reads


def test_no_rows_yet_gives_empty_lists(store):
    shown = lists(store)
    assert list(shown) == [o.key for o in SHIPPED.campaign.rectification.outcomes]
    assert all(lst.rows.empty and lst.candidates.empty for lst in shown.values())


# --- the other campaign: its own lists, from its cities' checks ---------------------------------------

def check(store, voucher, firm, provider, conclusion="pass", satisfaction="满意", method="on_site"):
    file_row(store, OTHER, "checks", {"voucher": voucher, "city": "珠海", "firm": firm, "provider": provider,
                                      "conclusion": conclusion, "satisfaction": satisfaction, "method": method},
             Actor("city_zh", "city", "珠海市工业和信息化局", "珠海"))


def test_the_other_campaign_computes_its_own_lists_from_its_checks(store):
    check(store, "C1", "东方公司", "云商甲")
    check(store, "C2", "西方公司", "云商甲", satisfaction="基本满意")
    check(store, "C3", "南方公司", "云商乙", conclusion="basic")
    check(store, "C4", "北方公司", "云商乙")
    check(store, "C5", "中部公司", "云商丁", method="none")  # recorded as not checked: no inspection of either
    check(store, "C6", "中部公司", "云商丁", method="none")
    item(store, "T-1", IN_PROGRESS, "云商丙", violations=[violation("约谈", None, "珠工信〔2021〕2号")])
    shown = lists(store, OTHER)
    assert list(shown) == ["model_firms", "good_vendors", "sanctioned"]
    assert names(shown["model_firms"], "企业名称") == ["东方公司", "北方公司"]
    assert names(shown["good_vendors"], "服务商名称") == ["云商甲"]  # 云商乙 has a 基本通过
    assert shown["sanctioned"].rows["整改编号"].tolist() == ["T-1"]
    assert "中部公司" not in shown["model_firms"].candidates["企业名称"].tolist()
    # its conclusion words are its own (通过), shown as filed
    firm = shown["model_firms"].rows.iloc[0]
    assert firm["最差检查结论"] == "通过"


# --- load-time checks ---------------------------------------------------------------------------------

def campaign_text(outcomes_yaml: str) -> str:
    text = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8")
    start = text.index("  outcomes:\n")
    end = text.index("\n# Role key")
    return text[:start] + outcomes_yaml + text[end:]


@pytest.mark.parametrize("outcomes, fragment, at", [
    ("  outcomes:\n    - {key: x, name: 清单, of: provider, when: \"usage == 'in_use'\"}\n", "usage", 1),  # not a provider's variable
    ("  outcomes:\n    - {key: x, name: 清单, of: firm, when: \"inspected + 1\"}\n", "是/否", 1),
    ("  outcomes:\n    - {key: x, name: 清单, of: firm, when: \"today() > date('2020-01-01')\"}\n", "today", 1),
    ("  outcomes:\n    - {key: x, name: 清单, of: item, source: checks, when: \"violations > 0\"}\n", "source", 1),
    ("  outcomes:\n    - {key: x, name: 清单, of: item, when: \"violations > 0\"}\n    - {key: x, name: 另一, of: item, when: \"amount > 0\"}\n", "x", 0),
])
def test_a_broken_outcome_list_is_refused_with_its_line(outcomes, fragment, at):
    text = campaign_text(outcomes)
    with pytest.raises(FormDefinitionError) as err:
        parse_campaign(text)
    problem = err.value.problems[0]
    line = text[: text.index("  outcomes:\n")].count("\n") + 1 + at  # the list's line, or the section's (keys twice)
    assert problem.code == "invalid_definition" and fragment in problem.message
    assert f"第 {line} 行" in problem.where


def test_an_outcome_reading_an_unbound_source_or_meaning_is_a_coded_problem():
    bindings = OTHER.bindings  # binds no inspections; its checks are taken here without their satisfaction
    stripped = bindings.model_copy(update={"checks": bindings.checks.model_copy(
        update={"fields": {k: v for k, v in bindings.checks.fields.items() if k != "satisfaction"}})})
    found = outcome_problems((Outcome(key="a", name="甲", of="firm", when="inspected > 0"),
                              Outcome(key="b", name="乙", of="firm", source="checks", when="satisfaction == '满意'"),
                              Outcome(key="c", name="丙", of="item", when="violations > 0")), stripped)
    assert [(path, code, params["outcome"]) for path, code, params in found] == [
        (("rectification", "outcomes", 0, "of"), "outcome_source_unbound", "a"),
        (("rectification", "outcomes", 1, "when"), "outcome_variable_unbound", "b")]
    assert all(code in MESSAGES for _, code, _ in found)


def test_a_list_from_a_form_the_campaign_does_not_bind_is_refused_by_name(store):
    # the loader refuses such a campaign first (outcome_source_unbound); computing one is refused too, not a KeyError
    with pytest.raises(OutcomeError) as err:
        universe(store, OTHER, Outcome(key="firms", name="企业清单", of="firm", when="inspected > 0"))
    assert err.value.code == "outcome_unbound"


def test_a_rule_that_cannot_be_worked_out_names_the_list_and_the_facts_once_per_distinct_tuple(monkeypatch):
    # a percentage edited into text in the workbook: abs() of it cannot be computed
    outcome = Outcome(key="shown", name="展示项目", of="benchmark", when="abs(percent_complete) >= 80")
    with pytest.raises(OutcomeError) as err:
        met(outcome, pd.DataFrame({"percent_complete": ["八十\u202e"]}))
    assert err.value.code == "outcome_rule_failed" and "U+202E" in str(err.value)  # a direction character shown as its code point
    calls = []
    evaluate = Expression.evaluate
    monkeypatch.setattr(Expression, "evaluate", lambda self, env, *a: calls.append(env) or evaluate(self, env, *a))
    table = pd.DataFrame({"percent_complete": [90.0, 90.0, None, 70.0, 90.0]})
    assert met(outcome, table).tolist() == [True, True, False, False, True]
    assert len(calls) == 3


def test_an_outcome_condition_yes_or_no_on_one_branch_only_is_refused_at_load():
    """A `when` giving a number on one branch of `a if c else b` would load and fail on the day the branch
    is first met (attack M3's hole, closed for the outcome lists too)."""
    from pydantic_core import PydanticCustomError

    from lib.forms.rectification import outcome_expression

    with pytest.raises(PydanticCustomError) as info:
        outcome_expression("provider", "inspected if failed > 0 else True")
    assert info.value.type == "outcome_when_not_boolean"
    assert outcome_expression("provider", "failed == 0 if inspected > 0 else False").names == {"failed", "inspected"}
