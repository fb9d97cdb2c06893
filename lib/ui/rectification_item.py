"""One rectification item on the page (全面整改): what was found, its status and 逾期 flag (and, while it is
back with its party, why the city returned it), its checklist (a tick per step, a text box for a text step,
an uploader and a 删除 per file for a file step, each step saved on its own: the party's steps by the party
while the item is its own, the city's steps by the city while it verifies), its violations and its
history; and only the buttons ``lifecycle.actions_for`` allows the viewer (提交整改材料, 通过 / 退回 with a
reason, 销号), plus 记录违规处理 for the province. A link to an item the viewer may not read (``?item=``)
is refused through ``scope.get_item`` (audited 拒绝访问) and said so.

Every action is a callback calling ``lib.rectification.lifecycle`` with the revision shown (a stale one is
refused, naming who changed the item); its outcome is kept under ``state.rectify_outcome_key("item")`` and
shown above the item until the next action. Files are checked and stored by ``lifecycle.tick``
(``take_file``: by their content, within the size limit); an evidence file is served only to a viewer who
may see the item (the item is one of ``visible_items``) and only a file the item names.
"""

from __future__ import annotations

import functools

import pandas as pd
import streamlit as st

from lib.auth.policy import RECTIFY_GENERATE, can
from lib.core.blobs import BlobMissing
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.values import text
from lib.forms.display import file_text
from lib.forms.rectification import CITY_STEP, Category, Rectification
from lib.rectification import lifecycle as lc
from lib.rectification import lists as rl
from lib.rectification.generate import PARTY_WORDS
from lib.rectification.records import CLOSED, HANDLINGS, IN_PROGRESS, RECOVERY, SUBMITTED, overdue
from lib.rectification.scope import get_item
from lib.ui import context, errors, rectification_admin, state
from lib.ui.record_view import plain_text
from lib.ui.rectification import outcome, show_outcome, today
from lib.ui.widgets import stored_files

TITLE = rl.TITLE


def pick(actor: Actor, items: list[Record]) -> Record | None:
    """A selectbox over ``items`` (the lists' narrowed items), each named by its 整改编号, party, status and
    逾期 flag; the item chosen, or None when there are none. An item chosen that is not among them (a
    link, or one narrowed away) is asked of ``scope.get_item``: one the viewer may not read is refused
    there (audited) and the refusal shown; either way the picker chooses afresh."""
    by_id = {i.id: i for i in items}
    wanted = st.session_state.get(state.RECTIFY_PICK)
    if wanted is not None and wanted not in by_id:
        st.session_state.pop(state.RECTIFY_PICK, None)
        try:
            get_item(context.store(), actor, str(wanted))
        except AppError as exc:  # another organisation's or city's item, or none
            st.error(str(exc))
    if not by_id:
        return None
    day = today()

    def name(item_id: str) -> str:
        item = by_id[item_id]
        late = f" · {rl.LATE}" if overdue(item.status, item.values.get("due"), day) else ""
        return f"{item.values.get('item_id')} · {item.values.get('party')} · {item.status}{late}"

    return by_id[st.selectbox("选择整改事项", list(by_id), key=state.RECTIFY_PICK, format_func=name)]


def _act(action, *args, **kwargs) -> bool:
    """Run one lifecycle write; its refusal (a Chinese message: wrong status, missing evidence, a stale
    revision, a refused file or role) is the outcome, and nothing was written. Whether it was written."""
    try:
        action(context.store(), context.catalog(), *args, **kwargs)
    except AppError as exc:
        outcome("item", "error", str(exc))
        return False
    outcome("item", "success", SAID[action])
    return True


def _tick(actor: Actor, item: Record, step: str, evidence: str) -> None:
    key = functools.partial(state.rectify_step_key, f"{item.id}:{item.rev}", step)
    uploads = st.session_state.get(key("files")) or []
    _act(lc.tick, actor, item.id, item.rev, step, bool(st.session_state.get(key("done"))),
         text=st.session_state.get(key("text")) if evidence == "text" else None,
         files=[(u.name, u) for u in uploads], blobs=stored_files())


def _remove(actor: Actor, item: Record, step: str, sha256: str) -> None:
    _act(lc.remove_file, actor, item.id, item.rev, step, sha256)


