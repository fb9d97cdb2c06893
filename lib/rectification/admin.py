"""The province's repairs of items no lifecycle step can move: naming another acting organisation
(``reassign``) and cancelling an item (``cancel``, status 已撤销), and the lists of the items that need
one — those no account acts on (``unmatched``: 无对应账号) and those whose source row was since corrected
or withdrawn (``stale``: generate.stale_sources).

Both writes are the province's (policy action RECTIFY_GENERATE; a refusal audited 拒绝访问), need a
reason, are made as one ``store.update`` from the revision the caller read (a stale one: ConflictError),
and say what was done and why in the audit note (the item's 处理记录). A cancelled item is kept, is no
longer open, never 逾期, and generation never opens its finding again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from lib.auth.policy import RECTIFY_GENERATE, comparable
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.text import quotable
from lib.forms.loader import FormCatalog
from lib.forms.types import ValueProblem, clean_text
from lib.store.base import Store

from . import match
from .generate import stale_sources
from .lifecycle import MAX_REASON_CHARS, _fresh, _update
from .records import CANCELLED, ENDED, IN_PROGRESS, ITEMS, PENDING
from .scope import get_item

REASSIGNED = "省厅改派整改办理单位"
CANCELLED_NOTE = "省厅撤销"


class AdminError(AppError):
    """A repair refused; nothing written. Codes: reason_missing, bad_text, too_long, not_open,
    unknown_org, same_org."""

    code = "rectification_admin"


def _reason(raw: Any) -> str:
    try:
        reason = clean_text(raw if raw is not None else "", multiline=True)
    except ValueProblem:
        raise AdminError("理由含有无法保存的字符（控制字符或改变文字方向的字符）：请修改。", code="bad_text") from None
    if not reason:
        raise AdminError("请填写理由：改派或撤销整改事项须说明原因。", code="reason_missing")
    if len(reason) > MAX_REASON_CHARS:
        raise AdminError(f"理由不能超过 {MAX_REASON_CHARS} 个字，现有 {len(reason)} 个字。", code="too_long")
    return reason


def _open(item: Record, doing: str) -> None:
    if item.status in ENDED:
        raise AdminError(f"整改事项 {item.values.get('item_id')} 已{item.status.removeprefix('已')}，不能{doing}。", code="not_open")


def unmatched(items: Iterable[Record], accounts: Iterable[Any]) -> list[Record]:
    """The open items no account of ``accounts`` acts on (无对应账号: ``match.unanswered``), in their order."""
    orgs = match.Orgs.of(accounts)
    return [i for i in items if i.status not in ENDED and match.unanswered(orgs, i.values.get("party_kind"), i.values.get("actor_org"))]


def stale(store: Store, catalog: FormCatalog, items: list[Record], today: dt.date) -> list[tuple[Record, str]]:
    """The open items whose source row was corrected or withdrawn, each with which (generate.WITHDRAWN / CORRECTED)."""
    found = stale_sources(store, catalog, items, today)
    return [(i, found[i.id]) for i in items if i.id in found]


def reassign(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, actor_org: str, reason: str,
             *, accounts: Iterable[Any]) -> Record:
    """Name ``actor_org`` the organisation acting on the open item ``item_id``: it must be the organisation of
    an account (``accounts``) of the role that acts for the item's party (a provider for a provider's or a
    firm's item, a lead unit for a lead unit's), written as the account writes it. Status, steps and
    evidence stay; ``actor_match`` says the province named it, and why."""
    item = get_item(store, actor, item_id, RECTIFY_GENERATE)
    why = _reason(reason)
    _open(item, "改派")
    kind = item.values.get("party_kind") or "provider"
    org = match.Orgs.of(accounts).known(kind, actor_org) if kind in match.ACTING_ROLE else ""
    if not org:
        role = catalog.campaign.roles.get(match.ACTING_ROLE.get(kind, ""), "")  # the campaign names its roles
        raise AdminError(f"「{quotable(actor_org) or '（未填）'}」不是任何{role or ''}账号的单位："
                         "请选择有账号的单位。", code="unknown_org")
    before = str(item.values.get("actor_org") or "")
    if comparable(before) == comparable(org):
        raise AdminError(f"整改事项 {item.values.get('item_id')} 已由 {org} 办理。", code="same_org")
    if item.status not in (PENDING, IN_PROGRESS):  # its materials are with the city or verified: not mid-way
        raise AdminError(f"整改事项 {item.values.get('item_id')} {item.status}，不能改派：请先由地市退回。", code="not_reassignable")
    _fresh(store, item, base_rev)
    store.ensure_sheet(ITEMS)  # a store opened before actor_match existed gains the column
    changes = {"actor_org": org, "actor_match": f"{match.BY_PROVINCE}：{why}"}
    if kind != "firm":  # the organisation that answers for it is the one that acts: the old one no longer reads it (attack P3)
        changes |= {"party": org, "party_code": ""}
    return _update(store, actor, item, base_rev, changes, None, f"{REASSIGNED}：{before or '（未填）'} → {org}；理由：{why}")


def cancel(store: Store, catalog: FormCatalog, actor: Actor, item_id: str, base_rev: int, reason: str) -> Record:
    """Cancel the open item ``item_id`` (已撤销), with the province's reason, without evidence: its party
    answers to no account, or its source no longer holds. Kept with its history; not open; not 逾期."""
    item = get_item(store, actor, item_id, RECTIFY_GENERATE)
    why = _reason(reason)
    _open(item, "撤销")
    _fresh(store, item, base_rev)
    return _update(store, actor, item, base_rev, {}, CANCELLED, f"{item.status} → {CANCELLED}；{CANCELLED_NOTE}：{why}")
