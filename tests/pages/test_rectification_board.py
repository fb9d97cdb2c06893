"""AppTest of the board's 整改进度 tab (issue 14, outcome 4) on a real local store with rectification items in
two cities: the province sees every city, a city its own; the tables filter and export like the other
tabs; a new item shows on the next refresh; a campaign without a rectification section says so."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from lib.core.records import Actor
from lib.rectification import progress as pg
from lib.rectification.records import CLOSED, IN_PROGRESS, ITEMS, PENDING, SUBMITTED, VERIFIED
from lib.store.factory import open_store
from lib.ui import rectification_board, state

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "board.py")
TAB = "整改进度"
PROVINCE = Actor("province", "province", "省厅")
CITY_FS = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")


def start(actor: Actor = PROVINCE) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, actor)
    at.session_state[state.BOARD_TAB] = TAB
    return at.run()


#: The tab's own metrics (the board's summary above every tab has others).
SHOWN = ("整改事项", CLOSED, pg.LATE, pg.RATE)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric if m.label in SHOWN}


def frame(at: AppTest, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def open_item(store, n: int, city: str, due=dt.date(2020, 10, 31)):
    values = {"item_id": f"ZG-{n:03d}", "rule": "manual", "category": "usage", "city": city, "party_kind": "provider",
              "party": f"服务商{n}", "actor_org": f"服务商{n}", "voucher": f"V-{n}", "project": f"项目{n}", "finding": "停用", "due": due}
    return store.append(ITEMS.form_id, values, actor=PROVINCE, status=PENDING)


@pytest.fixture
def items(app_env, monkeypatch):
    """广州: one closed, one pending past its due date; 佛山: one in progress. Campaign clock: 2020-11-02."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-11-02")
    store = open_store("local", data_dir=app_env, background=False, clock=lambda: dt.datetime(2020, 10, 20, 10))
    try:
        store.ensure_sheet(ITEMS)
        done = open_item(store, 1, "广州")
        for status in (IN_PROGRESS, SUBMITTED, VERIFIED, CLOSED):
            done = store.update(ITEMS.form_id, done.id, base_rev=done.rev, actor=PROVINCE, status=status)
        open_item(store, 2, "广州", due=dt.date(2020, 10, 25))
        moving = open_item(store, 3, "佛山")
        store.update(ITEMS.form_id, moving.id, base_rev=moving.rev, actor=PROVINCE, status=IN_PROGRESS)
    finally:
        store.close()
    return app_env


def test_the_province_sees_every_city_with_its_items_by_status_and_overdue(items):
    at = start()
    assert not at.exception and not at.error
    assert metrics(at) == {"整改事项": "3", CLOSED: "1", pg.LATE: "2", pg.RATE: "33.3"}  # both open items are past 10-31
    cities = frame(at, IN_PROGRESS).set_index(pg.CITY)
    assert cities.loc["广州", [PENDING, CLOSED, pg.LATE, pg.TOTAL]].tolist() == [1, 1, 1, 2]
    assert cities.loc["佛山", [IN_PROGRESS, pg.TOTAL]].tolist() == [1, 1]
    shown = frame(at, pg.STATUS)
    assert sorted(shown[pg.TITLE["item_id"]]) == ["ZG-001", "ZG-002", "ZG-003"]
    assert pg.ALL in set(frame(at, pg.DAY)[pg.CITY])


def test_a_city_sees_only_its_own_items(items):
    at = start(CITY_FS)
    assert not at.exception and not at.error
    assert metrics(at)["整改事项"] == "1"
    assert frame(at, IN_PROGRESS)[pg.CITY].tolist() == ["佛山"]
    assert frame(at, pg.STATUS)[pg.TITLE["item_id"]].tolist() == ["ZG-003"]
    shown = "\n".join(str(v) for d in at.dataframe for v in d.value.to_numpy().ravel())
    assert "ZG-001" not in shown and "ZG-002" not in shown and "广州" not in shown


def test_the_items_filter_down_and_export(items):
    at = start()
    key = state.board_table_key("rectify:items")
    at.selectbox(key=state.drill_filter_key(key, pg.LATE)).set_value(pg.LATE).run()
    assert not at.exception
    assert sorted(frame(at, pg.STATUS)[pg.TITLE["item_id"]]) == ["ZG-002", "ZG-003"]
    assert any(b.proto.id and key in b.proto.id for b in at.get("download_button"))


def test_a_new_item_shows_on_the_next_refresh(items):
    at = start()
    store = open_store("local", data_dir=items, background=False, clock=lambda: dt.datetime(2020, 10, 22, 10))
    try:
        open_item(store, 4, "佛山")
    finally:
        store.close()
    rectification_board._items_snapshot.clear()  # the snapshot period is over (rather than sleeping through it)
    assert metrics(at.run())["整改事项"] == "4"


def test_before_any_item_the_tab_says_so(app_env):
    at = start()
    assert not at.exception and not at.error and not metrics(at)
    assert any("还没有整改事项" in i.value for i in at.info)


def test_on_a_day_before_the_items_were_opened_the_tab_says_how_many_and_how_to_see_them(items):
    """Attack N7: the campaign clock on a day before the items were opened (on the wall clock) — the lists
    and 待办 flag them 逾期 on that day — the tab says they exist and are not counted, never that there are none."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, PROVINCE)
    at.session_state[state.BOARD_TAB] = TAB
    at.session_state[state.BOARD_AS_OF] = dt.date(2020, 10, 19)  # the items were opened on 10-20
    at.run()
    assert not at.exception and not at.error and not metrics(at)
    said = [i.value for i in at.info]
    assert not any("还没有整改事项" in s for s in said)
    assert any("3 项整改事项" in s and "2020-10-20" in s for s in said)
