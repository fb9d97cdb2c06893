"""The shipped form files: golden snapshots, campaign consistency, sheet headers, field coverage.

A golden file changes only on purpose: run `UPDATE_GOLDEN=1 pytest tests/forms/test_shipped_forms.py`
after editing a form, and review the JSON diff like code (it is what the workbook columns follow).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from lib.forms.columns import sheet_spec
from lib.store.base import SYSTEM_COLUMNS

GOLDEN = Path(__file__).parent / "golden"
FORM_IDS = ["att1", "att2", "att3"]  # the notice's three attachments
#: The inspection phase's forms (现场检查记录, 座谈会记录, 投诉举报登记): the campaign binds them too.
PHASE_TWO_IDS = ["inspection", "forum", "complaint"]
ALL_IDS = sorted(FORM_IDS + PHASE_TWO_IDS)

# Every field DOMAIN.md lists, by the key chosen for it (a rename breaks stored rows: keep them).
DOMAIN_FIELDS = {
    "att1": [
        "provider_name", "provider_credit_code", "subsidy_year", "client_city", "client_district", "client_name",
        "client_credit_code", "voucher_no", "project_name", "project_type", "business_area", "implementation_content",
        "contract_date", "contract_amount", "paid_amount", "subsidy_amount", "acceptance_date", "usage_status",
        "monthly_active_users", "reason", "followup_date", "followup_services", "problems_and_measures", "contacts", "remarks",
    ],
    "att2": [
        "project_name", "lead_unit_name", "lead_unit_credit_code", "partner_units", "city", "programme", "monthly_report_exempt",
        "project_year", "project_status", "planned_start", "planned_end", "total_investment", "public_funds", "own_funds_planned",
        "construction_done", "percent_complete", "key_indicators", "public_spent", "own_spent", "spending_ratio",
        "separate_account", "spending_notes", "problems_found", "rectification_done", "difficulties", "next_steps",
        "expected_acceptance_date", "contact_name", "contact_phone",
    ],
    "att3": [
        "city", "client_name", "client_credit_code", "provider_name", "project_name", "subsidy_year", "subsidy_amount",
        "check_method", "check_date", "checkers", "content_matches", "usage_status", "satisfaction", "complaint",
        "complaint_details", "conclusion", "problems", "rectification_demand", "rectification_deadline", "remarks",
    ],
}


def normalised(form) -> str:
    return json.dumps(form.model_dump(mode="json"), sort_keys=True, indent=1, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("form_id", ALL_IDS)
def test_matches_golden(catalog, form_id):
    path = GOLDEN / f"{form_id}.json"
    text = normalised(catalog.form(form_id))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file yet: run UPDATE_GOLDEN=1 pytest {__file__}"
    assert text == path.read_text(encoding="utf-8"), f"{form_id} changed: review, then UPDATE_GOLDEN=1"


def test_the_catalogue_holds_exactly_the_three_attachments_and_the_inspection_phases_forms(catalog):
    assert [f.id for f in catalog.forms()] == ALL_IDS
    assert set(catalog.bindings.form_ids().values()) == set(ALL_IDS)
    assert catalog.problems() == {}


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_deadline_exists_in_the_campaign(catalog, form_id):
    form = catalog.form(form_id)
    assert form.deadline == form_id
    assert form.deadline in catalog.campaign.deadlines


def test_campaign_calendar(catalog):
    c = catalog.campaign
    assert c.notice == "粤工信互联网函〔2020〕858号" and c.year == 2020
    assert [str(d) for d in (c.deadlines["att1"], c.deadlines["att2"], c.deadlines["att3"])] == ["2020-09-18", "2020-09-18", "2020-09-21"]
    # the inspection phase's records are due when the random-sampling phase ends
    assert c.deadlines["inspection"] == c.deadlines["forum"] == c.phases[1].end
    phases = [(p.name, str(p.start), str(p.end)) for p in c.phases]
    assert phases == [("全面自查", "2020-09-07", "2020-09-21"), ("随机抽查", "2020-09-22", "2020-10-15"), ("全面整改", "2020-10-16", "2020-10-31")]
    for earlier, later in zip(c.phases, c.phases[1:], strict=False):
        assert earlier.end < later.start
    assert all(c.phases[0].start <= c.deadlines[f] <= c.phases[0].end for f in FORM_IDS)
    assert c.sampling.ratio == 0.2
    assert [r.key for r in c.sampling.priority_rules] == ["never_checked", "provider_failed", "high_subsidy", "complaint"]
    assert len(c.cities) == 21 and c.cities[:2] == ("广州", "深圳") and c.cities[-1] == "云浮"
    assert set(c.roles) == {"province", "city", "provider", "lead_unit", "inspector", "admin"}
    assert c.statuses["submitted"] == "已提交" and c.statuses["draft"] == "草稿"


@pytest.mark.parametrize("form_id", ALL_IDS)
def test_roles_and_reviewers_exist_in_the_campaign(catalog, form_id):
    form = catalog.form(form_id)
    assert form.filled_by in catalog.campaign.roles
    assert form.reviewed_by in catalog.campaign.roles or (form.reviewed_by is None and form_id == "complaint")  # the province's own register


@pytest.mark.parametrize("form_id", FORM_IDS)
def test_every_domain_field_exists(catalog, form_id):
    keys = [f.key for f in catalog.form(form_id).all_fields()]
    missing = [k for k in DOMAIN_FIELDS[form_id] if k not in keys]
    assert not missing


@pytest.mark.parametrize("form_id", ALL_IDS)
def test_sheet_headers_are_unique_and_distinct_from_system_columns(catalog, form_id):
    sheet = sheet_spec(catalog.form(form_id))
    labels = [c.label for c in sheet.columns]
    system = [label for _, label in SYSTEM_COLUMNS]
    assert len(set(labels)) == len(labels)
    assert not set(labels) & set(system), "a field header would collide with a system column in the workbook"
    assert len({c.key for c in sheet.columns}) == len(sheet.columns)


@pytest.mark.parametrize("form_id", ALL_IDS)
def test_short_title_is_a_valid_excel_sheet_name(catalog, form_id):
    title = catalog.form(form_id).short_title
    assert 0 < len(title) <= 31
    assert not re.search(r"[\[\]:*?/\\]", title)
    if form_id in FORM_IDS:
        assert title.startswith(f"附件{form_id[-1]}")


@pytest.mark.parametrize("form_id", ALL_IDS)
def test_labels_are_chinese_and_hesitant_fields_have_help(catalog, form_id):
    form = catalog.form(form_id)
    fields = [f for f in form.all_fields()] + [s for f in form.all_fields() if f.fields for s in f.fields]
    for f in fields:
        assert re.search(r"[\u4e00-\u9fff]", f.label), f.key
        if f.relevant or f.constraint or f.calculation or f.type in ("credit_code", "money", "multiselect", "table", "date"):
            assert f.help, f"{form_id}.{f.key} needs a help text"
        if f.constraint:
            assert f.constraint_message and re.search(r"[\u4e00-\u9fff]", f.constraint_message), f.key
        if f.pattern:
            assert f.pattern_message, f.key


def test_year_is_modelled_the_same_way_everywhere(catalog):
    years = [catalog.form("att1").field("subsidy_year"), catalog.form("att3").field("subsidy_year"), catalog.form("att2").field("project_year")]
    assert {(f.type, f.choices) for f in years} == {("select", ("2018", "2019"))}


def test_usage_statuses_agree_between_att1_and_att3(catalog):
    assert catalog.form("att1").field("usage_status").choices == catalog.form("att3").field("usage_status").choices


def test_att2_long_sections_hide_for_exempt_projects(catalog):
    sections = catalog.form("att2").sections
    assert [s.relevant for s in sections] == [None] + ["not monthly_report_exempt"] * 6 + [None]
    assert [s.title[:2] for s in sections[1:7]] == ["一、", "二、", "三、", "四、", "五、", "六、"]
