"""Demo accounts for every role, created with the demo data: the province, the inspection team, the
administrator, one bureau per city, and every provider and lead unit that filed demo rows.

All share the password DEMO_PASSWORD (listed in the README); each has its own bcrypt salt. They are
hashed at a lower cost (DEMO_ROUNDS) than real accounts so a first start stays quick.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor

from lib.auth.accounts import Account, AccountsFile, validate
from lib.auth.errors import AccountError
from lib.auth.passwords import hash_password
from lib.forms import FormDefinitionError
from lib.store.base import Store

from .lexicon import CITY_INFO

DEMO_PASSWORD = "Demo@2020"
DEMO_ROUNDS = 10

FIXED = (
    Account("province", "province", org="广东省工业和信息化厅工业互联网处", name="省厅工业互联网处"),
    Account("inspector", "inspector", org="省检查组", name="省检查组"),
    Account("admin", "admin", org="系统管理员", name="系统管理员"),
)


def demo_accounts(store: Store, catalog) -> list[Account]:
    """Accounts (without password) for the fixed roles, every city, and every filer in the store."""
    found: dict[str, Account] = {a.account: a for a in FIXED}
    try:
        cities = catalog.campaign.cities
    except FormDefinitionError:  # a broken campaign file: no city accounts, the others can still sign in
        cities = ()
    for city in cities:
        info = CITY_INFO.get(city)
        account = f"city_{info.account}" if info else f"city_{city}"
        found[account] = Account(account, "city", org=f"{city}市工业和信息化局", city=city)
    for form in catalog.forms():
        # the organisation's own credit code, from the field the form says the account answers
        code_key = next((f.key for f in form.all_fields() if f.from_account == "org_code"), None)
        for record in store.records(form.id):
            if record.owner not in found:
                code = str(record.values.get(code_key) or "") if code_key else ""
                found[record.owner] = Account(record.owner, form.filled_by, org=record.org, city=record.city, org_code=code)
    return list(found.values())


def seed_demo_accounts(accounts: AccountsFile, store: Store, catalog, *, password: str = DEMO_PASSWORD,
                       rounds: int = DEMO_ROUNDS) -> int:
    """Write the demo accounts that do not exist yet; returns how many were written. They are held to
    the rules of any account (``validate``): one the rules refuse (an organisation name taken from an
    edited workbook, say) is skipped and logged, the others are written."""
    wanted = []
    for a in demo_accounts(store, catalog):
        try:
            validate(a)
        except AccountError as exc:
            logging.getLogger(__name__).warning("演示账号 %s 未创建：%s", a.account, exc)
            continue
        if accounts.get(a.account) is None:
            wanted.append(a)
    now = dt.datetime.now().isoformat(timespec="seconds")
    with ThreadPoolExecutor(max_workers=4) as pool:  # bcrypt releases the GIL
        hashes = list(pool.map(lambda _: hash_password(password, rounds=rounds), wanted))
    return accounts.add_many([dataclasses.replace(a, password_hash=h, created_at=now) for a, h in zip(wanted, hashes, strict=True)])
