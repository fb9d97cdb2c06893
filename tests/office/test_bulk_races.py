"""The bulk import between its check and its confirm, and the files it used to misread: every planned row is
checked again under the fill page's submit lock (the rows as they are now, the access rule in force now),
the audit note cannot fail after the write, refusals are audited once per import, and cells the import
cannot read as the filer sees them (a long number, a merge on a table sheet, a table given twice, a huge
行号) are row problems, not silent changes."""

from __future__ import annotations

import io
from dataclasses import replace

import openpyxl
import pytest

from lib.auth.policy import Assignments, comparable
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED, WITHDRAWN
from lib.office import bulk
from lib.office.template import sheet_names
from lib.sampling import complaints
from lib.submissions import save_draft, submit, withdraw

from .bulk_files import CHECKS, OTHER_PROVIDER, PROJECTS, PROVIDER, SHIPPED, TODAY, credit_code, fill, new_store, project, saved

MAIN, TABLES = sheet_names(PROJECTS)
CONTACTS = TABLES["contacts"]
CITIES = SHIPPED.campaign.cities


@pytest.fixture
def store(tmp_path):
    s = new_store(tmp_path / "data", PROJECTS, CHECKS)
    yield s
    s.close()


def plan(store, data: bytes, actor: Actor = PROVIDER, *, draft: bool = False, form=PROJECTS, **kw):
    return bulk.plan_import(store, SHIPPED, form, data, actor, draft=draft, today=TODAY, **kw)


def web(store, answers, actor=PROVIDER, **kw):
    return submit(store, PROJECTS, answers, actor, cities=CITIES, today=TODAY, **kw)


def live(store) -> list[tuple[str, str]]:
    return sorted((r.values["voucher_no"], r.status) for r in store.records(PROJECTS.id) if r.status != WITHDRAWN)


# --- A1: the fill page's submit between 检查文件 and 确认导入 --------------------------------------------
def test_a_draft_known_at_the_check_and_submitted_as_the_planned_project_refuses_the_import(store):
    draft = save_draft(store, PROJECTS, project(7), PROVIDER, cities=CITIES, today=TODAY).record
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1)]))
    assert len(found.creates) == 1
    assert web(store, project(1), row_id=draft.id, base_rev=draft.rev).ok  # no live project 1 yet: the web form accepts
    with pytest.raises(bulk.ImportRefused) as err:
        bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert err.value.code == "filed_since_plan"
    assert live(store) == [(project(1)["voucher_no"], SUBMITTED)]


def test_a_withdrawn_row_resubmitted_after_the_check_refuses_the_import(store):
    row = web(store, project(1)).record
    row = withdraw(store, PROJECTS, row.id, PROVIDER, base_rev=row.rev)
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1)]))
    assert len(found.creates) == 1  # a withdrawn row is no project any more
    assert web(store, project(1), row_id=row.id, base_rev=row.rev).ok
    with pytest.raises(bulk.ImportRefused) as err:
        bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert err.value.code == "filed_since_plan" and live(store) == [(project(1)["voucher_no"], SUBMITTED)]


def test_an_update_onto_a_project_filed_since_the_check_refuses_the_import(store):
    first = web(store, project(1)).record
    draft = save_draft(store, PROJECTS, project(7), PROVIDER, cities=CITIES, today=TODAY).record
    moved = {"client_credit_code": credit_code(99), "project_name": "新项目X"}
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1, **moved)]))
    assert [p.record_id for p in found.updates] == [first.id]
    assert web(store, project(7, **moved), row_id=draft.id, base_rev=draft.rev).ok
    with pytest.raises(bulk.ImportRefused) as err:
        bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert err.value.code == "filed_since_plan"
    assert store.get(PROJECTS.id, first.id).rev == first.rev


def test_an_update_of_a_row_changed_since_the_check_refuses_the_import_before_writing(store):
    first = web(store, project(1)).record
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1, implementation_content="设备联网")]))
    assert len(found.updates) == 1
    web(store, project(1, implementation_content="部署系统"), row_id=first.id, base_rev=first.rev)
    with pytest.raises(bulk.ImportRefused) as err:
        bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert err.value.code == "changed_since_plan"
    assert store.get(PROJECTS.id, first.id).values["implementation_content"] == "部署系统"


