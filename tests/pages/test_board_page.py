"""AppTest of pages/board.py on a real local store whose rows were filed during the 2020 campaign."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lib.campaign.board.figures import Board, compute_board
from lib.campaign.board.scope import Scope, scope_for
from lib.campaign.board.units import OVERDUE
from lib.campaign.register import kinds
from lib.campaign.register import store as reg
from lib.campaign.schedule import Calendar
from lib.core.records import Actor
from lib.demo.register import seed_register
from lib.demo.seed import generate, seed_store
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store
from lib.ui import board, board_data, board_live, state

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "board.py")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
FORMS = ("att1", "att2", "att3")  # the shipped campaign's bound forms
ROWS = 60


def clocked(data_dir, day: str):
    """A second store on the app's data dir whose changes are stamped at ``day`` 10:00."""
    at = dt.datetime.fromisoformat(day + "T10:00")
    return open_store("local", data_dir=data_dir, background=False, clock=lambda: at)


@pytest.fixture
def seeded(app_env, monkeypatch, catalog):
    """Demo rows filed on 2020-09-10, the demo register, and the campaign clock at 2020-09-25."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-25")
    store = clocked(app_env, "2020-09-10")
    seed_store(store, catalog, rows=ROWS)
    seed_register(store, catalog, rows=ROWS)
    store.close()
    return app_env


def expected(data_dir, catalog, as_of=dt.date(2020, 9, 25), scope: Scope | None = None) -> Board:
    """The board computed from the store directly: its snapshots, its audit (the rows as they stood) and its registers."""
    registers = kinds.register_kinds(catalog.campaign)
    store = open_store("local", data_dir=data_dir, background=False)
    try:
        frames = {f: store.snapshot(f) for f in FORMS}
        audit = [entry for f in FORMS for entry in store.audit(f)]
        imports = store.snapshot(reg.IMPORTS_SHEET.form_id)
        vouchers, projects = (reg.current_register(store.snapshot(registers[k].sheet_id), imports, registers[k]) for k in ("vouchers", "projects"))
    finally:
        store.close()
    return compute_board(frames, vouchers, projects, Calendar.from_specs(catalog.campaign, catalog.forms()), as_of, scope or Scope(),
                         audit)


def start(actor: Actor = PROVINCE, tab: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, actor)
    if tab:  # a tab is chosen by its label, which may be a role's name in the served campaign
        served = load_catalog(os.environ["APP_FORMS_DIR"])
        at.session_state[state.BOARD_TAB] = board.tab_label(tab, Calendar.from_specs(served.campaign, served.forms()))
    return at.run()


def metrics(at: AppTest) -> dict[str, int]:
    return {m.label: int(str(m.value).replace(",", "")) for m in at.metric}


def table(at: AppTest, first_column: str):
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def test_province_sees_every_city_and_the_known_totals(seeded, catalog):
    at = start()
    assert not at.exception and not at.error
    want = expected(seeded, catalog)
    got = metrics(at)
    assert got["应报"] == want.totals["应报"] > 0 and got["已报"] == want.totals["已报"] > 0
    assert got["逾期未报"] == want.totals["逾期未报"] and got["台账核对问题"] == want.totals["核对问题"] > 0
    assert got.get("免报", 0) == want.totals["免报"]  # shown when the register in force has a Ministry project
    progress = table(at, "地市")
    assert len(progress) == 21 * 3 and set(progress["地市"]) == set(catalog.campaign.cities)
    assert any("截至 2020-09-25" in c.value for c in at.caption)


def test_a_selectbox_narrows_the_rows_behind_the_figure(seeded, catalog):
    at = start()
    at.selectbox(key=state.drill_filter_key(state.board_table_key("progress:units"), "状态")).set_value(OVERDUE).run()
    at.selectbox(key=state.drill_filter_key(state.board_table_key("progress:units"), "地市")).set_value("广州").run()
    rows = next(d.value for d in at.dataframe if "编号" in d.value.columns)
    want = expected(seeded, catalog).units
    assert len(rows) == ((want["状态"] == OVERDUE) & (want["地市"] == "广州")).sum() > 0
    assert set(rows["状态"]) == {OVERDUE}
    assert [b for b in at.get("download_button") if "Excel" in b.proto.label]


def test_city_sees_only_its_own_city(seeded, catalog):
    at = start(Actor("city_fs", "city", "佛山市工业和信息化局", "佛山"))
    assert not at.exception and not at.error
    assert set(table(at, "地市")["地市"]) == {"佛山"}
    scope = scope_for(Actor("city_fs", "city", "佛山市工业和信息化局", "佛山"), catalog.forms())
    assert metrics(at)["应报"] == expected(seeded, catalog, scope=scope).totals["应报"]


def texts(at: AppTest) -> str:
    return "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info])


def cells(at: AppTest) -> str:
    return "\n".join(d.value.astype(str).to_csv() for d in at.dataframe)


def test_provider_sees_its_own_projects_and_tabs(seeded, catalog):
    provider = next(r.actor for r in generate(catalog, rows=ROWS, seed=2020)["att1"])
    at = start(provider, tab="进度")
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == list(board.OWN_TABS["provider"])  # no 资金支出, 检查结论, 服务商 ranking
    units = next(d.value for d in at.dataframe if "编号" in d.value.columns)
    assert set(units["单位"]) == {provider.org}
    assert "全省" not in texts(at)
    got = metrics(at)
    want = expected(seeded, catalog, scope=scope_for(provider, catalog.forms())).totals
    assert got["应报"] == want["应报"] and got["已报"] == want["已报"]
    # the totals add up, or the page says why
    assert got["应报"] == got["已报"] - want["台账外"] + got["未报"]
    if want["台账外"]:
        assert f"有 {want['台账外']:,} 条不在本单位台账中" in texts(at)


def test_lead_unit_sees_no_provider_tabs(seeded, catalog):
    lead = next(r.actor for r in generate(catalog, rows=ROWS, seed=2020)["att2"])
    at = start(lead)
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == list(board.OWN_TABS["lead_unit"])
    assert "台账核对问题" not in metrics(at)


def test_the_late_list_says_whom_to_call(seeded, catalog):
    at = start(Actor("city_fs", "city", "佛山市工业和信息化局", "佛山"), tab="逾期清单")
    assert not at.exception and not at.error
    shown = texts(at)
    for contact in catalog.campaign.contacts:
        assert contact.name in shown and contact.phone.replace("-", "\\-") in shown


def test_a_voucher_of_another_provider_is_the_provinces_to_resolve(seeded, catalog):
    """Issue 10.2 on the page: provider B files provider A's voucher."""
    title = catalog.form("att1").short_title
    units = expected(seeded, catalog).units
    entry = units[(units["表单"] == title) & units["台账内"].astype(bool)].iloc[0]
    demo = generate(catalog, rows=ROWS, seed=2020)["att1"]
    filer = next(r.actor for r in demo if scope_for(r.actor, catalog.forms()).org != entry["单位"])
    owner = next(r.actor for r in demo if scope_for(r.actor, catalog.forms()).org == entry["单位"])
    before = expected(seeded, catalog, scope=scope_for(owner, catalog.forms())).totals
    store = clocked(seeded, "2020-09-11")
    row = next(r for r in demo if r.actor == filer)
    store.append("att1", {**row.values, "voucher_no": entry["编号"], "client_name": "乙方自填企业"}, actor=filer, status="已提交")
    store.close()

    province = start(tab="台账核对")
    assert "待核定：服务券属其他单位（1 条）" in texts(province)
    columns = board.conflict_columns(Calendar.from_specs(catalog.campaign, catalog.forms()))
    listed = next(d.value for d in province.dataframe if list(d.value.columns) == columns)
    assert listed[["服务券编号", "填报服务商", "台账服务商"]].values.tolist() == [[entry["编号"], scope_for(filer, catalog.forms()).org, entry["单位"]]]

    theirs = start(filer, tab="台账核对")
    assert not theirs.exception and not theirs.error
    for fact in (entry["单位"], entry["名称"]):  # the entry's provider and firm
        assert fact not in cells(theirs) and fact not in texts(theirs)
    assert expected(seeded, catalog, scope=scope_for(owner, catalog.forms())).totals == before  # A's progress as it was


