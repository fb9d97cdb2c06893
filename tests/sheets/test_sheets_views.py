"""What a person sees in the spreadsheet: text written RAW, readable per-form sheets, _audit."""

from __future__ import annotations

import datetime as dt

import pytest

from lib import audit as audit_page
from lib.store.base import Column, SheetSpec
from tests.store.store_cases import CITY, PROVINCE, SPEC

pytestmark = pytest.mark.timeout(60)

TRICKY = {
    "project": "=1+1",
    "remark": "+86 138 0013 8000",
    "count": 7,
    "visit_date": dt.date(2020, 9, 1),
    "passed": True,
    "issues": ["质量", "=x"],
}


def sheet(server, key, title):
    return server.values(key, title, "UNFORMATTED_VALUE")


def test_cells_hold_what_was_typed(open_store, server, sheet_key):
    store = open_store()
    store.ensure_sheet(SPEC)
    long_text = "现场检查发现的问题描述。" * 2500
    rec = store.append("site_check", {**TRICKY, "people": [{"电话": "007"}]}, actor=CITY, status="已提交")
    store.append("site_check", {"project": "007", "remark": long_text}, actor=CITY, status="草稿")
    assert store.wait_idle(10)
    header, first, second = sheet(server, sheet_key, "现场检查记录")
    assert header[:3] == ["记录编号", "版本", "状态"] and "项目名称" in header
    row = dict(zip(header, first, strict=False))
    assert row["记录编号"] == rec.id
    assert (row["项目名称"], row["备注"], row["检查人数"]) == ("=1+1", "+86 138 0013 8000", 7)
    assert (row["检查日期"], row["是否合格"], row["问题类型"]) == ("2020-09-01", "是", "质量；=x")
    assert row["创建时间"] == rec.created_at.strftime("%Y-%m-%d %H:%M:%S") and row["检查人员"] == "电话：007"
    assert dict(zip(header, second, strict=False))["项目名称"] == "007"
    assert dict(zip(header, second, strict=False))["备注"] == long_text
    # No cell anywhere became a formula: the API would render "=1+1" as 2.
    for title in ("现场检查记录", "_log", "_audit"):
        assert server.values(sheet_key, title, "FORMATTED_VALUE") == [
            [str(c) if not isinstance(c, bool) else str(c).upper() for c in r] for r in sheet(server, sheet_key, title)]
    meta = {s.title: s for s in server.books[sheet_key].sheets}
    assert meta["_log"].hidden and not meta["现场检查记录"].hidden


def test_audit_sheet_and_updates_patch_the_same_row(open_store, server, sheet_key):
    store = open_store()
    store.ensure_sheet(SPEC)
    a = store.append("site_check", {"project": "甲", "count": 1}, actor=CITY, status="草稿")
    b = store.append("site_check", {"project": "乙"}, actor=CITY, status="草稿")
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, values={"count": 2}, status="已审核")
    assert store.wait_idle(10)
    rows = sheet(server, sheet_key, "现场检查记录")
    assert [r[0] for r in rows[1:]] == [a.id, b.id] and rows[1][1:3] == [2, "已审核"]
    audit = sheet(server, sheet_key, "_audit")
    assert audit[0] == ["时间", "账号", "操作", "表单", "记录编号", "版本", "变更内容", "备注"]
    assert [r[2] for r in audit[1:]] == ["新增", "新增", "修改"]
    assert [r[6] for r in audit[1:]] == ["新增记录（2 个字段）", "新增记录（1 个字段）", "检查人数：1 → 2\n状态：草稿 → 已审核"]
    assert audit[3][0] == store.audit()[2].at.strftime("%Y-%m-%d %H:%M:%S")


