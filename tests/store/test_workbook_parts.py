"""The workbook written part by part (issue 17): cells as the xlsxwriter writer wrote them, only changed
blocks built again, a valid zip, and audit events that wait for a data change."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time
import zipfile
import zlib
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from lib.core.records import Record
from lib.store.base import Column, SheetSpec
from lib.store.local import materialiser
from lib.store.local.store import LocalStore
from lib.store.local.verify import verify
from lib.store.local.workbook import (
    WorkbookParts,
    file_id,
    layout,
    matching_stamp,
    write_workbook,
    write_workbook_whole,
)
from lib.store.local.xlsx_parts import BLOCK_ROWS, crc32_combine
from lib.store.state import AuditRow
from tests.store.store_cases import CITY, PROVINCE, SPEC

RICH = SheetSpec("f", "奖补&<明细>", (
    Column("m", "奖补金额", "number", display="money"), Column("p", "完成比例", "number", display="percent"),
    Column("x", "系数", "number"), Column("d", "检查日期", "date"), Column("ok", "是否合格", "bool"),
    Column("t", "说明"), Column("tags", "问题类型", "list"), Column("people", "检查人员", "table"),
    Column("when", "约定时间", "datetime")))
AT = dt.datetime(2020, 9, 10, 10, 0, 5)
TEXTS = ["=1+1", "007", "a & b <c> \"d\"", "_x0041_ stays", "行一\r\n行二", " 前后空格 ", "\t", "", "http://x.cn",
         "1e5", "𠀀 astral", "x" * 200]
VALUES = [
    {"m": 3.0, "p": 12.5, "x": 1.2345, "d": dt.date(2020, 9, 1), "ok": False, "t": TEXTS[0]},
    {"m": 10**16, "p": Decimal("1.50"), "x": -0.1, "d": dt.date(1900, 2, 28), "ok": True, "tags": ["甲", "乙&"],
     "people": [{"姓名": "张三", "电话": None}], "when": dt.datetime(2020, 9, 10, 23, 59, 59, 999_999)},
    {"m": 0, "x": 1e20, "d": dt.date(1900, 3, 1), "when": dt.datetime(1900, 1, 1, 12, 0), "extra": "多出的键"},
    *({"t": text, "x": i} for i, text in enumerate(TEXTS)),
]


def _records(values=VALUES, rev=1):
    return [Record("f", f"r{i}", rev, "已提交" if i % 2 else "草稿", 1, "city_gz", "<单位>", "广州", AT,
                   AT + dt.timedelta(seconds=i), "city_gz", v) for i, v in enumerate(values)]


def _audit(recs):
    out = [AuditRow(AT, r.owner, "新增", "f", r.id, 1, r.values, "", True) for r in recs]
    out.append(AuditRow(AT, "prov_admin", "修改", "f", recs[0].id, 2, {"m": (3.0, 4.5), "_status": ("草稿", "已提交")},
                        "说明 & <备注>", False))
    out.append(AuditRow(AT, "prov_admin", "登录", "", "", 0, {}, "", False))
    return out


def _write(writer, path, recs, audit, parts=None):
    sheets = layout({"f": RICH}, lambda f: [*RICH.columns, Column("extra", "extra", "text")])
    args = (path, sheets, {"f": recs}, audit, {"f": RICH.title}, {"f": {c.key: c.label for c in RICH.columns}},
            {"f": {"m": "money", "p": "percent"}})
    tmp = writer(*args, parts) if parts is not None else writer(*args)
    os.replace(tmp, path)
    return path


def _cells(path):
    """Every cell as openpyxl reads it, with what a person sees of its style, and each sheet's layout."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        widths = {k: d.width for k, d in ws.column_dimensions.items()}
        cells = [[(c.value, c.data_type, c.number_format, c.font.b, c.fill.fgColor.rgb, c.border.left.style)
                  for c in row] for row in ws.iter_rows()]
        out[ws.title] = (ws.freeze_panes, ws.dimensions, widths, cells)
    return list(book.sheetnames), out


def test_every_cell_is_what_the_xlsxwriter_writer_wrote(tmp_path):
    recs = _records()
    old = _write(write_workbook_whole, tmp_path / "old.xlsx", recs, _audit(recs))
    new = _write(write_workbook, tmp_path / "new.xlsx", recs, _audit(recs))
    assert _cells(new) == _cells(old)
    book = CalamineWorkbook.from_path(str(new))
    assert [book.get_sheet_by_name(n).to_python() for n in book.sheet_names] == \
        [CalamineWorkbook.from_path(str(old)).get_sheet_by_name(n).to_python() for n in book.sheet_names]
    assert zipfile.ZipFile(new).testzip() is None  # every part's CRC-32 matches its joined blocks


