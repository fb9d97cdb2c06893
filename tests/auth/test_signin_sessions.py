"""Password sign-in with lockout, session tokens, the accounts file, single sign-on mapping."""

from __future__ import annotations

import datetime as dt
import functools
import os
import stat
import threading

import pytest

from lib.auth import AccountError, AccountLocked, SessionInvalid, SignInError
from lib.auth.accounts import Account, AccountsFile
from lib.auth.oidc import map_identity
from lib.auth.sessions import SessionTokens
from lib.auth.signin import Lockout, refusal
from lib.auth.signin import authenticate as _authenticate

# every attempt pays one bcrypt check at the cost the test accounts are hashed with
authenticate = functools.partial(_authenticate, rounds=4)
NOW = dt.datetime(2020, 9, 10, 9, 0)
PASSWORD = "Gz@2020pass"


@pytest.fixture
def gz(accounts):
    return accounts.create(Account("city_gz", "city", org="广州市工业和信息化局", city="广州", email="GZ@example.cn"),
                           PASSWORD, now=NOW, rounds=4)


def test_right_password_signs_in_and_is_audited(accounts, gz, store):
    signed = authenticate(accounts, "city_gz", PASSWORD, now=NOW, store=store)
    assert signed.actor().city == "广州" and signed.last_sign_in
    assert [e.action for e in store.audit() if e.account == "city_gz" and not e.form_id] == ["登录"]


def test_five_wrong_passwords_lock_for_fifteen_minutes(accounts, gz, store):
    for i in range(4):
        with pytest.raises(SignInError) as wrong:
            authenticate(accounts, "city_gz", f"wrong{i}", now=NOW, store=store)
        assert not isinstance(wrong.value, AccountLocked) and str(wrong.value) == refusal(Lockout())
    with pytest.raises(AccountLocked) as locked:
        authenticate(accounts, "city_gz", "wrong5", now=NOW, store=store)
    assert str(locked.value) == refusal(Lockout())  # the same words: the lock is in the audit, not on the page
    with pytest.raises(AccountLocked):  # even the right password, while locked
        authenticate(accounts, "city_gz", PASSWORD, now=NOW + dt.timedelta(minutes=14), store=store)
    assert authenticate(accounts, "city_gz", PASSWORD, now=NOW + dt.timedelta(minutes=15, seconds=1)).account == "city_gz"
    actions = [e.action for e in store.audit() if e.account == "city_gz" and not e.form_id]
    assert actions.count("登录失败") == 5 and actions.count("账号锁定") == 1


def test_a_success_resets_the_count(accounts, gz):
    for _ in range(4):
        with pytest.raises(SignInError):
            authenticate(accounts, "city_gz", "nope", now=NOW)
    authenticate(accounts, "city_gz", PASSWORD, now=NOW)
    for _ in range(4):
        with pytest.raises(SignInError):
            authenticate(accounts, "city_gz", "nope", now=NOW)
    assert accounts.get("city_gz").locked_at(NOW) is None


def test_lockout_is_configurable(accounts, gz):
    with pytest.raises(AccountLocked):
        authenticate(accounts, "city_gz", "nope", now=NOW, lockout=Lockout(attempts=1, minutes=1))


def test_unknown_and_disabled_accounts(accounts, gz, store):
    with pytest.raises(SignInError) as unknown:
        authenticate(accounts, "Gz@2020pass", "x", now=NOW, store=store)  # a password typed as account
    assert unknown.value.code == "sign_in" and str(unknown.value) == refusal(Lockout())
    accounts.set_disabled("city_gz", True, now=NOW)
    with pytest.raises(SignInError) as disabled:  # a right password on a disabled account says no more
        authenticate(accounts, "city_gz", PASSWORD, now=NOW, store=store)
    assert disabled.value.code == "sign_in" and str(disabled.value) == refusal(Lockout())
    assert [e.note for e in store.audit() if e.action == "登录失败"] == ["账号不存在", "账号已停用"]
    assert all("Gz@2020pass" not in e.account + e.note for e in store.audit())


def test_no_password_or_hash_in_the_log_the_workbook_or_a_repr(accounts, gz, store):
    authenticate(accounts, "city_gz", PASSWORD, now=NOW, store=store)
    with pytest.raises(SignInError):
        authenticate(accounts, "city_gz", PASSWORD + "x", now=NOW, store=store)
    store.flush_workbook()
    hashed = accounts.get("city_gz").password_hash
    assert hashed.startswith("$2")
    for path in store.data_dir.iterdir():
        if path.is_file() and path.name != "accounts.json":
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and hashed.encode() not in data, path.name
    assert hashed not in repr(accounts.get("city_gz")) and "password_hash" not in accounts.get("city_gz").public()
    assert stat.S_IMODE(os.stat(accounts.path).st_mode) == 0o600
    assert PASSWORD not in accounts.path.read_text(encoding="utf-8")


