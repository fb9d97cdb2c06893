"""The campaign's priority rules per project (lib.campaign.priority): YAML conditions over the frame's
variables, on both campaigns (each with its own facts lists, thresholds and conditions), and the
loader's refusal of a sampling section that names what does not exist. Rows are written in each
campaign's own field keys and choice words (spelled out here, not taken from the bindings); every
expected fact is worked out by hand in the comments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lib.campaign.bound import meaning_frame
from lib.campaign.priority import PriorityUnbound, RuleFailed, facts, variables
from lib.forms import load_catalog
from lib.forms.spec import PriorityFacts, PriorityRule, Sampling

ROOT = Path(__file__).resolve().parents[2]
SHIPPED, OTHER = ROOT / "forms", ROOT / "tests" / "campaigns" / "other"
RULES = ["never_checked", "provider_failed", "high_subsidy", "complaint"]

#: Each campaign's checks form, in its own words: field keys, then method and conclusion words.
CAMPAIGNS = {
    "2020": {"folder": SHIPPED, "keys": ("voucher_no", "provider_name", "check_method", "conclusion", "complaint"),
             "method": {"on_site": "实地检查", "spot": "抽查", "desk": "书面核查", "none": "未检查"},
             "verdict": {"pass": "合格", "basic": "基本合格", "fail": "不合格"}},
    "other": {"folder": OTHER, "keys": ("coupon_code", "vendor_name", "inspect_way", "verdict", "has_complaint"),
              "method": {"on_site": "现场核查", "spot": "随机抽查", "desk": "材料审查", "none": "尚未检查"},
              "verdict": {"pass": "通过", "basic": "基本通过", "fail": "不通过"}},
}

#: In-scope projects: voucher, provider, subsidy (万元). Subsidy top shares (N = 6): V4 1/6, V2 2/6,
#: V3 3/6, V1 4/6, V6 5/6, V5 6/6.
PROJECTS = [("V1", "服务商甲", 10.0), ("V2", "服务商甲", 30.0), ("V3", "服务商乙", 29.99), ("V4", "服务商乙", 50.0),
            ("V5", "服务商丙", 5.0), ("V6", "服务商丙", 8.0)]
#: Check rows: voucher, provider, method, conclusion, complaint, status.
CHECKS = [
    ("V1", "服务商甲", "on_site", "pass", False, "已提交"),
    ("V2", "服务商甲", "desk", "fail", False, "已通过"),  # V2 only ever had a desk review; 甲 failed on V2
    ("v3 ", "服务商乙", "spot", "basic", True, "已提交"),  # V3 as the register writes it; a complaint
    ("V4", "服务商乙", "on_site", "fail", False, "草稿"),  # a draft is no check: V4 unchecked, 乙 not failed by it
    ("V5", "服务商丙", "none", None, False, "已提交"),
    # Filed (returned for a correction), naming the provider otherwise than the register: V6 is 丙's, so 丙 failed on V6.
    ("V6", "丙公司", "on_site", "fail", True, "退回修改"),
    ("V9", "服务商乙 ", "on_site", "fail", False, "已提交"),  # a voucher no project has: 乙 failed on it
    ("V1", "服务商甲", "on_site", "fail", False, "已撤回"),  # withdrawn: 甲's V1 did not fail
]

#: voucher, never_checked, provider_failed, high_subsidy, complaint — worked out per campaign.
EXPECTED = {
    # facts: on_site [on_site, spot_check], fail [fail]; high: subsidy >= 30 or top share <= 0.1; complaint: complaints > 0
    "2020": [
        ["V1", False, True, False, False],  # checked on site; 甲 failed on V2, another of its projects
        ["V2", True, False, True, False],  # desk review only; its own failure is no other project's; 30 reaches 30
        ["V3", False, True, False, True],  # a spot check counts as on site; 乙 failed on V9; 29.99 is below 30; a complaint
        ["V4", True, True, True, False],  # its only check is a draft; 乙 failed on V9; 50 (its share 1/6 > 0.1 anyway)
        ["V5", True, True, False, False],  # 未检查 is no check on site; 丙 failed on V6
        ["V6", False, False, False, True],  # checked on site; 丙's only failure is V6 itself; a complaint
    ],
    # facts: on_site [on_site], fail [fail, basic]; high: subsidy >= 50 or (share <= 0.2 and subsidy >= 20);
    # complaint: complaints >= 2
    "other": [
        ["V1", False, True, False, False],  # checked on site; 甲 failed on V2
        ["V2", True, False, False, False],  # desk review only; 30 is below 50 and its share 2/6 above 0.2
        ["V3", True, True, False, False],  # a 随机抽查 is not on site here; 乙 failed on V9; one complaint is not two
        ["V4", True, True, True, False],  # unchecked; 乙 failed on V3 (基本通过 fails here) and V9; 50
        ["V5", True, True, False, False],  # 丙 failed on V6
        ["V6", False, False, False, False],  # 丙's only failure is V6 itself; one complaint
    ],
}


@pytest.fixture(params=sorted(CAMPAIGNS))
def campaign(request):
    spec = CAMPAIGNS[request.param]
    catalog = load_catalog(spec["folder"])
    return request.param, spec, catalog.bindings, catalog.campaign.sampling


def snapshot(rows: list[dict], status: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"_id": [f"r{i}" for i in range(len(rows))], "_status": status or ["已提交"] * len(rows)}
                        | {k: [r.get(k) for r in rows] for k in (rows[0] if rows else {})})


def checks_of(spec: dict, bindings, rows=CHECKS) -> pd.DataFrame:
    voucher, provider, method, verdict, complaint = spec["keys"]
    snap = snapshot([{voucher: v, provider: p, method: spec["method"][m], verdict: spec["verdict"].get(c),
                      complaint: flag} for v, p, m, c, flag, _ in rows], [s for *_, s in rows])
    return meaning_frame(snap, bindings.of("checks"))


def forms_of(spec: dict, bindings, rows=CHECKS, *, inspections=(), complaints=()) -> dict[str, pd.DataFrame]:
    """The meaning frames ``facts`` reads: the checks, and each other kind the campaign binds (2020:
    inspections as (voucher, conclusion word, status), complaints as (voucher, status))."""
    forms = {"checks": checks_of(spec, bindings, rows)}
    if bindings.has("inspections"):
        snap = snapshot([{"voucher_no": v, "conclusion": c} for v, c, _ in inspections], [s for *_, s in inspections])
        forms["inspections"] = meaning_frame(snap, bindings.of("inspections"))
    if bindings.has("complaints"):
        snap = snapshot([{"voucher_no": v} for v, _ in complaints], [s for _, s in complaints])
        forms["complaints"] = meaning_frame(snap, bindings.of("complaints"))
    return forms


def register(projects=PROJECTS) -> pd.DataFrame:
    """The voucher register's in-scope entries, meaning-keyed as the register stores them."""
    return pd.DataFrame({"voucher": [v for v, _, _ in projects], "provider": [p for _, p, _ in projects],
                         "subsidy": [s for *_, s in projects], "city": "广州", "firm": [f"企业{v}" for v, _, _ in projects]})


