"""The open board (进度看板): drawn, then watched, and drawn again only when what it shows changed.

While the page is visible, every REFRESH_SECONDS seconds and once when it becomes visible again, the
browser reruns a small fragment (``lib.ui.visibility``: none while its tab is hidden) that checks the
session and the change counters and costs next to nothing while they stay the same; after a change it
looks the viewer's board up (``lib.ui.board_data``, computed once for all its viewers) and reruns the page
only when that is another board. A row written anywhere shows within SNAPSHOT_TTL + REFRESH_SECONDS
seconds on a visible board.
"""

from __future__ import annotations

import datetime as dt
import itertools

import streamlit as st

from lib.campaign.board import figures
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.ui import auth, board_data, errors, rectification_board, sampling_board, state, visibility
from lib.ui import board as panels
from lib.ui.board_data import REFRESH_SECONDS

SEEN = state.BOARD_SEEN
CLOCK = state.BOARD_CLOCK


def data_key(as_of: dt.date) -> tuple:
    """What an open board shows depends on, besides the viewer: the change counters of every sheet it
    reads (the shared snapshots: at most one read of each per SNAPSHOT_TTL seconds per process) and the
    day. A form or campaign published meanwhile shows with the next page run or change."""
    counter, sampled = board_data.counters()
    return (counter, sampled, sampling_board.counter(), rectification_board._items_snapshot()[0], board_data.forwards_counter(), as_of)


#: Tokens naming each board object (``seen_key``), unique while the board lives (``memo``).
_TOKENS = itertools.count()


def seen_key(board: figures.Board, key: tuple) -> tuple:
    """What a viewer drawn ``board`` sees, ``key`` being ``data_key`` just before it was computed: the board
    object itself (a scope a change did not reach keeps its board: ``_scoped``) and the change counters of
    the sheets its tabs read besides the figures (the board's own forms' left out)."""
    counter, *rest = key
    forms = board_data.memo(board, "forms", lambda: frozenset(board_forms()))  # a board is of one calendar: once per board
    return (board_data.memo(board, "token", lambda: next(_TOKENS)), tuple(c for c in counter if c[0] not in forms), *rest)


def board_forms() -> tuple[str, ...]:
    """The forms the prepared figures count (the campaign's projects, benchmarks and checks forms)."""
    return board_data.calendar().forms


def stale(seen: tuple | None, actor: Actor, as_of: dt.date) -> tuple[bool, tuple]:
    """Whether ``actor``'s board drawn when ``seen`` (``data_key`` and ``seen_key`` then) shows old data,
    and what to remember now. While the change counters stay the same nothing is computed: a few cached
    lookups and one comparison, what an idle open board costs on each tick. After a change the viewer's
    board is looked up (computed once for all its viewers; the redraw uses it) and is stale only when it
    is another board: a change that did not reach its scope leaves it as it was."""
    key = data_key(as_of)
    if seen is not None and seen[0] == key:
        return False, seen
    try:
        shown = seen_key(board_data.current_board(actor, as_of), key)
    except AppError:  # no board to show (an inspector without an assignment): stale when that changes
        shown = None
    return seen is None or seen[1] != shown, (key, shown)


def live(actor: Actor, as_of: dt.date) -> None:
    """The open board: drawn on each page run (and a widget in it redraws it alone, a fragment), then
    watched: while the page is visible, every REFRESH_SECONDS seconds and once when it becomes visible
    again, the browser reruns a small fragment that checks the session and the change counters and
    reruns the page only when what this viewer's board shows changed (``stale``; ``lib.ui.visibility``).
    Nothing is computed nor sent while the data did not change, and a board in a hidden tab costs the
    server nothing."""
    _board_part(actor, as_of)
    _watch(actor, as_of)


@st.fragment
@errors.guarded
def _board_part(actor: Actor, as_of: dt.date) -> None:
    auth.require_live_session()  # a widget of the board reruns this fragment alone, past app.py's gate
    key = data_key(as_of)  # before the board: a change meanwhile is seen on the next tick
    st.session_state[SEEN] = (key, None)  # what is seen if no board can be shown (``stale``)
    # where the browser's clock cannot run (a policy forbidding its script), a click redraws this fragment
    st.button("刷新", icon=":material/refresh:", type="tertiary", help="看板在页面可见时自动刷新；如未自动更新，可点此刷新。")
    board = board_data.current_board(actor, as_of)
    st.session_state[SEEN] = (key, seen_key(board, key))
    panels.render_board(board, board_data.calendar())


@st.fragment
@errors.guarded  # a tick reruns the fragment alone, outside the page's handler
def _watch(actor: Actor, as_of: dt.date) -> None:
    visibility.clock(REFRESH_SECONDS, key=CLOCK)
    auth.require_live_session()  # a tick skips app.py's gate: an ended session gets no more data
    changed, now = stale(st.session_state.get(SEEN), actor, as_of)
    if changed:
        st.rerun()
    st.session_state[SEEN] = now
