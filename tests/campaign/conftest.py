"""Small hand-built snapshots for the campaign functions: known rows, known answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

import pandas as pd
import pytest

from lib.campaign.schedule import Calendar
from lib.core.statuses import FILED
from lib.forms import load_catalog
from lib.store.base import SYSTEM_KEYS

CITIES = ("广州", "深圳", "佛山")
SHIPPED = load_catalog(Path(__file__).resolve().parents[2] / "forms")
_ids = itertools.count(1)


def row(status="已提交", created="2020-09-10", owner="", org="", city="", rev=1, filed=None, **values) -> dict:
    """One snapshot row: system columns plus field values. ``_filed_at`` (when the row was filed, as
    ``lib.campaign.board.history`` adds it) is ``filed``, else its creation when its status counts."""
    at = pd.Timestamp(created)
    filed_at = pd.Timestamp(filed) if filed else (at if status in FILED else pd.NaT)
    return {"_id": f"r{next(_ids)}", "_rev": rev, "_status": status, "_form_version": 1, "_owner": owner, "_org": org,
            "_city": city, "_created_at": at, "_updated_at": at, "_updated_by": owner, "_filed_at": filed_at, **values}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows)) if rows else pd.DataFrame(columns=[*SYSTEM_KEYS, "_filed_at"])


def att1(voucher, provider="服务商甲", city="广州", amount=10.0, code=None, **kw) -> dict:
    owner = kw.pop("owner", {"服务商甲": "p1", "服务商乙": "p2"}.get(provider, "px"))
    return row(owner=owner, org=provider, voucher_no=voucher, provider_name=provider, client_city=city,
               client_name=f"企业{voucher}", client_credit_code=code or f"C{voucher}", subsidy_amount=amount,
               usage_status=kw.pop("usage", "正常使用"), **kw)


def voucher(voucher, provider="服务商甲", city="广州", amount=10.0, code=None) -> dict:
    """One entry of the voucher register in force, keyed by meaning (``register.store.current_register``)."""
    return {"voucher": voucher, "firm": f"企业{voucher}", "firm_code": code or f"C{voucher}", "provider": provider,
            "city": city, "year": "2019", "subsidy": amount, "state": "已兑现"}


def calendar_of(catalog, **changes) -> Calendar:
    """The catalog's campaign as the board sees it, with ``changes`` (cities, titles, deadlines ...)."""
    return dataclasses.replace(Calendar.from_specs(catalog.campaign, catalog.forms()), **changes)


@pytest.fixture
def calendar() -> Calendar:
    return calendar_of(
        SHIPPED,
        cities=CITIES,
        titles={"att1": "附件1", "att2": "附件2", "att3": "附件3"},
        deadlines={"att1": dt.date(2020, 9, 18), "att2": dt.date(2020, 9, 18), "att3": dt.date(2020, 9, 21)},
        phases=(("全面自查", dt.date(2020, 9, 7), dt.date(2020, 9, 21)), ("随机抽查", dt.date(2020, 9, 22), dt.date(2020, 10, 15))),
    )
