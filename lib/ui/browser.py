"""Small scripts run in the browser where Streamlit has no Python call for it: move the focus to
what a click produced, close the sidebar on a phone once a page is chosen, and ask before the tab is
reloaded or closed while a form holds unsaved input.

``st.html(..., unsafe_allow_javascript=True)`` runs a script in the app's own document (as
``lib.ui.auth`` writes its cookie). Only constants and ids built here go into a script, never text
a person typed.
"""

from __future__ import annotations

import json

import streamlit as st

#: Narrower than this is a phone: Streamlit lays the sidebar over the page there.
PHONE_WIDTH = 768


def container_class(key: str) -> str:
    """The CSS class Streamlit gives ``st.container(key=key)``."""
    return f"st-key-{key}"


def focus(key: str, nonce: str, *, unless_typing: bool = False) -> None:
    """Scroll the container ``st.container(key=key)`` into view and move the keyboard focus to it
    (so a screen reader reads it), once per ``nonce``: reruns that draw it again leave the focus
    where the person put it. ``unless_typing``: not when the person is already typing into (or picking
    in) a field when it arrives — on a slow server that is seconds after their click, and moving the
    focus then would send the rest of their keystrokes nowhere."""
    typing = "true" if unless_typing else "false"
    script = (_FOCUS.replace("NONCE", json.dumps(nonce)).replace("SELECTOR", json.dumps("." + container_class(key)))
              .replace("UNLESS_TYPING", typing))
    st.html(script, unsafe_allow_javascript=True)


# JavaScript's braces make str.format awkward: the scripts name their parameters in capitals.
_FOCUS = """<script>(() => {
  const nonce = NONCE, selector = SELECTOR, unlessTyping = UNLESS_TYPING;
  if (window.gdFocused === nonce) return;
  window.gdFocused = nonce;
  let tries = 0;
  const go = () => {
    const active = document.activeElement;
    if (unlessTyping && active && active.matches("input, textarea, [contenteditable='true']")) return;
    const el = document.querySelector(selector);
    if (!el) { if (tries++ < 60) setTimeout(go, 50); return; }
    el.setAttribute("tabindex", "-1");
    el.scrollIntoView({block: "center"});
    el.focus({preventScroll: true});
  };
  go();
})();</script>"""


def warn_before_leaving(unsaved: bool) -> None:
    """While ``unsaved``, reloading or closing the tab asks first (the browser's own 离开此网站？
    dialog): the answers live in this browser session and a reload starts a new one. Drawn on every
    run, so the flag follows the answers on whatever page the person is."""
    st.html(_BEFORE_UNLOAD.replace("UNSAVED", "true" if unsaved else "false"), unsafe_allow_javascript=True)


_BEFORE_UNLOAD = """<script>(() => {
  window.gdUnsaved = UNSAVED;
  if (window.gdBeforeUnload) return;
  window.gdBeforeUnload = true;
  window.addEventListener("beforeunload", (event) => {
    if (!window.gdUnsaved) return;
    event.preventDefault();
    event.returnValue = "";
  });
})();</script>"""


_CLOSE_SIDEBAR = """<script>(() => {
  if (window.gdSidebarCloser) return;
  window.gdSidebarCloser = true;
  document.addEventListener("click", (event) => {
    if (!event.target.closest('[data-testid="stSidebarNav"] a')) return;
    if (!window.matchMedia("(max-width: PHONE_WIDTHpx)").matches) return;
    setTimeout(() => {
      const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close) close.click();
    }, 0);
  }, true);
})();</script>""".replace("PHONE_WIDTH", str(PHONE_WIDTH))


def close_sidebar_on_phones() -> None:
    """On a phone, close the sidebar after a page is chosen in it (Streamlit leaves it open over
    the page just opened). Drawn in the sidebar, where it takes no room; installs itself once."""
    with st.sidebar:
        st.html(_CLOSE_SIDEBAR, unsafe_allow_javascript=True)
