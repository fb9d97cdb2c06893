"""The 表单设计 page's editor: a form or campaign file's YAML in a text area, its problems with line and field on
every run, the form drawn beside it with the fill page's own widgets, the palette, and 保存草稿 / 检查 / 发布.

The YAML stays the truth: the palette writes YAML (lib.designer.add_field_yaml) into the text area, and what is
saved, checked and published is the text. The text area is Streamlit's own (no code-editor component to vet and
pin; it works in WPS's browser and on phones). The preview draws the form under the key space
``state.DESIGNER_PREVIEW`` (lib.ui.widgets' ``space``), so trying it out never touches a filler's answers; while the
text has problems it keeps drawing the last text that had none, and says so.

What the text area holds belongs to one file and the version it started from (``state.DESIGNER_OPENED``): the
account's live draft of the file if it has one, else the version served. 发布 shows what the change means for the
stored rows (lib.designer.impact) and publishes only on 确认发布 of that same text; a text changed after the check
is checked again. The history (versions, diffs, 恢复此版本) is lib.ui.designer_history.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lib import designer
from lib.auth.policy import DESIGN_DRAFT, DESIGN_PUBLISH, DESIGN_READ, can
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.core.statuses import DRAFT
from lib.designer.drafts import drafting
from lib.forms import FormCatalog, FormSpec, versions
from lib.forms.loader import CAMPAIGN_FILE
from lib.forms.types import REGISTRY
from lib.store.base import ConflictError, Store
from lib.ui import errors, state, widgets
from lib.ui.record_view import plain_text

#: How the palette names each field type (every type of lib.forms.types.REGISTRY but ``table``, whose
#: sub-fields the palette cannot describe: a table is written in the YAML).
TYPE_NAMES = {
    "text": "单行文字", "textarea": "多行文字", "integer": "整数", "decimal": "小数", "money": "金额（两位小数）",
    "percent": "百分比", "date": "日期", "select": "单选", "multiselect": "多选", "boolean": "是/否",
    "phone": "电话号码", "email": "电子邮箱", "credit_code": "统一社会信用代码", "city": "地市", "file": "附件（照片、PDF）",
}
MAX_PROBLEMS_SHOWN = 30  # a text broken everywhere lists its first problems; the rest is counted


def text() -> str:
    """The YAML in the text area now."""
    return st.session_state.get(state.DESIGNER_TEXT) or ""


def opened() -> dict | None:
    """{"file", "form_id", "based_on", "draft"} of what the text area holds: the file, the form it serves, the
    published version the edit started from (0 for a new file) and the revision of the account's draft saved (None:
    none yet), so a save from a tab that did not see the latest one is refused rather than overwriting it."""
    return st.session_state.get(state.DESIGNER_OPENED)


def tell(kind: str, *lines: str, items: list[str] | tuple[str, ...] = ()) -> None:
    """Show ``lines``, then ``items`` as a list, at the buttons (``kind``: success, error, info or warning) until the
    next action."""
    st.session_state[state.DESIGNER_OUTCOME] = {"kind": kind, "lines": [str(x) for x in lines], "items": [str(x) for x in items]}


def shown(lines: list[str], items: list[str] | tuple[str, ...] = ()) -> str:
    """Lines and a list as Markdown, every word as written: a problem quotes the YAML, an error a stored value, and
    neither may bring a link or an image to the page (record_view.plain_text)."""
    head = "\n\n".join(plain_text(line) for line in lines)
    return head + ("\n\n" if head and items else "") + "\n".join(f"- {plain_text(item)}" for item in items)


def _problem_items(found: list) -> list[str]:
    items = [str(p) for p in found[:MAX_PROBLEMS_SHOWN]]
    if len(found) > MAX_PROBLEMS_SHOWN:
        items.append(f"另有 {len(found) - MAX_PROBLEMS_SHOWN} 个问题未列出，请先修正以上问题。")
    return items


def _load(file: str, form_id: str, body: str, based_on: int, draft: int | None) -> None:
    st.session_state[state.DESIGNER_TEXT] = body
    st.session_state[state.DESIGNER_OPENED] = {"file": file, "form_id": form_id, "based_on": based_on, "draft": draft}
    for key in (state.DESIGNER_IMPACT, state.DESIGNER_SHOWN):
        st.session_state.pop(key, None)


def files(store: Store, catalog: FormCatalog, actor: Actor) -> dict[str, str]:
    """{file name: how the picker names it} of the served files ``actor`` may open: every one for the province and
    the admin; for a city, the forms it fills when the campaign lets cities draft (DESIGN_READ)."""
    picker: dict[str, str] = {}
    for file, record in sorted(versions.served(versions.versions(store)).items()):
        form_id = record.values.get("form_id") or ""
        form = next((f for f in catalog.forms() if f.id == form_id), None)
        allowed = can(actor, DESIGN_READ, form, drafting(catalog)) if form_id else can(actor, DESIGN_READ)
        if allowed:
            picker[file] = f"{file}（{form.title}）" if form is not None else file
    return picker


def open_file(store: Store, actor: Actor, file: str, *, served_only: bool = False) -> None:
    """Put ``file`` into the text area: the account's live draft of it (unless ``served_only``), else the served
    version; and the version it starts from."""
    served = versions.latest(store, file)
    draft = None if served_only else designer.draft_of(store, actor, file)
    form_id = served.values.get("form_id") or "" if served is not None else ""
    if draft is not None:
        _load(file, form_id, draft.values["text"], int(draft.values["based_on"] or 0), draft.rev)
    elif served is not None:
        _load(file, form_id, served.values["text"], versions.number(served), None)
    else:
        _load(file, form_id, "", 0, None)


def may(catalog: FormCatalog, actor: Actor, action: str) -> bool:
    """Whether ``actor`` may do ``action`` (a DESIGN_* action) to the file the text area holds."""
    form_id = opened()["form_id"]
    form = next((f for f in catalog.forms() if f.id == form_id), None) if form_id else None
    return can(actor, action, form, drafting(catalog))


def belong_to(actor: Actor) -> None:
    """Forget the page's state of another account (an expired session, then another account signed in on the same
    tab): a text being edited is the account's own, as a filler's answers are."""
    if st.session_state.get(state.DESIGNER_ACCOUNT, actor.account) != actor.account:
        for key in [k for k in st.session_state if str(k).startswith(state.DESIGNER_PREFIX)]:
            del st.session_state[key]
    st.session_state[state.DESIGNER_ACCOUNT] = actor.account


def follow(store: Store, actor: Actor, file: str) -> None:
    """Open the file chosen, unless the text area holds it already (its edits stay across reruns). The edits of the
    file left are kept aside for this session and come back when it is chosen again."""
    held = opened()
    if held is not None and held["file"] == file and state.DESIGNER_TEXT in st.session_state:
        return
    aside = st.session_state.setdefault(state.DESIGNER_ASIDE, {})
    if held is not None:
        aside[held["file"]] = {"opened": held, "text": text()}
    back = aside.pop(file, None)
    if back is None:
        open_file(store, actor, file)
    else:
        _load(file, back["opened"]["form_id"], back["text"], back["opened"]["based_on"], back["opened"]["draft"])


def discard(store: Store, actor: Actor, file: str) -> None:
    """放弃修改: the served version back in the text area (a draft saved stays in the store: lib.designer has no
    discarding of it yet, so the next session opens it again)."""
    open_file(store, actor, file, served_only=True)
    tell("info", f"已载入 {file} 当前使用的版本，未保存的修改已放弃。")


def save(store: Store, catalog: FormCatalog, actor: Actor) -> None:
    """保存草稿: the text as the account's draft of the file (problems and all: a draft may be unfinished)."""
    held = opened()
    try:
        record = designer.save_draft(store, catalog, actor, held["file"], text(), held["based_on"], base_rev=held["draft"])
    except ConflictError:
        tell("error", f"您的 {held['file']} {DRAFT}刚在另一个窗口保存过，这里的内容没有保存，以免覆盖它："
                      f"请先复制这里的修改，再刷新页面载入最新的{DRAFT}。")
        return
    except AppError as exc:
        tell("error", str(exc))
        return
    held["draft"] = record.rev
    tell("success", f"草稿已保存（{held['file']}，{record.updated_at:%Y-%m-%d %H:%M:%S}）。发布之前，填报人看到的仍是当前版本。")