# --- A17: the file name --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["a\x07b.xlsx", "\ud800.xlsx", "名" * 40_000 + ".xlsx", "\u202eslx.exe.xlsx"])
def test_any_file_name_is_imported_and_audited_as_a_safe_name(store, name):
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1)]), file_name=name)
    result = bulk.apply_import(store, PROJECTS, found, PROVIDER)
    assert len(result.created) == 1
    [entry] = [e for e in store.audit() if e.action == bulk.IMPORT_ACTION]
    shown = entry.note.split("」")[0]
    assert len(shown) <= 200
    assert not any(c in entry.note for c in "\x07\ud800\u202e")


# --- A2: the access rule at apply time ------------------------------------------------------------------
INSPECTION = SHIPPED.form("inspection")
INSPECTOR = Actor("ins1", "inspector", "省厅检查组", "")
VOUCHERS = {"att1": "voucher_no", "att3": "voucher_no", "inspection": "voucher_no"}
BEFORE = Assignments({"ins1": ("广州",)}, {"广州": frozenset({comparable("GZ-000001")})}, VOUCHERS)
AFTER = Assignments({"ins1": ("佛山",)}, {"佛山": frozenset({comparable("FS-000001")})}, VOUCHERS)
RECORD = {"voucher_no": "GZ-000001", "city": "广州", "client_name": "广州制造1有限公司", "provider_name": "某服务商",
          "inspection_date": TODAY, "members": "张三、李四", "lead_present": True, "site_visited": True,
          "usage_status": "正常使用", "satisfaction": "满意", "conclusion": "合格", "integrity_confirmed": True,
          "provider_absent": True}


def test_an_import_checked_before_the_inspectors_were_redrawn_is_refused_at_confirm(tmp_path):
    store = new_store(tmp_path / "data", INSPECTION)
    found = plan(store, fill(INSPECTION, SHIPPED.campaign, [RECORD]), INSPECTOR, form=INSPECTION, draft=True, assignments=BEFORE)
    assert found.ok
    denied = len([e for e in store.audit() if e.action == "拒绝访问"])
    with pytest.raises(bulk.ImportRefused) as err:
        bulk.apply_import(store, INSPECTION, found, INSPECTOR, assignments=AFTER)
    assert err.value.code == "forbidden_since_plan"
    assert store.records(INSPECTION.id) == []
    assert len([e for e in store.audit() if e.action == "拒绝访问"]) == denied + 1
    store.close()


# --- A4: one audited refusal per import ------------------------------------------------------------------
def test_a_file_of_another_organisations_rows_is_audited_once_naming_the_rows(store):
    rows = [project(i) for i in range(1, 6)]
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, rows)))
    ws = book[MAIN]
    ws.cell(1, ws.max_column + 1).value = PROJECTS.field("provider_name").label
    for r in range(2, 7):
        ws.cell(r, ws.max_column).value = OTHER_PROVIDER.org
    found = plan(store, saved(book))
    assert [p.row for p in found.problems] == [2, 3, 4, 5, 6]
    [entry] = [e for e in store.audit() if e.action == "拒绝访问"]
    assert "2、3、4、5、6" in entry.note and entry.form_id == PROJECTS.id


# --- A5: unchanged rows ---------------------------------------------------------------------------------
def test_a_reimport_of_unchanged_rows_previews_them_as_unchanged_and_writes_only_the_corrected(store):
    data = fill(PROJECTS, SHIPPED.campaign, [project(1), project(2)])
    made = bulk.apply_import(store, PROJECTS, plan(store, data), PROVIDER).created
    again = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1), project(2, implementation_content="设备联网")]))
    assert [p.record_id for p in again.unchanged] == [made[0].id] and [p.record_id for p in again.updates] == [made[1].id]
    assert again.preview()["操作"].tolist() == ["不变", "更新"]
    result = bulk.apply_import(store, PROJECTS, again, PROVIDER)
    assert [r.id for r in result.updated] == [made[1].id] and store.get(PROJECTS.id, made[0].id).rev == made[0].rev
    note = [e for e in store.audit() if e.action == bulk.IMPORT_ACTION][-1].note
    assert "更新 1 条" in note and "不变 1 条" in note


# --- A6: a table as a column and on its sheet -----------------------------------------------------------
def test_a_table_given_as_a_column_and_on_its_sheet_for_one_row_is_that_rows_problem(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1), project(2, contacts=[])])))
    ws = book[MAIN]
    label = PROJECTS.field("contacts").label
    ws.cell(1, ws.max_column + 1).value = label
    ws.cell(2, ws.max_column).value = "姓名：王五；职务：经理；联系电话：13800138001"
    ws.cell(3, ws.max_column).value = "姓名：赵六；职务：经理；联系电话：13800138002"
    found = plan(store, saved(book), draft=True)
    assert [(p.row, p.header, p.code) for p in found.problems] == [(2, label, "table_twice")]
    # row 3's contacts are only in the column: read from it, not dropped
    book[MAIN].delete_rows(2)
    book[CONTACTS].delete_rows(2)
    again = plan(store, saved(book), draft=True)
    assert [c["contact_name"] for c in again.creates[0].values["contacts"]] == ["赵六"]


