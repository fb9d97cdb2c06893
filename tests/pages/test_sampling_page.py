"""AppTest of pages/sampling.py (随机抽查, issue 13 outcomes 1-3 on a page): freeze with a confirmation, draw
with a published or generated seed, a bad seed and a redraw without a reason refused with nothing written,
verify; the page and its navigation entry for the province only."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib.auth.policy import page_keys
from lib.core.records import Actor
from lib.forms import load_catalog
from lib.sampling import assignments as asg
from lib.sampling import record as rec
from lib.sampling.draw import SeedInvalid, parse_seed
from lib.sampling.verify import verify, verify_inspectors
from lib.ui import sampling as sampling_ui
from lib.ui import state
from tests.sampling.conftest import ENTRIES, SHIPPED, file_check, import_vouchers

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "sampling.py")
APP = str(ROOT / "app.py")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
LABEL = {c.key: c.label for c in rec.DRAW_ROWS.columns}  # the drawn list's headers
PROBABILITY = LABEL["probability"]


@pytest.fixture
def stocked(app_env, reopen):
    """The register ENTRIES in force (广州 6, 佛山 2, 汕头 1) and a complaint recorded against V-000002."""
    store = reopen()
    import_vouchers(store, ENTRIES)
    file_check(store, "V-000002", complaint=True)
    return store


def start(actor: Actor = PROVINCE) -> AppTest:
    return sign_in(AppTest.from_file(PAGE, default_timeout=60), actor).run()


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def click(at: AppTest, key: str) -> AppTest:
    at = at.button(key=key).click().run()
    assert not at.exception
    return at


def freeze(at: AppTest) -> AppTest:
    return click(click(at, state.SAMPLING_FREEZE), state.SAMPLING_FREEZE_YES)


def draw(at: AppTest, seed: str, reason: str | None = None) -> AppTest:
    at.text_input(key=state.SAMPLING_SEED).input(seed)
    if reason is not None:
        at.text_area(key=state.SAMPLING_REASON).input(reason)
    return click(at, state.SAMPLING_DRAW)


def drawn_shown(at: AppTest) -> list[tuple]:
    """The drawn list on the page: (voucher, city, probability, how) per project."""
    [table] = [d.value for d in at.dataframe if PROBABILITY in d.value.columns]
    return list(table[[LABEL[k] for k in ("voucher", "city", "probability", "selection")]].itertuples(index=False, name=None))


def counts(store) -> dict[str, int]:
    return {sheet.form_id: len(store.records(sheet.form_id)) for sheet in rec.SHEETS}


def test_the_frame_is_shown_per_city_and_frozen_only_after_the_confirmation(stocked, reopen):
    at = start()
    assert not at.exception
    cities = next(d.value for d in at.dataframe if "最少抽查数" in d.value.columns).set_index("地市")
    assert cities["项目数"].to_dict() == {"佛山": 2, "广州": 6, "汕头": 1, "合计": 9}
    assert cities.at["广州", "最少抽查数"] == 2 and cities.at["汕头", "最少抽查数"] == 1
    assert cities.at["广州", "存在投诉或举报的项目"] == 1 and cities.at["合计", "奖补金额较高的项目"] == 3

    at = click(at, state.SAMPLING_FREEZE)
    assert [b.key for b in at.button if b.key == state.SAMPLING_FREEZE_YES]  # asked, not done
    assert counts(reopen())[rec.FRAMES.form_id] == 0
    at = click(at, state.SAMPLING_FREEZE_YES)
    [frame] = reopen().records(rec.FRAMES.form_id)
    assert frame.owner == "province" and frame.values["rows"] == len(ENTRIES)
    facts = next(d.value for d in at.dataframe if "内容" in d.value.columns).set_index("项目")["内容"]
    assert facts["抽样框编号"] == frame.values["frame_id"] and facts["抽样框指纹（SHA-256）"] == frame.values["fingerprint"]
    assert facts["冻结账号"] == "province" and facts["项目来源"] == frame.values["source"]
    assert state.SAMPLING_FRAME_EXPORT in [b.key for b in at.get("download_button")]


def test_cancel_freezes_nothing(stocked, reopen):
    at = click(click(start(), state.SAMPLING_FREEZE), state.SAMPLING_FREEZE_NO)
    assert counts(reopen())[rec.FRAMES.form_id] == 0
    assert [b for b in at.button if b.key == state.SAMPLING_FREEZE]
    assert not [b for b in at.button if b.key == state.SAMPLING_DRAW]  # no draw before a frame is frozen


def test_a_seed_draws_the_list_shown_and_the_same_seed_again_draws_the_same_list(stocked, reopen):
    at = draw(freeze(start()), "20200922")
    first = drawn_shown(at)
    [done] = reopen().records(rec.DRAWS.form_id)
    stored = [(r.values["voucher"], r.values["city"]) for r in reopen().records(rec.DRAW_ROWS.form_id)]
    assert [(v, c) for v, c, *_ in first] == stored and len(first) == 4  # 广州 2, 佛山 1, 汕头 1
    assert ("V-000002", "广州", 1.0, rec.SELECTION_WORDS["take_all"]) in first
    per_city = next(d.value for d in at.dataframe if "项目数 N" in d.value.columns).set_index("地市")
    assert per_city.loc["广州", ["项目数 N", "最少抽查数 n", "抽中", rec.SELECTION_WORDS["take_all"]]].tolist() == [6, 2, 2, 1]
    assert done.values["seed"] == "20200922" and done.values["seed_source"] == rec.SEED_WORDS[False]
    assert at.text_input(key=state.SAMPLING_SEED).value == ""  # emptied for the next draw

    at = draw(at, "20200922", reason="公示前复核")
    assert drawn_shown(at) == first
    draws = {r.values["draw_id"]: r for r in reopen().records(rec.DRAWS.form_id)}
    old = draws[done.values["draw_id"]]
    assert old.status == rec.DRAW_SUPERSEDED and draws[old.values["superseded_by"]].status == rec.DRAW_ACTIVE
    history = next(d.value for d in at.dataframe if "被替换为" in d.value.columns).set_index("抽样编号")
    assert history.at[done.values["draw_id"], "状态"] == rec.DRAW_SUPERSEDED
    assert history.at[old.values["superseded_by"], "重新抽样原因"] == "公示前复核"


@pytest.mark.parametrize(("seed", "code"), [("十二", "seed_not_number"), ("", "seed_empty"), ("-5", "seed_negative")])
def test_a_bad_seed_is_refused_and_nothing_is_written(stocked, reopen, seed, code):
    with pytest.raises(SeedInvalid) as refused:
        parse_seed(seed)
    assert refused.value.code == code
    at = draw(freeze(start()), seed)
    assert str(refused.value) in texts(at.error)
    assert counts(reopen())[rec.DRAWS.form_id] == counts(reopen())[rec.DRAW_ROWS.form_id] == 0
    assert not [d for d in at.dataframe if PROBABILITY in d.value.columns]


def test_a_redraw_without_a_reason_is_refused_and_the_draw_in_force_stays(stocked, reopen):
    at = draw(freeze(start()), "7")
    before = counts(reopen())
    at = draw(at, "8", reason="   ")
    assert at.error and rec.RedrawReasonMissing.code == "redraw_reason_missing"
    assert counts(reopen()) == before
    assert [r.status for r in reopen().records(rec.DRAWS.form_id)] == [rec.DRAW_ACTIVE]


def test_a_generated_seed_is_shown_before_drawing_and_recorded_as_generated(stocked, reopen):
    at = click(freeze(start()), state.SAMPLING_SEED_GENERATE)
    shown = at.text_input(key=state.SAMPLING_SEED).value
    assert shown.isdecimal() and counts(reopen())[rec.DRAWS.form_id] == 0
    click(at, state.SAMPLING_DRAW)
    [done] = reopen().records(rec.DRAWS.form_id)
    assert (done.values["seed"], done.values["seed_source"]) == (str(int(shown)), rec.SEED_WORDS[True])


def test_verify_says_consistent(stocked, reopen):
    at = draw(freeze(start()), "20200922")
    [done] = reopen().records(rec.DRAWS.form_id)
    at = click(at, state.SAMPLING_VERIFY)
    report = verify(reopen(), done.values["draw_id"])
    assert report.ok and texts(at.success).endswith(report.lines()[0]) and "一致" in report.lines()[0]


def test_a_changed_frame_row_is_reported_by_verify(stocked, reopen):
    at = draw(freeze(start()), "20200922")
    store = reopen()
    row = store.records(rec.FRAME_ROWS.form_id)[0]
    store.update(rec.FRAME_ROWS.form_id, row.id, base_rev=row.rev, actor=PROVINCE, values={"firm": "改过的企业"})
    at = click(at, state.SAMPLING_VERIFY)
    report = verify(store, store.records(rec.DRAWS.form_id)[0].values["draw_id"])
    assert [d.code for d in report.differences][:1] == ["frame_row_changed"]
    assert "\n\n".join(report.lines()) in texts(at.error) and report.lines()[0] not in texts(at.success)


@pytest.mark.parametrize("role", ["city", "provider", "lead_unit", "inspector", "admin"])
def test_only_the_province_freezes_and_draws(app_env, role):
    at = start(Actor(f"{role}_x", role, "某单位", "广州"))
    assert not at.exception and "只有省厅可以冻结抽样框" in texts(at.warning)
    assert not at.button and not at.text_input


def test_the_navigation_lists_the_page_for_the_province_only_after_the_register():
    forms = load_catalog(ROOT / "forms").forms()
    keys = page_keys(PROVINCE, forms)
    assert keys.index("sampling") == keys.index("register") + 1
    for role in ("city", "provider", "lead_unit", "inspector", "admin"):
        assert "sampling" not in page_keys(Actor("x", role, "某单位", "广州"), forms)


def test_the_router_registers_the_page_for_the_province_and_not_for_a_provider(app_env):
    # AppTest.switch_page matches the pages st.navigation registered in the last run and refuses any other.
    at = sign_in(AppTest.from_file(APP, default_timeout=60), PROVINCE).run()
    assert not at.exception
    at.switch_page("pages/sampling.py")
    at = sign_in(AppTest.from_file(APP, default_timeout=60), Actor("provider_001", "provider", "云智科技有限公司")).run()
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/sampling.py")


def test_with_nothing_to_draw_from_the_page_says_why_and_offers_no_freeze(app_env, reopen):
    from lib.sampling.frame import FrameEmpty

    with pytest.raises(FrameEmpty) as empty:
        rec.current_frame(reopen(), load_catalog(ROOT / "forms"))
    at = start()
    assert not at.exception and str(empty.value) in texts(at.info)
    assert not [b for b in at.button if b.key in (state.SAMPLING_FREEZE, state.SAMPLING_DRAW)]
    assert counts(reopen()) == dict.fromkeys(counts(reopen()), 0)


# 三、抽取检查员
DAY = "2020-09-23"
#: Two inspectors per home city; the sample's cities are 广州, 佛山 and 汕头 (groups of 3).
HOMES = ("广州", "广州", "佛山", "佛山", "汕头", "汕头", "深圳", "深圳", "珠海", "珠海", "东莞", "东莞")


def with_inspectors(app_env, monkeypatch, homes=HOMES) -> list:
    """The app's accounts file holds inspectors with a health declaration 3 days before the campaign clock (DAY)."""
    from lib.auth.accounts import Account, AccountsFile

    monkeypatch.setenv("APP_CAMPAIGN_TODAY", DAY)
    pool = [Account(f"ins{n:02d}", "inspector", org=f"检查单位{n}", name=f"检查员{n}", city=home, health_declared_on="2020-09-20")
            for n, home in enumerate(homes)]
    AccountsFile(app_env / "accounts.json").add_many(pool)
    return pool


