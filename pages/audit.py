"""审计日志: the audit trail filtered by account, form, row, action and time; a row's full history
field by field; both exported to Excel. Province and admin only."""

import datetime as dt

import streamlit as st

from lib import audit
from lib.core.errors import AppError
from lib.office.excel import to_xlsx
from lib.ui import audit_log, locale, page, rows, state

actor, catalog, store = page.start()

st.title("审计日志")
try:
    frame, labels, actions = audit_log.trail(store, actor, list(catalog.forms()))
except AppError as exc:  # refused (audited) or the store unavailable
    st.error(str(exc))
    st.stop()

c1, c2, c3 = st.columns(3)
account = c1.text_input("账号（包含）", key=state.AUDIT_ACCOUNT)
form_ids = ["", *labels.titles]
form_id = c2.selectbox("表单", form_ids, format_func=lambda f: labels.titles.get(f, "全部"), key=state.AUDIT_FORM)
row_id = c3.text_input("记录编号", key=state.AUDIT_ROW)
c4, c5 = st.columns([2, 1])
actions = c4.multiselect("操作", list(actions), key=state.AUDIT_ACTIONS, placeholder="全部操作")
days = c5.date_input("时间范围", value=(), format="YYYY-MM-DD", key=state.AUDIT_DAYS)
start, end = (tuple(days) + (None, None))[:2] if isinstance(days, (tuple, list)) else (days, days)
if start and not end:
    end = start

shown = audit.filter_audit(frame, audit.AuditFilter(account, form_id, row_id, tuple(actions), start, end))
st.caption(f"共 {len(frame):,} 条，筛选后 {len(shown):,} 条（最新在前）")
# The browser gets a page of rows: 100,000 entries sent on every run cost seconds (issue 17)
locale.table(shown.iloc[rows.page(len(shown), key=state.AUDIT_PAGE)], "没有符合条件的记录。", hide_index=True, height=360,
             width="stretch")  # an event has no 版本: blank
rows.xlsx_download("导出筛选结果为 Excel", lambda: to_xlsx({"审计日志": shown}, {"审计日志": audit.EXPORT_KINDS}),
                   file_name=f"审计日志_{dt.date.today()}.xlsx", key=state.AUDIT_EXPORT, rows=len(shown))

st.subheader("单条记录的完整历史")
if not (row_id.strip() and form_id):
    st.info("选择表单并输入记录编号，即可查看该记录的每一次变更（逐字段对比原值和新值）。")
    st.stop()
history = audit.row_history(store, actor, form_id, row_id, labels)
if history.empty:
    st.warning(f"「{labels.titles[form_id]}」中没有记录 {row_id.strip()} 的变更。")
    st.stop()
locale.table(history, hide_index=True, width="stretch")
rows.xlsx_download("导出该记录历史为 Excel", lambda: to_xlsx({"记录历史": history}, {"记录历史": audit.EXPORT_KINDS}),
                   file_name=f"记录历史_{row_id.strip()}.xlsx", key=state.AUDIT_HISTORY_EXPORT)
