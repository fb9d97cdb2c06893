"""Accounts: who may sign in, with which role, city and organisation. Kept in one JSON file
(default ``data/accounts.json``, mode 0600) that is NOT a store sheet: hashes never reach the workbook.

An inspector's account also carries what the inspector draw's 回避 rules read (``lib/sampling/inspectors.py``):
its ``city`` is the inspector's home city, ``org_city`` the city of its organisation, the declared
conflicts (providers, firms, lead units it must not inspect) and the date of its latest health declaration.

Every change is a locked, atomic rewrite of the file (see ``JsonFile``), so several app processes
may share it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.core import roles as role_keys
from lib.core.records import Actor
from lib.core.text import hidden_character, quotable
from lib.forms.types import is_credit_code

from .errors import AccountError
from .jsonfile import JsonFile
from .passwords import ROUNDS, check_policy, hash_password

ACCOUNT_ID = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
#: The account's own texts, checked by the character rules of answers (lib/core/text.py), and their bound.
TEXT_FIELDS = {"org": "单位名称", "name": "显示名称", "city": "所属地市", "email": "邮箱", "org_city": "单位所在地市"}
MAX_TEXT = 100
#: An inspector's declared conflicts of interest, by kind: the names (or 统一社会信用代码) of the organisations
#: it must not inspect.
CONFLICT_FIELDS = {"conflict_providers": "回避的服务提供方", "conflict_firms": "回避的企业", "conflict_lead_units": "回避的项目牵头方"}
#: How a declared conflict is matched (``lib.sampling.inspectors.party_key``), for the help of whatever form
#: or command sets it.
CONFLICT_HELP = ("填单位全称或统一社会信用代码；比较时不计空格、全半角、大小写、开头的省名、地市名和末尾的组织形式"
                 "（有限公司、有限责任公司、股份有限公司等）；与台账和填报表中任何单位都对不上的名称会在抽取检查员前列出")
#: What ``AccountsFile.set_inspector`` may change: the facts the inspector draw reads.
INSPECTOR_FIELDS = ("city", "org", "org_city", *CONFLICT_FIELDS, "health_declared_on")
#: A bound on each conflict list, so that a pasted register cannot make every draw slow.
MAX_CONFLICTS = 200


@dataclass(frozen=True)
class Account:
    """One account. ``password_hash`` is excluded from repr so it cannot leak into a log line."""

    account: str
    role: str
    org: str = ""
    city: str = ""
    org_code: str = ""  # the organisation's 统一社会信用代码 (prefills and locks the forms' own-code fields)
    name: str = ""
    email: str = ""
    disabled: bool = False
    password_hash: str = field(default="", repr=False)
    failed_attempts: int = 0
    locked_until: str = ""  # ISO datetime or ""
    sessions_valid_after: str = ""  # sessions issued before this are void (disable, password reset)
    created_at: str = ""
    last_sign_in: str = ""
    # The inspector draw's facts (an inspector's ``city`` is its home city):
    org_city: str = ""
    conflict_providers: tuple[str, ...] = ()
    conflict_firms: tuple[str, ...] = ()
    conflict_lead_units: tuple[str, ...] = ()
    health_declared_on: str = ""  # ISO date of the latest health declaration, or ""

    def actor(self) -> Actor:
        return Actor(account=self.account, role=self.role, org=self.org, city=self.city, org_code=self.org_code)

    def locked_at(self, now: dt.datetime) -> dt.datetime | None:
        """When the lock ends, if the account is locked at ``now``."""
        if self.locked_until:
            until = dt.datetime.fromisoformat(self.locked_until)
            if until > now:
                return until
        return None

    def public(self) -> dict[str, Any]:
        """Every field but the hash (what a page may show)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "password_hash"}


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt, reserved (see ``AccountsFile.reserve_attempt``) before its password is checked."""

    account: Account | None  # as it was before the attempt; None: no such account
    locked_until: dt.datetime | None = None  # locked already: refuse without checking the password
    failures: int = 0  # wrong passwords in a row, this one included, should it be wrong
    locks: bool = False  # this attempt locked the account (it stays locked unless the password is right)


def _empty() -> dict[str, Any]:
    return {"format": 1, "accounts": {}}


def _fields() -> set[str]:
    return {f.name for f in dataclasses.fields(Account)}


def _account(raw: dict[str, Any]) -> Account:
    """An Account from its stored form: unknown keys left out, the lists JSON made of tuples made tuples."""
    known = _fields()
    return Account(**{k: tuple(v) if k in CONFLICT_FIELDS else v for k, v in raw.items() if k in known})


class AccountsFile:
    """The accounts file. Methods that change an account return the changed Account."""

    def __init__(self, path: Path | str):
        self.file = JsonFile(Path(path), default=_empty)

    @property
    def path(self) -> Path:
        return self.file.path

    # --- reading ---------------------------------------------------------------------------

    def all(self) -> list[Account]:
        return [_account(a) for a in self.file.read()["accounts"].values()]

    def get(self, account: str) -> Account | None:
        raw = self.file.read_part(lambda doc: doc["accounts"].get(account))
        return None if raw is None else _account(raw)

    def find_by(self, key: str, value: str) -> list[Account]:
        """Accounts whose ``key`` (e.g. email) equals ``value``, ignoring case and spaces."""
        want = value.strip().casefold()
        return [a for a in self.all() if want and str(getattr(a, key, "")).strip().casefold() == want]

    def __len__(self) -> int:
        return self.file.read_part(lambda doc: len(doc["accounts"]))

    # --- writing ---------------------------------------------------------------------------

    def _change(self, account: str, **changes: Any) -> Account:
        def apply(doc):
            if account not in doc["accounts"]:
                raise AccountError(f"账号 {account} 不存在。", code="no_such_account")
            doc["accounts"][account].update(changes)

        self.file.update(apply)
        return self.get(account)

    def create(
        self,
        new: Account,
        password: str | None,
        *,
        roles: dict[str, str] | None = None,
        cities: tuple[str, ...] | None = None,
        now: dt.datetime | None = None,
        rounds: int = ROUNDS,
    ) -> Account:
        """Add ``new`` with ``password`` (None: a single sign-on account that has no password).

        Raises AccountError for a taken or malformed account id, an unknown role or city, a missing
        organisation, or a password that breaks the rule.
        """
        new = dataclasses.replace(new, org_code=normal_org_code(new.org_code))
        validate(new, roles=roles, cities=cities)
        if password is not None:
            check_policy(password)
        hashed = hash_password(password, rounds=rounds) if password is not None else ""
        stamp = (now or dt.datetime.now()).isoformat(timespec="seconds")
        record = dataclasses.replace(new, password_hash=hashed, created_at=new.created_at or stamp)
        self.add_many([record], replace=False)
        return self.get(new.account)

    def add_many(self, accounts: list[Account], *, replace: bool = False) -> int:
        """Write accounts that carry their hash already (demo seeding); existing ids are kept unless
        ``replace``. Returns how many were written. Raises AccountError for a taken id when one alone."""

        def apply(doc):
            written = 0
            for a in accounts:
                if a.account in doc["accounts"] and not replace:
                    if len(accounts) == 1:
                        raise AccountError(f"账号 {a.account} 已存在。", code="account_exists")
                    continue
                doc["accounts"][a.account] = dataclasses.asdict(a)
                written += 1
            return written

        return self.file.update(apply)

    def set_disabled(self, account: str, disabled: bool, *, now: dt.datetime) -> Account:
        """Disable (signing out every session of it) or re-enable an account."""
        changes: dict[str, Any] = {"disabled": disabled}
        if disabled:
            changes["sessions_valid_after"] = now.isoformat()
        else:
            changes |= {"failed_attempts": 0, "locked_until": ""}
        return self._change(account, **changes)

    def set_password(self, account: str, password: str, *, now: dt.datetime, rounds: int = ROUNDS) -> Account:
        """New password: ends every session of the account and lifts a lock."""
        check_policy(password)
        return self._change(account, password_hash=hash_password(password, rounds=rounds),
                            sessions_valid_after=now.isoformat(), failed_attempts=0, locked_until="")

    def set_org_code(self, account: str, org_code: str) -> Account:
        """Set (or clear, with "") the organisation's 统一社会信用代码; AccountError when malformed."""
        code = normal_org_code(org_code)
        current = self.get(account)
        if current is None:
            raise AccountError(f"账号 {account} 不存在。", code="no_such_account")
        validate(dataclasses.replace(current, org_code=code))
        return self._change(account, org_code=code)

    def set_inspector(self, account: str, *, cities: tuple[str, ...] | None = None, **facts: Any) -> Account:
        """Change an inspector's draw facts (``INSPECTOR_FIELDS``: home city, organisation, its city, the
        declared conflicts as lists of names, the health declaration's date as a ``date`` or ISO text).

        Names are kept as typed, without blanks at their ends, empty and repeated ones dropped.
        Raises AccountError for another role's account, an unknown fact, a city not in ``cities``, a
        malformed date or one after today, or a malformed name; nothing is written then.
        """
        unknown = sorted(set(facts) - set(INSPECTOR_FIELDS))
        if unknown:
            raise AccountError(f"检查员信息中没有「{'、'.join(unknown)}」这一项。", code="unknown_inspector_fact")
        current = self.get(account)
        if current is None:
            raise AccountError(f"账号 {account} 不存在。", code="no_such_account")
        if current.role != role_keys.INSPECTOR:
            raise AccountError(f"账号 {account} 不是检查员账号，不能填写回避与健康申报信息。", code="not_an_inspector")
        for key in CONFLICT_FIELDS:
            if key in facts:
                names = [facts[key]] if isinstance(facts[key], str) else facts[key]  # one name, not its characters
                facts[key] = tuple(dict.fromkeys(str(n).strip() for n in names if n and str(n).strip()))
        if "health_declared_on" in facts:
            facts["health_declared_on"] = _iso_date(facts["health_declared_on"])
        changed = dataclasses.replace(current, **facts)
        validate(changed, cities=cities)
        declared = facts.get("health_declared_on")
        if declared and dt.date.fromisoformat(declared) > dt.date.today():
            # A declaration cannot be dated after the day it is entered: such a date (a typo for the year,
            # say) would silently keep the inspector out of every draw until that day.
            raise AccountError(f"健康申报日期 {declared} 晚于今天：请填写实际申报的日期。", code="health_date_future")
        return self._change(account, **{k: list(v) if k in CONFLICT_FIELDS else v for k, v in facts.items()})

    def reserve_attempt(self, account: str, *, now: dt.datetime, limit: int, lock_minutes: int) -> Attempt:
        """Count a sign-in attempt as a wrong password BEFORE its password is checked, under the file
        lock, so parallel attempts cannot all slip under the limit: the ``limit``-th attempt in a row
        locks the account for ``lock_minutes`` at once (a right password lifts it: ``record_success``).
        An attempt on a locked account is not counted.

        Every attempt does the same file work — lock, read, one atomic rewrite with its fsyncs — for
        an unknown account and a locked one too (their rewrite changes nothing): otherwise the time
        of the write (tens of ms against a bcrypt jitter of a few) tells real accounts from unknown ones."""

        def apply(doc) -> Attempt:
            raw = doc["accounts"].get(account)
            if raw is None:
                return Attempt(None)
            found = _account(raw)
            until = found.locked_at(now)
            if until:
                return Attempt(found, locked_until=until)
            failures = int(raw.get("failed_attempts", 0)) + 1
            locks = failures >= limit
            raw["failed_attempts"] = 0 if locks else failures
            if locks:
                raw["locked_until"] = (now + dt.timedelta(minutes=lock_minutes)).isoformat()
            return Attempt(found, failures=failures, locks=locks)

        return self.file.update(apply, always_write=True)

    def record_success(self, account: str, *, now: dt.datetime) -> Account:
        return self._change(account, failed_attempts=0, locked_until="", last_sign_in=now.isoformat(timespec="seconds"))


