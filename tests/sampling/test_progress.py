"""The sampling's progress per city and the estimates from the inspected drawn projects (issue 13, outcome 7),
on a real local store: a register imported, the frame frozen, a draw recorded, inspections filed through
``lib.submissions`` by an inspector assigned to the sampled cities."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pandas as pd
import pytest
from PIL import Image

from lib import review, submissions
from lib.auth.policy import Assignments
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.core.text import comparable
from lib.forms.columns import sheet_spec
from lib.forms.types import check_file
from lib.sampling import progress as pg
from lib.sampling import record
from lib.sampling.estimate import inspected_probabilities, share

from .conftest import PROVINCE, SHIPPED, import_vouchers

INSPECTOR = Actor("inspector_1", "inspector", "省检查组")
#: Three cities the scheme covers (a register entry elsewhere is excluded at import), in the campaign's order.
CITIES = [c for c in SHIPPED.campaign.cities if c not in SHIPPED.campaign.outside_scheme][:3]
FILED_ON = dt.date(2020, 10, 10)  # the day the inspector files (the form refuses an inspection date after it)
INSPECTIONS = SHIPPED.bindings.of("inspections")
FORM = SHIPPED.form(INSPECTIONS.form)


def _draw(store, complained: tuple[str, ...] = ()):
    """A register of 10 projects in each of three cities (all in scope), complaints recorded against
    ``complained`` (take_all: drawn with certainty), frozen and drawn: (store, draw rows)."""
    entries = [(f"V-{i:06d}", CITIES[i % 3], f"服务商{i % 4}", float(5 + 3 * i)) for i in range(30)]
    import_vouchers(store, entries)
    complaints = SHIPPED.bindings.of("complaints")
    store.ensure_sheet(sheet_spec(SHIPPED.form(complaints.form)))
    for voucher in complained:
        store.append(complaints.form, {complaints.key("voucher"): voucher}, actor=PROVINCE, status=SUBMITTED)
    info, _ = record.freeze(store, SHIPPED, PROVINCE)
    draw = record.record_draw(store, SHIPPED, info.frame_id, "424242", PROVINCE)
    store.ensure_sheet(sheet_spec(FORM))
    return store, record.draw_rows(store, draw.draw_id)


@pytest.fixture
def drawn(store):
    """30 projects in three cities, frozen and drawn (every drawn project by chance): (store, draw rows)."""
    return _draw(store)


def assignment(rows: list[dict]) -> Assignments:
    """The inspector sent to every city of the draw ``rows`` (what an inspector draw in force gives the policy)."""
    sampled: dict[str, set[str]] = {}
    for row in rows:
        sampled.setdefault(row["city"], set()).add(comparable(row["voucher"]))
    keys = {SHIPPED.bindings.of(k).form: SHIPPED.bindings.of(k).key("voucher") for k in SHIPPED.bindings.kinds()
            if SHIPPED.bindings.of(k).key("voucher")}
    return Assignments({INSPECTOR.account: tuple(sampled)}, {c: frozenset(v) for c, v in sampled.items()}, keys)


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 120, 60)).save(out, format="PNG")
    return out.getvalue()


def file_inspection(store, row: dict, rows: list[dict], *, usage: str, conclusion: str, draft: bool = False) -> None:
    """The inspector files (or saves as a draft) a complete inspection of the drawn ``row`` through
    ``lib.submissions``, within its assignment to the cities of ``rows``; usage and conclusion by meaning.
    The fields the bindings name are written under their keys; the form's other required answers are
    the shipped form's own."""
    b = INSPECTIONS
    answers = {b.key("voucher"): row["voucher"], b.key("city"): row["city"], b.key("date"): "2020-10-09",
               b.key("members"): "张三、李四", b.key("usage"): b.word("usage", usage), b.key("conclusion"): b.word("conclusion", conclusion),
               b.key("satisfaction"): "满意", b.key("evidence"): [check_file(FORM.field(b.key("evidence")), "现场.png", _photo())],
               "client_name": row["firm"], "provider_name": row["provider"], "lead_present": True, "site_visited": True,
               "integrity_confirmed": True, "provider_absent": True}
    if conclusion != "pass":  # the findings section is asked
        answers |= {b.key("problems"): [{"problem_category": "服务不到位", "problem_description": "现场未见使用"}],
                    "rectification_required": False}
    save = submissions.save_draft if draft else submissions.submit
    done = save(store, FORM, answers, INSPECTOR, cities=tuple(SHIPPED.campaign.cities), today=FILED_ON, assignments=assignment(rows))
    assert done.ok, done.problems


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
    file_inspection(store, rows[0], rows, usage="in_use", conclusion="pass")
    deadline = pg.Setting.of(SHIPPED).deadline
    on_the_day = pg.of_store(store, SHIPPED, deadline).cities
    after = pg.of_store(store, SHIPPED, deadline + dt.timedelta(days=1)).cities
    assert on_the_day[pg.OVERDUE].sum() == 0 and on_the_day[pg.WAITING].sum() == len(rows) - 1
    assert after[pg.OVERDUE].sum() == len(rows) - 1 and after[pg.WAITING].sum() == 0 and after[pg.INSPECTED].sum() == 1


