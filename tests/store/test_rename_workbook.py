"""The local workbook after a field rename, as Excel/WPS open it: the column keeps its place and takes the
new label, every value is in it, and a person's edit saved in a file written before the rename lands
under the new key, and a cell they did not touch leaves the app's later value alone."""

from __future__ import annotations

import openpyxl

from lib.store.base import Column, SheetSpec
from lib.store.local.verify import verify
from tests.store.store_cases import CITY, PROVINCE, SPEC
from tests.store.test_external import edit_cells

RENAMED = SheetSpec(SPEC.form_id, SPEC.title, tuple(
    Column("inspectors", "检查组人数", "integer") if c.key == "count" else c for c in SPEC.columns))


def sheet(path) -> list[list]:
    return [list(r) for r in openpyxl.load_workbook(path, read_only=True)[SPEC.title].iter_rows(values_only=True)]


def test_the_column_keeps_its_place_takes_the_new_label_and_holds_every_value(store):
    recs = [store.append("site_check", {"project": f"项目{i}", "count": i}, actor=CITY, status="草稿") for i in range(2)]
    recs.append(store.update("site_check", store.append("site_check", {"project": "项目2", "count": 9}, actor=CITY,
                                                        status="草稿").id, base_rev=1, actor=CITY, values={"count": 2}))
    store.flush_workbook()
    before = sheet(store.workbook_path)[0]
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    store.ensure_sheet(RENAMED)
    assert store.flush_workbook()
    header, *rows = sheet(store.workbook_path)
    assert header == [("检查组人数" if h == "检查人数" else h) for h in before]
    place = header.index("检查组人数")
    assert [(r[0], r[place]) for r in rows] == [(rec.id, i) for i, rec in enumerate(recs)]
    audit = [list(r) for r in openpyxl.load_workbook(store.workbook_path, read_only=True)["_audit"].iter_rows(values_only=True)]
    assert audit[-1][2:4] == ["字段改名", SPEC.title] and "3 条记录" in audit[-1][7]
    # A change made before the rename names the field as it is called now.
    assert audit[-2][2] == "修改" and audit[-2][6] == "检查组人数：9 → 2"
    assert verify(store).ok


def test_an_edit_saved_in_a_file_from_before_the_rename_lands_under_the_new_key(store):
    a, b = (store.append("site_check", {"project": p, "count": 1}, actor=CITY, status="草稿") for p in ("甲", "乙"))
    store.flush_workbook()
    edit_cells(store.workbook_path, {(a.id, "检查人数"): 7})  # the person's Excel still shows the old column
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    store.update("site_check", b.id, base_rev=1, actor=CITY, values={"inspectors": 5})  # the app's change since the file
    assert store.flush_workbook()
    now = store.get("site_check", a.id)
    assert (now.rev, now.updated_by, now.values) == (2, "外部编辑", {"project": "甲", "inspectors": 7})
    # A cell the person did not touch is no edit: the app's later value stands.
    assert store.get("site_check", b.id).values == {"project": "乙", "inspectors": 5}
    assert "count" not in store.snapshot("site_check").columns
