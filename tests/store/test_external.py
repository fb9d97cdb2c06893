"""A person saves the workbook in Excel/WPS/LibreOffice while the app runs: the edit is imported,
audited, backed up, and never silently overwritten; a stale file never reverts the app's changes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import threading
import time
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from lib.store.base import ConflictError
from lib.store.local import external, materialiser
from lib.store.local.store import LocalStore
from lib.store.local.verify import verify
from lib.store.local.workbook import matching_stamp
from tests.store.edit_checks import SiteCheckRules
from tests.store.store_cases import CITY, PROVINCE, SPEC


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch):
    """Files these tests save are complete when written: the store need not wait for them to settle
    (tests/store/test_save_race.py shows the waiting). A background writer child keeps the real times."""
    monkeypatch.setattr(external, "SETTLE", 0.0)
    monkeypatch.setattr(external, "UNREADABLE_PATIENCE", 0.0)


def edit_cells(path, edits, new_row=None):
    """Change cells as Excel would: by 记录编号 and Chinese header; save in place."""
    wb = openpyxl.load_workbook(path)
    ws = wb["现场检查记录"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        for (rid, header), value in edits.items():
            if row[0].value == rid:
                row[headers.index(header)].value = value
    if new_row:
        ws.append(new_row)
    wb.save(path)


def patch_xml(path, old, new):
    """Replace ``old`` by ``new`` in the file's XML, for what openpyxl will not write (a 5,000-digit
    number; a text over 32,767 characters) but Excel, LibreOffice or a script can."""
    with zipfile.ZipFile(path) as zin:
        parts = {i.filename: zin.read(i) for i in zin.infolist()}
    # openpyxl writes CJK text as itself, or as character references when lxml is installed
    forms = {old.encode(), old.encode("ascii", "xmlcharrefreplace")}
    hits = [(name, form) for name, data in parts.items() for form in forms if form in data]
    assert len(hits) == 1, hits
    name, form = hits[0]
    parts[name] = parts[name].replace(form, new.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            zout.writestr(name, data)


def seeded(store):
    recs = [store.append("site_check", {"project": f"项目{i}", "amount": 10.0 * i, "count": i,
                                        "visit_date": dt.date(2020, 9, i + 1), "issues": ["质量"]},
                         actor=CITY, status="已提交") for i in range(3)]
    store.flush_workbook()
    return recs


def test_edited_cells_become_audited_updates_by_external_editor(store):
    a, b, c = seeded(store)
    edit_cells(store.workbook_path, {(a.id, "备注"): "Excel 里补充的说明", (a.id, "合同金额"): 15.5,
                                     (b.id, "检查日期"): dt.datetime(2020, 10, 1), (b.id, "问题类型"): "质量；进度",
                                     (c.id, "状态"): "已撤回"},
               new_row=[None, None, None, None, None, None, None, None, None, None, "Excel 新增的行"])
    assert matching_stamp(store.workbook_path) is None  # noticed: not the file we wrote

    assert store.flush_workbook()

    a2, b2, c2 = (store.get("site_check", r.id) for r in (a, b, c))
    assert (a2.rev, a2.updated_by) == (2, "外部编辑")
    assert a2.values == {**a.values, "remark": "Excel 里补充的说明", "amount": 15.5}
    assert b2.values["visit_date"] == dt.date(2020, 10, 1) and b2.values["issues"] == ["质量", "进度"]
    assert type(b2.values["count"]) is int
    # A status typed in the file is never imported (it moves only through review), and the audit says so.
    assert (c2.rev, c2.status, c2.values) == (1, "已提交", c.values)
    entry = store.audit(row_id=a.id)[-1]
    assert (entry.action, entry.account) == ("外部编辑", "外部编辑")
    assert entry.changes == {"remark": (None, "Excel 里补充的说明"), "amount": (0.0, 15.5)}
    event = store.audit()[-1]
    assert event.action == "外部编辑" and "已导入 2 行的修改" in event.note and "1 行的记录编号为空" in event.note
    assert f"系统列不从工作簿导入（状态只能通过审核功能改变），已忽略：记录 {c.id}「状态」" in event.note
    backups = list(store.data_dir.glob("campaign.external-*.xlsx"))
    assert len(backups) == 1 and backups[0].name in event.note
    # The person's file is kept; the workbook is ours again and agrees with the log.
    assert "Excel 新增的行" in str(CalamineWorkbook.from_path(str(backups[0])).get_sheet_by_name("现场检查记录").to_python())
    assert verify(store).ok


def test_app_changes_made_meanwhile_win_per_field(store):
    a, _, _ = seeded(store)
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, values={"remark": "系统里改的"})
    edit_cells(store.workbook_path, {(a.id, "备注"): "Excel 里改的", (a.id, "检查人数"): 7})
    store.flush_workbook()
    now = store.get("site_check", a.id)
    assert now.values["remark"] == "系统里改的"
    assert now.values["count"] == 7
    assert now.rev == 3


def test_untouched_workbook_is_not_imported(store):
    seeded(store)
    before = len(store.audit())
    store.flush_workbook()
    assert len(store.audit()) == before
    assert not list(store.data_dir.glob("campaign.external-*.xlsx"))


def test_unreadable_workbook_is_kept_aside_not_crashed_on(store):
    a, _, _ = seeded(store)
    store.workbook_path.write_bytes(b"PK\x03\x04 this is not a workbook any more")
    assert store.flush_workbook()
    assert "无法读取" in store.audit()[-1].note
    assert store.get("site_check", a.id).rev == 1
    assert verify(store).ok


def test_background_writer_notices_an_edit_with_no_app_writes(tmp_path):
    store = LocalStore(tmp_path, background=True, debounce=0.1)
    try:
        store.ensure_sheet(SPEC)
        rec = store.append("site_check", {"remark": "原文"}, actor=CITY, status="已提交")
        assert store.flush_workbook(15)
        # With a cell the store cannot take beside it: reported, the rest imported, the writer goes on.
        edit_cells(store.workbook_path, {(rec.id, "备注"): "外部修改", (rec.id, "检查人数"): "9" * 5000})
        deadline = time.monotonic() + 15
        while store.get("site_check", rec.id).values["remark"] != "外部修改":
            assert time.monotonic() < deadline, "external edit not imported"
            time.sleep(0.1)
        assert store.flush_workbook(15)
        assert f"记录 {rec.id}「检查人数」（不是可以保存的整数" in store.audit()[-1].note
        later = store.append("site_check", {"remark": "之后的一行"}, actor=CITY, status="已提交")
        assert store.flush_workbook(15) and verify(store).ok
        assert later.id in str(CalamineWorkbook.from_path(str(store.workbook_path)).get_sheet_by_name("现场检查记录").to_python())
    finally:
        store.close()


def test_a_file_opened_before_the_apps_last_rewrite_does_not_revert_it(store):
    """The person's copy shows revision 1; meanwhile the app approved three rows and a provider
    changed a figure. Saving that copy imports only the cells the person changed."""
    a, b, c = seeded(store)
    opened = store.workbook_path.read_bytes()  # what the person's Excel loaded
    for r in (a, b, c):
        store.update("site_check", r.id, base_rev=1, actor=PROVINCE, status="已通过")
    store.update("site_check", b.id, base_rev=2, actor=CITY, values={"amount": 99.0, "remark": "系统里的说明"})
    assert store.flush_workbook()  # the app rewrote the workbook after the person opened it

    store.workbook_path.write_bytes(opened)  # the person saves their copy with their own edits
    edit_cells(store.workbook_path, {(a.id, "备注"): "Excel 里的说明", (b.id, "备注"): "Excel 里的另一说明",
                                     (c.id, "状态"): "已撤回"})
    assert store.flush_workbook()

    a2, b2, c2 = (store.get("site_check", r.id) for r in (a, b, c))
    assert [r.status for r in (a2, b2, c2)] == ["已通过"] * 3
    assert a2.values == {**a.values, "remark": "Excel 里的说明"} and a2.rev == 3
    assert b2.values == {**b.values, "amount": 99.0, "remark": "系统里的说明"} and b2.rev == 3
    assert c2.rev == 2
    assert store.audit(row_id=a.id)[-1].note == "从工作簿导入的外部修改（文件中的版本 1）"
    note = store.audit()[-1].note
    assert "已导入 1 行的修改" in note
    assert f"这些字段在该文件写出后已在系统中修改，以系统为准，已忽略：记录 {b.id}「备注」" in note
    assert f"记录 {c.id}「状态」" in note and "合同金额" not in note
    assert verify(store).ok


def test_cells_the_store_cannot_take_are_reported_and_the_rest_imported(store):
    a, b, _ = seeded(store)
    edit_cells(store.workbook_path, {(a.id, "检查人数"): 123456.5, (a.id, "合同金额"): "9" * 5000,
                                     (a.id, "备注"): "占位文本", (a.id, "项目名称"): "改过的名称",
                                     (b.id, "检查日期"): "下周一", (b.id, "检查人员"): "[" * 30_000})
    patch_xml(store.workbook_path, "<v>123456.5</v>", f"<v>{'9' * 5000}</v>")
    patch_xml(store.workbook_path, ">占位文本<", f">{'长' * 40_000}<")
    assert store.flush_workbook()
    a2, b2 = store.get("site_check", a.id), store.get("site_check", b.id)
    assert a2.values == {**a.values, "project": "改过的名称"}
    assert b2 == b
    note = store.audit()[-1].note
    for rid, header in ((a.id, "检查人数"), (a.id, "合同金额"), (a.id, "备注"), (b.id, "检查日期"), (b.id, "检查人员")):
        assert f"记录 {rid}「{header}」（" in note, header
    assert "不是可以保存的整数" in note and "超过表格单元格上限" in note and "不是日期" in note
    assert len(note) < 5_000  # names the cells, does not echo their content
    assert verify(store).ok


def test_a_table_reads_as_its_rows_and_an_edit_of_it_is_reported_not_imported(store):
    """A table cell shows the "列：值" rows every other place shows (Sheets view, audit); rows in text
    cannot say a value's type, so an edit of it is named in the audit and the stored table kept."""
    people = [{"name": "张三", "phone": "138"}, {"name": "李四", "phone": None}]
    a = store.append("site_check", {"project": "甲", "people": people}, actor=CITY, status="已提交")
    b = store.append("site_check", {"project": "乙"}, actor=CITY, status="已提交")
    assert store.flush_workbook()
    wb = openpyxl.load_workbook(store.workbook_path)
    cells = {r[0].value: r for r in wb["现场检查记录"].iter_rows(min_row=2)}
    headers = [c.value for c in wb["现场检查记录"][1]]
    assert cells[a.id][headers.index("检查人员")].value == "name：张三；phone：138\nname：李四"
    edit_cells(store.workbook_path, {(a.id, "检查人员"): "name：王五；phone：139", (a.id, "备注"): "补充",
                                     (b.id, "检查人员"): "name：赵六"})
    assert store.flush_workbook()
    assert store.get("site_check", a.id).values == {**a.values, "remark": "补充"}
    assert store.get("site_check", b.id) == b
    note = store.audit()[-1].note
    assert "已导入 1 行的修改" in note and "这些单元格的修改未导入：" in note
    for rid in (a.id, b.id):
        assert f"记录 {rid}「检查人员」（表格字段请在系统中修改）" in note
    assert verify(store).ok