def _verify(actor: Actor, item: Record, accept: bool) -> None:
    reason = "" if accept else st.session_state.get(state.RECTIFY_REASON) or ""
    if _act(lc.verify, actor, item.id, item.rev, accept, reason):
        st.session_state.pop(state.RECTIFY_REASON, None)  # the next item starts without this one's reason


def _violation(actor: Actor, item: Record) -> None:
    key = state.rectify_violation_key
    if _act(lc.record_violation, actor, item.id, item.rev, st.session_state.get(key("kind")),
            st.session_state.get(key("reference")) or "", st.session_state.get(key("amount")) or None):
        for part in ("amount", "reference"):  # the next violation starts from an empty form
            st.session_state.pop(key(part), None)


SAID = {lc.tick: "已保存此步骤。", lc.remove_file: "已删除该文件（处理记录中留有记录）。", lc.submit: f"{SUBMITTED}，等待地市核实。", lc.verify: "已记录地市核实结果。", lc.close: f"{CLOSED}。",
        lc.record_violation: "已记录违规处理。"}


def facts(item: Record, declared: Rectification) -> None:
    """What the item is: its id, category, city, party, project, finding, status, due date and 逾期 flag;
    while it is back with its party (整改中 after a return), the city's reason. A verified or closed item
    keeps its last reason in the store and its 处理记录, not as a warning."""
    v = item.values
    late = overdue(item.status, v.get("due"), today())
    names = {c.key: c.name for c in declared.categories}
    st.markdown(f"#### {plain_text(str(v.get('item_id')))}　{item.status}" + ("　:red-badge[逾期]" if late else ""))
    shown = {TITLE["category"]: names.get(v.get("category"), v.get("category")), TITLE["city"]: v.get("city"),
             TITLE["party"]: f"{text(v.get('party'))}（{PARTY_WORDS.get(v.get('party_kind'), v.get('party_kind'))}）",
             TITLE["actor_org"]: v.get("actor_org"), rl.PROJECT: rl.project_text(v), TITLE["due"]: text(v.get("due")),
             rl.LATE: rl.YES if late else rl.NO}
    st.dataframe(pd.DataFrame([{k: text(x) for k, x in shown.items()}]), hide_index=True)
    st.caption(TITLE["finding"])
    st.text(text(v.get("finding")))  # plain text: what people typed is never markdown
    if v.get("reason") and item.status == IN_PROGRESS:  # only a return sets it, and only a return leaves it 整改中
        st.warning(f"地市退回原因：{plain_text(text(v['reason']))}")


def _files(actor: Actor, item: Record, step: str, works: bool) -> None:
    """The step's evidence files, each downloadable (read when clicked, from the item's own list), each
    with 删除 while the viewer works on the step (a wrong file withdrawn, a returned item's replaced)."""
    blobs = stored_files()
    for found in item.values.get("evidence") or []:
        if not isinstance(found, dict) or found.get("step") != step:
            continue
        name, remove = st.columns([5, 1]) if works else (st, None)
        try:
            blobs.require(found["sha256"])
        except BlobMissing as missing:  # named by the item, absent from the folder (a restore without data/files/)
            name.warning(f"「{plain_text(str(found.get('name')))}」：{missing}")
        else:
            name.download_button(f"下载 {plain_text(file_text(found))}", functools.partial(blobs.read, found["sha256"]),
                                 file_name=found.get("name") or "文件", mime=found.get("type"),
                                 on_click="ignore", key=state.rectify_file_key(item.id, step, found["sha256"]))
        if remove is not None:
            remove.button("删除", key=state.rectify_action_key(item.id, f"remove:{step}:{found['sha256'][:16]}"),
                          on_click=errors.guarded(_remove), args=(actor, item, step, found["sha256"]))


