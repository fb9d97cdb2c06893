"""No input is lost while the server is slow (issue 17, outcome 8), in Chromium against the app served
by tests/browser/slow_app.py: the run that a click or a choice starts is held after its first element
until the person has begun typing elsewhere, then drawn slowly while they go on, so each test knows,
by construction and not by timing, that the keystrokes and the choice are made while that rerun is
still on its way (``Slowed.start``).

The browser places a group of widgets (a line of two fields, a table row) by its position among the
page's elements and draws one that moved as a new one: what was typed in it and not yet sent (text
is sent on Enter or leaving the field), and a choice being made in it, were gone. A field shown by
relevance, the note 正在修改记录 after a draft save, a problem noted under a long field after a refused
submit each moved everything below. And the outcome of a click took the keyboard focus from the field
the person had gone on to type in. After 提交 the submitted row's form stayed on screen, answers and
all, until the receipt's run had ended: clicking 新建下一条 at once and typing, one typed into it, and
the new row's blank fields drawn onto those widgets dropped keystrokes. Each test types or picks while
such a rerun lands, then checks the field holds every character.

One server and one signed-in browser context serve the module; each test opens the fill page in a
tab (a Streamlit session) of its own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import APP_ROOT, ROOT, closed_within, free_port, sign_in, stop_process, wait_http
from .widgets import field_input, fill_valid_att1, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]

APP = ROOT / "tests" / "browser" / "slow_app.py"
ACCOUNT = "provider_001"  # a demo provider (README)
PACE_MS = 100  # between two keystrokes: a fast typist
ELEMENT_SECONDS = 0.03  # each element of a held run, once released: the page is drawn over seconds
STEP_MS = 60_000  # any one wait; a held run is let go by the app itself after slow_app.HOLD_SECONDS
#: The server's first run fills its empty store with the demo campaign and accounts: 45 s at a load of
#: 16 on two cores, over a minute at 25, before the sign-in page shows.
STARTUP_MS = 240_000


class Slowed:
    """The control files of slow_app.py (see there): slow the next run, hold it, read what ran."""

    def __init__(self, folder: Path):
        self.folder = folder

    def _lines(self) -> list[str]:
        try:
            return (self.folder / "runs.log").read_text().splitlines()
        except FileNotFoundError:
            return []

    def start(self, after: str = "") -> None:
        """Once no run is going, slow the runs from now on and hold the first to send an element (the
        one the test's next click or choice starts), or the first to send one with the text ``after``."""
        self.idle()
        (self.folder / "pace.json").write_text(json.dumps({"element": ELEMENT_SECONDS}))
        self.hold(after)

    def hold(self, after: str = "") -> None:
        """Hold the first run to send an element with the text ``after`` in it (any element if "")."""
        self._holds = len(self._held())
        (self.folder / "release").unlink(missing_ok=True)  # one left by a teardown would let it go at once
        (self.folder / "hold.new").write_text(after)
        (self.folder / "hold.new").rename(self.folder / "hold")  # whole when a run reads it

    def _held(self) -> list[str]:
        return [line for line in self._lines() if line.startswith("held ")]

    def held(self) -> int:
        """Wait until a run has taken the hold last asked for and stopped there; returns its number."""
        deadline = time.monotonic() + STEP_MS / 1000
        while len(self._held()) == self._holds:
            assert time.monotonic() < deadline, f"no run was held: {self._lines()[-8:]}"
            time.sleep(0.05)
        return int(self._held()[self._holds].split()[1])

    def release(self) -> None:
        (self.folder / "release").touch()

    def idle(self) -> None:
        """Wait until every run begun has ended."""
        deadline = time.monotonic() + STEP_MS / 1000
        while sum(line.startswith("start ") for line in self._lines()) != sum(line.startswith("end ") for line in self._lines()):
            assert time.monotonic() < deadline, f"runs still going: {self._lines()[-8:]}"
            time.sleep(0.05)

    def running(self, run: int) -> bool:
        return f"end {run}" not in self._lines()

    def ended(self, run: int) -> None:
        deadline = time.monotonic() + STEP_MS / 1000
        while self.running(run):
            assert time.monotonic() < deadline, f"run {run} did not end"
            time.sleep(0.05)

    def stop(self) -> None:
        """Runs are no longer slowed (a hold not taken is dropped)."""
        for name in ("pace.json", "hold"):
            (self.folder / name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory):
    """The app with a demo store, its runs slowed on demand (slow_app.py); one server for the module."""
    root = tmp_path_factory.mktemp("slow")
    control = root / "control"
    control.mkdir()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(APP_ROOT), "APP_DATA_DIR": str(root / "data"), "APP_FORMS_DIR": str(APP_ROOT / "forms"),
           "APP_DEMO_ROWS": "120", "SLOW_APP_DIR": str(control),
           "APP_DEMO_PASSWORD_ROUNDS": "4"}  # as conftest.AppServer: the demo accounts hashed at the lowest cost
    with (root / "streamlit.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true"], cwd=APP_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/_stcore/health")
            yield f"http://127.0.0.1:{port}", Slowed(control)
        finally:
            stop_process(proc)