@pytest.mark.parametrize("tab", board.TABS)
def test_every_tab_renders(seeded, tab):
    at = start(tab=tab)
    assert not at.exception and not at.error, tab


def test_a_new_submission_shows_on_the_next_refresh(seeded, catalog):
    at = start()
    before = metrics(at)
    row = next(r for r in generate(catalog, rows=ROWS, seed=99)["att1"])
    values = {**row.values, "voucher_no": "SYQ-2019-9999-00001"}
    other = clocked(seeded, "2020-09-20")  # filed two days after the deadline
    other.ensure_sheet(sheet_spec(catalog.form("att1")))
    other.append("att1", values, actor=row.actor, status="已提交")
    other.close()
    board_data.clear_shared()  # the snapshot period is over (rather than sleeping through it)
    after = metrics(at.run())
    assert after["已报"] == before["已报"] + 1
    assert after["台账核对问题"] == before["台账核对问题"] + 1  # not in the register


def test_campaign_clock_before_the_deadline(seeded, catalog):
    at = start()
    at.date_input(key=state.BOARD_AS_OF).set_value(dt.date(2020, 9, 15)).run()
    got = metrics(at)
    assert got["逾期未报"] == 0 and got["已报"] == expected(seeded, catalog, as_of=dt.date(2020, 9, 15)).totals["已报"]
    at.date_input(key=state.BOARD_AS_OF).set_value(dt.date(2020, 9, 5)).run()
    assert metrics(at)["已报"] == 0  # nothing had been filed yet