def normal_org_code(code: str) -> str:
    """A credit code as stored: width-folded, upper case, no blanks (``ｍａ`` typed on a phone is ``MA``).

    >>> normal_org_code(" 91440101ma59abcdem ")
    '91440101MA59ABCDEM'
    """
    return "".join(unicodedata.normalize("NFKC", code or "").split()).upper()


def validate(a: Account, *, roles: dict[str, str] | None = None, cities: tuple[str, ...] | None = None) -> None:
    """Raise AccountError (Chinese) when an account's id, role, city or organisation is not acceptable.

    The role must be one of ``lib.core.roles``; ``roles`` (the campaign's names, key -> name) names it in
    the message. An account whose role reaches rows by city (``lib.auth.policy``) names its city; one
    that reaches its organisation's rows names the organisation.
    """
    if not ACCOUNT_ID.match(a.account):
        raise AccountError("账号只能包含字母、数字和 _ . @ -，长度 2–64。", code="bad_account_id")
    for key, label in TEXT_FIELDS.items():
        text = str(getattr(a, key) or "")
        if len(text) > MAX_TEXT:
            raise AccountError(f"{label}超过 {MAX_TEXT} 个字，请检查是否粘贴了多余内容。", code="text_too_long")
        bad = hidden_character(text)
        if bad:  # the organisation fills locked fields of its forms, which the answer rules would refuse
            raise AccountError(f"{label}「{quotable(text)}」含有控制字符、换行、改变文字方向或不可见的字符（{bad}），请删除后重新输入。",
                               code="hidden_character")
    if a.role not in role_keys.ALL:
        raise AccountError(f"角色「{a.role}」不存在。", code="unknown_role")
    who = f"{roles[a.role]}账号" if roles and roles.get(a.role) else "该角色的账号"
    if a.role == role_keys.CITY and not a.city:
        raise AccountError(f"{who}必须选择所属地市。", code="city_required")
    if cities is not None and a.city and a.city not in cities:
        raise AccountError(f"地市「{a.city}」不在活动配置的地市名单中。", code="unknown_city")
    if a.role in role_keys.ORG_ROLES and not a.org.strip():
        raise AccountError(f"{who}必须填写单位名称。", code="org_required")
    if a.org_code and not is_credit_code(a.org_code):
        raise AccountError(f"单位统一社会信用代码「{a.org_code[:40]}」无效（18 位，校验位须相符）。", code="bad_credit_code")
    _validate_inspector_facts(a, cities)


