"""Browser journeys: a real `streamlit run` on a free port, driven by Debian's Chromium via Playwright.

``BROWSER_APP_ROOT=<checkout>`` serves the app (app.py, pages, lib, forms) of another checkout, e.g.
``git worktree add /tmp/old <commit>``, to show that a journey fails on the code it guards against.

Everything opened here is closed within a bounded time, whatever state it is in: a server is
terminated, then killed (``stop_process``); closing a browser context, Chromium or Playwright that
hangs (a Playwright teardown once hung past 300 s) has this process's Playwright driver and its
Chromium killed after ``CLOSE_SECONDS`` (``closed_within``), with a warning naming what hung.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

#: App scripts a test server runs, not test modules: --doctest-modules must not import them into a test
#: process (slow_app.py slows every script run it is imported into, AppTest's pages included).
collect_ignore = ["slow_app.py", "locale_app.py"]

ROOT = Path(__file__).resolve().parents[2]
APP_ROOT = Path(os.environ.get("BROWSER_APP_ROOT") or ROOT)
CHROMIUM = "/usr/bin/chromium"
#: A close that takes longer than this is hung: the driver and its browser are killed.
CLOSE_SECONDS = 30


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


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate ``proc``; kill it if it has not ended within ``timeout`` s; reap it either way."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # a process that ended meanwhile
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_playwright() -> None:
    """SIGKILL this process's own Playwright driver and everything it started (Chromium): the call
    blocked on them then fails instead of hanging. Other processes are left alone."""
    for pid in _descendants(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"playwright" in command:
            for victim in [*_descendants(pid), pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(victim, signal.SIGKILL)


@contextlib.contextmanager
def closed_within(what: str, seconds: float = CLOSE_SECONDS):
    """Run a close of Playwright's in the block; if it takes more than ``seconds``, kill the driver
    and its browser and warn. (The sync API must be called from the thread that made the object, so
    the watchdog is the thread, not the close.)"""
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        _kill_playwright()

    timer = threading.Timer(seconds, kill)
    timer.daemon = True
    timer.start()
    failure: Exception | None = None
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - after a kill the close fails: warn below, the teardown goes on
        if not killed.is_set():
            raise
        failure = exc
    finally:
        timer.cancel()
    if killed.is_set():
        warnings.warn(f"{what} did not close within {seconds} s; its processes were killed ({failure})", stacklevel=3)


class AppServer:
    def __init__(self, data_dir: Path, port: int, env: dict[str, str]):
        self.data_dir, self.port = data_dir, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = data_dir.parent / f"streamlit-{port}.log"
        cmd = [
            sys.executable, "-m", "streamlit", "run", str(APP_ROOT / "app.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        ]
        # the demo accounts hashed at bcrypt's lowest cost: at the default cost a server's first start spent
        # about 10 of its 12 CPU-s hashing some 200 demo passwords, for every browser test
        full_env = {**os.environ, "APP_DATA_DIR": str(data_dir), "APP_FORMS_DIR": str(APP_ROOT / "forms"),
                    "APP_DEMO_PASSWORD_ROUNDS": "4", **env}
        self._log = self.log.open("w")
        self.proc = subprocess.Popen(cmd, cwd=APP_ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)
        try:
            wait_http(self.url + "/_stcore/health")
        except BaseException:  # a server that never answered is stopped too, not left running
            self.stop()
            raise

    def stop(self) -> None:
        stop_process(self.proc)
        self._log.close()


@pytest.fixture(scope="session")
def browser():
    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        with closed_within("Chromium"):
            browser.close()
    finally:
        with closed_within("Playwright"):
            pw.stop()


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
    with closed_within("the browser context"):
        context.close()


DEMO_PASSWORD = "Demo@2020"  # lib.demo.accounts.DEMO_PASSWORD, the README's demo password


def sign_in(page, url: str, account: str, password: str = DEMO_PASSWORD) -> None:
    """Open ``url`` (any page of the app) signed out and sign in there; waits for the account box."""
    page.goto(url)
    # A fresh server's first page imports the app (pandas, the catalog, the store): on a busy CI machine
    # that alone can take most of the page's default 30 s, so the first box gets longer.
    page.get_by_label("账号").wait_for(timeout=90_000)
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
    with closed_within("the phone's browser context"):
        context.close()