def test_filed_inspections_are_counted_by_conclusion_and_usage_and_a_draft_is_not(drawn):
    store, rows = drawn
    binding = INSPECTIONS
    a, b, c = rows[0], rows[1], rows[2]
    file_inspection(store, a, rows, usage="idle", conclusion="fail")
    file_inspection(store, b, rows, usage="in_use", conclusion="pass")
    file_inspection(store, c, rows, usage="stopped", conclusion="fail", draft=True)  # not filed
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    table = p.cities.set_index(pg.CITY)
    assert table[pg.INSPECTED].sum() == 2 and p.unmatched == 0
    fail, passed = binding.word("conclusion", "fail"), binding.word("conclusion", "pass")
    assert table.loc[a["city"], f"结论：{fail}"] == 1 and table[f"结论：{fail}"].sum() == 1
    assert table[f"结论：{passed}"].sum() == 1 and table.loc[b["city"], f"结论：{passed}"] >= 1
    assert table[f"使用：{binding.word('usage', 'idle')}"].sum() == 1
    assert table[f"使用：{binding.word('usage', 'stopped')}"].sum() == 0  # the draft's
    states = p.projects.set_index("服务券编号")["检查情况"]
    assert states[a["voucher"]] == states[b["voucher"]] == pg.INSPECTED and states[c["voucher"]] == pg.WAITING


def test_after_a_redraw_inspections_of_projects_no_longer_drawn_are_counted_apart(drawn):
    store, rows = drawn
    for row in rows:
        file_inspection(store, row, rows, usage="in_use", conclusion="pass")
    again = record.record_draw(store, SHIPPED, record.latest_frame(store).frame_id, "7", PROVINCE, reason="公证处重新摇号")
    now = {r["voucher"] for r in record.draw_rows(store, again.draw_id)}
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    assert p.draw_id == again.draw_id
    assert set(p.projects["服务券编号"]) == now
    assert p.cities[pg.INSPECTED].sum() == len(now & {r["voucher"] for r in rows})
    assert p.unmatched == len({r["voucher"] for r in rows} - now) > 0


def test_a_voucher_written_otherwise_in_the_workbook_is_still_the_drawn_one(drawn):
    """A filed inspection whose voucher a person retyped in the workbook with full-width letters and
    another dash (an external edit; the form itself refuses such a voucher) is matched as attack K17's
    rule compares vouchers."""
    store, rows = drawn
    file_inspection(store, rows[0], rows, usage="in_use", conclusion="pass")
    [filed] = store.records(FORM.id)
    key = INSPECTIONS.key("voucher")
    store.update(FORM.id, filed.id, base_rev=filed.rev, actor=INSPECTOR,
                 values={key: rows[0]["voucher"].replace("V-", "ｖ－")})
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    assert p.cities[pg.INSPECTED].sum() == 1 and p.unmatched == 0


