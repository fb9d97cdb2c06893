"""Account management from the app (admin only): create, disable, re-enable, reset a password, set
the organisation's 统一社会信用代码 (the forms' own-code fields are answered from it).

Each operation is authorised (``ADMIN``) and audited in the store as 账号管理, without the password.
"""

from __future__ import annotations

import datetime as dt

from lib.core.records import Actor
from lib.store.base import Store

from .accounts import Account, AccountsFile
from .errors import AccountError
from .passwords import ROUNDS
from .policy import ADMIN, authorize

ACTION = "账号管理"


def list_accounts(store: Store, user: Actor, accounts: AccountsFile) -> list[Account]:
    authorize(store, user, ADMIN)
    return sorted(accounts.all(), key=lambda a: (a.role, a.city, a.account))


def create_account(
    store: Store,
    user: Actor,
    accounts: AccountsFile,
    new: Account,
    password: str | None,
    *,
    roles: dict[str, str],
    cities: tuple[str, ...],
    now: dt.datetime,
    rounds: int = ROUNDS,
) -> Account:
    """Add an account (``password`` None: single sign-on only). AccountError when refused."""
    authorize(store, user, ADMIN)
    created = accounts.create(new, password, roles=roles, cities=cities, now=now, rounds=rounds)
    where = "、".join(x for x in (roles.get(new.role, new.role), new.city, new.org, created.org_code) if x)
    store.log_event(user, ACTION, note=f"创建账号 {new.account}（{where}）")
    return created


def account_table(items: list[Account], roles: dict[str, str], *, now: dt.datetime) -> list[dict]:
    """Display rows (Chinese columns, no hash) for the account list."""
    def status(a: Account) -> str:
        if a.disabled:
            return "停用"
        until = a.locked_at(now)
        return f"锁定至 {until:%H:%M}" if until else "启用"

    return [{"账号": a.account, "角色": roles.get(a.role, a.role), "地市": a.city, "单位": a.org,
             "统一社会信用代码": a.org_code, "姓名": a.name,
             "电子邮箱": a.email, "状态": status(a), "登录方式": "密码" if a.password_hash else "统一身份认证",
             "最近登录": a.last_sign_in, "创建时间": a.created_at} for a in items]


def _existing(accounts: AccountsFile, account: str) -> Account:
    found = accounts.get(account)
    if found is None:
        raise AccountError(f"账号 {account} 不存在。", code="no_such_account")
    return found


def set_disabled(store: Store, user: Actor, accounts: AccountsFile, account: str, disabled: bool, *, now: dt.datetime) -> Account:
    """Disable (ends its sessions at once) or re-enable (also lifts a lock) an account."""
    authorize(store, user, ADMIN)
    _existing(accounts, account)
    if disabled and account == user.account:
        raise AccountError("不能停用当前登录的管理员账号。", code="self_disable")
    changed = accounts.set_disabled(account, disabled, now=now)
    store.log_event(user, ACTION, note=f"{'停用' if disabled else '启用'}账号 {account}")
    return changed


def reset_password(
    store: Store, user: Actor, accounts: AccountsFile, account: str, password: str, *, now: dt.datetime, rounds: int = ROUNDS
) -> Account:
    """Set a new password (ends the account's sessions, lifts a lock). The password is not logged."""
    authorize(store, user, ADMIN)
    _existing(accounts, account)
    changed = accounts.set_password(account, password, now=now, rounds=rounds)
    store.log_event(user, ACTION, note=f"重置账号 {account} 的密码")
    return changed


def set_org_code(store: Store, user: Actor, accounts: AccountsFile, account: str, org_code: str) -> Account:
    """Set (or clear, with "") the account's organisation credit code; AccountError when malformed."""
    authorize(store, user, ADMIN)
    _existing(accounts, account)
    changed = accounts.set_org_code(account, org_code)
    store.log_event(user, ACTION, note=f"设置账号 {account} 的单位统一社会信用代码为「{changed.org_code or '（空）'}」")
    return changed
