"""The inspector pool kept in the app (province or admin, audited) and from the shell (issue 13, outcome 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.auth import AccountError, Forbidden
from lib.auth import __main__ as cli
from lib.auth import admin as ops
from lib.auth.accounts import Account, AccountsFile
from lib.sampling.inspectors import pool

from .conftest import ADMIN, GZ, INSPECTOR, PROVINCE, denials

NOW = dt.datetime(2020, 9, 10, 9)


@pytest.fixture
def kept(accounts):
    accounts.add_many([Account("ins_a", "inspector", org="省检查单位", name="检查员甲", city="广州"),
                       Account("prov_x", "provider", org="广州某科技有限公司")])
    return accounts


@pytest.mark.parametrize("who", [PROVINCE, ADMIN])
def test_the_province_and_the_admin_set_an_inspectors_facts_and_the_audit_says_what(store, catalog, kept, who):
    cities = tuple(catalog.campaign.cities)
    changed = ops.set_inspector(store, who, kept, "ins_a", cities=cities, org_city="佛山",
                                conflict_providers=["服务商甲", " 服务商甲 ", ""], health_declared_on=dt.date(2020, 9, 20))
    assert (changed.org_city, changed.conflict_providers, changed.health_declared_on) == ("佛山", ("服务商甲",), "2020-09-20")
    [inspector] = pool(kept.all())
    assert (inspector.org_city, inspector.conflicts, inspector.health_declared_on) == ("佛山", ("服务商甲",), dt.date(2020, 9, 20))
    [note] = [e.note for e in store.audit() if e.action == "账号管理" and e.account == who.account]
    assert "ins_a" in note and "佛山" in note and "服务商甲" in note and "2020-09-20" in note
    assert [a.account for a in ops.inspector_pool(store, who, kept)] == ["ins_a"]


@pytest.mark.parametrize("who", [GZ, INSPECTOR])
def test_no_other_role_keeps_the_pool(store, kept, who):
    for call in (lambda: ops.set_inspector(store, who, kept, "ins_a", cities=None, org_city="佛山"),
                 lambda: ops.inspector_pool(store, who, kept)):
        with pytest.raises(Forbidden):
            call()
    assert len(denials(store)) == 2 and kept.get("ins_a").org_city == ""


@pytest.mark.parametrize("account, facts, code", [
    ("prov_x", {"org_city": "佛山"}, "not_an_inspector"),
    ("ins_a", {"org_city": "火星"}, "unknown_city"),
    ("ins_a", {"health_declared_on": "九月"}, "bad_health_date"),
    ("ins_a", {"password_hash": "x"}, "unknown_inspector_fact"),
    ("nobody", {"org_city": "佛山"}, "no_such_account"),
])
def test_a_refused_fact_changes_nothing_and_is_not_audited_as_a_change(store, catalog, kept, account, facts, code):
    before = kept.all()
    with pytest.raises(AccountError) as refused:
        ops.set_inspector(store, ADMIN, kept, account, cities=tuple(catalog.campaign.cities), **facts)
    assert refused.value.code == code
    assert kept.all() == before and not [e for e in store.audit() if e.action == "账号管理"]


def test_the_account_list_shows_the_inspector_facts(store, catalog, kept):
    ops.set_inspector(store, ADMIN, kept, "ins_a", cities=None, conflict_firms=["甲厂", "乙厂"], health_declared_on="2020-09-20")
    table = {row["账号"]: row for row in ops.account_table(ops.list_accounts(store, ADMIN, kept), catalog.campaign.roles, now=NOW)}
    assert (table["ins_a"]["回避对象"], table["ins_a"]["健康申报日期"]) == ("回避的企业：甲厂、乙厂", "2020-09-20")
    assert (table["prov_x"]["回避对象"], table["prov_x"]["健康申报日期"]) == ("", "")


def test_the_shell_sets_only_the_facts_it_is_given(tmp_path, capsys):
    accounts = AccountsFile(tmp_path / "accounts.json")
    accounts.add_many([Account("ins_a", "inspector", org="省检查单位", city="广州", conflict_firms=("旧厂",))])
    assert cli.main(["inspector", "ins_a", "--health-date", "2020-09-20", "--conflict-provider", "服务商甲",
                     "--conflict-provider", "服务商乙", "--data-dir", str(tmp_path)]) == 0
    got = AccountsFile(tmp_path / "accounts.json").get("ins_a")
    assert (got.health_declared_on, got.conflict_providers, got.conflict_firms, got.city) == (
        "2020-09-20", ("服务商甲", "服务商乙"), ("旧厂",), "广州")
    assert "服务商乙" in capsys.readouterr().out
    assert cli.main(["inspector", "ins_a", "--conflict-firm", "", "--data-dir", str(tmp_path)]) == 0
    assert AccountsFile(tmp_path / "accounts.json").get("ins_a").conflict_firms == ()
    for refused in (["inspector", "ins_a"], ["inspector", "ins_a", "--health-date", "明天"], ["inspector", "nobody", "--org", "x"]):
        assert cli.main([*refused, "--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 3
