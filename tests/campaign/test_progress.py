"""Board figures on hand-built snapshots with known answers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from lib.campaign.board import figures
from lib.campaign.board.detail_tables import EXEMPT_BAND
from lib.campaign.board.figures import RATE, compute_board, state_counts
from lib.campaign.board.preparation import change_counter, prepare_as_of
from lib.campaign.board.scope import Scope, scope_for
from lib.campaign.board.units import EXEMPT, LATE_FILED, ON_TIME, OVERDUE, RETURNED_STATE
from lib.campaign.register import reconcile as rc
from lib.core.records import Actor
from lib.forms import load_catalog

from .conftest import att1, frame, row, voucher

#: The shipped forms: who reads which form is theirs (filled_by, reviewed_by, city field), as in the app.
FORMS = load_catalog(Path(__file__).resolve().parents[2] / "forms").forms()
AFTER = dt.date(2020, 9, 25)  # a week after the 附件1/附件2 deadline
BEFORE = dt.date(2020, 9, 15)


def viewer(actor: Actor) -> Scope:
    return scope_for(actor, FORMS)


def progress_of(board, city, form="附件1") -> dict:
    hit = board.progress[(board.progress["地市"] == city) & (board.progress["表单"] == form)]
    assert len(hit) == 1
    return hit.iloc[0].to_dict()


def sample(calendar, as_of=AFTER, scope: Scope | None = None):
    register = pd.DataFrame([
        voucher("V-000001"), voucher("V-000002"), voucher("V-000003", provider="服务商乙"),
        voucher("V-000004", provider="服务商乙", city="佛山"),
    ])
    att1_rows = frame(
        att1("V-000001", created="2020-09-10"),
        att1("V-000002", created="2020-09-20", usage="闲置"),  # two days late
        att1("V-000001", created="2020-09-12"),  # the same register entry reported twice
        att1("V-000099", provider="服务商乙", created="2020-09-11"),  # not in the register
        att1("V-000004", provider="服务商乙", status="草稿", created="2020-09-11"),
    )
    frames = {"att1": att1_rows, "att2": frame(), "att3": frame()}
    return compute_board(frames, register, None, calendar, as_of, scope or Scope())


def test_counts_per_city_and_form(calendar):
    board = sample(calendar)
    gz = progress_of(board, "广州")
    assert (gz["应报"], gz["已报"], gz["台账外"], gz["未报"], gz["逾期未报"]) == (3, 3, 1, 1, 1)
    assert (gz["逾期报送"], gz["重复报送"], gz["草稿"]) == (1, 1, 0)
    assert gz[RATE] == 66.7  # percent, one decimal
    fs = progress_of(board, "佛山")
    assert (fs["应报"], fs["已报"], fs["未报"], fs["逾期未报"], fs["草稿"]) == (1, 0, 1, 1, 1)


def test_empty_city_has_zero_rows_and_no_rate(calendar):
    sz = progress_of(sample(calendar), "深圳")
    assert (sz["应报"], sz["已报"], sz["未报"]) == (0, 0, 0)
    assert pd.isna(sz[RATE])
    assert len(sample(calendar).progress) == 3 * 3  # every city x every form, even empty ones


def test_nothing_at_all_gives_zeros(calendar):
    board = compute_board({}, None, None, calendar, AFTER)
    assert board.progress["应报"].sum() == 0 and board.late.empty and board.issues.empty
    assert board.totals["应报"] == 0 and board.usage_by_city.empty


def test_late_list_names_who_what_and_how_late(calendar):
    late = sample(calendar).late
    rows = {(r["单位"], r["事项"]): r["逾期天数"] for r in late.to_dict("records")}
    assert rows[("服务商乙", "未报送 2 项")] == 7  # V-000003 and V-000004, 9-25 minus 9-18
    assert not any(unit == "服务商甲" and what.startswith("未报送") for unit, what in rows)
    assert rows[("服务商甲", "逾期报送 1 项")] == 2
    assert late["逾期天数"].is_monotonic_decreasing


def test_before_the_deadline_nothing_is_overdue_and_later_rows_do_not_count(calendar):
    board = sample(calendar, as_of=BEFORE)
    gz = progress_of(board, "广州")
    assert gz["逾期未报"] == 0 and gz["未报"] == 2  # V-000002 (filed 9-20) and V-000003
    assert gz["已报"] == 2  # V-000001 and V-000099; the 9-20 filing did not exist on 9-15
    assert board.late.empty
    assert board.totals["截至日期后创建"] == 1


def test_returned_then_resubmitted_counts_as_reported_on_time(calendar):
    register = pd.DataFrame([voucher("V-000001"), voucher("V-000002"), voucher("V-000003")])
    rows = frame(
        att1("V-000001", status="已重新提交", created="2020-09-10", rev=3),
        att1("V-000002", status="退回修改", created="2020-09-11", rev=2),
        att1("V-000003", status="已撤回", created="2020-09-11", rev=2),
    )
    board = compute_board({"att1": rows}, register, None, calendar, AFTER)
    gz = progress_of(board, "广州")
    assert (gz["已报"], gz["退回修改"], gz["逾期报送"], gz["未报"]) == (2, 1, 0, 1)
    assert "退回修改未重新提交 1 项" in set(board.late["事项"])
    mine = board.units[(board.units["表单"] == "附件1") & (board.units["台账内"])].drop_duplicates("编号")
    states = dict(zip(mine["编号"], mine["状态"], strict=True))
    assert states["V-000001"] == ON_TIME and states["V-000002"] == RETURNED_STATE


def test_scopes(calendar):
    city = sample(calendar, scope=viewer(Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")))
    assert set(city.progress["地市"]) == {"佛山"} and set(city.units["地市"]) == {"佛山"}
    mine = sample(calendar, scope=viewer(Actor("p2", "provider", "服务商乙", "广州")))
    assert set(mine.units["单位"]) == {"服务商乙"} and set(mine.progress["表单"]) == {"附件1"}
    assert set(mine.issues["服务商"]) == {"服务商乙"}
    assert mine.providers["服务商"].tolist() == ["服务商乙"]


def test_provider_completeness(calendar):
    providers = sample(calendar).providers.set_index("服务商")
    assert providers.loc["服务商甲", ["台账项目", "已报送", "未报送", "逾期报送", "重复报送"]].tolist() == [2, 2, 0, 1, 1]
    assert providers.loc["服务商乙", ["台账项目", "未报送", "已报送、台账无"]].tolist() == [2, 2, 1]


def test_usage_counts_each_project_once(calendar):
    usage = sample(calendar).usage_by_city.set_index(["地市", "使用状态"])["项目数"]
    assert usage[("广州", "正常使用")] == 2 and usage[("广州", "闲置")] == 1  # the duplicate is not counted twice
    assert usage[("广州", "停用")] == 0


def test_att2_matched_by_code_when_the_name_differs_and_exempt_reports_count(calendar):
    projects = pd.DataFrame([
        {"project": "陶瓷行业平台项目", "lead_unit": "牵头甲", "lead_unit_code": "L1", "city": "佛山", "programme": "省级标杆示范"},
        {"project": "家电智能工厂", "lead_unit": "牵头乙", "lead_unit_code": "L2", "city": "佛山", "programme": "省级标杆示范"},
        {"project": "五金平台", "lead_unit": "牵头丙", "lead_unit_code": "L3", "city": "广州", "programme": "省级标杆示范"},
    ])
    reports = frame(
        row(owner="l1", project_name="陶瓷行业工业互联网平台项目", lead_unit_name="牵头甲", lead_unit_credit_code="L1",
            city="佛山", spending_ratio=45.0),
        row(owner="l2", project_name="家电智能工厂", lead_unit_name="牵头乙", lead_unit_credit_code="L2", city="佛山",
            monthly_report_exempt=True),
    )
    board = compute_board({"att2": reports}, None, projects, calendar, AFTER)
    fs = progress_of(board, "佛山", "附件2")
    assert (fs["应报"], fs["已报"], fs["台账外"], fs["未报"]) == (2, 2, 0, 0)
    assert progress_of(board, "广州", "附件2")["逾期未报"] == 1
    bins = board.spending_bins.set_index("支出区间")["报告数"]
    assert bins["40–60%"] == 1 and bins[EXEMPT_BAND] == 1
    lead = figures.board(prepare_as_of({"att2": reports}, None, projects, calendar, AFTER), viewer(Actor("l1", "lead_unit", "牵头甲")))
    assert lead.spending["牵头单位"].tolist() == ["牵头甲"]


def test_att3_expected_is_every_register_project_of_the_city(calendar):
    register = pd.DataFrame([voucher("V-000001", code="F1"), voucher("V-000002", code="F2"), voucher("V-000003", code="F3")])
    checks = frame(
        row(city="广州", voucher_no="V-000001", client_credit_code="F1", check_method="实地检查", conclusion="不合格"),
        row(city="广州", voucher_no=None, client_credit_code="F2", check_method="未检查"),  # matched by credit code
    )
    board = compute_board({"att3": checks}, register, None, calendar, dt.date(2020, 9, 22))
    gz = progress_of(board, "广州", "附件3")
    assert (gz["应报"], gz["已报"], gz["未报"], gz["逾期未报"], gz["台账外"]) == (3, 2, 1, 1, 0)
    conclusions = board.conclusions.set_index(["地市", "检查结论"])["项目数"]
    assert conclusions[("广州", "不合格")] == 1 and conclusions[("广州", "未检查")] == 1
    late = board.late[board.late["表单"] == "附件3"]
    assert late["单位"].tolist() == ["广州市工业和信息化局"] and late["逾期天数"].tolist() == [1]


def test_change_counter_moves_on_append_and_update():
    one = frame(row(rev=1))
    assert change_counter({"a": one}) != change_counter({"a": frame(row(rev=2))})
    assert change_counter({"a": one}) != change_counter({"a": frame(row(), row())})


def test_state_counts_for_the_chart(calendar):
    counts = state_counts(sample(calendar), "附件1").set_index(["地市", "状态"])["数量"].to_dict()
    assert counts == {("佛山", OVERDUE): 1, ("广州", ON_TIME): 2, ("广州", LATE_FILED): 1, ("广州", OVERDUE): 1}


def test_totals_add_up_and_say_what_is_off_register(calendar):
    # 服务商乙 reported V-000099, which no register lists: counted as reported, not as due
    mine = sample(calendar, scope=viewer(Actor("p2", "provider", "服务商乙", "广州"))).totals
    assert (mine["应报"], mine["已报"], mine["未报"], mine["台账外"]) == (2, 1, 2, 1)
    assert mine["应报"] == mine["已报"] - mine["台账外"] + mine["未报"]


def test_rows_created_after_the_clock_are_counted_per_viewer(calendar):
    board = prepare_as_of({"att1": frame(att1("V-000001", created="2020-09-20"), att1("V-000002", provider="服务商乙", created="2020-09-21"))},
                          pd.DataFrame([voucher("V-000001")]), None, calendar, BEFORE)
    assert figures.board(board).totals["截至日期后创建"] == 2
    assert figures.board(board, viewer(Actor("p2", "provider", "服务商乙", "广州"))).totals["截至日期后创建"] == 1
    assert figures.board(board, viewer(Actor("city_fs", "city", "佛山市工业和信息化局", "佛山"))).totals["截至日期后创建"] == 0


def _strings(board) -> str:
    frames = (board.units, board.issues, board.project_rows, board.providers, board.late, board.progress, board.usage_by_provider)
    return "\n".join(f.astype(str).to_csv() for f in frames)


def test_a_voucher_the_register_gives_another_provider_stays_with_that_provider(calendar):
    """Issue 10.2: 服务商乙 files 服务商甲's voucher: 乙 sees none of the entry's register facts, 甲's
    progress does not change, the province sees the conflict."""
    register = pd.DataFrame([voucher("V-000001", amount=10.0, code="F-JIA"), voucher("V-000002", amount=20.0, code="F-JIA2")])
    jia_only = frame(att1("V-000002", code="F-JIA2", amount=20.0, created="2020-09-10"))
    intruder = att1("V-000001", provider="服务商乙", city="佛山", amount=99.0, code="F-YI", created="2020-09-11") | {
        "client_name": "乙填写的企业"}
    draft = att1("V-000001", provider="服务商乙", status="草稿", created="2020-09-12") | {"client_name": "乙的草稿企业"}
    both = frame(*jia_only.to_dict("records"), intruder, draft)
    jia, yi = viewer(Actor("p1", "provider", "服务商甲", "广州")), viewer(Actor("p2", "provider", "服务商乙", "佛山"))

    def boards(rows, scope):
        return compute_board({"att1": rows}, register, None, calendar, AFTER, scope)

    # 甲's board is what it was without 乙's filing: V-000001 still overdue, nothing of 乙's shows
    before, after = boards(jia_only, jia), boards(both, jia)
    assert after.totals == before.totals and after.totals["逾期未报"] == 1
    pd.testing.assert_frame_equal(after.units, before.units)
    assert "乙" not in _strings(after).replace("服务商乙", "")  # no firm 乙 typed, no row of 乙
    assert set(after.issues["问题类型"]) == {"台账有、未报送"}

    # 乙 sees its own filing as off-register, with its own facts only
    theirs = boards(both, yi)
    assert (theirs.totals["应报"], theirs.totals["已报"], theirs.totals["台账外"]) == (0, 1, 1)
    unit = theirs.units[theirs.units["状态"] == ON_TIME].iloc[0]
    assert (unit["编号"], unit["单位"], unit["名称"], unit["地市"], bool(unit["台账内"])) == ("V-000001", "服务商乙", "乙填写的企业", "佛山", False)
    seen = _strings(theirs)
    for fact in ("服务商甲", "企业V-000001", "F-JIA", "10.0"):
        assert fact not in seen, fact
    assert theirs.issues["问题类型"].tolist() == [rc.PROVIDER]

    # the city of 乙's filing (佛山) is not told the facts of 甲's 广州 entry either
    city = boards(both, viewer(Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")))
    assert city.issues["问题类型"].tolist() == [rc.PROVIDER] and "F-JIA" not in _strings(city)

    # the province sees the conflict with both sides
    province = boards(both, Scope())
    conflict = province.issues[province.issues["问题类型"] == rc.PROVIDER]
    assert conflict[["服务券编号", "填报服务商", "台账服务商", "填报奖补金额", "台账奖补金额"]].values.tolist() == [
        ["V-000001", "服务商乙", "服务商甲", 99.0, 10.0]]


def test_the_calendar_reads_each_forms_city_field_from_the_forms():
    """Which field places a row in a city is the form's (its first city field), never a table in code."""
    from pathlib import Path

    from lib.campaign.schedule import Calendar
    from lib.forms import load_catalog

    catalog = load_catalog(Path(__file__).resolve().parents[2] / "forms")
    cal = Calendar.from_specs(catalog.campaign, catalog.forms())
    followed = set(cal.forms)  # the self-inspection phase's three forms, whose filers the board follows
    assert cal.city_fields == {f.id: f.city_field() for f in catalog.forms() if f.city_field() and f.id in followed}
    assert len(cal.city_fields) == 3
    assert all(catalog.form(fid).field(key).type == "city" for fid, key in cal.city_fields.items())


