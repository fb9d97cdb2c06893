"""Account management from the app (admin only): create, disable, re-enable, reset a password, set
the organisation's 统一社会信用代码 (the forms' own-code fields are answered from it); and the
inspector pool (the province or the admin): an inspector's home city, organisation, declared
conflicts and health declaration, which the inspector draw's 回避 rules read.

Each operation is authorised (``ADMIN``; the pool: ``INSPECTORS``) and audited in the store as
账号管理, without the password.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lib.core import roles as role_keys
from lib.core.records import Actor
from lib.forms.types import quotable
from lib.store.base import Store

from .accounts import CONFLICT_FIELDS, INSPECTOR_FIELDS, TEXT_FIELDS, Account, AccountsFile
from .errors import AccountError
from .passwords import ROUNDS
from .policy import ADMIN, INSPECTORS, authorize

ACTION = "账号管理"
#: What each inspector fact is called in the account list and the audit trail.
INSPECTOR_LABELS = {"city": "所属地市（常住地）", "org": TEXT_FIELDS["org"], "org_city": TEXT_FIELDS["org_city"], **CONFLICT_FIELDS,
                    "health_declared_on": "健康申报日期"}


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
             "最近登录": a.last_sign_in, "创建时间": a.created_at,
             INSPECTOR_LABELS["org_city"]: a.org_city, "回避对象": conflicts_text(a),
             INSPECTOR_LABELS["health_declared_on"]: a.health_declared_on} for a in items]


def conflicts_text(a: Account) -> str:
    """An account's declared conflicts as one text, by kind ("" when none).

    >>> conflicts_text(Account("i", "inspector", conflict_firms=("甲厂", "乙厂")))
    '回避的企业：甲厂、乙厂'
    """
    return "；".join(f"{label}：{'、'.join(getattr(a, key))}" for key, label in CONFLICT_FIELDS.items() if getattr(a, key))


def inspector_pool(store: Store, user: Actor, accounts: AccountsFile) -> list[Account]:
    """The inspector accounts (disabled ones too), in account order, for whoever keeps the pool."""
    authorize(store, user, INSPECTORS)
    return sorted((a for a in accounts.all() if a.role == role_keys.INSPECTOR), key=lambda a: a.account)


def set_inspector(store: Store, user: Actor, accounts: AccountsFile, account: str, *, cities: tuple[str, ...] | None,
                  **facts: Any) -> Account:
    """Change an inspector's draw facts (``AccountsFile.set_inspector``: ``INSPECTOR_FIELDS``, the
    cities checked against ``cities``) and audit what they became. AccountError when refused
    (another role's account, an unknown fact or city, a malformed date): nothing changed then."""
    authorize(store, user, INSPECTORS)
    _existing(accounts, account)
    changed = accounts.set_inspector(account, cities=cities, **facts)
    said = "；".join(f"{INSPECTOR_LABELS[key]}「{_fact_text(changed, key)}」" for key in INSPECTOR_FIELDS if key in facts)
    store.log_event(user, ACTION, note=f"设置检查人员 {account} 的回避与健康申报信息：{said}")
    return changed


def _fact_text(a: Account, key: str) -> str:
    value = getattr(a, key)
    text = "、".join(value) if key in CONFLICT_FIELDS else str(value)
    return quotable(text) if text else "（空）"


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