# --- A12, A14, A16: cells read as the filer sees them ----------------------------------------------------
def test_a_row_number_of_thousands_of_digits_is_that_rows_problem(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1)])))
    book[CONTACTS]["A2"].value = "9" * 5000
    found = plan(store, saved(book))
    [refused] = [p for p in found.problems if p.sheet == CONTACTS]
    assert (refused.row, refused.code) == (2, "unknown_row_number") and len(refused.message) < 200


def test_a_merged_row_number_on_a_table_sheet_is_named(store):
    contacts = [{"contact_name": n, "contact_title": "经理", "contact_phone": "13800138000"} for n in ("甲", "乙", "丙")]
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1, contacts=contacts)])))
    book[CONTACTS].merge_cells("A2:A4")
    found = plan(store, saved(book))
    assert [(p.row, p.sheet, p.code) for p in found.problems] == [(2, CONTACTS, "merged_cells")]
    assert "A2:A4" in found.problems[0].message


def test_a_long_number_in_a_text_column_is_refused_not_stored_as_an_exponent(store):
    label = PROJECTS.field("remarks").label
    found = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1)], raw={0: {label: 12345678901234567890}}))
    assert [(p.row, p.header, p.code) for p in found.problems] == [(2, label, "long_number")]
    fits = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1)], raw={0: {label: 123456789012345}}))
    assert fits.creates[0].values["remarks"] == "123456789012345"


# --- A9: too many columns ----------------------------------------------------------------------------------
def test_too_many_columns_is_told_to_delete_columns_not_to_split_rows(store):
    book = openpyxl.load_workbook(io.BytesIO(fill(PROJECTS, SHIPPED.campaign, [project(1)])))
    book[MAIN].cell(1, 16_384).value = "x"
    [problem] = plan(store, saved(book)).problems
    assert "删除" in problem.message and "列" in problem.message and str(bulk.MAX_IMPORT_ROWS) not in problem.message


# --- A10: a required file field -----------------------------------------------------------------------------
def test_a_required_file_is_named_as_not_importable_and_the_template_says_drafts_only(tmp_path):
    store = new_store(tmp_path / "data", INSPECTION)
    found = plan(store, fill(INSPECTION, SHIPPED.campaign, [RECORD]), INSPECTOR, form=INSPECTION, assignments=BEFORE)
    files = [f for f in INSPECTION.all_fields() if f.type == "file" and f.required]
    assert files and [p.code for p in found.problems] == ["file_required"]
    book = openpyxl.load_workbook(io.BytesIO(fill(INSPECTION, SHIPPED.campaign, [])))
    words = " ".join(str(c.value) for line in book["填表说明"].iter_rows() for c in line if c.value)
    assert "只能存为草稿" in words and files[0].label in words
    store.close()


# --- A11: a renamed account's re-import --------------------------------------------------------------------
def test_a_reimport_after_the_accounts_name_is_corrected_takes_the_accounts_name_as_the_fill_page_does(store):
    [made] = bulk.apply_import(store, PROJECTS, plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1)])), PROVIDER).created
    renamed = replace(PROVIDER, org="广州云智信息科技股份有限公司")
    again = plan(store, fill(PROJECTS, SHIPPED.campaign, [project(1, remarks="更正")], actor=renamed), renamed)
    assert not again.problems and [p.record_id for p in again.updates] == [made.id]
    assert again.updates[0].values["provider_name"] == renamed.org


def test_the_complaint_import_lists_a_long_number_as_its_rows_problem(tmp_path):
    # the complaint import reads its cells with the same cell_answer: a refused cell is its row's problem, not a crash
    form = complaints.complaint_form(SHIPPED)
    store = new_store(tmp_path / "data", form)
    labels = [f.label for f in complaints.importable_fields(form)]
    voucher = form.field(SHIPPED.bindings.of("complaints").key("voucher")).label
    book = openpyxl.Workbook()
    book.active.append(labels)
    book.active.append([12345678901234567890 if h == voucher else None for h in labels])
    found = complaints.import_complaints(store, SHIPPED, saved(book), Actor("province", "province", "省工业和信息化厅"), today=TODAY)
    assert ("long_number", 2, voucher) in [(p.code, p.row, p.header) for p in found.problems]
    assert store.records(form.id) == []
    store.close()
