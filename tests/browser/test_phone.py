"""On a 390 px phone (issue 9, outcomes 9 and 3): choosing a page closes the sidebar, a phone field
opens the numeric keypad (a tel input), and a provider fills and submits 附件1, each outcome of 提交
(the problems, then the receipt) in view where the thumb is."""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.widgets import field_input, fill_valid_att1


def sidebar_open(page) -> bool:
    """Whether the sidebar covers part of the viewport."""
    box = page.locator("[data-testid='stSidebar']").bounding_box()
    return box is not None and box["x"] + box["width"] > 1


def test_a_provider_submits_att1_on_a_phone(app_server, phone):
    page = phone
    sign_in(page, app_server.url, "provider_001")
    page.locator("[data-testid='stExpandSidebarButton']").click()
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right > 200", timeout=10_000)
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="在线填报").click()
    page.get_by_role("heading", name="服务商信息").wait_for()
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right <= 1", timeout=10_000)
    assert not sidebar_open(page)

    assert field_input(page, "联系电话").get_attribute("type") == "tel"
    # the account answers its own name and credit code: shown, locked
    assert not field_input(page, "服务商名称").is_enabled()
    expect(field_input(page, "服务商名称")).not_to_have_value("", timeout=30_000)

    # 提交 on the empty form: the problems are listed where the thumb is, and focused
    page.get_by_role("button", name="提交", exact=True).click()
    summary = page.get_by_text(re.compile("提交未成功，请修改以下"))
    summary.wait_for()
    page.wait_for_function("() => document.activeElement.classList.contains('st-key-fill-outcome-att1')", timeout=10_000)
    assert 0 <= summary.bounding_box()["y"] < 844

    fill_valid_att1(page)
    submit = page.get_by_role("button", name="提交", exact=True)
    box = submit.bounding_box()
    assert box and box["width"] > 300, "the submit button spans the phone's width (one thumb)"
    submit.click()
    confirmation = page.get_by_text(re.compile("提交成功！记录编号"))
    try:  # the earlier list of problems stays until this outcome replaces it
        confirmation.wait_for()
    except PlaywrightTimeout:
        raise AssertionError(page.locator("[data-testid='stAlert']").all_inner_texts()) from None
    assert confirmation.is_visible()
    top = confirmation.bounding_box()["y"]
    assert 0 <= top < 844, f"the outcome is in view (top at {top}px)"
