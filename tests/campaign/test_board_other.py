"""The board on the second campaign (tests/campaigns/other: 2021, its own form ids, field keys, choice
words, deadlines and register years), with no code written for it: hand-built rows keyed by that
campaign's own fields, and every expectation worked out by hand as in test_progress.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from lib.campaign.board.detail_tables import EXEMPT_BAND
from lib.campaign.board.figures import compute_board
from lib.campaign.board.units import EXEMPT, LATE_FILED, OVERDUE
from lib.campaign.schedule import Calendar
from lib.forms import load_catalog

from .conftest import frame, row

OTHER = load_catalog(Path(__file__).resolve().parents[1] / "campaigns" / "other")
CAL = Calendar.from_specs(OTHER.campaign, OTHER.forms())
AS_OF = dt.date(2021, 9, 25)  # a week after the projects' and reports' deadline (9-18), 4 days after the checks' (9-21)
PROJECTS, REPORTS, CHECKS = "附件1 上云上平台项目", "附件2 标杆示范项目报告", "附件3 上云上平台检查表"


def filing(coupon, vendor="服务商甲", city="广州", grant=10.0, use="在用", day="2021-09-10", **kw) -> dict:
    """A row of cloud_projects, keyed by that form's fields."""
    owner = {"服务商甲": "v1", "服务商乙": "v2"}[vendor]
    return row(owner=owner, org=vendor, created=day, coupon_code=coupon, vendor_name=vendor, enterprise_city=city,
               enterprise_name=f"企业{coupon}", enterprise_uscc=f"C{coupon}", grant_wan=grant, use_state=use, **kw)


def entry(coupon, provider="服务商甲", city="广州", subsidy=10.0) -> dict:
    """An entry of the voucher register in force (meaning columns, as register.store.current_register gives them)."""
    return {"voucher": coupon, "firm": f"企业{coupon}", "firm_code": f"C{coupon}", "provider": provider, "city": city,
            "year": "2020", "subsidy": subsidy, "state": "已兑现"}


REGISTER = pd.DataFrame([entry("Q-000001"), entry("Q-000002", subsidy=20.0), entry("Q-000003", provider="服务商乙", subsidy=5.0),
                         entry("Q-000004", provider="服务商乙", city="佛山", subsidy=8.0)])
PROJECT_ROWS = frame(
    filing("Q-000001"),
    filing("Q-000002", grant=25.0, use="搁置", day="2021-09-20"),  # two days late, 25 against the register's 20
    filing("Q-000001", day="2021-09-12"),  # the same entry again
    filing("Q-000099", vendor="服务商乙", use="停止使用", day="2021-09-11"),  # no register lists it
    filing("Q-000004", vendor="服务商乙", city="佛山", status="草稿", day="2021-09-11"),
)
CHECK_ROWS = frame(
    row(owner="c_gz", org="广州市工业和信息化局", city="广州", created="2021-09-15", region="广州", coupon_code="Q-000001",
        enterprise_uscc="CQ-000001", enterprise_name="企业Q-000001", inspect_way="现场核查", verdict="不通过"),
    row(owner="c_gz", org="广州市工业和信息化局", city="广州", created="2021-09-15", region="广州", coupon_code=None,
        enterprise_uscc="CQ-000002", enterprise_name="企业Q-000002", inspect_way="尚未检查"),  # matched by the firm's code
)
BENCH_PROJECTS = pd.DataFrame([
    {"project": "陶瓷平台", "lead_unit": "牵头甲", "lead_unit_code": "L1", "city": "佛山", "programme": "省级示范"},
    {"project": "家电工厂", "lead_unit": "牵头乙", "lead_unit_code": "L2", "city": "佛山", "programme": "部级创新工程"},
    {"project": "五金平台", "lead_unit": "牵头丙", "lead_unit_code": "L3", "city": "广州", "programme": "省级示范"},
    {"project": "纺织平台", "lead_unit": "牵头丁", "lead_unit_code": "L4", "city": "广州", "programme": None},
])
REPORT_ROWS = frame(
    row(owner="l1", org="牵头甲", created="2021-09-10", item_name="陶瓷平台", leader_name="牵头甲", leader_uscc="L1",
        region="佛山", funding_line="省级示范", build_state="在建", spend_pct=45.0),
    # the register leaves its programme blank; the report says it is the Ministry's and exempt, and was filed late
    row(owner="l4", org="牵头丁", created="2021-09-20", item_name="纺织平台", leader_name="牵头丁", leader_uscc="L4",
        region="广州", funding_line="部级创新工程", exempt_flag=True, build_state="在建"),
)


