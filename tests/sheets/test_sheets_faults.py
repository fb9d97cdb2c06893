"""Faults: bounded retries, the durable outbox (待同步) and delivery with nothing lost or doubled."""

from __future__ import annotations

import threading
import time

import pytest

from lib.core.records import is_pending
from lib.store.base import Unavailable
from tests.sheets.conftest import FAST
from tests.store.store_cases import CITY, SPEC

pytestmark = pytest.mark.timeout(60)


def log_rows(server, key):
    return server.values(key, "_log")


def appended_ids(server, key) -> list[str]:
    """Row ids of the append entries in _log, resends included."""
    import json

    return [json.loads("".join(r[1:]))["id"] for r in log_rows(server, key) if '"op":"append"' in r[1]]


def wait_for(condition, what: str, timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.fixture
def store(open_store, server):
    server.reads_per_window = server.writes_per_window = 100_000  # quota is test_sheets_load's subject
    s = open_store(reads_per_minute=100_000, writes_per_minute=100_000)
    s.ensure_sheet(SPEC)
    return s


def test_429_and_5xx_are_retried(store, server, sheet_key):
    server.fail_next(1, status=429, kind="write")
    server.fail_next(1, status=503, kind="write")
    rec = store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
    assert not is_pending(rec)
    assert store.sync.session.stats["retries"] == 2  # the third of 3 attempts got through
    assert appended_ids(server, sheet_key) == [rec.id]


def test_retries_are_bounded_then_the_row_waits_in_the_outbox(store, server, sheet_key):
    server.fail_next(10_000, status=503)
    started = time.monotonic()
    rec = store.append("site_check", {"project": "待同步的行"}, actor=CITY, status="已提交")
    # Answered when the retry budget ran out, not after the longest an append may wait for the sheet.
    assert is_pending(rec) and time.monotonic() - started < FAST["submit_wait_seconds"]
    assert [r.id for r in store.pending("site_check")] == [rec.id]
    assert store.get("site_check", rec.id) == rec and store.records("site_check")[-1].id == rec.id
    outbox = list((store.sync.delivery.outbox.folder).glob("*.jsonl"))
    assert rec.id in "".join(p.read_text(encoding="utf-8") for p in outbox)
    with pytest.raises(Unavailable) as err:
        store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 1})
    assert err.value.code == "pending_sync"
    second = store.append("site_check", {"project": "离线时又一行"}, actor=CITY, status="已提交")
    assert is_pending(second)  # known unreachable: answered at once, not after another retry budget
    server.clear_faults()
    assert store.wait_idle(10)
    assert store.pending() == []
    assert [r.id for r in store.records("site_check")] == [rec.id, second.id]
    assert appended_ids(server, sheet_key) == [rec.id, second.id]


def test_update_while_unreachable_is_refused(store, server):
    rec = store.append("site_check", {"count": 1}, actor=CITY, status="已提交")
    server.stop()
    with pytest.raises(Unavailable) as err:
        store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 2})
    assert err.value.code == "sheets_write_lost"
    server.start()
    assert store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 2}).rev == 2


def test_a_lost_answer_is_resent_but_counted_once(store, server, sheet_key):
    server.fail_next(1, status=0, kind="write", after_apply=True)  # the row lands, the answer is lost
    rec = store.append("site_check", {"project": "甲"}, actor=CITY, status="已提交")
    assert not is_pending(rec)
    assert appended_ids(server, sheet_key) == [rec.id, rec.id]  # sent twice ...
    assert [r.id for r in store.records("site_check")] == [rec.id]  # ... one row
    assert len(store.audit(row_id=rec.id)) == 1


def test_server_stopped_and_restarted_mid_burst(store, server, sheet_key):
    """Eight sessions keep submitting while the server stops and starts again: every acknowledged
    row ends up in the spreadsheet exactly once, some of them having waited in the outbox."""
    acked, lock = [], threading.Lock()
    stopped = threading.Event()

    def session(n: int) -> None:
        for i in range(10):
            rec = store.append("site_check", {"project": f"{n}-{i}"}, actor=CITY, status="已提交")
            with lock:
                acked.append(rec)
            if i == 2:
                stopped.wait(20)  # the rest of this session's burst runs into the outage

    def queued() -> int:
        with lock:
            return sum(is_pending(r) for r in acked)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 12, "the burst to be under way")  # some sessions still mid-burst
    server.stop()
    stopped.set()
    wait_for(lambda: queued() >= 8, "rows to be queued while the server is down")
    server.start()
    for t in threads:
        t.join()
    assert store.wait_idle(20)
    ids = [r.id for r in acked]
    assert len(ids) == 80
    assert sorted(r.id for r in store.records("site_check")) == sorted(ids)
    assert sorted(set(appended_ids(server, sheet_key))) == sorted(ids)
    assert store.pending() == []


def test_outbox_survives_an_app_restart(open_store, server, sheet_key):
    store = open_store("app")
    store.ensure_sheet(SPEC)
    server.stop()
    rec = store.append("site_check", {"project": "断网时提交"}, actor=CITY, status="已提交")
    assert is_pending(rec)
    store.close()
    server.start()
    again = open_store("app")  # same data_dir: adopts the outbox left behind
    assert again.wait_idle(10)
    assert [r.id for r in again.records("site_check")] == [rec.id]
    assert again.get("site_check", rec.id).values == {"project": "断网时提交"}


def test_outbox_files_are_the_apps_alone(open_store, server, tmp_path):
    """Queued submissions hold personal data: 0600 files in 0700 folders, whatever the umask."""
    import os
    import stat

    old = os.umask(0o022)  # a common default that would leave them readable by every account
    try:
        store = open_store("app")
        store.ensure_sheet(SPEC)
        server.stop()
        assert is_pending(store.append("site_check", {"project": "断网时提交"}, actor=CITY, status="已提交"))
    finally:
        os.umask(old)
        server.start()
    outbox = store.sync.delivery.outbox
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(outbox.path) == 0o600 and outbox.path.stat().st_size > 0
    assert [mode(p) for p in (outbox.folder, outbox.folder.parent, tmp_path / "app")] == [0o700] * 3


def test_a_snapshot_taken_while_a_row_waits_to_sync_hands_out_copies_of_its_lists(store, server, sheet_key):
    """Attack 18 #1: with a row 待同步 the snapshot is built from the records (``Store.snapshot``), and its list
    cells were the records' own: an edit of one changed the row the store held, with nothing in ``_log``."""
    rec = store.append("site_check", {"project": "已同步", "issues": ["质量"]}, actor=CITY, status="已提交")
    server.fail_next(10_000, status=503)
    assert is_pending(store.append("site_check", {"project": "待同步"}, actor=CITY, status="已提交"))
    frame = store.snapshot("site_check")
    frame.loc[0, "issues"].append("注入")
    assert store.get("site_check", rec.id).values["issues"] == ["质量"]
    server.clear_faults()
    assert store.wait_idle(10)
