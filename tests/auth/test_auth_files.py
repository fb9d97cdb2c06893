"""The files sign-in keeps beside the data (the session secret, the revocation list, the accounts file
and their locks): made whole or not at all, never trusted when damaged, and every refusal a coded
error — attack findings F1–F4, F21, F22 of issue 11."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import stat
import threading

import pytest
from itsdangerous import URLSafeSerializer

from lib.auth import sessions
from lib.auth.accounts import Account, AccountsFile
from lib.auth.errors import DataFileError, SessionInvalid
from lib.auth.jsonfile import JsonFile
from lib.auth.sessions import SALT, SECRET_FILE, SessionTokens

NOW = dt.datetime(2020, 9, 10, 9, 0)


def signer(key: bytes) -> URLSafeSerializer:
    """Signs as the sessions module does, with ``key``: what someone holding (or guessing) the key can make."""
    return URLSafeSerializer(key, salt=SALT, signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    AccountsFile(folder / "accounts.json").add_many([Account("admin", "admin"), Account("city_gz", "city", city="广州")])
    return folder


def tokens_of(folder) -> SessionTokens:
    return SessionTokens(folder, AccountsFile(folder / "accounts.json"))


def claims(**changes) -> dict:
    return {"a": "admin", "i": NOW.timestamp(), "e": (NOW + dt.timedelta(hours=8)).timestamp(), "n": "nonce", **changes}


# --- the session secret (F21) ------------------------------------------------------------------


@pytest.mark.parametrize("content, key", [(b"", b""), (b"ab", b"\xab"), (b"\n", b""), (b"00" * 16, bytes(16)),
                                          (b"zz" * 32, b"zz" * 32), ("密钥".encode(), "密钥".encode())])
def test_an_empty_short_or_damaged_secret_is_replaced_never_signed_with(data, content, key):
    """An empty secret once let anyone sign an admin's session with the key b""; a short one is guessable."""
    data.mkdir(exist_ok=True)
    (data / SECRET_FILE).write_bytes(content)
    tokens = tokens_of(data)
    forged = signer(key).dumps(claims())
    with pytest.raises(SessionInvalid) as refused:
        tokens.check(forged, now=NOW)
    assert refused.value.code == "session_invalid"
    secret = bytes.fromhex((data / SECRET_FILE).read_text(encoding="ascii"))
    assert len(secret) >= sessions.MIN_SECRET_BYTES
    assert stat.S_IMODE((data / SECRET_FILE).stat().st_mode) == 0o600
    token = tokens.issue("admin", now=NOW, hours=8)
    assert tokens_of(data).check(token, now=NOW).account == "admin"  # the new secret is the one every process reads


def test_the_secret_is_never_visible_before_it_is_complete(data, monkeypatch):
    """A process starting beside the one that makes the secret must find it whole or not at all: it once
    read the file between its creation and its write and signed with an empty key for its whole life."""
    seen = []
    path = data / SECRET_FILE
    for name in ("token_bytes", "token_hex"):
        made = getattr(sessions.secrets, name)

        def watch(*args, made=made):
            seen.append(path.read_bytes() if path.exists() else None)
            return made(*args)

        monkeypatch.setattr(sessions.secrets, name, watch)
    tokens_of(data)
    assert seen == [None]  # when the secret is drawn, no file of it exists yet
    assert len(bytes.fromhex(path.read_text(encoding="ascii"))) >= sessions.MIN_SECRET_BYTES


def test_a_secret_write_that_fails_leaves_nothing_behind(data, monkeypatch):
    """A full disk while the secret is written: no empty or partial secret stays for the next start to use."""
    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sessions.os, "fsync", full)
    with pytest.raises(OSError):
        tokens_of(data)
    assert not (data / SECRET_FILE).exists()
    assert not [p for p in data.iterdir() if p.name.startswith(SECRET_FILE) and p.suffix == ".tmp"]
    monkeypatch.undo()
    assert tokens_of(data).is_valid(tokens_of(data).issue("admin", now=NOW, hours=1), now=NOW)


def test_processes_starting_together_agree_on_one_secret(data):
    barrier, made = threading.Barrier(8), []

    def start():
        barrier.wait()
        made.append(tokens_of(data))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(made) == 8
    issued = [t.issue("city_gz", now=NOW, hours=1) for t in made]
    assert all(t.is_valid(token, now=NOW) for t in made for token in issued)


def test_an_unreadable_secret_is_a_coded_error_naming_the_file(data):
    (data / SECRET_FILE).mkdir()  # read_bytes: IsADirectoryError
    with pytest.raises(DataFileError) as refused:
        tokens_of(data)
    assert refused.value.code == "file_unreadable" and SECRET_FILE in str(refused.value)


# --- token shapes (F1, F3) ---------------------------------------------------------------------


@pytest.mark.parametrize("payload", [
    [1, 2], "admin", None, {"a": "admin"}, claims(e="2099"), claims(e=None), claims(e=float("nan")), claims(e=float("inf")),
    claims(e=10**400), claims(n=["x"]), claims(n={}), claims(a=["admin"]), claims(a=7), claims(i="x"), claims(e=True),
])
def test_a_signed_token_of_another_shape_is_session_invalid_and_revokes_nothing(data, payload):
    """Only who holds the secret can sign one, yet it once raised TypeError/KeyError on every page run
    (and a NaN expiry never expired); revoking it once left an entry that broke every later sign-out."""
    tokens = tokens_of(data)
    token = signer(bytes.fromhex((data / SECRET_FILE).read_text(encoding="ascii"))).dumps(payload)
    with pytest.raises(SessionInvalid) as refused:
        tokens.check(token, now=NOW)
    assert refused.value.code == "session_invalid"
    assert not tokens.is_valid(token, now=dt.datetime(2099, 1, 1))
    tokens.revoke(token, now=NOW)
    assert not (data / sessions.REVOKED_FILE).exists()


