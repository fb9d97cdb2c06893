"""台账导入与核对: the province imports its registers from Excel and checks the providers' reports
against them (不得漏报)."""

import streamlit as st

from lib.auth.policy import IMPORT, can
from lib.campaign.register import kinds
from lib.ui import board, page
from lib.ui.register import register_panel

actor, _, _ = page.start()

st.title("台账导入与核对")
if not can(actor, IMPORT):
    st.warning("只有省厅可以导入台账。核对结果请在「进度看板」的“台账核对”中查看。")
    st.stop()

st.caption(
    "按通知要求，服务券兑现清单中“未兑现、兑现不通过、取消申报”的条目、标杆示范项目清单中“已验收、已终止、已撤销”的项目"
    "不在检查范围内，导入时自动排除。任何一行有问题时不导入任何数据，并按 Excel 行号列出问题。"
)
vouchers_tab, projects_tab, check_tab = st.tabs(["服务券兑现清单", "标杆示范项目清单", "核对结果"])
with vouchers_tab:
    register_panel(kinds.VOUCHERS, actor)
with projects_tab:
    register_panel(kinds.PROJECTS, actor)
with check_tab:
    result = board.current_board(actor, board.as_of_input())
    board.reconcile_tab(result, board.calendar())
