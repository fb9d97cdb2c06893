"""A person saves the workbook in Excel/WPS while the app runs: the edit is imported, audited,
backed up, and never silently overwritten."""

from __future__ import annotations

import datetime as dt
import time

import openpyxl
from python_calamine import CalamineWorkbook

from lib.store import LocalStore
from lib.store.verify import verify
from lib.store.workbook import matching_stamp
from tests.store.store_cases import CITY, PROVINCE, SPEC


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
    assert c2.status == "已撤回" and c2.values == c.values
    entry = store.audit(row_id=a.id)[-1]
    assert (entry.action, entry.account) == ("外部编辑", "外部编辑")
    assert entry.changes == {"remark": (None, "Excel 里补充的说明"), "amount": (0.0, 15.5)}
    event = store.audit()[-1]
    assert event.action == "外部编辑" and "已导入 3 行的修改" in event.note and "1 行的记录编号为空" in event.note
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
        edit_cells(store.workbook_path, {(rec.id, "备注"): "外部修改"})
        deadline = time.monotonic() + 15
        while store.get("site_check", rec.id).values["remark"] != "外部修改":
            assert time.monotonic() < deadline, "external edit not imported"
            time.sleep(0.1)
        assert store.flush_workbook(15)
        assert verify(store).ok
    finally:
        store.close()
