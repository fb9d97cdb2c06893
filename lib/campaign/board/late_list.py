"""The late list: who is late, with what and by how many days."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from lib.campaign.board.tally import key_groups
from lib.campaign.board.units import OVERDUE, REPORTED_STATES, RETURNED_STATE
from lib.campaign.schedule import Calendar


def _city_list(cities: list[str]) -> str:
    """The cities of a late entry, shortened when there are many.

    >>> _city_list(["甲", "乙", "甲", "丙", "丁"])
    '丁、丙、乙 等 4 个地市'
    """
    names = sorted(set(cities))
    return "、".join(names) if len(names) <= 3 else "、".join(names[:3]) + f" 等 {len(names)} 个地市"


def late_list(units: pd.DataFrame, calendar: Calendar, as_of: dt.date) -> pd.DataFrame:
    """Who is late, with what and by how many days (most days first); a unit is listed as the role
    that files its form (the campaign's ``roles:``). What owes no report is never late."""
    cols = ["单位", "角色", "表单", "地市", "事项", "数量", "截止日期", "逾期天数"]
    past = [f for f, d in calendar.deadlines.items() if d is not None and as_of > d]
    parts = []
    for label, mask, days in (
        ("未报送", units["state"] == OVERDUE, "days_late"),
        ("逾期报送", units["state"].isin(REPORTED_STATES) & units["late"].astype(bool), "days_late"),
        (f"{RETURNED_STATE}未重新提交", (units["state"] == RETURNED_STATE) & units["form"].isin(past), None),
    ):
        pos = np.flatnonzero(mask.to_numpy(dtype=bool))
        if not len(pos):
            continue
        # groupby(["form", "unit"]): groups in key order, NaN keys dropped
        (forms, unit_names), group_of = key_groups([units["form"].take(pos), units["unit"].take(pos)])
        keep = group_of >= 0
        size = np.bincount(group_of[keep], minlength=len(forms))
        most = np.full(len(forms), np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(most, group_of[keep], units["days_late"].to_numpy(dtype=np.int64)[pos][keep])
        g = pd.DataFrame({"form": forms, "unit": unit_names, "数量": size,
                          "逾期天数": most.astype(units["days_late"].dtype)})  # object when units is (empty parts)
        cities: list[set] = [set() for _ in forms]
        for k, city in zip(group_of.tolist(), units["city"].take(pos).tolist(), strict=True):
            if k >= 0:
                cities[k].add(city)
        g["地市"] = [_city_list(list(c)) for c in cities]
        if days is None:
            g["逾期天数"] = g["form"].map(lambda f: (as_of - calendar.deadlines[f]).days)
        g["事项"] = label + " " + g["数量"].astype(str) + " 项"
        parts.append(g)
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["角色"] = out["form"].map(calendar.filer)
    out["表单"] = out["form"].map(calendar.title)
    out["截止日期"] = out["form"].map(lambda f: calendar.deadlines.get(f))
    out = out.rename(columns={"unit": "单位"})
    return out.sort_values(["逾期天数", "数量"], ascending=False, kind="stable")[cols].reset_index(drop=True)
