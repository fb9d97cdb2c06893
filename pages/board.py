"""进度看板: who has reported, who is late, what the reports say, against the subsidy register.

Live: the board body is a fragment that reruns every few seconds; all sessions share one snapshot.
"""

import streamlit as st

from lib.ui import auth, board, errors, page

actor, _, _ = page.start()  # the router and the sign-in first, then the store: never a traceback

st.title("进度看板")
as_of = board.as_of_input()


@st.fragment(run_every=board.REFRESH_SECONDS)
@errors.guarded  # a tick reruns the fragment alone, outside the page's handler: a broken binding is shown, not raised
def live_board() -> None:
    auth.require_live_session()  # a tick skips app.py's gate: an ended session gets no more data
    board.render_board(board.current_board(actor, as_of), board.calendar())


live_board()
