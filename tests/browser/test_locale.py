"""``lib.ui.locale.apply()`` in Chromium: the page's language, Streamlit's own words in Chinese,
and Enter applying a typed date."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from lib.ui import locale

from .conftest import ROOT, closed_within, free_port, stop_process, wait_http

APP = ROOT / "tests" / "browser" / "locale_app.py"

# Every text and screen-reader attribute on the page that still has an English word in it.
ENGLISH = """() => {
  const found = [];
  const walker = document.createTreeWalker(document.getElementById("root"), NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.nodeType === Node.TEXT_NODE) {
      if (!node.parentElement.closest("script, style")) found.push(node.nodeValue.trim());
    }
    else for (const name of ["aria-label", "title", "placeholder"]) if (node.getAttribute(name)) found.push(node.getAttribute(name));
  }
  return found.filter((text) => /[A-Za-z]{3,}/.test(text));
}"""


@pytest.fixture
def locale_page(browser, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    context = None
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health")
        context = browser.new_context(viewport={"width": 1200, "height": 1400}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_text("页面结束").wait_for()
        yield page
    finally:
        if context is not None:
            with closed_within("the browser context"):
                context.close()
        stop_process(proc)
        log.close()


def test_streamlits_own_words_are_chinese_and_the_page_says_zh_cn(locale_page):
    page = locale_page
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    uploader = page.locator("[data-testid='stFileUploader']")
    uploader.get_by_text("每个文件不超过 10 MB").wait_for()  # .streamlit/config.toml: maxUploadSize = 10
    uploader.get_by_role("button", name="上传", exact=True).wait_for()
    page.locator("input[placeholder='请选择（可多选）']").wait_for()
    page.locator("input[placeholder='请选择']").wait_for()
    page.locator("[data-testid='stMultiSelect']").click()
    page.get_by_text("全选").wait_for()
    page.keyboard.press("Escape")
    page.locator("[data-testid='stDataFrame']").first.hover()
    page.locator("[data-testid='stElementToolbar'] [aria-label='搜索']").first.wait_for()
    expect(page.get_by_text("没有记录。")).to_have_count(1, timeout=30_000)  # an empty table is a sentence, not an "empty" grid

    # locale.apply()'s two elements (its style and its script) take no room on the page
    shown = page.locator("[data-testid='stHtml']").evaluate_all(
        "els => els.map(e => getComputedStyle(e.closest('[data-testid=stElementContainer]')).display)")
    assert shown == ["none", "none"]

    left = [t for t in page.evaluate(ENGLISH) if t.strip() in locale.TEXTS or "per file" in t]
    assert not left, left


def test_enter_applies_a_typed_date(locale_page):
    page = locale_page
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    page.locator("[data-testid='stDateInput'] [data-type='year']").click()
    page.keyboard.type("20200915")
    page.keyboard.press("Enter")
    page.get_by_text("选定日期：2020-09-15").wait_for(timeout=10_000)
