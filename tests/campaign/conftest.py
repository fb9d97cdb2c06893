"""Small hand-built snapshots for the campaign functions: known rows, known answers."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from lib.campaign.schedule import Calendar
from lib.store.base import SYSTEM_KEYS

CITIES = ("广州", "深圳", "佛山")
_ids = itertools.count(1)


def row(status="已提交", created="2020-09-10", owner="", org="", city="", rev=1, **values) -> dict:
    """One snapshot row: system columns plus field values."""
    at = pd.Timestamp(created)
    return {"_id": f"r{next(_ids)}", "_rev": rev, "_status": status, "_form_version": 1, "_owner": owner, "_org": org,
            "_city": city, "_created_at": at, "_updated_at": at, "_updated_by": owner, **values}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows)) if rows else pd.DataFrame(columns=list(SYSTEM_KEYS))


def att1(voucher, provider="服务商甲", city="广州", amount=10.0, code=None, **kw) -> dict:
    owner = kw.pop("owner", {"服务商甲": "p1", "服务商乙": "p2"}.get(provider, "px"))
    return row(owner=owner, org=provider, voucher_no=voucher, provider_name=provider, client_city=city,
               client_name=f"企业{voucher}", client_credit_code=code or f"C{voucher}", subsidy_amount=amount,
               usage_status=kw.pop("usage", "正常使用"), **kw)


def voucher(voucher, provider="服务商甲", city="广州", amount=10.0, code=None) -> dict:
    return {"voucher_no": voucher, "client_name": f"企业{voucher}", "client_credit_code": code or f"C{voucher}",
            "provider_name": provider, "city": city, "subsidy_year": "2019", "subsidy_amount": amount,
            "redemption_state": "已兑现"}


@pytest.fixture
def calendar() -> Calendar:
    return Calendar(
        cities=CITIES,
        titles={"att1": "附件1", "att2": "附件2", "att3": "附件3"},
        deadlines={"att1": dt.date(2020, 9, 18), "att2": dt.date(2020, 9, 18), "att3": dt.date(2020, 9, 21)},
        phases=(("全面自查", dt.date(2020, 9, 7), dt.date(2020, 9, 21)), ("随机抽查", dt.date(2020, 9, 22), dt.date(2020, 10, 15))),
        city_fields={"att1": "client_city", "att2": "city", "att3": "city"},
    )
