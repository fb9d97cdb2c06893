"""The prologue of every signed-in page: who is acting, the form catalog and the store, opened in
the order that keeps a person from ever seeing a traceback.

The router comes first (``identity.current_actor`` calls ``nav.ensure_router``): a page opened by
address as a server's first request runs inside Streamlit's legacy pages/ wrapper, without app.py,
and must be sent through app.py — which tells the person, in Chinese, when the store cannot be
opened — before it touches the store. Only then the catalog and the store, guarded as a page is
(``errors.guarded``): a page that runs without app.py's checks (that first request before the switch,
a page tested alone) and finds the store down shows the same Chinese message app.py shows
(``health.open_store``) and stops.
"""

from __future__ import annotations

from typing import NamedTuple

import streamlit as st

from lib.core.records import Actor
from lib.forms import FormCatalog
from lib.store.base import Store
from lib.ui import context, errors, health, identity


class Page(NamedTuple):
    """What a signed-in page works with: ``actor, catalog, store = page.start()``."""

    actor: Actor
    catalog: FormCatalog
    store: Store


def start() -> Page:
    """The acting account, the catalog and the store; the page stops (with a Chinese message) when
    there is no session or the store cannot be opened."""
    opened = errors.guarded(_open, "页面准备")()
    if opened is None:  # the reason is on the page already
        st.stop()
    return opened


def _open() -> Page:
    actor = identity.current_actor()  # first: the router, then the sign-in check
    catalog = context.catalog()
    store = health.open_store()
    if store is None:
        st.stop()
    return Page(actor, catalog, store)
