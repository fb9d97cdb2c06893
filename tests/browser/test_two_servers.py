"""Two app servers, one spreadsheet: two `streamlit run` processes on the Google Sheets backend share
the local Sheets API server; a row submitted through one shows on the other's board within the cache
period (cache_seconds, 5 s here; 10 s by default), without reloading."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.browser.conftest import AppServer, closed_within, free_port, sign_in
from tests.browser.widgets import fill_valid_att1
from tests.sheets.fake_sheets import FakeSheets, secrets_for_test_server

CACHE_SECONDS = 5
BOARD_REFRESH = 5 + 2  # the board's fragment period + its shared snapshot's lifetime (lib/ui/board_data.py)


def toml_table(name: str, table: dict) -> str:
    """A TOML table; JSON string escapes are valid TOML basic strings."""
    lines, nested = [f"[{name}]"], []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append(toml_table(f"{name}.{key}", value))
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n\n" + "".join(nested)


@pytest.fixture
def sheets():
    server = FakeSheets(reads_per_window=100_000, writes_per_window=100_000).start()
    yield server
    server.stop()


def start_server(tmp_path, name: str, table: dict) -> AppServer:
    home = tmp_path / f"home-{name}"
    (home / ".streamlit").mkdir(parents=True)
    # Streamlit reads ~/.streamlit/secrets.toml; the project's own secrets file is left alone.
    (home / ".streamlit" / "secrets.toml").write_text(toml_table("gsheets", table), encoding="utf-8")
    env = {"HOME": str(home), "APP_STORE_BACKEND": "gsheets", "APP_DEMO_ROWS": "60"}
    return AppServer(tmp_path / f"data-{name}", free_port(), env)


def metric(page, label: str) -> int:
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{label}$"))
    ).first
    return int(box.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def test_a_row_submitted_on_one_server_shows_on_the_other(tmp_path, sheets, browser):
    table = secrets_for_test_server(sheets, cache_seconds=CACHE_SECONDS)
    first = start_server(tmp_path, "a", table)
    second = None
    contexts = []

    def new_page():
        contexts.append(browser.new_context(viewport={"width": 1400, "height": 1000}))
        return contexts[-1].new_page()

    try:
        a = new_page()
        a.set_default_timeout(60_000)
        sign_in(a, first.url, "provider_001")  # the first server seeds the demo data into the spreadsheet
        second = start_server(tmp_path, "b", table)
        b = new_page()
        b.set_default_timeout(60_000)
        sign_in(b, second.url, "province")
        b.get_by_role("link", name="进度看板").click()
        b.locator("[data-testid='stMetric']").first.wait_for()
        before = metric(b, "已报")
        assert before > 0, "the second server reads the rows the first one seeded"

        a.get_by_role("link", name="在线填报").click()
        a.get_by_text("服务商信息").wait_for()
        fill_valid_att1(a)
        a.get_by_role("button", name="提交", exact=True).click()
        a.get_by_text(re.compile("提交成功！记录编号")).wait_for()
        submitted = time.monotonic()

        while metric(b, "已报") == before:
            # A bound on a stuck test, not a timing target: the figures come with the cache's and the board's own
            # periods, which a busy CI machine stretches.
            assert time.monotonic() - submitted < 6 * (CACHE_SECONDS + BOARD_REFRESH), "never shown on the other server"
            b.wait_for_timeout(250)
        assert metric(b, "已报") == before + 1
    finally:
        for context in contexts:
            with closed_within("a browser context"):
                context.close()
        first.stop()
        if second:
            second.stop()
