"""Signing in with an account and password: lockout after repeated failures, audited, never logging
a password (an unknown account name is not logged either: people type passwords into that box)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lib.store.base import Actor, Store

from .accounts import Account, AccountsFile
from .errors import AccountLocked, SignInError
from .passwords import burn_time, verify_password

WRONG = "账号或密码错误。"
UNKNOWN_ACTOR = Actor(account="（未知账号）", role="")


@dataclass(frozen=True)
class Lockout:
    attempts: int = 5  # wrong passwords in a row that lock the account
    minutes: int = 15


def _locked_message(until: dt.datetime) -> str:
    return f"密码错误次数过多，账号已锁定，请于 {until:%Y-%m-%d %H:%M} 后再试，或联系管理员解锁。"


def authenticate(
    accounts: AccountsFile,
    account: str,
    password: str,
    *,
    now: dt.datetime,
    lockout: Lockout = Lockout(),
    store: Store | None = None,
) -> Account:
    """The account when ``password`` is right; raises SignInError / AccountLocked (Chinese) otherwise.

    Each outcome is written to the audit trail of ``store`` when given (登录 / 登录失败 / 账号锁定).
    """
    account = account.strip()
    found = accounts.get(account) if account else None
    if found is None:
        burn_time(password)
        _event(store, UNKNOWN_ACTOR, "登录失败", "账号不存在")
        raise SignInError(WRONG)
    until = found.locked_at(now)
    if until:
        _event(store, found.actor(), "登录失败", "账号已锁定")
        raise AccountLocked(_locked_message(until))
    if not verify_password(password, found.password_hash):
        after = accounts.record_failure(account, now=now, limit=lockout.attempts, lock_minutes=lockout.minutes)
        until = after.locked_at(now)
        if until:
            _event(store, found.actor(), "账号锁定", f"连续 {lockout.attempts} 次密码错误，锁定 {lockout.minutes} 分钟")
            raise AccountLocked(_locked_message(until))
        _event(store, found.actor(), "登录失败", f"密码错误（第 {after.failed_attempts} 次）")
        left = lockout.attempts - after.failed_attempts
        raise SignInError(WRONG + (f"再错 {left} 次账号将被锁定 {lockout.minutes} 分钟。" if left <= 2 else ""))
    if found.disabled:
        _event(store, found.actor(), "登录失败", "账号已停用")
        raise SignInError("该账号已停用，请联系管理员。")
    signed = accounts.record_success(account, now=now)
    _event(store, found.actor(), "登录", "账号密码登录")
    return signed


def _event(store: Store | None, actor: Actor, action: str, note: str) -> None:
    if store is not None:
        store.log_event(actor, action, note=note)
