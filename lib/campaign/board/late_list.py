"""The late list: who is late, with what and by how many days.

It is counted in two steps so that the province's list can be kept up to date a unit at a time
(``lib.campaign.board.counts``): ``late_counts`` counts the late units by form, unit and days late, and by
form, unit and city (multisets, so that taking a unit off leaves the right maximum and cities);
``late_table`` turns the counts into the list.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from lib.campaign.board.tally import counted
from lib.campaign.board.units import OVERDUE, REPORTED_STATES, RETURNED_STATE
from lib.campaign.schedule import Calendar

COLUMNS = ["单位", "角色", "表单", "地市", "事项", "数量", "截止日期", "逾期天数"]
#: Per kind of lateness (未报送, 逾期报送, 退回修改未重新提交): {(form, unit, days late): units}, {(form, unit, city): units}.
LateCounts = tuple[tuple[dict, dict], ...]


def _city_list(cities: list[str]) -> str:
    """The cities of a late entry, shortened when there are many.

    >>> _city_list(["甲", "乙", "甲", "丙", "丁"])
    '丁、丙、乙 等 4 个地市'
    """
    names = sorted(set(cities))
    return "、".join(names) if len(names) <= 3 else "、".join(names[:3]) + f" 等 {len(names)} 个地市"


def _labels() -> tuple[str, str, str]:
    return ("未报送", "逾期报送", f"{RETURNED_STATE}未重新提交")


def late_counts(units: pd.DataFrame, calendar: Calendar, as_of: dt.date) -> LateCounts:
    """The late units of ``units`` counted for ``late_table``, one pair of counts per kind of lateness
    (a unit with a blank form or unit is left out)."""
    past = [f for f, d in calendar.deadlines.items() if d is not None and as_of > d]
    state = units["state"]
    out = []
    for mask in (
        state == OVERDUE,
        state.isin(REPORTED_STATES) & units["late"].astype(bool),
        (state == RETURNED_STATE) & units["form"].isin(past),
    ):
        pos = np.flatnonzero(mask.to_numpy(dtype=bool))
        if not len(pos):
            out.append(({}, {}))
            continue
        form, unit = units["form"].take(pos), units["unit"].take(pos)
        days = pd.Series(units["days_late"].to_numpy()[pos])
        out.append((counted([form, unit, days]), counted([form, unit, units["city"].take(pos)])))
    return tuple(out)


def late_table(counts: LateCounts, calendar: Calendar, as_of: dt.date, days_dtype=np.int64) -> pd.DataFrame:
    """Who is late, with what and by how many days (most days first), from ``late_counts``; a unit is
    listed as the role that files its form (the campaign's ``roles:``). ``days_dtype``: the units' days late column's."""
    parts = []
    for label, (days, cities) in zip(_labels(), counts, strict=True):
        groups: dict[tuple, list] = {}
        for (form, unit, d), n in days.items():
            g = groups.get((form, unit))
            if g is None:
                groups[(form, unit)] = [n, d]
            else:
                g[0] += n
                g[1] = max(g[1], d)
        if not groups:
            continue
        places: dict[tuple, list] = {}
        for (form, unit, city) in cities:
            places.setdefault((form, unit), []).append(city)
        keys = sorted(groups)
        g = pd.DataFrame({"form": [k[0] for k in keys], "unit": [k[1] for k in keys],
                          "数量": np.array([groups[k][0] for k in keys], dtype=np.int64),
                          "逾期天数": np.array([groups[k][1] for k in keys], dtype=np.int64).astype(days_dtype)})
        g["地市"] = [_city_list(places.get(k, [])) for k in keys]
        if label == _labels()[2]:  # returned and not resubmitted: late since the form's deadline
            g["逾期天数"] = g["form"].map(lambda f: (as_of - calendar.deadlines[f]).days)
        g["事项"] = label + " " + g["数量"].astype(str) + " 项"
        parts.append(g)
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["角色"] = out["form"].map(calendar.filer)
    out["表单"] = out["form"].map(calendar.title)
    out["截止日期"] = out["form"].map(lambda f: calendar.deadlines.get(f))
    out = out.rename(columns={"unit": "单位"})
    return out.sort_values(["逾期天数", "数量"], ascending=False, kind="stable")[COLUMNS].reset_index(drop=True)


def late_list(units: pd.DataFrame, calendar: Calendar, as_of: dt.date) -> pd.DataFrame:
    """Who is late, with what and by how many days (most days first); what owes no report is never late."""
    return late_table(late_counts(units, calendar, as_of), calendar, as_of, units["days_late"].dtype)
