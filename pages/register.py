"""台账导入与核对: the province imports its registers from Excel and checks the providers' reports
against them (不得漏报)."""

import streamlit as st

from lib.auth.policy import IMPORT, can
from lib.ui import board, board_data, errors, page
from lib.ui.register import importers, register_panel, scope_note, served_registers

actor, _, _ = page.start()

st.title("台账导入与核对")
if not can(actor, IMPORT):
    st.warning(f"只有{importers()}可以导入台账。核对结果请在「进度看板」的“台账核对”中查看。")
    st.stop()

# A campaign whose registers do not fit its forms: its error (file, line, key) on the page, even when
# the page runs without the router (the first request by address).
registers = errors.guarded(served_registers, "台账导入")()
if registers is None:
    st.stop()
if not registers:
    st.info("本次检查的 campaign.yaml 未声明台账（registers），无需导入。")
    st.stop()
st.caption(scope_note(registers))
*register_tabs, check_tab = st.tabs([kind.title for kind in registers] + ["核对结果"])
for tab, kind in zip(register_tabs, registers, strict=True):
    with tab:
        register_panel(kind, actor)
with check_tab:
    result = board_data.current_board(actor, board.as_of_input())
    board.reconcile_tab(result, board_data.calendar())
