"""Faults: bounded retries, the durable outbox (待同步) and delivery with nothing lost or doubled."""

from __future__ import annotations

import threading
import time

import pytest

from lib.core.records import is_pending
from lib.store.base import Unavailable
from tests.store.store_cases import CITY, SPEC

pytestmark = pytest.mark.timeout(60)


def log_rows(server, key):
    return server.values(key, "_log")


def appended_ids(server, key) -> list[str]:
    """Row ids of the append entries in _log, resends included."""
    import json

    return [json.loads("".join(r[1:]))["id"] for r in log_rows(server, key) if '"op":"append"' in r[1]]


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
    assert is_pending(rec) and time.monotonic() - started < 3
    assert [r.id for r in store.pending("site_check")] == [rec.id]
    assert store.get("site_check", rec.id) == rec and store.records("site_check")[-1].id == rec.id
    outbox = list((store.sync.delivery.outbox.folder).glob("*.jsonl"))
    assert rec.id in "".join(p.read_text(encoding="utf-8") for p in outbox)
    with pytest.raises(Unavailable, match="待同步"):
        store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 1})
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
    with pytest.raises(Unavailable, match="可能未保存"):
        store.update("site_check", rec.id, base_rev=1, actor=CITY, values={"count": 2})
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
    acked, lock = [], threading.Lock()

    def session(n: int) -> None:
        for i in range(10):
            rec = store.append("site_check", {"project": f"{n}-{i}"}, actor=CITY, status="已提交")
            with lock:
                acked.append(rec)
            time.sleep(0.1)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    server.stop()
    time.sleep(1.0)
    server.start()
    for t in threads:
        t.join()
    assert store.wait_idle(20)
    assert any(is_pending(r) for r in acked), "the outage should have queued some rows"
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
