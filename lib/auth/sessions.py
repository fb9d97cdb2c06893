"""Signed, expiring session tokens, so a sign-in survives a page refresh, and their revocation.

A token is ``<payload>.<signature>``: the payload (base64url JSON) names the account, when it was
issued, when it expires and a random id; the signature is HMAC-SHA256 with a server secret kept in
the data folder (``.session_secret``, mode 0600, created on first use). Signing out puts the token's
id on a revocation list (``sessions_revoked.json``, pruned of expired ids); disabling an account or
resetting its password voids every token issued before (``Account.sessions_valid_after``).
The browser carries the token in a cookie (see ``lib.ui.auth``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from lib.core.files import private_dir

from .accounts import Account, AccountsFile
from .errors import SessionInvalid
from .jsonfile import JsonFile

SECRET_FILE = ".session_secret"
REVOKED_FILE = "sessions_revoked.json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


#: Longer than any token this app issues (an account id of at most 64 characters, times, a nonce).
MAX_TOKEN_CHARS = 1_000


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
        self._secret = _load_secret(folder / SECRET_FILE)
        self._revoked = JsonFile(folder / REVOKED_FILE, default=dict)
        self.accounts = accounts

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode("ascii"), hashlib.sha256).digest())

    def issue(self, account: str, *, now: dt.datetime, hours: float) -> str:
        claims = {"a": account, "i": now.timestamp(), "e": (now + dt.timedelta(hours=hours)).timestamp(),
                  "n": secrets.token_urlsafe(12)}
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        return f"{payload}.{self._sign(payload)}"

    def _claims(self, token: str) -> dict:
        # Whatever the browser sends (a cookie is the browser's to change): not text, not ASCII or too
        # long is as invalid as a wrong signature, never an exception of another kind.
        if not isinstance(token, str) or not token.isascii() or len(token) > MAX_TOKEN_CHARS:
            raise SessionInvalid("登录凭证无效，请重新登录。")
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(signature.encode("ascii"), self._sign(payload).encode("ascii")):
            raise SessionInvalid("登录凭证无效，请重新登录。")
        return json.loads(_unb64(payload))

    def check(self, token: str, *, now: dt.datetime) -> Account:
        """The account a valid token belongs to; raises SessionInvalid (Chinese) otherwise."""
        claims = self._claims(token)
        if claims["e"] <= now.timestamp():
            raise SessionInvalid("登录已过期，请重新登录。")
        if claims["n"] in self._revoked.read():
            raise SessionInvalid("您已退出登录，请重新登录。")
        account = self.accounts.get(claims["a"])
        if account is None or account.disabled:
            raise SessionInvalid("该账号已停用，请联系管理员。")
        if account.sessions_valid_after and claims["i"] < dt.datetime.fromisoformat(account.sessions_valid_after).timestamp():
            raise SessionInvalid("账号的密码或状态已变更，请重新登录。")
        return account

    def is_valid(self, token: str, *, now: dt.datetime) -> bool:
        try:
            self.check(token, now=now)
            return True
        except (SessionInvalid, ValueError, KeyError):
            return False

    def revoke(self, token: str, *, now: dt.datetime) -> None:
        """Void one token (sign-out). A forged token is ignored."""
        try:
            claims = self._claims(token)
        except (SessionInvalid, ValueError):
            return

        def apply(revoked: dict) -> None:
            for nonce in [n for n, exp in revoked.items() if exp <= now.timestamp()]:
                del revoked[nonce]
            revoked[claims["n"]] = claims["e"]

        self._revoked.update(apply)