def test_the_estimates_come_from_the_inspected_drawn_projects(drawn):
    store, rows = drawn
    firsts = list({r["city"]: r for r in reversed(rows)}.values())  # each city's first drawn project
    inspected = [*firsts, next(r for r in rows if r not in firsts)]  # and one more: some cities half inspected
    for i, r in enumerate(inspected):
        file_inspection(store, r, rows, usage="stopped" if i == 1 else "in_use", conclusion="fail" if i in (0, 2) else "basic")
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    failed, idle, amount = (e.estimate for e in p.estimates)
    flags = [i in (0, 2) for i in range(4)]
    # π of the inspected ones, each times the share of its city's drawn projects (by chance or certain) inspected
    pi = inspected_probabilities([r["probability"] for r in rows], [r["city"] for r in rows], [r in inspected for r in rows])
    pi = pi[[rows.index(r) for r in inspected]]
    assert pi.tolist() != [r["probability"] for r in inspected]  # not every drawn project is inspected yet
    cities = [r["city"] for r in inspected]
    assert {r["city"] for r in inspected} == set(CITIES)  # each city's chance-drawn class has one: estimates made
    # of the 30 frame projects (every city drew by chance: each had a π > 0)
    for got, want in ((failed, share(flags, pi, cities, 30)), (idle, share([i == 1 for i in range(4)], pi, cities, 30))):
        assert (got.value, got.standard_error, got.low, got.high) == pytest.approx((want.value, want.standard_error, want.low, want.high))
        assert got.n == 4
    frame_total = sum(5 + 3 * i for i in range(30))
    weighted = [(r["subsidy"] / p_, f) for r, p_, f in zip(inspected, pi, flags)]
    assert amount.value == pytest.approx(frame_total * sum(w for w, f in weighted if f) / sum(w for w, _ in weighted))
    assert 0 <= amount.low <= amount.value <= amount.high <= frame_total
    assert "95%" in p.estimates[0].text and p.note and p.unreachable == 0


def test_while_a_class_has_nothing_inspected_no_estimate_is_made_and_the_missing_are_named(store):
    """Attack M6: the groups visit the complained-of (take_all, π = 1) projects first; with only those
    inspected the chance-drawn ones weighed nothing and the board showed their failures as the province's.
    No estimate is made until each city's certain and chance-drawn projects have one inspected, and the
    row says which are missing, in the campaign's order of cities."""
    complained = ("V-000000", "V-000001", "V-000002")  # one project of each city
    store, rows = _draw(store, complained)
    certain = [r for r in rows if r["probability"] >= 1]
    assert sorted(r["voucher"] for r in certain) == list(complained)
    for r in certain:
        file_inspection(store, r, rows, usage="idle", conclusion="fail")
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    assert [e.estimate for e in p.estimates] == [None, None, None]
    for e in p.estimates:
        assert e.text.startswith("依据尚不完整：") and f"{'、'.join(CITIES)}的随机抽中项目" in e.text
    by_chance = {r["city"]: r for r in reversed(rows) if r["probability"] < 1}
    for r in list(by_chance.values())[:2]:  # two cities' chance-drawn projects: the third still missing
        file_inspection(store, r, rows, usage="in_use", conclusion="pass")
    last = next(c for c in CITIES if c not in [r["city"] for r in list(by_chance.values())[:2]])
    texts = [e.text for e in pg.of_store(store, SHIPPED, dt.date(2020, 10, 12)).estimates]
    assert all(t == f"依据尚不完整：{last}的随机抽中项目尚无检查记录，暂不作全省估计" for t in texts)
    file_inspection(store, by_chance[last], rows, usage="in_use", conclusion="pass")
    failed, idle, amount = (e.estimate for e in pg.of_store(store, SHIPPED, dt.date(2020, 10, 12)).estimates)
    # the three certain ones failed and are known: 3 of 30 at least, and the chance-drawn, none failed,
    # stand for the other 27 — not 100% (the certain ones standing for the province), not 3/6
    assert failed.value == pytest.approx(3 / 30) and failed.low == pytest.approx(3 / 30) and failed.high > 3 / 30
    assert idle.value == pytest.approx(3 / 30) and failed.n == 6
    assert amount.value == pytest.approx(sum(r["subsidy"] for r in certain))