def test_an_audit_entry_reads_the_same_in_the_view_and_on_the_audit_page(open_store, server, sheet_key):
    store = open_store()
    store.ensure_sheet(SPEC)
    a = store.append("site_check", {"project": "甲", "passed": True, "issues": ["质量", "安全"],
                                    "visit_date": dt.date(2020, 9, 1)}, actor=CITY, status="草稿")
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, status="已审核", note="复核",
                 values={"passed": False, "issues": ["质量"], "visit_date": None, "remark": "长" * 3000})
    store.log_event(PROVINCE, "拒绝访问", form_id="site_check", note="越权")
    assert store.wait_idle(10)
    view = sheet(server, sheet_key, "_audit")
    labels = audit_page.Labels({"site_check": SPEC.title}, {"site_check": {c.key: c.label for c in SPEC.columns}})
    page = audit_page.audit_frame(store.audit(), labels).iloc[::-1]  # the page lists newest first
    assert view[0] == audit_page.COLUMNS
    view = [(r + [""] * len(audit_page.COLUMNS))[: len(audit_page.COLUMNS)] for r in view]  # Sheets drops trailing blanks
    assert [r[2:5] + r[6:] for r in view[1:]] == [
        [r["操作"], r["表单"], r["记录编号"], r["变更内容"], r["备注"]] for _, r in page.iterrows()]
    change = view[2][6]
    assert change.startswith("是否合格：是 → 否\n问题类型：质量；安全 → 质量\n检查日期：2020-09-01 → （空）\n备注：（空） → 长长")
    assert len(change) == 2_001 and change.endswith("…")  # the one cap, on the page as in the view


def test_views_grow_the_grid_and_can_be_rebuilt(open_store, server, sheet_key):
    store = open_store(reads_per_minute=1000, writes_per_minute=1000)
    store.ensure_sheet(SPEC)
    recs = store.append_many("site_check", [{"count": i} for i in range(1100)], actor=CITY, status="草稿")
    assert store.wait_idle(20)
    rows = sheet(server, sheet_key, "现场检查记录")
    assert len(rows) == 1101 and rows[-1][0] == recs[-1].id
    server.books[sheet_key].sheet("现场检查记录").cells = []  # a person deletes everything in the view
    store.rebuild_views()
    assert sheet(server, sheet_key, "现场检查记录") == rows


MONEY_SPEC = SheetSpec("fund", "奖补明细", (Column("m", "奖补金额", "number", display="money"),
                                            Column("p", "完成比例", "number", display="percent"),
                                            Column("x", "系数", "number")))


def test_money_and_percent_columns_show_two_decimals(open_store, server, sheet_key):
    """The columns' display reaches the view through the log: the money and percent columns get a
    0.00 number format (a repeatCell over the column below its header), others none; numbers stay numbers."""
    store = open_store()
    store.ensure_sheet(MONEY_SPEC)
    store.append("fund", {"m": 3, "p": 12.5, "x": 1.25}, actor=CITY, status="已提交")
    assert store.wait_idle(10)
    header, row = sheet(server, sheet_key, "奖补明细")
    cells = dict(zip(header, row, strict=False))
    assert (cells["奖补金额"], cells["完成比例"], cells["系数"]) == (3, 12.5, 1.25)
    shown = dict(zip(header, server.values(sheet_key, "奖补明细", "FORMATTED_VALUE")[1], strict=False))
    assert (shown["奖补金额"], shown["完成比例"], shown["系数"]) == ("3.00", "12.50", "1.25")
    grid = server.books[sheet_key].sheet("奖补明细")
    money = header.index("奖补金额")
    assert grid.number_format(0, money) is None  # the header is left as it is
    assert grid.number_format(5_000, money) == {"type": "NUMBER", "pattern": "0.00"}  # rows added later too
    # Another app process replays the log and sees the same display (nothing is sent twice for it).
    other = open_store()
    assert [c.display for c in other.sheet_spec("fund").columns] == ["money", "percent", ""]


def test_the_audit_view_shows_a_money_change_with_two_decimals(open_store, server, sheet_key):
    """变更内容 in the Sheets _audit reads money and percent as their cells do, as the workbook's _audit does."""
    store = open_store()
    store.ensure_sheet(MONEY_SPEC)
    a = store.append("fund", {"m": 12.5, "p": 80.0, "x": 1.5}, actor=CITY, status="草稿")
    store.update("fund", a.id, base_rev=1, actor=CITY, values={"m": 3.0, "p": 100.0, "x": 2.0})
    assert store.wait_idle(10)
    header, *rows = server.values(sheet_key, "_audit")
    assert rows[-1][header.index("变更内容")] == "奖补金额：12.50 → 3.00\n完成比例：80.00 → 100.00\n系数：1.5 → 2"
