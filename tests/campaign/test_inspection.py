"""The inspection record's companions (lib.campaign.inspection), on both campaigns: the projects a group
may still inspect, the provider's declaration of a voucher, and a usage found that differs from it by
meaning — each campaign with its own words (the other campaign words usage 在用 / 搁置 …)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lib.auth.policy import comparable
from lib.campaign.inspection import Candidate, candidates, declaration, fills, usage_mismatch
from lib.core.records import Record
from lib.core.statuses import APPROVED, DRAFT, RESUBMITTED, RETURNED, SUBMITTED, WITHDRAWN
from lib.forms import load_catalog
from lib.forms.bindings import FormBinding

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")
#: An inspections binding of the other campaign's own making (it binds none): its own key and usage words.
OTHER_INSPECTIONS = FormBinding(form="site_visits", filed_by="inspector", fields={"voucher": "coupon", "city": "town", "usage": "seen"},
                                choices={"usage": {"in_use": "运行中", "low_use": "很少用", "idle": "未启用", "stopped": "已停"}})


def row(form_id: str, n: int, values: dict, *, status=SUBMITTED, day=1) -> Record:
    at = dt.datetime(2020, 9, day)
    return Record(form_id, f"r{n}", 1, status, 1, "p", "", "", at, at, "p", values)


def projects_row(catalog, n: int, voucher: str, usage: str, *, status=SUBMITTED, day=1) -> Record:
    b = catalog.bindings.of("projects")
    return row(b.form, n, {b.key("voucher"): voucher, b.key("firm"): f"企业{n}", b.key("usage"): b.word("usage", usage),
                           b.key("subsidy"): 12.5}, status=status, day=day)


@pytest.mark.parametrize("catalog, inspections", [(SHIPPED, SHIPPED.bindings.of("inspections")), (OTHER, OTHER_INSPECTIONS)],
                         ids=["shipped", "other"])
def test_a_usage_found_is_compared_with_the_declared_one_by_meaning(catalog, inspections):
    declared = catalog.bindings.of("projects")
    for said in ("in_use", "low_use", "idle", "stopped"):
        for seen in ("in_use", "low_use", "idle", "stopped"):
            got = usage_mismatch(declared.word("usage", said), inspections.word("usage", seen), declared, inspections)
            assert got == (None if said == seen else (declared.word("usage", said), inspections.word("usage", seen)))
    assert usage_mismatch(declared.word("usage", "idle"), None, declared, inspections) is None  # not answered yet
    assert usage_mismatch("", inspections.word("usage", "idle"), declared, inspections) is None  # nothing declared


@pytest.mark.parametrize("catalog", [SHIPPED, OTHER], ids=["shipped", "other"])
def test_the_declaration_of_a_voucher_is_its_latest_live_row(catalog):
    rows = [projects_row(catalog, 1, "V-000001", "in_use", day=1), projects_row(catalog, 2, "v－000001", "idle", day=3),
            projects_row(catalog, 3, "V-000001", "stopped", day=5, status=WITHDRAWN), projects_row(catalog, 4, "V-000002", "idle")]
    found = declaration(rows, catalog.bindings.of("projects"), " V-000001 ")
    declared = catalog.bindings.of("projects")
    assert (found.row_id, found.usage) == ("r2", declared.word("usage", "idle"))
    assert found.facts["firm"] == "企业2" and found.facts["subsidy"] == 12.5 and list(found.facts)[0] == "firm"
    assert declaration(rows, declared, "V-000009") is None and declaration(rows, declared, "") is None


@pytest.mark.parametrize("catalog", [SHIPPED, OTHER], ids=["shipped", "other"])
def test_a_later_draft_never_replaces_the_filed_declaration(catalog):
    """The sample is public: a provider saving a draft of a sampled voucher before the visit must not
    change what the inspection is compared with (only a filed row is a declaration)."""
    declared = catalog.bindings.of("projects")
    filed = projects_row(catalog, 1, "V-000001", "in_use", day=1)
    draft = projects_row(catalog, 2, "V-000001", "low_use", day=9, status=DRAFT)
    found = declaration([filed, draft], declared, "V-000001")
    assert (found.row_id, found.status, found.usage) == ("r1", SUBMITTED, declared.word("usage", "in_use"))
    assert declaration([draft], declared, "V-000001") is None
    for status in (RETURNED, RESUBMITTED, APPROVED):  # every filed status is a declaration
        later = projects_row(catalog, 3, "V-000001", "idle", day=5, status=status)
        assert declaration([filed, draft, later], declared, "V-000001").row_id == "r3"


def test_the_projects_to_inspect_are_the_group_s_sampled_ones_not_yet_inspected():
    drawn = [{"voucher": "V-3", "city": "广州", "firm": "丙", "provider": "商"}, {"voucher": "V-1", "city": "广州", "firm": "甲", "provider": "商"},
             {"voucher": "V-2", "city": "广州", "firm": "乙", "provider": "商"}, {"voucher": "V-9", "city": "佛山", "firm": "丁", "provider": "商"}]
    b = SHIPPED.bindings.of("inspections")
    sampled = {"广州": frozenset(comparable(v) for v in ("V-1", "V-2", "V-3"))}
    done = [row(b.form, 1, {b.key("voucher"): "v-2"}), row(b.form, 2, {b.key("voucher"): "V-3"}, status=WITHDRAWN)]
    assert [c.voucher for c in candidates(drawn, sampled, done, b)] == ["V-1", "V-3"]  # V-2 inspected; V-3's record withdrawn
    assert candidates(drawn, {}, [], b) == []


def test_a_chosen_project_fills_the_meanings_the_campaign_binds():
    chosen = Candidate("V-1", "广州", "甲厂", "乙服务商")
    b = SHIPPED.bindings.of("inspections")
    got = fills(chosen, b)
    assert got[b.key("voucher")] == "V-1" and got[b.key("city")] == "广州"
    assert all(b.key(m) in got for m in ("firm", "provider") if b.key(m))
    assert fills(chosen, OTHER_INSPECTIONS) == {"coupon": "V-1", "town": "广州"}
