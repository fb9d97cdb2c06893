"""A small campaign for the browser journey of 全面整改, set up through the project's own functions: three
filed rows (a provider's 附件1 project declared stopped in one city, the same provider's project in normal
use, a city's 附件3 check concluded failed for another provider in another city: the shipped rules find
two of them) and the accounts of the province, that provider and the first city's bureau."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from lib.auth.accounts import Account, AccountsFile
from lib.core.records import Actor
from lib.forms.loader import FormCatalog
from lib.store.factory import open_store
from tests.rectification.conftest import file_row

#: The provider whose stopped project opens the item the journey works through, and its city's bureau.
PROVIDER = Actor("provider_yz", "provider", "广州云智信息科技有限公司", "广州")
CITY = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅")
#: Who filed the failed check: another city's bureau (no account: it takes no part in the journey).
CHECKER = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")
#: The check's provider: another organisation, whose item the provider above never sees.
OTHER_PROVIDER = "广东数联网络有限公司"
STOPPED = {"voucher": "SYQ-2019-4401-00001", "year": "2019", "city": PROVIDER.city, "provider": PROVIDER.org,
           "firm": "广州精工机械有限公司", "project": "精工机械设备上云项目", "usage": "stopped"}
IN_USE = STOPPED | {"voucher": "SYQ-2019-4401-00002", "firm": "广州明达电子有限公司", "project": "明达电子上平台项目", "usage": "in_use"}
FAILED = {"voucher": "SYQ-2019-4406-00003", "city": CHECKER.city, "firm": "佛山顺德五金制品有限公司", "provider": OTHER_PROVIDER,
          "method": "on_site", "conclusion": "fail"}
#: bcrypt's lowest cost: these accounts live only as long as the test.
ROUNDS = 4


def rectification_day(catalog: FormCatalog) -> dt.date:
    """The first day of the campaign's last phase (全面整改): the campaign clock of the journey."""
    return catalog.campaign.phases[-1].start


def stock(data_dir: Path, catalog: FormCatalog, password: str) -> None:
    """The three filed rows, by their meanings (``file_row``), and the three accounts."""
    store = open_store("local", data_dir=data_dir, background=False)
    try:
        file_row(store, "projects", STOPPED, catalog=catalog, actor=PROVIDER)
        file_row(store, "projects", IN_USE, catalog=catalog, actor=PROVIDER)
        file_row(store, "checks", FAILED, catalog=catalog, actor=CHECKER)
    finally:
        store.close()
    accounts = AccountsFile(data_dir / "accounts.json")
    known = {"roles": catalog.campaign.roles, "cities": catalog.campaign.cities, "rounds": ROUNDS}
    for actor, name in ((PROVINCE, "省厅"), (PROVIDER, "云智回访专员"), (CITY, "广州市局")):
        accounts.create(Account(actor.account, actor.role, org=actor.org, city=actor.city, name=name), password, **known)