def check(store: Store, catalog: FormCatalog) -> None:
    """检查: the text's problems, or what publishing it would mean for the stored rows."""
    held = opened()
    found = designer.check_draft(catalog, held["file"], text()).problems
    if found:
        tell("error", f"{held['file']} 有 {len(found)} 个问题，不能发布：", items=_problem_items(found))
        return
    try:
        lines = designer.impact(store, catalog, held["file"], text()).lines()
    except AppError as exc:
        tell("error", str(exc))
        return
    tell("success", "检查通过，可以发布。", "发布后对已填报数据的影响：" if lines else "对已填报的数据没有影响。", items=lines)


def ask_publish(store: Store, catalog: FormCatalog) -> None:
    """发布: check the text; show what it would mean for the stored rows, with 确认发布 and a note."""
    held = opened()
    body = text()
    found = designer.check_draft(catalog, held["file"], body).problems
    st.session_state.pop(state.DESIGNER_IMPACT, None)
    if found:
        tell("error", f"{held['file']} 有 {len(found)} 个问题，未发布：", items=_problem_items(found))
        return
    try:
        lines = designer.impact(store, catalog, held["file"], body).lines()
    except AppError as exc:
        tell("error", str(exc))
        return
    st.session_state.pop(state.DESIGNER_OUTCOME, None)
    st.session_state[state.DESIGNER_IMPACT] = {"file": held["file"], "sha256": versions.sha256(body), "lines": lines}


