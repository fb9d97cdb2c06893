"""8 processes appending and 2 threads updating one store directory: nothing lost, nothing twice,
every update either applied or refused with ConflictError."""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
from collections import Counter

import pytest

from lib.core.records import Actor
from lib.store.base import ConflictError
from lib.store.local.store import LocalStore
from tests.store.store_cases import CITY, SPEC

PROCESSES, APPENDS = 8, 250


def append_rows(data_dir, worker, out):
    """Worker process: append APPENDS rows, then report the acknowledged ids."""
    store = LocalStore(data_dir, background=False)
    actor = Actor(f"worker{worker}", "provider")
    ids = [store.append("site_check", {"project": f"w{worker}-{i}", "count": i}, actor=actor, status="已提交").id
           for i in range(APPENDS)]
    store.close()
    out.put((worker, ids))


def update_rows(store, name, done, outcomes):
    """Updater thread: edit random rows (other processes' rows included) until appends end."""
    rnd = random.Random(name)
    actor = Actor(name, "province")
    k = 0
    while not done.is_set() or k < 50:
        recs = store.records("site_check")
        rec = rnd.choice(recs)
        base = rec.rev - 1 if rec.rev > 1 and rnd.random() < 0.2 else rec.rev  # some deliberately stale
        value = f"{name}-{k}"
        try:
            new = store.update("site_check", rec.id, base_rev=base, actor=actor, values={"remark": value})
            outcomes.append(("applied", rec.id, new.rev, value))
        except ConflictError as err:
            outcomes.append(("conflict", rec.id, base, str(err)))
        k += 1


@pytest.mark.timeout(180)
def test_processes_and_threads_share_one_store(tmp_path):
    store = LocalStore(tmp_path, background=False)
    store.ensure_sheet(SPEC)
    seed = [store.append("site_check", {"project": f"seed{i}"}, actor=CITY, status="草稿").id for i in range(20)]

    ctx = multiprocessing.get_context("fork")  # start before any thread of ours exists
    out = ctx.Queue()
    workers = [ctx.Process(target=append_rows, args=(tmp_path, w, out)) for w in range(PROCESSES)]
    for p in workers:
        p.start()
    done = threading.Event()
    outcomes: list[tuple] = []
    threads = [threading.Thread(target=update_rows, args=(store, f"updater{t}", done, outcomes)) for t in range(2)]
    for t in threads:
        t.start()
    acked = dict(out.get(timeout=150) for _ in workers)
    for p in workers:
        p.join(30)
        assert p.exitcode == 0
    done.set()
    for t in threads:
        t.join(60)

    # Every acknowledged append exactly once, in the log and in a fresh view.
    lines = store.log_path.read_bytes().splitlines()
    appended = Counter(e["id"] for e in map(json.loads, lines) if e["op"] == "append")
    all_ids = [rid for ids in acked.values() for rid in ids]
    assert len(all_ids) == PROCESSES * APPENDS == len(set(all_ids))
    assert all(appended[rid] == 1 for rid in all_ids) and len(appended) == len(all_ids) + len(seed)
    fresh = LocalStore(tmp_path, background=False)
    recs = {r.id: r for r in fresh.records("site_check")}
    for worker, ids in acked.items():
        assert [recs[rid].values["project"] for rid in ids] == [f"w{worker}-{i}" for i in range(APPENDS)]

    # Every update applied or refused; applied ones are audited, refused ones left no trace.
    applied = [o for o in outcomes if o[0] == "applied"]
    conflicts = [o for o in outcomes if o[0] == "conflict"]
    assert applied and conflicts and len(applied) + len(conflicts) == len(outcomes)
    assert all("请重新载入后再修改" in message for *_, message in conflicts)
    assert any(rid not in seed for _, rid, _, _ in applied)  # rows from other processes were seen and edited
    audited = {(a.row_id, a.rev): a for a in fresh.audit("site_check") if a.action == "修改"}
    assert set(audited) == {(rid, rev) for _, rid, rev, _ in applied}
    for _, rid, rev, value in applied:
        assert audited[(rid, rev)].changes["remark"][1] == value
    last = {}
    for _, rid, _, value in sorted(applied, key=lambda o: o[2]):
        last[rid] = value
    assert all(recs[rid].values["remark"] == value for rid, value in last.items())
    assert all(recs[rid].rev == 1 + sum(1 for o in applied if o[1] == rid) for rid in recs)
    store.close()
    fresh.close()
