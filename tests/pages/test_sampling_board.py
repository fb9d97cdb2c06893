"""AppTest of the board's 抽查进度 tab (issue 13, outcome 7) on a real local store: a register imported,
the frame frozen, the projects drawn, inspections filed; the province sees every city and the estimates,
a city its own city's rows only."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from lib import review
from lib.core.records import Actor
from lib.forms.columns import sheet_spec
from lib.sampling import progress as pg
from lib.sampling import record
from lib.store.factory import open_store
from lib.ui import state
from tests.sampling.conftest import PROVINCE, SHIPPED, import_vouchers
from tests.sampling.test_progress import FORM, INSPECTIONS, file_inspection

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "board.py")
TAB = "抽查进度"
CITIES = [c for c in SHIPPED.campaign.cities if c not in SHIPPED.campaign.outside_scheme][:3]


def start(actor: Actor = PROVINCE) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, actor)
    at.session_state[state.BOARD_TAB] = TAB
    return at.run()


def metrics(at: AppTest) -> dict[str, int]:
    return {m.label: int(str(m.value).replace(",", "")) for m in at.metric}


def _stock(app_env, monkeypatch, *, returned: int = 0) -> tuple[list[dict], list[dict]]:
    """30 projects in three cities, frozen and drawn (each city draws by chance); each city's first drawn
    project inspected (the first failed) by an inspector assigned to them (``lib.submissions``), the
    last ``returned`` of those returned for correction by the province (``lib.review``). The campaign
    clock is the day after the inspection deadline. Returns the drawn rows and the inspected ones."""
    deadline = pg.Setting.of(SHIPPED).deadline
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", f"{deadline + dt.timedelta(days=1):%Y-%m-%d}")
    store = open_store("local", data_dir=app_env, background=False)
    try:
        import_vouchers(store, [(f"V-{i:06d}", CITIES[i % 3], f"服务商{i % 4}", float(5 + 3 * i)) for i in range(30)])
        info, _ = record.freeze(store, SHIPPED, PROVINCE)
        rows = record.draw_rows(store, record.record_draw(store, SHIPPED, info.frame_id, "424242", PROVINCE).draw_id)
        store.ensure_sheet(sheet_spec(FORM))
        firsts = list({r["city"]: r for r in reversed(rows)}.values())
        for i, row in enumerate(firsts):
            file_inspection(store, row, rows, usage="in_use", conclusion="fail" if i == 0 else "pass")
        for row in firsts[len(firsts) - returned:]:
            [filed] = [r for r in store.records(FORM.id) if r.values[INSPECTIONS.key("voucher")] == row["voucher"]]
            assert len(review.return_for_changes(store, FORM, PROVINCE, {filed.id: filed.rev}, "照片看不清").done) == 1
    finally:
        store.close()
    return rows, firsts


@pytest.fixture
def sampled(app_env, monkeypatch):
    """Every city's first drawn project inspected, one failed (``_stock``). Returns the drawn rows."""
    return _stock(app_env, monkeypatch)[0]


def test_before_any_draw_the_tab_says_so(app_env):
    at = start()
    assert not at.exception and not at.error
    assert any("尚未抽样" in i.value for i in at.info)


def test_the_province_sees_every_city_the_counts_and_the_estimates(sampled):
    at = start()
    assert not at.exception and not at.error
    got = metrics(at)
    assert got[pg.DRAWN] == len(sampled) and got[pg.INSPECTED] == 3 and got[pg.OVERDUE] == len(sampled) - 3
    cities = next(d.value for d in at.dataframe if pg.POPULATION in d.value.columns)
    assert set(cities[pg.CITY]) == set(CITIES) and cities[pg.POPULATION].sum() == 30
    projects = next(d.value for d in at.dataframe if "检查情况" in d.value.columns)
    assert sorted(projects["服务券编号"]) == sorted(r["voucher"] for r in sampled)
    estimates = next(d.value for d in at.dataframe if "估计项" in d.value.columns)
    assert tuple(estimates["估计项"]) == pg.estimate_labels(SHIPPED.bindings.of("inspections"))
    assert all("95% 置信区间" in t for t in estimates["估计（95% 置信区间）"]) and set(estimates["依据的已检查项目数"]) == {3}
    assert any(c.value.startswith("方法：") for c in at.caption)
    assert len([b for b in at.get("download_button") if "Excel" in b.proto.label]) == 2  # each table exports


