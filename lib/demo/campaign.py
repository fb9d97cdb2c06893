"""Seed a whole demo campaign: the subsidy register, every form's rows filed in 2020, then the
reviews (some approved, some returned and corrected).

The demo is written for the 2020 campaign shipped in forms/ (its form ids, field keys, choice words
and cities); any other campaign is refused up front with one Chinese message (``DemoNotApplicable``)
rather than half-seeded.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from lib.core.errors import AppError
from lib.forms import FormDefinitionError
from lib.store.base import Store

from .lexicon import CITY_INFO
from .register import seed_register
from .reviews import review_demo
from .seed import DEMO_FORMS, seed_store
from .timeline import FilingClock

#: The campaign the demo was written for, and which of its forms fills which kind (campaign.yaml bindings).
DEMO_CAMPAIGN = "gd_cloud_2020"
DEMO_BINDINGS = dict(zip(("projects", "benchmarks", "checks"), DEMO_FORMS, strict=True))


class DemoNotApplicable(AppError):
    """The campaign served is not the one the demo was written for: nothing is seeded."""

    code = "demo_not_applicable"


def check_applicable(campaign) -> None:
    """Raise ``DemoNotApplicable`` unless ``campaign`` binds the demo's forms (附件1–3 of the 2020
    campaign, ids att1/att2/att3) and names only cities the demo knows.

    >>> from pathlib import Path
    >>> from lib.forms import load_catalog
    >>> check_applicable(load_catalog(Path("tests/campaigns/other")).campaign)
    Traceback (most recent call last):
    ...
    lib.demo.campaign.DemoNotApplicable: 演示数据只适用于 2020 年活动（gd_cloud_2020）的表单 att1、att2、att3，当前活动 gd_cloud_2021 不符（表单 cloud_projects、bench_reports、city_inspections），未写入演示数据。
    """
    # The demo fills the three attachments; the inspection phase's forms start empty, whatever binds them.
    bound = {k: f for k, f in campaign.bindings.form_ids().items() if k in DEMO_BINDINGS} if campaign.bindings is not None else {}
    strangers = [c for c in campaign.cities if c not in CITY_INFO]
    if bound == DEMO_BINDINGS and not strangers:
        return
    if bound == DEMO_BINDINGS:
        why = f"地市 {'、'.join(strangers)}"
    else:
        why = f"表单 {'、'.join(bound.values())}" if bound else "未声明 bindings"
    raise DemoNotApplicable(f"演示数据只适用于 2020 年活动（{DEMO_CAMPAIGN}）的表单 {'、'.join(DEMO_FORMS)}，"
                            f"当前活动 {campaign.id} 不符（{why}），未写入演示数据。")


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
    (logged): the first start goes on, and the accounts can still be created and sign in. Another
    campaign than the demo's raises ``DemoNotApplicable`` before any store is opened.
    """
    try:
        _ = catalog.campaign  # raises FormDefinitionError when campaign.yaml is broken
    except FormDefinitionError as exc:
        logging.getLogger(__name__).warning("活动配置无法使用，未写入演示数据：%s", exc)
        return {}
    check_applicable(catalog.campaign)
    clock = FilingClock(dt.datetime.combine(min(p.start for p in catalog.campaign.phases), dt.time(9)))
    store = open_with_clock(clock)
    try:
        seed_register(store, catalog, rows=rows, seed=seed)
        counts = seed_store(store, catalog, rows=rows, seed=seed, progress=progress, clock=clock)
        review_demo(store, catalog, clock, seed=seed)
        return counts
    finally:
        store.close()