@pytest.fixture(scope="module")
def board():
    frames = {"cloud_projects": PROJECT_ROWS, "bench_reports": REPORT_ROWS, "city_inspections": CHECK_ROWS}
    return compute_board(frames, REGISTER, BENCH_PROJECTS, CAL, AS_OF)


def progress_of(board, city, form) -> dict:
    hit = board.progress[(board.progress["地市"] == city) & (board.progress["表单"] == form)]
    assert len(hit) == 1
    return hit.iloc[0].to_dict()


def counts(r: dict, *names: str) -> tuple:
    return tuple(int(r[n]) for n in names)


def test_the_calendar_is_the_campaigns_own():
    assert CAL.forms == ("cloud_projects", "bench_reports", "city_inspections")
    assert CAL.deadlines == {"cloud_projects": dt.date(2021, 9, 18), "bench_reports": dt.date(2021, 9, 18),
                             "city_inspections": dt.date(2021, 9, 21)}
    assert [CAL.title(f) for f in CAL.forms] == [PROJECTS, REPORTS, CHECKS]


def test_progress_per_city_of_the_projects_form(board):
    gz = progress_of(board, "广州", PROJECTS)
    # due: Q1, Q2, Q3; reported: Q1 (9-10), Q2 (9-20, late), Q99 (off the register); Q3 missing; Q1 again
    assert counts(gz, "应报", "已报", "台账外", "未报", "逾期未报", "逾期报送", "重复报送", "草稿") == (3, 3, 1, 1, 1, 1, 1, 0)
    assert gz["完成率（%）"] == 66.7
    fs = progress_of(board, "佛山", PROJECTS)
    assert counts(fs, "应报", "已报", "未报", "逾期未报", "草稿") == (1, 0, 1, 1, 1)
    assert len(board.progress) == 21 * 3


def test_the_late_list_names_the_campaigns_roles_and_forms(board):
    late = board.late
    rows = {(r["单位"], r["事项"]): (r["角色"], r["表单"], r["逾期天数"]) for r in late.to_dict("records")}
    assert rows[("服务商乙", "未报送 2 项")] == ("服务商", PROJECTS, 7)  # Q3 and Q4: 9-25 minus 9-18
    assert rows[("服务商甲", "逾期报送 1 项")] == ("服务商", PROJECTS, 2)
    assert rows[("广州市工业和信息化局", "未报送 1 项")] == ("地市工信部门", CHECKS, 4)  # Q3 unchecked: 9-25 minus 9-21
    assert rows[("佛山市工业和信息化局", "未报送 1 项")] == ("地市工信部门", CHECKS, 4)
    assert rows[("牵头丙", "未报送 1 项")] == ("牵头单位", REPORTS, 7)
    assert len(rows) == 5  # neither exempt project is late, though 牵头丁 filed on 9-20
    assert late["逾期天数"].is_monotonic_decreasing


def test_usage_by_city_and_provider_in_the_campaigns_words_and_order(board):
    gz = board.usage_by_city[board.usage_by_city["地市"] == "广州"]
    assert gz[["使用状态", "项目数"]].values.tolist() == [["在用", 1], ["低频使用", 0], ["搁置", 1], ["停止使用", 1]]
    assert set(board.usage_by_city["地市"]) == {"广州"}  # the 佛山 draft is not reported
    by_provider = board.usage_by_provider.set_index(["服务商", "使用状态"])["项目数"]
    assert (by_provider[("服务商甲", "在用")], by_provider[("服务商甲", "搁置")], by_provider[("服务商甲", "停止使用")]) == (1, 1, 0)
    assert (by_provider[("服务商乙", "停止使用")], by_provider[("服务商乙", "在用")]) == (1, 0)


def test_conclusions_in_the_campaigns_words(board):
    gz = board.conclusions[board.conclusions["地市"] == "广州"]
    assert gz[["检查结论", "项目数"]].values.tolist() == [["通过", 0], ["基本通过", 0], ["不通过", 1], ["尚未检查", 1]]
    checks = progress_of(board, "广州", CHECKS)
    assert counts(checks, "应报", "已报", "未报", "逾期未报", "台账外") == (3, 2, 1, 1, 0)
    assert counts(progress_of(board, "佛山", CHECKS), "应报", "已报", "逾期未报") == (1, 0, 1)


