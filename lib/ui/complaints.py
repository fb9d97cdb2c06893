"""The complaint import on the sampling page: a template of the complaint form's headers, an .xlsx upload
checked row by row (lib.sampling.complaints) and stored only when every row passes; and the complaints
whose voucher is no project of the frame, on the sampling page and while one is entered on the fill page.

Complaints recorded before the frame is frozen count towards its priority rules (the ``complaints``
variable); one complaint at a time is entered on the fill page of the same form. The import runs in its
button's callback and leaves its outcome (the count, or the problems by Excel row and header) under its
own key until the next import.

A complaint naming a voucher no project has counts towards nobody (the project meant is not taken):
the import refuses such a row; a form constraint cannot see the register, so the fill page warns while
the voucher is typed (``voucher_warning``) and the frame section lists those recorded
(``unmatched_section``).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from lib.auth import Forbidden
from lib.campaign.register.reconcile import normalize_code
from lib.core.records import Actor
from lib.forms import FormCatalog, FormDefinitionError, FormSpec
from lib.office.excel import to_xlsx
from lib.sampling import complaints
from lib.sampling.frame import Frame
from lib.sampling.record import SOURCE_WORDS
from lib.store.base import Store
from lib.ui import board, board_data, context, errors, state
from lib.ui.record_view import plain_text
from lib.ui.rows import xlsx_download
from lib.xlsx.bounds import WorkbookLimits


def _import(actor: Actor) -> None:
    upload = st.session_state.get(state.SAMPLING_COMPLAINTS_FILE)
    if upload is None:
        return
    settings = context.settings()
    try:
        found = complaints.import_complaints(context.store(), context.catalog(), upload.getvalue(), actor,
                                             today=settings.campaign_today, limits=WorkbookLimits.from_settings(settings))
    except Forbidden as exc:  # refused, and audited, by the one authorisation function
        st.session_state[state.SAMPLING_COMPLAINTS_OUTCOME] = ("error", str(exc), None)
        return
    if found.ok:
        board_data.clear_shared()
        st.session_state[state.SAMPLING_COMPLAINTS_OUTCOME] = ("success", f"已从「{upload.name}」登记 {len(found.records)} 件投诉举报。"
                                                "冻结抽样框时计入优先规则。", None)
    else:
        count = len(found.problems) + found.unlisted
        st.session_state[state.SAMPLING_COMPLAINTS_OUTCOME] = ("error", f"「{upload.name}」有 {count} 处问题，未登记任何投诉举报。请修改后重新上传。", found.table())


def complaints_panel(actor: Actor) -> None:
    """投诉举报导入 (an expander), for a campaign that binds a complaints form; nothing otherwise."""
    catalog = context.catalog()
    if not catalog.bindings.has("complaints"):
        return
    form = complaints.complaint_form(catalog)
    title = form.short_title or form.title
    with st.expander(f"导入{title}（Excel）"):
        st.caption(f"冻结抽样框之前登记的投诉举报计入优先规则；也可在「在线填报」的「{title}」中逐条登记。"
                   f"表头为表单各字段的名称（见导入模板），每次最多 {complaints.MAX_ROWS} 行；任何一行有问题时不登记任何一行。")
        xlsx_download("下载导入模板", lambda: complaints.template_xlsx(form), file_name=f"{title}_导入模板.xlsx", key=state.SAMPLING_COMPLAINTS_TEMPLATE)
        upload = st.file_uploader(f"上传{title}（.xlsx）", type=["xlsx", "xls", "ods"], key=state.SAMPLING_COMPLAINTS_FILE,
                                  max_upload_size=max(1, math.ceil(context.settings().upload_max_mb)))
        st.button("导入投诉举报", key=state.SAMPLING_COMPLAINTS_IMPORT, type="primary", disabled=upload is None,
                  on_click=errors.guarded(_import), args=(actor,))
        said = st.session_state.get(state.SAMPLING_COMPLAINTS_OUTCOME)
        if said:
            kind, text, problems = said
            {"success": st.success, "error": st.error}[kind](text)
            if isinstance(problems, pd.DataFrame) and len(problems):
                st.dataframe(problems, hide_index=True, height=board.TABLE_HEIGHT)
                xlsx_download("导出问题清单", lambda: to_xlsx({"问题清单": problems}), file_name=f"{title}_问题清单.xlsx", key=state.SAMPLING_COMPLAINTS_PROBLEMS)


def unmatched_section(frame: Frame) -> None:
    """The filed complaints whose voucher is no project of ``frame`` (the frame as the data stand now),
    as a warning with their table; nothing when there are none."""
    table = complaints.unmatched(context.store(), context.catalog(), set(frame.rows["voucher"]))
    if table.empty:
        return
    st.warning(f"有 {len(table)} 件已登记的投诉举报，其服务券编号不是抽样框中的项目，不计入任何项目的优先规则："
               "请核对编号，在「我的填报」中更正（或撤回）后再冻结抽样框。")
    st.dataframe(table, hide_index=True, height=board.TABLE_HEIGHT)


def voucher_warning(store: Store, catalog: FormCatalog, form: FormSpec) -> None:
    """On the fill page of the complaints form: a warning when the voucher typed is no project the frame
    is built from (the row can still be saved; the warning says it will count towards nobody)."""
    try:
        if catalog.bindings.kind_of(form.id) != "complaints":
            return
    except FormDefinitionError:  # the bindings do not fit the forms: no frame to check against (the page says why)
        return
    key = catalog.bindings.of("complaints").key("voucher")
    typed = st.session_state.get(state.field_key(form.id, key))
    if typed is None or not str(typed).strip():
        return
    [voucher] = normalize_code(pd.Series([typed], dtype=object))
    if voucher and voucher not in complaints.frame_vouchers(store, catalog):
        where = SOURCE_WORDS[catalog.campaign.sampling.frame]
        st.warning(f"{form.field(key).label} {plain_text(str(typed))} 不在{where}中：登记后不会计入任何项目的优先规则，"
                   "请核对编号。")