def test_the_facts_of_each_project_on_both_campaigns(campaign):
    name, spec, bindings, sampling = campaign
    got = facts(register(), forms_of(spec, bindings), bindings, sampling)
    assert got.columns.tolist() == ["voucher", *RULES]
    assert got.values.tolist() == EXPECTED[name]


def test_the_projects_form_read_through_its_binding_gives_the_same_facts(campaign):
    """``projects`` may be the projects form's meaning frame instead of the register: same meanings."""
    name, spec, bindings, sampling = campaign
    keys = {"2020": ("voucher_no", "provider_name", "subsidy_amount"), "other": ("coupon_code", "vendor_name", "grant_wan")}
    voucher, provider, subsidy = keys[name]
    form = meaning_frame(snapshot([{voucher: v, provider: p, subsidy: s} for v, p, s in PROJECTS]), bindings.of("projects"))
    got = facts(form, forms_of(spec, bindings), bindings, sampling)
    assert got.values.tolist() == EXPECTED[name]


def test_the_rules_and_their_facts_lists_are_each_campaigns_own():
    shipped, other = (load_catalog(CAMPAIGNS[c]["folder"]).campaign.sampling for c in ("2020", "other"))
    assert shipped.rule("high_subsidy").when == "subsidy >= 30 or subsidy_top_share <= 0.1"
    assert other.rule("high_subsidy").when == "subsidy >= 50 or (subsidy_top_share <= 0.2 and subsidy >= 20)"
    assert shipped.facts == PriorityFacts(on_site=("on_site", "spot_check"), fail=("fail",))
    assert other.facts == PriorityFacts(on_site=("on_site",), fail=("fail", "basic"))


def test_with_no_check_filed_every_project_is_never_checked_and_nothing_else(campaign):
    name, spec, bindings, sampling = campaign
    got = facts(register(), forms_of(spec, bindings, rows=[]), bindings, sampling)
    assert got["never_checked"].all() and not got[["provider_failed", "complaint"]].any().any()
    assert got["high_subsidy"].tolist() == [row[3] for row in EXPECTED[name]]  # amounts alone decide it


