"""Password hashing (bcrypt: salted, slow) and the password rule.

A hash is only ever compared here; it is never shown, logged or written to the workbook.

>>> h = hash_password("Demo@2020", rounds=4)
>>> [check_password(p, h, rounds=4) for p in ("Demo@2020", "demo@2020", "Demo@2020" + "x" * 80)]
[True, False, False]
>>> check_password("x", "", rounds=4)
False
"""

from __future__ import annotations

import re

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
        raise AccountError(f"密码至少需要 {MIN_LENGTH} 个字符。", code="password_too_short")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise AccountError(f"密码不能超过 {MAX_BYTES} 个字节。", code="password_too_long")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise AccountError("密码须同时包含字母和数字。", code="password_too_simple")


def hash_password(password: str, *, rounds: int = ROUNDS) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


#: A well-formed bcrypt hash that stands in for a missing one (unknown account, single sign-on
#: account, account locked): checking against it costs what a real check of that cost does. Fixed text
#: with the cost spliced in, so no process pays for making one on its first unknown account.
_DUMMY_SALT_AND_HASH = "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
_BCRYPT_HASH = re.compile(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$")


def _cost(hashed: str) -> int | None:
    """The cost of a bcrypt hash, or None when ``hashed`` is not one.

    >>> _cost(_dummy_hash(12)), _cost(""), _cost("plain")
    (12, None, None)
    """
    match = _BCRYPT_HASH.match(hashed or "")
    cost = int(match.group(1)) if match else None
    return cost if cost is not None and 4 <= cost <= 31 else None  # bcrypt's own range


def _dummy_hash(rounds: int) -> str:
    return f"$2b${rounds:02d}${_DUMMY_SALT_AND_HASH}"


def check_password(password: str, hashed: str, *, rounds: int = ROUNDS) -> bool:
    """Whether ``password`` matches ``hashed``, after the work of one bcrypt check at cost ``rounds``
    whatever the inputs, so the time taken tells nothing about the account:

    * no usable hash (unknown, locked or single sign-on account: pass ""): a dummy hash of cost
      ``rounds`` is checked and the answer is False;
    * a cheaper hash (demo accounts, cost 10): checked ``2 ** (rounds - cost)`` times, which is the
      same work, bcrypt's cost being a power of two;
    * a password over ``MAX_BYTES`` (bcrypt reads 72 bytes; such passwords cannot be set): its first
      72 bytes are checked, then it is refused. No pre-digest, so existing hashes stay valid.
    """
    head = password[: MAX_BYTES + 1].encode("utf-8")  # a character is at least one byte: enough to tell "too long"
    too_long = len(head) > MAX_BYTES
    cost = _cost(hashed)
    target = hashed if cost is not None else _dummy_hash(rounds)
    times = 2 ** (rounds - cost) if cost is not None and cost < rounds else 1
    matched = False
    for _ in range(times):
        matched = bcrypt.checkpw(head[:MAX_BYTES], target.encode("ascii"))
    return matched and cost is not None and not too_long
