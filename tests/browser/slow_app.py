"""The app with every script run made slow, as on a loaded server: each run sleeps ``SLOW_APP_START``
seconds (1 unless set) before app.py runs, and each element it sends ``SLOW_APP_ELEMENT`` seconds
(0.02 unless set), so a page is drawn over a second or more and a person's next choice or keystroke
lands while the previous rerun is still on its way (served by tests/browser/test_slow_server.py).

Pages are named in app.py relative to app.py's folder (``st.Page("pages/fill.py")``); Streamlit resolves
them from the main script's folder, which here is tests/browser, so that folder is pointed at the app's.
"""

import os
import runpy
import time
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

APP = Path(os.environ.get("BROWSER_APP_ROOT") or Path(__file__).resolve().parents[2]) / "app.py"  # as conftest.APP_ROOT
PagesManager.main_script_parent = property(lambda _self: APP.parent)

ctx = get_script_run_ctx()
if ctx is not None and not getattr(ctx._enqueue, "slowed", False):  # once per session: the context outlives a run
    send = ctx._enqueue
    pause = float(os.environ.get("SLOW_APP_ELEMENT", "0.02"))

    def slowed(msg, send=send, pause=pause):
        time.sleep(pause)  # before the send, which is where Streamlit notices a rerun asked for meanwhile
        send(msg)

    slowed.slowed = True
    ctx._enqueue = slowed

time.sleep(float(os.environ.get("SLOW_APP_START", "1")))
runpy.run_path(str(APP), run_name="__main__")
