"""AppTest of the province's repairs on pages/rectification.py (attack N1, N2): an item generated from a check
whose provider was typed as no account's name is listed 无对应账号; the province picks it, 改派 to an account's
organisation with a reason (none: refused, shown, nothing written), and that provider then works it; another
item is cancelled (已撤销); neither list nor buttons are a provider's."""

from __future__ import annotations

import pytest

from lib.rectification import admin
from lib.rectification.records import CANCELLED, ITEMS
from lib.ui import state
from lib.ui.rectification_admin import CANCEL, ORG, REASON, REASSIGN, key
from tests.rectification.conftest import CITY_GZ, PROVIDER, PROVINCE, file_row, rectification_day

from .test_rectification_page import click, errors_shown, start


@pytest.fixture
def stray(app_env, reopen, monkeypatch):
    """Two failed 附件3 checks in 广州, one typed with a provider name no account has."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", rectification_day().isoformat())
    store = reopen()
    for voucher, provider in (("V-000001", "无名科技"), ("V-000002", PROVIDER.org)):
        file_row(store, "checks", {"voucher": voucher, "city": "广州", "firm": f"{voucher}企业", "provider": provider,
                                   "conclusion": "fail"}, actor=CITY_GZ)
    return store


def warnings(at) -> str:
    return "\n".join(str(w.value) for w in at.warning)


def test_the_province_reassigns_an_item_nobody_answers_for_and_cancels_another(stray):
    start(PROVIDER)  # the provider's account exists (signing in adds it to the accounts file)
    at = click(start(PROVINCE), state.RECTIFY_GENERATE)
    stray.refresh()
    items = {i.values["voucher"]: i for i in stray.records(ITEMS.form_id)}
    orphan = items["V-000001"]
    assert "1 项整改事项找不到对应账号" in warnings(at)

    at.selectbox(key=state.RECTIFY_PICK).set_value(orphan.id).run()
    at.selectbox(key=key(orphan.id, ORG)).set_value(PROVIDER.org)
    at = click(at, key(orphan.id, REASSIGN))
    assert "请填写理由" in errors_shown(at)
    stray.refresh()
    assert stray.get(ITEMS.form_id, orphan.id).rev == orphan.rev

    at.text_area(key=key(orphan.id, REASON)).input("地市核实：该项目由广州云智科技有限公司实施")
    at = click(at, key(orphan.id, REASSIGN))
    stray.refresh()
    assert stray.get(ITEMS.form_id, orphan.id).values["actor_org"] == PROVIDER.org
    assert "找不到对应账号" not in warnings(at)

    other = items["V-000002"]
    at.selectbox(key=state.RECTIFY_PICK).set_value(other.id).run()
    at.text_area(key=key(other.id, REASON)).input("重复检查，已在其他事项中整改")
    at = click(at, key(other.id, CANCEL))
    stray.refresh()
    assert stray.get(ITEMS.form_id, other.id).status == CANCELLED

    provider = start(PROVIDER)
    assert not [b for b in provider.button if b.key and b.key.endswith((REASSIGN, CANCEL))]
    assert admin.unmatched(stray.records(ITEMS.form_id), [PROVIDER]) == []
