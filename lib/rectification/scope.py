"""Which rectification items an account may read: every read of the items' sheet goes through
``visible_items``, so a city sees only its city's items and an organisation only its own whatever page
or list asks. The rule is the policy's (``lib.auth.policy``, action ``RECTIFY_READ``): province and admin
all; a city the items it supervises (``city``); a provider or lead unit the items it acts on
(``actor_org``) or answers for (``party``, or its credit code); an inspector none. One item (a link to
it, a button on it) goes through ``get_item``, which authorises the action asked."""

from __future__ import annotations

from lib.auth.policy import RECTIFY_READ, authorize, can
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.store.base import NotFound, Store

from .records import ITEMS


def visible_items(store: Store, actor: Actor) -> list[Record]:
    """The items ``actor`` may read, in creation order (none before the first item is opened).
    Forbidden (audited 拒绝访问) for a role that reads no item (an inspector)."""
    authorize(store, actor, RECTIFY_READ)
    return [r for r in store.records(ITEMS.form_id) if can(actor, RECTIFY_READ, row=r)]


class ItemNotFound(AppError):
    """No item has this record id (a stale link, or an item not yet synchronised)."""

    code = "item_not_found"


def get_item(store: Store, actor: Actor, item_id: str, action: str = RECTIFY_READ) -> Record:
    """The item whose record id is ``item_id``, if ``actor`` may do ``action`` to it (an action of the
    policy's RECTIFY_*); Forbidden (audited 拒绝访问) otherwise; ItemNotFound when there is none."""
    try:
        item = store.get(ITEMS.form_id, item_id)
    except NotFound:
        raise ItemNotFound(f"找不到整改事项 {item_id}（链接可能已过期，或事项尚未同步），请刷新页面。") from None
    authorize(store, actor, action, row=item)
    return item