def confirm_publish(store: Store, catalog: FormCatalog, actor: Actor) -> None:
    """确认发布: publish the text the impact was shown for (a text changed since is checked again)."""
    held, asked, body = opened(), st.session_state.get(state.DESIGNER_IMPACT), text()
    if not asked:  # a second click after the publish went through: its outcome stays on screen
        return
    if asked["file"] != held["file"] or asked["sha256"] != versions.sha256(body):
        st.session_state.pop(state.DESIGNER_IMPACT, None)
        tell("warning", "内容在检查之后又修改过，未发布：请再点一次“发布”，核对新内容的影响后再确认。")
        return
    note = (st.session_state.get(state.DESIGNER_NOTE) or "").strip()
    try:
        record = designer.publish(store, catalog, actor, held["file"], body, held["based_on"], note, True)
    except AppError as exc:
        tell("error", str(exc))
        return
    version = int(record.values["version"])
    _load(held["file"], record.values.get("form_id") or "", record.values["text"], version, None)
    st.session_state[state.DESIGNER_NOTE] = ""
    tell("success", f"已发布 {held['file']} 第 {version} 版。各服务器在缓存周期内改用新版本，填报人下次打开表单即可看到。")


def add_field() -> None:
    """The palette's 加入字段: a field block written into the YAML at the end of the section chosen. A key left
    blank is made up (``field``, ``field_2`` …), so no one has to invent one."""
    get = st.session_state.get
    kind = get(state.designer_palette_key("type"))
    field: dict[str, Any] = {"key": (get(state.designer_palette_key("key")) or "").strip(),
                             "label": (get(state.designer_palette_key("label")) or "").strip(), "type": kind}
    if get(state.designer_palette_key("required")):
        field["required"] = True
    if kind in REGISTRY and REGISTRY[kind].has_choices:
        field["choices"] = [c.strip() for c in (get(state.designer_palette_key("choices")) or "").splitlines() if c.strip()]
    if (get(state.designer_palette_key("help")) or "").strip():
        field["help"] = get(state.designer_palette_key("help")).strip()
    if not field["label"]:
        tell("error", "请填写新字段的“标题”。")
        return
    try:
        field["key"] = field["key"] or designer.free_key(text(), "field")
        st.session_state[state.DESIGNER_TEXT] = designer.add_field_yaml(text(), get(state.designer_palette_key("section")), field,
                                                                        opened()["file"])
    except AppError as exc:
        tell("error", str(exc))
        return
    for part in ("key", "label", "choices", "help"):
        st.session_state[state.designer_palette_key(part)] = ""
    st.session_state[state.designer_palette_key("required")] = False
    tell("success", f"已加入字段「{field['label']}」（{field['key']}）：见左侧 YAML 与右侧预览，保存草稿或发布后生效。")


