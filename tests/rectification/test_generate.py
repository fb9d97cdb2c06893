"""Items from findings, by the campaign's declared rules (issue 14, outcome 1): each shipped rule on
hand-built findings, drafts and withdrawn rows ignored, generation idempotent (a closed item's finding
is not opened again), a manual item checked field by field with nothing written on a refusal, the
province alone generating, and the other campaign generating by its own rules with no code for it."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from lib.auth.errors import Forbidden
from lib.core.records import Actor
from lib.core.statuses import DRAFT, WITHDRAWN
from lib.forms import load_catalog
from lib.forms.rectification import PARTY_STEP
from lib.forms.types import credit_code_check_char
from lib.rectification import generate as gen
from lib.rectification import match
from lib.rectification.lifecycle import actions_for, missing
from lib.rectification.records import CLOSED, ITEMS, MANUAL, PENDING
from tests.sampling.conftest import import_vouchers

from .conftest import (
    ADMIN,
    CITY_GZ,
    LEAD_UNIT,
    OTHER,
    OTHER_PROVIDER,
    PROVIDER,
    PROVINCE,
    ROOT,
    SHIPPED,
    file_row,
    rectification_day,
    table_answer,
)

TODAY = rectification_day()
PROVIDER_NAME = PROVIDER.org


def code(n: int) -> str:
    body = f"91440101MA{n:07d}"
    return body + credit_code_check_char(body)


def project(store, voucher: str, usage: str, *, status=None, catalog=SHIPPED, city="广州", **extra):
    """A 附件1 row (the projects form) of ``voucher`` declaring ``usage`` (a choice meaning)."""
    meanings = {"voucher": voucher, "firm": f"{voucher}企业", "firm_code": code(int(voucher[-4:])), "city": city,
                "provider": PROVIDER_NAME, "project": f"{voucher}上云项目", "usage": usage, **extra}
    return file_row(store, "projects", meanings, catalog=catalog, **({"status": status} if status else {}))


def inspection(store, voucher: str, conclusion: str, problems=(), **kw):
    meanings = {"voucher": voucher, "city": "广州", "firm": f"{voucher}企业", "provider": PROVIDER_NAME, "usage": "in_use",
                "conclusion": conclusion}
    if problems:
        meanings["problems"] = table_answer(SHIPPED, "inspections", "problems", *problems)
    return file_row(store, "inspections", meanings, **kw)


def check(store, voucher: str, conclusion: str, *, catalog=SHIPPED, provider=PROVIDER_NAME, **kw):
    meanings = {"voucher": voucher, "city": "广州", "firm": f"{voucher}企业", "provider": provider, "conclusion": conclusion}
    return file_row(store, "checks", meanings, catalog=catalog, **kw)


def benchmark(store, name: str, status_word: str, problems=None, *, catalog=SHIPPED, **kw):
    meanings = {"project": name, "lead_unit": LEAD_UNIT.org, "lead_unit_code": code(9001), "city": "佛山", "status": status_word}
    if problems is not None:
        meanings["problems"] = problems
    return file_row(store, "benchmarks", meanings, catalog=catalog, **kw)


def items(store) -> list:
    return store.records(ITEMS.form_id)


def by_source(store) -> dict[str, dict]:
    return {r.values["source_row"]: r for r in items(store)}


def test_each_shipped_rule_opens_an_item_for_its_findings_and_none_for_the_rest(store):
    rows = {
        "basic": inspection(store, "V-0001", "basic"),
        "fail": inspection(store, "V-0002", "fail", problems=["系统长期闲置"]),
        "pass_problems": inspection(store, "V-0003", "pass", problems=["培训记录缺失"]),
        "pass": inspection(store, "V-0004", "pass"),
        "stopped": project(store, "V-0005", "stopped"),
        "low_use": project(store, "V-0006", "low_use"),
        "in_use": project(store, "V-0007", "in_use"),
        "check_fail": check(store, "V-0007", "fail"),
        "check_basic": check(store, "V-0008", "basic"),
        "overdue": benchmark(store, "智能工厂示范项目", "到期未验收", "无"),
        "building_problems": benchmark(store, "工业互联网平台项目", "在建", "中期检查发现资金支出滞后"),
        "building_none": benchmark(store, "数字车间项目", "在建", "无"),
    }
    summary = gen.generate(store, SHIPPED, PROVINCE, TODAY)

    opened = by_source(store)
    expected = {"basic": "inspection_problem", "fail": "inspection_problem", "pass_problems": "inspection_problem",
                "stopped": "declared_idle", "low_use": "declared_idle", "check_fail": "check_failed",
                "overdue": "benchmark_problem", "building_problems": "benchmark_problem"}
    assert {name: opened[rows[name].id].values["rule"] for name in expected} == expected
    assert not {"pass", "in_use", "check_basic", "building_none"} & {n for n, r in rows.items() if r.id in opened}
    assert len(summary.created) == len(opened) == 8 and summary.already == 0
    assert {r.key: (r.found, r.created) for r in summary.rules} == {
        "inspection_problem": (3, 3), "declared_idle": (2, 2), "check_failed": (1, 1), "benchmark_problem": (2, 2)}
    assert all(r.status == PENDING and r.values["due"] == SHIPPED.campaign.rectification.due for r in opened.values())


def test_a_voucher_project_in_a_city_outside_the_scheme_opens_no_item_but_a_benchmark_there_does(store):
    """深圳 runs its own scheme (outside_scheme): its vouchers are not the province's to rectify (attack N6);
    a benchmark project there is, the benchmark programme being the province's."""
    outside = SHIPPED.campaign.outside_scheme[0]
    failed = file_row(store, "checks", {"voucher": "V-0031", "city": outside, "firm": "某企业", "provider": PROVIDER_NAME,
                                        "conclusion": "fail"})
    report = file_row(store, "benchmarks", {"project": "示范项目", "lead_unit": LEAD_UNIT.org, "lead_unit_code": code(9002),
                                            "city": outside, "status": "到期未验收"})
    gen.generate(store, SHIPPED, PROVINCE, TODAY)
    opened = by_source(store)
    assert failed.id not in opened and report.id in opened


