"""Lateness is measured from submission and "as of" means as of (issue 12, outcome 4), end to end: rows
written to a real local store through append/update with a clock the test moves, then the board from
that store's own snapshot and audit (history.as_of, then prepare). Expectations worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from lib.campaign.board.figures import compute_board
from lib.campaign.board.units import DRAFT, LATE_FILED, MISSING, OVERDUE, WITHDRAWN
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store
from tests.store.store_cases import Clock

from .conftest import SHIPPED, voucher

FILER = Actor("p1", "provider", "服务商甲", "广州")
REGISTER = pd.DataFrame([voucher("V-000001"), voucher("V-000002"), voucher("V-000003")])


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2020, 9, day, hour) if day > 3 else dt.datetime(2020, 10, day, hour)


def values(v: str) -> dict:
    return {"voucher_no": v, "provider_name": "服务商甲", "client_city": "广州", "client_name": f"企业{v}",
            "client_credit_code": f"C{v}", "subsidy_amount": 10.0, "usage_status": "正常使用"}


@pytest.fixture
def store(tmp_path):
    """附件1 (deadline 9-18): V-000001 saved as a draft on 9-10 and submitted on 9-30; V-000002 submitted
    on 9-10, withdrawn on 9-12 and submitted again on 9-20; V-000003 never filed."""
    clock = Clock(at(10))
    s = open_store("local", data_dir=tmp_path / "data", background=False, clock=clock)
    s.ensure_sheet(sheet_spec(SHIPPED.form("att1")))
    draft = s.append("att1", values("V-000001"), actor=FILER, status=DRAFT)
    filed = s.append("att1", values("V-000002"), actor=FILER, status=SUBMITTED)
    clock.now = at(12)
    filed = s.update("att1", filed.id, base_rev=filed.rev, actor=FILER, status=WITHDRAWN)
    clock.now = at(20)
    s.update("att1", filed.id, base_rev=filed.rev, actor=FILER, status=SUBMITTED)
    clock.now = at(30, 16)
    s.update("att1", draft.id, base_rev=draft.rev, actor=FILER, status=SUBMITTED)
    yield s
    s.close()


def board_of(store, calendar, day: dt.date):
    audit = store.audit("att1")
    return compute_board({"att1": store.snapshot("att1")}, REGISTER, None, calendar, day, audit=audit)


def late_list(board) -> dict:
    """The late list of 附件1 (the city's 附件3, which lists the same register entries, is not written here)."""
    return {(r["单位"], r["事项"]): r["逾期天数"] for r in board.late.to_dict("records") if r["表单"] == "附件1"}


def entries(board) -> dict:
    units = board.units[board.units["台账内"].astype(bool) & (board.units["表单"] == "附件1")]
    return {r["编号"]: (r["状态"], r["逾期天数"], r["填报时间"]) for r in units.to_dict("records") if r["状态"] not in (DRAFT, WITHDRAWN)}


def test_a_draft_submitted_late_is_late_from_its_submission(store, calendar):
    board = board_of(store, calendar, dt.date(2020, 10, 1))
    got = entries(board)
    assert got["V-000001"] == (LATE_FILED, 12, pd.Timestamp(at(30, 16)))  # 9-30 minus 9-18, not the draft's 9-10
    assert got["V-000002"] == (LATE_FILED, 2, pd.Timestamp(at(20)))  # counts from the resubmission
    assert got["V-000003"][:2] == (OVERDUE, 13)
    assert late_list(board) == {("服务商甲", "逾期报送 2 项"): 12, ("服务商甲", "未报送 1 项"): 13}
    assert board.project_rows.set_index("服务券编号")["填报时间"].to_dict() == {
        "V-000001": pd.Timestamp(at(30, 16)), "V-000002": pd.Timestamp(at(20))}


def test_as_of_9_15_the_board_shows_the_rows_as_they_stood(store, calendar):
    """On 9-15 V-000001 was a draft and V-000002 withdrawn: nothing was reported, nothing was late yet."""
    board = board_of(store, calendar, dt.date(2020, 9, 15))
    assert {k: v[0] for k, v in entries(board).items()} == {"V-000001": MISSING, "V-000002": MISSING, "V-000003": MISSING}
    states = sorted(board.units.loc[board.units["状态"].isin((DRAFT, WITHDRAWN)), "状态"])
    assert states == sorted([DRAFT, WITHDRAWN])
    [gz] = board.progress[(board.progress["地市"] == "广州") & (board.progress["表单"] == "附件1")].to_dict("records")
    assert (gz["已报"], gz["未报"], gz["逾期未报"], gz["草稿"]) == (0, 3, 0, 1)
    assert late_list(board) == {} and board.project_rows.empty


def test_as_of_9_19_the_late_list_is_that_days(store, calendar):
    """The late list of 9-19, drawn again weeks later: V-000002 was withdrawn then, so all three were overdue by one day."""
    board = board_of(store, calendar, dt.date(2020, 9, 19))
    assert late_list(board) == {("服务商甲", "未报送 3 项"): 1}


def test_a_past_days_late_list_keeps_the_register_of_that_day(tmp_path, calendar):
    """Register A (V-000001..3) imported on 9-05, V-000001 filed on 9-10, register B (V-000001 and a new
    V-000004; V-000002/3 dropped) imported on 9-22. The board of 9-19 drawn after B still expects A's
    entries: its late list is the one of that day; the board of 9-23 expects B's."""
    from lib.campaign.register import store as reg
    from lib.campaign.register import upload
    from lib.campaign.register.kinds import register_kinds
    from lib.demo.register import PROVINCE
    from lib.forms.types import credit_code_check_char
    from lib.office.excel import SheetRows

    kind = register_kinds(SHIPPED.campaign)["vouchers"]
    headers = [kind.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]

    def code(v: str) -> str:
        body = f"9144010{v[-1]}MA59ABCDE"
        return body + credit_code_check_char(body)

    def register(*vouchers: str):
        parsed = upload.parse_register(kind, [SheetRows("S", [headers, *([v, f"企业{v}", code(v), "服务商甲", "广州", 2019, 10, "已兑现"]
                                                                       for v in vouchers)])])
        assert not parsed.problems, parsed.problems
        return parsed

    clock = Clock(at(5))
    s = open_store("local", data_dir=tmp_path / "data", background=False, clock=clock)
    try:
        reg.import_register(s, register("V-000001", "V-000002", "V-000003"), PROVINCE, file_name="A.xlsx", now=at(5))
        s.ensure_sheet(sheet_spec(SHIPPED.form("att1")))
        clock.now = at(10)
        s.append("att1", {**values("V-000001"), "client_credit_code": code("V-000001")}, actor=FILER, status=SUBMITTED)
        clock.now = at(22)
        reg.import_register(s, register("V-000001", "V-000004"), PROVINCE, file_name="B.xlsx", now=at(22))

        def board(day: dt.date | None):
            rows, imports = s.snapshot(kind.sheet_id), s.snapshot(reg.IMPORTS_SHEET.form_id)
            return compute_board({"att1": s.snapshot("att1")}, reg.current_register(rows, imports, kind, day), None, calendar,
                                 day or dt.date(2020, 9, 23), audit=s.audit("att1"))

        then = board(dt.date(2020, 9, 19))
        assert {k: v[:2] for k, v in entries(then).items()} == {"V-000001": ("按时报送", 0), "V-000002": (OVERDUE, 1),
                                                                "V-000003": (OVERDUE, 1)}
        assert late_list(then) == {("服务商甲", "未报送 2 项"): 1}
        for day in (dt.date(2020, 9, 23), None):  # B: on 9-23 and now
            now = board(day)
            assert {k: v[:2] for k, v in entries(now).items()} == {"V-000001": ("按时报送", 0), "V-000004": (OVERDUE, 5)}
            assert late_list(now) == {("服务商甲", "未报送 1 项"): 5}
        before_any = reg.current_register(s.snapshot(kind.sheet_id), s.snapshot(reg.IMPORTS_SHEET.form_id), kind, dt.date(2020, 9, 4))
        # G6: a day before the first import takes the first import (A), not no register at all
        assert sorted(before_any["voucher"]) == ["V-000001", "V-000002", "V-000003"]
    finally:
        s.close()
