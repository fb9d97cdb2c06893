"""A rerun clock that ticks only while the person can see the page.

``st.fragment(run_every=...)`` is a plain ``setInterval`` in the browser: a board left open in a tab
behind others, or on a locked screen, still asks the server for a run every few seconds, for as long as
the tab stays open. ``clock`` is a tiny Streamlit component (``st.components.v2``, inline JavaScript,
nothing fetched) whose trigger value changes every ``seconds`` only while ``document.visibilityState``
is ``visible``, and once at once when the page becomes visible again, so a returning viewer sees
current figures without waiting a period. A component's value changing inside a fragment reruns that
fragment alone (the browser sends the fragment's id with the change), as ``run_every`` did.

If the component cannot run (a Content-Security-Policy that forbids the ``blob:`` module Streamlit
loads it from), nothing ticks: the page using it offers a 刷新 button (``lib.ui.board``).
"""

from __future__ import annotations

import functools

import streamlit as st

#: The browser side. Called again with a cleanup of the previous call whenever Streamlit mounts the
#: element anew, so it holds no state outside the call.
TICKS_WHILE_VISIBLE = """
export default function ({ data, setTriggerValue }) {
  let timer = null;
  const tick = () => setTriggerValue("tick", Date.now());
  const start = () => { if (timer === null) timer = setInterval(tick, data.period_ms); };
  const stop = () => { if (timer !== null) { clearInterval(timer); timer = null; } };
  const changed = () => {
    if (document.visibilityState === "visible") { tick(); start(); } else { stop(); }
  };
  document.addEventListener("visibilitychange", changed);
  if (document.visibilityState === "visible") start();
  return () => { stop(); document.removeEventListener("visibilitychange", changed); };
}
"""


@functools.cache
def _component():
    """Registered once per process: registering the same name again replaces it with a warning."""
    return st.components.v2.component("visible_clock", js=TICKS_WHILE_VISIBLE)


def clock(seconds: float, key: str) -> None:
    """Place the clock here: from the browser, a rerun of the enclosing fragment (the page when there
    is none) every ``seconds`` while the page is visible, and one when it becomes visible again."""
    _component()(key=key, data={"period_ms": int(seconds * 1000)})