def test_an_item_copies_its_finding_party_city_project_and_the_facts_that_met_the_rule(store):
    project(store, "V-0011", "in_use")  # names the project a check of the same voucher does not
    failed = check(store, "V-0011", "fail")
    stopped = project(store, "V-0012", "stopped", provider_code=code(77))
    report = benchmark(store, "智能工厂示范项目", "在建", "审计指出自筹资金不到位")
    seen = inspection(store, "V-0013", "basic", problems=["实施内容缩水"])
    gen.generate(store, SHIPPED, PROVINCE, TODAY)
    opened = by_source(store)

    item = opened[failed.id].values
    assert (item["source_kind"], item["source_form"], item["category"]) == ("checks", SHIPPED.bindings.checks.form, "check_failed")
    assert (item["party_kind"], item["party"], item["actor_org"], item["city"]) == ("provider", PROVIDER_NAME, PROVIDER_NAME, "广州")
    assert (item["voucher"], item["project"]) == ("V-0011", "V-0011上云项目")
    checks_form = SHIPPED.form(SHIPPED.bindings.checks.form)
    conclusion = checks_form.field(SHIPPED.bindings.checks.key("conclusion"))
    assert item["finding"].startswith(SHIPPED.campaign.rectification.rules[2].name)
    assert f"{conclusion.label}：{SHIPPED.bindings.checks.word('conclusion', 'fail')}" in item["finding"]
    category = SHIPPED.campaign.rectification.category("check_failed")
    assert not {"steps", "evidence", "violations", "reason"} & set(item)  # opened blank: the category's checklist, none ticked
    assert missing(category, opened[failed.id]) == ([s.name for s in category.steps if s.by == PARTY_STEP], [])

    assert opened[stopped.id].values["party_code"] == code(77)
    lead = opened[report.id].values
    assert (lead["party_kind"], lead["party"], lead["actor_org"], lead["party_code"], lead["city"]) == (
        "lead_unit", LEAD_UNIT.org, LEAD_UNIT.org, code(9001), "佛山")
    assert lead["project"] == "智能工厂示范项目" and "审计指出自筹资金不到位" in lead["finding"]
    assert "实施内容缩水" in opened[seen.id].values["finding"]  # a table's rows are told too
    assert len({r.values["item_id"] for r in items(store)}) == 4