def test_viewers_share_one_snapshot_per_period_whatever_their_number(seeded, catalog, monkeypatch):
    import math
    from collections import Counter

    from lib.ui import context

    start()  # the first viewer opens the process's store
    store = context.store()
    reads: list[str] = []
    original = store.snapshot
    monkeypatch.setattr(store, "snapshot", lambda form_id: reads.append(form_id) or original(form_id))
    board_data.clear_shared()  # the first viewer's snapshot forgotten: the viewers below read afresh at least once
    viewers = [PROVINCE] + [Actor(f"city_{i}", "city", f"{city}市工业和信息化局", city) for i, city in enumerate(catalog.campaign.cities[:9])]
    began = time.monotonic()
    for actor in viewers * 2:  # 20 page runs by 10 viewers
        at = start(actor)
        assert not at.exception and not at.error
    periods = math.ceil((time.monotonic() - began) / board_data.SNAPSHOT_TTL) + 1
    # each sheet read at most once per snapshot period by each shared snapshot that holds it (a sampling sheet
    # is in the board's and in 抽查进度's), whatever the number of viewers
    per_sheet = Counter(reads)
    assert per_sheet, "no viewer read the store"
    assert max(per_sheet.values()) <= 2 * periods, (per_sheet, periods)
    # not one read per viewer, so long as the runs came faster than the snapshot's lifetime (on a machine so
    # loaded that each run outlasts it, every run rightly reads again: the bound above still holds)
    assert periods >= len(viewers) * 2 or max(per_sheet.values()) < len(viewers) * 2, (per_sheet, periods)


def test_a_long_table_draws_its_first_rows_and_says_so(seeded, catalog, monkeypatch):
    monkeypatch.setattr(board, "SHOWN_ROWS", 10)
    at = start()
    units = next(d.value for d in at.dataframe if "编号" in d.value.columns)
    total = len(expected(seeded, catalog).units)
    assert len(units) == 10 < total
    assert any(f"进度明细：{total:,} 行" in c.value and "显示前 10 行" in c.value for c in at.caption)
    assert not units.isin(["None", "nan", "NaT"]).any().any() and not units.isna().any().any()  # blanks are blank


