"""Signing in with an account and password: lockout after repeated failures, audited, never logging
a password (an unknown account name is not logged either: people type passwords into that box).

A refusal tells the person nothing about the account: every failure (unknown account, wrong
password, locked, disabled, a password too long to be one) gives the same message after the same
work — one bcrypt check at the configured cost (``passwords.check_password``) and one locked, fsynced
rewrite of the accounts file (``AccountsFile.reserve_attempt``). The attempt is counted
under the accounts-file lock before the password is checked (``AccountsFile.reserve_attempt``), so
parallel attempts cannot check more passwords than the lockout allows. The audit trail, which only
the province and the administrator read, records the true reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.core.records import Actor

from .accounts import Account, AccountsFile
from .errors import AccountLocked, SignInError
from .passwords import ROUNDS, check_password

if TYPE_CHECKING:  # only its type: signing in needs no store backend loaded (the caller passes one in)
    from lib.store.base import Store

UNKNOWN_ACTOR = Actor(account="（未知账号）", role="")
MAX_ACCOUNT = 64  # no account id is longer (accounts.ACCOUNT_ID)


@dataclass(frozen=True)
class Lockout:
    attempts: int = 5  # wrong passwords in a row that lock the account
    minutes: int = 15


def refusal(lockout: Lockout) -> str:
    """The one message of every failed sign-in (it states the rule, never an account's state)."""
    return (f"账号或密码错误，或账号已锁定、停用。连续 {lockout.attempts} 次输错密码，账号将锁定 {lockout.minutes} 分钟；"
            "无法登录请联系管理员。")


def authenticate(
    accounts: AccountsFile,
    account: str,
    password: str,
    *,
    now: dt.datetime,
    lockout: Lockout = Lockout(),
    store: Store | None = None,
    rounds: int = ROUNDS,
) -> Account:
    """The account when ``password`` is right and the account may sign in; otherwise SignInError
    (AccountLocked when a lock refused it or this attempt locked it) with ``refusal(lockout)``.

    Each outcome is written to the audit trail of ``store`` when given (登录 / 登录失败 / 账号锁定).
    ``rounds``: the bcrypt cost every attempt pays (the cost real accounts are hashed with).
    """
    # Every name takes the same path (an empty or over-long one too, cut to a length no account id
    # has, so it is found by no one): the file work of the attempt is no hint either.
    account = account.strip()[: MAX_ACCOUNT + 1]
    attempt = accounts.reserve_attempt(account, now=now, limit=lockout.attempts, lock_minutes=lockout.minutes)
    found = attempt.account
    checkable = found is not None and attempt.locked_until is None
    right = check_password(password, found.password_hash if checkable else "", rounds=rounds)
    if found is None:
        _event(store, UNKNOWN_ACTOR, "登录失败", "账号不存在")
        raise SignInError(refusal(lockout))
    if attempt.locked_until is not None:
        _event(store, found.actor(), "登录失败", f"账号已锁定（至 {attempt.locked_until:%Y-%m-%d %H:%M}）")
        raise AccountLocked(refusal(lockout))
    if not right:
        if attempt.locks:
            _event(store, found.actor(), "账号锁定", f"连续 {lockout.attempts} 次密码错误，锁定 {lockout.minutes} 分钟")
            raise AccountLocked(refusal(lockout))
        _event(store, found.actor(), "登录失败", f"密码错误（连续第 {attempt.failures} 次）")
        raise SignInError(refusal(lockout))
    if found.disabled:
        _event(store, found.actor(), "登录失败", "账号已停用")
        raise SignInError(refusal(lockout))
    signed = accounts.record_success(account, now=now)
    _event(store, found.actor(), "登录", "账号密码登录")
    return signed


def _event(store: Store | None, actor: Actor, action: str, note: str) -> None:
    if store is not None:
        store.log_event(actor, action, note=note)
