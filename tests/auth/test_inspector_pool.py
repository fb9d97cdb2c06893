"""The inspector pool's facts in the accounts file (issue 13, outcome 4): an inspector's home city,
organisation and its city, declared conflicts and health declaration date are kept, checked, and read
back as the inspector draw's pool."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lib.auth.accounts import MAX_CONFLICTS, Account
from lib.auth.errors import AccountError
from lib.core import roles
from lib.sampling.inspectors import Inspector, draw_groups, pool

CITIES = ("广州", "佛山", "潮州")


@pytest.fixture
def kept(accounts):
    accounts.add_many([
        Account("ins_a", roles.INSPECTOR, org="省检查组", name="检查员甲", city="广州"),
        Account("ins_b", roles.INSPECTOR, org="华南理工大学", name="检查员乙", city="佛山"),
        Account("ins_off", roles.INSPECTOR, org="省检查组", city="广州", disabled=True),
        Account("prov", roles.PROVIDER, org="甲云科技有限公司", city="广州"),
    ])
    return accounts


def test_an_inspectors_facts_are_stored_and_read_back_as_the_pool(kept):
    changed = kept.set_inspector("ins_a", cities=CITIES, org_city="佛山", conflict_providers=[" 甲云科技有限公司 ", "", "甲云科技有限公司"],
                                 conflict_firms=["乙制造厂"], conflict_lead_units="丙大学", health_declared_on=dt.date(2026, 9, 20))
    assert (changed.org_city, changed.conflict_providers, changed.conflict_firms, changed.conflict_lead_units,
            changed.health_declared_on) == ("佛山", ("甲云科技有限公司",), ("乙制造厂",), ("丙大学",), "2026-09-20")
    assert kept.get("ins_a") == changed  # tuples again after the JSON file's lists
    stored = json.loads(kept.path.read_text(encoding="utf-8"))["accounts"]["ins_a"]
    assert stored["conflict_firms"] == ["乙制造厂"] and stored["health_declared_on"] == "2026-09-20"
    assert "password_hash" not in changed.public() and changed.public()["conflict_lead_units"] == ("丙大学",)

    found = pool(kept.all())
    assert [i.account for i in found] == ["ins_a", "ins_b"]  # enabled inspectors only
    assert found[0] == Inspector("ins_a", "检查员甲", "广州", "省检查组", "佛山", ("甲云科技有限公司", "乙制造厂", "丙大学"),
                                 dt.date(2026, 9, 20))
    assert found[1].health_declared_on is None and found[1].conflicts == ()


def test_the_pool_drives_the_draw_and_its_rules(kept):
    # ins_a may not go home to 佛山, ins_b may not go to 潮州, whose sample names a firm it declared:
    # one assignment is left, whatever the seed
    kept.set_inspector("ins_a", city="佛山", health_declared_on="2026-09-20")
    kept.set_inspector("ins_b", city="广州", conflict_firms=["乙制造厂"], health_declared_on="2026-09-20")
    for seed in range(5):
        got = draw_groups(pool(kept.all()), {"潮州": ["乙制造厂"], "佛山": []}, 1, seed=seed, day=dt.date(2026, 9, 22))
        assert (got.members("潮州"), got.members("佛山")) == (("ins_a",), ("ins_b",))


def test_an_account_file_written_before_these_facts_still_reads(kept):
    def drop(doc):
        for key in ("org_city", "conflict_providers", "conflict_firms", "conflict_lead_units", "health_declared_on"):
            doc["accounts"]["ins_b"].pop(key)

    kept.file.update(drop)
    old = kept.get("ins_b")
    assert (old.org_city, old.conflict_firms, old.health_declared_on) == ("", (), "")


#: Stands for the day after the test runs (``test_a_bad_fact_is_refused_and_nothing_is_written``).
TOMORROW = object()


@pytest.mark.parametrize(("account", "facts", "code"), [
    ("prov", {"conflict_firms": ["乙制造厂"]}, "not_an_inspector"),
    ("nobody", {"org_city": "佛山"}, "no_such_account"),
    ("ins_a", {"role": roles.PROVINCE}, "unknown_inspector_fact"),
    ("ins_a", {"org_city": "北京"}, "unknown_city"),
    ("ins_a", {"city": "北京"}, "unknown_city"),
    ("ins_a", {"health_declared_on": "9月20日"}, "bad_health_date"),
    ("ins_a", {"health_declared_on": "2026-02-30"}, "bad_health_date"),
    ("ins_a", {"health_declared_on": TOMORROW}, "health_date_future"),
    ("ins_a", {"conflict_firms": ["乙制造厂\u202e"]}, "bad_conflict_name"),
    ("ins_a", {"conflict_providers": ["名" * 101]}, "bad_conflict_name"),
    ("ins_a", {"conflict_lead_units": [f"单位{n}" for n in range(MAX_CONFLICTS + 1)]}, "too_many_conflicts"),
])
def test_a_bad_fact_is_refused_and_nothing_is_written(kept, account, facts, code):
    # tomorrow as of the test's run, not of its collection: a run crossing midnight made it today
    facts = {k: dt.date.today() + dt.timedelta(days=1) if v is TOMORROW else v for k, v in facts.items()}
    before = kept.path.read_bytes()
    with pytest.raises(AccountError) as err:
        kept.set_inspector(account, cities=CITIES, **facts)
    assert err.value.code == code
    assert kept.path.read_bytes() == before


def test_a_stored_date_that_is_not_one_counts_as_no_declaration(kept):
    def spoil(doc):
        doc["accounts"]["ins_a"]["health_declared_on"] = "昨天"

    kept.file.update(spoil)
    assert pool(kept.all())[0].health_declared_on is None