def test_an_idle_open_board_computes_nothing_on_a_tick_and_redraws_on_a_change(seeded, catalog, monkeypatch):
    """Issue 17 (outcomes 0, 6): the open board's 5-s tick checks the change counters and nothing else
    while the data stays the same (no prepare, no figures, no drawing); a new row makes it stale."""
    from lib.campaign.board import figures, incremental

    at = start()
    assert not at.exception and not at.error
    seen = at.session_state[board_live.SEEN]
    calls: list[str] = []
    for module, name in ((incremental, "start"), (incremental, "advance"), (board, "render_board"), (board_data, "current_board"), (figures, "board"),
                         (board, "filter_options")):
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _n=name, _f=original, **k: calls.append(_n) or _f(*a, **k))
    as_of = dt.date(2020, 9, 25)
    for _ in range(3):  # three ticks, the snapshot period over before each
        board_data.clear_shared()
        assert board_live.stale(seen, PROVINCE, as_of) == (False, seen)
    assert calls == []

    row = next(r for r in generate(catalog, rows=ROWS, seed=98)["att1"])
    other = clocked(seeded, "2020-09-20")
    other.append("att1", {**row.values, "voucher_no": "SYQ-2019-9999-00002"}, actor=row.actor, status="已提交")
    other.close()
    board_data.clear_shared()
    assert board_live.stale(seen, PROVINCE, as_of)[0]
    assert "advance" in calls and "start" not in calls and "render_board" not in calls  # the tick computes the figures, the page run draws
    before = metrics(at)
    after = metrics(at.run())
    assert after["已报"] == before["已报"] + 1
    assert calls.count("advance") == 1 and calls.count("board") == 1  # the redraw used what the tick computed


def test_a_row_elsewhere_leaves_a_city_board_as_it_was_and_one_in_the_city_redraws_it(seeded, catalog, monkeypatch):
    """Issue 17 (outcome 7): after a new row, the open boards its scope does not reach keep their board:
    the same object, not counted again, and their watcher does not redraw them; the province's board and
    that of the row's city are redrawn with it."""
    from lib.campaign.board import figures

    as_of = dt.date(2020, 9, 25)
    foshan = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")
    city_at, province_at = start(foshan), start()
    city_seen, province_seen = city_at.session_state[board_live.SEEN], province_at.session_state[board_live.SEEN]
    scopes: list[str] = []
    original = figures.board
    monkeypatch.setattr(figures, "board", lambda prepared, scope=figures.EVERYTHING: scopes.append(scope.label) or original(prepared, scope))
    rows = iter(generate(catalog, rows=ROWS, seed=96)["att1"])

    def file(values: dict, voucher: str) -> None:
        row = next(rows)
        other = clocked(seeded, "2020-09-20")
        other.append("att1", {**row.values, **values, "voucher_no": voucher}, actor=row.actor, status="已提交")
        other.close()
        board_data.clear_shared()

    file({"client_city": "广州"}, "SYQ-2019-9999-00011")
    assert board_live.stale(province_seen, PROVINCE, as_of)[0]  # the province looks; the city's viewer not yet
    file({"client_city": "深圳"}, "SYQ-2019-9999-00013")
    stale, now = board_live.stale(city_seen, foshan, as_of)
    assert not stale and now[1] == city_seen[1] and now[0] != city_seen[0]  # new counters, the same board
    assert scopes == ["全省"]  # the city's board carried over two changes, not counted again
    assert metrics(city_at.run()) == metrics(start(foshan))  # and it is what a fresh count of the city gives

    file({"client_city": "佛山"}, "SYQ-2019-9999-00012")
    assert board_live.stale(now, foshan, as_of)[0]
    before = metrics(city_at)
    assert metrics(city_at.run())["已报"] == before["已报"] + 1


def test_the_open_board_is_watched_by_a_clock_of_the_page_being_seen(seeded):
    """Issue 17 (outcome 6): the watcher's reruns come from the browser's visible-only clock
    (``lib.ui.visibility``; tests/browser/test_board_visibility.py shows it in Chromium), one period apart."""
    at = start()
    [clock] = [e for e in at.get("bidi_component") if e.proto.component_name == "visible_clock"]
    assert json.loads(clock.proto.json) == {"period_ms": board_data.REFRESH_SECONDS * 1000}


