"""Durable before acknowledged: a writer SIGKILLed at random moments loses nothing it acknowledged,
a batch of rows on two sheets is never partly visible, and the workbook on disk is a valid workbook
after every kill, even mid-write."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import time
from collections import Counter

import pytest
from python_calamine import CalamineWorkbook

from lib.store.base import Column, SheetSpec
from lib.store.entries import unbatched
from lib.store.local.store import LocalStore
from lib.store.local.verify import verify
from lib.store.local.workbook import TEMP_SUFFIX, matching_stamp
from tests.store.store_cases import CITY, WIDE_SPEC, wide_rows

NOTE_SPEC = SheetSpec("batch_note", "批次说明", (Column("batch", "批次"), Column("rows", "行数", "integer")))
BATCH_ROWS = 5
QUICK_TRIALS = 24  # writer without a background workbook writer: kills land inside log appends
WORKBOOK_TRIALS = 12  # writer with its background writer, killed (both) while the workbook is written


def write_until_killed(data_dir, acks, background, trial):
    """Child process body: append/update forever, recording each change after it returned."""
    rnd = random.Random(trial)
    store = LocalStore(data_dir, background=background, debounce=0.05)
    fd = os.open(acks, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    revs: dict[str, int] = {}
    for i in range(10**9):
        if i % 7 == 6:
            rid = rnd.choice(list(revs))
            rec = store.update("site_check", rid, base_rev=revs[rid], actor=CITY, values={"remark": f"t{trial}u{i}"})
            revs[rid] = rec.rev
            os.write(fd, f"U {rid} {rec.rev}\n".encode())
        else:
            if i % 11 == 10:  # a batch on two sheets: five rows and the note that counts them
                items = [("site_check", {"project": f"t{trial}-{i}-{k}", "count": i}, "已提交") for k in range(BATCH_ROWS)]
                items.append(("batch_note", {"batch": f"t{trial}-{i}", "rows": BATCH_ROWS}, "有效"))
                recs = store.append_batch(items, actor=CITY)[:BATCH_ROWS]
            else:
                recs = [store.append("site_check", {"project": f"t{trial}-{i}-0", "count": i}, actor=CITY, status="已提交")]
            revs.update((r.id, 1) for r in recs)
            os.write(fd, "".join(f"A {r.id} {r.values['project']}\n" for r in recs).encode())
        time.sleep(0.002)  # ~300 changes a second: the log stays small enough to reopen 50 times


def start_writer(data_dir, acks, background, trial):
    pid = os.fork()
    if pid == 0:  # child: its own process group, so one kill takes its background writer too
        code = 1
        try:
            os.setpgid(0, 0)
            write_until_killed(data_dir, acks, background, trial)
        finally:
            os._exit(code)
    # the parent sets the group too: a kill soon after the fork (a loaded machine had not yet run the child's
    # setpgid) found no such group, the child was left writing and waitpid waited for ever (a CI run hung here)
    with contextlib.suppress(PermissionError, ProcessLookupError):  # the child got there first, or exec'd
        os.setpgid(pid, pid)
    return pid


def kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:  # no group: the writer itself, if it is still there
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def read_acks(path):
    appended, updated = {}, {}
    if path.exists():
        for line in path.read_text("utf-8").splitlines():
            kind, rid, extra = line.split(" ", 2)
            if kind == "A":
                appended[rid] = extra
            else:
                updated[rid] = max(updated.get(rid, 0), int(extra))
    return appended, updated


def check_after_kill(data_dir, appended, updated):
    """Every acknowledged append is in the log exactly once, every acknowledged update is there,
    every batch is there whole or not at all, the store reopens, and the workbook on disk (if any)
    is a valid workbook we wrote."""
    lines = (data_dir / "campaign.log.jsonl").read_bytes().split(b"\n")[:-1]  # a torn tail is not a line
    entries = [member for e in map(json.loads, lines) for member in unbatched(e)]
    log_ids = Counter(e["id"] for e in entries if e["op"] == "append")
    assert all(log_ids[rid] == 1 for rid in appended), "an acknowledged row is missing or duplicated"
    assert max(log_ids.values()) == 1
    with LocalStore(data_dir, background=False) as store:
        for rid, project in appended.items():
            assert store.get("site_check", rid).values["project"] == project
        revs: dict[str, list[int]] = {}
        for entry in store.audit("site_check"):
            revs.setdefault(entry.row_id, []).append(entry.rev)
        for rid, rev in updated.items():
            current = store.get("site_check", rid).rev
            assert current >= rev and revs[rid] == list(range(1, current + 1))
        notes = {r.values["batch"]: r.values["rows"] for r in store.records("batch_note")}
        written = Counter(r.values["project"].rsplit("-", 1)[0] for r in store.records("site_check")
                          if r.values["project"].startswith("t"))
        assert all(written[batch] == rows for batch, rows in notes.items()), "a batch's note without all its rows"
        assert all(batch in notes for batch, n in written.items() if n > 1), "a batch's rows without its note"
    workbook = data_dir / "campaign.xlsx"
    if workbook.exists():
        book = CalamineWorkbook.from_path(str(workbook))
        assert book.sheet_names == ["现场检查记录", "批次说明", "_audit"]
        assert len(book.get_sheet_by_name("现场检查记录").to_python()) > 1
        assert matching_stamp(workbook) is not None  # our own file, never mistaken for a person's edit


def wait_until_open(acks, timeout=60.0):
    """The writer opens its acks file once its store is open (replaying the log takes longer as
    the trials add to it, and longer still on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not acks.exists():
        time.sleep(0.005)
    return acks.exists()


def wait_for_workbook_write(data_dir, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(data_dir.glob(f"*{TEMP_SUFFIX}")):
            return True
        time.sleep(0.005)
    return False


@pytest.mark.timeout(300)
def test_sigkill_at_random_moments_loses_no_acknowledged_change(tmp_path):
    data_dir = tmp_path / "data"
    with LocalStore(data_dir, background=False) as store:
        store.ensure_sheet(WIDE_SPEC)
        store.ensure_sheet(NOTE_SPEC)
        store.append_many("site_check", wide_rows(2000), actor=CITY, status="已提交")  # ~0.4 s workbook writes
        store.flush_workbook()
    rnd = random.Random(20200910)
    appended, updated = {}, {}
    mid_write = waited = acked_after_open = 0
    started = time.monotonic()
    for trial in range(QUICK_TRIALS + WORKBOOK_TRIALS):
        background = trial >= QUICK_TRIALS
        acks = tmp_path / f"acks-{trial}.txt"
        pid = start_writer(data_dir, acks, background, trial)
        try:
            # Every third quick trial is killed at a random moment from its start, often while the
            # store is still opening; the others once it is open, inside their stream of writes.
            after_open = background or trial % 3 != 0
            if after_open:
                assert wait_until_open(acks), "the writer never opened its store"
            if background:
                assert wait_for_workbook_write(data_dir), "background writer never started a write"
                time.sleep(rnd.uniform(0, 0.4))
            else:
                time.sleep(rnd.uniform(0.05, 0.45))
        finally:  # a failed wait must not leave the writer appending forever
            kill_group(pid)
        mid_write += background and any(data_dir.glob(f"*{TEMP_SUFFIX}"))
        new_appends, new_updates = read_acks(acks)
        waited += after_open
        acked_after_open += after_open and bool(new_appends)
        appended.update(new_appends)
        updated.update(new_updates)
        check_after_kill(data_dir, new_appends, new_updates)
    check_after_kill(data_dir, appended, updated)  # nothing from an earlier trial went missing later
    with LocalStore(data_dir, background=False) as store:
        store.flush_workbook()
        assert verify(store).ok
        assert len(store.records("site_check")) >= 2000 + len(appended)
        assert store.records("batch_note"), "no batch was acknowledged: the test proved nothing about batches"
    print(f"{QUICK_TRIALS + WORKBOOK_TRIALS} kills, {mid_write} during a workbook write, "
          f"{len(appended)} appends and {len(updated)} updated rows acknowledged, {time.monotonic() - started:.0f} s")
    assert mid_write >= WORKBOOK_TRIALS // 2
    assert acked_after_open >= waited * 9 // 10  # the kills did land among acknowledged writes
