"""The board's 整改进度 figures: per city the items by status and how many are overdue, the items themselves,
and the closed share over time — every figure as the items stood at the end of the board's day.

The items' sheet is read as the board reads the forms: a snapshot (``Store.snapshot``) and the sheet's
audit, from which ``lib.campaign.board.history.as_of`` rebuilds each item as it stood on the day (an item
opened later is not counted; one closed later still shows the status it had). When an item was closed is
the time its audit entry moved it to 已销号; the share closed on a day is the items closed by the end of
that day over the items opened by then. A city's figures hold its own items (its ``city``, compared as
the policy compares it: ``lib.auth.policy.comparable``); the province's all.

The items opened after the day are not counted but are told (``later``, ``last_opened``): items are opened
on the wall clock, so with the campaign clock on a past day the items the lists flag 逾期 on that day are
all "later" here, and the tab must say so rather than that there are none.

>>> import datetime as dt
>>> from lib.core.records import AuditEntry
>>> from lib.rectification.records import PENDING
>>> day = dt.datetime(2020, 10, 1, 9)
>>> snap = pd.DataFrame({"_id": ["a", "b"], "_rev": [2, 1], "_status": [CLOSED, PENDING], "_created_at": [day, day],
...                      "_updated_at": [day + dt.timedelta(days=2), day], "_updated_by": ["p", "p"], "item_id": ["Z-1", "Z-2"],
...                      "city": ["甲", "甲"], "category": ["c", "c"], "due": [dt.date(2020, 10, 2), dt.date(2020, 10, 2)]})
>>> audit = [AuditEntry(day, "p", "新增", ITEMS.form_id, "a", 1, {}), AuditEntry(day, "p", "新增", ITEMS.form_id, "b", 1, {}),
...          AuditEntry(day + dt.timedelta(days=2), "p", "状态变更", ITEMS.form_id, "a", 2, {"_status": (PENDING, CLOSED)})]
>>> p = progress(snap, audit, dt.date(2020, 10, 5), ("甲",))
>>> p.cities[[CITY, PENDING, CLOSED, LATE, TOTAL, RATE]].values.tolist()
[['甲', 1, 1, 1, 2, 50.0]]
>>> p.closed[[DAY, CITY, TOTAL, CLOSED, RATE]].values.tolist()[-3:]
[[datetime.date(2020, 10, 3), '甲', 2, 1, 50.0], [datetime.date(2020, 10, 4), '甲', 2, 1, 50.0], [datetime.date(2020, 10, 5), '甲', 2, 1, 50.0]]
>>> progress(snap, audit, dt.date(2020, 10, 2), ("甲",)).cities[[PENDING, CLOSED]].values.tolist()  # before it was closed
[[2, 0]]
>>> from lib.rectification.records import CANCELLED
>>> cancelled = snap.assign(_status=[CLOSED, CANCELLED])  # a cancelled item is no work: neither open nor closed
>>> progress(cancelled, audit, dt.date(2020, 10, 5), ("甲",)).cities[[CITY, PENDING, CLOSED, LATE, TOTAL, RATE]].values.tolist()
[['甲', 0, 1, 0, 1, 100.0]]
>>> early = progress(snap, audit, dt.date(2020, 9, 30), ("甲",))  # before either was opened: told, not counted
>>> early.total, early.later, early.last_opened
(0, 2, datetime.date(2020, 10, 1))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from lib.auth.policy import comparable
from lib.campaign.board.history import as_of
from lib.core.records import AuditEntry

from .records import CANCELLED, CLOSED, ITEMS, OVERDUE, STATUSES

CITY = "地市"
DAY = "日期"
LATE = OVERDUE
TOTAL = "合计"
RATE = "销号率（%）"
#: The row of the province-wide totals in the closed share over time.
ALL = "全省"
CITY_COLUMNS = [CITY, *STATUSES, LATE, TOTAL, RATE]
CLOSED_COLUMNS = [DAY, CITY, TOTAL, CLOSED, RATE]
#: The drill table of the items (the items' sheet's own titles, as the office's lists name them).
ITEM_COLUMNS = ["item_id", "city", "category", "party", "project", "voucher", "finding", "due"]
TITLE = {c.key: c.label for c in ITEMS.columns}
STATUS = "状态"
ITEM_HEADERS = [*(TITLE[c] for c in ITEM_COLUMNS), STATUS, LATE]
#: The export format of the date column.
KINDS = {TITLE["due"]: "date"}


@dataclass(frozen=True)
class Progress:
    """The 整改进度 of one scope as of ``as_of`` (see the module)."""

    as_of: dt.date
    cities: pd.DataFrame  # CITY_COLUMNS: per city, its items by status, overdue, in all, the share closed
    items: pd.DataFrame  # ITEM_HEADERS: one row per item, as it stood
    closed: pd.DataFrame  # CLOSED_COLUMNS: per day (and city; ALL first for more than one city), the share closed
    later: int = 0  # items of the scope opened after ``as_of``: not counted
    last_opened: dt.date | None = None  # the day the last of them was opened (None: no such item)

    @property
    def total(self) -> int:
        return int(self.cities[TOTAL].sum()) if len(self.cities) else 0


def _rate(closed: pd.Series, total: pd.Series) -> pd.Series:
    """
    >>> _rate(pd.Series([1, 0]), pd.Series([3, 0])).tolist()
    [33.3, nan]
    """
    return (100 * closed / total.where(total > 0)).round(1)


def _day(value) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _in_scope(items: pd.DataFrame, cities: Sequence[str] | None) -> pd.DataFrame:
    if cities is None or items.empty:
        return items
    wanted = {comparable(c) for c in cities}
    return items[[comparable(c) in wanted for c in items["city"]]]


def _standing(snapshot: pd.DataFrame, audit: Sequence[AuditEntry], day: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The items as they stood at the end of ``day``, and those opened after it (as they are now)."""
    if snapshot.empty:
        empty = snapshot.assign(**{c: pd.Series(dtype=object) for c in ITEM_COLUMNS if c not in snapshot})
        return empty, empty
    standing, later = as_of({ITEMS.form_id: snapshot}, [a for a in audit if a.form_id == ITEMS.form_id], day)
    return standing[ITEMS.form_id], later[ITEMS.form_id]


