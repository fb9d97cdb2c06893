"""The .xlsx view: layout, cell types, the _audit sheet, background writing and its lock."""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import os
import shutil
import subprocess
import time

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from lib import audit
from lib.core.records import Record
from lib.store.base import SYSTEM_COLUMNS, Column, SheetSpec
from lib.store.local.store import LocalStore
from lib.store.local.workbook import TEMP_SUFFIX, layout, matching_stamp, write_workbook
from tests.store.store_cases import CITY, PROVINCE, SPEC, WIDE_SPEC, wide_rows

TEXTS = ["007", "=1+1", "+86 138 0013 8000", "-3", "@SUM(A1)", "1e5", "http://example.com", "2020-09-01"]


def load(path):
    return openpyxl.load_workbook(path)


def test_one_sheet_per_form_with_chinese_headers_and_typed_cells(store):
    a = store.append("site_check", {"project": TEXTS[0], "amount": 12.5, "count": 3,
                                    "visit_date": dt.date(2020, 9, 1), "passed": True, "issues": ["质量", "安全"],
                                    "people": [{"name": "张三", "phone": "138"}], "remark": "第一行\n第二行"},
                     actor=CITY, status="已提交")
    for text in TEXTS[1:]:
        store.append("site_check", {"project": text}, actor=CITY, status="草稿")
    assert store.flush_workbook()
    ws = load(store.workbook_path)["现场检查记录"]
    headers = [c.value for c in ws[1]]
    assert headers == [h for _, h in SYSTEM_COLUMNS] + [c.label for c in SPEC.columns]
    row = dict(zip(headers, ws[2], strict=True))
    assert row["记录编号"].value == a.id and row["版本"].value == 1 and row["状态"].value == "已提交"
    assert (row["合同金额"].data_type, row["合同金额"].value) == ("n", 12.5)
    assert (row["检查人数"].data_type, row["检查人数"].value) == ("n", 3)
    assert row["检查日期"].is_date and row["检查日期"].value.date() == dt.date(2020, 9, 1)
    assert row["检查日期"].number_format == "yyyy-mm-dd"
    assert row["创建时间"].is_date and row["创建时间"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert (row["是否合格"].data_type, row["是否合格"].value) == ("s", "是")  # as everywhere a person reads it
    assert row["问题类型"].value == "质量；安全"
    assert row["检查人员"].value == "name：张三；phone：138"  # a table reads as its rows, as in the Sheets view and the audit
    assert row["备注"].value == "第一行\n第二行"
    projects = [(r[10].value, r[10].data_type) for r in ws.iter_rows(min_row=2)]
    assert projects == [(t, "s") for t in TEXTS]  # text that looks like formulas/numbers stays text


def test_audit_sheet_lists_changes_in_chinese(store, clock):
    a = store.append("site_check", {"amount": 1.0, "remark": "旧"}, actor=CITY, status="草稿")
    clock.tick(minutes=3)
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, values={"amount": 2.5, "remark": None},
                 status="已提交", note="省级复核")
    store.log_event(PROVINCE, "拒绝访问", form_id="site_check", note="越权")
    store.flush_workbook()
    ws = load(store.workbook_path)["_audit"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0] == ["时间", "账号", "操作", "表单", "记录编号", "版本", "变更内容", "备注"]
    assert rows[1][1:7] == ["city_gz", "新增", "现场检查记录", a.id, 1, "新增记录（2 个字段）"]
    assert rows[2][0] == dt.datetime(2020, 9, 10, 10, 3)
    assert rows[2][1:] == ["prov_admin", "修改", "现场检查记录", a.id, 2,
                           "合同金额：1 → 2.5\n备注：旧 → （空）\n状态：草稿 → 已提交", "省级复核"]
    assert rows[3][2] == "拒绝访问" and rows[3][7] == "越权"
    labels = audit.Labels({"site_check": SPEC.title}, {"site_check": {c.key: c.label for c in SPEC.columns}})
    page = audit.audit_frame(store.audit(), labels).iloc[::-1]  # the page lists newest first
    assert rows[0] == audit.COLUMNS
    assert [r[6] or "" for r in rows[1:]] == list(page["变更内容"])  # one entry, one text, wherever it is read


MONEY_SPEC = SheetSpec("f", "奖补明细", (Column("m", "奖补金额", "number", display="money"),
                                         Column("p", "完成比例", "number", display="percent"), Column("x", "系数", "number"),
                                         Column("d", "检查日期", "date"), Column("ok", "是否合格", "bool")))


def money_workbook(tmp_path):
    """A workbook of MONEY_SPEC with one row, written as the store writes it."""
    at = dt.datetime(2020, 9, 10, 10, 0, 5)
    rec = Record("f", "r1", 1, "已提交", 1, "city_gz", "", "广州", at, at, "city_gz",
                 {"m": 3.0, "p": 12.5, "x": 1.2345, "d": dt.date(2020, 9, 1), "ok": False})
    path = tmp_path / "money.xlsx"
    tmp = write_workbook(path, layout({"f": MONEY_SPEC}, lambda f: list(MONEY_SPEC.columns)), {"f": [rec]}, [], {}, {})
    os.replace(tmp, path)
    return path


