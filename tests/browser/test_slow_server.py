"""No input is lost while the server is slow (issue 17, outcome 8), in Chromium against the app served
by tests/browser/slow_app.py: every rerun takes over a second, so the person's next keystroke or
choice is made while the rerun of the previous one is still being drawn.

The browser places a group of widgets (a line of two fields, a table row) by its position among the
page's elements and draws one that moved as a new one: what was typed in it and not yet sent (text
is sent on Enter or leaving the field), and a choice being made in it, were gone. A field shown by
relevance, the note 正在修改记录 after a draft save, a problem noted under a long field after a refused
submit each moved everything below. And the outcome of a click took the keyboard focus from the field
the person had gone on to type in. Each test types or picks while such a rerun lands, then checks the
field holds every character.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from .conftest import APP_ROOT, ROOT, closed_within, free_port, sign_in, stop_process, wait_http
from .widgets import field_input, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP = ROOT / "tests" / "browser" / "slow_app.py"
ACCOUNT = "provider_001"  # a demo provider (README)
PACE_MS = 100  # between two keystrokes: a fast typist
TEXT = "设备老化部分停机计划下季度完成全部改造工作" * 40  # more than is typed in a minute at that pace


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """The app with a demo store, every script run slowed (slow_app.py); one server for the module,
    each test in a browser session of its own."""
    data = tmp_path_factory.mktemp("slow") / "data"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(APP_ROOT), "APP_DATA_DIR": str(data), "APP_FORMS_DIR": str(APP_ROOT / "forms"),
           "APP_DEMO_ROWS": "120", "SLOW_APP_START": "1", "SLOW_APP_ELEMENT": "0.02"}
    with (data.parent / "streamlit.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true"], cwd=APP_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/_stcore/health")
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_process(proc)


@pytest.fixture
def fill_page(browser, slow_server):
    """The provider's 附件1 fill page, settled."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign_in(page, slow_server, ACCOUNT)
        page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="在线填报").click()
        page.get_by_role("heading", name="服务商信息").wait_for()
        settle(page)
        yield page
    finally:
        with closed_within("the browser context"):
            context.close()


def settle(page) -> None:
    """Wait until no rerun is running."""
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=60_000)


def type_until(page, landed, more: int = 5) -> str:
    """Type at a person's pace, a character at a time, until ``landed()`` holds (the rerun is being
    drawn), and ``more`` characters after; returns what was typed. Fails if it landed before the first."""
    typed, stop = "", None
    for char in TEXT:
        if stop is None and landed():
            assert typed, "the rerun landed before the typing began: nothing was shown"
            stop = len(typed) + more
        if len(typed) == stop:
            return typed
        page.keyboard.type(char)
        typed += char
        page.wait_for_timeout(PACE_MS)
    raise AssertionError(f"the rerun had not landed after typing {len(typed)} characters")


def focused_label(page) -> str | None:
    return page.evaluate("() => document.activeElement && document.activeElement.getAttribute('aria-label')")


def test_typing_right_after_a_draft_save_is_kept(fill_page):
    page = fill_page
    type_into(page, "项目名称", "慢服务器上的草稿项目")
    settle(page)

    page.get_by_role("button", name="保存草稿").click()
    field_input(page, "企业名称").click()
    saved = page.get_by_text(re.compile("草稿已保存"))
    typed = type_until(page, lambda: saved.count() > 0)
    settle(page)
    expect(field_input(page, "企业名称")).to_have_value(typed)
    assert (focused_label(page) or "").startswith("企业名称"), "the field being typed in lost the focus"
    page.keyboard.press("Tab")
    settle(page)
    expect(field_input(page, "企业名称")).to_have_value(typed)
    expect(field_input(page, "项目名称")).to_have_value("慢服务器上的草稿项目")


def test_a_choice_begun_right_after_a_refused_submit_is_kept(fill_page):
    page = fill_page
    page.get_by_role("button", name="提交", exact=True).click()
    status = page.locator("input[role='combobox'][aria-label^='目前使用状态']")
    status.click()  # below 实施内容, a long field whose problem is noted under it
    page.keyboard.type("闲")
    refused = page.get_by_text(re.compile("提交未成功，请修改以下"))
    refused.wait_for()
    page.keyboard.type("置")
    page.keyboard.press("Enter")
    expect(status).to_have_value("闲置")
    settle(page)
    expect(status).to_have_value("闲置")
    expect(page.locator("textarea[aria-label^='原因说明']")).to_have_count(1)