def test_the_refresh_button_draws_a_row_filed_meanwhile(seeded, catalog):
    """Where the browser's clock cannot run, 刷新 redraws the board from the current data."""
    at = start()
    before = metrics(at)["已报"]
    row = next(r for r in generate(catalog, rows=ROWS, seed=97)["att1"])
    other = clocked(seeded, "2020-09-20")
    other.append("att1", {**row.values, "voucher_no": "SYQ-2019-9999-00003"}, actor=row.actor, status="已提交")
    other.close()
    board_data.clear_shared()
    next(b for b in at.button if b.label == "刷新").click().run()
    assert not at.exception and metrics(at)["已报"] == before + 1


def test_filter_options_are_computed_once_per_data_change_for_every_viewer(seeded, catalog, monkeypatch):
    """The drill tables' choices come from the shared board, once per table and column, not per page run."""
    computed: list[str] = []
    original = board.filter_options
    monkeypatch.setattr(board, "filter_options", lambda frame, column: computed.append(column) or original(frame, column))
    first = start()
    once = list(computed)
    assert {"地市", "表单"} <= set(once)
    start()  # another viewer of the same scope, unchanged data
    first.run()  # and the first one's next run
    assert computed == once


def test_a_broken_binding_is_shown_never_a_board_of_zeros(app_env, tmp_path, monkeypatch):
    """A campaign.yaml binding to a field the form does not have: the page names the file, line and key
    and draws no figure (issue 12, outcome 1)."""
    import shutil

    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    text = (forms / "campaign.yaml").read_text(encoding="utf-8")
    assert text.count("      voucher: voucher_no\n") == 4  # the projects form's (first), the checks', the inspections', the complaints'
    (forms / "campaign.yaml").write_text(text.replace("      voucher: voucher_no\n", "      voucher: voucher_number\n", 1), encoding="utf-8")
    line = text.splitlines().index("      voucher: voucher_no") + 1
    monkeypatch.setenv("APP_FORMS_DIR", str(forms))
    at = start()
    assert not at.exception and not at.metric and not at.dataframe
    shown = "\n".join(e.value for e in at.error)
    assert "campaign.yaml" in shown and f"第 {line} 行" in shown and "voucher_number" in shown, shown


OTHER = ROOT / "tests" / "campaigns" / "other"


@pytest.mark.parametrize("tab", board.TABS)
def test_the_second_campaign_runs_on_the_same_page(app_env, monkeypatch, tab):
    """tests/campaigns/other served as the campaign (its own form ids, keys, words, calendar): every tab
    renders, the progress lists its forms, and a project it files counts, with no code for it."""
    from lib.forms import load_catalog

    other = load_catalog(OTHER)
    monkeypatch.setenv("APP_FORMS_DIR", str(OTHER))
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2021-09-25")
    store = open_store("local", data_dir=app_env, background=False, clock=lambda: dt.datetime(2021, 9, 10, 10))
    store.ensure_sheet(sheet_spec(other.form("cloud_projects")))
    filer = Actor("v1", "provider", "服务商甲", "广州")
    store.append("cloud_projects", {"coupon_code": "Q-000001", "vendor_name": "服务商甲", "enterprise_city": "广州",
                                    "enterprise_name": "甲企业", "enterprise_uscc": "91440101MA59TEST0X", "grant_wan": 10.0,
                                    "use_state": "搁置"}, actor=filer, status="已提交")
    store.close()
    at = start(tab=tab)
    assert not at.exception and not at.error, tab
    assert metrics(at)["已报"] == 1
    if tab == "进度":
        titles = set(table(at, "地市")["表单"])
        assert titles == {other.form(f).short_title for f in ("cloud_projects", "bench_reports", "city_inspections")}
    if tab == "使用情况":
        rows = next(d.value for d in at.dataframe if "使用状态" in d.value.columns and "记录编号" in d.value.columns)
        assert rows["使用状态"].tolist() == ["搁置"] and rows["服务券编号"].tolist() == ["Q-000001"]


