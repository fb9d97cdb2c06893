"""The import template from a form's YAML (lib.office.template): headers, typed columns, dropdowns from a
hidden list sheet, input messages, table sheets by 行号, the instructions; read back with openpyxl, opened
by LibreOffice, written by ``python -m lib.office template``."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import openpyxl
import pytest

from lib.forms import parse_form
from lib.office.template import INSTRUCTIONS, LISTS, MAX_INPUT_MESSAGE, ROW_HEADER, sheet_names, template_xlsx

from .bulk_files import CHECKS, OTHER, PROJECTS, PROVIDER, ROOT, SHIPPED

ATT2 = SHIPPED.form(SHIPPED.bindings.of("benchmarks").form)


def book(form=PROJECTS, campaign=SHIPPED.campaign, **kw) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(template_xlsx(form, campaign, **kw)))


def validations(ws) -> dict[str, object]:
    """The data rows' validation of each column, by the column's letter."""
    return {str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in ws.data_validations.dataValidation
            if not str(dv.sqref).endswith("1") or ":" in str(dv.sqref)}


def column_of(ws, label: str) -> str:
    [found] = [c.column_letter for c in ws[1] if c.value.removesuffix(" *") == label]
    return found


def test_headers_are_the_forms_cell_fields_with_required_ones_marked():
    ws = book().worksheets[0]
    heads = [c.value for c in ws[1]]
    assert ws.title == PROJECTS.short_title
    assert heads[0] == "奖补年度 *" and "跟踪服务内容" in heads and "跟踪服务内容 *" not in heads
    fields = [f for f in PROJECTS.all_fields() if f.type not in ("table", "file") and not f.from_account and not f.calculation]
    assert [h.removesuffix(" *") for h in heads] == [f.label for f in fields]
    assert not {"服务商名称", "服务商统一社会信用代码", "企业联系人"} & {h.removesuffix(" *") for h in heads}


def test_sheets_the_records_first_tables_beside_the_lists_hidden_the_instructions_last():
    wb = book()
    main, tables = sheet_names(PROJECTS)
    assert wb.sheetnames[0] == main and wb.sheetnames[-1] == INSTRUCTIONS
    assert wb[LISTS].sheet_state == "hidden" and wb[main].sheet_state == "visible"
    contacts = wb[tables["contacts"]]
    assert contacts.title == "企业联系人" and [c.value for c in contacts[1]] == [f"{ROW_HEADER} *", "姓名 *", "职务", "联系电话 *"]


def test_dropdowns_read_their_choices_from_the_hidden_sheet():
    wb = book()
    ws, lists = wb.worksheets[0], wb[LISTS]
    rules = validations(ws)

    def choices(label: str) -> list[str]:
        source = rules[column_of(ws, label)].formula1
        sheet, cells = source.split("!")
        assert sheet.strip("'") == LISTS
        return [c.value for line in lists[cells.replace("$", "")] for c in line]

    assert choices("项目类型") == list(PROJECTS.field("project_type").choices)
    assert choices("企业所在地市") == list(SHIPPED.campaign.cities)
    assert rules[column_of(ws, "项目类型")].type == "list" and rules[column_of(ws, "项目类型")].errorStyle in (None, "stop")
    many = rules[column_of(ws, "跟踪服务内容")]
    assert many.type == "list" and many.errorStyle == "information" and "；" in many.prompt


def test_booleans_are_a_yes_no_dropdown():
    wb = book(ATT2)
    ws = wb.worksheets[0]
    label = next(f.label for f in ATT2.all_fields() if f.type == "boolean")
    source = validations(ws)[column_of(ws, label)].formula1.split("!")[1].replace("$", "")
    assert [c.value for line in wb[LISTS][source] for c in line] == ["是", "否"]


def test_columns_are_typed_dates_numbers_money_and_text():
    ws = book().worksheets[0]
    rules = validations(ws)
    formats = {label: ws.column_dimensions[column_of(ws, label)].number_format for label in
               ("合同签订日期", "合同金额（万元）", "月活跃用户数", "服务券编号", "企业统一社会信用代码")}
    assert formats == {"合同签订日期": "yyyy-mm-dd", "合同金额（万元）": "0.00", "月活跃用户数": "0", "服务券编号": "@",
                       "企业统一社会信用代码": "@"}
    assert rules[column_of(ws, "合同签订日期")].type == "date" and rules[column_of(ws, "月活跃用户数")].type == "whole"
    assert rules[column_of(ws, "合同金额（万元）")].type == "decimal"


def test_each_columns_help_is_its_input_message_on_header_and_rows():
    ws = book().worksheets[0]
    letter = column_of(ws, "服务券编号")
    prompts = {str(dv.sqref): dv.prompt for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(letter)}
    help_text = PROJECTS.field("voucher_no").help
    assert prompts[f"{letter}1"].startswith(help_text) and prompts[f"{letter}2:{letter}10001"].startswith(help_text)


def test_a_long_help_is_cut_to_what_excel_takes():
    text = "说明" * 300
    form = parse_form(f"""