def test_a_table_cell_of_an_older_workbook_written_as_json_is_no_edit(store):
    """Workbooks written before tables read as rows hold the table as JSON: equal to the stored table,
    it is not an edit (the file leaves no trace); a JSON cell that differs is refused like any table edit."""
    people = [{"name": "张三", "phone": "007", "n": 2}]
    a = store.append("site_check", {"project": "甲", "people": people}, actor=CITY, status="已提交")
    b = store.append("site_check", {"project": "乙", "people": people}, actor=CITY, status="已提交")
    assert store.flush_workbook()
    edit_cells(store.workbook_path, {(a.id, "检查人员"): '[{"name": "张三", "phone": "007", "n": 2}]'})
    assert matching_stamp(store.workbook_path) is None
    before = len(store.audit())
    store.flush_workbook()
    assert len(store.audit()) == before and not list(store.data_dir.glob("campaign.external-*.xlsx"))
    edit_cells(store.workbook_path, {(b.id, "检查人员"): '[{"name": "张三", "phone": "007", "n": 3}]'})
    assert store.flush_workbook()
    assert store.get("site_check", b.id) == b
    assert f"记录 {b.id}「检查人员」（表格字段请在系统中修改）" in store.audit()[-1].note
    assert verify(store).ok


def test_a_row_whose_revision_cell_was_changed_is_not_imported(store):
    a, b, _ = seeded(store)
    edit_cells(store.workbook_path, {(a.id, "版本"): 7, (a.id, "备注"): "甲", (b.id, "备注"): "乙"})
    assert store.flush_workbook()
    assert store.get("site_check", a.id).rev == 1
    assert store.get("site_check", b.id).values["remark"] == "乙"
    assert f"“版本”不是系统写出的版本号，未导入：{a.id}" in store.audit()[-1].note