def test_a_campaign_that_renames_its_roles_is_shown_in_its_words(app_env, monkeypatch, tmp_path):
    """The second campaign with every role renamed (tests/campaign/test_renamed_roles.py): the filers' tab, the late list,
    its table and the usage tab's filter are named 供应商, and no 2020 role word is shown."""
    from lib.campaign.register import upload
    from lib.forms.types import credit_code_check_char
    from lib.office.excel import SheetRows
    from tests.campaign.test_renamed_roles import OLD_WORDS, renamed_campaign

    third = renamed_campaign(tmp_path / "third")
    monkeypatch.setenv("APP_FORMS_DIR", str(third))
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2021-09-25")
    store = open_store("local", data_dir=app_env, background=False, clock=lambda: dt.datetime(2021, 9, 10, 10))
    served = load_catalog(third)
    vouchers = kinds.register_kinds(served.campaign)["vouchers"]
    head = [vouchers.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]
    code = "91440101MA59ABCDE" + credit_code_check_char("91440101MA59ABCDE")
    register = [head, ["Q-000001", "甲企业", code, "云商甲", "广州", 2020, 10, "已兑现"],
                ["Q-000002", "乙企业", code, "云商甲", "广州", 2020, 5, "已兑现"]]
    reg.import_register(store, upload.parse_register(vouchers, [SheetRows("S", register)]), Actor("province", "province"),
                        file_name="清单.xlsx")
    store.ensure_sheet(sheet_spec(served.form("cloud_projects")))
    store.append("cloud_projects", {"coupon_code": "Q-000001", "vendor_name": "云商甲", "enterprise_city": "广州",
                                    "enterprise_name": "甲企业", "enterprise_uscc": "91440101MA59TEST0X", "grant_wan": 10.0,
                                    "use_state": "搁置"}, actor=Actor("v1", "provider", "云商甲", "广州"), status="已提交")
    store.close()
    for tab in (board.UNITS_TAB, "逾期清单", "使用情况"):
        at = start(tab=tab)
        assert not at.exception and not at.error, tab
        assert "供应商" in [t.label for t in at.tabs]
        shown = texts(at) + cells(at) + "\n".join(" ".join(map(str, d.value.columns)) for d in at.dataframe)
        shown += "\n".join(s.label for s in at.selectbox)
        assert [w for w in OLD_WORDS if w in shown] == [], tab
        if tab == "逾期清单":  # the checks are due from each city's bureau, named as the campaign names it
            assert "广州市经济和信息化局" in cells(at) and "市经信局" in cells(at)
    assert "供应商" in [s.label for s in at.selectbox]  # the usage rows are filtered by the role's name


def test_a_past_day_keeps_its_register_after_a_re_import(seeded, catalog):
    """The register is imported again on 9-26 (fewer entries): the board as of 9-25 still counts what was
    due that day under the register then in force; as of 9-26 it counts the new one."""
    before = expected(seeded, catalog).totals
    store = clocked(seeded, "2020-09-26")
    seed_register(store, catalog, rows=5, seed=7)
    store.close()
    board_data.clear_shared()

    def totals(day: dt.date) -> dict:
        at = AppTest.from_file(PAGE, default_timeout=60)
        sign_in(at, PROVINCE)
        at.session_state[state.BOARD_AS_OF] = day
        at = at.run()
        assert not at.exception and not at.error
        return metrics(at)

    then = totals(dt.date(2020, 9, 25))
    assert (then["应报"], then["未报"], then["逾期未报"]) == (before["应报"], before["未报"], before["逾期未报"])
    now = expected(seeded, catalog, as_of=dt.date(2020, 9, 26)).totals  # computed from the register in force now
    assert totals(dt.date(2020, 9, 26))["应报"] == now["应报"] < before["应报"]