def test_a_changed_row_builds_its_block_again_and_the_rest_is_copied(tmp_path):
    values = [{"t": f"第{i}行", "x": i} for i in range(3 * BLOCK_ROWS)]
    recs = _records(values)
    parts, audit = WorkbookParts(), _audit(recs)
    _write(write_workbook, tmp_path / "a.xlsx", recs, audit, parts)
    assert parts.rebuilt() == 3 + 4  # the first write builds every block: 3 of rows, 4 of audit entries
    changed = list(recs)
    changed[BLOCK_ROWS + 7] = dataclasses.replace(recs[BLOCK_ROWS + 7], rev=2, values={"t": "改过", "x": -1})
    audit = [*audit, AuditRow(AT, "city_gz", "修改", "f", recs[BLOCK_ROWS + 7].id, 2, {"t": ("第", "改过")}, "", False)]
    path = _write(write_workbook, tmp_path / "b.xlsx", changed, audit, parts)
    assert parts.rebuilt() == 2  # the changed row's block, and the audit's last block (one entry more)
    full = _write(write_workbook, tmp_path / "c.xlsx", changed, audit)
    assert _cells(path) == _cells(full)
    assert zipfile.ZipFile(path).testzip() is None


def test_a_new_column_builds_the_sheet_again(tmp_path):
    recs = _records([{"t": f"第{i}行"} for i in range(BLOCK_ROWS + 1)])
    parts = WorkbookParts()
    _write(write_workbook, tmp_path / "a.xlsx", recs, [], parts)
    wider = SheetSpec("f", RICH.title, (*RICH.columns, Column("new", "新字段")))
    sheets = layout({"f": wider}, lambda f: list(wider.columns))
    tmp = write_workbook(tmp_path / "b.xlsx", sheets, {"f": recs}, [], {}, {}, {}, parts)
    assert parts.rebuilt() == 2  # both blocks of the sheet, though no row changed
    book = CalamineWorkbook.from_path(str(tmp))
    assert book.get_sheet_by_name(book.sheet_names[0]).to_python()[0][-1] == "新字段"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_every_cell_as_from_the_xlsxwriter_writer(tmp_path):
    """LibreOffice shows each cell of the parts writer's file as it showed the xlsxwriter writer's: the
    first sheet converted to CSV (each cell as LibreOffice displays it) is the same text for both."""
    recs = _records()
    shown = []
    for writer, name in ((write_workbook_whole, "old"), (write_workbook, "new")):
        (tmp_path / name).mkdir()
        path = _write(writer, tmp_path / name / "book.xlsx", recs, _audit(recs))
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                        "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / name),
                        str(path)], check=True, capture_output=True, timeout=120)
        with open(tmp_path / name / "book.csv", encoding="utf-8", newline="") as f:  # cells may hold line breaks
            shown.append(list(csv.reader(f)))
    assert shown[1] == shown[0]
    assert len(shown[1]) > len(recs) and shown[1][1][0] == "r0"


@given(st.lists(st.binary(max_size=300), max_size=6))
def test_crc32_combine_is_the_crc_of_the_joined_bytes(chunks):
    crc = 0
    for chunk in chunks:
        crc = crc32_combine(crc, zlib.crc32(chunk), len(chunk))
    assert crc == zlib.crc32(b"".join(chunks))


# --- the background writer and audit events ----------------------------------------------------------


class _Watched(LocalStore):
    """The writer's store, telling the test each time its loop (or a write) looked at the log."""

    looked: threading.Condition
    seen: list[int]

    def refresh(self) -> None:
        super().refresh()
        with _Watched.looked:
            _Watched.seen.append(self.log.offset)
            _Watched.looked.notify_all()


def _wait(predicate, what):
    deadline = time.monotonic() + 120  # a liveness bound for a busy machine
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_audit_events_alone_do_not_rewrite_the_file_a_data_change_brings_them(tmp_path):
    _Watched.looked, _Watched.seen = threading.Condition(), []
    app = LocalStore(tmp_path, background=False)
    app.ensure_sheet(SPEC)
    app.append("site_check", {"project": "甲"}, actor=CITY, status="草稿")
    read, write = os.pipe()
    control_in, control_out = os.fdopen(read, "rb"), os.fdopen(write, "wb")
    control_out.write(b"\n")  # no edit check
    control_out.flush()
    writer = threading.Thread(target=materialiser.serve, args=(tmp_path, "campaign.xlsx", 0.05, control_in, _Watched))
    writer.start()
    try:
        _wait(lambda: (matching_stamp(app.workbook_path) or {}).get("offset") == app.log.offset, "first write")
        before = file_id(app.workbook_path)
        for account in ("a", "b", "c"):
            app.log_event(PROVINCE, "登录", note=account)
        target = app.log.offset
        with _Watched.looked:  # three looks past the events: a write decided on the first has finished by the third
            assert _Watched.looked.wait_for(lambda: sum(o >= target for o in _Watched.seen) >= 3, timeout=120)
        assert file_id(app.workbook_path) == before  # same size, mtime and inode: not written
        assert matching_stamp(app.workbook_path)["offset"] < target

        rec = app.append("site_check", {"project": "乙"}, actor=CITY, status="草稿")
        _wait(lambda: matching_stamp(app.workbook_path)["offset"] == app.log.offset, "data change written")
        book = CalamineWorkbook.from_path(str(app.workbook_path))
        assert rec.id in [r[0] for r in book.get_sheet_by_name("现场检查记录").to_python()]
        assert [r[7] for r in book.get_sheet_by_name("_audit").to_python()[1:] if r[2] == "登录"] == ["a", "b", "c"]

        app.log_event(PROVINCE, "退出")  # pending when the writer stops: its last write takes it
    finally:
        control_out.close()
        writer.join(120)
    assert not writer.is_alive()
    app.refresh()
    assert verify(app).ok
    app.close()


