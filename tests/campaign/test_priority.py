"""The notice's priority rules per project (lib.campaign.priority) on both campaigns, and the loader's
refusal of a sampling section that names what does not exist. Rows are written in each campaign's own
field keys and choice words (spelled out here, not taken from the bindings); every expected fact is
worked out by hand in the comments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lib.campaign.bound import meaning_frame
from lib.campaign.priority import PriorityUnbound, facts
from lib.forms import load_catalog
from lib.forms.spec import PriorityRule, Sampling

ROOT = Path(__file__).resolve().parents[2]
SHIPPED, OTHER = ROOT / "forms", ROOT / "tests" / "campaigns" / "other"
RULES = ["never_checked", "provider_failed", "high_subsidy", "complaint"]

#: Each campaign's checks form, in its own words: field keys, then method and conclusion words.
CAMPAIGNS = {
    "2020": {"folder": SHIPPED, "keys": ("voucher_no", "provider_name", "check_method", "conclusion", "complaint"),
             "method": {"on_site": "实地检查", "spot": "抽查", "desk": "书面核查", "none": "未检查"},
             "verdict": {"pass": "合格", "basic": "基本合格", "fail": "不合格"}, "threshold": 30},
    "other": {"folder": OTHER, "keys": ("coupon_code", "vendor_name", "inspect_way", "verdict", "has_complaint"),
              "method": {"on_site": "现场核查", "spot": "随机抽查", "desk": "材料审查", "none": "尚未检查"},
              "verdict": {"pass": "通过", "basic": "基本通过", "fail": "不通过"}, "threshold": 50},
}

#: In-scope projects: voucher, provider, subsidy (万元).
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


def expected(threshold: float) -> list[list]:
    return [
        # voucher, never_checked, provider_failed, high_subsidy, complaint
        ["V1", False, True, False, False],  # checked on site; 甲 failed on V2, another of its projects
        ["V2", True, False, 30.0 >= threshold, False],  # desk review only; its own failure is no other project's
        ["V3", False, True, False, True],  # spot check counts as on site; 乙 failed on V9; 29.99 is below both
        ["V4", True, True, True, False],  # its only check is a draft; 乙 failed on V9; 50 reaches both thresholds
        ["V5", True, True, False, False],  # 未检查 is no check on site; 丙 failed on V6
        ["V6", False, False, False, True],  # checked on site; 丙's only failure is V6 itself
    ]


@pytest.fixture(params=sorted(CAMPAIGNS))
def campaign(request):
    spec = CAMPAIGNS[request.param]
    catalog = load_catalog(spec["folder"])
    return spec, catalog.bindings, catalog.campaign.sampling


def snapshot(rows: list[dict], status: list[str] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"_id": [f"r{i}" for i in range(len(rows))], "_status": status or ["已提交"] * len(rows)}
                        | {k: [r.get(k) for r in rows] for k in (rows[0] if rows else {})})


def checks_of(spec: dict, bindings, rows=CHECKS) -> pd.DataFrame:
    voucher, provider, method, verdict, complaint = spec["keys"]
    snap = snapshot([{voucher: v, provider: p, method: spec["method"][m], verdict: spec["verdict"].get(c),
                      complaint: flag} for v, p, m, c, flag, _ in rows], [s for *_, s in rows])
    return meaning_frame(snap, bindings.of("checks"))


def register(projects=PROJECTS) -> pd.DataFrame:
    """The voucher register's in-scope entries, meaning-keyed as the register stores them."""
    return pd.DataFrame({"voucher": [v for v, _, _ in projects], "provider": [p for _, p, _ in projects],
                         "subsidy": [s for *_, s in projects], "city": "广州"})


def test_the_facts_of_each_project_on_both_campaigns(campaign):
    spec, bindings, sampling = campaign
    got = facts(register(), checks_of(spec, bindings), bindings, sampling)
    assert got.columns.tolist() == ["voucher", *RULES]
    assert got.values.tolist() == expected(spec["threshold"])


def test_the_projects_form_read_through_its_binding_gives_the_same_facts(campaign):
    """``projects`` may be the projects form's meaning frame instead of the register: same meanings."""
    spec, bindings, sampling = campaign
    keys = {"2020": ("voucher_no", "provider_name", "subsidy_amount"), "other": ("coupon_code", "vendor_name", "grant_wan")}
    voucher, provider, subsidy = keys["2020" if spec["folder"] == SHIPPED else "other"]
    form = meaning_frame(snapshot([{voucher: v, provider: p, subsidy: s} for v, p, s in PROJECTS]), bindings.of("projects"))
    got = facts(form, checks_of(spec, bindings), bindings, sampling)
    assert got.values.tolist() == expected(spec["threshold"])