def test_a_draft_or_withdrawn_row_is_no_finding(store):
    project(store, "V-0021", "stopped", status=DRAFT)
    check(store, "V-0022", "fail", status=WITHDRAWN)
    summary = gen.generate(store, SHIPPED, PROVINCE, TODAY)
    assert summary.created == () and items(store) == []


def test_generating_again_adds_only_new_findings_and_never_reopens_a_closed_item(store):
    first = project(store, "V-0031", "idle")
    check(store, "V-0032", "fail")
    assert len(gen.generate(store, SHIPPED, PROVINCE, TODAY).created) == 2

    again = gen.generate(store, SHIPPED, PROVINCE, TODAY)
    assert (again.created, again.already) == ((), 2) and len(items(store)) == 2

    item = by_source(store)[first.id]
    store.update(ITEMS.form_id, item.id, base_rev=item.rev, actor=PROVINCE, status=CLOSED)
    newer = check(store, "V-0033", "fail")
    third = gen.generate(store, SHIPPED, PROVINCE, TODAY + dt.timedelta(days=3))
    assert len(third.created) == 1 and third.already == 2
    assert by_source(store)[newer.id].values["item_id"] == third.created[0]
    assert by_source(store)[first.id].status == CLOSED and len(items(store)) == 3
    assert [e.note for e in store.audit() if e.action == gen.GENERATED][-1] == third.text()


@pytest.mark.parametrize("who", [CITY_GZ, PROVIDER, LEAD_UNIT, ADMIN], ids=lambda a: a.role)
def test_only_the_province_generates_and_a_refusal_is_audited(store, who):
    check(store, "V-0041", "fail")
    with pytest.raises(Forbidden):
        gen.generate(store, SHIPPED, who, TODAY)
    with pytest.raises(Forbidden):
        gen.add_item(store, SHIPPED, who, manual(), TODAY)
    assert items(store) == []
    assert [e.account for e in store.audit() if e.action == "拒绝访问"] == [who.account, who.account]


def test_a_default_due_date_already_past_is_refused_and_nothing_written(store):
    check(store, "V-0051", "fail")
    late = SHIPPED.campaign.rectification.due + dt.timedelta(days=1)
    with pytest.raises(gen.DuePassed) as info:
        gen.generate(store, SHIPPED, PROVINCE, late)
    assert info.value.code == "rectification_due_passed" and items(store) == []


def test_a_rule_that_gives_no_yes_or_no_is_refused_naming_it(store, tmp_path):
    """Known from the fields' kinds, it is refused when the campaign loads (rectification_when_type, with its
    line); what only the values could tell fails at generation naming the rule, nothing written."""
    for path in (ROOT / "forms").glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    campaign = tmp_path / "campaign.yaml"
    text = campaign.read_text(encoding="utf-8")
    old = "      when: \"usage in ['stopped', 'idle', 'low_use']\""
    assert text.count(old) == 1
    campaign.write_text(text.replace(old, "      when: \"usage\""), encoding="utf-8")
    [problem] = load_catalog(tmp_path).problems()["campaign.yaml"]
    assert problem.code == "rectification_when_type" and "declared_idle" in problem.message
    rule = replace_when(SHIPPED, "declared_idle", "usage")  # past the loader: the values speak
    project(store, "V-0061", "stopped")
    with pytest.raises(gen.RuleFailed) as info:
        gen.generate(store, rule, PROVINCE, TODAY)
    assert info.value.code == "rectification_rule_failed" and "declared_idle" in str(info.value)
    assert items(store) == []


