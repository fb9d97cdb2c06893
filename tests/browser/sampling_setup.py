"""A small sampling campaign for the browser journey of 随机抽查, set up through the project's own functions:
the shipped forms with inspector groups of one, a voucher register of seven projects in two cities, and
the province with three inspectors (home city, organisation, a health declaration of today)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from lib.auth.accounts import Account, AccountsFile
from lib.forms import load_catalog
from lib.forms.loader import FormCatalog
from lib.store.factory import open_store
from tests.sampling.conftest import import_vouchers

#: (voucher, city, provider, subsidy in 万元): 广州 has four projects, 佛山 three; at the ratio 0.2 each
#: city inspects one, so every city keeps projects that are not sampled.
PROJECTS = [
    ("SYQ-2019-4401-00001", "广州", "广州云智信息科技有限公司", 10.0),
    ("SYQ-2019-4401-00002", "广州", "广州云智信息科技有限公司", 12.0),
    ("SYQ-2019-4401-00003", "广州", "广东数联网络有限公司", 8.0),
    ("SYQ-2019-4401-00004", "广州", "广东数联网络有限公司", 6.0),
    ("SYQ-2019-4406-00001", "佛山", "广州云智信息科技有限公司", 9.0),
    ("SYQ-2019-4406-00002", "佛山", "广东数联网络有限公司", 11.0),
    ("SYQ-2019-4406-00003", "佛山", "广东数联网络有限公司", 7.0),
]
#: Inspector accounts by home city: whichever city the draw sends them to, it is never their own.
INSPECTORS = {"insp_gz": "广州", "insp_fs": "佛山", "insp_st": "汕头"}
#: bcrypt's lowest cost: these accounts live only as long as the test.
ROUNDS = 4


def forms_with_group_size(source: Path, target: Path, size: int) -> FormCatalog:
    """Copy the forms folder ``source`` to ``target`` with ``sampling.inspector_group_size`` set to ``size``."""
    shutil.copytree(source, target)
    path = target / "campaign.yaml"
    text, changed = re.subn(r"(?m)^(\s+inspector_group_size:)\s*\d+", rf"\g<1> {size}", path.read_text(encoding="utf-8"))
    assert changed == 1, "campaign.yaml declares no inspector_group_size"
    path.write_text(text, encoding="utf-8")
    catalog = load_catalog(target)
    assert catalog.campaign.sampling.inspector_group_size == size
    return catalog


def stock(data_dir: Path, catalog: FormCatalog, password: str) -> None:
    """The register of ``PROJECTS`` in force, and the accounts: the province and ``INSPECTORS``."""
    store = open_store("local", data_dir=data_dir, background=False)
    try:
        import_vouchers(store, PROJECTS, catalog)
    finally:
        store.close()
    accounts = AccountsFile(data_dir / "accounts.json")
    campaign = catalog.campaign
    known = {"roles": campaign.roles, "cities": campaign.cities, "rounds": ROUNDS}
    accounts.create(Account("province", "province", org="广东省工业和信息化厅", name="省厅"), password, **known)
    for account, city in INSPECTORS.items():
        org = f"{city}市质量检验中心"
        accounts.create(Account(account, "inspector", org=org, city=city, name=f"{city}检查员"), password, **known)
        accounts.set_inspector(account, cities=campaign.cities, org_city=city, health_declared_on=dt.date.today())