def test_a_failed_inspection_of_this_campaign_marks_the_providers_other_projects():
    spec, catalog = CAMPAIGNS["2020"], load_catalog(SHIPPED)
    bindings, sampling = catalog.bindings, catalog.campaign.sampling
    inspections = [("V1", "不合格", "已提交"),  # 甲 failed on V1: V2 is another of 甲's projects
                   ("V5", "不合格", "草稿")]  # a draft is no inspection: 丙 keeps only its V6
    got = facts(register(), forms_of(spec, bindings, rows=[], inspections=inspections), bindings, sampling)
    assert got["provider_failed"].tolist() == [False, True, False, False, False, False]


def test_complaints_count_the_complaint_register_and_the_checks_flag():
    spec, catalog = CAMPAIGNS["2020"], load_catalog(SHIPPED)
    bindings, sampling = catalog.bindings, catalog.campaign.sampling
    complaints = [("v5 ", "已提交"), ("V5", "已提交"), ("V1", "草稿"), ("V4", "已撤回")]  # V5 twice; a draft or a withdrawn row is none
    forms = forms_of(spec, bindings, complaints=complaints)
    counted = variables(register(), forms, bindings, sampling, {"complaints"})["complaints"].tolist()
    assert counted == [0, 0, 1, 0, 2, 1]  # V3 and V6: the checks' flag; V5: two complaints recorded
    assert facts(register(), forms, bindings, sampling)["complaint"].tolist() == [False, False, True, False, True, True]


def test_the_other_campaign_needs_two_complaints_to_take_a_project():
    spec, catalog = CAMPAIGNS["other"], load_catalog(OTHER)
    bindings, sampling = catalog.bindings, catalog.campaign.sampling
    rows = [*CHECKS, ("V3", "服务商乙", "on_site", "pass", True, "已提交")]  # a second check of V3 records a complaint
    got = facts(register(), forms_of(spec, bindings, rows=rows), bindings, sampling)
    assert got["complaint"].tolist() == [False, False, True, False, False, False]
    assert not bindings.has("complaints")  # counted from the checks' flag alone


def test_the_subsidy_top_share_counts_ties_with_the_project_and_unknown_amounts_in_the_frame_only():
    bindings, sampling = load_catalog(SHIPPED).bindings, load_catalog(SHIPPED).campaign.sampling
    projects = register([("A", "甲", 50.0), ("B", "甲", 50.0), ("C", "乙", 40.0), ("D", "乙", None), ("E", "丙", 10.004)])
    got = variables(projects, {}, bindings, sampling, {"subsidy", "subsidy_top_share"})
    assert got["subsidy_top_share"].tolist()[:3] == [0.4, 0.4, 0.6]  # A and B tie: each has 2 of 5 at least as large
    assert pd.isna(got["subsidy_top_share"].iloc[3]) and got["subsidy_top_share"].iloc[4] == 0.8
    assert got["subsidy"].iloc[4] == 10.0  # as the frame writes it: two decimals


def test_a_rule_is_evaluated_per_distinct_value_and_blank_is_not_met(campaign):
    name, spec, bindings, _ = campaign
    sampling = Sampling(ratio=0.5, priority_rules=[
        PriorityRule(key="big", name="大额", when="subsidy >= 10"),
        PriorityRule(key="top_two", name="前二", when="subsidy_top_share <= 2 / 6"),
        PriorityRule(key="named", name="乙的", when="provider == '服务商乙' and not checked_on_site"),
        PriorityRule(key="always", name="全部", when="True")], facts=PriorityFacts(on_site=["on_site"]))
    projects = register([*PROJECTS[:5], ("V6", "服务商丙", None)]).set_index(pd.Index([10, 11, 12, 13, 14, 15]))
    got = facts(projects, forms_of(spec, bindings), bindings, sampling)
    assert got.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert got["big"].tolist() == [True, True, True, True, False, False]  # V6's unknown amount: blank, not met
    assert got["top_two"].tolist() == [False, True, False, True, False, False]
    assert got["named"].tolist() == [False, False, True, True, False, False]  # V3 had a spot check only, V4 a draft
    assert got["always"].all()


@pytest.mark.parametrize("when", ["min(subsidy, 3)", "coalesce(subsidy, city) == 1 or min(city, subsidy) > 1"])
def test_a_rule_that_gives_no_yes_or_no_or_cannot_be_computed_is_refused_naming_it(campaign, when):
    _, spec, bindings, _ = campaign
    sampling = Sampling(ratio=0.5, priority_rules=[PriorityRule(key="odd", name="怪规则", when=when)])
    with pytest.raises(RuleFailed) as info:
        facts(register(), forms_of(spec, bindings), bindings, sampling)
    assert info.value.code == "priority_rule_failed" and "怪规则" in str(info.value)


