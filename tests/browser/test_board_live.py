"""The province opens 进度看板; a row filed elsewhere appears within 10 s without reloading."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

from playwright.sync_api import expect

from lib.auth.accounts import AccountsFile
from lib.demo.seed import generate
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
#: How long the test waits for the board's own refresh (every few seconds) before calling it not live: a bound
#: on a stuck test, not a timing target (the refresh period is lib/ui/board_data.py's; a busy CI machine is slow).
LIVE_WITHIN = 60.0



def metric(page, label: str) -> int:
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{label}$"))
    ).first
    return int(box.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def test_a_submission_appears_on_the_open_board_without_reloading(app_server, page):
    sign_in(page, app_server.url, "province")
    page.get_by_role("link", name="进度看板").click()
    page.get_by_role("heading", name="进度看板").wait_for()
    page.locator("[data-testid='stMetric']").first.wait_for()
    before = metric(page, "已报")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    # "another browser": a provider's row appended through a second store on the server's data dir
    catalog = load_catalog(ROOT / "forms")
    row = generate(catalog, rows=40, seed=11)["att1"][0]
    other = open_store("local", data_dir=app_server.data_dir, background=False)
    try:
        other.ensure_sheet(sheet_spec(catalog.form("att1")))
        other.append("att1", {**row.values, "voucher_no": f"SYQ-2019-9999-{int(time.time()) % 100000:05d}"},
                     actor=row.actor, status="已提交")
    finally:
        other.close()
    filed = time.monotonic()

    while metric(page, "已报") == before:
        assert time.monotonic() - filed < LIVE_WITHIN, f"the new row did not show within {LIVE_WITHIN:.0f} s"
        page.wait_for_timeout(250)
    assert metric(page, "已报") == before + 1
    assert not navigations, "the page was reloaded"


def test_an_ended_session_gets_no_more_board_data(app_server, page):
    """The board's fragment checks the session at each tick: a disabled account is sent to sign-in."""
    sign_in(page, app_server.url, "province")
    page.get_by_role("link", name="进度看板").click()
    page.locator("[data-testid='stMetric']").first.wait_for()
    AccountsFile(app_server.data_dir / "accounts.json").set_disabled("province", True, now=dt.datetime.now())
    page.get_by_role("button", name="登录").wait_for(timeout=LIVE_WITHIN * 1000)  # no reload, no click: the next tick
    page.locator("[data-testid='stMetric']").first.wait_for(state="detached")  # the board's figures are gone
    expect(page.get_by_role("heading", name="登录")).to_have_count(1, timeout=30_000)
