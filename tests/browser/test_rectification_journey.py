"""The rectification phase in a real browser (issue 14, outcome 8), on a small campaign of its own
(``rectification_setup``), the campaign clock on the first day of 全面整改: the province generates the items
(again: none twice) and finds them in 问题清单; the provider opens its item from its home page's 待办, ticks
each step with its text or a real PNG and submits; the city returns it with a reason; the provider reads
the reason and submits again; the city verifies it (通过); the province closes it (销号) from its 待办; the
province's board, tab 整改进度, shows it closed."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from lib.forms import load_catalog
from lib.rectification.lists import EVIDENCE_NAMES, LISTS
from lib.rectification.progress import LATE, RATE
from lib.rectification.records import CLOSED, IN_PROGRESS, ITEMS, PENDING, STATUSES, SUBMITTED, VERIFIED
from lib.store.factory import open_store

from .conftest import APP_ROOT, DEMO_PASSWORD, AppServer, closed_within, free_port, sign_in
from .rectification_setup import CITY, OTHER_PROVIDER, PROVIDER, rectification_day, stock
from .test_sampling_journey import cell, column, grid, idle
from .widgets import type_into, widget

#: How long a table or message may take to appear after a click, on a busy 2-core machine (ms).
WAIT = 30_000


@pytest.fixture
def small_campaign(tmp_path):
    """A server on ``rectification_setup``'s campaign (no demo data), its clock on the first day of the
    rectification phase; yields the server and its catalog."""
    catalog = load_catalog(APP_ROOT / "forms")
    stock(tmp_path / "data", catalog, DEMO_PASSWORD)
    server = AppServer(tmp_path / "data", free_port(),
                       {"APP_DEMO_DATA": "false", "APP_CAMPAIGN_TODAY": rectification_day(catalog).isoformat()})
    yield server, catalog
    server.stop()


def png(path: Path, colour: tuple[int, int, int]) -> Path:
    """A small real PNG (the evidence is checked by its content, not its name)."""
    Image.new("RGB", (64, 48), colour).save(path, format="PNG")
    return path


def stored_items(server) -> dict[str, object]:
    """整改编号 -> the item as the store holds it."""
    store = open_store("local", data_dir=server.data_dir, background=False)
    try:
        return {r.values["item_id"]: r for r in store.records(ITEMS.form_id)}
    finally:
        store.close()


def shows_item(page, item_id: str, status: str) -> None:
    """Wait until the open item's heading names it in ``status``."""
    expect(page.locator("h4").filter(has_text=re.compile(f"^{re.escape(item_id)}　{re.escape(status)}"))).to_be_visible(timeout=WAIT)


def nav(page, name: str) -> None:
    page.get_by_role("link", name=name).click()  # the link's name carries its page's icon too


def open_list(page, key: str):
    """Open the rectification list ``key`` (of ``LISTS``); its table, found by its 整改编号 column (the first
    such table: the province's 成果清单 below may show items too)."""
    widget(page, "stRadio", "清单").get_by_text(LISTS[key], exact=True).click()
    return grid(page, "整改编号").first


def open_from_todo(page, item_id: str, what: str) -> None:
    """From the home page's 待办: the entry of the item (its caption names its 整改编号) asking ``what`` of the
    viewer, and its 打开, which opens the item on the rectification page."""
    nav(page, "首页")
    page.get_by_role("heading", name="待办", exact=True).wait_for(timeout=WAIT)
    entry = page.locator("[data-testid='stVerticalBlock']").filter(has_text=item_id).filter(
        has=page.get_by_role("button", name="打开")).last
    expect(entry).to_contain_text(what, timeout=WAIT)
    entry.get_by_role("button", name="打开").click()
    page.get_by_role("heading", name="全面整改", exact=True).wait_for(timeout=WAIT)


def step_block(page, name: str):
    """The bordered block of the checklist step named ``name`` (the innermost block holding its checkbox)."""
    return page.locator("[data-testid='stVerticalBlock']").filter(
        has=page.locator("[data-testid='stCheckbox']", has_text=name)).last


