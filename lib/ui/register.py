"""The register page's panel: upload, validate and (after confirmation) import one register.

An upload is read and validated once: the result is kept in this session by the hash of the file's
bytes, so the reruns that every click causes (the confirmation button among them) reuse it instead
of reading the workbook again. Once imported, the parsed rows are forgotten and the file is shown as
imported, without the confirmation button, until another file is chosen; a second import of the same
entries from elsewhere (another tab) is refused by ``import_register``.
"""

from __future__ import annotations

import hashlib
import math

import streamlit as st

from lib.auth import Forbidden
from lib.campaign.register import kinds, upload
from lib.campaign.register import store as reg
from lib.core.records import Actor
from lib.office.excel import to_xlsx
from lib.ui import board, context, state
from lib.ui.rows import xlsx_download
from lib.xlsx.bounds import WorkbookLimits


def upload_digest(data: bytes, file_name: str) -> str:
    return hashlib.sha256(data).hexdigest() + ":" + file_name


def parsed_upload(kind: kinds.RegisterKind, data: bytes, file_name: str) -> upload.ParsedRegister:
    """The validated upload, read at most once per distinct file in this session."""
    key = state.register_parsed_key(kind.key)
    digest = upload_digest(data, file_name)
    kept = st.session_state.get(key)
    if kept is not None and kept[0] == digest:
        return kept[1]
    limits = WorkbookLimits.from_settings(context.settings())
    with st.spinner("正在检查上传的文件……"):
        parsed = upload.parse_upload(kind, data, cities=tuple(context.catalog().campaign.cities), file_name=file_name,
                                  limits=limits)
    st.session_state[key] = (digest, parsed)
    return parsed


def _show_problems(parsed: upload.ParsedRegister, file_name: str) -> None:
    kind, frame = parsed.kind, parsed.problems_frame()
    st.error(f"「{file_name}」有 {parsed.problem_count} 处问题，未导入任何数据。请修改后重新上传。")
    st.dataframe(frame, hide_index=True, height=board.TABLE_HEIGHT)
    xlsx_download("导出问题清单", lambda: to_xlsx({"问题清单": frame}), file_name="台账问题清单.xlsx", key=state.register_key(kind.key, "problems"))


def register_panel(kind: kinds.RegisterKind, actor: Actor) -> None:
    """Upload, validate and (after confirmation) import one register; shows the one in force."""
    store = context.store()
    vouchers, projects = board.current_register()
    current = vouchers if kind is kinds.VOUCHERS else projects
    st.caption(f"现行台账：{len(current)} 条（仅含检查范围内的条目）。重新导入将整体替换现行台账。")
    xlsx_download("下载导入模板", lambda: to_xlsx({kind.title: kinds.template_frame(kind)}), file_name=f"{kind.title}_模板.xlsx",
                  key=state.register_key(kind.key, "template"))
    upload = st.file_uploader(f"上传{kind.title}（.xlsx）", type=["xlsx", "xls", "ods"], key=state.register_key(kind.key, "file"),
                              max_upload_size=max(1, math.ceil(context.settings().upload_max_mb)))
    imported = st.session_state.get(state.register_imported_key(kind.key))
    if upload is None:
        st.session_state.pop(state.register_parsed_key(kind.key), None)  # the file was removed: free what it held
        st.session_state.pop(state.register_imported_key(kind.key), None)
    elif imported is not None and imported[0] == upload_digest(upload.getvalue(), upload.name):
        st.success(f"「{upload.name}」已导入 {imported[1].rows} 条（批次 {imported[1].import_id}）。"
                   f"如需导入其他文件，请先移除此文件再上传。")
    else:
        parsed = parsed_upload(kind, upload.getvalue(), upload.name)
        if parsed.problems:
            _show_problems(parsed, upload.name)
        else:
            excluded = f"，按通知排除 {kinds.excluded_text(parsed.excluded)}" if parsed.excluded else ""
            st.success(f"校验通过：工作表「{parsed.sheet_name}」检查范围内 {len(parsed.rows)} 条{excluded}。")
            for warning in parsed.warnings:
                st.warning(str(warning))
            if st.button("确认导入（替换现行台账）", key=state.register_confirm_key(kind.key), type="primary"):
                try:
                    summary_ = reg.import_register(store, parsed, actor, file_name=upload.name)
                except Forbidden as exc:  # refused (and audited) by the one authorisation function
                    st.error(str(exc))
                    return
                except reg.RegisterUnchanged as exc:  # imported already (another tab); nothing written
                    st.info(str(exc.problems[0]))
                    return
                except reg.RegisterImportError as exc:  # a value the store cannot hold; nothing written
                    _show_problems(upload.ParsedRegister(kind, problems=exc.problems), upload.name)
                    return
                # Forget the parsed rows; a rerun shows the file as imported, with no button to import it again.
                st.session_state.pop(state.register_parsed_key(kind.key), None)
                st.session_state[state.register_imported_key(kind.key)] = (upload_digest(upload.getvalue(), upload.name), summary_)
                board.clear_shared()
                st.success(f"已导入 {summary_.rows} 条（批次 {summary_.import_id}），替换原台账 {summary_.replaced} 份。")
    if len(current):
        with st.expander("查看现行台账"):
            board.drill(kinds.display_frame(kind, current), ["地市"], state.register_key(kind.key, "current"), f"{kind.title}.xlsx", kind.title)