def _iso_date(value: Any) -> str:
    """A date as stored (ISO), from a date, a datetime or a text that reads as one; other text as typed,
    for ``validate`` to refuse.

    >>> _iso_date(dt.datetime(2026, 9, 20, 8, 30)), _iso_date(" 20260920 "), _iso_date("9月20日"), _iso_date(None)
    ('2026-09-20', '2026-09-20', '9月20日', '')
    """
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value or "").strip()
    try:
        return dt.date.fromisoformat(text).isoformat() if text else ""
    except ValueError:
        return text


def _validate_inspector_facts(a: Account, cities: tuple[str, ...] | None) -> None:
    if cities is not None and a.org_city and a.org_city not in cities:
        raise AccountError(f"单位所在地市「{a.org_city}」不在活动配置的地市名单中。", code="unknown_city")
    for key, label in CONFLICT_FIELDS.items():
        names = getattr(a, key)
        if len(names) > MAX_CONFLICTS:
            raise AccountError(f"{label}最多 {MAX_CONFLICTS} 个，现有 {len(names)} 个。", code="too_many_conflicts")
        for name in names:
            bad = hidden_character(name)
            if len(name) > MAX_TEXT or bad:
                why = f"超过 {MAX_TEXT} 个字" if not bad else f"含有控制字符、换行、改变文字方向或不可见的字符（{bad}）"
                raise AccountError(f"{label}「{quotable(name)}」{why}，请检查后重新输入。", code="bad_conflict_name")
    if a.health_declared_on:
        try:
            dt.date.fromisoformat(a.health_declared_on)
        except (TypeError, ValueError):
            raise AccountError(f"健康申报日期「{quotable(a.health_declared_on)}」不是日期（例如 2026-09-20）。",
                               code="bad_health_date") from None
