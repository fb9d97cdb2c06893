"""Demo accounts for every role, created with the demo data: the province, the inspection team, the
administrator, one bureau per city, every provider and lead unit that filed demo rows, and an
inspector pool large enough for the inspector draw (``demo_inspectors``).

All share the password DEMO_PASSWORD (listed in the README); each has its own bcrypt salt. They are
hashed at a lower cost (DEMO_ROUNDS) than real accounts so a first start stays quick.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
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


#: Inspectors of the demo pool per city: every city with sampled projects gets a group of the campaign's
#: size (3) from inspectors of other cities, with room for the 回避 a few of them declare.
INSPECTORS_PER_CITY = 4
#: Every how many-th pool inspector declares a conflict with a provider of the demo rows.
CONFLICT_EVERY = 9


def demo_inspectors(store: Store, catalog, today: dt.date) -> list[Account]:
    """The demo's inspector pool: INSPECTORS_PER_CITY per city (accounts ``ins_<city>_<n>``), each with
    its home city, an organisation (its city's bureau, or the provincial expert pool, which is in no
    city) and a health declaration made in the week before ``today``; every CONFLICT_EVERY-th declares
    a conflict with a provider named in the projects' demo rows (none when there are none). The same
    store and day give the same pool."""
    try:
        cities, binding = catalog.campaign.cities, catalog.bindings.of("projects")
    except FormDefinitionError:  # a broken campaign file: no pool, the other accounts can still sign in
        return []
    providers = sorted({str(r.values.get(binding.key("provider")) or "") for r in store.records(binding.form)} - {""})
    rng = random.Random(2020)
    pool = []
    for city in cities:
        info = CITY_INFO.get(city)
        for n in range(1, INSPECTORS_PER_CITY + 1):
            bureau = n % 2 == 1
            conflicts = (rng.choice(providers),) if providers and len(pool) % CONFLICT_EVERY == CONFLICT_EVERY - 1 else ()
            pool.append(Account(
                f"ins_{info.account if info else city}_{n}", "inspector", name=f"{city}检查员{n}", city=city,
                org=info.bureau if bureau and info else "省级专家库", org_city=city if bureau else "", conflict_providers=conflicts,
                health_declared_on=(today - dt.timedelta(days=rng.randint(0, 6))).isoformat()))
    return pool


def demo_accounts(store: Store, catalog, *, today: dt.date | None = None) -> list[Account]:
    """Accounts (without password) for the fixed roles, every city, every filer in the store, and the
    inspector pool (its health declarations dated from ``today``, else the day it runs)."""
    found: dict[str, Account] = {a.account: a for a in FIXED}
    found.update((a.account, a) for a in demo_inspectors(store, catalog, today or dt.date.today()))
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
                       rounds: int = DEMO_ROUNDS, today: dt.date | None = None) -> int:
    """Write the demo accounts that do not exist yet; returns how many were written. They are held to
    the rules of any account (``validate``): one the rules refuse (an organisation name taken from an
    edited workbook, say) is skipped and logged, the others are written."""
    wanted = []
    for a in demo_accounts(store, catalog, today=today):
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