def test_the_thresholds_are_each_campaigns_own(campaign):
    spec, _, sampling = campaign
    assert sampling.rule("high_subsidy").threshold == spec["threshold"]
    assert sampling.rule("never_checked").on_site == ("on_site", "spot_check")


def test_with_no_check_filed_every_project_is_never_checked_and_nothing_else(campaign):
    spec, bindings, sampling = campaign
    got = facts(register(), checks_of(spec, bindings, rows=[]), bindings, sampling)
    assert got["never_checked"].all() and not got[["provider_failed", "complaint"]].any().any()
    assert got["high_subsidy"].tolist() == [False, 30.0 >= spec["threshold"], False, True, False, False]


def test_only_the_declared_rules_are_answered_in_their_order_and_the_projects_index_is_kept(campaign):
    spec, bindings, _ = campaign
    sampling = Sampling(ratio=0.5, priority_rules=[PriorityRule(key="high_subsidy", name="高", threshold=8),
                                                   PriorityRule(key="provider_failed", name="败", fail=["fail", "basic"])])
    projects = register().set_index(pd.Index([10, 11, 12, 13, 14, 15]))
    got = facts(projects, checks_of(spec, bindings), bindings, sampling)
    assert got.columns.tolist() == ["voucher", "high_subsidy", "provider_failed"]
    assert got.index.tolist() == [10, 11, 12, 13, 14, 15]
    # 8 万元 now reaches V6; 基本合格 now fails too: 乙 failed on V3 and V9, so V3 has another failure
    assert got.values.tolist() == [["V1", True, True], ["V2", True, False], ["V3", True, True], ["V4", True, True],
                                   ["V5", False, True], ["V6", True, False]]


def test_a_project_with_no_subsidy_is_not_highly_subsidised(campaign):
    spec, bindings, sampling = campaign
    projects = register([("V1", "服务商甲", None), ("V2", "服务商甲", 80.0)])
    assert facts(projects, checks_of(spec, bindings), bindings, sampling)["high_subsidy"].tolist() == [False, True]


def test_a_complaint_rule_with_the_complaint_field_unbound_is_refused_not_zero(campaign):
    spec, bindings, sampling = campaign
    checks = bindings.checks
    unbound = bindings.model_copy(update={"checks": checks.model_copy(
        update={"fields": {m: k for m, k in checks.fields.items() if m != "complaint"}})})
    with pytest.raises(PriorityUnbound) as info:
        facts(register(), checks_of(spec, bindings), unbound, sampling)
    assert info.value.code == "priority_unbound"


# --- the sampling section at load --------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path) -> Path:
    for path in SHIPPED.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


THRESHOLD = "      threshold: 30  # 万元: a subsidy of at least this much is high"
ON_SITE = "      on_site: [on_site, spot_check]  # the check methods (bindings.checks.choices.method) that count as on site: a desk review does not"
FAIL = "      fail: [fail]  # the conclusions (bindings.checks.choices.conclusion) that mark the provider failed"
BROKEN = [
    # case, line replaced, its replacement, the line the problem names, the rule it names
    ("unknown method meaning", ON_SITE, "      on_site: [on_site, phone]", "      on_site: [on_site, phone]", "never_checked"),
    ("a method word, not its meaning", ON_SITE, "      on_site: [实地检查]", "      on_site: [实地检查]", "never_checked"),
    ("unknown conclusion meaning", FAIL, "      fail: [bad]", "      fail: [bad]", "provider_failed"),
    ("threshold left out", THRESHOLD, "", "    - key: high_subsidy", "high_subsidy"),
    ("another rule's parameter", FAIL, FAIL + "\n      threshold: 3", "      threshold: 3", "provider_failed"),
    ("unknown rule", "    - key: complaint", "    - key: complain", "    - key: complain", "complain"),
]


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
    assert [(p.code, p.where, p.field) for p in problems] == [
        ("invalid_definition", f"campaign.yaml 第 {line_of(text, at)} 行", rule)]
    assert len(catalog.forms()) == 3  # the forms keep serving


def test_a_rule_written_twice_is_refused(folder):
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    - key: complaint\n", "    - key: high_subsidy\n" + THRESHOLD + "\n", 1)
    path.write_text(text, encoding="utf-8")
    problems = load_catalog(folder).problems()["campaign.yaml"]
    assert [(p.code, p.where) for p in problems] == [("invalid_definition", f"campaign.yaml 第 {line_of(text, 'sampling:') + 2} 行")]
