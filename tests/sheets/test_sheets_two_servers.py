"""Two app servers on one spreadsheet: rows show up on the other once its cache period has passed, and
a conflicting update through both is refused on one of them, never silently overwritten."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from lib.store.base import ConflictError
from tests.store.store_cases import CITY, PROVINCE, SPEC

pytestmark = pytest.mark.timeout(60)

HERE = Path(__file__).resolve().parent
CACHE = 1.0  # seconds; the shipped default is 10


class Peer:
    """The other app server, a separate Python process."""

    def __init__(self, secrets: dict, data_dir):
        self.proc = subprocess.Popen([sys.executable, str(HERE / "peer.py"), json.dumps(secrets), str(data_dir)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8")
        try:
            assert self._read() == {"ready": True}
        except BaseException:
            self.close()
            raise

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, "peer process ended"
        return json.loads(line)

    def ask(self, **cmd) -> dict:
        self.proc.stdin.write(json.dumps(cmd, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Ask the peer to end (stdin closed); one that has not ended within 10 s is killed: either way
        the process is reaped and its pipes closed before the test moves on."""
        try:
            self.proc.stdin.close()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)
        finally:
            self.proc.stdout.close()


@pytest.fixture
def peer(secrets_for, tmp_path):
    p = Peer(secrets_for(cache_seconds=CACHE), tmp_path / "peer")
    yield p
    p.close()


class SteppedClock:
    """Monotonic seconds that move only when the test moves them (the cache period without waiting)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rows_and_conflicts_across_two_processes(open_store, peer):
    clock = SteppedClock()
    mine = open_store("mine", cache_seconds=CACHE, cache_clock=clock)
    mine.ensure_sheet(SPEC)
    mine.records("site_check")  # cache filled now

    theirs = peer.ask(op="append", values={"project": "另一台服务器提交"})
    assert all(r.id != theirs["id"] for r in mine.records("site_check"))  # within the period: from memory
    clock.now += CACHE
    assert any(r.id == theirs["id"] for r in mine.records("site_check"))  # once it passed: one read shows it

    # Both servers hold rev 1; the peer changes the row first; ours is based on rev 1 and
    # passes the local check (its cache is not yet refreshed), so the log decides.
    mine.records("site_check")
    assert peer.ask(op="update", id=theirs["id"], base_rev=1, values={"count": 7})["rev"] == 2
    with pytest.raises(ConflictError) as err:
        mine.update("site_check", theirs["id"], base_rev=1, actor=PROVINCE, values={"count": 8})
    assert err.value.code == "conflict" and err.value.current.rev == 2
    assert "city_gz" in str(err.value)  # says who changed it
    assert mine.get("site_check", theirs["id"]).values["count"] == 7
    assert peer.ask(op="get", id=theirs["id"]) == {"rev": 2, "values": {"project": "另一台服务器提交", "count": 7}}

    # And the other way round, the peer holding the stale revision.
    mine.update("site_check", theirs["id"], base_rev=2, actor=PROVINCE, values={"count": 9})
    assert peer.ask(op="update", id=theirs["id"], base_rev=2, values={"count": 10})["error"] == "conflict"
    assert peer.ask(op="get", id=theirs["id"])["values"]["count"] == 9


def test_simultaneous_updates_one_wins_every_round(open_store, server, sheet_key):
    server.reads_per_window = server.writes_per_window = 100_000
    fast = {"reads_per_minute": 100_000, "writes_per_minute": 100_000, "cache_seconds": 60}
    a, b = open_store("a", **fast), open_store("b", **fast)
    a.ensure_sheet(SPEC)
    rec = a.append("site_check", {"count": 0}, actor=CITY, status="已提交")
    b.refresh()
    wins = []
    for round_ in range(8):
        base = a.get("site_check", rec.id).rev
        b.refresh()
        assert b.get("site_check", rec.id).rev == base
        gate = threading.Barrier(2)
        outcome = {}

        def change(name, store, value, gate=gate, outcome=outcome, base=base):
            gate.wait()
            try:
                outcome[name] = store.update("site_check", rec.id, base_rev=base, actor=CITY, values={"count": value}).rev
            except ConflictError:
                outcome[name] = "conflict"

        threads = [threading.Thread(target=change, args=("a", a, round_ * 2 + 1)),
                   threading.Thread(target=change, args=("b", b, round_ * 2 + 2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(map(str, outcome.values())) == [str(base + 1), "conflict"], outcome
        wins.append(next(k for k, v in outcome.items() if v != "conflict"))
        a.refresh()
        b.refresh()
        assert a.get("site_check", rec.id) == b.get("site_check", rec.id)
    final = a.get("site_check", rec.id)
    assert final.rev == 9
    assert [e.rev for e in a.audit(row_id=rec.id)] == list(range(1, 10))  # losers left no trace
    sent = [r for r in server.values(sheet_key, "_log") if '"op":"update"' in r[1]]
    assert len(sent) == 16  # both versions reached the log every round: the log, not luck, decided
    print(f"\nwinners by round: {wins}")


def test_a_peer_that_ignores_the_end_of_its_input_is_killed_and_reaped(secrets_for, tmp_path, monkeypatch):
    """Teardown is bounded: a peer that never ends by itself is killed, not left running."""
    peer = Peer(secrets_for(cache_seconds=CACHE), tmp_path / "peer")
    waits = []
    real_wait = peer.proc.wait

    def first_times_out(timeout=None):
        waits.append(timeout)
        if len(waits) == 1:
            raise subprocess.TimeoutExpired(peer.proc.args, timeout)
        return real_wait(timeout)

    monkeypatch.setattr(peer.proc, "wait", first_times_out)
    peer.proc.send_signal(__import__("signal").SIGSTOP)  # hung: it cannot read the end of its input
    peer.close()
    assert peer.proc.returncode is not None and peer.proc.returncode < 0  # killed, and reaped
    assert peer.proc.stdout.closed and waits == [10, 10]