def replace_when(catalog, key: str, when: str):
    """``catalog`` with the rule ``key``'s condition replaced, as a stand-in that skips the load-time checks."""
    section = catalog.campaign.rectification
    rules = tuple(r.model_copy(update={"when": when}) if r.key == key else r for r in section.rules)
    campaign = catalog.campaign.model_copy(update={"rectification": section.model_copy(update={"rules": rules})})
    return type("Catalog", (), {"campaign": campaign, "bindings": catalog.bindings, "form": catalog.form,
                                "forms": catalog.forms})()


def manual(**changes) -> dict:
    values = {"category": "usage", "city": "广州", "party_kind": "provider", "party": PROVIDER_NAME, "party_code": code(5),
              "voucher": "V-0071", "project": "V-0071上云项目", "finding": "群众来信反映系统停用", "due": TODAY + dt.timedelta(days=10)}
    return {**values, **changes}


def test_a_manual_item_is_opened_with_its_category_steps_and_rule_manual(store):
    record = gen.add_item(store, SHIPPED, PROVINCE, manual(), TODAY)
    values = record.values
    assert (record.status, values["rule"], values["source_row"], values["actor_org"]) == (PENDING, MANUAL, "", PROVIDER_NAME)
    assert values["due"] == TODAY + dt.timedelta(days=10) and values["item_id"] == "RT-000001"
    usage = SHIPPED.campaign.rectification.category("usage")
    assert "steps" not in values and missing(usage, record)[0] == [s.name for s in usage.steps if s.by == PARTY_STEP]
    project(store, "V-0071", "in_use")  # the provider served the firm: it may act for it
    firm = gen.add_item(store, SHIPPED, PROVINCE, manual(party_kind="firm", party="V-0071企业", party_code=code(71), actor_org=PROVIDER_NAME), TODAY)
    assert (firm.values["party"], firm.values["actor_org"], firm.values["item_id"]) == ("V-0071企业", PROVIDER_NAME, "RT-000002")


BAD_MANUAL = [
    ("due before today", {"due": TODAY - dt.timedelta(days=1)}, "due", "item_due_past"),
    ("due missing", {"due": None}, "due", "item_required"),
    ("due not a date", {"due": "十月底"}, "due", "item_bad_due"),
    ("unknown category", {"category": "other"}, "category", "item_unknown_category"),
    ("unknown city", {"city": "香港"}, "city", "item_unknown_city"),
    ("unknown party kind", {"party_kind": "city"}, "party_kind", "item_unknown_party_kind"),
    ("party blank", {"party": "  "}, "party", "item_required"),
    ("party too long", {"party": "名" * (gen.NAME_MAX + 1)}, "party", "item_too_long"),
    ("party on two lines", {"party": "甲公司\n乙公司"}, "party", "item_bad_text"),
    ("bad credit code", {"party_code": "91440101MA00000000"}, "party_code", "item_bad_credit_code"),
    ("finding blank", {"finding": ""}, "finding", "item_required"),
    ("finding too long", {"finding": "问" * (gen.FINDING_MAX + 1)}, "finding", "item_too_long"),
    ("finding with a direction override", {"finding": "系统\u202e停用"}, "finding", "item_bad_text"),
    ("a firm's item without its provider", {"party_kind": "firm", "party": "某企业"}, "actor_org", "item_required"),
    ("due beyond a year (a slip of the year)", {"due": dt.date(9999, 12, 31)}, "due", "item_due_far"),
    ("a firm's item given to a provider that never served it",
     {"party_kind": "firm", "party": "某企业", "actor_org": PROVIDER_NAME}, "actor_org", "item_not_served"),
]


