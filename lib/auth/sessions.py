"""Signed, expiring session tokens, so a sign-in survives a page refresh, and their revocation.

A token is ``itsdangerous``'s URL-safe signed JSON of the claims: the account, when the token was
issued, when it expires and a random id, signed (HMAC-SHA256) with a server secret kept in the data
folder (``.session_secret``, mode 0600, created on first use). The expiry is a claim checked against
the caller's ``now`` (not itsdangerous' timed signer, which reads the system clock). Signing out puts the
token's id on a revocation list (``sessions_revoked.json``, pruned of expired ids); disabling an account
or resetting its password voids every token issued before (``Account.sessions_valid_after``).
The browser carries the token in a cookie (see ``lib.ui.auth``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path

from itsdangerous import BadData, URLSafeSerializer

from lib.core.files import private_dir

from .accounts import Account, AccountsFile
from .errors import SessionInvalid
from .jsonfile import JsonFile

SECRET_FILE = ".session_secret"
REVOKED_FILE = "sessions_revoked.json"
#: Longer than any token this app issues (an account id of at most 64 characters, times, a nonce):
#: a longer cookie is refused before any work is spent on it.
MAX_TOKEN_CHARS = 1_000
#: Keeps these signatures apart from any other use of the same secret.
SALT = "lib.auth.sessions"


def _load_secret(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(32))
        out.flush()
        os.fsync(out.fileno())
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


class SessionTokens:
    """Issue, check and revoke session tokens for the accounts of ``accounts``.

    >>> import tempfile, pathlib, datetime as dt
    >>> from lib.auth.accounts import Account, AccountsFile
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> accts = AccountsFile(d / "accounts.json")
    >>> _ = accts.add_many([Account("city_gz", "city", city="广州")])
    >>> tokens, now = SessionTokens(d, accts), dt.datetime(2020, 9, 10, 9)
    >>> t = tokens.issue("city_gz", now=now, hours=8)
    >>> tokens.check(t, now=now).city
    '广州'
    >>> tokens.revoke(t, now=now); tokens.is_valid(t, now=now)
    False
    """

    def __init__(self, folder: Path | str, accounts: AccountsFile):
        folder = Path(folder)
        self._signed = URLSafeSerializer(_load_secret(folder / SECRET_FILE), salt=SALT,
                                         signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})
        self._revoked = JsonFile(folder / REVOKED_FILE, default=dict)
        self.accounts = accounts

    def issue(self, account: str, *, now: dt.datetime, hours: float) -> str:
        claims = {"a": account, "i": now.timestamp(), "e": (now + dt.timedelta(hours=hours)).timestamp(),
                  "n": secrets.token_urlsafe(12)}
        return self._signed.dumps(claims)

    def _claims(self, token: str) -> dict:
        # Whatever the browser sends (a cookie is the browser's to change): not text, too long, or any
        # failure to verify and decode is SessionInvalid, never an exception of another kind.
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise SessionInvalid("登录凭证无效，请重新登录。", code="session_invalid")
        try:
            return self._signed.loads(token)
        except BadData as exc:
            raise SessionInvalid("登录凭证无效，请重新登录。", code="session_invalid") from exc

    def check(self, token: str, *, now: dt.datetime) -> Account:
        """The account a valid token belongs to; raises SessionInvalid (Chinese) otherwise."""
        claims = self._claims(token)
        if claims["e"] <= now.timestamp():
            raise SessionInvalid("登录已过期，请重新登录。", code="session_expired")
        if claims["n"] in self._revoked.read():
            raise SessionInvalid("您已退出登录，请重新登录。", code="session_revoked")
        account = self.accounts.get(claims["a"])
        if account is None or account.disabled:
            raise SessionInvalid("该账号已停用，请联系管理员。", code="account_disabled")
        if account.sessions_valid_after and claims["i"] < dt.datetime.fromisoformat(account.sessions_valid_after).timestamp():
            raise SessionInvalid("账号的密码或状态已变更，请重新登录。", code="session_superseded")
        return account

    def is_valid(self, token: str, *, now: dt.datetime) -> bool:
        try:
            self.check(token, now=now)
            return True
        except SessionInvalid:
            return False

    def revoke(self, token: str, *, now: dt.datetime) -> None:
        """Void one token (sign-out). A forged token is ignored."""
        try:
            claims = self._claims(token)
        except SessionInvalid:
            return

        def apply(revoked: dict) -> None:
            for nonce in [n for n, exp in revoked.items() if exp <= now.timestamp()]:
                del revoked[nonce]
            revoked[claims["n"]] = claims["e"]

        self._revoked.update(apply)
