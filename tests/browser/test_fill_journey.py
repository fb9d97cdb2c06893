"""A provider fills and submits a 附件1 row in Chromium; the row is then found in the workbook file."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from lib.forms import load_catalog
from tests.browser.conftest import sign_in
from tests.browser.widgets import fill_valid_att1

ROOT = Path(__file__).resolve().parents[2]

# The README's screenshot. Taken on every run; written over docs/ only with UPDATE_SCREENSHOTS=1,
# so a test run leaves the checkout clean.
SCREENSHOT = ROOT / "docs" / "fill-page.png"


def workbook_rows(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def test_provider_fills_and_submits_att1_and_the_row_reaches_the_workbook(app_server, page):
    sheet = load_catalog(ROOT / "forms").form("att1").short_title
    sign_in(page, app_server.url, "provider_001")  # a demo provider account (README)
    page.get_by_role("link", name="在线填报").click()
    page.get_by_role("heading", name="服务商信息").wait_for()

    voucher = fill_valid_att1(page)
    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")
    page.get_by_text("企业联系人", exact=True).scroll_into_view_if_needed()
    shot = page.screenshot(full_page=False)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.write_bytes(shot)

    page.get_by_role("button", name="提交", exact=True).click()
    confirmation = page.get_by_text(re.compile("提交成功！记录编号"))
    problems = page.get_by_text("提交未成功")
    confirmation.or_(problems).first.wait_for(timeout=30_000)
    assert not problems.count(), page.locator("[data-testid='stAlert']").all_inner_texts()
    row_id = re.search(r"记录编号 (\S+)（", confirmation.inner_text()).group(1)

    # the workbook on disk shows the row, with Chinese headers, within the background write period
    workbook = app_server.data_dir / "campaign.xlsx"
    deadline = time.monotonic() + 30
    found = None
    while time.monotonic() < deadline and not found:
        if workbook.exists():
            rows = workbook_rows(workbook, sheet)
            found = next((r for r in rows[1:] if r[0] == row_id), None)
            headers = rows[0]
        time.sleep(0.5)
    assert found, f"row {row_id} not in {workbook}"
    assert "服务券编号" in headers and "记录编号" in headers
    assert voucher in found
    assert "使用率较低" in found
