"""A provider imports 30 附件1 rows in Chromium (issue 15, outcome 8): it downloads the template from the fill
page, the test types 30 rows into it with openpyxl (one with a word not in its dropdown), the upload shows that
one problem by Excel row and column, the corrected file previews 30 条新增, 确认导入 files them, and 我的填报
lists them."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
from playwright.sync_api import expect

from lib.core.statuses import SUBMITTED
from lib.office.template import cell_fields, header, sheet_names, table_fields
from lib.store.factory import open_store
from lib.ui.bulk_import import SUBMIT, template_name
from tests.browser.conftest import sign_in
from tests.browser.test_sampling_journey import cell, column, grid
from tests.browser.widgets import type_into
from tests.office.bulk_files import PROJECTS, project
from tests.office.bulk_files import cell as typed

ROWS = 30
BAD = 7  # the index of the row typed with a usage status its dropdown does not offer
WAIT = 60_000


def rows(bad: bool) -> list[dict]:
    """30 projects of the provider, named so that a search finds exactly them."""
    found = [project(800 + i, project_name=f"批量导入项目{i:02d}") for i in range(ROWS)]
    if bad:
        found[BAD]["usage_status"] = "报废"
    return found


def typed_into(template: bytes, answers: list[dict]) -> bytes:
    """``answers`` typed into the downloaded ``template`` as a person types them: a row each on the records'
    sheet, the contacts on their sheet by the record's Excel row."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    main, tables = sheet_names(PROJECTS)
    by_header = {header(f): f for f in cell_fields(PROJECTS.all_fields())}
    heads = [c.value for c in book[main][1]]
    for n, values in enumerate(answers):
        book[main].append([typed(by_header[h], values.get(by_header[h].key)) for h in heads])
        for table in table_fields(PROJECTS):
            sheet = book[tables[table.key]]
            subs = {header(f): f for f in table.fields}
            for item in values.get(table.key) or []:
                sheet.append([n + 2, *[typed(subs[h], item.get(subs[h].key)) for h in [c.value for c in sheet[1]][1:]]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def check(page, path) -> None:
    uploader = page.locator("[data-testid='stFileUploader']")
    uploader.locator("input[type='file']").set_input_files(path)
    # The file must have reached the server before 检查文件 is clicked: on a busy machine a click sent while the
    # upload's rerun is still on its way was checked against no file at all.
    expect(uploader.get_by_text(Path(path).name)).to_be_visible(timeout=WAIT)
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=WAIT)
    page.get_by_role("button", name="检查文件").click()


def test_a_provider_imports_thirty_rows_after_fixing_the_one_the_file_got_wrong(app_server, page, tmp_path):
    sign_in(page, app_server.url, "provider_001")  # a demo provider account (README)
    page.get_by_role("link", name="在线填报").click()
    page.get_by_role("heading", name="服务商信息").wait_for()
    page.get_by_text("批量导入（Excel）").click()

    with page.expect_download() as downloading:
        page.get_by_role("button", name="下载导入模板").click()
    download = downloading.value
    assert download.suggested_filename == template_name(PROJECTS)
    template = open(download.path(), "rb").read()

    page.get_by_text(SUBMIT, exact=True).click()
    wrong, right = tmp_path / "项目清单.xlsx", tmp_path / "项目清单（改）.xlsx"
    wrong.write_bytes(typed_into(template, rows(bad=True)))
    right.write_bytes(typed_into(template, rows(bad=False)))

    check(page, wrong)
    expect(page.get_by_text("有 1 处问题，未导入任何数据")).to_be_visible(timeout=WAIT)
    problems = grid(page, "问题")
    expect(cell(problems, PROJECTS.field("usage_status").label)).to_have_count(1, timeout=WAIT)
    assert column(problems, "行号", "列") == {str(BAD + 2): PROJECTS.field("usage_status").label}  # the header is row 1
    expect(page.get_by_role("button", name=re.compile("^确认导入"))).to_have_count(0)

    check(page, right)
    expect(page.get_by_text(f"检查通过：{ROWS} 条新增，0 条更新")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name=f"确认导入 {ROWS} 条").click()
    expect(page.get_by_text(f"已导入：新增 {ROWS} 条，更新 0 条")).to_be_visible(timeout=WAIT)

    page.get_by_role("button", name="查看我的填报").click()
    page.get_by_role("heading", name="我的填报").wait_for()
    type_into(page, "搜索", "批量导入项目")
    expect(page.get_by_text(re.compile(f"共 \\d+ 条，列出 {ROWS} 条"))).to_be_visible(timeout=WAIT)

    store = open_store("local", data_dir=app_server.data_dir, background=False)
    try:
        mine = [r for r in store.records(PROJECTS.id) if r.values["project_name"].startswith("批量导入项目")]
    finally:
        store.close()
    assert sorted(r.values["voucher_no"] for r in mine) == sorted(p["voucher_no"] for p in rows(bad=False))
    assert {(r.owner, r.status) for r in mine} == {("provider_001", SUBMITTED)}