def work_step(page, step, evidence: str | Path) -> None:
    """Tick ``step`` (a checklist Step), give its text or its file, save it, and wait for what was saved to
    show back: the ticked box with its text, or the file as a download."""
    idle(page)  # until the last run ends, a step drawn anew (new keys) may stand beside its stale copy
    block = step_block(page, step.name)
    expect(block).to_contain_text(f"{step.name}（{EVIDENCE_NAMES[step.evidence]}）", timeout=WAIT)
    # the step's own box by its name: while a run redraws the list, the innermost block may hold the step above too
    box = block.get_by_role("checkbox", name=f"{step.name}（{EVIDENCE_NAMES[step.evidence]}）", exact=True)
    box.locator("xpath=ancestor::label[1]").click()
    expect(box).to_be_checked(timeout=WAIT)
    if step.evidence == "text":
        box = block.locator("textarea")
        box.fill(evidence)
        box.press("Tab")
    elif step.evidence == "file":
        idle(page)  # a file chosen while the last click's rerun is under way is dropped
        block.locator("input[type='file']").set_input_files(evidence)
        expect(block.get_by_text(evidence.name)).to_be_visible(timeout=WAIT)
    idle(page)
    block.get_by_role("button", name="保存此步骤").click()
    expect(page.get_by_text("已保存此步骤。")).to_be_visible(timeout=WAIT)
    idle(page)
    saved = step_block(page, step.name)  # drawn anew: the item's revision changed, and with it its widgets' keys
    if step.evidence == "file":
        expect(saved.get_by_role("button", name=re.compile(f"^下载 {re.escape(evidence.name)}"))).to_have_count(1, timeout=WAIT)
    expect(saved.get_by_role("checkbox", name=f"{step.name}（{EVIDENCE_NAMES[step.evidence]}）", exact=True)).to_be_checked(timeout=WAIT)
    if step.evidence == "text":
        expect(saved.locator("textarea")).to_have_value(evidence, timeout=WAIT)


def submit(page, item_id: str) -> None:
    page.get_by_role("button", name="提交整改材料").click()
    shows_item(page, item_id, SUBMITTED)


def metric(page, label: str):
    """The value of the open tab's metric ``label``."""
    panel = page.locator("[role='tabpanel']:visible")
    return panel.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{re.escape(label)}$"))).locator("[data-testid='stMetricValue']")


def new_page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(WAIT)
    return page


