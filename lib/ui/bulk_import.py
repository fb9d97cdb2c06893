"""批量导入（Excel） on the fill page: the form's template to download, the filled file uploaded and checked
row by row (``lib.office.bulk.plan_import``, the form engine's own checks), its problems or a preview of
what would be created and updated, and only after 确认导入 the rows written all or none
(``lib.office.bulk.apply_import``).

Checking reads the whole file, so it runs when 检查文件 is clicked, in the page run itself (not a
callback), where its progress bar is drawn in place. The plan it makes is kept in this session under the
upload's SHA-256, its name and the chosen mode (drafts or submitted): a changed or re-uploaded file, or the
other mode, drops it, and the confirm button is drawn only for the plan of the file on screen. Once
imported the file is shown as done, with no button to import it again, until another file is chosen.

Not every form takes this import: the form the campaign binds as its complaints (``bindings.complaints``)
has its own, stricter one on the sampling page (each complaint on a voucher of the frame, none recorded
twice: they count towards the draw's priorities), so its panel points there instead; a form with a
required file imports as drafts only (no cell holds a file).
"""

from __future__ import annotations

import hashlib
import math

import streamlit as st

from lib.core.records import Actor
from lib.core.statuses import DRAFT
from lib.forms import FormCatalog, FormDefinitionError, FormSpec
from lib.office.bulk import ImportPlan, apply_import, plan_import, safe_file_name
from lib.office.excel import to_xlsx
from lib.office.template import required_files, template_xlsx
from lib.store.base import Store
from lib.ui import board, context, errors, nav, state
from lib.ui.record_view import plain_text
from lib.ui.rows import xlsx_download
from lib.xlsx.bounds import WorkbookLimits

AS_DRAFTS = f"保存为{DRAFT}"
SUBMIT = "直接提交"


def template_name(form: FormSpec) -> str:
    """The template's file name: ``<short title>-导入模板.xlsx``."""
    return f"{form.short_title}-导入模板.xlsx"


def same_rows(form: FormSpec) -> str:
    """What makes a row of the file update one already filed: the form's ``unique`` groups, by their labels.

    >>> from lib.forms import load_catalog
    >>> form = next(f for f in load_catalog("forms").forms() if len(f.unique) == 2)
    >>> same_rows(form).count("相同") == 2 and all(form.field(k).label in same_rows(form) for g in form.unique for k in g)
    True
    """
    if not form.unique:
        return ""
    groups = "，或".join("和".join(f"「{form.field(k).label}」" for k in group) + ("都" if len(group) > 1 else "") + "相同"
                        for group in form.unique)
    return f"与已填报的记录{groups}的行，更新该记录而不重复新增。"


def upload_digest(data: bytes, file_name: str, draft: bool) -> str:
    """What a plan was made for: the file's bytes, its name and the mode (a draft is checked more leniently).

    >>> upload_digest(b"x", "a.xlsx", True) == upload_digest(b"x", "a.xlsx", False)
    False
    """
    return f"{hashlib.sha256(data).hexdigest()}:{file_name}:{'draft' if draft else 'submit'}"


def _forget(form: FormSpec) -> None:
    st.session_state.pop(state.import_plan_key(form.id), None)
    st.session_state.pop(state.import_done_key(form.id), None)


def _check(store: Store, catalog: FormCatalog, form: FormSpec, actor: Actor, data: bytes, file_name: str, digest: str,
           draft: bool) -> None:
    """Check the upload and keep its plan; nothing is written."""
    bar = st.progress(0.0, text="正在检查文件……")

    def progress(done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"正在检查文件……（{done}/{total} 行）")

    settings = context.settings()
    plan = plan_import(store, catalog, form, data, actor, draft=draft, today=settings.campaign_today, progress=progress,
                       limits=WorkbookLimits.from_settings(settings), assignments=context.assignments(actor), file_name=file_name)
    bar.empty()
    st.session_state[state.import_plan_key(form.id)] = {"digest": digest, "plan": plan}


def _confirm(store: Store, form: FormSpec, actor: Actor, plan: ImportPlan, digest: str, draft: bool) -> bool:
    """Write the checked plan, all or nothing; remember the file as imported. True once written."""
    try:
        result = apply_import(store, form, plan, actor, assignments=context.assignments(actor))
    finally:  # written, or refused as the rows changed since the check: either way this plan is spent
        st.session_state.pop(state.import_plan_key(form.id), None)
    st.session_state[state.import_done_key(form.id)] = {"digest": digest, "created": len(result.created),
                                                        "updated": len(result.updated), "draft": draft}
    return True


def _problems(form: FormSpec, plan: ImportPlan, file_name: str) -> None:
    table = plan.table()
    st.error(f"「{plain_text(file_name)}」有 {len(plan.problems) + plan.unlisted} 处问题，未导入任何数据。请按下表（Excel 行号与列名）修改后重新上传。")
    st.dataframe(table, hide_index=True, height=board.TABLE_HEIGHT)
    xlsx_download("导出问题清单", lambda: to_xlsx({"问题清单": table}), file_name=f"{form.short_title}-问题清单.xlsx",
                  key=state.import_key(form.id, "problems"))


def _warnings(plan: ImportPlan) -> None:
    if plan.warnings:
        st.warning(f"有 {len(plan.warnings) + plan.unlisted_warnings} 条填报提醒（不影响导入），请核实：")
        st.dataframe(plan.warnings_table(), hide_index=True, height=board.TABLE_HEIGHT)


