"""The review page's parts: filters, the row being read with its own 通过 / 退回修改, and the bulk
actions, whose approval or return of more than ``review.CONFIRM_ABOVE`` rows waits for a second,
explicit click (returning 1,311 rows sends 1,311 fillers back to work).

Actions run as button callbacks so they may clear the selection and the reason before the page redraws.
"""

from __future__ import annotations

import streamlit as st

from lib import listing, review
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import RETURNED
from lib.forms import FormSpec
from lib.forms.display import value_text
from lib.store.base import Store
from lib.ui import context, errors, record_view, rows, state


def _choose(label: str, options: list[str], everything: str, key: str, where=st) -> str:
    """A selectbox whose first option ("") means no filter."""
    return where.selectbox(label, ["", *options], key=key, format_func=lambda v: v or everything)


def filters(form: FormSpec, records: list[Record], cities: tuple[str, ...]) -> list[Record]:
    """City, filer, search and one selectbox per select field of the form; the rows that match all."""
    left, middle, right = st.columns(3)
    present = listing.facets(form, records)
    city = _choose("地市", [c for c in cities if c in present.cities], "全部地市", state.REVIEW_CITY, left)
    org = _choose("填报单位", list(present.orgs), "全部单位", state.REVIEW_ORG, middle)
    with right:
        query = rows.search_box(form, key=state.REVIEW_SEARCH)
    choices = {}
    selects = listing.select_fields(form)
    if selects:
        with st.expander("按选项筛选"):
            for column, spec in zip(st.columns(min(3, len(selects))) * len(selects), selects):
                choices[spec.key] = _choose(spec.label, list(spec.choices), "全部", state.review_choice_key(spec.key), column)
    found = listing.filter_rows(form, records, city=city, org=org, choices=choices)
    return listing.search(form, found, query)


def read_and_act(store: Store, form: FormSpec, actor: Actor, records: list[Record], reasons: dict[str, str],
                 cities: tuple[str, ...]) -> None:
    """Pick one row of ``records`` (the page the table lists); read the whole of it (its files too, as far as
    ``actor`` may read the row) beside its own 通过 / 退回修改 and its print view."""
    record = rows.pick(form, records, label="查看记录（审核前请阅读全部内容）", key=state.REVIEW_VIEW, filer=True)
    view, side = st.columns([3, 1])
    today = context.settings().campaign_today  # the clock the fill page judged the row on
    with view, st.container(height=640):
        record_view.show(form, record.values, cities, warnings=review.check_notes(form, record, cities, today=today),
                         reminders=review.warning_notes(form, record, cities, today=today), viewer=actor, record=record)
    with side:
        st.markdown(f"**{record.id}**　第 {record.rev} 版　{record.status}")
        st.caption(f"{record.org or record.owner}　{value_text(None, record.updated_at)}")
        if reasons.get(record.id):
            st.caption(f"上次退回原因：{record_view.plain_text(reasons[record.id])}")
        record_view.print_button(form, record, cities, key=state.review_print_key(record.id))
        if record.status not in review.AWAITING:
            st.caption(f"状态为「{record.status}」，不能审核。")
            return
        picks = {record.id: record.rev}
        st.text_area("此记录的退回原因（退回时必填）", key=state.REVIEW_ONE_REASON, max_chars=review.MAX_REASON)
        st.button("通过此记录", type="primary", width="stretch", key=state.REVIEW_ONE_APPROVE,
                  on_click=errors.guarded(act), args=(store, form, actor, True, picks, state.REVIEW_ONE_REASON))
        st.button(f"将此记录{RETURNED}", width="stretch", key=state.REVIEW_ONE_RETURN,
                  on_click=errors.guarded(act), args=(store, form, actor, False, picks, state.REVIEW_ONE_REASON))