def test_complaints_with_neither_a_complaint_register_nor_the_checks_flag_is_refused_not_zero():
    spec, catalog = CAMPAIGNS["other"], load_catalog(OTHER)
    bindings, sampling = catalog.bindings, catalog.campaign.sampling
    checks = bindings.checks
    unbound = bindings.model_copy(update={"checks": checks.model_copy(
        update={"fields": {m: k for m, k in checks.fields.items() if m != "complaint"}})})
    with pytest.raises(PriorityUnbound) as info:
        facts(register(), forms_of(spec, bindings), unbound, sampling)
    assert info.value.code == "priority_unbound"


# --- the sampling section at load --------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path) -> Path:
    for path in SHIPPED.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


FORMS = len(load_catalog(SHIPPED).forms())
HIGH = '      when: "subsidy >= 30 or subsidy_top_share <= 0.1"'
NEVER = '      when: "not checked_on_site"'
COMPLAINT = '      when: "complaints > 0"'
ON_SITE = "    on_site: [on_site, spot_check]  # check methods (bindings.checks.choices.method) that count as on site: a desk review does not"
FAIL = "    fail: [fail]  # conclusions (of the checks and of this campaign's inspections) that mark a project failed"
BROKEN = [
    # case, line replaced, its replacement, the line the problem names, the rule it names ("" for the facts lists)
    ("unknown variable", HIGH, '      when: "amount >= 30"', '      when: "amount >= 30"', "high_subsidy"),
    ("does not parse", HIGH, '      when: "subsidy >= "', '      when: "subsidy >= "', "high_subsidy"),
    ("not a yes or no", HIGH, '      when: "subsidy * 2"', '      when: "subsidy * 2"', "high_subsidy"),
    ("kinds that do not compare", HIGH, '      when: "city >= 30"', '      when: "city >= 30"', "high_subsidy"),
    ("the campaign clock", HIGH, '      when: "today() > \'2020-01-01\'"', '      when: "today() > \'2020-01-01\'"', "high_subsidy"),
    ("when left out", HIGH, "", "    - key: high_subsidy", "high_subsidy"),
    ("a key that is a frame column", "    - key: high_subsidy", "    - key: subsidy", "    - key: subsidy", "subsidy"),
    ("unknown method meaning", ON_SITE, "    on_site: [on_site, phone]", "    on_site: [on_site, phone]", ""),
    ("a method word, not its meaning", ON_SITE, "    on_site: [实地检查]", "    on_site: [实地检查]", ""),
    ("unknown conclusion meaning", FAIL, "    fail: [bad]", "    fail: [bad]", ""),
    # the facts list a variable reads, left empty (checked against the rules once the forms are loaded)
    ("on_site left out", ON_SITE, "", NEVER, "never_checked"),
    ("fail left empty", FAIL, "    fail: []", '      when: "provider_failed"', "provider_failed"),
]


#: The cases found once the forms are loaded (lib.forms.crosscheck), each with a code of its own.
EMPTY_LISTS = ("on_site left out", "fail left empty")


def line_of(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


@pytest.mark.parametrize("case, old, new, at, rule", BROKEN, ids=[c[0] for c in BROKEN])
def test_a_sampling_rule_naming_what_does_not_exist_is_refused_with_file_line_and_rule(folder, case, old, new, at, rule):
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old + "\n") == 1
    text = text.replace(old + "\n", new + "\n" if new else "", 1)
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(folder)
    problems = catalog.problems()["campaign.yaml"]
    code = "rule_fact_list_empty" if case in EMPTY_LISTS else "invalid_definition"
    assert [(p.code, p.where, p.field) for p in problems] == [(code, f"campaign.yaml 第 {line_of(text, at)} 行", rule)]
    assert len(catalog.forms()) == FORMS  # the forms keep serving


def test_complaints_read_with_no_complaint_register_and_no_checks_flag_bound_is_refused_at_the_rule(folder):
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  complaints:          #"), text.index("      content: content\n")
    text = text[:start] + text[end + len("      content: content\n"):]
    text = text.replace("      complaint: complaint\n", "", 1)  # the checks' flag
    path.write_text(text, encoding="utf-8")
    problems = load_catalog(folder).problems()["campaign.yaml"]
    assert [(p.code, p.where, p.field) for p in problems] == [
        ("rule_fact_unbound", f"campaign.yaml 第 {line_of(text, COMPLAINT)} 行", "complaint")]
    assert "bindings.complaints" in problems[0].message and "bindings.checks.fields.complaint" in problems[0].message


def test_either_source_of_complaints_is_enough(folder):
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      complaint: complaint\n", "", 1), encoding="utf-8")
    assert load_catalog(folder).problems() == {}


def test_a_rule_written_twice_is_refused(folder):
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    - key: complaint\n", "    - key: high_subsidy\n", 1)
    path.write_text(text, encoding="utf-8")
    problems = load_catalog(folder).problems()["campaign.yaml"]
    assert [(p.code, p.where) for p in problems] == [("invalid_definition", f"campaign.yaml 第 {line_of(text, '  priority_rules:')} 行")]