def test_a_workbook_too_large_to_parse_is_set_aside_unread(store):
    a, _, _ = seeded(store)
    wb = openpyxl.load_workbook(store.workbook_path)
    wb["现场检查记录"].cell(1_048_576, 16_384, "误填")  # a stray cell at XFD1048576: 512 GiB to calamine
    wb.save(store.workbook_path)
    assert store.workbook_path.stat().st_size < 20_000
    assert store.flush_workbook()
    assert "未通过读取前的检查" in store.audit()[-1].note and "XFD1048576" in store.audit()[-1].note and store.get("site_check", a.id).rev == 1
    assert len(list(store.data_dir.glob("campaign.external-*.xlsx"))) == 1
    assert verify(store).ok


def test_backups_of_edited_files_are_bounded(store, monkeypatch):
    monkeypatch.setattr(external, "MAX_BACKUPS", 2)
    a, _, _ = seeded(store)
    for i in range(4):
        edit_cells(store.workbook_path, {(a.id, "备注"): f"第{i}次"})
        assert store.flush_workbook()
    assert store.get("site_check", a.id).values["remark"] == "第3次"
    backups = sorted(store.data_dir.glob("campaign.external-*.xlsx"))
    assert len(backups) == 2 and backups[-1].name in store.audit()[-1].note