def modes(form: FormSpec) -> list[str]:
    """How the rows of ``form`` may be imported: as drafts, or submitted; drafts only for a form with a
    required file (no cell holds a file: every submitted row would lack it).

    >>> from lib.forms import load_catalog
    >>> shipped = load_catalog("forms")
    >>> modes(shipped.form(shipped.bindings.of("projects").form)), modes(shipped.form(shipped.bindings.of("checks").form))
    (['保存为草稿', '直接提交'], ['保存为草稿', '直接提交'])
    >>> [modes(f) for f in shipped.forms() if required_files(f)][0]
    ['保存为草稿']
    """
    return [AS_DRAFTS] if required_files(form) else [AS_DRAFTS, SUBMIT]


def own_import(catalog: FormCatalog, form: FormSpec) -> bool:
    """Whether ``form`` is imported elsewhere, by stricter rules: the campaign's complaint form (its import on
    the sampling page checks each voucher against the frame and refuses a complaint recorded twice).

    >>> from lib.forms import load_catalog
    >>> shipped = load_catalog("forms")
    >>> own_import(shipped, shipped.form(shipped.bindings.of("complaints").form)), own_import(shipped, shipped.form(shipped.bindings.of("projects").form))
    (True, False)
    """
    return catalog.bindings.has("complaints") and catalog.bindings.of("complaints").form == form.id


def panel(store: Store, catalog: FormCatalog, form: FormSpec, actor: Actor) -> None:
    """The expander 批量导入（Excel） for ``form``, which ``actor`` may file (the page has asked)."""
    title = form.short_title
    limit = max(1, math.ceil(context.settings().upload_max_mb))
    try:
        own = own_import(catalog, form)
    except FormDefinitionError as exc:  # campaign.yaml's bindings do not fit the forms: the rest of the page still serves
        st.warning("批量导入暂不可用：活动配置 campaign.yaml 有错误，请管理员修正：\n\n" + "\n".join(f"- {p}" for p in exc.problems))
        return
    if own:
        st.caption(f"「{title}」的批量导入在“随机抽查”页面：那里逐条核对服务券编号是否在抽样框中，并拒绝重复登记的记录。")
        return
    files = required_files(form)
    with st.expander("批量导入（Excel）"):
        st.caption(f"下载导入模板，每行填写一条记录后上传（.xlsx，不超过 {limit} MB）。检查通过后先显示将新增和更新的记录，"
                   "点“确认导入”才写入；任何一行有问题时不导入任何数据。" + same_rows(form))
        xlsx_download("下载导入模板", lambda: template_xlsx(form, catalog.campaign, actor=actor), file_name=template_name(form),
                      key=state.import_key(form.id, "template"))
        upload = st.file_uploader(f"上传填好的{title}（.xlsx，不超过 {limit} MB）", type=["xlsx"],
                                  key=state.import_key(form.id, "file"), max_upload_size=limit)
        if files:  # no cell holds a file: submitted rows would all lack it
            st.info("、".join(f"「{f.label}」" for f in files) + "为必填的文件，无法通过 Excel 导入：导入的记录先保存、不提交，"
                    "请在“我的填报”中打开每条记录上传文件后提交。")
        mode = st.radio("导入后", modes(form), key=state.import_key(form.id, "mode"), horizontal=True,
                        help=f"{AS_DRAFTS}：可在“我的填报”中逐条检查后再提交；{SUBMIT}：每行按提交的要求检查，通过后直接报送。")
        if upload is None:
            _forget(form)  # the file was removed: free what its plan held
            return
        draft = mode == AS_DRAFTS
        data = upload.getvalue()
        digest = upload_digest(data, upload.name, draft)
        done = st.session_state.get(state.import_done_key(form.id))
        kept = st.session_state.get(state.import_plan_key(form.id))
        if (done or kept or {"digest": digest})["digest"] != digest:  # another file, or the other mode
            done = kept = None
            _forget(form)
        if done is not None:
            _done(form, safe_file_name(upload.name), done)
            return
        if st.button("检查文件", key=state.import_key(form.id, "check"), type="primary" if kept is None else "secondary"):
            errors.guarded(_check, "检查导入文件")(store, catalog, form, actor, data, safe_file_name(upload.name), digest, draft)
            kept = st.session_state.get(state.import_plan_key(form.id))
        if kept is None:
            return
        plan: ImportPlan = kept["plan"]
        _warnings(plan)
        if plan.unchanged and not (plan.problems or plan.unlisted or plan.creates or plan.updates):
            st.info(f"文件中的 {len(plan.unchanged)} 条记录与已填报的完全相同，没有需要导入的内容。")
            return
        if not plan.ok:
            _problems(form, plan, plan.file_name)
            return
        creates, updates = len(plan.creates), len(plan.updates)
        same = f"，{len(plan.unchanged)} 条与已填报的相同（不变，不写入）" if plan.unchanged else ""
        st.success(f"检查通过：{creates} 条新增，{updates} 条更新{same}（{mode}）。请核对下表后确认导入。")
        st.dataframe(plan.preview(), hide_index=True, height=board.TABLE_HEIGHT)
        if st.button(f"确认导入 {creates + updates} 条", key=state.import_key(form.id, "confirm"), type="primary"):
            if errors.guarded(_confirm, "确认导入")(store, form, actor, plan, digest, draft):
                st.rerun()  # drawn again as imported, without the preview and its button


def _done(form: FormSpec, file_name: str, done: dict) -> None:
    how = f"保存为{DRAFT}" if done["draft"] else "提交"
    st.success(f"「{plain_text(file_name)}」已导入：新增 {done['created']} 条，更新 {done['updated']} 条（{how}）。"
               "如需导入其他文件，请先移除此文件再上传。")
    nav.go_button("查看我的填报", "pages/my_submissions.py", key=state.import_key(form.id, "mine"), icon="📋", form=form.id)
