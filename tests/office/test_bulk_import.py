"""The bulk import (lib.office.bulk): the template filled in Excel lands as the same rows the web form files,
every problem is listed by row, sheet and header with nothing stored, and a re-import updates instead of
duplicating."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.auth import Forbidden
from lib.core.records import Actor
from lib.core.statuses import APPROVED, DRAFT, RESUBMITTED, RETURNED, SUBMITTED
from lib.office import bulk
from lib.office.template import sheet_names, template_xlsx
from lib.submissions import submit
from tests.io.xlsx_parts import Sheet, cell, row, xlsx

from .bulk_files import (
    CHECKS,
    CITY,
    OTHER,
    OTHER_PROVIDER,
    PROJECTS,
    PROVIDER,
    SHIPPED,
    TODAY,
    fill,
    new_store,
    project,
    saved,
    workbook,
)

MAIN, TABLES = sheet_names(PROJECTS)
CONTACTS = TABLES["contacts"]


@pytest.fixture
def store(tmp_path):
    s = new_store(tmp_path / "data", PROJECTS, CHECKS)
    yield s
    s.close()


def plan(store, data: bytes, actor: Actor = PROVIDER, *, draft: bool = False, form=PROJECTS, catalog=SHIPPED, **kw):
    return bulk.plan_import(store, catalog, form, data, actor, draft=draft, today=TODAY, **kw)


def imported(store, data: bytes, actor: Actor = PROVIDER, **kw):
    found = plan(store, data, actor, **kw)
    assert found.ok, found.table().to_string()
    return bulk.apply_import(store, kw.get("form", PROJECTS), found, actor)


def problems(found) -> list[tuple]:
    return [(p.row, p.sheet, p.header, p.code) for p in found.problems]


# --- the round trip ---------------------------------------------------------------------------------
_TEXT = st.text(alphabet="云智设备平台系统0123456789 甲乙丙-", min_size=1, max_size=12).map(str.strip).filter(bool)


@st.composite
def projects(draw) -> list[dict]:
    """Valid 附件1 projects as the web form gives their answers: every choice, blank optionals, 0-leading
    vouchers, 90–100% payments, one to three contacts."""
    out = []
    for i in range(draw(st.integers(1, 4))):
        cities = [c for c in SHIPPED.campaign.cities if c not in SHIPPED.campaign.cities.outside]
        contract = dt.date(2018, 3, 20) + dt.timedelta(days=draw(st.integers(0, 800)))
        cents = draw(st.integers(100, 1_000_000))
        paid = draw(st.integers(-(-cents * 9 // 10), cents))
        status = draw(st.sampled_from(PROJECTS.field("usage_status").choices))
        answers = project(
            i, subsidy_year=draw(st.sampled_from(PROJECTS.field("subsidy_year").choices)), client_city=draw(st.sampled_from(cities)),
            client_district=draw(_TEXT), client_name=draw(_TEXT) + f"公司{i}", voucher_no=f"{draw(st.sampled_from(['0', 'A', 'SYQ-']))}{i:07d}",
            project_name=draw(_TEXT) + str(i), project_type=draw(st.sampled_from(PROJECTS.field("project_type").choices)),
            implementation_content=draw(_TEXT) + "\n第二行", contract_date=contract, contract_amount=cents / 100,
            paid_amount=paid / 100, subsidy_amount=draw(st.integers(1, paid)) / 100,
            acceptance_date=min(TODAY, contract + dt.timedelta(days=draw(st.integers(0, 400)))),
            usage_status=status, monthly_active_users=draw(st.integers(0, 5 if status in ("闲置", "停用") else 500)),
            reason=None if status == "正常使用" else draw(_TEXT),
            followup_date=TODAY, followup_services=draw(st.lists(st.sampled_from(PROJECTS.field("followup_services").choices), unique=True)),
            problems_and_measures=draw(st.none() | _TEXT),
            contacts=[{"contact_name": draw(_TEXT)[:20], "contact_title": draw(st.none() | _TEXT),
                       "contact_phone": draw(st.sampled_from(["13800138000", "0757-86281234", "02088886666"]))}
                      for _ in range(draw(st.integers(1, 3)))])
        out.append(answers)
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects())
def test_the_filled_template_lands_as_the_rows_the_web_form_files(rows):
    with tempfile.TemporaryDirectory() as folder:
        by_import, by_form = new_store(Path(folder) / "a", PROJECTS), new_store(Path(folder) / "b", PROJECTS)
        try:
            result = imported(by_import, fill(PROJECTS, SHIPPED.campaign, rows, actor=PROVIDER))
            for answers in rows:
                done = submit(by_form, PROJECTS, answers, PROVIDER, cities=SHIPPED.campaign.cities, today=TODAY)
                assert done.ok, done.problems
            assert [r.values for r in by_import.records(PROJECTS.id)] == [r.values for r in by_form.records(PROJECTS.id)]
            assert [r.status for r in result.created] == [SUBMITTED] * len(rows) and not result.updated
        finally:
            by_import.close()
            by_form.close()


def test_reimport_updates_the_rows_from_their_revision_instead_of_duplicating(store):
    first = imported(store, fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)]))
    again = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1, monthly_active_users=40), project(3)]))
    assert again.ok and [(p.row, p.record_id) for p in again.updates] == [(2, first.created[0].id)] and len(again.creates) == 1
    assert again.preview()[["行号", "操作", "记录编号"]].values.tolist() == [[2, "更新", first.created[0].id], [3, "新增", ""]]
    result = bulk.apply_import(store, PROJECTS, again, PROVIDER)
    rows = {r.id: r for r in store.records(PROJECTS.id)}
    assert len(rows) == 3 and rows[first.created[0].id].rev == 2 and rows[first.created[0].id].values["monthly_active_users"] == 40
    assert [r.id for r in result.updated] == [first.created[0].id]
    assert any(e.action == bulk.IMPORT_ACTION for e in store.audit())


def test_a_returned_row_is_resubmitted_and_an_approved_one_refused(store):
    made = imported(store, fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)])).created
    store.update(PROJECTS.id, made[0].id, base_rev=1, actor=PROVIDER, status=RETURNED)
    store.update(PROJECTS.id, made[1].id, base_rev=1, actor=PROVIDER, status=APPROVED)
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1, remarks="已改"), project(2)]))
    assert problems(found) == [(3, MAIN, "", "closed")]
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1, remarks="已改")]))
    assert [p.status for p in found.updates] == [RESUBMITTED]


def test_drafts_land_as_drafts_and_never_over_a_submitted_row(store):
    result = imported(store, fill(PROJECTS, SHIPPED.campaign, [project(1, project_type=None)]), draft=True)
    assert [r.status for r in result.created] == [DRAFT]
    imported(store, fill(PROJECTS, SHIPPED.campaign, [project(2)]))
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(2)]), draft=True)
    assert [p.code for p in found.problems] == ["already_submitted"]


# --- nothing stored unless every row passes -----------------------------------------------------------
def test_problems_of_several_rows_are_all_listed_and_nothing_is_stored(store):
    rows = [project(1), project(2), project(3), project(4), project(5)]
    data = fill(PROJECTS, SHIPPED.campaign, rows, raw={
        1: {"项目类型 *": "数据上云"},  # not a choice
        2: {"合同签订日期 *": "2019-13-01", "企业名称 *": None},  # a date as text that is no date; a required blank
        3: {"实际支付金额（万元） *": 5},  # under 90% of the contract
    })
    found = plan(store, data)
    assert not found.ok and found.creates == [] and found.updates == []
    assert problems(found) == [(3, MAIN, "项目类型", "not_choice"), (4, MAIN, "合同签订日期", "not_date"), (4, MAIN, "企业名称", "required"),
                               (5, MAIN, "实际支付金额（万元）", "constraint"), (5, MAIN, "奖补金额（万元）", "constraint")]
    assert found.table().columns.tolist() == ["行号", "工作表", "列", "问题"]
    with pytest.raises(bulk.ImportRefused) as refused:
        bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert refused.value.code == "plan_has_problems" and store.records(PROJECTS.id) == []


def test_a_date_typed_as_text_is_read_as_the_web_form_reads_it(store):
    data = fill(PROJECTS, SHIPPED.campaign, [project(1)], raw={0: {"项目验收日期 *": "2019/8/1", "合同签订日期 *": "2019年5月6日"}})
    [row] = imported(store, data).created
    assert row.values["acceptance_date"] == dt.date(2019, 8, 1) and row.values["contract_date"] == dt.date(2019, 5, 6)


def test_a_contacts_row_is_named_by_its_table_sheet_and_row(store):
    rows = [project(1), project(2, contacts=[{"contact_name": "李四", "contact_phone": "12345"}])]
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, rows))
    assert problems(found) == [(3, CONTACTS, "企业联系人", "bad_phone")]


def test_a_row_number_no_record_has_and_a_record_without_contacts_are_both_listed(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)])))
    book[CONTACTS].delete_rows(3)  # project 2's contact
    book[CONTACTS].append([9, "王五", None, "13800138000"])
    found = plan(store, saved(book))
    assert problems(found) == [(3, CONTACTS, "行号", "unknown_row_number"), (3, MAIN, "企业联系人", "required")]


def test_a_row_number_typed_as_text_is_that_row(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1)])))
    book[CONTACTS]["A2"].value = " 2"
    [made] = imported(store, saved(book)).created
    assert made.values["contacts"] == project(1)["contacts"]


def test_warnings_are_listed_apart_and_do_not_block(store):
    data = fill(PROJECTS, SHIPPED.campaign, [project(1, subsidy_amount=19.0)])
    found = plan(store, data)
    assert found.ok and [(w.row, w.header) for w in found.warnings] == [(2, "奖补金额（万元）")]
    bulk.apply_import(store, PROJECTS, found, PROVIDER)
    corrected = fill(PROJECTS, SHIPPED.campaign, [project(1, subsidy_amount=19.0, implementation_content="设备联网")])
    again = plan(store, corrected)  # an update is checked as a correction: its warning is listed once
    assert len(again.updates) == 1 and [(w.row, w.header) for w in again.warnings] == [(2, "奖补金额（万元）")]
    assert again.warnings_table()["列"].tolist() == ["奖补金额（万元）"]


def test_the_same_project_twice_in_the_file_is_refused(store):
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1), project(2), project(3, voucher_no="SYQ-2019-000001")]))
    assert problems(found) == [(4, MAIN, "", "repeated_row")]


def test_a_merged_cell_among_the_records_is_named_and_nothing_is_read(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1), project(2), project(3)])))
    book[MAIN].merge_cells("A2:A4")  # 奖补年度 of three rows as one cell: rows 3 and 4 would read blank
    book[MAIN].merge_cells("D3:E3")  # two cells of one record
    found = plan(store, saved(book))
    assert problems(found) == [(2, MAIN, "", "merged_cells"), (3, MAIN, "", "merged_cells")]
    assert "A2:A4" in found.problems[0].message and "D3:E3" in found.problems[1].message
    assert store.records(PROJECTS.id) == []


def test_an_error_value_in_a_cell_is_named_not_read_as_blank(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)])))
    sheet = book[MAIN]
    sheet["C3"] = "#N/A"  # openpyxl writes a known error word as an error cell (t="e"), as Excel keeps a failed formula
    assert sheet["C3"].data_type == "e"
    found = plan(store, saved(book))
    assert problems(found) == [(3, MAIN, "", "error_value")] and "C3" in found.problems[0].message
    assert store.records(PROJECTS.id) == []


def test_records_in_hidden_rows_are_imported_with_a_warning(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1), project(2), project(3)])))
    book[MAIN].row_dimensions[3].hidden = True
    found = plan(store, saved(book))
    assert found.ok and len(found.creates) == 3
    assert [(w.code, w.row) for w in found.warnings if w.code == "hidden_rows"] == [("hidden_rows", 3)]


def test_merges_outside_the_records_are_no_problem(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1)])))
    book[MAIN].merge_cells("A10:F10")  # a note typed under the records, in no field's column but the first
    book[MAIN]["A10"] = None
    assert plan(store, saved(book)).ok


def test_a_row_matching_two_filed_rows_is_refused(store):
    imported(store, fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)]))
    both = project(1, client_credit_code=project(2)["client_credit_code"], project_name=project(2)["project_name"])
    assert problems(plan(store, fill(PROJECTS, SHIPPED.campaign, [both]))) == [(2, MAIN, "", "matches_two")]


def test_headers_are_compared_loosely(store):
    data = fill(PROJECTS, SHIPPED.campaign, [project(1)])
    book = openpyxl.load_workbook(io.BytesIO(data))
    for c in book[MAIN][1]:
        c.value = " " + c.value.replace("（", "(").replace("）", ")").replace(" *", "＊")
    assert plan(store, saved(book)).ok


# --- the file as a whole ----------------------------------------------------------------------------
def test_another_forms_template_is_named(store):
    found = plan(store, template_xlsx(CHECKS, SHIPPED.campaign))
    assert [p.code for p in found.problems] == ["wrong_form"] and CHECKS.title in found.problems[0].message


@pytest.mark.parametrize("change, code", [
    (lambda h: [*h, "备注2"], "unknown_header"),
    (lambda h: [x for x in h if x != "项目名称 *"], "missing_header"),
    (lambda h: [*h, "项目名称"], "header_twice"),
    (lambda h: ["甲", "乙"], "no_header"),
])
def test_changed_headers_are_refused_before_any_row(store, change, code):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1)])))
    heads = change([c.value for c in book[MAIN][1]])
    for j in range(1, book[MAIN].max_column + 2):
        book[MAIN].cell(1, j).value = heads[j - 1] if j <= len(heads) else None
    found = plan(store, saved(book))
    assert [p.code for p in found.problems] == [code] and not found.creates


def test_records_on_a_second_sheet_are_not_left_out_unsaid(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1)])))
    more = book.create_sheet("第二批")
    for line in book[MAIN].iter_rows(values_only=True):
        more.append(line)
    found = plan(store, saved(book))
    assert [(p.sheet, p.code) for p in found.problems] == [("第二批", "more_sheets")] and not found.creates


def test_an_official_export_with_a_title_serial_numbers_and_system_columns_is_read(store):
    labels = [f.label for f in PROJECTS.all_fields() if f.type != "table"]
    answers = project(1)
    values = {"provider_name": PROVIDER.org, "provider_credit_code": PROVIDER.org_code, **answers}
    line = [1, "att1-x", SUBMITTED, *[_shown(values.get(f.key)) for f in PROJECTS.all_fields() if f.type != "table"],
            "姓名：张三；职务：经理；联系电话：13800138000"]
    data = workbook([PROJECTS.title], ["序号", "记录编号", "状态", *labels, "企业联系人"], line, [SHIPPED.campaign.office.signature])
    [made] = imported(store, data).created
    assert made.values["contacts"] == answers["contacts"] and made.values["voucher_no"] == answers["voucher_no"]


def _shown(value):
    return "；".join(value) if isinstance(value, list) else value


def test_a_provider_column_naming_another_organisation_is_that_rows_problem(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)])))
    ws = book[MAIN]
    ws.cell(1, ws.max_column + 1).value = PROJECTS.field("provider_name").label
    ws.cell(2, ws.max_column).value = PROVIDER.org
    ws.cell(3, ws.max_column).value = OTHER_PROVIDER.org
    found = plan(store, saved(book))
    assert [(p.row, p.header) for p in found.problems] == [(3, "服务商名称")] and found.problems[0].code
    assert store.records(PROJECTS.id) == []


def test_a_city_account_importing_another_citys_row_is_refused_for_that_row(store):
    label = CHECKS.field(CHECKS.city_field()).label
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(CHECKS, SHIPPED.campaign)))
    ws = book[sheet_names(CHECKS)[0]]
    ws.cell(1, ws.max_column + 1).value = label  # the column the app fills, as an export has it
    ws.cell(2, ws.max_column).value, ws.cell(3, ws.max_column).value = CITY.city, "佛山"
    found = plan(store, saved(book), CITY, form=CHECKS)
    assert [(p.sheet, p.header) for p in found.problems if p.row == 3] == [(sheet_names(CHECKS)[0], label)]
    assert any(e.action == "拒绝访问" and e.form_id == CHECKS.id for e in store.audit())


@pytest.mark.parametrize("data, code", [
    (b"", "unreadable"),
    ("序号,企业名称\n1,甲\n".encode(), "unreadable"),
    (workbook(), "empty_file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 512, "encrypted"),
], ids=["no bytes", "csv renamed", "empty workbook", "password"])
def test_files_that_are_no_template_get_a_coded_message(store, data, code):
    found = plan(store, data)
    assert [p.code for p in found.problems] == [code] and found.problems[0].message


def test_a_zip_bomb_is_refused_before_it_is_read(store):
    bomb = xlsx([Sheet("表", row(1, cell("A1", 0, "s")))], shared_xml="<sst>" + "<si><t>x</t></si>" * 400_000 + "</sst>", level=9)
    found = plan(store, bomb)
    assert [p.code for p in found.problems][0] in ("ratio", "unzipped_too_big", "part_too_big")


def test_two_hundred_thousand_rows_are_refused_at_the_bounds_check(store):
    data = xlsx([Sheet(MAIN, row(1, cell("A1", "奖补年度"), cell("B1", "项目名称")) + row(200_001, cell("A200001", "2019")))])
    found = plan(store, data)
    assert [p.code for p in found.problems] == ["cell_out_of_range"] and str(bulk.MAX_IMPORT_ROWS) in found.problems[0].message


def test_more_records_than_the_cap_are_refused_before_any_is_checked(store, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_IMPORT_ROWS", 2)
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1), project(2), project(3)]))
    assert [p.code for p in found.problems] == ["too_many_rows"]


def test_progress_is_reported_up_to_the_total(store):
    seen = []
    plan(store, fill(PROJECTS, SHIPPED.campaign, [project(i) for i in range(3)]), progress=lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 3) and seen[-1] == (3, 3)


# --- applying ---------------------------------------------------------------------------------------
def test_a_row_changed_since_the_plan_refuses_the_whole_import(store):
    [made] = imported(store, fill(PROJECTS, SHIPPED.campaign, [project(1)])).created
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1, remarks="改"), project(2)]))
    store.update(PROJECTS.id, made.id, base_rev=1, actor=PROVIDER, values={"remarks": "网页上改的"})
    with pytest.raises(bulk.ImportRefused) as refused:
        bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert refused.value.code == "changed_since_plan" and len(store.records(PROJECTS.id)) == 1


def test_a_project_filed_on_the_web_since_the_plan_refuses_the_import(store):
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)]))
    assert submit(store, PROJECTS, project(2), PROVIDER, cities=SHIPPED.campaign.cities, today=TODAY).ok
    with pytest.raises(bulk.ImportRefused) as refused:
        bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert refused.value.code == "filed_since_plan" and len(store.records(PROJECTS.id)) == 1


def test_an_account_that_may_not_file_the_form_is_refused_outright(store):
    with pytest.raises(Forbidden):
        plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1)]), CITY)


# --- another campaign ---------------------------------------------------------------------------------
def test_the_other_campaign_imports_its_own_form_through_the_same_code(tmp_path):
    form = OTHER.form(OTHER.bindings.of("projects").form)
    binding = OTHER.bindings.of("projects")
    mine = {binding.key("voucher"): "CP-000001", binding.key("project"): "项目甲"}
    store = new_store(tmp_path / "o", form)
    try:
        found = bulk.plan_import(store, OTHER, form, template_xlsx(form, OTHER.campaign), PROVIDER, draft=True, today=TODAY)
        assert [p.code for p in found.problems] == ["no_rows"]
        book = openpyxl.load_workbook(io.BytesIO(template_xlsx(form, OTHER.campaign)))
        ws = book[sheet_names(form)[0]]
        heads = [c.value for c in ws[1]]
        labels = {form.field(k).label: v for k, v in mine.items()}
        ws.append([labels.get(h.removesuffix(" *")) for h in heads])
        found = bulk.plan_import(store, OTHER, form, saved(book), PROVIDER, draft=True, today=TODAY)
        assert found.ok, found.table()
        [made] = bulk.apply_import(store, form, found, PROVIDER).created
        assert made.status == DRAFT and {k: made.values[k] for k in mine} == mine
    finally:
        store.close()