@pytest.mark.parametrize("case, changes, field, code_", BAD_MANUAL, ids=[c[0] for c in BAD_MANUAL])
def test_a_manual_items_bad_input_is_refused_naming_the_field_and_nothing_is_written(store, case, changes, field, code_):
    with pytest.raises(gen.ItemRefused) as info:
        gen.add_item(store, SHIPPED, PROVINCE, manual(**changes), TODAY)
    assert (info.value.code, info.value.field) == (code_, field)
    assert gen.ITEMS_LABELS[field] in str(info.value)
    assert items(store) == []


def test_the_other_campaign_generates_by_its_own_rules_words_and_due_days(store):
    """Its projects rule answers to the firm, worked by the provider, due 20 days after generation; its
    checks rule fires on 基本通过 too; no inspections are bound there."""
    today = rectification_day(OTHER)
    idle = project(store, "V-0081", "idle", catalog=OTHER)
    project(store, "V-0082", "low_use", catalog=OTHER)  # not a finding there
    basic = check(store, "V-0083", "basic", catalog=OTHER)
    overdue = benchmark(store, "示范项目甲", "到期未验收", catalog=OTHER)
    summary = gen.generate(store, OTHER, PROVINCE, today)
    opened = by_source(store)
    assert set(opened) == {idle.id, basic.id, overdue.id} and len(summary.created) == 3
    firm = opened[idle.id].values
    assert (firm["rule"], firm["party_kind"], firm["party"], firm["actor_org"]) == ("idle_projects", "firm", "V-0081企业", PROVIDER_NAME)
    assert firm["party_code"] == code(81) and firm["due"] == today + dt.timedelta(days=20)
    assert OTHER.bindings.projects.word("usage", "idle") in firm["finding"]
    assert opened[basic.id].values["due"] == OTHER.campaign.rectification.due
    category = OTHER.campaign.rectification.category(opened[overdue.id].values["category"])
    assert [s.key for s in category.steps] == ["acceptance_plan"] and "steps" not in opened[overdue.id].values


def test_findings_evaluate_each_rule_once_per_distinct_tuple_and_read_an_unknown_word_as_blank(store, monkeypatch):
    """20 projects with two usages: the projects rule is evaluated twice, not 20 times; a word the
    binding does not know (a form edited since) is blank to the rule, so it opens nothing."""
    for i in range(20):
        project(store, f"V-{9000 + i}", "stopped" if i % 2 else "in_use")
    binding = SHIPPED.bindings.projects
    store.append(binding.form, {binding.key("voucher"): "V-9100", binding.key("usage"): "报废"}, actor=PROVIDER, status="已提交")
    calls = []
    original = gen.ItemRule.expression.fget

    class Counting:
        def __init__(self, expr):
            self.expr, self.names = expr, expr.names

        def evaluate(self, env, context=None):
            calls.append(dict(env))
            return self.expr.evaluate(env, context)

    monkeypatch.setattr(gen.ItemRule, "expression", property(lambda rule: Counting(original(rule))))
    found = gen.findings(SHIPPED, store.snapshot, today=TODAY)
    assert list(found.columns) == list(gen.FINDING_COLUMNS)
    assert sorted(found["voucher"]) == [f"V-{9000 + i}" for i in range(1, 20, 2)]
    assert sorted(c["usage"] or "" for c in calls) == ["", "in_use", "stopped"]


ACCOUNTS = [PROVINCE, CITY_GZ, PROVIDER, OTHER_PROVIDER, LEAD_UNIT]