def test_the_ministrys_projects_owe_no_report_and_spending_is_banded(board):
    fs, gz = progress_of(board, "佛山", REPORTS), progress_of(board, "广州", REPORTS)
    assert counts(fs, "应报", "免报", "已报", "未报", "逾期未报") == (1, 1, 1, 0, 0)  # 陶瓷 on time; 家电 is the Ministry's
    assert counts(gz, "应报", "免报", "已报", "未报", "逾期未报", "逾期报送") == (1, 1, 0, 1, 1, 0)  # 五金 overdue; 纺织 exempt
    units = board.units[board.units["表单"] == REPORTS].set_index("名称")
    assert units.loc["家电工厂", "状态"] == units.loc["纺织平台", "状态"] == EXEMPT
    assert units.loc["五金平台", "状态"] == OVERDUE and not units.loc["纺织平台", "逾期"]
    assert board.totals["免报"] == 2
    bins = board.spending_bins.set_index("支出区间")["报告数"]
    assert (bins["40–60%"], bins[EXEMPT_BAND], bins.sum()) == (1, 1, 2)
    assert sorted(board.spending["牵头单位"]) == ["牵头丁", "牵头甲"]


def test_register_matching_reads_the_campaigns_fields(board):
    issues = board.issues
    got = sorted(zip(issues["问题类型"], issues["服务券编号"], strict=True))
    assert got == [("台账有、未报送", "Q-000003"), ("台账有、未报送", "Q-000004"), ("已报送、台账无", "Q-000099"),
                   ("重复报送", "Q-000001"), ("金额不符", "Q-000002")]
    amount = issues[issues["问题类型"] == "金额不符"].iloc[0]
    assert (amount["台账奖补金额"], amount["填报奖补金额"]) == (20.0, 25.0)
    late = board.units[(board.units["表单"] == PROJECTS) & (board.units["编号"] == "Q-000002")]
    assert late["状态"].tolist() == [LATE_FILED] and late["逾期天数"].tolist() == [2]


def test_detail_tables_are_headed_with_the_forms_labels(board):
    rows = board.project_rows.set_index("服务券编号")
    assert rows.loc["Q-000002", "奖补金额（万元）"] == 25.0 and rows.loc["Q-000002", "企业名称"] == "企业Q-000002"
    assert board.kinds["奖补金额（万元）"] == "money" and board.kinds["资金支出比例（%）"] == "percent"
    assert set(board.check_rows["检查方式"]) == {"现场核查", "尚未检查"}


def test_the_register_decides_a_listed_projects_exemption_and_a_disagreeing_report_is_flagged():
    """五金平台 is 省级示范 in the register; its lead unit files on 9-24 (deadline 9-18) saying 部级创新工程
    and ticking the exemption: the register decides, so the report is 6 days late and on the late list,
    and the reports table says what the register says. 家电工厂 is the Ministry's in the register; a report
    calling it 省级示范 leaves it exempt, flagged the same way. A project the register leaves unclassified
    (纺织平台) is exempt by the report's own claim, with nothing to flag."""
    reports = frame(
        row(owner="l3", org="牵头丙", created="2021-09-24", item_name="五金平台", leader_name="牵头丙", leader_uscc="L3",
            region="广州", funding_line="部级创新工程", exempt_flag=True, build_state="在建"),
        row(owner="l2", org="牵头乙", created="2021-09-12", item_name="家电工厂", leader_name="牵头乙", leader_uscc="L2",
            region="佛山", funding_line="省级示范", build_state="在建", spend_pct=50.0),
        row(owner="l4", org="牵头丁", created="2021-09-20", item_name="纺织平台", leader_name="牵头丁", leader_uscc="L4",
            region="广州", funding_line="部级创新工程", exempt_flag=True, build_state="在建"),
    )
    board = compute_board({"cloud_projects": frame(), "bench_reports": reports, "city_inspections": frame()},
                          pd.DataFrame(), BENCH_PROJECTS, CAL, AS_OF)
    units = board.units[board.units["表单"] == REPORTS].set_index("名称")
    assert (units.loc["五金平台", "状态"], units.loc["五金平台", "逾期天数"]) == (LATE_FILED, 6)
    assert units.loc["家电工厂", "状态"] == units.loc["纺织平台", "状态"] == EXEMPT
    late = {(r["单位"], r["事项"]): r["逾期天数"] for r in board.late.to_dict("records") if r["表单"] == REPORTS}
    assert late == {("牵头丙", "逾期报送 1 项"): 6, ("牵头甲", "未报送 1 项"): 7}  # 陶瓷平台 never reported
    assert counts(progress_of(board, "广州", REPORTS), "应报", "免报", "已报", "逾期报送") == (1, 1, 1, 1)
    flags = board.spending.set_index("项目名称")["与台账不符"].to_dict()
    assert flags == {"五金平台": "支持渠道：台账为「省级示范」", "家电工厂": "支持渠道：台账为「部级创新工程」", "纺织平台": ""}