def test_a_city_sees_its_register_entry_filed_from_another_city_but_not_the_row(calendar):
    """The entry is 广州's (the register says so); the filing places the firm in 佛山, so by the policy
    the row is 佛山's: 广州 sees its entry reported, without the row's id or filer."""
    rows = frame(att1("V-000001", city="佛山"))
    filed = rows["_id"].iloc[0]

    def seen_by(city):
        return compute_board({"att1": rows}, pd.DataFrame([voucher("V-000001", city="广州")]), None, calendar, AFTER,
                             viewer(Actor(f"city_{city}", "city", f"{city}市工业和信息化局", city)))

    gz = seen_by("广州")
    [unit] = gz.units[gz.units["表单"] == "附件1"].to_dict("records")
    assert (unit["地市"], unit["状态"], unit["记录编号"], unit["填报账号"]) == ("广州", ON_TIME, "", "")
    assert gz.project_rows.empty and progress_of(gz, "广州")["已报"] == 1
    assert gz.issues["问题类型"].tolist() == ["地市不符"] and gz.issues["记录编号"].tolist() == [""]
    fs = seen_by("佛山")
    assert fs.project_rows["记录编号"].tolist() == [filed] and fs.units[fs.units["表单"] == "附件1"].empty and fs.issues.empty


@pytest.mark.filterwarnings("error::pandas.errors.Pandas4Warning")
def test_filings_match_before_any_register_is_imported(calendar):
    """No register yet: the credit-code lookups find nothing (float NaN), which the keys fill with text
    (a pandas 4 error unless the lookup is cast to object first)."""
    att2 = frame(row(lead_unit_name="牵头甲", lead_unit_credit_code="L1", project_name="平台项目", city="广州"))
    att3 = frame(row(city="广州", client_credit_code="C9", voucher_no=""))
    b = compute_board({"att1": frame(), "att2": att2, "att3": att3}, None, None, calendar, AFTER)
    assert b.units.set_index("表单")["编号"].to_dict() == {"附件2": "L1|平台项目", "附件3": "code:C9"}


