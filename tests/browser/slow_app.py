"""The app with script runs made slow on demand, as on a loaded server, driven by files in the folder
``SLOW_APP_DIR`` (served by tests/browser/test_slow_server.py, which writes and reads them):

- ``pace.json`` — ``{"element": e}``: while it exists, each run sleeps ``e`` seconds before each
  element it sends, so a page is drawn over seconds and a person's next choice or keystroke lands
  while the rerun is still on its way. Without it a run is not slowed (signing in and opening the
  page cost no more than usual).
- ``hold`` — the first run to send an element with the file's text in it (any element, if it is
  empty) takes it and stops there until ``release`` exists (at most ``HOLD_SECONDS``). The test then
  knows, without any timing, that the run has begun and what of the page it has drawn while the
  test types.
- ``runs.log`` — a line per run as it goes: ``start N``, ``holding N after TEXT`` (it took the hold),
  ``held N``, ``end N``. Runs of different sessions may overlap (a session's own reruns queue behind its run:
  .streamlit/config.toml sets ``runner.fastReruns = false``).

Pages are named in app.py relative to app.py's folder (``st.Page("pages/fill.py")``); Streamlit resolves
them from the main script's folder, which here is tests/browser, so that folder is pointed at the app's.
"""

import itertools
import json
import os
import runpy
import sys
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


def take_hold(run: int, sent: bytes) -> bool:
    """Whether this run is to stop after the element ``sent``: a hold is asked for and its text is in
    the element. Taking it is one rename, so of runs going at once (other sessions' runs) one takes it."""
    try:
        wanted = (CONTROL / "hold").read_bytes()
        if wanted not in sent:
            return False
        (CONTROL / "hold").rename(CONTROL / "holding")
    except OSError:  # none asked for, or another run took it just now
        return False
    note(f"holding {run} after {wanted.decode()!r}")
    return True


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
ctx = get_script_run_ctx()
if ctx is not None:
    send = getattr(ctx._enqueue, "unslowed", ctx._enqueue)  # the context outlives a run: wrap the original once

    def slowed(msg, send=send, pause=pause, run=run):
        if pause:
            time.sleep(pause)  # before the send, which is where Streamlit notices a rerun asked for meanwhile
        send(msg)
        if msg.WhichOneof("type") == "delta" and take_hold(run, msg.SerializeToString()):
            wait_for_release(run)

    slowed.unslowed = send
    ctx._enqueue = slowed

note(f"start {run}")
try:
    runpy.run_path(str(APP), run_name="__main__")
finally:
    note(f"end {run}")
