"""Sign-in journeys in Chromium: a city bureau sees only its city and cannot open province pages
by address; a provider submits, the province returns the row with a reason, the provider sees the
reason, corrects the row and resubmits."""

from __future__ import annotations

import re
from pathlib import Path

from lib.core.records import Actor
from lib.demo.seed import generate
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store
from tests.browser.conftest import closed_within, sign_in
from tests.browser.widgets import choose, fill_valid_att1, type_into, widget

ROOT = Path(__file__).resolve().parents[2]


def add_att2_reports(data_dir: Path) -> None:
    """One 附件2 report of a 广州 project and one of a 佛山 project, filed through a second store."""
    catalog = load_catalog(ROOT / "forms")
    row = generate(catalog, rows=40, seed=11)["att2"][0]
    store = open_store("local", data_dir=data_dir, background=False)
    try:
        store.ensure_sheet(sheet_spec(catalog.form("att2")))
        for city in ("广州", "佛山"):
            lead = Actor(f"lead_test_{city}", "lead_unit", f"{city}测试牵头单位有限公司", city)
            store.append("att2", {**row.values, "city": city, "lead_unit_name": lead.org}, actor=lead, status="已提交")
    finally:
        store.close()


def test_a_city_sees_only_its_city_and_cannot_open_province_pages(app_server, page):
    add_att2_reports(app_server.data_dir)
    sign_in(page, app_server.url, "city_gz")
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.get_by_text("审核").wait_for()
    assert not nav.get_by_text("审计日志").count() and not nav.get_by_text("台账导入与核对").count()

    nav.get_by_text("审核").click()
    page.get_by_text("审核范围：广州市").wait_for()
    page.get_by_text("只看待审核").click()  # every status, not only waiting rows
    box = widget(page, "stMultiSelect", "选择记录")
    box.click()
    options = page.get_by_role("option")
    options.first.wait_for()
    listed = options.all_inner_texts()
    assert any("广州测试牵头单位" in o for o in listed)
    assert not any("佛山" in o for o in listed), listed
    page.keyboard.press("Escape")

    # a province-only page by its address: the session (cookie) survives the new page load, the
    # page is not registered for a city, so Streamlit opens 首页 instead
    for address in ("/audit", "/register"):
        page.goto(app_server.url + address)
        page.get_by_text("账号：city_gz").wait_for()
        page.get_by_role("heading", name="工作阶段").wait_for()
        assert not page.get_by_role("heading", name=re.compile("审计日志|台账导入与核对")).count()


def submitted(page, pattern: str) -> str:
    confirmation = page.get_by_text(re.compile(pattern))
    problems = page.get_by_text("提交未成功")
    confirmation.or_(problems).first.wait_for(timeout=30_000)
    assert not problems.count(), page.locator("[data-testid='stAlert']").all_inner_texts()
    return confirmation.inner_text()


def test_provider_submits_province_returns_provider_corrects_and_resubmits(app_server, page, browser):
    reason = "月活跃用户数与回访记录不符，请核实后重新提交。"
    sign_in(page, app_server.url, "provider_001")
    page.get_by_role("link", name="在线填报").click()
    page.get_by_role("heading", name="服务商信息").wait_for()
    fill_valid_att1(page)
    page.get_by_role("button", name="提交", exact=True).click()
    row_id = re.search(r"记录编号 (\S+)（", submitted(page, "提交成功！记录编号")).group(1)

    province = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
    province.set_default_timeout(30_000)
    try:
        sign_in(province, app_server.url, "province")
        province.get_by_role("link", name="审核").click()
        province.get_by_text("审核范围：全省").wait_for()
        box = widget(province, "stMultiSelect", "选择记录")
        box.click()
        province.keyboard.type(row_id)
        province.get_by_role("option", name=re.compile(re.escape(row_id))).click()
        province.keyboard.press("Escape")
        reason_box = widget(province, "stTextArea", "退回原因").locator("textarea")
        reason_box.fill(reason)
        reason_box.press("Control+Enter")
        province.get_by_role("button", name=re.compile(r"退回修改（1 条）")).click()
        province.get_by_text("已退回 1 条记录").wait_for()
    finally:
        with closed_within("the province's browser context"):
            province.context.close()

    page.reload()  # the provider's session survives a refresh (cookie)
    page.get_by_text("账号：provider_001").wait_for()
    page.get_by_role("link", name="我的填报").click()
    choose(page, "选择一条记录", row_id)
    page.get_by_text(f"审核意见（退回修改）：{reason}").wait_for()
    page.get_by_role("button", name="打开修改").click()
    page.get_by_text(f"正在修改记录 {row_id}").wait_for()
    page.get_by_text(f"审核意见（退回修改）：{reason}").wait_for()
    type_into(page, "月活跃用户数", "3")
    page.get_by_role("button", name="重新提交").click()
    assert "已重新提交" in submitted(page, "提交成功！记录编号")