def draw_inspectors(at: AppTest, seed: str, reason: str | None = None) -> AppTest:
    at.text_input(key=sampling_ui.INSPECTORS_SEED).input(seed)
    if reason is not None:
        at.text_area(key=sampling_ui.INSPECTORS_REASON).input(reason)
    return click(at, sampling_ui.INSPECTORS_DRAW)


def inspector_counts(store) -> dict[str, int]:
    return {sheet.form_id: len(store.records(sheet.form_id)) for sheet in asg.SHEETS}


def test_inspectors_are_drawn_after_the_projects_and_their_groups_shown_per_city(stocked, reopen, app_env, monkeypatch):
    with_inspectors(app_env, monkeypatch)
    at = freeze(start())
    assert not [b for b in at.button if b.key == sampling_ui.INSPECTORS_DRAW]  # no project draw yet: nothing to assign
    at = draw(at, "20200922")
    at = draw_inspectors(at, "7")
    assert not at.error
    current = asg.current_assignment(reopen())
    assert (current.assignment.seed, current.assignment.day.isoformat(), current.generated_seed) == (7, DAY, False)
    assert [g.city for g in current.assignment.groups] == ["佛山", "广州", "汕头"]
    groups = next(d.value for d in at.dataframe if "检查地市" in d.value.columns)
    assert groups[["检查地市", "检查员账号"]].values.tolist() == [[g.city, "、".join(g.members)] for g in current.assignment.groups]
    assert at.text_input(key=sampling_ui.INSPECTORS_SEED).value == ""  # emptied for the next draw

    before = inspector_counts(reopen())
    at = draw_inspectors(at, "8", reason="  ")  # a redraw needs a reason: refused, nothing written
    assert at.error and inspector_counts(reopen()) == before
    at = click(at, sampling_ui.INSPECTORS_SEED_GENERATE)
    shown = at.text_input(key=sampling_ui.INSPECTORS_SEED).value
    at = draw_inspectors(at, shown, reason="检查员健康申报更新")
    redrawn = asg.current_assignment(reopen())
    assert redrawn.assignment_id != current.assignment_id and redrawn.generated_seed and redrawn.assignment.seed == int(shown)
    old = next(r for r in reopen().records(asg.ASSIGNMENTS.form_id) if r.values["assignment_id"] == current.assignment_id)
    assert old.status == rec.DRAW_SUPERSEDED and old.values["superseded_by"] == redrawn.assignment_id


