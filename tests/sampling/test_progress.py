"""The sampling's progress per city and the estimates from the inspected drawn projects (issue 13, outcome 7),
on a real local store: a register imported, the frame frozen, a draw recorded, inspections filed."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from lib.core.records import Actor
from lib.core.statuses import DRAFT, SUBMITTED
from lib.forms.columns import sheet_spec
from lib.sampling import progress as pg
from lib.sampling import record
from lib.sampling.estimate import share

from .conftest import PROVINCE, SHIPPED, import_vouchers

INSPECTOR = Actor("inspector_1", "inspector", "省检查组")
#: Three cities the scheme covers (a register entry elsewhere is excluded at import), in the campaign's order.
CITIES = [c for c in SHIPPED.campaign.cities if c not in SHIPPED.campaign.outside_scheme][:3]


@pytest.fixture
def drawn(store):
    """A register of 10 projects in each of three cities (all in scope), frozen and drawn: (store, draw rows)."""
    entries = [(f"V-{i:06d}", CITIES[i % 3], f"服务商{i % 4}", float(5 + 3 * i)) for i in range(30)]
    import_vouchers(store, entries)
    info, _ = record.freeze(store, SHIPPED, PROVINCE)
    draw = record.record_draw(store, SHIPPED, info.frame_id, "424242", PROVINCE)
    return store, record.draw_rows(store, draw.draw_id)


def file_inspection(store, voucher: str, city: str, *, usage: str, conclusion: str, status: str = SUBMITTED,
                    date: dt.date = dt.date(2020, 10, 1)) -> None:
    """An inspection row as the inspector files it (its meanings under the campaign's keys and words).
    Written with the store directly: these tests are about counting filed rows, not about who may file."""
    binding = SHIPPED.bindings.of("inspections")
    store.ensure_sheet(sheet_spec(SHIPPED.form(binding.form)))
    values = {binding.key("voucher"): voucher, binding.key("city"): city, binding.key("date"): date,
              binding.key("usage"): binding.word("usage", usage), binding.key("conclusion"): binding.word("conclusion", conclusion)}
    store.append(binding.form, values, actor=INSPECTOR, status=status)


def test_the_deadline_is_the_inspection_forms_own_and_the_phase_is_found_by_the_calendar():
    setting = pg.Setting.of(SHIPPED)
    form = SHIPPED.form(SHIPPED.bindings.of("inspections").form)
    assert setting.deadline == SHIPPED.campaign.deadlines[form.deadline]
    [phase] = [p for p in SHIPPED.campaign.phases if p.start <= setting.deadline <= p.end]
    assert setting.phase == phase.name
    assert setting.rules == tuple(r.name for r in SHIPPED.campaign.sampling.priority_rules)


def test_before_any_draw_there_is_no_progress(store):
    p = pg.of_store(store, SHIPPED, dt.date(2020, 9, 25))
    assert p.draw_id is None and p.cities.empty and p.projects.empty and p.estimates == ()


def test_per_city_n_drawn_by_way_and_rule_and_nothing_inspected_yet(drawn):
    store, rows = drawn
    p = pg.of_store(store, SHIPPED, dt.date(2020, 9, 25))
    table = p.cities.set_index(pg.CITY)
    assert list(table.index) == list(CITIES)  # the campaign's order
    assert table[pg.POPULATION].tolist() == [10, 10, 10]
    by_city = pd.Series([r["city"] for r in rows]).value_counts()
    assert table[pg.DRAWN].to_dict() == by_city.to_dict()
    ways = [c for c in table.columns if c in {r["selection"] for r in rows}]
    assert (table[ways].sum(axis=1) == table[pg.DRAWN]).all()  # every drawn project came one way
    for name in pg.Setting.of(SHIPPED).rules:
        assert table[f"规则：{name}"].sum() == sum(name in r["rules"] for r in rows)
    assert (table[pg.WAITING] == table[pg.DRAWN]).all() and table[pg.INSPECTED].sum() == 0 and table[pg.OVERDUE].sum() == 0
    assert len(p.projects) == len(rows)
    assert [e.estimate for e in p.estimates] == [None, None, None]  # said so, never 0%
    assert all("尚无已检查" in e.text for e in p.estimates)


def test_after_the_deadline_every_drawn_project_not_inspected_is_overdue(drawn):
    store, rows = drawn
    file_inspection(store, rows[0]["voucher"], rows[0]["city"], usage="in_use", conclusion="pass")
    deadline = pg.Setting.of(SHIPPED).deadline
    on_the_day = pg.of_store(store, SHIPPED, deadline).cities
    after = pg.of_store(store, SHIPPED, deadline + dt.timedelta(days=1)).cities
    assert on_the_day[pg.OVERDUE].sum() == 0 and on_the_day[pg.WAITING].sum() == len(rows) - 1
    assert after[pg.OVERDUE].sum() == len(rows) - 1 and after[pg.WAITING].sum() == 0 and after[pg.INSPECTED].sum() == 1


def test_filed_inspections_are_counted_by_conclusion_and_usage_and_the_rest_is_not(drawn):
    store, rows = drawn
    binding = SHIPPED.bindings.of("inspections")
    a, b, c = rows[0], rows[1], rows[2]
    file_inspection(store, a["voucher"], a["city"], usage="idle", conclusion="fail")
    # typed with full-width letters and a dash of another kind: still the drawn voucher (attack K17's rule)
    typed = b["voucher"].replace("V-", "ｖ－")
    file_inspection(store, typed, b["city"], usage="in_use", conclusion="pass")
    file_inspection(store, c["voucher"], c["city"], usage="stopped", conclusion="fail", status=DRAFT)  # not filed
    undrawn = next(f"V-{i:06d}" for i in range(30) if f"V-{i:06d}" not in {r["voucher"] for r in rows})
    file_inspection(store, undrawn, a["city"], usage="in_use", conclusion="pass")  # not in the sample
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 2))
    table = p.cities.set_index(pg.CITY)
    assert table[pg.INSPECTED].sum() == 2 and p.unmatched == 1
    fail, passed = binding.word("conclusion", "fail"), binding.word("conclusion", "pass")
    assert table.loc[a["city"], f"结论：{fail}"] >= 1 and table[f"结论：{fail}"].sum() == 1
    assert table[f"结论：{passed}"].sum() == 1 and table.loc[b["city"], f"结论：{passed}"] == 1
    assert table[f"使用：{binding.word('usage', 'idle')}"].sum() == 1
    assert table[f"使用：{binding.word('usage', 'stopped')}"].sum() == 0  # the draft's
    states = p.projects.set_index("服务券编号")["检查情况"]
    assert states[a["voucher"]] == states[b["voucher"]] == pg.INSPECTED and states[c["voucher"]] == pg.WAITING


def test_the_estimates_come_from_the_inspected_drawn_projects(drawn):
    store, rows = drawn
    inspected = rows[:4]
    for i, r in enumerate(inspected):
        file_inspection(store, r["voucher"], r["city"], usage="stopped" if i == 1 else "in_use",
                        conclusion="fail" if i in (0, 2) else "basic")
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 2))
    failed, idle, amount = (e.estimate for e in p.estimates)
    flags = [i in (0, 2) for i in range(4)]
    expected = share(flags, [r["probability"] for r in inspected], [r["city"] for r in inspected])
    assert failed == expected and failed.n == 4
    assert idle.value == pytest.approx(share([i == 1 for i in range(4)], [r["probability"] for r in inspected],
                                             [r["city"] for r in inspected]).value)
    frame_total = sum(5 + 3 * i for i in range(30))
    weighted = [(r["subsidy"] / r["probability"], f) for r, f in zip(inspected, flags)]
    assert amount.value == pytest.approx(frame_total * sum(w for w, f in weighted if f) / sum(w for w, _ in weighted))
    assert 0 <= amount.low <= amount.value <= amount.high <= frame_total
    assert "95%" in p.estimates[0].text and p.note


def test_a_city_sees_its_own_citys_rows_and_no_estimates(drawn):
    store, rows = drawn
    file_inspection(store, rows[0]["voucher"], rows[0]["city"], usage="in_use", conclusion="pass")
    city = CITIES[1]
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 2), cities=(city,))
    assert p.cities[pg.CITY].tolist() == [city]
    assert set(p.projects["企业所在地市"]) <= {city} and len(p.projects) == sum(r["city"] == city for r in rows)
    assert p.estimates == ()


def test_a_redraw_moves_the_progress_to_the_draw_in_force(drawn):
    store, rows = drawn
    frame_id = record.latest_frame(store).frame_id
    again = record.record_draw(store, SHIPPED, frame_id, "7", PROVINCE, reason="公证处重新摇号")
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 2))
    assert p.draw_id == again.draw_id
    assert set(p.projects["服务券编号"]) == {r["voucher"] for r in record.draw_rows(store, again.draw_id)}


def test_a_campaign_without_inspections_counts_the_draw_and_nothing_inspected(drawn):
    store, rows = drawn
    # The shipped campaign with its inspections left unbound (as a campaign without that phase has them).
    unbound = SimpleNamespace(campaign=SHIPPED.campaign, bindings=SHIPPED.bindings.model_copy(update={"inspections": None}))
    setting = pg.Setting.of(unbound)
    assert setting.binding is None and setting.deadline is None
    p = pg.progress(setting, store.snapshot(record.DRAWS.form_id), store.snapshot(record.DRAW_ROWS.form_id),
                    store.snapshot(record.FRAME_ROWS.form_id), None, dt.date(2021, 1, 1))
    assert not p.inspections and p.estimates == ()
    assert p.cities[pg.DRAWN].sum() == len(rows) and p.cities[pg.OVERDUE].sum() == 0  # no deadline to be late for
    assert not [c for c in p.cities.columns if c.startswith(("结论：", "使用："))]
