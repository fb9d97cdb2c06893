"""进度看板: who has reported, who is late, what the reports say, against the subsidy register.

Live: the board is drawn again when its data changed (``board_live.live`` watches the change counters every
5 s while the page is visible, and once at once when it is shown again); all sessions share one snapshot.
"""

import streamlit as st

from lib.ui import board, board_live, page

actor, _, _ = page.start()  # the router and the sign-in first, then the store: never a traceback

st.title("进度看板")
as_of = board.as_of_input()
board_live.live(actor, as_of)