def test_a_returned_inspection_is_counted_apart_and_not_estimated_from(drawn):
    """Attack M13: the province returned the record (退回修改) because something in it is wrong; it was
    counted as inspected with its conclusion in the estimates. It is its own state now, in no conclusion
    count and no estimate, until it is filed again."""
    store, rows = drawn
    firsts = list({r["city"]: r for r in reversed(rows)}.values())
    for i, r in enumerate(firsts):
        file_inspection(store, r, rows, usage="stopped" if i == 0 else "in_use", conclusion="fail" if i == 0 else "pass")
    before = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    [sent] = [r for r in store.records(FORM.id) if r.values[INSPECTIONS.key("voucher")] == firsts[0]["voucher"]]
    returned = review.return_for_changes(store, FORM, PROVINCE, {sent.id: sent.rev}, "照片看不清，请补拍")
    assert len(returned.done) == 1 and not returned.skipped
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    table = p.cities.set_index(pg.CITY)
    assert table[pg.INSPECTED].sum() == 2 and table[pg.SENT_BACK].sum() == 1 and table.loc[firsts[0]["city"], pg.SENT_BACK] == 1
    assert table[pg.WAITING].sum() == len(rows) - 3
    assert table[f"结论：{INSPECTIONS.word('conclusion', 'fail')}"].sum() == 0
    assert table[f"使用：{INSPECTIONS.word('usage', 'stopped')}"].sum() == 0
    states = p.projects.set_index("服务券编号")["检查情况"]
    assert states[firsts[0]["voucher"]] == pg.SENT_BACK and p.unmatched == 0
    # its city's chance-drawn class has no inspected project left: the estimates wait, naming it
    assert before.estimates[0].estimate is not None and before.estimates[0].estimate.value > 0
    assert all(e.estimate is None and f"{firsts[0]['city']}的随机抽中项目" in e.text for e in p.estimates)
    # after the deadline it is still counted apart, not overdue
    late = pg.of_store(store, SHIPPED, pg.Setting.of(SHIPPED).deadline + dt.timedelta(days=1)).cities
    assert late[pg.SENT_BACK].sum() == 1 and late[pg.OVERDUE].sum() == len(rows) - 3


def test_inspected_projects_with_no_known_subsidy_say_so(drawn):
    """Attack M13: inspected projects whose subsidies are all unknown gave "尚无已检查的抽中项目" for the amount."""
    store, rows = drawn
    for r in {r["city"]: r for r in rows}.values():
        file_inspection(store, r, rows, usage="in_use", conclusion="fail")
    drawn_rows = store.snapshot(record.DRAW_ROWS.form_id).assign(subsidy=None)
    frame_rows = store.snapshot(record.FRAME_ROWS.form_id).assign(subsidy=None)
    p = pg.progress(pg.Setting.of(SHIPPED), store.snapshot(record.DRAWS.form_id), drawn_rows, frame_rows,
                    store.snapshot(FORM.id), dt.date(2020, 10, 12))
    failed, idle, amount = p.estimates
    assert failed.estimate is not None and idle.estimate is not None  # the shares do not need the subsidy
    assert amount.estimate is None and "奖补金额" in amount.text and "都未知" in amount.text


def test_a_city_sees_its_own_citys_rows_and_no_estimates(drawn):
    store, rows = drawn
    file_inspection(store, rows[0], rows, usage="in_use", conclusion="pass")
    city = CITIES[1]
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12), cities=(city,))
    assert p.cities[pg.CITY].tolist() == [city]
    assert set(p.projects["企业所在地市"]) <= {city} and len(p.projects) == sum(r["city"] == city for r in rows)
    assert p.estimates == ()


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


def test_projects_no_draw_could_pick_are_outside_the_estimates(store):
    """A city whose complained-of (take_all) projects fill its places draws nobody else: its other projects
    had π = 0 and nothing inspected can speak for them. They are counted (``unreachable``) and left out of
    the N the shares are of — not read as passed."""
    first_city = ("V-000000", "V-000003")  # two of CITIES[0]'s ten: its minimum of 2 places, both taken
    store, rows = _draw(store, first_city)
    assert sorted(r["voucher"] for r in rows if r["city"] == CITIES[0]) == list(first_city)
    for r in rows:
        file_inspection(store, r, rows, usage="in_use", conclusion="fail" if r["voucher"] in first_city else "pass")
    p = pg.of_store(store, SHIPPED, dt.date(2020, 10, 12))
    assert p.unreachable == 8
    failed = p.estimates[0].estimate
    chance = [r for r in rows if r["probability"] < 1]
    want = share([False] * len(chance) + [True, True], [r["probability"] for r in chance] + [1.0, 1.0],
                 [r["city"] for r in chance] + [CITIES[0]] * 2, 22)
    assert (failed.value, failed.low, failed.high) == pytest.approx((want.value, want.low, want.high))
    assert failed.value == pytest.approx(2 / 22)  # the two known failed of the 22 the draw could pick