def test_generate_tick_return_verify_close_and_the_board_shows_it_closed(small_campaign, page, browser, tmp_path):
    server, catalog = small_campaign

    # the province generates: two findings of the three filed rows; again, none twice
    sign_in(page, server.url, "province")
    nav(page, "全面整改")
    page.get_by_role("heading", name="全面整改", exact=True).wait_for()
    generate = page.get_by_role("button", name="生成整改事项")
    generate.click()
    expect(page.get_by_text(re.compile("^新生成整改事项 2 条，已生成过的 0 条"))).to_be_visible(timeout=WAIT)
    items = stored_items(server)
    mine = next(i for i in items.values() if i.values["party"] == PROVIDER.org)
    theirs = next(i for i in items.values() if i.values["party"] == OTHER_PROVIDER)
    assert len(items) == 2 and mine.status == theirs.status == PENDING
    item_id = mine.values["item_id"]
    idle(page)
    generate.click()
    expect(page.get_by_text(re.compile("^新生成整改事项 0 条，已生成过的 2 条"))).to_be_visible(timeout=WAIT)
    assert len(stored_items(server)) == 2
    problems = open_list(page, "problems")
    for shown in items:
        expect(cell(problems, shown)).to_have_count(1, timeout=WAIT)
    assert column(problems, "整改编号", "状态") == {shown: PENDING for shown in items}

    category = next(c for c in catalog.campaign.rectification.categories if c.key == mine.values["category"])
    files = [f"{s.key}.png" for s in category.steps if s.evidence == "file"]
    reason = "企业确认函未加盖公章，请补充盖章版本。"
    provider = new_page(browser)
    city = new_page(browser)
    try:
        # the provider: its item from its 待办; it sees only its own; each step with its text or a PNG; submitted
        sign_in(provider, server.url, PROVIDER.account)
        open_from_todo(provider, item_id, "办理整改")
        shows_item(provider, item_id, PENDING)
        own = open_list(provider, "problems")
        expect(cell(own, item_id)).to_have_count(1, timeout=WAIT)
        expect(own.locator("tbody tr")).to_have_count(1)
        for n, step in enumerate(category.steps):
            work_step(provider, step, "已恢复生产线设备联网，平台恢复日常使用。" if step.evidence == "text"
                      else png(tmp_path / f"{step.key}.png", (40 * n, 120, 200)))
            shows_item(provider, item_id, IN_PROGRESS)
        submit(provider, item_id)

        # the city: the item waits in its 待我办理; returned with a reason
        sign_in(city, server.url, CITY.account)
        nav(city, "全面整改")
        waiting = open_list(city, "waiting")
        expect(cell(waiting, item_id)).to_have_count(1, timeout=WAIT)
        assert column(waiting, "整改编号", "待办理") == {item_id: "核实整改材料"}
        shows_item(city, item_id, SUBMITTED)
        for name in files:  # what it verifies: the provider's evidence, each file a download
            expect(city.get_by_role("button", name=re.compile(f"^下载 {re.escape(name)}"))).to_have_count(1, timeout=WAIT)
        type_into(city, "退回原因", reason)
        idle(city)
        city.get_by_role("button", name="退回", exact=True).click()
        shows_item(city, item_id, IN_PROGRESS)
        expect(city.get_by_text(f"地市退回原因：{reason}")).to_be_visible(timeout=WAIT)

        # the provider reads the reason on its item and submits again (its steps stay ticked with their evidence)
        open_from_todo(provider, item_id, "提交整改材料")
        shows_item(provider, item_id, IN_PROGRESS)
        expect(provider.get_by_text(f"地市退回原因：{reason}")).to_be_visible(timeout=WAIT)
        provider.get_by_text("处理记录", exact=True).click()  # every transition is visible to the responsible party
        expect(grid(provider, "备注").locator("td", has_text=reason)).not_to_have_count(0, timeout=WAIT)
        submit(provider, item_id)

        # the city verifies it, from its 待办 this time
        open_from_todo(city, item_id, "核实整改材料")
        shows_item(city, item_id, SUBMITTED)
        city.get_by_role("button", name="通过", exact=True).click()
        shows_item(city, item_id, VERIFIED)
    finally:
        for other in (provider, city):
            with closed_within("a browser context of the journey"):
                other.context.close()

    # the province closes it from its 待办
    open_from_todo(page, item_id, "销号")
    shows_item(page, item_id, VERIFIED)
    page.get_by_role("button", name="销号", exact=True).click()
    shows_item(page, item_id, CLOSED)

    done = stored_items(server)[item_id]
    assert done.status == CLOSED and done.values["reason"] == reason
    assert sorted(e["name"] for e in done.values["evidence"]) == sorted(files)
    assert stored_items(server)[theirs.values["item_id"]].status == PENDING

    # the board, tab 整改进度: as of today (the items were opened today, after the campaign clock's day)
    nav(page, "进度看板")
    page.get_by_role("heading", name="进度看板", exact=True).wait_for()
    type_into(page, "截至日期", dt.date.today().isoformat())
    page.get_by_role("tab", name="整改进度").click()
    expect(metric(page, "整改事项")).to_have_text("2", timeout=WAIT)
    expect(metric(page, CLOSED)).to_have_text("1")
    expect(metric(page, LATE)).to_have_text("1")  # the other item, past its due date and not closed
    expect(metric(page, RATE)).to_have_text("50.0")
    per_city = grid(page, STATUSES[0])
    expect(cell(per_city, PROVIDER.city)).to_have_count(1, timeout=WAIT)
    assert column(per_city, "地市", CLOSED)[PROVIDER.city] == "1"
