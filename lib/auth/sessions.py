"""Signed, expiring session tokens, so a sign-in survives a page refresh, and their revocation.

A token is ``itsdangerous``'s URL-safe signed JSON of the claims: the account, when the token was
issued, when it expires and a random id, signed (HMAC-SHA256) with a server secret kept in the data
folder (``.session_secret``, mode 0600, 32 bytes, created on first use and never seen half-written). The expiry is a claim checked against
the caller's ``now`` (not itsdangerous' timed signer, which reads the system clock). Signing out puts the
token's id on a revocation list (``sessions_revoked.json``, pruned of expired ids); disabling an account
or resetting its password voids every token issued before (``Account.sessions_valid_after``).
The browser carries the token in a cookie (see ``lib.ui.auth``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
import tempfile
from pathlib import Path

from itsdangerous import BadData, URLSafeSerializer

from lib.core.files import FILE_MODE, fsync_dir, private_dir

from .accounts import Account, AccountsFile
from .errors import DataFileError, SessionInvalid
from .jsonfile import JsonFile, lock_for, locked

SECRET_FILE = ".session_secret"
REVOKED_FILE = "sessions_revoked.json"
#: HMAC-SHA256 wants a key of at least its own 32 bytes; a shorter secret (an empty one let anyone sign
#: any account's session) is never signed with.
MIN_SECRET_BYTES = 32
#: Longer than any token this app issues (an account id of at most 64 characters, times, a nonce):
#: a longer cookie is refused before any work is spent on it.
MAX_TOKEN_CHARS = 1_000
#: Keeps these signatures apart from any other use of the same secret.
SALT = "lib.auth.sessions"
#: A time claim is a timestamp within this many seconds of 1970 (±31,000 years): also refuses NaN and infinity.
_TIME_BOUND = 1e12

log = logging.getLogger(__name__)


def _read_secret(path: Path) -> bytes | None:
    """The secret in ``path``; None when the file holds none fit to sign with (empty, short, not hex).
    FileNotFoundError when there is no file; another OSError is a DataFileError naming the file."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:  # the caller makes it
        raise
    except OSError as exc:
        raise DataFileError(f"无法读取登录密钥文件 {path}（{exc.strerror or exc}）：请检查数据目录的权限。",
                            code="file_unreadable") from exc
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except ValueError:  # not ASCII, or not hex
        return None
    return key if len(key) >= MIN_SECRET_BYTES else None


def _load_secret(path: Path) -> bytes:
    """The signing secret of this data folder, made on first use.

    It appears complete or not at all: written to a temp file, fsynced, then renamed into place, under a
    lock so that processes starting together agree on one secret (an O_EXCL create once let a process
    read the file empty between its creation and its write, and sign with an empty key for its life).

    A secret file that is there but unusable — empty or short (a crash or full disk mid-write by an
    older version), not hex (a hand edit) — is replaced by a new secret rather than refused: that only
    asks everyone to sign in again, where refusing would keep the whole office out until someone with
    access to the server deletes a hidden file. Nothing signed with the old value was worth keeping.
    """
    try:
        key = _read_secret(path)
    except FileNotFoundError:
        key = None
    if key:
        return key
    private_dir(path.parent)
    with locked(lock_for(path)):
        try:
            key = _read_secret(path)
            existed = True
        except FileNotFoundError:
            key, existed = None, False
        if key:  # another process made (or remade) it while this one waited for the lock
            return key
        if existed:
            log.warning("登录密钥文件 %s 为空、过短或已损坏：已生成新的密钥，所有人需重新登录。", path)
        key = secrets.token_bytes(MIN_SECRET_BYTES)
        fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(key.hex())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_dir(path.parent)
        return key


def _is_time(value: object) -> bool:
    # Compared, not converted: a huge whole number is refused without an OverflowError.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and -_TIME_BOUND < value < _TIME_BOUND


def _well_formed(claims: object) -> bool:
    """Claims as ``issue`` writes them. A token signed with the right secret but of another shape (only
    who holds the secret can make one) is refused like a forged one, not a TypeError on every page."""
    return (isinstance(claims, dict) and isinstance(claims.get("a"), str) and isinstance(claims.get("n"), str)
            and _is_time(claims.get("i")) and _is_time(claims.get("e")))


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
            claims = self._signed.loads(token)
        except (BadData, UnicodeError, RecursionError) as exc:  # UnicodeError: a lone surrogate cannot be encoded
            raise SessionInvalid("登录凭证无效，请重新登录。", code="session_invalid") from exc
        if not _well_formed(claims):
            raise SessionInvalid("登录凭证无效，请重新登录。", code="session_invalid")
        return claims

    def _revocations(self, revoked: object) -> dict:
        if not isinstance(revoked, dict):  # valid JSON, but not the list this module writes
            raise DataFileError(f"文件 {self._revoked.path} 已损坏（不是退出登录记录），无法确认登录状态：请从备份恢复，"
                                "或联系管理员。", code="file_damaged")
        return revoked

    def check(self, token: str, *, now: dt.datetime) -> Account:
        """The account a valid token belongs to; raises SessionInvalid (Chinese) otherwise."""
        claims = self._claims(token)
        if claims["e"] <= now.timestamp():
            raise SessionInvalid("登录已过期，请重新登录。", code="session_expired")
        if claims["n"] in self._revocations(self._revoked.read()):
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
        """Void one token (sign-out). A forged token is ignored. An entry of the list that is not an
        expiry time (a hand edit) is dropped with the expired ones: it once made every later sign-out
        fail, leaving people signed in. A damaged list is a DataFileError naming the file; the caller
        forgets the session in any case."""
        try:
            claims = self._claims(token)
        except SessionInvalid:
            return

        def apply(revoked: object) -> None:
            revoked = self._revocations(revoked)
            for nonce in [n for n, exp in revoked.items() if not _is_time(exp) or exp <= now.timestamp()]:
                del revoked[nonce]
            revoked[claims["n"]] = claims["e"]

        self._revoked.update(apply)