@pytest.mark.parametrize("account, code", [
    (Account("a b", "province"), "bad_account_id"),
    (Account("city_x", "city"), "city_required"),
    (Account("city_x", "city", city="纽约"), "unknown_city"),
    (Account("p1", "provider"), "org_required"),
    (Account("x1", "king"), "unknown_role"),
    (Account("p2", "provider", org="某公司", org_code="91440101MA59ABCDE1"), "bad_credit_code"),
    (Account("p3", "provider", org="某" * 101), "text_too_long"),
    (Account("p4", "provider", org="\u202e某公司"), "hidden_character"),
])
def test_bad_accounts_are_refused(accounts, account, code):
    with pytest.raises(AccountError) as refused:
        accounts.create(account, PASSWORD, roles={"province": "", "city": "", "provider": ""}, cities=("广州",), rounds=4)
    assert refused.value.code == code
    assert accounts.get(account.account) is None


@pytest.mark.parametrize("password, code", [("short1", "password_too_short"), ("onlyletters", "password_too_simple"),
                                            ("12345678901", "password_too_simple"), ("A1" + "长" * 24, "password_too_long")])
def test_weak_passwords_are_refused(accounts, password, code):
    with pytest.raises(AccountError) as refused:
        accounts.create(Account("p9", "province"), password, rounds=4)
    assert refused.value.code == code and accounts.get("p9") is None


def test_taken_id_is_refused(accounts, gz):
    with pytest.raises(AccountError) as taken:
        accounts.create(Account("city_gz", "city", city="广州"), PASSWORD, rounds=4)
    assert taken.value.code == "account_exists"


