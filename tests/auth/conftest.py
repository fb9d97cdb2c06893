"""A real local store in tmp_path with demo rows of the three forms, and the actors of every role."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.auth.accounts import AccountsFile
from lib.core.records import Actor
from lib.demo.seed import seed_store
from lib.forms import load_catalog
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]

PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
ADMIN = Actor("admin", "admin", "系统管理员")
INSPECTOR = Actor("inspector", "inspector", "省检查组")
GZ = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
FS = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")
_SHIPPED = load_catalog(ROOT / "forms")
#: Form id -> voucher key of every form the shipped campaign binds with a voucher (what an
#: ``Assignments`` narrows an inspector to; ``lib.sampling.assignments.assignments_in_force`` builds it so).
VOUCHER_KEYS = {_SHIPPED.bindings.of(k).form: _SHIPPED.bindings.of(k).key("voucher") for k in _SHIPPED.bindings.kinds()
                if _SHIPPED.bindings.of(k).key("voucher")}


@pytest.fixture(scope="session")
def catalog():
    return _SHIPPED


@pytest.fixture
def store(tmp_path, catalog):
    """A local store holding demo rows (60 附件1, 24 附件3, 5 附件2), written in this process."""
    opened = open_store("local", data_dir=tmp_path / "data", background=False)
    seed_store(opened, catalog, rows=60, seed=5)
    yield opened
    opened.close()


@pytest.fixture
def accounts(tmp_path):
    return AccountsFile(tmp_path / "data" / "accounts.json")


@pytest.fixture
def actors(store, catalog):
    """Actors of the data: two providers, two lead units (with the rows each filed), each with its
    organisation's credit code as the demo accounts carry it."""
    att1 = store.records("att1")
    att2 = store.records("att2")
    p1 = att1[0]
    p2 = next(r for r in att1 if r.org != p1.org)
    l1 = att2[0]
    l2 = next(r for r in att2 if r.org != l1.org)

    def actor(row, role):
        code = next(f.key for f in catalog.form(row.form_id).all_fields() if f.from_account == "org_code")
        return Actor(row.owner, role, row.org, row.city, org_code=row.values[code])

    return {"provider": actor(p1, "provider"), "provider2": actor(p2, "provider"),
            "lead": actor(l1, "lead_unit"), "lead2": actor(l2, "lead_unit")}


@pytest.fixture
def items(store, actors, catalog):
    """Rectification items of the demo's organisations, by item number: ZG-GZ (广州, submitted, the
    provider acts on it), ZG-FS (佛山, pending, provider2's), ZG-LEAD (佛山, in progress, lead2's)."""
    from lib.rectification.records import IN_PROGRESS, ITEMS, PENDING, SUBMITTED

    category = catalog.campaign.rectification.categories[0]

    def item(item_id, city, kind, org):
        return {"item_id": item_id, "category": category.key, "city": city, "party_kind": kind, "party": org, "actor_org": org,
                "finding": "问题", "steps": [{"step": s.key, "done": True, "text": "已整改"} for s in category.steps]}

    store.ensure_sheet(ITEMS)
    made = store.append_batch([
        (ITEMS.form_id, item("ZG-GZ", "广州", "provider", actors["provider"].org), SUBMITTED),
        (ITEMS.form_id, item("ZG-FS", "佛山", "provider", actors["provider2"].org), PENDING),
        (ITEMS.form_id, item("ZG-LEAD", "佛山", "lead_unit", actors["lead2"].org), IN_PROGRESS),
    ], actor=PROVINCE)
    return {r.values["item_id"]: r for r in made}


def denials(store) -> list:
    return [e for e in store.audit() if e.action == "拒绝访问"]
