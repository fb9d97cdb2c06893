"""优秀服务商培育对象 counts a provider's projects by who served them, not by how an inspector typed the name
(attack N3): the voucher register in force, else the account that filed the voucher's projects row, names the
provider of an inspection; a failure typed with a variant name counts against the provider that served it."""

from __future__ import annotations

from lib.core.records import Actor
from lib.rectification import generate as gen
from lib.rectification.outcomes import outcome_lists
from tests.sampling.conftest import import_vouchers

from .conftest import INSPECTOR, PROVINCE, SHIPPED, file_row, rectification_day

SERVED = "乙云科技有限公司"
FILER = Actor("provider_y", "provider", SERVED, "广州")


def inspect(store, voucher: str, provider: str, conclusion: str):
    file_row(store, "inspections", {"voucher": voucher, "city": "广州", "firm": f"企业{voucher}", "provider": provider,
                                    "conclusion": conclusion, "usage": "in_use", "satisfaction": "满意"}, actor=INSPECTOR)


def excellent(store):
    found = next(lst for lst in outcome_lists(store, SHIPPED, PROVINCE) if lst.outcome.key == "excellent_providers")
    return found.rows["服务商名称"].tolist(), found.candidates.set_index("服务商名称")


def test_a_failure_typed_with_a_variant_name_counts_for_the_provider_the_register_names(store):
    import_vouchers(store, [(f"Q-00000{i}", "广州", SERVED, 10.0) for i in range(5)])
    for i in range(3):
        inspect(store, f"Q-00000{i}", SERVED, "pass")
    inspect(store, "Q-000003", "乙云科技有限责任公司", "fail")
    inspect(store, "Q-000004", "乙云科技", "fail")
    listed, candidates = excellent(store)
    assert SERVED not in listed
    assert candidates.loc[SERVED, "检查项目数"] == 5 and len(candidates) == 1


def test_without_a_register_the_vouchers_filer_names_the_provider(store):
    for i in range(4):
        file_row(store, "projects", {"voucher": f"F-{i}", "firm": f"企业F-{i}", "city": "广州", "provider": SERVED}, actor=FILER)
    for i in range(3):
        inspect(store, f"F-{i}", SERVED, "pass")
    inspect(store, "F-3", "乙云", "fail")
    gen.generate(store, SHIPPED, PROVINCE, rectification_day(), accounts=[FILER])
    listed, candidates = excellent(store)
    assert SERVED not in listed and "乙云" not in candidates.index
    assert candidates.loc[SERVED, "未销号整改事项数"] == 1  # its item was opened for the account that served it


OTHER = Actor("provider_b", "provider", "丙数据科技有限公司", "广州")


def test_another_provider_filing_a_voucher_first_takes_neither_its_item_nor_its_passes(store):
    """Attack P1: anyone may file a 附件1 row with another's voucher. Filing first must not take over the item
    a check or an inspection opens against the provider it names, nor that provider's passed inspections."""
    for i in range(3):  # B files A's vouchers before A does
        file_row(store, "projects", {"voucher": f"H-{i}", "firm": f"企业H-{i}", "city": "广州", "provider": OTHER.org}, actor=OTHER)
        inspect(store, f"H-{i}", SERVED, "pass")
    file_row(store, "projects", {"voucher": "H-9", "firm": "企业H-9", "city": "广州", "provider": OTHER.org}, actor=OTHER)
    file_row(store, "checks", {"voucher": "H-9", "city": "广州", "firm": "企业H-9", "provider": SERVED, "conclusion": "fail"})
    gen.generate(store, SHIPPED, PROVINCE, rectification_day(), accounts=[FILER, OTHER])
    [item] = [r for r in store.records("rectification_items") if r.values["voucher"] == "H-9"]
    assert item.values["actor_org"] == SERVED  # the name the city wrote, which an account bears
    _, candidates = excellent(store)
    assert candidates.loc[SERVED, "检查项目数"] == 3 and OTHER.org not in candidates.index
