"""The log on disk: torn last lines are tolerated and cut off, damage elsewhere is reported."""

from __future__ import annotations

import json

import pytest

from lib.store.__main__ import main
from lib.store.base import Column, SheetSpec, Unavailable
from lib.store.local.store import LocalStore
from lib.store.local.verify import verify
from tests.store.store_cases import CITY, PROVINCE, SPEC

NOTE_SPEC = SheetSpec("batch_note", "批次说明", (Column("batch", "批次"),))


def test_a_torn_last_line_is_ignored_then_truncated_on_next_write(tmp_path):
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(SPEC)
        kept = store.append("site_check", {"count": 1}, actor=CITY, status="草稿")
    log = tmp_path / "campaign.log.jsonl"
    whole = log.read_bytes()
    with open(log, "ab") as f:  # what a writer killed mid-line leaves
        f.write(b'{"op":"append","form":"site_check","id":"torn","rev":1,"val')
    with LocalStore(tmp_path, background=False) as store:
        assert [r.id for r in store.records("site_check")] == [kept.id]
        new = store.append("site_check", {"count": 2}, actor=CITY, status="草稿")
    data = log.read_bytes()
    assert data.startswith(whole) and b"torn" not in data
    assert [json.loads(line)["op"] for line in data.splitlines()][-2:] == ["append", "append"]
    with LocalStore(tmp_path, background=False) as store:
        assert [r.id for r in store.records("site_check")] == [kept.id, new.id]


def test_a_reader_does_not_take_a_line_still_being_written(tmp_path):
    with LocalStore(tmp_path, background=False) as writer, LocalStore(tmp_path, background=False) as reader:
        writer.ensure_sheet(SPEC)
        line = writer.log_path.read_bytes().splitlines(keepends=True)[-1]
        with open(writer.log_path, "ab") as f:
            f.write(line[:10])
            f.flush()
            assert reader.sheet_spec("site_check") == SPEC  # half line not consumed
            f.write(line[10:])
        assert reader.sheet_spec("site_check") == SPEC  # the duplicate sheet line is applied whole


def test_damage_inside_the_log_is_reported_in_chinese(tmp_path):
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(SPEC)
        store.append("site_check", {"count": 1}, actor=CITY, status="草稿")
    log = tmp_path / "campaign.log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(lines[0] + b"garbage\n" + b"".join(lines[1:]))
    with pytest.raises(Unavailable) as err:
        LocalStore(tmp_path, background=False)
    assert err.value.code == "log_damaged" and "第 2 行" in str(err.value)  # names the line to repair


def test_every_acknowledged_write_is_one_fsynced_line(tmp_path, monkeypatch):
    import os

    synced = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(fd), real(fd)))
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(SPEC)
        before = len(synced)
        rec = store.append("site_check", {"count": 1}, actor=CITY, status="草稿")
        assert len(synced) == before + 1
        assert rec.id.encode() in store.log_path.read_bytes()
        store.append_many("site_check", [{"count": i} for i in range(100)], actor=CITY, status="草稿")
        assert len(synced) == before + 2  # a bulk import is one fsync


@pytest.mark.parametrize("cut", [1, 0.5, -1])  # into the batch's line: its first byte, its middle, all but its newline
def test_a_batch_cut_short_by_a_crash_is_never_partly_visible(tmp_path, cut):
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(SPEC)
        store.ensure_sheet(NOTE_SPEC)
        kept = store.append("site_check", {"count": 0}, actor=CITY, status="草稿")
        store.flush_workbook()
        before = store.log_path.stat().st_size
        store.append_batch([("site_check", {"count": i}, "已导入") for i in range(1, 200)]
                           + [("batch_note", {"batch": "b1"}, "有效")], actor=PROVINCE)
    log = tmp_path / "campaign.log.jsonl"
    data = log.read_bytes()
    assert data.count(b"\n", before) == 1  # the whole batch is one line
    end = len(data) - 1
    log.write_bytes(data[: before + (cut if cut == 1 else end - before if cut == -1 else (end - before) // 2)])
    with LocalStore(tmp_path, background=False) as store:
        assert [r.id for r in store.records("site_check")] == [kept.id]
        assert store.records("batch_note") == [] and len(store.audit()) == 1
        assert verify(store).ok  # the workbook written before the batch agrees with what is visible
        again = store.append_batch([("site_check", {"count": 1}, "已导入"), ("batch_note", {"batch": "b2"}, "有效")],
                                   actor=PROVINCE)
    assert main(["verify", str(tmp_path)]) == 1  # the workbook is behind the new batch, and says so …
    with LocalStore(tmp_path, background=False) as store:
        store.flush_workbook()
        assert [r.id for r in store.records("site_check")] == [kept.id, again[0].id]
        assert [r.id for r in store.records("batch_note")] == [again[1].id]
    assert main(["verify", str(tmp_path)]) == 0  # … and agrees once it is written


def test_a_sheet_entry_keeps_a_columns_display_and_older_entries_without_it_still_load(tmp_path):
    money = SheetSpec("fund", "奖补", (Column("m", "奖补金额", "number", "money"), Column("n", "人数", "integer")))
    plain = SheetSpec("fund", "奖补", (Column("m", "奖补金额", "number"), Column("n", "人数", "integer")))
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(plain)  # what a log written before Column.display holds: [key, label, kind]
    log = tmp_path / "campaign.log.jsonl"
    assert json.loads(log.read_bytes().splitlines()[-1])["columns"] == [["m", "奖补金额", "number"], ["n", "人数", "integer"]]
    with LocalStore(tmp_path, background=False) as store:
        assert store.sheet_spec("fund") == plain
        store.ensure_sheet(money)  # the display is news: one sheet entry carries it
        store.ensure_sheet(money)  # and nothing changes the second time
    lines = log.read_bytes().splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["columns"][0] == ["m", "奖补金额", "number", "money"]
    with LocalStore(tmp_path, background=False) as store:
        assert store.sheet_spec("fund") == money
