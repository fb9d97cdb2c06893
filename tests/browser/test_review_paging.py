"""审核 in Chromium with a queue longer than a page (issue 17): the province turns to the second page, the row
picker offers that page's rows, and a row past the first page's is read and approved without any filter."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from lib.demo.seed import generate
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store
from lib.ui import locale
from tests.browser.conftest import sign_in
from tests.browser.widgets import widget

ROOT = Path(__file__).resolve().parents[2]
EXTRA = locale.PAGE_ROWS + 30  # waiting rows added beside the demo's: the queue runs past the first page


def file_rows(data_dir: Path) -> None:
    """EXTRA 附件1 rows waiting for review, filed through a second store on the server's data folder."""
    catalog = load_catalog(ROOT / "forms")
    demo = generate(catalog, rows=EXTRA, seed=31)["att1"]
    store = open_store("local", data_dir=data_dir, background=False)
    try:
        store.ensure_sheet(sheet_spec(catalog.form("att1")))
        store.append_batch([("att1", r.values, "已提交") for r in demo], actor=demo[0].actor)
    finally:
        store.close()


def picker(page):
    """The input of the 查看记录 picker: its value names the row shown (id｜status｜…)."""
    return widget(page, "stSelectbox", "查看记录").locator("input")


def picked_row(page) -> str:
    expect(picker(page)).to_have_value(re.compile(r"^att1-"))
    return picker(page).input_value().split("｜")[0]


def test_a_row_past_the_first_page_is_reached_by_its_page_and_approved(app_server, page):
    sign_in(page, app_server.url, "province")  # the server's first run seeds the demo rows
    file_rows(app_server.data_dir)
    page.get_by_role("link", name="审核").click()
    size = locale.PAGE_ROWS
    page.get_by_text(re.compile(rf"本页列出第 1–{size} 条（共 [\d,]+ 条，每页 {size} 条）")).wait_for()
    first = picked_row(page)

    pager = widget(page, "stSelectbox", "页码")
    pager.click()
    page.get_by_role("option", name=re.compile(r"^第 2 页（共 \d+ 页）$")).click()
    page.get_by_text(re.compile(rf"本页列出第 {size + 1:,}–")).wait_for()
    expect(picker(page)).not_to_have_value(re.compile("^" + re.escape(first) + "｜"))  # the picker: page 2's rows
    second = picked_row(page)
    assert second != first

    page.get_by_role("button", name="通过此记录").click()
    page.get_by_text("已通过 1 条").wait_for()
    store = open_store("local", data_dir=app_server.data_dir, background=False)
    try:
        assert store.get("att1", second).status == "已通过"
        assert store.get("att1", first).status != "已通过"
    finally:
        store.close()
