"""Browser journeys: a real `streamlit run` on a free port, driven by Debian's Chromium via Playwright.

``BROWSER_APP_ROOT=<checkout>`` serves the app (app.py, pages, lib, forms) of another checkout, e.g.
``git worktree add /tmp/old <commit>``, to show that a journey fails on the code it guards against.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
APP_ROOT = Path(os.environ.get("BROWSER_APP_ROOT") or ROOT)
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class AppServer:
    def __init__(self, data_dir: Path, port: int, env: dict[str, str]):
        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = data_dir.parent / f"streamlit-{port}.log"
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(APP_ROOT / "app.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        ]
        full_env = {**os.environ, "APP_DATA_DIR": str(data_dir), "APP_FORMS_DIR": str(APP_ROOT / "forms"), **env}
        self.proc = subprocess.Popen(cmd, cwd=APP_ROOT, env=full_env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        wait_http(self.url + "/_stcore/health")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def app_server(tmp_path):
    """A fresh app with its own store, seeded with a small demo data set."""
    server = AppServer(tmp_path / "data", free_port(), {"APP_DEMO_ROWS": "120"})
    yield server
    server.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


DEMO_PASSWORD = "Demo@2020"  # lib.demo.accounts.DEMO_PASSWORD, the README's demo password


def sign_in(page, url: str, account: str, password: str = DEMO_PASSWORD) -> None:
    """Open ``url`` (any page of the app) signed out and sign in there; waits for the account box."""
    page.goto(url)
    page.get_by_label("账号").fill(account)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"账号：{account}").wait_for()


@pytest.fixture
def phone(browser):
    """A page in a 390x844 phone viewport (touch, mobile layout)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