def test_a_campaign_clock_before_the_register_import_counts_the_first_import_and_says_which(seeded, catalog, monkeypatch):
    """G6: the register is stamped with the store's clock (2020-09-10 here, the real day in the app) and
    the campaign clock is 2020-09-08: the board of its default day used to count no register (应报 0)."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-08")
    at = start()
    assert not at.exception and not at.error
    want = expected(seeded, catalog, as_of=dt.date(2020, 9, 8))  # the register in force now: the only import
    assert metrics(at)["应报"] == want.totals["应报"] > 0
    title = kinds.register_kinds(catalog.campaign)["vouchers"].title
    [note] = [c.value for c in at.caption if c.value.startswith("计入的台账")]
    assert f"{title}：2020-09-10 10:00 导入（演示_{title}.xlsx），截至日期早于首次导入" in note


def test_an_inspector_sees_only_its_assignment_and_without_one_is_told_so(seeded, catalog):
    """The province freezes the demo register, draws the projects and then the inspectors; a member of a
    group opens the board: its units are the sampled projects of its group's city (附件1) and that city's
    entries and rows (the other forms), nothing else. An inspector in no group is told it has no task,
    with no figures, and nothing is audited for it on each refresh."""
    from lib.auth.accounts import Account
    from lib.campaign.register.reconcile import normalize_code
    from lib.sampling.assignments import draw_inspectors
    from lib.sampling.record import DRAW_ROWS, freeze, record_draw

    cities = catalog.campaign.cities
    pool = [Account(f"ins{n:03d}", "inspector", org=f"检查单位{n}", name=f"检查员{n}", city=cities[n % len(cities)],
                    health_declared_on="2020-09-20") for n in range(3 * len(cities) + 6)]
    store = open_store("local", data_dir=seeded, background=False)
    try:
        info, _ = freeze(store, catalog, PROVINCE)
        record_draw(store, catalog, info.frame_id, "20200922", PROVINCE)
        drawn = draw_inspectors(store, catalog, pool, "7", PROVINCE, day=dt.date(2020, 9, 25))
        sampled = [r.values for r in store.records(DRAW_ROWS.form_id)]
    finally:
        store.close()
    group = drawn.assignment.groups[0]
    member = next(a for a in pool if a.account == group.members[0])
    idle = next(a for a in pool if all(a.account not in g.members for g in drawn.assignment.groups))

    at = start(member.actor())
    assert not at.exception and not at.error
    units = table(at, "表单")
    title = Calendar.from_specs(catalog.campaign, catalog.forms()).title("att1")
    projects = units[units["表单"] == title]
    mine = set(normalize_code(pd.Series([v["voucher"] for v in sampled if v["city"] == group.city])))
    assert mine and set(projects["编号"]) == mine  # every sampled project of its city, and no other
    assert set(units.loc[units["表单"] != title, "地市"]) == {group.city}
    assert any(f"检查任务：{group.city}市" in c.value for c in at.caption)

    at = start(idle.actor())
    assert not at.exception and "没有检查任务" in "\n".join(e.value for e in at.error)
    assert not at.metric and not at.dataframe
    store = open_store("local", data_dir=seeded, background=False)
    try:
        assert not [e for e in store.audit() if e.account == idle.account]
    finally:
        store.close()


def test_the_boards_of_earlier_changes_are_forgotten_with_their_prepared_figures(seeded, catalog):
    """bench/sessions_bench.py: each change kept every viewed scope's board of every earlier change (a cache of
    256 keyed by the change counter: 181 boards and 2,839 frames after 8 changes with 22 scopes viewed). A
    scope's board now lives as long as the prepared figures it was made from, which the board keeps 4 of."""
    import gc

    from lib.campaign.board import figures

    city = Actor("city_gz", "city", "广州市工业和信息化局", catalog.campaign.cities[0])
    demo = generate(catalog, rows=ROWS, seed=95)["att1"]
    for i in range(8):
        for actor in (PROVINCE, city):
            assert not start(actor).exception
        other = clocked(seeded, "2020-09-20")
        other.append("att1", {**demo[i].values, "voucher_no": f"SYQ-2019-9999-{i:05d}"}, actor=demo[i].actor,
                     status="已提交")
        other.close()
        board_data.clear_shared()
    gc.collect()
    boards = [o for o in gc.get_objects() if isinstance(o, figures.Board)]
    assert 2 <= len(boards) <= 4 * 2, len(boards)  # two scopes viewed, of at most the 4 prepared figures kept
