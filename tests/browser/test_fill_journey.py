"""A provider fills and submits a 附件1 row in Chromium; the row is then found in the workbook file."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from python_calamine import CalamineWorkbook

from lib.forms import load_catalog
from lib.forms.types import credit_code_check_char

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]

# The README's screenshot. Taken on every run; written over docs/ only with UPDATE_SCREENSHOTS=1,
# so a test run leaves the checkout clean.
SCREENSHOT = ROOT / "docs" / "fill-page.png"


def widget(page, testid: str, label: str):
    """The Streamlit widget of kind ``testid`` whose label starts with ``label``."""
    return page.locator(", ".join(f"[data-testid='{t}']" for t in testid.split())).filter(
        has=page.locator("[data-testid='stWidgetLabel']", has_text=re.compile("^" + re.escape(label)))
    ).first


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    box = widget(page, "stSelectbox", label)
    box.scroll_into_view_if_needed()
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()


def type_into(page, label: str, text: str) -> None:
    box = widget(page, "stTextInput stTextArea stNumberInput stDateInput", label).locator("input, textarea").first
    box.fill(text)
    box.press("Enter" if box.get_attribute("aria-label") is None else "Tab")


def workbook_rows(path: Path, sheet: str) -> list[list]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def test_provider_fills_and_submits_att1_and_the_row_reaches_the_workbook(app_server, page):
    sheet = load_catalog(ROOT / "forms").form("att1").short_title
    sign_in(page, app_server.url, "provider_001")  # a demo provider account (README)
    page.get_by_role("link", name="在线填报").click()
    page.get_by_text("服务商信息").wait_for()

    client_code = "91440604MA4" + "UXY7Q2"
    client_code += credit_code_check_char(client_code)
    voucher = f"SYQ-2019-4406-{int(time.time()) % 100000:05d}"
    type_into(page, "服务商名称", "广州云智信息科技有限公司")
    type_into(page, "服务商统一社会信用代码", "91440101MA59ABCDEM")
    choose(page, "奖补年度", "2019")
    choose(page, "企业所在地市", "佛山")
    type_into(page, "企业所在区县", "南海区")
    type_into(page, "企业名称", "佛山市南海精工机械有限公司")
    type_into(page, "企业统一社会信用代码", client_code)
    type_into(page, "服务券编号", voucher)
    type_into(page, "项目名称", "精工机械设备上云项目")
    choose(page, "项目类型", "工业设备上云")
    choose(page, "业务领域", "生产管控")
    type_into(page, "实施内容", "数控机床联网采集，部署设备管理云平台。")
    type_into(page, "合同签订日期", "2019-05-10")
    type_into(page, "合同金额", "20.00")
    type_into(page, "实际支付金额", "19.00")
    type_into(page, "奖补金额", "4.00")
    type_into(page, "项目验收日期", "2019-08-30")
    choose(page, "目前使用状态", "使用率较低")
    page.locator("textarea[aria-label^='原因说明']").wait_for()  # appears because the status is not 正常使用
    type_into(page, "原因说明", "生产线调整，部分设备停机。")
    type_into(page, "月活跃用户数", "12")
    type_into(page, "回访日期", "2020-09-10")

    # one contact row in the table (the first row is there already), then the screenshot
    type_into(page, "姓名", "张三")
    type_into(page, "职务", "信息部经理")
    type_into(page, "联系电话", "13800138000")
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