def checked(catalog: FormCatalog) -> designer.DraftCheck:
    """The text area's text checked as the next version of its file (lib.designer.check_draft): once per run, for
    the problems under the editor, the preview and the palette."""
    return designer.check_draft(catalog, opened()["file"], text())


def preview_form(catalog: FormCatalog, found: designer.DraftCheck) -> tuple[FormSpec | None, bool]:
    """The form the text describes, or the form of the last text of the file that had no problems: (form, current).
    None when there is neither (or the file is the campaign's)."""
    file = found.file
    if found.form is not None and found.ok:
        st.session_state[state.DESIGNER_SHOWN] = {"file": file, "text": text()}
        return found.form, True
    last = st.session_state.get(state.DESIGNER_SHOWN)
    if last and last["file"] == file:
        return designer.check_draft(catalog, file, last["text"]).form, False
    return None, False


def editor(store: Store, catalog: FormCatalog, actor: Actor, found: designer.DraftCheck) -> None:
    """The text area and, under it, the problems of what it holds (parse, checks, campaign bindings); a version
    published since the edit began is named at once, not only when 发布 is refused."""
    held = opened()
    served = versions.latest(store, held["file"])
    if served is not None and versions.number(served) > held["based_on"]:
        st.warning(f"{held['file']} 已有更新的版本：{versions.published_by(served)}，这里的修改基于第 {held['based_on']} 版。"
                   "发布前请先复制这里的修改，点击“放弃修改”载入最新版本，再把修改加进去。")
    # No max_chars: the browser would cut a long paste silently, and a YAML cut short may still read as another form;
    # the whole text comes to the server, whose check refuses it, naming the limit (lib.forms.versions.check_text).
    st.text_area(f"{held['file']} 的 YAML", key=state.DESIGNER_TEXT, height=560,
                 disabled=not may(catalog, actor, DESIGN_DRAFT), help="按 Ctrl+Enter（或点击文本框外）后检查并更新预览。")
    start = f"修改自第 {held['based_on']} 版" if held["based_on"] else "新文件"
    st.caption(start + (f"（您的{DRAFT}，已保存在系统中）" if held["draft"] else ""))
    if found.problems:
        st.error(shown([f"有 {len(found.problems)} 个问题（修正前不能发布）："], _problem_items(list(found.problems))))
    else:
        st.success("没有发现问题。")


def preview(catalog: FormCatalog, found: designer.DraftCheck) -> None:
    """The form as a filler will see it, with the fill page's widgets (relevance and calculations live)."""
    if found.file == CAMPAIGN_FILE:
        st.info(f"{CAMPAIGN_FILE} 是活动配置，没有表单预览；发布前会检查它与各表单的绑定。")
        return
    form, current = preview_form(catalog, found)
    if form is None:
        st.info("YAML 修正后在这里显示表单预览。")
        return
    if not current:
        st.warning("当前内容有问题，预览显示的是最后一次没有问题的内容。")
    files = [f.label for f in form.all_fields() if f.type == "file"]
    st.caption("预览：在这里填写只用于试用，不会保存，也不会影响任何人的填报。"
               + (f"文件字段（{'、'.join(files)}）在预览中不能上传：上传的文件会存到服务器上。" if files else ""))
    with st.container(border=True):
        st.markdown(f"#### {plain_text(form.title)}")
        if form.description:
            st.info(form.description)
        # Fields the filler's account answers are drawn locked, as the fill page draws them (blank: no account here);
        # file fields too: an upload is stored on the server as it is taken, and nothing here is ever saved.
        account = {f.key: None for f in form.all_fields() if f.from_account or f.type == "file"}
        widgets.render_form(form, catalog.campaign.cities, locked=account, space=state.DESIGNER_PREVIEW)