def test_the_ministrys_benchmark_projects_owe_no_report(calendar):
    """Issue 12, outcome 5: a project the register or its own report places in the Ministry's programme
    (工信部创新发展工程) is 免报: not due, never overdue, never on the late list, counted apart."""
    projects = pd.DataFrame([
        {"project": "平台一", "lead_unit": "牵头一", "lead_unit_code": "L1", "city": "佛山", "programme": "省级标杆示范"},
        {"project": "平台二", "lead_unit": "牵头二", "lead_unit_code": "L2", "city": "佛山", "programme": "工信部创新发展工程"},
        {"project": "平台三", "lead_unit": "牵头三", "lead_unit_code": "L3", "city": "广州", "programme": None},
        {"project": "平台四", "lead_unit": "牵头四", "lead_unit_code": "L4", "city": "广州", "programme": "省级标杆示范"},
    ])
    reports = frame(  # both filed two days late
        row(owner="l3", org="牵头三", created="2020-09-20", project_name="平台三", lead_unit_name="牵头三", lead_unit_credit_code="L3",
            city="广州", programme="工信部创新发展工程", monthly_report_exempt=True),
        row(owner="l4", org="牵头四", created="2020-09-20", project_name="平台四", lead_unit_name="牵头四", lead_unit_credit_code="L4",
            city="广州", programme="省级标杆示范", spending_ratio=30.0),
    )
    board = compute_board({"att2": reports}, None, projects, calendar, AFTER)
    fs, gz = progress_of(board, "佛山", "附件2"), progress_of(board, "广州", "附件2")
    assert (fs["应报"], fs["免报"], fs["已报"], fs["未报"], fs["逾期未报"]) == (1, 1, 0, 1, 1)
    assert (gz["应报"], gz["免报"], gz["已报"], gz["未报"], gz["逾期报送"], gz[RATE]) == (1, 1, 1, 0, 1, 100.0)
    states = board.units.set_index("名称")["状态"].to_dict()
    assert states == {"平台一": OVERDUE, "平台二": EXEMPT, "平台三": EXEMPT, "平台四": LATE_FILED}
    late = {(r["单位"], r["事项"]): r["逾期天数"] for r in board.late.to_dict("records")}
    assert late == {("牵头一", "未报送 1 项"): 7, ("牵头四", "逾期报送 1 项"): 2}
    assert (board.totals["应报"], board.totals["免报"]) == (2, 2)
    # the lead unit of an exempt project sees it as exempt, not as owed
    mine = figures.board(prepare_as_of({"att2": reports}, None, projects, calendar, AFTER), viewer(Actor("l3", "lead_unit", "牵头三")))
    assert mine.units["状态"].tolist() == [EXEMPT] and mine.late.empty and mine.totals["应报"] == 0
