"""AppTest of the 成果清单 section of pages/rectification.py (lib.ui.outcomes, issue 14 outcome 5): the province
sees each list as a tab with its entries' facts, removes an entry (without a reason: refused, shown, nothing
written; with one: gone from the list, recorded) and adds it back; a city bureau sees no 成果清单."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib.rectification.outcomes import CONFIRMATIONS, REMOVED
from tests.rectification.conftest import CITY_GZ, INSPECTOR, PROVINCE, file_row

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "rectification.py")
LIST = "优秀服务商培育对象"


@pytest.fixture
def inspected(app_env, reopen):
    """Three projects of one provider inspected 合格 in 广州: it is the one excellent provider."""
    store = reopen()
    for i in range(1, 4):
        file_row(store, "inspections", {"voucher": f"V-00000{i}", "city": "广州", "firm": f"企业{i}", "provider": "优秀云服务有限公司",
                                        "conclusion": "pass", "usage": "in_use", "satisfaction": "满意"}, actor=INSPECTOR)
    return store


def start(actor) -> AppTest:
    at = sign_in(AppTest.from_file(PAGE, default_timeout=60), actor).run()
    assert not at.exception
    return at


def labelled(widgets, label):
    [widget] = [w for w in widgets if w.label == label]
    return widget


def tab_labels(at) -> list[str]:
    return [t.label for t in at.tabs]


def confirmations(store):
    store.refresh()
    store.ensure_sheet(CONFIRMATIONS)
    return store.records(CONFIRMATIONS.form_id)


def test_the_province_removes_an_entry_only_with_a_reason_and_adds_it_back(inspected):
    at = start(PROVINCE)
    assert "成果清单" in [h.value for h in at.subheader]
    assert f"{LIST}（1）" in tab_labels(at)
    table = next(d.value for d in at.dataframe if d.value.columns[0] == "服务商名称")
    assert table.iloc[0]["检查项目数"] == 3  # the facts that qualify it

    at = labelled(at.selectbox, f"移除条目（{LIST}）").select("优秀云服务有限公司").run()  # the button waits for a choice
    at = labelled(at.button, f"移除（{LIST}）").click().run()
    assert not at.exception
    assert any("理由" in e.value for e in at.error)
    assert confirmations(inspected) == []

    labelled(at.text_input, f"移除理由（{LIST}）").input("近期被投诉，待核实")
    at = labelled(at.button, f"移除（{LIST}）").click().run()
    assert not at.exception
    assert f"{LIST}（0）" in tab_labels(at)
    assert any("已移除" in s.value for s in at.success)
    [record] = confirmations(inspected)
    assert (record.values["action"], record.values["reason"], record.owner) == (REMOVED, "近期被投诉，待核实", PROVINCE.account)

    at = labelled(at.selectbox, f"添加条目（{LIST}）").select("优秀云服务有限公司").run()
    labelled(at.text_input, f"添加理由（{LIST}）").input("核实无误")
    at = labelled(at.button, f"添加（{LIST}）").click().run()
    assert not at.exception
    assert f"{LIST}（1）" in tab_labels(at)
    assert len(confirmations(inspected)) == 2


def test_a_city_sees_no_outcome_lists(inspected):
    at = start(CITY_GZ)
    assert "成果清单" not in [h.value for h in at.subheader]
    assert not any(LIST in label for label in tab_labels(at))
