"""The province's repairs on the rectification page (lib.rectification.admin): the items no account acts on
(无对应账号) and, on request, those whose source row was corrected or withdrawn (来源已更正 / 来源已撤回), listed
above the item view; on an open item, 改派 (another account's organisation acts on it) and 撤销 (已撤销),
each with a reason. Both lists and buttons show to the province only (RECTIFY_GENERATE).

Each action runs in its button's callback from the revision shown; its outcome (the lib's Chinese message
on a refusal, nothing written) is said through the item view's ``say`` (lib.ui.rectification.outcome, passed
in: that module renders this one's lists, so this one cannot import it) and shown above the item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import streamlit as st

from lib.auth.policy import RECTIFY_GENERATE, can
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import WITHDRAWN
from lib.forms.rectification import Rectification
from lib.rectification import admin, match
from lib.rectification import lists as rl
from lib.rectification.records import CANCELLED, ENDED
from lib.ui import context, errors

SOURCE = "来源状态"
#: The parts of ``key``: the organisation chosen, the reason, the two buttons; the lists' toggle.
ORG, REASON, REASSIGN, CANCEL, STALE = "org", "reason", "reassign", "cancel", "stale"


def key(item_id: str, part: str) -> str:
    """A widget of the province's repairs on one item (``item_id`` "*": of the lists). Apart from
    state.rectify_action_key: those are the lifecycle's buttons, which wait on the item's status."""
    return f"rectify:admin:{item_id}:{part}"


Say = Callable[..., None]  # (part, kind, *lines): lib.ui.rectification.outcome


def lists(items: list[Record], actor: Actor, declared: Rectification, day: dt.date) -> None:
    """需省厅处理: the open items of ``items`` (the viewer's narrowed items) no account acts on, and, when asked
    (reading every source form costs a generation's work), those whose source changed; ``day``: the campaign clock."""
    if not can(actor, RECTIFY_GENERATE):
        return
    orphans = admin.unmatched(items, context.accounts().all())
    if orphans:
        st.warning(f"{len(orphans)} 项整改事项找不到对应账号（{match.UNMATCHED}），无人能够办理："
                   "请在下方选择该事项，改派给有账号的单位或撤销。")
        st.dataframe(rl.problem_list(orphans, declared, day), hide_index=True)
    if st.toggle("核对问题来源是否已更正或撤回", key=key("*", STALE)):
        stale = admin.stale(context.store(), context.catalog(), items, day)
        if not stale:
            st.success("所列整改事项的问题来源均未更正或撤回。")
            return
        st.warning(f"{len(stale)} 项整改事项的来源记录已更正（不再符合生成规则）或{WITHDRAWN}：请核对后撤销。")
        table = rl.problem_list([i for i, _ in stale], declared, day)
        table.insert(1, SOURCE, [why for _, why in stale])
        st.dataframe(table, hide_index=True)


def _run(say: Say, item: Record, action, *args, said: str, **kwargs) -> None:
    try:
        action(context.store(), context.catalog(), *args, **kwargs)
    except AppError as exc:
        say("item", "error", str(exc))
        return
    say("item", "success", said)
    st.session_state.pop(key(item.id, REASON), None)  # the next repair starts without this reason


def _reason(item: Record) -> str:
    return st.session_state.get(key(item.id, REASON)) or ""


def _reassign(actor: Actor, item: Record, say: Say) -> None:
    org = st.session_state.get(key(item.id, ORG)) or ""
    _run(say, item, admin.reassign, actor, item.id, item.rev, org, _reason(item), accounts=context.accounts().all(),
         said=f"已改派：整改事项 {item.values.get('item_id')} 由 {org} 办理。")


def _cancel(actor: Actor, item: Record, say: Say) -> None:
    _run(say, item, admin.cancel, actor, item.id, item.rev, _reason(item), said=f"整改事项 {item.values.get('item_id')} {CANCELLED}。")


def item_actions(actor: Actor, item: Record, say: Say) -> None:
    """省厅处理 on one open item: 改派 to an account's organisation, or 撤销, with a reason."""
    if not can(actor, RECTIFY_GENERATE) or item.status in ENDED:
        return
    kind = item.values.get("party_kind") or "provider"
    known = match.Orgs.of(context.accounts().all())
    orgs = known.all(kind) if kind in match.ACTING_ROLE else []
    unmatched = match.unanswered(known, kind, item.values.get("actor_org"))
    with st.expander("省厅处理：改派整改办理单位或撤销整改事项", expanded=unmatched):
        if unmatched:
            st.warning(f"该事项的整改办理单位「{item.values.get('actor_org') or '未填'}」找不到对应账号（{match.UNMATCHED}），无人能够办理。")
        st.selectbox(rl.TITLE["actor_org"], orgs, index=None, key=key(item.id, ORG), placeholder="选择有账号的单位")
        st.text_area("理由（必填）", key=key(item.id, REASON), max_chars=1000)
        left, right = st.columns(2)
        left.button("改派", key=key(item.id, REASSIGN), on_click=errors.guarded(_reassign), args=(actor, item, say))
        right.button("撤销整改事项", key=key(item.id, CANCEL), on_click=errors.guarded(_cancel), args=(actor, item, say))
