"""The board's 整改进度 figures (issue 14, outcome 4) on a real local store whose items were opened and moved
on known days: per city by status and overdue, the scope of a city, the board's day (as the items stood
then), and the closed share over time from the days the items were closed."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.core.records import Actor
from lib.rectification import progress as pg
from lib.rectification.records import CLOSED, IN_PROGRESS, ITEMS, PENDING, STATUSES, SUBMITTED, VERIFIED
from lib.store.factory import open_store

PROVINCE = Actor("province", "province", "省厅")
DUE = dt.date(2020, 10, 31)
OPENED = dt.date(2020, 10, 16)
ORDER = ("广州", "佛山", "汕头")


class Clock:
    """The store's clock, set to 10:00 of the day the test says."""

    def __init__(self) -> None:
        self.day = OPENED

    def __call__(self) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(10))


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    s = open_store("local", data_dir=tmp_path / "data", background=False, clock=clock)
    s.ensure_sheet(ITEMS)
    yield s
    s.close()


def open_item(store, n: int, city: str, due: dt.date = DUE):
    values = {"item_id": f"ZG-{n:03d}", "rule": "manual", "category": "usage", "city": city, "party_kind": "provider",
              "party": f"服务商{n}", "actor_org": f"服务商{n}", "voucher": f"V-{n}", "project": f"项目{n}", "finding": "停用", "due": due}
    return store.append(ITEMS.form_id, values, actor=PROVINCE, status=PENDING)


def move(store, record, *statuses: str):
    for status in statuses:
        record = store.update(ITEMS.form_id, record.id, base_rev=record.rev, actor=PROVINCE, status=status)
    return record


def figures(store, day: dt.date, cities=None) -> pg.Progress:
    return pg.progress(store.snapshot(ITEMS.form_id), store.audit(ITEMS.form_id), day, cities, ORDER)


@pytest.fixture
def worked(store, clock):
    """广州: four items (one closed on 10-20, one closed on 10-25, one verified, one past its due date still
    pending); 佛山: one in progress opened 10-18; 汕头: none."""
    a, b, c = open_item(store, 1, "广州"), open_item(store, 2, "广州"), open_item(store, 3, "广州")
    late = open_item(store, 4, "广州", due=dt.date(2020, 10, 19))
    clock.day = dt.date(2020, 10, 18)
    move(store, open_item(store, 5, "佛山"), IN_PROGRESS)
    clock.day = dt.date(2020, 10, 20)
    move(store, a, IN_PROGRESS, SUBMITTED, VERIFIED, CLOSED)
    move(store, c, IN_PROGRESS, SUBMITTED, VERIFIED)
    clock.day = dt.date(2020, 10, 25)
    move(store, b, IN_PROGRESS, SUBMITTED, VERIFIED, CLOSED)
    return late


def test_per_city_items_by_status_and_overdue(store, worked):
    p = figures(store, dt.date(2020, 10, 26))
    rows = p.cities.set_index(pg.CITY)
    assert list(rows.index) == list(ORDER)  # every city of the scope, in the campaign's order, with or without items
    assert rows.loc["广州", list(STATUSES)].tolist() == [1, 0, 0, 1, 2]
    assert rows.loc["广州", [pg.LATE, pg.TOTAL, pg.RATE]].tolist() == [1, 4, 50.0]
    assert rows.loc["佛山", [IN_PROGRESS, pg.LATE, pg.TOTAL]].tolist() == [1, 0, 1]
    assert rows.loc["汕头", pg.TOTAL] == 0 and rows["汕头":"汕头"][pg.RATE].isna().all()  # no item: no share, never 0%
    assert p.total == 5
    items = p.items.set_index(pg.TITLE["item_id"])
    assert items.loc["ZG-004", [pg.STATUS, pg.LATE]].tolist() == [PENDING, pg.LATE]
    assert items.loc["ZG-001", [pg.STATUS, pg.LATE]].tolist() == [CLOSED, ""]
    assert items.loc["ZG-001", pg.TITLE["due"]] == DUE


def test_a_city_sees_only_its_own_items(store, worked):
    p = figures(store, dt.date(2020, 10, 26), ("佛山",))
    assert p.cities[pg.CITY].tolist() == ["佛山"] and p.total == 1
    assert set(p.items[pg.TITLE["city"]]) == {"佛山"}
    assert set(p.closed[pg.CITY]) == {"佛山"}  # its own line, no province-wide one


def test_the_board_s_day_counts_the_items_as_they_stood_then(store, worked):
    before = figures(store, dt.date(2020, 10, 17)).cities.set_index(pg.CITY)
    assert before.loc["广州", [PENDING, CLOSED, pg.LATE]].tolist() == [4, 0, 0]  # not yet moved; ZG-004 due on 10-19
    assert before.loc["佛山", pg.TOTAL] == 0  # opened on 10-18
    middle = figures(store, dt.date(2020, 10, 21)).cities.set_index(pg.CITY)
    assert middle.loc["广州", list(STATUSES)].tolist() == [2, 0, 0, 1, 1] and middle.loc["广州", pg.LATE] == 1


def test_the_closed_share_over_time_follows_the_days_items_were_closed(store, worked):
    closed = figures(store, dt.date(2020, 10, 26)).closed
    whole = closed[closed[pg.CITY] == pg.ALL].set_index(pg.DAY)
    assert whole.index[0] == OPENED and whole.index[-1] == dt.date(2020, 10, 26)
    assert whole.loc[dt.date(2020, 10, 17), [pg.TOTAL, CLOSED]].tolist() == [4, 0]
    assert whole.loc[dt.date(2020, 10, 18), [pg.TOTAL, CLOSED]].tolist() == [5, 0]
    assert whole.loc[dt.date(2020, 10, 20), [CLOSED, pg.RATE]].tolist() == [1, 20.0]
    assert whole.loc[dt.date(2020, 10, 25), [CLOSED, pg.RATE]].tolist() == [2, 40.0]
    guangzhou = closed[closed[pg.CITY] == "广州"].set_index(pg.DAY)
    assert guangzhou.loc[dt.date(2020, 10, 25), pg.RATE] == 50.0


def test_no_items_is_no_figure(store):
    p = figures(store, dt.date(2020, 10, 26))
    assert p.total == 0 and p.items.empty and p.closed.empty
    assert p.cities[pg.TOTAL].tolist() == [0, 0, 0]


def test_items_opened_after_the_board_s_day_are_told_not_taken_for_none(store, clock):
    """Attack N7: items are opened on the wall clock, so a board on an earlier (campaign-clock) day counts
    none of them — the figures say how many it leaves out and from which day they would show."""
    open_item(store, 1, "广州")
    clock.day = dt.date(2020, 10, 18)
    open_item(store, 2, "佛山")
    early = figures(store, dt.date(2020, 10, 10))
    assert early.total == 0 and early.later == 2 and early.last_opened == dt.date(2020, 10, 18)
    middle = figures(store, dt.date(2020, 10, 16))
    assert middle.total == 1 and middle.later == 1
    assert figures(store, dt.date(2020, 10, 10), ("广州",)).later == 1  # a city is told of its own only
    assert figures(store, dt.date(2020, 10, 18)).later == 0 and figures(store, dt.date(2020, 10, 18)).last_opened is None
