"""Which rectification items an account may read: every read of the items' sheet goes through
``visible_items``, so a city sees only its city's items and an organisation only its own whatever page
or list asks. The rule is the policy's (``lib.auth.policy``, action ``RECTIFY_READ``): province and admin
all; a city the items it supervises (``city``); a provider or lead unit the items it acts on
(``actor_org``) or answers for (``party``, or its credit code); an inspector none."""

from __future__ import annotations

from lib.auth.policy import RECTIFY_READ, authorize, can
from lib.core.records import Actor, Record
from lib.store.base import Store

from .records import ITEMS


def visible_items(store: Store, actor: Actor) -> list[Record]:
    """The items ``actor`` may read, in creation order (none before the first item is opened).
    Forbidden (audited 拒绝访问) for a role that reads no item (an inspector)."""
    authorize(store, actor, RECTIFY_READ)
    return [r for r in store.records(ITEMS.form_id) if can(actor, RECTIFY_READ, row=r)]
