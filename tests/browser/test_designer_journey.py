"""The province adds a field to 附件1 with the palette of 表单设计, sees it in the preview, publishes it (the impact
shown, then 确认发布 with a note), and a provider's fill page, in another browser, shows the field (issue 16)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import closed_within, sign_in
from tests.browser.widgets import field_input, widget

pytestmark = pytest.mark.browser

LABEL = "联系人微信"
FILE = "att1.yaml"  # the first file of the picker


def test_the_province_adds_a_field_with_the_palette_publishes_it_and_a_provider_fills_it(app_server, page, browser):
    sign_in(page, app_server.url, "province")  # the demo province account (README)
    page.get_by_role("link", name="表单设计").click()
    page.get_by_role("heading", name="表单设计").wait_for()
    page.get_by_text(f"{FILE} 的 YAML").wait_for()
    page.get_by_text("没有发现问题。").wait_for()

    page.get_by_text("添加字段（不写 YAML 也可以）").click()
    field_input(page, "标题").fill(LABEL)
    field_input(page, "字段键").fill("contact_wechat")
    page.get_by_role("button", name="加入字段").click()
    page.get_by_text(f"已加入字段「{LABEL}」").wait_for()
    expect(field_input(page, f"{FILE} 的 YAML")).to_have_value(re.compile(r"- key: contact_wechat\n"))
    expect(widget(page, "stTextInput", LABEL)).to_be_visible()  # the preview draws it with the fill page's widget

    page.get_by_role("button", name="发布", exact=True).click()
    page.get_by_text("发布前请确认对已填报数据的影响").wait_for()
    field_input(page, "发布说明").fill("加入联系人微信")
    page.get_by_role("button", name="确认发布").click()
    page.get_by_text(re.compile(r"已发布 att1\.yaml 第 2 版")).wait_for()

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        provider = context.new_page()
        provider.set_default_timeout(30_000)
        sign_in(provider, app_server.url, "provider_001")  # a demo provider account (README)
        provider.get_by_role("link", name="在线填报").click()
        provider.get_by_role("heading", name="服务商信息").wait_for()
        expect(widget(provider, "stTextInput", LABEL)).to_be_visible()
        field_input(provider, LABEL).fill("wx_provider_001")
    finally:
        with closed_within("the provider's browser context"):
            context.close()