def checklist(actor: Actor, item: Record, category: Category, actions: tuple[str, ...]) -> None:
    """One block per step: its tick, its text or files, and 保存此步骤 while the viewer may work on that step
    (``lifecycle.works_on``: the party its own steps, the city its steps as it verifies); a city's step
    says it is the city's."""
    st.markdown("**整改步骤**")
    stored = {s.get("step"): s for s in item.values.get("steps") or [] if isinstance(s, dict)}
    for spec in category.steps:
        key = functools.partial(state.rectify_step_key, f"{item.id}:{item.rev}", spec.key)
        now = stored.get(spec.key, {})
        works = lc.works_on(spec, actions)
        whose = "，地市核实时填写" if spec.by == CITY_STEP else ""
        with st.container(border=True):
            st.checkbox(f"{spec.name}（{rl.EVIDENCE_NAMES[spec.evidence]}{whose}）", value=bool(now.get("done")), key=key("done"),
                        disabled=not works, help=spec.help or None)
            if spec.evidence == "text":
                st.text_area("说明", value=now.get("text") or "", key=key("text"), disabled=not works, max_chars=lc.MAX_STEP_TEXT_CHARS)
            if spec.evidence == "file":
                _files(actor, item, spec.key, works)
                if works:
                    st.file_uploader("上传材料（JPEG、PNG 或 PDF）", accept_multiple_files=True, key=key("files"))
            if works:
                st.button("保存此步骤", key=state.rectify_action_key(item.id, f"tick:{spec.key}"),
                          on_click=errors.guarded(_tick), args=(actor, item, spec.key, spec.evidence))


def buttons(actor: Actor, item: Record, actions: tuple[str, ...]) -> None:
    """The buttons the lifecycle allows the viewer now."""
    if lc.SUBMIT in actions:
        st.button(lc.ACTION_NAMES[lc.SUBMIT], key=state.rectify_action_key(item.id, lc.SUBMIT), type="primary",
                  on_click=errors.guarded(_act), args=(lc.submit, actor, item.id, item.rev))
    if lc.VERIFY in actions:
        st.text_area("退回原因（退回时必填）", key=state.RECTIFY_REASON, max_chars=lc.MAX_REASON_CHARS)
        accept, back = st.columns(2)
        accept.button("通过", key=state.rectify_action_key(item.id, "accept"), type="primary",
                      on_click=errors.guarded(_verify), args=(actor, item, True))
        back.button("退回", key=state.rectify_action_key(item.id, "return"), on_click=errors.guarded(_verify), args=(actor, item, False))
    if lc.CLOSE in actions:
        st.button(lc.ACTION_NAMES[lc.CLOSE], key=state.rectify_action_key(item.id, lc.CLOSE), type="primary",
                  on_click=errors.guarded(_act), args=(lc.close, actor, item.id, item.rev))


#: The titles of a recorded violation's parts, in the order ``lifecycle.record_violation`` writes them (the
#: handling, the amount in 万元, the decision's reference). Their keys are not spelled here: one of them is
#: also a field key of the shipped campaign (tests/test_vocabulary.py); records.py is asked to declare them.
VIOLATION_TITLES = ("处理方式", "追回金额（万元）", "处理决定文号")


def violations(actor: Actor, item: Record) -> None:
    """The violations recorded on the item; the province records one (追回资金 with its amount)."""
    recorded = [v for v in item.values.get("violations") or [] if isinstance(v, dict)]
    if recorded:
        st.markdown("**违规处理**")
        st.dataframe(pd.DataFrame([dict(zip(VIOLATION_TITLES, (text(x, "money") for x in v.values()), strict=False)) for v in recorded],
                                  columns=list(VIOLATION_TITLES)), hide_index=True)
    if not can(actor, RECTIFY_GENERATE, row=item):
        return
    with st.expander("记录违规处理"), st.form(state.RECTIFY_VIOLATION, border=False):
        handling, amount, reference = VIOLATION_TITLES
        st.selectbox(handling, HANDLINGS, key=state.rectify_violation_key("kind"))
        st.text_input(amount, key=state.rectify_violation_key("amount"), help=f"仅{RECOVERY}填写。")
        st.text_input(reference, key=state.rectify_violation_key("reference"), max_chars=lc.MAX_REFERENCE_CHARS)
        st.form_submit_button("记录违规处理", on_click=errors.guarded(_violation), args=(actor, item))


def show(actor: Actor, item: Record, declared: Rectification) -> None:
    """The whole item view."""
    show_outcome("item")
    facts(item, declared)
    actions = lc.actions_for(actor, item, today(), declared)
    category = next((c for c in declared.categories if c.key == item.values.get("category")), None)
    if category is None:
        st.error(f"整改类别「{text(item.values.get('category'))}」不在活动配置的 rectification.categories 中，无法显示整改步骤。")
    else:
        checklist(actor, item, category, actions)
    buttons(actor, item, actions)
    violations(actor, item)
    rectification_admin.item_actions(actor, item, outcome)  # the province's 改派 / 撤销
    with st.expander("处理记录"):
        st.dataframe(rl.history(context.store(), item), hide_index=True)