def palette(catalog: FormCatalog, actor: Actor, found: designer.DraftCheck) -> None:
    """加入字段 for someone who does not write YAML: type, title, required, choices, help → a field block."""
    form, _ = preview_form(catalog, found) if found.file != CAMPAIGN_FILE else (None, True)
    if form is None or not may(catalog, actor, DESIGN_DRAFT):
        return
    with st.expander("添加字段（不写 YAML 也可以）"):
        with st.form(state.designer_palette_key("form")):
            sections = {s.key: s.title for s in form.sections}
            st.selectbox("加到哪一部分（末尾）", list(sections), format_func=lambda k: sections[k],
                         key=state.designer_palette_key("section"))
            types = [t for t in REGISTRY if t != "table"]
            st.selectbox("类型", types, format_func=lambda t: TYPE_NAMES.get(t, t), key=state.designer_palette_key("type"))
            st.text_input("标题", key=state.designer_palette_key("label"), help="填报人看到的字段名称")
            st.text_input("字段键（可留空）", key=state.designer_palette_key("key"),
                          help="数据表中这一列的名称：英文字母开头，可含数字和下划线，例如 contact_email；留空则自动生成。"
                               "发布后不要再改（需要改名时在 YAML 中写 replaces）")
            st.checkbox("必填", key=state.designer_palette_key("required"))
            st.text_area("选项（单选、多选用，每行一个）", key=state.designer_palette_key("choices"))
            st.text_input("填写说明", key=state.designer_palette_key("help"))
            st.form_submit_button("加入字段", on_click=errors.guarded(add_field))


def actions(store: Store, catalog: FormCatalog, actor: Actor) -> None:
    """保存草稿 / 检查 / 发布 / 放弃修改, the outcome of the last one, and the impact waiting for 确认发布."""
    held = opened()
    save_col, check_col, publish_col, discard_col = st.columns(4)
    save_col.button("保存草稿", key=state.DESIGNER_SAVE, on_click=errors.guarded(save), args=(store, catalog, actor),
                    disabled=not may(catalog, actor, DESIGN_DRAFT), width="stretch")
    check_col.button("检查", key=state.DESIGNER_CHECK, on_click=errors.guarded(check), args=(store, catalog), width="stretch")
    publish_col.button("发布", key=state.DESIGNER_PUBLISH, on_click=errors.guarded(ask_publish), args=(store, catalog),
                       disabled=not may(catalog, actor, DESIGN_PUBLISH), type="primary", width="stretch")
    discard_col.button("放弃修改", key=state.DESIGNER_DISCARD, on_click=errors.guarded(discard), args=(store, actor, held["file"]),
                       width="stretch", help=f"放弃未保存的修改，载入当前使用的版本（已保存的{DRAFT}不删除，下次打开时仍载入）")
    done = st.session_state.get(state.DESIGNER_OUTCOME)
    if done:
        getattr(st, done["kind"])(shown(done["lines"], done["items"]))
    asked = st.session_state.get(state.DESIGNER_IMPACT)
    if asked and asked["file"] == held["file"]:
        with st.container(border=True):
            st.markdown("**发布前请确认对已填报数据的影响：**")
            st.markdown(shown([], asked["lines"]) if asked["lines"] else "对已填报的数据没有影响。")
            st.text_input("发布说明（写明改了什么、为什么改）", key=state.DESIGNER_NOTE, max_chars=200)
            st.button("确认发布", key=state.DESIGNER_CONFIRM, on_click=errors.guarded(confirm_publish), args=(store, catalog, actor),
                      type="primary")