def test_a_pool_that_cannot_serve_a_city_is_refused_naming_it_and_nothing_is_written(stocked, reopen, app_env, monkeypatch):
    import datetime as dt

    from lib.forms import load_catalog
    from lib.sampling.inspectors import InspectorDrawError

    pool = with_inspectors(app_env, monkeypatch, homes=("广州", "广州", "佛山", "深圳"))
    at = draw(freeze(start()), "20200922")
    with pytest.raises(InspectorDrawError) as refused:  # the same draw, made directly: refused as well
        asg.draw_inspectors(reopen(), load_catalog(ROOT / "forms"), pool, "7", PROVINCE, day=dt.date.fromisoformat(DAY))
    assert refused.value.code in ("inspectors_short", "inspectors_short_together")
    at = draw_inspectors(at, "7")
    assert str(refused.value) in texts(at.error)
    assert inspector_counts(reopen()) == dict.fromkeys(inspector_counts(reopen()), 0)
    assert not [d for d in at.dataframe if "检查地市" in d.value.columns]


@pytest.mark.parametrize("voucher", ["V-000000", ""])
def test_a_frozen_row_given_a_repeated_or_blank_voucher_is_named_and_the_page_goes_on(stocked, reopen, voucher):
    """Attack K13: a frame that cannot be rebuilt is a warning, and the sections after it (and 核验) still show."""
    from lib.store.local.external import EXTERNAL_ACTOR

    info, _ = rec.freeze(stocked, SHIPPED, PROVINCE)
    done = rec.record_draw(stocked, SHIPPED, info.frame_id, "20200922", PROVINCE)
    row = next(r for r in stocked.records(rec.FRAME_ROWS.form_id) if r.values["voucher"] == "V-000001")
    stocked.update(rec.FRAME_ROWS.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values={"voucher": voucher})
    at = start()
    assert not at.exception
    assert [s.value for s in at.subheader][:4] == ["一、抽样框", "二、抽取样本", "三、抽取检查员", "四、抽样记录与核验"]
    assert "无法按地市汇总" in texts(at.warning) and drawn_shown(at)
    at.selectbox(key=state.SAMPLING_VERIFY_PICK).select(done.draw_id)
    at = click(at, state.SAMPLING_VERIFY)
    report = verify(stocked, done.draw_id)
    assert {d.code for d in report.differences} == {"frame_row_changed", "frame_unreadable"}
    assert "\n\n".join(report.lines()) in texts(at.error)


