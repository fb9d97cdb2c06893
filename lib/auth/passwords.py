"""Password hashing (bcrypt: salted, slow) and the password rule.

A hash is only ever compared here; it is never shown, logged or written to the workbook.

>>> h = hash_password("Demo@2020", rounds=4)
>>> verify_password("Demo@2020", h), verify_password("demo@2020", h), verify_password("x", "")
(True, False, False)
"""

from __future__ import annotations

import functools

import bcrypt

from .errors import AccountError

#: bcrypt cost of real accounts (about 0.2 s per check on the project machine).
ROUNDS = 12
MIN_LENGTH = 8
#: bcrypt looks at the first 72 bytes only; longer passwords are refused instead of cut silently.
MAX_BYTES = 72


def check_policy(password: str) -> None:
    """Raise AccountError (Chinese) unless ``password`` is 8+ characters with a letter and a digit."""
    if len(password) < MIN_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_LENGTH} 个字符。")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise AccountError(f"密码不能超过 {MAX_BYTES} 个字节。")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise AccountError("密码须同时包含字母和数字。")


def hash_password(password: str, *, rounds: int = ROUNDS) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


@functools.cache
def _dummy_hash() -> bytes:
    return hash_password("no-such-account-0", rounds=ROUNDS).encode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """True when ``password`` matches ``hashed``. An empty hash (single sign-on account) never matches."""
    if not hashed:
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
    except ValueError:  # not a bcrypt hash, or a password bcrypt refuses
        return False


def burn_time(password: str) -> None:
    """Spend what a check costs, so an unknown account answers as slowly as a known one."""
    bcrypt.checkpw(password.encode("utf-8")[:MAX_BYTES], _dummy_hash())