def test_money_columns_keep_numbers_with_two_decimals(tmp_path):
    ws = load(money_workbook(tmp_path))["奖补明细"]
    row = {c.value: cell for c, cell in zip(ws[1], ws[2], strict=True)}
    assert [(row[h].value, row[h].data_type, row[h].number_format) for h in ("奖补金额", "完成比例", "系数")] == [
        (3, "n", "0.00"), (12.5, "n", "0.00"), (1.2345, "n", "General")]
    assert row["检查日期"].is_date and row["检查日期"].number_format == "yyyy-mm-dd"
    assert row["创建时间"].is_date and row["创建时间"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert row["是否合格"].value == "否"


def test_the_stores_own_workbook_gives_money_two_decimals_and_dates_a_date_format(store_factory):
    """Through the log and back: the columns' display is in the sheet entry, so the workbook the store
    writes (and one a reopened store writes from the replayed log) formats money as 0.00."""
    store = store_factory()
    store.ensure_sheet(MONEY_SPEC)
    store.append("f", {"m": 3.0, "p": 12.5, "x": 1.2345, "d": dt.date(2020, 9, 1), "ok": True}, actor=CITY,
                 status="已提交")
    for opened in (store, store_factory()):  # the second replays the log written by the first
        opened.append("f", {"m": 7}, actor=CITY, status="草稿")
        assert opened.flush_workbook()
        ws = load(opened.workbook_path)["奖补明细"]
        row = {c.value: cell for c, cell in zip(ws[1], ws[2], strict=True)}
        assert [(row[h].value, row[h].number_format) for h in ("奖补金额", "完成比例", "系数")] == [
            (3, "0.00"), (12.5, "0.00"), (1.2345, "General")]
        assert row["检查日期"].is_date and row["检查日期"].number_format == "yyyy-mm-dd"
        assert [r[10].number_format for r in ws.iter_rows(min_row=2)] == ["0.00"] * (ws.max_row - 1)


def test_the_audit_sheet_shows_a_money_change_with_two_decimals(store_factory):
    """变更内容 reads a money or percent field as its cell does (12.50, not 12.5), here as in the Sheets view."""
    store = store_factory()
    store.ensure_sheet(MONEY_SPEC)
    a = store.append("f", {"m": 12.5, "p": 80.0, "x": 1.5}, actor=CITY, status="草稿")
    store.update("f", a.id, base_rev=1, actor=CITY, values={"m": 3.0, "p": 100.0, "x": 2.0})
    assert store.flush_workbook()
    rows = [[c.value for c in r] for r in load(store.workbook_path)["_audit"].iter_rows(min_row=2)]
    assert rows[-1][6] == "奖补金额：12.50 → 3.00\n完成比例：80.00 → 100.00\n系数：1.5 → 2"


def test_times_with_microseconds_read_to_the_second_not_rounded_into_the_next_day(store_factory, clock):
    """The store's clock keeps microseconds; the workbook cuts them as the Sheets view and every text do,
    so 23:59:59.999999 stays on its day (Excel would round it to the next midnight)."""
    clock.now = dt.datetime(2020, 9, 10, 23, 59, 59, 999_999)
    store = store_factory()
    store.ensure_sheet(SPEC)
    a = store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
    assert store.flush_workbook()
    book = load(store.workbook_path)
    row = {c.value: cell.value for c, cell in zip(book["现场检查记录"][1], book["现场检查记录"][2], strict=True)}
    assert row["创建时间"] == row["更新时间"] == dt.datetime(2020, 9, 10, 23, 59, 59)
    assert [r[0].value for r in book["_audit"].iter_rows(min_row=2)] == [dt.datetime(2020, 9, 10, 23, 59, 59)]
    # The file reads as the log: no external edit is seen, and nothing is imported when it is written again.
    clock.tick(seconds=1)
    store.update("site_check", a.id, base_rev=1, actor=CITY, values={"remark": "乙"})
    assert store.flush_workbook()
    assert [e.action for e in store.audit()] == ["新增", "修改"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_workbook_and_shows_the_formats(tmp_path):
    path = money_workbook(tmp_path)
    out = tmp_path / "csv"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=120)
    # Filter options 44,34,76: comma, double quote, UTF-8 (the default is the locale's, ASCII here).
    header, row = list(csv.reader((out / "money.csv").read_text("utf-8").splitlines()))[:2]
    shown = dict(zip(header, row, strict=True))  # a CSV holds each cell as LibreOffice shows it
    assert (shown["奖补金额"], shown["完成比例"], shown["系数"]) == ("3.00", "12.50", "1.2345")
    assert (shown["检查日期"], shown["创建时间"], shown["是否合格"]) == ("2020-09-01", "2020-09-10 10:00:05", "否")


def test_sheet_names_follow_excel_rules(store_factory):
    store = store_factory()
    title = "2020年[第三季度]:现场*检查?记录/汇总\\表（广州、深圳、珠海及粤东西北各地市）"
    store.ensure_sheet(SheetSpec("a", title, (Column("x", "甲"),)))
    store.ensure_sheet(SheetSpec("b", "2020年第三季度现场检查记录汇总表（广州、深圳、珠海及粤东西北）", (Column("x", "甲"),)))
    store.flush_workbook()
    names = CalamineWorkbook.from_path(str(store.workbook_path)).sheet_names
    cleaned = "2020年第三季度现场检查记录汇总表（广州、深圳、珠海及粤东西北各地市）"  # []:*?/\\ removed
    assert names[0] == cleaned[:31]
    assert names[1] == cleaned[:29] + "~2"  # same 31 characters: made unique
    assert names[2] == "_audit"


def test_write_is_atomic_and_leaves_no_temp_files(store):
    store.append("site_check", {"count": 1}, actor=CITY, status="草稿")
    store.flush_workbook()
    first = os.stat(store.workbook_path).st_ino
    stale = store.data_dir / f".campaign.dead{TEMP_SUFFIX}"
    stale.write_bytes(b"half a workbook")  # what a killed writer leaves
    store.append("site_check", {"count": 2}, actor=CITY, status="草稿")
    store.flush_workbook()
    assert os.stat(store.workbook_path).st_ino != first  # replaced by rename, never rewritten in place
    assert not list(store.data_dir.glob(f"*{TEMP_SUFFIX}"))
    assert matching_stamp(store.workbook_path)["offset"] == store.log.offset


def test_background_writer_keeps_the_workbook_current_and_stops_on_close(tmp_path):
    store = LocalStore(tmp_path, background=True, debounce=0.1)
    child = store.workbook_writer()
    try:
        store.ensure_sheet(SPEC)
        ids = [store.append("site_check", {"count": i}, actor=CITY, status="草稿").id for i in range(100)]
        assert store.flush_workbook(60)  # a liveness bound, generous for a busy machine
        sheet = CalamineWorkbook.from_path(str(store.workbook_path)).get_sheet_by_name("现场检查记录").to_python()
        assert [r[0] for r in sheet[1:]] == ids
        # Without being asked, a later change reaches the file too (polling + debounce).
        store.append("site_check", {"count": 100}, actor=CITY, status="草稿")
        deadline = time.monotonic() + 60
        while matching_stamp(store.workbook_path)["offset"] < store.log.offset:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert child.pid != os.getpid() and child.poll() is None
    finally:
        store.close()
    assert child.poll() is not None  # the child process is gone


def test_only_one_process_writes_the_workbook_and_another_takes_over(tmp_path):
    first = LocalStore(tmp_path, background=True, debounce=0.1)
    second = LocalStore(tmp_path, background=True, debounce=0.1)
    try:
        first.ensure_sheet(SPEC)
        first.append("site_check", {"count": 1}, actor=CITY, status="草稿")
        assert first.flush_workbook(15)
        with open(tmp_path / ".campaign.xlsx.lock", "rb") as f, pytest.raises(BlockingIOError):
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by the active writer
        holder, other = (first, second) if _holds_lock(first) else (second, first)
        holder.close()
        rec = other.append("site_check", {"count": 2}, actor=CITY, status="草稿")
        assert other.flush_workbook(15)
        sheet = CalamineWorkbook.from_path(str(tmp_path / "campaign.xlsx")).get_sheet_by_name("现场检查记录")
        assert rec.id in [r[0] for r in sheet.to_python()]
    finally:
        first.close()
        second.close()


def _holds_lock(store):
    """Whether this store's background child is the one holding the workbook lock."""
    pid = store.workbook_writer().pid
    with open("/proc/locks") as f:
        return any(f" {pid} " in line for line in f)


@pytest.mark.timeout(300)
def test_workbook_at_20000_rows_reflects_a_change(tmp_path):
    """At 20,000 rows the background writer still brings a new row into the file. How fast is a
    figure of bench/store_bench.py, not a pass/fail bound: this must hold on a busy machine too."""
    store = LocalStore(tmp_path, background=True)
    try:
        store.ensure_sheet(WIDE_SPEC)
        for start in range(0, 20_000, 5_000):
            store.append_many("site_check", wide_rows(5_000, start), actor=CITY, status="已提交")
        assert store.flush_workbook(240)
        rec = store.append("site_check", wide_rows(1, 20_000)[0], actor=CITY, status="已提交")
        assert store.flush_workbook(240)
        sheet = CalamineWorkbook.from_path(str(store.workbook_path)).get_sheet_by_name("现场检查记录").to_python()
        assert len(sheet) == 20_002 and sheet[-1][0] == rec.id
    finally:
        store.close()
