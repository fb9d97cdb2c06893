"""Seed a whole demo campaign: the subsidy register, every form's rows filed in 2020, then the
reviews (some approved, some returned and corrected)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from lib.forms import FormDefinitionError
from lib.store.base import Store

from .register import seed_register
from .reviews import review_demo
from .seed import seed_store
from .timeline import FilingClock


def seed_demo(
    open_with_clock: Callable[[FilingClock], Store],
    catalog,
    *,
    rows: int = 2000,
    seed: int = 2020,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, int]:
    """Open a store with a filing clock (``open_with_clock(clock)``), seed it, close it.

    The store's clock says when each demo filer filed, inside the campaign's self-inspection phase
    (a few late), so boards show a realistic campaign. Returns the number of rows per form id; a form
    it cannot seed is left out (``seed.generate``), and with the campaign file broken nothing is seeded
    (logged): the first start goes on, and the accounts can still be created and sign in.
    """
    try:
        _ = catalog.campaign  # raises FormDefinitionError when campaign.yaml is broken
    except FormDefinitionError as exc:
        logging.getLogger(__name__).warning("活动配置无法使用，未写入演示数据：%s", exc)
        return {}
    clock = FilingClock(dt.datetime.combine(min(p.start for p in catalog.campaign.phases), dt.time(9)))
    store = open_with_clock(clock)
    try:
        seed_register(store, catalog, rows=rows, seed=seed)
        counts = seed_store(store, catalog, rows=rows, seed=seed, progress=progress, clock=clock)
        review_demo(store, catalog, clock, seed=seed)
        return counts
    finally:
        store.close()
