"""The app with script runs made slow on demand, as on a loaded server, driven by files in the folder
``SLOW_APP_DIR`` (served by tests/browser/test_slow_server.py, which writes and reads them):

- ``pace.json`` — ``{"element": e}``: while it exists, each run sleeps ``e`` seconds before each
  element it sends, so a page is drawn over seconds and a person's next choice or keystroke lands
  while the rerun is still on its way. Without it a run is not slowed (signing in and opening the
  page cost no more than usual).
- ``hold`` — the next run to start takes it and stops after sending its first element (or, if the
  file holds a text, the first element with that text in it), until ``release`` exists (at most
  ``HOLD_SECONDS``); a run stopped for a rerun before it got there passes the hold on to the next.
  The test then knows, without any timing, that the run has begun and what of the page it has
  drawn while the test types.
- ``runs.log`` — a line per run as it goes: ``holding N after TEXT`` (it took the hold), ``start N``,
  ``held N``, ``end N``.

Pages are named in app.py relative to app.py's folder (``st.Page("pages/fill.py")``); Streamlit resolves
them from the main script's folder, which here is tests/browser, so that folder is pointed at the app's.
"""

import contextlib
import itertools
import json
import os
import runpy
import sys
import threading
import time
import types
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

APP = Path(os.environ.get("BROWSER_APP_ROOT") or Path(__file__).resolve().parents[2]) / "app.py"  # as conftest.APP_ROOT
PagesManager.main_script_parent = property(lambda _self: APP.parent)
CONTROL = Path(os.environ["SLOW_APP_DIR"])
HOLD_SECONDS = 60  # a test that never releases a held run does not keep the server's thread for ever

# Run numbers across the runs and sessions of this server: the script is run anew each time, a module once.
_runs = sys.modules.setdefault("_slow_app_runs", types.ModuleType("_slow_app_runs"))
_runs.__dict__.setdefault("count", itertools.count(1))


def note(line: str) -> None:
    with (CONTROL / "runs.log").open("a") as log:
        log.write(line + "\n")


def pace() -> dict:
    try:
        return json.loads((CONTROL / "pace.json").read_text())
    except (OSError, ValueError):  # absent (not slowed), or being written
        return {}


def take_hold() -> bytes | None:
    """The text the run is to be held after (b"" for its first element), or None: not held."""
    try:
        (CONTROL / "hold").rename(CONTROL / "holding")
        return (CONTROL / "holding").read_bytes()
    except OSError:
        return None


def wait_for_release(run: int) -> None:
    note(f"held {run}")
    deadline = time.monotonic() + HOLD_SECONDS
    while not (CONTROL / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    for name in ("release", "holding"):
        (CONTROL / name).unlink(missing_ok=True)


run = next(_runs.count)
slow = pace()
pause = float(slow.get("element", 0))
hold_after = take_hold()
held = threading.Event() if hold_after is not None else None
if held is not None:
    note(f"holding {run} after {hold_after.decode()!r}")
ctx = get_script_run_ctx()
if ctx is not None:
    send = getattr(ctx._enqueue, "unslowed", ctx._enqueue)  # the context outlives a run: wrap the original once

    def slowed(msg, send=send, pause=pause, held=held, after=hold_after, run=run):
        if pause:
            time.sleep(pause)  # before the send, which is where Streamlit notices a rerun asked for meanwhile
        send(msg)
        if held is not None and not held.is_set() and msg.WhichOneof("type") == "delta" and after in msg.SerializeToString():
            held.set()
            wait_for_release(run)

    slowed.unslowed = send
    ctx._enqueue = slowed

note(f"start {run}")
try:
    runpy.run_path(str(APP), run_name="__main__")
finally:
    note(f"end {run}")
    if held is not None and not held.is_set():  # stopped for a rerun before it got there: the next run holds
        with contextlib.suppress(OSError):
            (CONTROL / "holding").rename(CONTROL / "hold")