def test_an_import_that_keeps_failing_is_retried_a_bounded_number_of_times_then_set_aside(store, monkeypatch):
    """Whatever breaks while importing, the writer backs off, then writes the workbook without the file."""
    a, _, _ = seeded(store)
    edit_cells(store.workbook_path, {(a.id, "备注"): "外部修改"})

    def broken(*args, **kw):
        raise RuntimeError("a defect in the importer")

    monkeypatch.setattr(external, "diff_workbook", broken)
    waits = []

    class Stop(threading.Event):
        def wait(self, timeout=None):
            waits.append(timeout)
            return False

    written, failures = -1, 0
    for _ in range(materialiser._IMPORT_ATTEMPTS):
        written, failures = materialiser._write_surviving_errors(store, written, failures, Stop())
        assert written == -1 and matching_stamp(store.workbook_path) is None
        assert not list(store.data_dir.glob("campaign.external-*.xlsx"))  # no copy per attempt
    assert waits == sorted(waits) and len(set(waits)) == len(waits)  # each wait longer than the last
    written, failures = materialiser._write_surviving_errors(store, written, failures, Stop())
    assert (written, failures) == (store.log.offset, 0)
    assert matching_stamp(store.workbook_path)["offset"] == store.log.offset
    assert "因多次尝试导入都失败未导入其内容" in store.audit()[-1].note
    assert len(list(store.data_dir.glob("campaign.external-*.xlsx"))) == 1
    assert max(materialiser._RETRY_DELAYS) <= 60