def test_flush_writes_pending_events(tmp_path):
    store = LocalStore(tmp_path, background=True, debounce=0.05)
    try:
        store.ensure_sheet(SPEC)
        store.append("site_check", {"project": "甲"}, actor=CITY, status="草稿")
        assert store.flush_workbook(120)
        store.log_event(PROVINCE, "下载", note="导出")
        assert store.flush_workbook(120)  # an explicit ask writes events alone too
        audit = CalamineWorkbook.from_path(str(store.workbook_path)).get_sheet_by_name("_audit").to_python()
        assert audit[-1][2] == "下载" and verify(store).ok
    finally:
        store.close()


def _restart_case(tmp_path):
    """A store with three blocks of rows and its workbook written, then closed: what a restarted writer finds."""
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(SPEC)
        recs = store.append_many("site_check", [{"project": f"项目{i}"} for i in range(3 * BLOCK_ROWS)], actor=CITY,
                                 status="草稿")
        materialiser.materialise(store)
    return recs


def _changed_after_restart(tmp_path, recs):
    """A new store (empty memory, as a restarted writer) changes one row and writes; returns it and its parts."""
    store = LocalStore(tmp_path, background=False)
    store.update("site_check", recs[BLOCK_ROWS + 5].id, base_rev=recs[BLOCK_ROWS + 5].rev, actor=CITY,
                 values={"project": "改过的项目"})
    materialiser.materialise(store)
    return store, materialiser._written(store).parts


def _members(path):
    with zipfile.ZipFile(path) as z:  # every part's XML but the creation time
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


def _full_build(store, path):
    with store.reading() as state:
        sheets = layout(state.specs, state.columns)
        tmp = write_workbook(path, sheets, {s.form_id: list(state.rows.get(s.form_id, {}).values()) for s in sheets},
                             list(state.audit), {f: s.title for f, s in state.specs.items()},
                             {f: state.labels(f) for f in state.specs}, {f: state.displays(f) for f in state.specs})
    os.replace(tmp, path)
    return path


def test_a_restarted_writer_takes_back_the_blocks_on_disk_and_writes_what_a_full_build_writes(tmp_path):
    recs = _restart_case(tmp_path)
    store, parts = _changed_after_restart(tmp_path, recs)
    try:
        assert parts.rebuilt() == 2  # the changed row's block and the audit's last one, not all 3 + 4
        assert zipfile.ZipFile(store.workbook_path).testzip() is None
        assert _members(store.workbook_path) == _members(_full_build(store, tmp_path / "full.xlsx"))
        assert verify(store).ok
    finally:
        store.close()


@pytest.mark.parametrize("damage", ["missing", "not json", "another file", "wrong block length", "another format"])
def test_a_damaged_index_gives_a_full_build_and_a_right_file(tmp_path, damage):
    recs = _restart_case(tmp_path)
    index = tmp_path / ".campaign.xlsx.parts.json"
    described = json.loads(index.read_text("utf-8"))
    if damage == "missing":
        index.unlink()
    elif damage == "not json":
        index.write_text('{"format": [1, 5', "utf-8")
    else:
        if damage == "another file":
            described["file"]["ino"] += 1
        elif damage == "wrong block length":
            described["parts"]["site_check"]["blocks"][1][1] += 1
        else:
            described["format"][0] += 1
        index.write_text(json.dumps(described), "utf-8")
    store, parts = _changed_after_restart(tmp_path, recs)
    try:
        assert parts.rebuilt() == 3 + 4  # every block built, as before the index
        assert _members(store.workbook_path) == _members(_full_build(store, tmp_path / "full.xlsx"))
        assert verify(store).ok
    finally:
        store.close()


def test_a_restarted_writer_builds_again_a_sheet_whose_columns_changed(tmp_path):
    _restart_case(tmp_path)
    store = LocalStore(tmp_path, background=False)
    try:
        store.ensure_sheet(dataclasses.replace(SPEC, columns=(*SPEC.columns, Column("extra", "新字段"))))
        materialiser.materialise(store)
        parts = materialiser._written(store).parts
        assert parts.sheets["site_check"].rebuilt == 3  # every block: each row has one cell more
        assert _members(store.workbook_path) == _members(_full_build(store, tmp_path / "full.xlsx"))
    finally:
        store.close()
