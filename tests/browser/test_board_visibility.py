"""An open board costs the server nothing while its tab is hidden, and is current the moment it is shown
again (issue 17, outcome 6), in Chromium against the app.

Runs are counted on the page's websocket, both ways: each script run the browser asks for is a
``rerun_script`` message it sends (a fragment's carries the fragment's id), and each run the server
begins, asked by the browser or by ``st.rerun``, starts with a ``new_session`` message tagged with the
fragments it runs (none: the page). The test decodes every frame (Streamlit's ``BackMsg`` and
``ForwardMsg``) and asserts on their order, not on how long anything took.

Headless Chromium reports every page visible, even one behind another tab, and CDP's lifecycle states
(``Page.setWebLifecycleState``) freeze the page's timers, which a hidden tab does not: Chrome keeps
running a background tab's timers (at most once a second, once a minute only after five minutes
hidden). So the test hides the page the way the page itself learns of it: ``document.visibilityState``
and ``document.hidden`` read ``hidden`` and ``visibilitychange`` is dispatched on the document, the
event a browser fires when a tab goes behind another or the screen locks; timers keep running, as in
a real background tab. On the old watcher (``st.fragment(run_every=...)``, a plain ``setInterval``)
the hidden page went on asking for a run every REFRESH_SECONDS seconds, and the test fails there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from lib.demo.seed import generate
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store
from lib.ui.board_data import REFRESH_SECONDS

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

#: Counts the page's websocket sends inside the page, so a send made in handling an event is seen there.
COUNT_SENDS = """
const send = WebSocket.prototype.send;
window.__sends = 0;
WebSocket.prototype.send = function (...args) { window.__sends += 1; return send.apply(this, args); };
"""

#: Hide (true) or show (false) the page as a browser does; returns how many websocket messages the
#: page sent in handling the change: in the event's task or in a timer it set then (Streamlit sends a
#: widget change from a ``setTimeout(0)``, which runs before this one, set later with the same delay).
SET_HIDDEN = """async hidden => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => hidden ? "hidden" : "visible"});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  const before = window.__sends;
  document.dispatchEvent(new Event("visibilitychange"));
  await new Promise(done => setTimeout(done, 0));
  return window.__sends - before;
}"""


class Runs:
    """What passed on the page's websocket, in order: ``("ask", fragment id)`` for each script run the
    page asked for and ``("run", fragment id)`` for each the server began ('' for a page run)."""

    def __init__(self, page):
        self.log: list[tuple[str, str]] = []
        self.finished = 0  # script runs the server said were over (``script_finished``)
        page.on("websocket", lambda ws: (ws.on("framesent", self._sent), ws.on("framereceived", self._received)))

    def settled(self, page) -> None:
        """Wait (bounded) until every run begun is over and nothing new passed for a second: a run the
        watcher began just before the page was hidden may still ask for a page run (a change it saw), which
        is not one the hidden page asked for."""
        for _ in range(120):
            seen = (len(self.log), self.finished)
            page.wait_for_timeout(1000)
            if (len(self.log), self.finished) == seen and self.finished >= sum(1 for kind, _ in self.log if kind == "run"):
                return

    def _sent(self, payload) -> None:
        if not isinstance(payload, str) and (msg := BackMsg.FromString(payload)).WhichOneof("type") == "rerun_script":
            self.log.append(("ask", msg.rerun_script.fragment_id))

    def _received(self, payload) -> None:
        if isinstance(payload, str):
            return
        kind = (msg := ForwardMsg.FromString(payload)).WhichOneof("type")
        if kind == "new_session":
            self.log.append(("run", ",".join(msg.metadata.run.fragment_ids)))
        elif kind == "script_finished":
            self.finished += 1


def metric(page, label: str) -> int:
    box = page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']", has_text=re.compile(f"^{label}$"))
    ).first
    return int(box.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def file_row(data_dir: Path, seed: int) -> None:
    """A provider's submitted row written by "another browser": a second store on the server's data dir."""
    catalog = load_catalog(ROOT / "forms")
    row = generate(catalog, rows=40, seed=seed)["att1"][0]
    other = open_store("local", data_dir=data_dir, background=False)
    try:
        other.ensure_sheet(sheet_spec(catalog.form("att1")))
        other.append("att1", {**row.values, "voucher_no": f"SYQ-2019-9998-{seed:05d}"}, actor=row.actor, status="已提交")
    finally:
        other.close()


def wait_for_metric(page, label: str, value: int) -> None:
    """Wait (bounded, not asserted on) until the metric ``label`` reads ``value``."""
    page.wait_for_function(
        """([label, value]) => [...document.querySelectorAll("[data-testid='stMetric']")].some(m =>
             m.querySelector("[data-testid='stMetricLabel']")?.innerText.trim() === label &&
             m.querySelector("[data-testid='stMetricValue']")?.innerText.replace(/,/g, "") === String(value))""",
        arg=[label, value], timeout=60_000)


def test_a_hidden_board_asks_for_no_run_and_is_current_when_shown(app_server, page):
    page.set_default_timeout(90_000)  # a first page of a fresh server takes over 30 s on a loaded 2-core machine
    page.add_init_script(COUNT_SENDS)
    runs = Runs(page)
    sign_in(page, app_server.url, "province")
    page.get_by_role("link", name="进度看板").click()
    page.locator("[data-testid='stMetric']").first.wait_for()
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")")  # the page run is over
    before = metric(page, "已报")

    assert page.evaluate(SET_HIDDEN, True) == 0
    runs.settled(page)  # a tick asked for before hiding may be running still (a busy machine)
    hidden_from = len(runs.log)
    file_row(app_server.data_dir, seed=1)
    page.wait_for_timeout((REFRESH_SECONDS + 1.5) * 1000)  # more than a period: the old watcher ticked in it
    assert runs.log[hidden_from:] == [], "the hidden page asked for runs, or the server ran them"
    assert metric(page, "已报") == before  # nothing was drawn either

    shown_from = len(runs.log)
    assert page.evaluate(SET_HIDDEN, False) >= 1  # the request went out with the event itself, not a period later
    wait_for_metric(page, "已报", before + 1)
    # that request was the watcher's alone; the server ran it, and then the page run it asked for drew the row
    watcher = runs.log[shown_from][1]
    assert watcher and runs.log[shown_from:shown_from + 3] == [("ask", watcher), ("run", watcher), ("run", "")], runs.log[shown_from:]

    # while visible, a change shows within the snapshot's life and a period: drawn by a page run that
    # the watcher's first or second run after it asked for, none asked by the page itself
    filed = len(runs.log)
    file_row(app_server.data_dir, seed=2)
    wait_for_metric(page, "已报", before + 2)
    since = runs.log[filed:]
    assert ("run", "") in since and ("ask", "") not in since, since
    assert 1 <= since[:since.index(("run", ""))].count(("run", watcher)) <= 2, since