@pytest.fixture(scope="module")
def signed_in(browser, slow_server):
    """A browser context signed in as the provider (the session cookie opens every tab of it)."""
    url, _slowed = slow_server
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(STARTUP_MS)
        sign_in(page, url, ACCOUNT)
        page.close()
        yield context
    finally:
        with closed_within("the browser context"):
            context.close()


@pytest.fixture
def fill_page(signed_in, slow_server):
    """The provider's 附件1 fill page in a tab of its own, settled; the runs not slowed."""
    url, slowed = slow_server
    page = signed_in.new_page()
    try:
        page.set_default_timeout(STEP_MS)
        page.goto(f"{url}/fill?form=att1")
        page.get_by_role("heading", name="服务商信息").wait_for()
        settle(page)
        yield page
    finally:
        slowed.stop()
        slowed.release()  # a run still held, if the test failed while it was
        with closed_within("the fill page's tab"):
            page.close()


@pytest.fixture
def slowed(slow_server) -> Slowed:
    return slow_server[1]


def settle(page) -> None:
    """Wait until no rerun is running."""
    expect(page.locator("[data-testid='stStatusWidget']")).to_have_count(0, timeout=STEP_MS)


def type_slowly(page, text: str) -> str:
    for char in text:
        page.keyboard.type(char)
        page.wait_for_timeout(PACE_MS)
    return text


def type_through(page, slowed: Slowed, run: int, more: int = 3) -> str:
    """Type at a person's pace while run ``run`` (held) is let go and drawn, and ``more`` characters
    after it has ended; returns what was typed."""
    typed = type_slowly(page, "设备老化")  # the run is held: the rest of it is still to come
    slowed.release()
    for char in "部分停机计划下季度完成全部改造工作" * 20:
        if not slowed.running(run):
            break
        typed += type_slowly(page, char)
    else:
        raise AssertionError(f"run {run} had not ended after typing {len(typed)} characters")
    return typed + type_slowly(page, "设备更新"[:more])


def focused_label(page) -> str | None:
    return page.evaluate("() => document.activeElement && document.activeElement.getAttribute('aria-label')")


def pick(page, label: str, option: str) -> None:
    """Pick ``option`` in the select ``label`` from the keyboard: type to filter, Enter takes it."""
    page.locator(f"input[role='combobox'][aria-label^='{label}']").click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")


def test_typing_below_a_field_that_relevance_shows_is_kept(fill_page, slowed):
    page = fill_page
    reason = page.locator("textarea[aria-label^='原因说明']")
    pick(page, "目前使用状态", "正常使用")
    settle(page)
    expect(reason).to_have_count(0)

    slowed.start()
    pick(page, "目前使用状态", "闲置")  # shows 原因说明 above the contacts table
    run = slowed.held()
    field_input(page, "姓名").click()
    typed = type_through(page, slowed, run)
    expect(reason).to_have_count(1, timeout=STEP_MS)  # drawn by a slowed run: a bound, not a timing
    expect(field_input(page, "姓名")).to_have_value(typed)  # not sent yet: kept in the browser
    assert (focused_label(page) or "").startswith("姓名"), "the field being typed in lost the focus"
    page.keyboard.press("Tab")
    settle(page)
    expect(field_input(page, "姓名")).to_have_value(typed)