def bulk(store: Store, form: FormSpec, actor: Actor, shown: list[Record], listed: list[Record]) -> None:
    """Pick waiting rows among ``listed`` (the page the table lists), or take every waiting row of ``shown``
    (every page) at once, and approve or return them together.

    Only the listed rows are named and offered one by one: naming every row of a province's queue
    (19,000 at 20,000 rows) and sending them all as the picker's options cost seconds on every run."""
    revs = {r.id: r.rev for r in shown if r.status in review.AWAITING}
    st.session_state[state.REVIEW_REVS] = revs
    every = st.checkbox(f"选择筛选出的全部待审核记录（{len(revs)} 条，各页都算）", key=state.REVIEW_ALL)
    names = listing.captions(form, (r for r in listed if r.status in review.AWAITING), filer=True)
    picked = st.multiselect("选择记录", list(names), key=state.REVIEW_PICKED, disabled=every, placeholder="输入记录编号或名称",
                            format_func=names.__getitem__)
    count = len(revs) if every else len([p for p in picked if p in revs])
    st.text_area("退回原因（退回时必填，填报单位将看到）", key=state.REVIEW_REASON, max_chars=review.MAX_REASON)
    if _confirmation(store, form, actor):
        return
    left, right = st.columns(2)
    left.button(f"通过所选（{count} 条）", type="primary", disabled=not count, width="stretch", key=state.REVIEW_APPROVE,
                on_click=errors.guarded(request), args=(store, form, actor, True))
    right.button(f"{RETURNED}（{count} 条）", disabled=not count, width="stretch", key=state.REVIEW_RETURN,
                 on_click=errors.guarded(request), args=(store, form, actor, False))


def _confirmation(store: Store, form: FormSpec, actor: Actor) -> bool:
    """The second click a large approval or return needs, in place of the bulk buttons: the count,
    确认 and 取消. True while one is pending."""
    pending = st.session_state.get(state.REVIEW_CONFIRM)
    if not pending:
        return False
    picks, approve = pending["picks"], pending["approve"]
    if approve:
        st.warning(f"即将一次通过 {len(picks):,} 条记录。通过后填报单位不能再修改这些记录。请确认这些记录都已核对。")
    else:
        st.warning(f"即将一次退回 {len(picks):,} 条记录，{len(picks):,} 份填报将退回填报单位重新修改，"
                   f"退回原因：{record_view.plain_text(st.session_state.get(state.REVIEW_REASON, '').strip())}。请确认。")
    verb = "通过" if approve else "退回"
    left, right = st.columns(2)
    left.button(f"确认{verb} {len(picks):,} 条", type="primary", width="stretch", key=state.REVIEW_CONFIRM_YES,
                on_click=errors.guarded(act), args=(store, form, actor, approve, picks, state.REVIEW_REASON))
    right.button("取消", width="stretch", key=state.REVIEW_CONFIRM_NO, on_click=errors.guarded(st.session_state.pop), args=(state.REVIEW_CONFIRM, None))
    return True


def _picks() -> dict[str, int]:
    revs = st.session_state.get(state.REVIEW_REVS, {})
    ids = list(revs) if st.session_state.get(state.REVIEW_ALL) else st.session_state.get(state.REVIEW_PICKED, [])
    return {i: revs[i] for i in ids if i in revs}


def request(store: Store, form: FormSpec, actor: Actor, approve: bool) -> None:
    """Approve (or return) the rows picked at once, or, above ``review.CONFIRM_ABOVE``, hold them for
    confirmation. A return without a reason is refused at once (by ``act``), not after the confirmation."""
    picks = _picks()
    if len(picks) > review.CONFIRM_ABOVE and (approve or st.session_state.get(state.REVIEW_REASON, "").strip()):
        st.session_state[state.REVIEW_CONFIRM] = {"approve": approve, "picks": picks}  # exactly these rows at these revisions
        return
    act(store, form, actor, approve, picks, state.REVIEW_REASON)


def act(store: Store, form: FormSpec, actor: Actor, approve: bool, picks: dict[str, int], reason_key: str) -> None:
    """Approve, or return with the reason typed under ``reason_key``, the rows ``picks``; the outcome
    goes to FLASH."""
    st.session_state.pop(state.REVIEW_CONFIRM, None)
    try:
        if approve:
            outcome = review.approve(store, form, actor, picks)
        else:
            outcome = review.return_for_changes(store, form, actor, picks, st.session_state.get(reason_key, ""))
    except AppError as exc:  # ReviewError (no reason), Forbidden (not a reviewer), the store unavailable
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    kind = "success" if outcome.done and not outcome.skipped else "warning"
    st.session_state[state.FLASH] = (kind, outcome.summary("通过" if approve else "退回"))
    st.session_state[state.REVIEW_PICKED] = []
    st.session_state[state.REVIEW_ALL] = False
    if outcome.done and not approve:
        st.session_state[reason_key] = ""