def test_concurrent_changes_from_many_threads_lose_nothing(accounts):
    def add(i):
        accounts.add_many([Account(f"u{i:02d}", "inspector")])

    threads = [threading.Thread(target=add, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accounts) == 20
    assert not list(accounts.path.parent.glob(".accounts.json.*.tmp"))


# --- sessions ----------------------------------------------------------------------------------


@pytest.fixture
def tokens(tmp_path, accounts, gz):
    return SessionTokens(tmp_path / "data", accounts)


def test_token_survives_a_new_process_until_it_expires(tmp_path, accounts, tokens):
    token = tokens.issue("city_gz", now=NOW, hours=8)
    again = SessionTokens(tmp_path / "data", AccountsFile(accounts.path))  # another process: same secret file
    assert again.check(token, now=NOW + dt.timedelta(hours=7)).account == "city_gz"
    with pytest.raises(SessionInvalid) as expired:
        again.check(token, now=NOW + dt.timedelta(hours=8, seconds=1))
    assert expired.value.code == "session_expired"
    assert stat.S_IMODE(os.stat(tmp_path / "data" / ".session_secret").st_mode) == 0o600


def test_forged_tokens_are_refused(tmp_path, accounts, tokens):
    from itsdangerous import URLSafeSerializer

    token = tokens.issue("city_gz", now=NOW, hours=8)
    payload, sig = token.rsplit(".", 1)
    reader = URLSafeSerializer("not the secret")  # decodes a payload without checking its signature
    claims = reader.load_payload(payload.encode())
    assert claims["a"] == "city_gz"
    claims["a"] = "province"
    forged = reader.dump_payload(claims).decode() + "." + sig  # another account, the genuine signature
    elsewhere = SessionTokens(tmp_path / "other", accounts).issue("city_gz", now=NOW, hours=8)  # another secret
    for bad in (forged, elsewhere, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "", "garbage"):
        with pytest.raises(SessionInvalid) as refused:
            tokens.check(bad, now=NOW)
        assert refused.value.code == "session_invalid"
        assert not tokens.is_valid(bad, now=NOW)
    assert tokens.check(token, now=NOW).account == "city_gz"


def test_sign_out_revokes_the_token(tokens):
    token = tokens.issue("city_gz", now=NOW, hours=8)
    other = tokens.issue("city_gz", now=NOW, hours=8)
    tokens.revoke(token, now=NOW)
    with pytest.raises(SessionInvalid) as revoked:
        tokens.check(token, now=NOW)
    assert revoked.value.code == "session_revoked"
    assert tokens.is_valid(other, now=NOW)  # another device stays signed in


def test_disabling_or_a_new_password_ends_every_session(accounts, tokens):
    token = tokens.issue("city_gz", now=NOW, hours=8)
    accounts.set_password("city_gz", "New@2020pass", now=NOW + dt.timedelta(minutes=1), rounds=4)
    with pytest.raises(SessionInvalid) as superseded:
        tokens.check(token, now=NOW + dt.timedelta(minutes=2))
    assert superseded.value.code == "session_superseded"
    fresh = tokens.issue("city_gz", now=NOW + dt.timedelta(minutes=3), hours=8)
    assert tokens.is_valid(fresh, now=NOW + dt.timedelta(minutes=3))
    accounts.set_disabled("city_gz", True, now=NOW + dt.timedelta(minutes=4))
    with pytest.raises(SessionInvalid) as disabled:
        tokens.check(fresh, now=NOW + dt.timedelta(minutes=5))
    assert disabled.value.code == "account_disabled"


# --- single sign-on ----------------------------------------------------------------------------


def test_oidc_identity_maps_to_the_account_by_email(accounts, gz):
    assert map_identity({"email": "gz@Example.cn", "email_verified": True}, accounts).account == "city_gz"
    assert map_identity({"sub": "city_gz"}, accounts, claim="sub").city == "广州"


@pytest.mark.parametrize("claims, code", [
    ({"email": "nobody@example.cn"}, "sso_no_account"),
    ({"email": "gz@example.cn", "email_verified": False}, "sso_email_unverified"),
    ({"name": "张三"}, "sso_claim_missing"),
])
def test_oidc_identity_without_an_account_is_refused(accounts, gz, claims, code):
    with pytest.raises(SignInError) as refused:
        map_identity(claims, accounts)
    assert refused.value.code == code


def test_oidc_disabled_or_ambiguous_accounts_are_refused(accounts, gz):
    accounts.add_many([Account("city_gz2", "city", city="广州", email="gz@example.cn")])
    with pytest.raises(SignInError) as ambiguous:
        map_identity({"email": "gz@example.cn"}, accounts)
    assert ambiguous.value.code == "sso_ambiguous"
    accounts.set_disabled("city_gz2", True, now=NOW)
    accounts.set_disabled("city_gz", True, now=NOW)
    with pytest.raises(SignInError) as still:
        map_identity({"email": "gz@example.cn"}, accounts)
    assert still.value.code == "sso_ambiguous"
    accounts.add_many([Account("city_sz", "city", city="深圳", email="sz@example.cn", disabled=True)])
    with pytest.raises(SignInError) as disabled:
        map_identity({"email": "sz@example.cn"}, accounts)
    assert disabled.value.code == "account_disabled"


def test_accounts_and_session_secret_live_in_a_private_folder(tmp_path):
    import stat

    from lib.auth.accounts import AccountsFile
    from lib.auth.sessions import SessionTokens

    data = tmp_path / "data"
    accounts = AccountsFile(data / "accounts.json")
    tokens = SessionTokens(data, accounts)
    accounts.add_many([Account("city_gz", "city", city="广州")])
    tokens.revoke(tokens.issue("city_gz", now=NOW, hours=8), now=NOW)  # writes the revocation list
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    names = {path.name for path in data.iterdir()}
    assert {"accounts.json", "sessions_revoked.json", ".session_secret"} <= names
    for path in data.iterdir():  # the lock files too, whatever the umask
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


@pytest.mark.parametrize("token", ["abc.签名", "签名.abc", "a" * 5000 + ".x", "\x00.\x00", ".", "", None, 12345, "é"])
def test_any_cookie_the_browser_sends_is_a_valid_token_or_session_invalid(tmp_path, token):
    """A cookie is the browser's to change: a non-ASCII signature once raised TypeError on every page run."""
    import datetime as dt

    from lib.auth.accounts import AccountsFile
    from lib.auth.errors import SessionInvalid
    from lib.auth.sessions import SessionTokens

    tokens = SessionTokens(tmp_path / "data", AccountsFile(tmp_path / "data" / "accounts.json"))
    with pytest.raises(SessionInvalid) as refused:
        tokens.check(token, now=dt.datetime.now())
    assert refused.value.code == "session_invalid"
    tokens.revoke(token, now=dt.datetime.now())  # signing out with it is ignored, not an error
    assert not (tmp_path / "data" / "sessions_revoked.json").exists()