def test_a_file_still_being_written_is_no_failed_import(store, monkeypatch):
    """The writer loop leaves a file that changed moments ago as it is, without counting a failure or
    backing off; once it has settled it is imported."""
    a, _, _ = seeded(store)
    monkeypatch.setattr(external, "SETTLE", 3600.0)
    edit_cells(store.workbook_path, {(a.id, "备注"): "外部修改"})
    edited = store.workbook_path.read_bytes()

    class Stop(threading.Event):
        def wait(self, timeout=None):
            raise AssertionError("backed off")

    for _ in range(materialiser._IMPORT_ATTEMPTS + 1):
        assert materialiser._write_surviving_errors(store, -1, 0, Stop()) == (-1, 0)
    assert store.workbook_path.read_bytes() == edited and not list(store.data_dir.glob("campaign.external-*.xlsx"))
    assert store.get("site_check", a.id).rev == 1
    monkeypatch.setattr(external, "SETTLE", 0.0)
    assert materialiser._write_surviving_errors(store, -1, 0, Stop()) == (store.log.offset, 0)
    assert store.get("site_check", a.id).values["remark"] == "外部修改"


def test_an_unreadable_file_is_waited_for_then_set_aside_whole(store, monkeypatch):
    """flush_workbook without a background writer waits (bounded) for an unreadable file to stay
    unchanged before it writes over it; the backup is the whole file."""
    seeded(store)
    monkeypatch.setattr(external, "UNREADABLE_PATIENCE", 0.3)
    junk = b"PK\x03\x04" + b"x" * 10_000
    store.workbook_path.write_bytes(junk)
    assert store.flush_workbook()
    (backup,) = store.data_dir.glob("campaign.external-*.xlsx")
    assert backup.read_bytes() == junk and "无法读取" in store.audit()[-1].note
    assert verify(store).ok


def libreoffice_save(path, tmp_path):
    """Open ``path`` in LibreOffice and save it as .xlsx (headless); return the saved file."""
    out = tmp_path / "libreoffice"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=120)
    return out / path.name


needs_libreoffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


@pytest.mark.slow
@needs_libreoffice
def test_a_libreoffice_resave_without_changes_leaves_no_trace(store, tmp_path):
    recs = [store.append("site_check", values, actor=CITY, status="已提交") for values in (
        {"project": "007", "amount": 12.5, "count": 3, "visit_date": dt.date(2020, 9, 1), "passed": True,
         "issues": ["质量", "安全"], "people": [{"name": "张三", "phone": "138"}], "remark": "第一行\r\n第二行"},
        {"project": "=1+1", "amount": 0.1 + 0.2, "count": 10**16, "passed": False, "remark": "甲\r乙  "},
        {"project": " 前导空格", "amount": 123456789.123456, "count": -3, "remark": "制表\t符\u00a0与 😀"},
    )]
    store.update("site_check", recs[0].id, base_rev=1, actor=PROVINCE, status="已通过")
    assert store.flush_workbook()
    before = len(store.audit())
    resaved = libreoffice_save(store.workbook_path, tmp_path)
    assert resaved.read_bytes() != store.workbook_path.read_bytes()
    os.replace(resaved, store.workbook_path)  # the person's save
    assert matching_stamp(store.workbook_path) is None

    assert store.flush_workbook()
    assert len(store.audit()) == before
    assert [store.get("site_check", r.id).rev for r in recs] == [2, 1, 1]
    assert not list(store.data_dir.glob("campaign.external-*.xlsx"))
    assert matching_stamp(store.workbook_path) is not None and verify(store).ok


