"""The browser tests' teardown is bounded: a close that hangs has this process's Playwright driver
(and what it started) killed, with a warning, and nothing else is touched."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.browser.conftest import ROOT, closed_within, stop_process


def sleeper(*marks: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", *marks])


HUNG_CLOSE = """
import subprocess, sys, warnings
from tests.browser.conftest import closed_within
sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
driver = subprocess.Popen([*sleep, "playwright", "run-driver"])  # what the kill looks for among its children
bystander = subprocess.Popen([*sleep, "streamlit"])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with closed_within("a stand-in", seconds=0.5):
        driver.wait(timeout=20)  # "the close": returns once the watchdog has killed the driver
print(driver.returncode, bystander.poll(), [str(w.message) for w in caught])
bystander.kill()
"""


def test_a_hung_close_kills_the_playwright_driver_and_warns():
    # In a process of its own: here, the kill would also take the session's real Playwright driver.
    out = subprocess.run([sys.executable, "-c", HUNG_CLOSE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    returncode, bystander, warned = out.stdout.strip().split(" ", 2)
    assert (returncode, bystander) == ("-9", "None")
    assert "a stand-in did not close within 0.5 s; its processes were killed" in warned


def test_a_close_in_time_is_left_alone_and_its_own_error_still_raises():
    driver = sleeper("playwright")  # never killed here: the closes end long before the bound
    try:
        with closed_within("a quick close", seconds=30):
            pass
        with pytest.raises(RuntimeError), closed_within("a failing close", seconds=30):
            raise RuntimeError("closing failed by itself")
        assert driver.poll() is None
    finally:
        stop_process(driver)


def test_stop_process_kills_what_ignores_terminate_within_the_bound():
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                                 "print('ready', flush=True); time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout.readline().strip() == "ready"
    stop_process(stubborn, timeout=0.5)
    assert stubborn.returncode == -9
    stubborn.stdout.close()