def test_generation_finds_the_acting_account_by_code_register_filer_or_name_and_flags_a_party_nobody_answers_for(store):
    """Attack N1: the inspection and 附件3 take the provider as free text; an item whose acting organisation is no
    account's could never be worked. The account is found (and how recorded); none found keeps the typed name, 无对应账号."""
    coded = Actor("provider_c", "provider", "深圳码上云有限公司", "广州", org_code=code(501))
    project(store, "V-0081", "in_use")  # filed by PROVIDER's account: the voucher's filer
    by_filer = check(store, "V-0081", "fail", provider="云智科技")  # a 简称 typed by the city
    by_name = check(store, "V-0082", "fail", provider=" 广州云智科技有限公司\u200b")
    by_code = project(store, "V-0083", "stopped", provider="码上云", provider_code=code(501))
    nobody = check(store, "V-0084", "fail", provider="无名科技")
    lead = benchmark(store, "智能工厂示范项目", "到期未验收", "无")
    summary = gen.generate(store, SHIPPED, PROVINCE, TODAY, accounts=[*ACCOUNTS, coded])

    opened = {k: v.values for k, v in by_source(store).items()}
    assert (opened[by_filer.id]["actor_org"], opened[by_filer.id]["actor_match"]) == (PROVIDER_NAME, match.BY_FILER)
    assert (opened[by_filer.id]["party"]) == "云智科技"  # the finding's party as the source typed it
    assert (opened[by_name.id]["actor_org"], opened[by_name.id]["actor_match"]) == (PROVIDER_NAME, match.BY_NAME)
    assert (opened[by_code.id]["actor_org"], opened[by_code.id]["actor_match"]) == (coded.org, match.BY_CODE)
    assert (opened[nobody.id]["actor_org"], opened[nobody.id]["actor_match"]) == ("无名科技", match.UNMATCHED)
    assert (opened[lead.id]["actor_org"], opened[lead.id]["actor_match"]) == (LEAD_UNIT.org, match.BY_NAME)
    assert summary.unmatched == 1 and match.UNMATCHED in summary.text()
    item = next(r for r in items(store) if r.values["source_row"] == by_filer.id)
    assert actions_for(PROVIDER, item, TODAY) == ("tick",)  # the provider works the item its 简称 named


def test_the_voucher_register_names_the_provider_before_the_typed_name(store):
    import_vouchers(store, [("V-0091", "广州", OTHER_PROVIDER.org, 10.0)])
    typo = check(store, "V-0091", "fail", provider=PROVIDER_NAME)  # the register says another provider served it
    gen.generate(store, SHIPPED, PROVINCE, TODAY, accounts=ACCOUNTS)
    item = by_source(store)[typo.id].values
    assert (item["actor_org"], item["actor_match"]) == (OTHER_PROVIDER.org, match.BY_REGISTER)


def test_a_manual_item_names_the_organisation_as_the_account_writes_it_or_says_none_acts(store):
    record = gen.add_item(store, SHIPPED, PROVINCE, manual(party="广州云智科技有限公司 "), TODAY, accounts=ACCOUNTS)
    assert (record.values["actor_org"], record.values["actor_match"]) == (PROVIDER_NAME, match.BY_NAME)
    typo = gen.add_item(store, SHIPPED, PROVINCE, manual(party="云智"), TODAY, accounts=ACCOUNTS)
    assert (typo.values["actor_org"], typo.values["actor_match"]) == ("云智", match.UNMATCHED)


def test_a_firm_item_given_to_a_provider_that_did_not_serve_it_needs_the_provinces_reason(store):
    values = manual(party_kind="firm", party="某企业", actor_org=OTHER_PROVIDER.org, actor_reason="原服务商已注销，由其承接")
    record = gen.add_item(store, SHIPPED, PROVINCE, values, TODAY, accounts=ACCOUNTS)
    assert record.values["actor_org"] == OTHER_PROVIDER.org
    assert record.values["actor_match"] == f"{match.BY_PROVINCE}：原服务商已注销，由其承接"


def test_a_manual_due_date_a_year_away_is_accepted(store):
    due = TODAY + dt.timedelta(days=gen.DUE_MAX_DAYS)
    assert gen.add_item(store, SHIPPED, PROVINCE, manual(due=due), TODAY).values["due"] == due