@pytest.mark.slow
@needs_libreoffice
def test_a_stale_file_edited_and_saved_by_libreoffice_imports_only_the_edit(store, tmp_path):
    a, b, c = seeded(store)
    opened = tmp_path / "opened.xlsx"
    shutil.copy(store.workbook_path, opened)  # the person opens the file ...
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, status="已通过")
    store.update("site_check", b.id, base_rev=1, actor=CITY, values={"amount": 99.0})
    assert store.flush_workbook()  # ... the app rewrites it meanwhile ...
    edit_cells(opened, {(c.id, "备注"): "第一行\n第二行", (b.id, "检查人数"): 5})
    os.replace(libreoffice_save(opened, tmp_path), store.workbook_path)  # ... and LibreOffice saves theirs
    assert store.flush_workbook()
    a2, b2, c2 = (store.get("site_check", r.id) for r in (a, b, c))
    assert (a2.rev, a2.status, a2.values) == (2, "已通过", a.values)
    assert b2.values == {**b.values, "amount": 99.0, "count": 5} and type(b2.values["count"]) is int
    assert c2.values == {**c.values, "remark": "第一行\n第二行"}
    note = store.audit()[-1].note
    assert note.startswith("检测到工作簿被外部修改，已导入 2 行的修改；修改后的文件已备份为")
    assert verify(store).ok


def test_the_audit_note_stays_short_however_many_cells_were_ignored(store):
    recs = store.append_many("site_check", [{"count": i} for i in range(30)], actor=CITY, status="已提交")
    store.flush_workbook()
    edit_cells(store.workbook_path, {(r.id, "状态"): "已通过" for r in recs},
               new_row=[recs[0].id, 1, "已通过"])  # a copied row: read once
    assert store.flush_workbook()
    note = store.audit()[-1].note
    assert "等共 30 处" in note and note.count("「状态」") == 20
    assert f"这些记录出现多次，只读取了第一行：{recs[0].id}" in note
    assert all(store.get("site_check", r.id).status == "已提交" for r in recs)


def test_a_file_too_big_to_copy_is_moved_aside_unread(store, monkeypatch):
    a, _, _ = seeded(store)
    edit_cells(store.workbook_path, {(a.id, "备注"): "外部修改"})
    edited = store.workbook_path.read_bytes()
    monkeypatch.setattr(external, "MAX_READ_BYTES", len(edited) - 1)
    assert store.flush_workbook()
    (backup,) = store.data_dir.glob("campaign.external-*.xlsx")
    assert backup.read_bytes() == edited and backup.name in store.audit()[-1].note
    assert "未读取也未导入" in store.audit()[-1].note and store.get("site_check", a.id).rev == 1
    assert verify(store).ok


def test_a_row_the_app_keeps_changing_is_named_not_silently_dropped(store, monkeypatch):
    a, _, _ = seeded(store)
    edit_cells(store.workbook_path, {(a.id, "备注"): "外部修改"})

    def always_stale(*args, **kw):
        raise ConflictError("该记录已被修改", current=store.get("site_check", a.id))

    monkeypatch.setattr(store, "update_as", always_stale)
    assert store.flush_workbook()
    assert f"正被系统连续修改，未导入，请稍后重新编辑：{a.id}" in store.audit()[-1].note


# --- the app's rules (an EditCheck): the store imports what they accept, cell by cell ---------------