id: notes
title: 长说明表
short_title: 长说明
version: 1
filled_by: provider
sections:
  - key: s
    title: 节
    fields:
      - key: a
        label: 甲
        type: text
        help: {text}
      - key: b
        label: 乙
        type: text
""", "notes.yaml", SHIPPED.campaign)
    ws = book(form).worksheets[0]
    prompts = [dv.prompt for dv in ws.data_validations.dataValidation if dv.prompt]
    assert prompts and all(len(p) <= MAX_INPUT_MESSAGE and p.endswith("…") for p in prompts)


def test_the_instructions_name_the_form_notice_deadline_and_what_the_app_fills():
    sheet = book().worksheets[-1]
    lines = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert lines["表单"] == PROJECTS.title and lines["通知文号"] == SHIPPED.campaign.notice
    assert lines["截止日期"] == SHIPPED.campaign.deadlines[PROJECTS.deadline].isoformat()
    assert "服务商名称" in lines["系统自动填写"] and "企业联系人" in lines["填写规则"] and "填报单位" not in lines
    assert "多选" in lines["填写规则"] and "是/否" not in lines["填写规则"]  # 附件1 has no yes/no field; 附件2 has
    assert "是/否" in {row[0]: row[1] for row in book(ATT2).worksheets[-1].iter_rows(min_row=2, values_only=True) if row[0]}["填写规则"]


def test_for_an_account_nothing_of_it_is_written_into_cells_and_the_instructions_name_it():
    wb = book(actor=PROVIDER)
    cells = [c.value for ws in wb.worksheets if ws.title != INSTRUCTIONS for line in ws.iter_rows() for c in line]
    assert PROVIDER.org not in cells and PROVIDER.org_code not in cells
    lines = {row[0]: row[1] for row in wb[INSTRUCTIONS].iter_rows(min_row=2, values_only=True) if row[0]}
    assert lines["填报单位"] == PROVIDER.org


@pytest.mark.parametrize("catalog, form", [(c, f) for c in (SHIPPED, OTHER) for f in c.forms()],
                         ids=lambda x: getattr(x, "id", ""))
def test_every_form_of_both_campaigns_has_a_template(catalog, form):
    wb = book(form, catalog.campaign)
    assert wb.sheetnames[0] == sheet_names(form)[0] and wb[INSTRUCTIONS]["A1"].value == form.title


def _soffice(tmp_path, source, target: str):
    done = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to", target,
                           "--outdir", str(tmp_path / "out"), str(source)], capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_libreoffice_opens_the_template_and_keeps_its_dropdowns(tmp_path):
    source = tmp_path / "附件1.xlsx"
    source.write_bytes(template_xlsx(PROJECTS, SHIPPED.campaign))
    _soffice(tmp_path, source, "csv:Text - txt - csv (StarCalc):44,34,76")
    [heads] = list(csv.reader((tmp_path / "out" / "附件1.csv").read_text(encoding="utf-8").splitlines()))[:1]
    assert heads[0] == "奖补年度 *" and "服务券编号 *" in heads
    _soffice(tmp_path, source, "ods")
    _soffice(tmp_path, tmp_path / "out" / "附件1.ods", "xlsx")  # written back by LibreOffice: what it read
    ws = openpyxl.load_workbook(tmp_path / "out" / "附件1.xlsx").worksheets[0]
    kept = {dv.type for dv in ws.data_validations.dataValidation}
    assert {"list", "date", "decimal"} <= kept


def test_the_command_writes_a_forms_template(tmp_path):
    out = tmp_path / "模板.xlsx"
    done = subprocess.run([sys.executable, "-m", "lib.office", "template", CHECKS.id, "-o", str(out), "--forms", str(ROOT / "forms")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert openpyxl.load_workbook(out).sheetnames[0] == sheet_names(CHECKS)[0]
    missing = subprocess.run([sys.executable, "-m", "lib.office", "template", "没有这个表", "--forms", str(ROOT / "forms")],
                             cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 2 and CHECKS.id in missing.stderr and not (ROOT / "没有这个表-导入模板.xlsx").exists()
