"""The register page's panel: upload, validate and (after confirmation) import one register of the
served campaign (its kinds, titles, headers and scope words from ``campaign.yaml``).

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
from lib.auth.policy import IMPORT, can
from lib.campaign.register import kinds, upload
from lib.campaign.register import store as reg
from lib.core import roles
from lib.core.records import Actor
from lib.office.excel import to_xlsx
from lib.ui import board, board_data, context, state
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
        parsed = upload.parse_upload(kind, data, file_name=file_name, limits=limits)
    st.session_state[key] = (digest, parsed)
    return parsed


def _show_problems(parsed: upload.ParsedRegister, file_name: str) -> None:
    kind, frame = parsed.kind, parsed.problems_frame()
    st.error(f"「{file_name}」有 {parsed.problem_count} 处问题，未导入任何数据。请修改后重新上传。")
    st.dataframe(frame, hide_index=True, height=board.TABLE_HEIGHT)
    xlsx_download("导出问题清单", lambda: to_xlsx({"问题清单": frame}), file_name="台账问题清单.xlsx", key=state.register_key(kind.key, "problems"))


def served_registers() -> list[kinds.RegisterKind]:
    """The served campaign's registers. When its registers or bindings do not fit its forms, the
    catalog's FormDefinitionError (campaign.yaml's line and key) is raised for the page to show."""
    catalog = context.catalog()
    if catalog.campaign.registers is not None and catalog.bindings is not None:  # catalog.bindings raises when broken
        return list(kinds.register_kinds(catalog.campaign).values())
    return []


def importers() -> str:
    """Who may import the registers (the policy decides), as the served campaign names those roles."""
    names = context.catalog().campaign.roles
    return "、".join(names[role] for role in roles.ALL if can(Actor("", role), IMPORT))


def scope_note(registers: list[kinds.RegisterKind]) -> str:
    """What the import leaves out, in the campaign's words.

    >>> from types import SimpleNamespace as K
    >>> print(scope_note([K(title="甲清单", out_of_scope=("作废",), outside=("某市",)), K(title="乙清单", out_of_scope=(), outside=())]))
    按通知要求，甲清单中“作废”的条目、地市为“某市”的条目不在检查范围内，导入时自动排除并按 Excel 行号列出。任何一行有问题时不导入任何数据，并按 Excel 行号列出问题。
    """
    parts = []
    for kind in registers:
        said = [f"“{'、'.join(kind.out_of_scope)}”的条目"] if kind.out_of_scope else []
        said += [f"地市为“{'、'.join(kind.outside)}”的条目"] if kind.outside else []
        if said:
            parts.append(f"{kind.title}中" + "、".join(said))
    excluded = f"按通知要求，{'；'.join(parts)}不在检查范围内，导入时自动排除并按 Excel 行号列出。" if parts else ""
    return excluded + "任何一行有问题时不导入任何数据，并按 Excel 行号列出问题。"


def _outdated_warning(kind: kinds.RegisterKind) -> None:
    """Say so when the register in force was stored under other column keys and must be imported again."""
    store = context.store()
    if reg.outdated(store.snapshot(kind.sheet_id), store.snapshot(reg.IMPORTS_SHEET.form_id), kind):
        st.warning(f"现行{kind.title}是按旧版格式导入的，系统无法读取，按无台账处理。请重新导入{kind.title}。")


def register_panel(kind: kinds.RegisterKind, actor: Actor) -> None:
    """Upload, validate and (after confirmation) import one register; shows the one in force."""
    store = context.store()
    vouchers, projects = board_data.current_register()
    current = vouchers if kind.key == "vouchers" else projects
    _outdated_warning(kind)
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
            if parsed.excluded:
                with st.expander(f"按通知排除的条目（{sum(parsed.excluded.values())} 行）"):
                    st.dataframe(parsed.excluded_frame(), hide_index=True, height=board.TABLE_HEIGHT)
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
                board_data.clear_shared()
                st.success(f"已导入 {summary_.rows} 条（批次 {summary_.import_id}），替换原台账 {summary_.replaced} 份。")
    if len(current):
        with st.expander("查看现行台账"):
            board.drill(kinds.display_frame(kind, current), [kind.column("city").header], state.register_key(kind.key, "current"),
                        f"{kind.title}.xlsx", kind.title)
