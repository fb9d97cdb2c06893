"""A field rename on Google Sheets: every app server replays it alike (a rename another server's answer got
in front of is refused on all of them), a server still on the old version writes under the new key, and
the readable sheet shows the renamed column in its place."""

from __future__ import annotations

import pytest

from lib.core.records import is_pending
from lib.store.base import Column, InvalidValue, SheetSpec
from lib.store.entries import rename_entry
from lib.store.local.store import LocalStore
from lib.store.migrate import migrate, read_local_log
from tests.store.store_cases import CITY, PROVINCE, SPEC

pytestmark = pytest.mark.timeout(60)

RENAMED = SheetSpec(SPEC.form_id, SPEC.title, tuple(
    Column("inspectors", "检查组人数", "integer") if c.key == "count" else c for c in SPEC.columns))


class Frozen:
    """A cache clock that never moves: the store serves what it read until told to read again."""

    def __call__(self) -> float:
        return 0.0


def view(server, key) -> list[dict]:
    header, *rows = server.values(key, SPEC.title)
    return [dict(zip(header, row + [""] * (len(header) - len(row)), strict=True)) for row in rows]


def test_the_view_shows_the_renamed_column_in_its_place_with_the_new_label(open_store, server, sheet_key):
    store = open_store()
    store.ensure_sheet(SPEC)
    a = store.append("site_check", {"project": "甲", "count": 3, "remark": "好"}, actor=CITY, status="草稿")
    assert store.wait_idle(10)
    before = server.values(sheet_key, SPEC.title)[0]
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    store.ensure_sheet(RENAMED)
    assert store.wait_idle(10)
    header = server.values(sheet_key, SPEC.title)[0]
    assert header == [("检查组人数" if h == "检查人数" else h) for h in before]
    row, = view(server, sheet_key)
    assert (row["记录编号"], row["检查组人数"], row["备注"]) == (a.id, 3, "好")
    audit = server.values(sheet_key, "_audit")
    assert audit[-1][2] == "字段改名" and "inspectors" in audit[-1][7]


def test_joining_an_empty_column_rewrites_the_rows_and_blanks_the_cells_left_over(open_store, server, sheet_key):
    store = open_store()
    # The new version's sheet declared first: its inspectors column sits between count and remark.
    store.ensure_sheet(SheetSpec(SPEC.form_id, SPEC.title, (*SPEC.columns[:3], Column("inspectors", "检查组人数", "integer"),
                                                            *SPEC.columns[3:])))
    store.append("site_check", {"project": "甲", "count": 3, "remark": "末列"}, actor=CITY, status="草稿")
    assert store.wait_idle(10)
    width = len(server.values(sheet_key, SPEC.title)[0])
    store.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    assert store.wait_idle(10)
    header, row = server.values(sheet_key, SPEC.title)
    # The declared column, with its label, takes the old one's place.
    assert header.index("检查组人数") == 12 and "检查人数" not in header
    cells = dict(zip(header, row, strict=False))
    assert (cells["检查组人数"], cells["备注"]) == (3, "末列")
    # One column fewer: the last header cell and row cell, left over from before, were blanked (a values
    # read, like Google's, leaves trailing blank cells out); the moved remark is not shown twice.
    assert len(header) == width - 1 and len(row) <= width - 1
    assert row.count("末列") == 1


def test_a_server_on_the_old_version_writes_under_the_new_key(open_store):
    publisher = open_store("a")
    publisher.ensure_sheet(SPEC)
    rec = publisher.append("site_check", {"project": "甲", "count": 3}, actor=CITY, status="草稿")
    stale = open_store("b", cache_clock=Frozen())  # read the log once, not again until forced
    publisher.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    late = stale.append("site_check", {"project": "乙", "count": 5}, actor=CITY, status="草稿")
    changed = stale.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 4})
    assert (late.values, changed.values) == ({"project": "乙", "inspectors": 5}, {"project": "甲", "inspectors": 4})
    publisher.refresh()
    fresh = open_store("c")
    for store in (publisher, stale, fresh):
        assert [r.values for r in store.records("site_check")] == [{"project": "甲", "inspectors": 4},
                                                                   {"project": "乙", "inspectors": 5}]
        assert store.renamed_keys("site_check") == {"count": "inspectors"}