def _cities(items: pd.DataFrame, late: pd.Series, order: Sequence[str]) -> pd.DataFrame:
    present = [c for c in dict.fromkeys(items["city"].fillna("").astype(str)) if c not in order]
    rows = []
    for city in [*order, *sorted(present)]:
        mine = (items["city"].fillna("").astype(str) == city).to_numpy()
        status = items["_status"][mine]
        row = {CITY: city, **{s: int((status == s).sum()) for s in STATUSES}, LATE: int(late[mine].sum()), TOTAL: int(mine.sum())}
        rows.append(row)
    out = pd.DataFrame(rows, columns=CITY_COLUMNS[:-1])
    out[RATE] = _rate(out[CLOSED], out[TOTAL])
    return out


def _closing_days(audit: Sequence[AuditEntry]) -> dict[str, dt.date]:
    """Item row id -> the day it was (last) moved to 已销号."""
    out = {}
    for a in sorted((a for a in audit if a.form_id == ITEMS.form_id and a.rev > 0), key=lambda a: (a.row_id, a.rev)):
        moved = a.changes.get("_status")
        if moved and moved[1] == CLOSED:
            out[a.row_id] = a.at.date()
    return out


def _closed_over_time(items: pd.DataFrame, audit: Sequence[AuditEntry], day: dt.date, several: bool) -> pd.DataFrame:
    if items.empty:
        return pd.DataFrame(columns=CLOSED_COLUMNS)
    opened = pd.Series([_day(t) for t in items["_created_at"]], index=items.index)
    closing = _closing_days(audit)
    shut = pd.Series([closing.get(i) for i in items["_id"]], index=items.index)
    days = pd.date_range(min(opened), day).date
    groups = [(ALL, pd.Series(True, index=items.index))] if several else []
    groups += [(city, items["city"].fillna("").astype(str) == city) for city in dict.fromkeys(items["city"].fillna("").astype(str))]
    rows = []
    for name, mine in groups:
        o, s = opened[mine], shut[mine].dropna()
        for d in days:
            rows.append({DAY: d, CITY: name, TOTAL: int((o <= d).sum()), CLOSED: int((s <= d).sum())})
    out = pd.DataFrame(rows, columns=CLOSED_COLUMNS[:-1])
    out[RATE] = _rate(out[CLOSED], out[TOTAL])
    return out


def _items(items: pd.DataFrame, late: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({TITLE[c]: items[c].to_numpy() if c in items else None for c in ITEM_COLUMNS})
    out[TITLE["due"]] = [_day(d) for d in out[TITLE["due"]]]
    out[STATUS] = items["_status"].to_numpy()
    out[LATE] = [LATE if flag else "" for flag in late]
    return out[ITEM_HEADERS]


def progress(snapshot: pd.DataFrame, audit: Sequence[AuditEntry], day: dt.date, cities: Sequence[str] | None = None,
             order: Sequence[str] = ()) -> Progress:
    """The 整改进度 as of the end of ``day`` (and how many items were opened after it): of every item (``cities`` None: the province) or of those
    supervised by one of ``cities``; ``snapshot`` and ``audit``: the items' sheet and its audit; ``order``:
    the campaign's cities, the order of the per-city table (the scope's cities shown even with no item)."""
    standing, later = _standing(snapshot, audit, day)
    items = _in_scope(standing, cities)
    items = items[items["_status"] != CANCELLED].reset_index(drop=True)  # cancelled: no work to do, neither open nor closed
    later = _in_scope(later, cities)
    opened = [d for d in (_day(t) for t in later["_created_at"]) if d is not None] if len(later) else []
    dues = [_day(d) for d in items["due"]] if "due" in items else [None] * len(items)
    late = pd.Series([s != CLOSED and d is not None and day > d for s, d in zip(items["_status"], dues, strict=True)],
                     index=items.index, dtype=bool)
    shown = [c for c in order if cities is None or comparable(c) in {comparable(x) for x in cities}]
    return Progress(day, _cities(items, late, shown), _items(items, late),
                    _closed_over_time(items, audit, day, several=cities is None or len(cities) > 1),
                    len(later), max(opened, default=None))
