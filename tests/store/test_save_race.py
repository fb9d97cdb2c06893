"""A person saves the workbook in place (openpyxl, WPS, some Excel setups truncate the file and rewrite
it) while the background writer runs: the writer must not copy the half-written file, fail to read it
and write the workbook over it — the edit would survive nowhere (attack Q6). It waits until the file
has settled; a file it cannot read is read again while it changes, and set aside whole only once it
has stayed unreadable and unchanged."""

from __future__ import annotations

import io
import os
import threading
import time
from contextlib import contextmanager

import openpyxl
import pytest

from lib.store.local import external, materialiser
from lib.store.local.store import LocalStore
from lib.store.local.workbook import matching_stamp
from tests.store.store_cases import CITY, SPEC


@contextmanager
def background_writer(store, monkeypatch, *, settle, patience):
    """The writer's loop (``materialiser.serve``, as the child runs it) in a thread of this process,
    polling every 20 ms, so that the test can set how long it waits; yields once it has written a
    row ``store`` appended (so it is looking at the file)."""
    monkeypatch.setattr(materialiser, "_POLL", 0.02)
    monkeypatch.setattr(external, "SETTLE", settle, raising=False)
    monkeypatch.setattr(external, "UNREADABLE_PATIENCE", patience, raising=False)
    read, write = os.pipe()
    control, pipe = os.fdopen(read, "rb"), os.fdopen(write, "wb", buffering=0)
    pipe.write(b"\n")  # no edit check
    thread = threading.Thread(target=materialiser.serve, args=(store.data_dir, "campaign.xlsx", 0.02, control, LocalStore),
                              daemon=True, name="test-writer")
    thread.start()
    try:
        before = store.log.offset
        store.append("site_check", {"project": "写入器已启动"}, actor=CITY, status="已提交")
        wait_for_write_after(store, before, "the writer did not start")
        yield
    finally:
        pipe.close()  # the writer makes its last write and returns
        thread.join(60)
        control.close()
        assert not thread.is_alive()


def edited_bytes(path, rid, remark):
    """The workbook as a person's editor would save it, with 备注 of row ``rid`` changed."""
    wb = openpyxl.load_workbook(path)
    ws = wb["现场检查记录"]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == rid:
            row[headers.index("备注")].value = remark
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def save_in_place_slowly(path, data, pause):
    """Truncate the file, write half of it, pause, write the rest: one slow in-place save."""
    with open(path, "r+b") as f:
        f.truncate(0)
        f.write(data[: len(data) // 2])
        f.flush()
        os.fsync(f.fileno())
        time.sleep(pause)
        f.write(data[len(data) // 2:])


def wait_for_write_after(store, offset, what):
    deadline = time.monotonic() + 60
    while True:
        store.refresh()
        stamp = matching_stamp(store.workbook_path)
        if stamp and stamp["offset"] > offset and stamp["offset"] == store.log.offset:
            return
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def app(tmp_path):
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(SPEC)
        rows = store.append_many("site_check", [{"project": f"项目{i}", "remark": "原文"} for i in range(2000)],
                                 actor=CITY, status="已提交")
        store.flush_workbook()  # written here, before the writer thread takes the lock
        yield store, rows[1].id


def assert_imported(store, rid, remark):
    rec = store.get("site_check", rid)
    assert (rec.values["remark"], rec.updated_by) == (remark, "外部编辑")
    assert store.audit(row_id=rid)[-1].changes == {"remark": ("原文", remark)}
    notes = [e.note for e in store.audit() if e.action == "外部编辑" and not e.row_id]
    assert len(notes) == 1 and "已导入 1 行的修改" in notes[0], notes  # no note of a file it could not read


def test_a_slow_save_in_place_is_imported_once_the_file_has_settled(app, monkeypatch):
    store, rid = app
    data = edited_bytes(store.workbook_path, rid, "人工修改")
    with background_writer(store, monkeypatch, settle=2.0, patience=30.0):
        before = store.log.offset
        save_in_place_slowly(store.workbook_path, data, pause=0.5)
        wait_for_write_after(store, before, "the writer never wrote the workbook after the edit")
    assert_imported(store, rid, "人工修改")
    (backup,) = store.data_dir.glob("campaign.external-*.xlsx")
    assert backup.read_bytes() == data  # the whole file, not a fragment


def test_a_save_that_pauses_longer_than_the_settle_time_is_read_again_when_it_goes_on(app, monkeypatch):
    """The half-written file has stayed unchanged long enough to be copied, and cannot be read: it is
    left in place (not written over) and read again once the rest of it is written."""
    store, rid = app
    data = edited_bytes(store.workbook_path, rid, "停顿后保存完")
    with background_writer(store, monkeypatch, settle=0.05, patience=30.0):
        before = store.log.offset
        save_in_place_slowly(store.workbook_path, data, pause=1.0)
        wait_for_write_after(store, before, "the writer never wrote the workbook after the edit")
    assert_imported(store, rid, "停顿后保存完")


def test_a_file_that_stays_unreadable_is_set_aside_whole_then_written_over(app, monkeypatch):
    store, rid = app
    junk = b"PK\x03\x04" + os.urandom(50_000)  # complete, and not a workbook
    with background_writer(store, monkeypatch, settle=0.05, patience=0.5):
        before = store.log.offset
        store.workbook_path.write_bytes(junk)
        wait_for_write_after(store, before, "an unreadable file stopped the writer")
    (backup,) = store.data_dir.glob("campaign.external-*.xlsx")
    assert backup.read_bytes() == junk
    note = store.audit()[-1].note
    assert "无法读取" in note and backup.name in note
    assert store.get("site_check", rid).rev == 1
