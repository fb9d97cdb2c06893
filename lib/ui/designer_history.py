"""The 表单设计 page's history of one file: its published versions with who, when and the note, the difference of
any two, and 恢复此版本 (lib.designer.rollback: the earlier text published again as a new version, checked as any
publish is); and 停用此文件 (lib.designer.withdraw) for a stray file or a copy of a form."""

from __future__ import annotations

import streamlit as st

from lib import designer
from lib.auth.policy import DESIGN_PUBLISH
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.designer import DesignError
from lib.forms import FormCatalog, versions
from lib.store.base import Store
from lib.ui import designer as editor
from lib.ui import errors, state

#: How the history names where a version came from (the ``origin`` of lib.forms.versions).
ORIGINS = {"seed": "初始文件", "file": "开发者修改文件", "designer": "在线设计", "rollback": "恢复旧版本"}


def _row(record: Record) -> dict[str, object]:
    values = record.values
    return {"版本": versions.number(record), "发布人": record.owner, "单位": record.org,
            "时间": f"{record.updated_at:%Y-%m-%d %H:%M}", "来源": ORIGINS.get(values.get("origin", ""), values.get("origin", "")),
            "说明": values.get("note", "")}


def rollback(store: Store, catalog: FormCatalog, actor: Actor, file: str, version: int, confirmed: bool,
             based_on: int | None = None) -> None:
    """恢复此版本 (``confirmed``: 确认恢复 after the impact on the stored rows was shown): the version published again
    as the newest, then loaded into the text area. Unconfirmed and changing stored rows, it asks first, noting the
    version served then: 确认恢复 passes it as ``based_on``, so a version published meanwhile (whose changes the
    impact shown did not include) makes the restore stale instead of undoing it unseen."""
    st.session_state.pop(state.DESIGNER_ROLLBACK_ASK, None)
    note = (st.session_state.get(state.DESIGNER_ROLLBACK_NOTE) or "").strip()
    served = versions.latest(store, file)  # read before the impact is: a version coming in between makes 确认恢复 stale
    try:
        record = designer.rollback(store, catalog, actor, file, version, note, confirmed, based_on)
    except DesignError as exc:
        if exc.code == "design_unconfirmed" and exc.impact is not None:
            st.session_state[state.DESIGNER_ROLLBACK_ASK] = {"file": file, "version": version, "lines": exc.impact.lines(),
                                                             "based_on": versions.number(served) if served is not None else 0}
            editor.tell("warning", f"恢复第 {version} 版会影响已填报的数据，请在“历史版本”中核对后点击“确认恢复”。")
        else:
            editor.tell("error", str(exc))
        return
    except AppError as exc:
        editor.tell("error", str(exc))
        return
    editor.open_file(store, actor, file, served_only=True)
    st.session_state[state.DESIGNER_ROLLBACK_NOTE] = ""
    editor.tell("success", f"已将 {file} 第 {version} 版恢复为第 {versions.number(record)} 版并发布。")


def withdraw(store: Store, catalog: FormCatalog, actor: Actor, file: str, based_on: int) -> None:
    """停用此文件 (the box ticked): the file served no more (lib.designer.withdraw, which refuses a bound form,
    one holding rows and campaign.yaml), then the page opens another file."""
    st.session_state[state.DESIGNER_WITHDRAW_SURE] = False
    try:
        record = designer.withdraw(store, catalog, actor, file, based_on)
    except AppError as exc:
        editor.tell("error", str(exc))
        return
    st.session_state.pop(state.DESIGNER_FILE, None)
    editor.tell("success", f"已停用 {file}（第 {versions.number(record)} 版）：各服务器不再使用这个文件；"
                           "需要时在“历史版本”中查看，或重新发布它的内容即可恢复。")


def withdraw_section(store: Store, catalog: FormCatalog, actor: Actor, file: str) -> None:
    """停用此文件, for whoever publishes and a form file (not campaign.yaml): a stray file or a copy of a form."""
    if file == designer.CAMPAIGN_FILE or not editor.may(catalog, actor, DESIGN_PUBLISH) or versions.latest(store, file) is None:
        return
    with st.expander("停用此文件"):
        st.caption("用于误放进 forms 文件夹的文件或表单的副本：停用后各服务器不再使用它，版本记录保留。"
                   "活动配置绑定的表单和已有记录的表单不能停用。")
        sure = st.checkbox(f"确认停用 {file}", key=state.DESIGNER_WITHDRAW_SURE)
        st.button("停用此文件", key=state.DESIGNER_WITHDRAW, on_click=errors.guarded(withdraw), disabled=not sure,
                  args=(store, catalog, actor, file, versions.last_number(store, file)))


def section(store: Store, catalog: FormCatalog, actor: Actor, file: str) -> None:
    """历史版本: the published versions, newest first; the difference of two chosen; 恢复此版本."""
    published = designer.history(store, file)[::-1]  # newest first
    with st.expander(f"历史版本（{len(published)} 个）"):
        if not published:
            st.info("这个文件还没有发布过的版本。")
            return
        st.dataframe([_row(r) for r in published], hide_index=True, width="stretch")
        texts = {versions.number(r): r.values["text"] for r in published}
        numbers = list(texts)
        left, right = st.columns(2)
        older = left.selectbox("版本", numbers, index=min(1, len(numbers) - 1), key=state.DESIGNER_HISTORY_A,
                               format_func=lambda v: f"第 {v} 版")
        newer = right.selectbox("对比版本", numbers, index=0, key=state.DESIGNER_HISTORY_B, format_func=lambda v: f"第 {v} 版")
        change = designer.diff(texts[older], texts[newer], f"第 {older} 版", f"第 {newer} 版")
        if change:
            st.code(change, language="diff")
        else:
            st.caption("两个版本内容相同。")
        if not editor.may(catalog, actor, DESIGN_PUBLISH) or older == numbers[0]:
            return
        st.text_input("恢复说明", key=state.DESIGNER_ROLLBACK_NOTE, max_chars=200, placeholder=f"恢复第 {older} 版")
        st.button(f"恢复此版本（第 {older} 版）", key=state.DESIGNER_ROLLBACK, on_click=errors.guarded(rollback),
                  args=(store, catalog, actor, file, older, False), help="把这个版本的内容发布为最新版本；发布前同样检查表单与已填报的数据")
        asked = st.session_state.get(state.DESIGNER_ROLLBACK_ASK)
        if asked and asked["file"] == file and asked["version"] == older:
            st.markdown("**恢复后对已填报数据的影响：**\n\n" + editor.shown([], asked["lines"]))
            st.button(f"确认恢复第 {older} 版", key=state.DESIGNER_ROLLBACK_CONFIRM, on_click=errors.guarded(rollback),
                      args=(store, catalog, actor, file, older, True, asked.get("based_on")), type="primary")