def test_two_publishes_racing_onto_one_key_mix_nothing(open_store):
    first = open_store("a")
    first.ensure_sheet(SPEC)
    first.append("site_check", {"count": 3, "remark": "备注甲"}, actor=CITY, status="草稿")
    second = open_store("b")
    with second.sync.reading() as log:  # the second server checked its rename before the first one's landed
        late = rename_entry(log.state, "site_check", "remark", "inspectors", actor=PROVINCE, at="2020-09-10T10:00:00")
    first.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    job, = second.sync.submit([late], wait=True, durable=False)
    assert isinstance(job.error, InvalidValue) and job.error.code == "rename_target_has_values"
    with pytest.raises(InvalidValue) as err:  # asked again, it is refused before anything is sent
        second.rename_field("site_check", "remark", "inspectors", actor=PROVINCE)
    assert err.value.code == "rename_target_has_values"
    for store in (first, second, open_store("c")):  # every server replays the log to the same rows
        store.refresh()
        assert [r.values for r in store.records("site_check")] == [{"inspectors": 3, "remark": "备注甲"}]
        assert store.renamed_keys("site_check") == {"count": "inspectors"}
        assert [a.action for a in store.audit("site_check")].count("字段改名") == 1


def test_a_local_history_with_a_rename_migrates_to_the_same_rows(open_store, tmp_path):
    local = LocalStore(tmp_path / "data", background=False)
    try:
        local.ensure_sheet(SPEC)
        local.append("site_check", {"project": "甲", "count": 3}, actor=CITY, status="草稿")
        local.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
        local.append("site_check", {"project": "乙", "count": 5}, actor=CITY, status="草稿")  # a server on the old version
        sheets = open_store()
        migrate(read_local_log(local.log_path), sheets, progress=lambda _: None)
        assert sheets.records("site_check") == local.records("site_check")
        assert sheets.audit() == local.audit() and sheets.sheet_spec("site_check") == local.sheet_spec("site_check")
    finally:
        local.close()


def test_a_row_waiting_in_the_outbox_reads_under_the_new_key(open_store, server):
    publisher = open_store("a")
    publisher.ensure_sheet(SPEC)
    stale = open_store("b", cache_clock=Frozen())
    publisher.rename_field("site_check", "count", "inspectors", actor=PROVINCE)
    server.fail_next(10_000, kind="write")  # the spreadsheet refuses writes: the row waits on this machine
    rec = stale.append("site_check", {"project": "乙", "count": 5}, actor=CITY, status="草稿")
    assert is_pending(rec)
    stale.refresh()  # reads still work: the rename is known here now
    waiting, = stale.records("site_check")
    assert is_pending(waiting) and waiting.values == {"project": "乙", "inspectors": 5}
    assert "count" not in stale.snapshot("site_check").columns
    server.clear_faults()  # delivered at the next probe, under the new key
    assert stale.wait_idle(20) and stale.pending() == [] and stale.problems() == []
    publisher.refresh()
    assert [r.values for r in publisher.records("site_check")] == [{"project": "乙", "inspectors": 5}]


def test_a_form_sheet_another_server_added_after_this_one_opened_is_written_to(open_store, server, sheet_key):
    # A form published after a server opened gets its view sheet from whichever server writes first.
    late = open_store("b")
    first = open_store("a")
    first.ensure_sheet(SPEC)
    first.append("site_check", {"project": "甲"}, actor=CITY, status="草稿")
    assert first.wait_idle(10)
    late.refresh()
    late.append("site_check", {"project": "乙"}, actor=CITY, status="草稿")
    assert late.wait_idle(10) and late.problems() == []
    assert [row["项目名称"] for row in view(server, sheet_key)] == ["甲", "乙"]