def test_the_drawn_projects_export_with_money_in_its_format(sampled, app_env):
    """The export the tab's 导出为 Excel builds (``lib.ui.board.drill``: ``export.workbook`` with the tab's kinds)."""
    import io

    from openpyxl import load_workbook

    from lib.campaign.board import export
    from lib.ui import sampling_board

    store = open_store("local", data_dir=app_env, background=False)
    try:
        projects = pg.of_store(store, SHIPPED, pg.Setting.of(SHIPPED).deadline).projects
    finally:
        store.close()
    sheet = load_workbook(io.BytesIO(export.workbook({"抽中项目": projects}, sampling_board.KINDS)))["抽中项目"]
    header = [c.value for c in sheet[1]]
    money = sheet.cell(row=2, column=header.index(pg.heading("subsidy")) + 1)
    assert sheet.max_row == len(sampled) + 1 and isinstance(money.value, int | float) and "0.00" in money.number_format


def test_a_city_sees_its_own_citys_rows_and_no_estimates(sampled):
    city = CITIES[0]
    at = start(Actor("city_1", "city", f"{city}市工业和信息化局", city))
    assert not at.exception and not at.error
    projects = next(d.value for d in at.dataframe if "检查情况" in d.value.columns)
    assert set(projects["企业所在地市"]) == {city} and len(projects) == sum(r["city"] == city for r in sampled)
    assert not [d for d in at.dataframe if "估计项" in d.value.columns]
    assert metrics(at)[pg.DRAWN] == len(projects)


def test_a_table_narrows_by_its_filter(sampled):
    at = start()
    city = sampled[0]["city"]
    at.selectbox(key=state.drill_filter_key(state.board_table_key("sampling:projects"), "企业所在地市")).set_value(city).run()
    projects = next(d.value for d in at.dataframe if "检查情况" in d.value.columns)
    assert set(projects["企业所在地市"]) == {city}


def test_a_returned_record_is_counted_apart_and_the_estimates_say_what_they_wait_for(app_env, monkeypatch):
    """Attack M13 and M6 on the page: a record the province returned (退回修改) is not counted as inspected,
    the tab says so; its city's chance-drawn projects then have none inspected, so the estimates are not
    made and each says which city they wait for."""
    rows, firsts = _stock(app_env, monkeypatch, returned=1)
    at = start()
    assert not at.exception and not at.error
    assert metrics(at)[pg.INSPECTED] == 2 and metrics(at)[pg.OVERDUE] == len(rows) - 3
    assert any("1 个抽中项目的现场检查记录已被省厅退回修改" in i.value for i in at.info)
    assert any("退回修改不计" in c.value for c in at.caption)
    cities = next(d.value for d in at.dataframe if pg.POPULATION in d.value.columns).set_index(pg.CITY)
    assert cities.loc[firsts[-1]["city"], pg.SENT_BACK] == 1 and cities[pg.SENT_BACK].sum() == 1
    projects = next(d.value for d in at.dataframe if "检查情况" in d.value.columns).set_index("服务券编号")
    assert projects.loc[firsts[-1]["voucher"], "检查情况"] == pg.SENT_BACK
    estimates = next(d.value for d in at.dataframe if "估计项" in d.value.columns)
    assert all(t == f"依据尚不完整：{firsts[-1]['city']}的随机抽中项目尚无检查记录，暂不作全省估计"
               for t in estimates["估计（95% 置信区间）"])
    assert set(estimates["依据的已检查项目数"]) == {0}