@pytest.mark.parametrize("sheet, values, code", [(rec.DRAWS, {"seed": "abc"}, "seed"), (rec.FRAMES, {"sampling": "{broken"}, "frame_unreadable")])
def test_verify_of_a_broken_record_says_what_is_broken(stocked, reopen, sheet, values, code):
    """Attack K2: a seed that is no number or rules that are no JSON are a difference verify names, not an unexpected error."""
    from lib.store.local.external import EXTERNAL_ACTOR

    info, _ = rec.freeze(stocked, SHIPPED, PROVINCE)
    done = rec.record_draw(stocked, SHIPPED, info.frame_id, "20200922", PROVINCE)
    [row] = stocked.records(sheet.form_id)
    stocked.update(sheet.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values=values)
    at = start()
    assert not at.exception
    at = click(at, state.SAMPLING_VERIFY)
    report = verify(stocked, done.draw_id)
    assert code in {d.code for d in report.differences} and "\n\n".join(report.lines()) in texts(at.error)


@pytest.mark.parametrize("values", [{"seed": "abc"}, {"day": "昨天"}, {"group_size": ""}])
def test_a_broken_inspector_draw_record_is_said_and_its_verify_still_offered(stocked, reopen, app_env, monkeypatch, values):
    """Attack M13: a tampered inspector-draw record made the page die at 三、抽取检查员 (ValueError in
    ``current_assignment``), before the 核验 that says what changed."""
    import datetime as dt

    from lib.store.local.external import EXTERNAL_ACTOR

    pool = with_inspectors(app_env, monkeypatch)
    info, _ = rec.freeze(stocked, SHIPPED, PROVINCE)
    rec.record_draw(stocked, SHIPPED, info.frame_id, "20200922", PROVINCE)
    done = asg.draw_inspectors(stocked, SHIPPED, pool, "7", PROVINCE, day=dt.date.fromisoformat(DAY))
    [row] = stocked.records(asg.ASSIGNMENTS.form_id)
    stocked.update(asg.ASSIGNMENTS.form_id, row.id, base_rev=row.rev, actor=EXTERNAL_ACTOR, values=values)
    at = start()
    assert not at.exception
    assert [s.value for s in at.subheader][2:4] == ["三、抽取检查员", "四、抽样记录与核验"]
    assert "检查员抽取记录" in texts(at.error) and at.text_area(key=sampling_ui.INSPECTORS_REASON)  # a redraw, with its reason
    at.selectbox(key=sampling_ui.INSPECTORS_VERIFY_PICK).select(done.assignment_id)
    at = click(at, sampling_ui.INSPECTORS_VERIFY)
    report = verify_inspectors(reopen(), done.assignment_id)
    assert "inspector_draw_changed" in {d.code for d in report.differences} and "\n\n".join(report.lines()) in texts(at.error)