def test_typing_right_after_a_draft_save_is_kept(fill_page, slowed):
    page = fill_page
    type_into(page, "项目名称", "慢服务器上的草稿项目")
    settle(page)

    slowed.start()
    page.get_by_role("button", name="保存草稿").click()
    run = slowed.held()
    field_input(page, "企业名称").click()
    typed = type_through(page, slowed, run)
    expect(page.get_by_text(re.compile("草稿已保存"))).to_have_count(1, timeout=STEP_MS)
    expect(field_input(page, "企业名称")).to_have_value(typed)
    assert (focused_label(page) or "").startswith("企业名称"), "the field being typed in lost the focus"
    page.keyboard.press("Tab")
    settle(page)
    expect(field_input(page, "企业名称")).to_have_value(typed)
    expect(field_input(page, "项目名称")).to_have_value("慢服务器上的草稿项目")


def test_a_choice_begun_right_after_a_refused_submit_is_kept(fill_page, slowed):
    page = fill_page
    status = page.locator("input[role='combobox'][aria-label^='目前使用状态']")
    slowed.start()
    page.get_by_role("button", name="提交", exact=True).click()
    run = slowed.held()
    status.click()  # below 实施内容, a long field whose problem is noted under it
    page.keyboard.type("闲")
    slowed.release()
    slowed.ended(run)  # the refusal drawn, its problems noted under their fields
    expect(page.get_by_text(re.compile("提交未成功，请修改以下"))).to_have_count(1)
    page.keyboard.type("置")
    page.keyboard.press("Enter")
    expect(status).to_have_value("闲置")
    settle(page)
    expect(status).to_have_value("闲置")
    # the choice's rerun is slowed too, and may not have begun when settle looked: a choice the server never
    # got would never show the reason field, a slow run shows it within the bound (a loaded run took over 5 s)
    expect(page.locator("textarea[aria-label^='原因说明']")).to_have_count(1, timeout=STEP_MS)


def test_typing_right_after_next_row_is_kept(fill_page, slowed):
    page = fill_page
    fill_valid_att1(page, voucher="SYQ-2019-4406-99001", project="慢服务器上的第一个项目")
    settle(page)

    slowed.start(after="新建下一条")
    page.get_by_role("button", name="提交", exact=True).click()
    slowed.held()  # the receipt drawn down to its buttons, the rest of its run to come
    slowed.hold(after="企业名称 *")  # the new row's run: held once its 企业名称 is drawn
    page.get_by_role("button", name="新建下一条").click()
    slowed.release()
    new_row = slowed.held()
    field_input(page, "企业名称").click()
    typed = type_through(page, slowed, new_row)
    page.keyboard.press("Tab")
    settle(page)
    expect(field_input(page, "企业名称")).to_have_value(typed)


def test_a_value_typed_right_before_opening_another_page_is_kept(fill_page, slowed):
    """A CI run lost 企业名称 typed just before a click on 我的填报: the field's value and the page change
    reached a busy server as two rerun requests and the value's was dropped. Here both wait behind a held
    run and are folded into one (runner.fastReruns off), which keeps the value
    (lib.ui.nav.keep_input_on_page_change; without it the field comes back blank)."""
    page = fill_page
    slowed.start()
    type_into(page, "项目名称", "换页前的项目")  # its run is held: the server is busy
    run = slowed.held()
    type_into(page, "企业名称", "换页前输入的企业")  # sent while that run is held: waits for it
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="我的填报").click()  # folded with it
    slowed.stop()
    slowed.release()
    slowed.ended(run)
    page.get_by_role("heading", name="我的填报").wait_for()
    settle(page)
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name="在线填报").click()
    page.get_by_role("heading", name="服务商信息").wait_for()
    expect(field_input(page, "企业名称")).to_have_value("换页前输入的企业")
    expect(field_input(page, "项目名称")).to_have_value("换页前的项目")
