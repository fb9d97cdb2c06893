"""Who reads which rectification items (``visible_items``, the policy's RECTIFY_READ): province and admin
all, a city its city's, a provider or lead unit the items it acts on or answers for (by name as
``comparable`` reads it, or by credit code), an inspector none (refused, audited)."""

from __future__ import annotations

import pytest

from lib.auth.errors import Forbidden
from lib.auth.policy import DENIED, RECTIFY_ACT, RECTIFY_VERIFY
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.rectification.records import ITEMS, PENDING
from lib.rectification.scope import get_item, visible_items
from lib.store.factory import open_store

PROVINCE = Actor("province", "province", "省厅")
OPENER = PROVINCE


def item(item_id, city, party_kind, party, actor_org, party_code=""):
    return {"item_id": item_id, "rule": "r", "category": "c", "city": city, "party_kind": party_kind, "party": party,
            "party_code": party_code, "actor_org": actor_org, "finding": "问题", "steps": [], "evidence": [], "violations": []}


CODE = "91440101MA59ABCDEM"
ITEMS_VALUES = [
    item("ZG-1", "广州", "provider", "云智科技有限公司", "云智科技有限公司", CODE),
    item("ZG-2", "广州", "firm", "甲制造有限公司", "云智科技有限公司", "91440101MA5ZZZZZZZ"),
    item("ZG-3", "佛山", "provider", "另一服务商", "另一服务商"),
    item("ZG-4", "佛山", "lead_unit", "标杆牵头单位", "标杆牵头单位"),
]


@pytest.fixture
def store(tmp_path):
    s = open_store("local", data_dir=tmp_path / "data", background=False)
    s.ensure_sheet(ITEMS)
    s.append_batch([(ITEMS.form_id, v, PENDING) for v in ITEMS_VALUES], actor=OPENER)
    yield s
    s.close()


def ids(store, actor):
    return [r.values["item_id"] for r in visible_items(store, actor)]


@pytest.mark.parametrize("actor, expected", [
    (PROVINCE, ["ZG-1", "ZG-2", "ZG-3", "ZG-4"]),
    (Actor("admin", "admin"), ["ZG-1", "ZG-2", "ZG-3", "ZG-4"]),
    (Actor("city_gz", "city", "广州市工业和信息化局", "广州"), ["ZG-1", "ZG-2"]),
    (Actor("city_fs", "city", "佛山市工业和信息化局", "佛山"), ["ZG-3", "ZG-4"]),
    (Actor("city_zh", "city", "珠海市工业和信息化局", "珠海"), []),
    # the provider acts on its own item and on the firm's item it served
    (Actor("p1", "provider", "云智科技有限公司", "广州"), ["ZG-1", "ZG-2"]),
    # the same name as comparable reads it (width, brackets, blanks)
    (Actor("p1b", "provider", " 云智科技有限公司 ", "广州"), ["ZG-1", "ZG-2"]),
    # another name, but the party's credit code: its own item only
    (Actor("p1c", "provider", "云智科技", "广州", org_code=CODE.lower()), ["ZG-1"]),
    (Actor("p3", "provider", "另一服务商", "佛山"), ["ZG-3"]),
    (Actor("lead", "lead_unit", "标杆牵头单位", "佛山"), ["ZG-4"]),
    (Actor("nobody", "provider", "无关公司", "广州"), []),
    (Actor("blank", "provider", "", "广州"), []),
])
def test_each_role_reads_its_items(store, actor, expected):
    assert ids(store, actor) == expected


def test_an_inspector_reads_none_and_the_refusal_is_audited(store):
    inspector = Actor("i1", "inspector", "检查单位", "广州")
    with pytest.raises(Forbidden) as err:
        visible_items(store, inspector)
    assert err.value.code == "forbidden"
    assert [e.account for e in store.audit() if e.action == DENIED] == ["i1"]


def test_no_item_yet_is_an_empty_list(tmp_path):
    s = open_store("local", data_dir=tmp_path / "empty", background=False)
    try:
        assert visible_items(s, PROVINCE) == []
    finally:
        s.close()


def test_one_item_is_read_or_acted_on_only_within_scope_and_a_refusal_is_audited(store):
    gz_item, fs_item = (next(r for r in store.records(ITEMS.form_id) if r.values["item_id"] == i) for i in ("ZG-1", "ZG-3"))
    provider = Actor("p1", "provider", "云智科技有限公司", "广州")
    assert get_item(store, provider, gz_item.id) == gz_item
    assert get_item(store, provider, gz_item.id, RECTIFY_ACT) == gz_item
    city_gz = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    assert get_item(store, city_gz, gz_item.id, RECTIFY_VERIFY) == gz_item
    for actor, item, action in ((provider, fs_item, RECTIFY_ACT), (city_gz, fs_item, RECTIFY_VERIFY), (city_gz, gz_item, RECTIFY_ACT)):
        with pytest.raises(Forbidden) as err:
            get_item(store, actor, item.id, action)
        assert err.value.code == "forbidden" and item.values["item_id"] in str(err.value)
    assert [e.row_id for e in store.audit() if e.action == DENIED] == [fs_item.id, fs_item.id, gz_item.id]
    with pytest.raises(AppError) as err:
        get_item(store, provider, "no-such-item")
    assert err.value.code == "item_not_found"
