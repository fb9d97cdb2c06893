"""Sign-in that holds under concurrency and tells nothing: parallel attempts cannot check more
passwords than the lockout allows (threads and processes on a real accounts file), every failure
reads the same, and every attempt costs the same bcrypt work (counted, never timed)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import bcrypt
import pytest

from lib.auth import AccountLocked, SignInError, passwords
from lib.auth.accounts import Account, AccountsFile
from lib.auth.passwords import hash_password
from lib.auth.signin import Lockout, authenticate, refusal

NOW = dt.datetime(2020, 9, 10, 9, 0)
PASSWORD = "Gz@2020pass"
ROUNDS = 6  # the cost this test's real accounts pay; demo-like accounts are hashed cheaper


@pytest.fixture
def gz(accounts):
    return accounts.create(Account("city_gz", "city", org="广州市工业和信息化局", city="广州"), PASSWORD, now=NOW, rounds=ROUNDS)


class Checks(list):
    """Every bcrypt check made in this process: (password bytes, hash checked against)."""

    def against(self, hashed: str) -> int:
        return sum(1 for _, h in self if h == hashed.encode())

    def work(self) -> int:
        """bcrypt work done, in units of one check at cost 0 (the cost is a power of two)."""
        return sum(2 ** int(h.split(b"$")[2]) for _, h in self)


def _count_checks(into: Checks, setattr_=setattr) -> None:
    real = bcrypt.checkpw
    lock = threading.Lock()

    def counted(password: bytes, hashed: bytes) -> bool:
        with lock:
            into.append((password, hashed))
        return real(password, hashed)

    setattr_(passwords.bcrypt, "checkpw", counted)


@pytest.fixture
def checks(monkeypatch):
    made = Checks()
    _count_checks(made, monkeypatch.setattr)
    return made


def _attempt(accounts: AccountsFile, account: str, password: str, start: threading.Barrier | None = None) -> str:
    if start is not None:
        start.wait()
    try:
        authenticate(accounts, account, password, now=NOW, rounds=ROUNDS)
    except SignInError as refused:
        assert isinstance(refused, AccountLocked) == (refused.code == "locked")
        return {"locked": "locked", "sign_in": "wrong"}[refused.code]
    return "signed in"


def test_parallel_threads_check_no_more_passwords_than_the_lockout_allows(accounts, gz, checks):
    start = threading.Barrier(8)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda i: _attempt(AccountsFile(accounts.path), "city_gz", f"wrong-{i}", start), range(8)))
    # the first four reserved attempts are plain failures, the fifth locks, the rest meet the lock
    assert sorted(outcomes) == ["locked"] * 4 + ["wrong"] * 4
    assert checks.against(gz.password_hash) == 5, "only the five reserved attempts are checked against the hash"
    assert len(checks) == 8, "every attempt pays one check, the refused ones against the dummy hash"
    assert accounts.get("city_gz").locked_at(NOW) is not None
    assert _attempt(accounts, "city_gz", PASSWORD) == "locked"  # the right password now meets the lock


_START = None  # the barrier and check log of a worker process (set by _init, which runs in it)
_CHECKS = Checks()


def _init(start) -> None:
    global _START
    _START = start
    _count_checks(_CHECKS)


def _process_attempt(path: str, password: str, hashed: str) -> tuple[str, int]:
    outcome = _attempt(AccountsFile(path), "city_gz", password, _START)
    return outcome, _CHECKS.against(hashed)


def test_parallel_processes_cannot_race_the_lockout(accounts, gz):
    ctx = multiprocessing.get_context("fork")
    start = ctx.Barrier(7)
    n = 7
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init, initargs=(start,)) as pool:
        results = list(pool.map(_process_attempt, [str(accounts.path)] * n, [f"wrong-{i}" for i in range(n)],
                                [gz.password_hash] * n, timeout=120))
    assert sorted(outcome for outcome, _ in results) == ["locked"] * 3 + ["wrong"] * 4
    assert sum(checked for _, checked in results) == 5
    assert _attempt(accounts, "city_gz", PASSWORD) == "locked"
    assert not list(accounts.path.parent.glob(".accounts.json.*.tmp"))


def test_every_failure_reads_the_same(accounts, gz):
    accounts.add_many([Account("off", "city", city="佛山", disabled=True, password_hash=hash_password(PASSWORD, rounds=4))])
    lockout = Lockout(attempts=3, minutes=15)
    messages = set()
    for account, password in [("nobody", PASSWORD), ("city_gz", "wrong-1"), ("city_gz", "wrong-2"), ("city_gz", "wrong-3"),
                              ("city_gz", PASSWORD), ("off", PASSWORD), ("city_gz", "x" * 100)]:
        with pytest.raises(SignInError) as refused:
            authenticate(accounts, account, password, now=NOW, lockout=lockout, rounds=ROUNDS)
        messages.add(str(refused.value))
    assert messages == {refusal(lockout)}
    assert "再错" not in refusal(lockout)


def test_every_attempt_costs_one_check_at_the_configured_cost(accounts, gz, checks):
    demo = Account("provider_001", "provider", org="某服务商", password_hash=hash_password(PASSWORD, rounds=ROUNDS - 2))
    sso = Account("sso_only", "province")  # no password: single sign-on only
    locked = Account("locked", "province", password_hash=hash_password(PASSWORD, rounds=ROUNDS),
                     locked_until=(NOW + dt.timedelta(minutes=5)).isoformat())
    disabled = Account("off", "province", disabled=True, password_hash=hash_password(PASSWORD, rounds=ROUNDS))
    accounts.add_many([demo, sso, locked, disabled])
    cases = {
        "unknown account": ("nobody_here", PASSWORD),
        "account name of 10,000 characters": ("x" * 10_000, PASSWORD),
        "wrong password": ("city_gz", "wrong-pass1"),
        "right password": ("city_gz", PASSWORD),
        "demo account, cheaper hash": ("provider_001", "wrong-pass1"),
        "demo account, right password": ("provider_001", PASSWORD),
        "password over 72 bytes": ("city_gz", PASSWORD + "长" * 30),
        "single sign-on account": ("sso_only", PASSWORD),
        "locked account": ("locked", PASSWORD),
        "disabled account, right password": ("off", PASSWORD),
    }
    for case, (account, password) in cases.items():
        checks.clear()
        try:
            authenticate(accounts, account, password, now=NOW, rounds=ROUNDS)
        except SignInError:
            pass
        assert checks.work() == 2 ** ROUNDS, case
        assert all(len(p) <= passwords.MAX_BYTES for p, _ in checks), case


def test_a_password_over_72_bytes_is_refused_even_when_its_first_72_match(accounts):
    long = "A1" + "b" * 70  # exactly 72 bytes: the longest settable password
    accounts.add_many([Account("long", "province", password_hash=hash_password(long, rounds=4))])
    assert authenticate(accounts, "long", long, now=NOW, rounds=4).account == "long"
    with pytest.raises(SignInError):
        authenticate(accounts, "long", long + "x", now=NOW, rounds=4)  # bcrypt alone would say yes


def test_every_failed_attempt_does_the_same_file_work(accounts, gz, monkeypatch):
    """F10: only a real account's attempt used to rewrite and fsync the accounts file (~35 ms against
    ~11 ms for an unknown name, and a name over 64 characters skipped the file): the file work told
    real accounts from unknown ones. Counted, never timed: locks, atomic replaces and fsyncs."""
    import os

    from lib.auth import jsonfile

    locked = Account("locked", "province", password_hash=hash_password(PASSWORD, rounds=4),
                     locked_until=(NOW + dt.timedelta(minutes=5)).isoformat())
    accounts.add_many([locked, Account("off", "province", disabled=True, password_hash=hash_password(PASSWORD, rounds=4)),
                       Account("sso_only", "province")])
    done: list[str] = []
    for name in ("fsync", "replace"):
        real = getattr(os, name)
        monkeypatch.setattr(jsonfile.os, name, lambda *a, _real=real, _name=name: (done.append(_name), _real(*a))[1])
    real_acquire = accounts.file._lock.acquire
    monkeypatch.setattr(accounts.file._lock, "acquire", lambda *a, **k: (done.append("lock"), real_acquire(*a, **k))[1])
    cases = {
        "unknown account": "nobody_here",
        "name of 65 characters": "x" * 65,
        "name of 10,000 characters": "x" * 10_000,
        "empty name": "  ",
        "wrong password": "city_gz",
        "locked account": "locked",
        "disabled account, right password": "off",
        "single sign-on account": "sso_only",
    }
    work = {}
    for case, account in cases.items():
        done.clear()
        with pytest.raises(SignInError):
            authenticate(accounts, account, PASSWORD if case != "wrong password" else "wrong-pass1", now=NOW, rounds=ROUNDS)
        work[case] = sorted(done)
    assert work["unknown account"] == ["fsync", "fsync", "lock", "replace"]  # file and folder fsynced, one rename
    assert {case: w for case, w in work.items() if w != work["unknown account"]} == {}
    assert accounts.get("locked").failed_attempts == 0 and accounts.get("city_gz").failed_attempts == 1