def test_a_lone_surrogate_in_a_token_is_session_invalid(data):
    tokens = tokens_of(data)
    good = tokens.issue("admin", now=NOW, hours=8)
    for bad in (good[:-1] + "\ud800", "\udcff." + good):
        with pytest.raises(SessionInvalid) as refused:
            tokens.check(bad, now=NOW)
        assert refused.value.code == "session_invalid"
        tokens.revoke(bad, now=NOW)
    assert tokens.is_valid(good, now=NOW)


# --- the revocation list (F2) ------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["2099", None, [1], float("nan")])
def test_a_malformed_revocation_entry_is_dropped_and_sign_out_still_works(data, entry):
    tokens = tokens_of(data)
    (data / sessions.REVOKED_FILE).write_text(json.dumps({"bad": entry, "live": (NOW + dt.timedelta(hours=1)).timestamp()}))
    token = tokens.issue("admin", now=NOW, hours=8)
    tokens.revoke(token, now=NOW)
    with pytest.raises(SessionInvalid) as revoked:
        tokens.check(token, now=NOW)
    assert revoked.value.code == "session_revoked"
    left = json.loads((data / sessions.REVOKED_FILE).read_text())
    assert "bad" not in left and "live" in left  # a revocation still running is kept


@pytest.mark.parametrize("content", ["{broken", "[1, 2]", "7", "\xff"])
def test_a_damaged_revocation_list_is_a_coded_error_naming_the_file(data, content):
    """Not a ValueError a page reads as a bad cookie (everyone quietly signed out, no reason given)."""
    tokens = tokens_of(data)
    token = tokens.issue("admin", now=NOW, hours=8)
    (data / sessions.REVOKED_FILE).write_text(content, encoding="latin-1")
    for act in (tokens.check, tokens.revoke):
        with pytest.raises(DataFileError) as refused:
            act(token, now=NOW)
        assert refused.value.code == "file_damaged" and sessions.REVOKED_FILE in str(refused.value)
        assert not isinstance(refused.value, ValueError)


# --- the JSON files and their locks (F4, F22) --------------------------------------------------


def test_a_rewrite_of_the_same_size_in_the_same_tick_is_not_read_from_the_cache(tmp_path):
    """Where the file system keeps coarse times, another process's same-size rewrite kept the old mtime:
    a failed-attempt count read from the cache under the lock was 1 after two wrong passwords."""
    path = tmp_path / "x.json"
    f = JsonFile(path, default=dict)
    f.update(lambda doc: doc.update(failed=0))
    assert f.read() == {"failed": 0}
    before = path.stat()
    with open(path, "r+", encoding="utf-8") as other:  # another process, in place: same inode and size
        text = other.read().replace("0", "1")
        other.seek(0)
        other.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert f.update(lambda doc: doc.update(failed=doc["failed"] + 1)) == {"failed": 2}
    assert f.read() == {"failed": 2}


def test_a_damaged_accounts_file_is_a_coded_error_naming_the_file(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text('{"accounts": [', encoding="utf-8")
    accounts = AccountsFile(path)
    with pytest.raises(DataFileError) as refused:
        accounts.get("admin")
    assert refused.value.code == "file_damaged" and "accounts.json" in str(refused.value)


def test_a_lock_that_is_a_symbolic_link_is_refused_naming_it_and_not_followed(tmp_path):
    victim = tmp_path / "precious.txt"
    victim.write_text("precious\n")
    folder = tmp_path / "data"
    f = JsonFile(folder / "accounts.json", default=dict)
    (folder / ".accounts.json.lock").symlink_to(victim)
    with pytest.raises(DataFileError) as refused:
        f.update(lambda doc: doc.update(a=1))
    assert refused.value.code == "lock_failed" and ".accounts.json.lock" in str(refused.value)
    assert victim.read_text() == "precious\n" and not (folder / "accounts.json").exists()


def test_a_lock_file_made_loose_beforehand_is_tightened(tmp_path):
    folder = tmp_path / "data"
    f = JsonFile(folder / "accounts.json", default=dict)
    lock = folder / ".accounts.json.lock"
    lock.touch()
    os.chmod(lock, 0o666)
    f.update(lambda doc: doc.update(a=1))
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


def test_reading_one_account_copies_that_account_only(tmp_path, monkeypatch):
    """The session check reads one account on every page run: with thousands of accounts it copies that
    account, not the whole file (issue 17: a json round trip of the file cost 39 ms at 3,084 accounts)."""
    accounts = AccountsFile(tmp_path / "accounts.json")
    accounts.file.update(lambda doc: doc["accounts"].update(
        {f"p{i:04d}": {"account": f"p{i:04d}", "role": "provider", "org": f"单位{i}"} for i in range(3000)}))
    assert accounts.get("p0001").org == "单位1"  # the cache holds the document from here on
    copied: list[int] = []
    real = json.dumps
    monkeypatch.setattr(json, "dumps", lambda obj, *a, **k: copied.append(len(real(obj))) or real(obj, *a, **k))
    mine = accounts.get("p2999")
    assert (mine.account, mine.org, len(accounts)) == ("p2999", "单位2999", 3000)
    assert copied and max(copied) < 500  # the one account, never the 3,000
    part = accounts.file.read_part(lambda doc: doc["accounts"]["p0002"])
    part["org"] = "改过"  # a fresh copy: the cached document is not changed through it
    assert accounts.get("p0002").org == "单位2"