def test_an_edit_check_refuses_cells_locks_rows_and_the_rest_is_imported(store_factory):
    store = store_factory(edit_check=SiteCheckRules())
    store.ensure_sheet(SPEC)
    a, b, c = seeded(store)
    store.update("site_check", b.id, base_rev=1, actor=PROVINCE, status="已通过")
    store.flush_workbook()
    edit_cells(store.workbook_path, {(a.id, "备注"): "  补充说明 ", (a.id, "检查人数"): 9, (a.id, "合同金额"): 1.5,
                                     (b.id, "备注"): "改已通过的行", (c.id, "检查人数"): 4})
    assert store.flush_workbook()

    a2, b2, c2 = (store.get("site_check", r.id) for r in (a, b, c))
    # a: the accepted cells as the rules store them (with what they change); the refused cell stays.
    assert a2.values == {**a.values, "remark": "补充说明", "amount": 1.5, "project": "项目0（有备注）"}
    assert (a2.rev, a2.updated_by) == (2, "外部编辑")
    assert (b2.rev, b2.status, b2.values) == (2, "已通过", b.values)  # locked: not one cell changed
    assert c2 == c  # its only edit was refused: no update at all
    note = store.audit()[-1].note
    assert "已导入 1 行的修改" in note
    assert (f"这些单元格不符合表单的填报规则，未导入：记录 {a.id}「检查人数」（检查人数由系统填写）、"
            f"记录 {c.id}「检查人数」（检查人数由系统填写）") in note
    assert f"这些记录不能在工作簿中修改，其修改均未导入，记录保持原样：记录 {b.id}（状态为「已通过」）" in note
    assert verify(store).ok


def test_a_row_locked_after_the_person_opened_the_file_is_judged_as_it_is_now(store_factory):
    """The file shows the row as submitted; it was approved since: the edit is not imported."""
    store = store_factory(edit_check=SiteCheckRules())
    store.ensure_sheet(SPEC)
    a, _, _ = seeded(store)
    opened = store.workbook_path.read_bytes()
    store.update("site_check", a.id, base_rev=1, actor=PROVINCE, status="已通过")
    assert store.flush_workbook()
    store.workbook_path.write_bytes(opened)
    edit_cells(store.workbook_path, {(a.id, "备注"): "旧文件里的修改"})
    assert store.flush_workbook()
    assert store.get("site_check", a.id).rev == 2
    assert f"记录保持原样：记录 {a.id}（状态为「已通过」）" in store.audit()[-1].note


def test_the_background_writer_applies_the_edit_check_it_was_given(tmp_path):
    store = LocalStore(tmp_path, background=True, debounce=0.1, edit_check=SiteCheckRules())
    try:
        store.ensure_sheet(SPEC)
        rec = store.append("site_check", {"remark": "原文", "count": 1}, actor=CITY, status="已提交")
        done = store.append("site_check", {"remark": "已审"}, actor=CITY, status="已通过")
        assert store.flush_workbook(15)
        edit_cells(store.workbook_path, {(rec.id, "备注"): "外部修改", (rec.id, "检查人数"): 5,
                                         (done.id, "备注"): "改已通过的行"})
        store.log_event(PROVINCE, "测试")  # any write makes the writer look at the file
        assert store.flush_workbook(15)
        assert store.get("site_check", rec.id).values == {"remark": "外部修改", "count": 1, "project": "None（有备注）"}
        assert store.get("site_check", done.id) == done
        note = next(e for e in reversed(store.audit()) if e.action == "外部编辑" and not e.row_id).note
        assert f"记录 {rec.id}「检查人数」（检查人数由系统填写）" in note and f"记录 {done.id}（状态为「已通过」）" in note
    finally:
        store.close()


def test_an_edit_check_the_background_writer_cannot_receive_is_refused_at_open(tmp_path):
    with pytest.raises(TypeError, match="edit_check must pickle"):
        LocalStore(tmp_path, background=True, edit_check=lambda current, edited: None)
    with LocalStore(tmp_path, background=False) as store:  # nothing was left open or half-written
        assert store.log.offset > 0


def test_an_edit_to_a_row_written_in_a_batch_is_compared_with_its_batched_version(store):
    recs = store.append_many("site_check", [{"count": i, "remark": "原值"} for i in range(3)], actor=CITY, status="已提交")
    store.flush_workbook()
    edit_cells(store.workbook_path, {(recs[1].id, "备注"): "外部修改"})
    assert store.flush_workbook()
    assert store.get("site_check", recs[1].id).values["remark"] == "外部修改"
    assert [r.rev for r in store.records("site_check")] == [1, 2, 1]
    assert store.audit(row_id=recs[1].id)[-1].changes == {"remark": ("原值", "外部修改")}
