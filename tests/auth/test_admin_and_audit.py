"""Account management (admin only, audited without passwords) and the audit trail on screen."""

from __future__ import annotations

import datetime as dt
import functools
import io

import openpyxl
import pytest

from lib import audit, review
from lib.auth import AccountError, Forbidden
from lib.auth import admin as ops
from lib.auth.accounts import Account
from lib.auth.signin import Lockout, refusal
from lib.auth.signin import authenticate as _authenticate
from lib.office.excel import read_workbook, to_xlsx

from .conftest import ADMIN, GZ, PROVINCE

NOW = dt.datetime(2020, 9, 10, 9)
authenticate = functools.partial(_authenticate, rounds=4)  # the cost these test accounts are hashed with


def test_admin_creates_disables_enables_and_resets(store, catalog, accounts):
    roles, cities = catalog.campaign.roles, tuple(catalog.campaign.cities)
    new = Account("city_zh", "city", org="珠海市工业和信息化局", city="珠海")
    ops.create_account(store, ADMIN, accounts, new, "Zhuhai2020", roles=roles, cities=cities, now=NOW, rounds=4)
    assert authenticate(accounts, "city_zh", "Zhuhai2020", now=NOW).city == "珠海"
    with pytest.raises(AccountError, match="已存在"):
        ops.create_account(store, ADMIN, accounts, new, "Zhuhai2020", roles=roles, cities=cities, now=NOW, rounds=4)

    ops.set_disabled(store, ADMIN, accounts, "city_zh", True, now=NOW)
    with pytest.raises(Exception) as refused:
        authenticate(accounts, "city_zh", "Zhuhai2020", now=NOW)
    assert str(refused.value) == refusal(Lockout())
    ops.set_disabled(store, ADMIN, accounts, "city_zh", False, now=NOW)
    ops.reset_password(store, ADMIN, accounts, "city_zh", "Another2020", now=NOW, rounds=4)
    assert authenticate(accounts, "city_zh", "Another2020", now=NOW).account == "city_zh"

    notes = [e.note for e in store.audit() if e.action == "账号管理"]
    assert notes == ["创建账号 city_zh（地市工信部门、珠海、珠海市工业和信息化局）", "停用账号 city_zh", "启用账号 city_zh", "重置账号 city_zh 的密码"]
    assert not any("2020" in n and "Zhuhai" in n for n in notes)
    table = ops.account_table(ops.list_accounts(store, ADMIN, accounts), roles, now=NOW)
    assert table[0]["账号"] == "city_zh" and all("$2" not in str(v) for row in table for v in row.values())


def test_admin_cannot_disable_itself(store, accounts):
    accounts.add_many([Account("admin", "admin")])
    with pytest.raises(AccountError):
        ops.set_disabled(store, ADMIN, accounts, "admin", True, now=NOW)


@pytest.mark.parametrize("who", [PROVINCE, GZ])
def test_only_the_admin_manages_accounts(store, accounts, who):
    with pytest.raises(Forbidden):
        ops.reset_password(store, who, accounts, "admin", "Whatever2020", now=NOW)
    assert [e.action for e in store.audit()][-1] == "拒绝访问"


def test_admin_sets_the_organisation_credit_code_that_the_forms_take(store, catalog, accounts):
    roles, cities = catalog.campaign.roles, tuple(catalog.campaign.cities)
    new = Account("prov_x", "provider", org="广州某科技有限公司", org_code=" 91440101ma59abcdem ")
    created = ops.create_account(store, ADMIN, accounts, new, "Provider2020", roles=roles, cities=cities, now=NOW, rounds=4)
    assert created.org_code == "91440101MA59ABCDEM" and created.actor().org_code == created.org_code
    for bad in ("91440101MA59ABCDE1", "x" * 5000):
        with pytest.raises(AccountError, match="统一社会信用代码"):
            ops.set_org_code(store, ADMIN, accounts, "prov_x", bad)
    assert accounts.get("prov_x").org_code == "91440101MA59ABCDEM"  # nothing changed by a refused code
    assert ops.set_org_code(store, ADMIN, accounts, "prov_x", "").org_code == ""
    with pytest.raises(Forbidden):
        ops.set_org_code(store, PROVINCE, accounts, "prov_x", "91440101MA59ABCDEM")
    notes = [e.note for e in store.audit() if e.action == "账号管理"]
    assert notes[-1] == "设置账号 prov_x 的单位统一社会信用代码为「（空）」"
    table = ops.account_table(ops.list_accounts(store, ADMIN, accounts), roles, now=NOW)
    assert "统一社会信用代码" in table[0]


@pytest.fixture
def reviewed(store, catalog):
    form = catalog.form("att1")
    row = review.queue(store, PROVINCE, form)[0]
    review.return_for_changes(store, form, PROVINCE, {row.id: row.rev}, "请补充回访日期。")
    return row


def test_audit_filters_by_account_form_row_action_and_time(store, catalog, reviewed):
    labels = audit.Labels.of(catalog.forms())
    frame = audit.audit_frame(audit.entries(store, PROVINCE), labels)
    assert len(frame) == len(store.audit())
    by_province = audit.filter_audit(frame, audit.AuditFilter(account="provin"))
    assert list(by_province["操作"]) == ["状态变更"] and by_province["备注"][0] == "请补充回访日期。"
    assert "状态：已提交 → 退回修改" in by_province["变更内容"][0]
    one_row = audit.filter_audit(frame, audit.AuditFilter(form_id="att1", row_id=reviewed.id))
    assert list(one_row["操作"]) == ["状态变更", "新增"]
    added = audit.filter_audit(frame, audit.AuditFilter(form_id="att3", actions=("新增",)))
    assert len(added) == len(store.records("att3")) and set(added["表单"]) == {catalog.form("att3").short_title}
    exported = openpyxl.load_workbook(io.BytesIO(to_xlsx({"审计日志": by_province}, {"审计日志": audit.EXPORT_KINDS}))).active
    assert [c.value for c in exported[1]] == audit.COLUMNS == ["时间", "账号", "操作", "表单", "记录编号", "版本", "变更内容", "备注"]
    assert exported["G2"].value == by_province["变更内容"][0]  # the page's text, as the workbook and Sheets view write it
    assert exported["A2"].is_date and exported["A2"].number_format == "yyyy-mm-dd hh:mm:ss"
    today = dt.date.today()
    assert len(audit.filter_audit(frame, audit.AuditFilter(start=today, end=today))) == len(frame)
    assert audit.filter_audit(frame, audit.AuditFilter(end=today - dt.timedelta(days=1))).empty


def test_row_history_is_field_by_field_and_exports(store, catalog, reviewed, actors):
    form = catalog.form("att1")
    current = store.get("att1", reviewed.id)
    store.update("att1", reviewed.id, base_rev=current.rev, actor=actors["provider"],
                 values={"followup_date": dt.date(2020, 9, 12), "remarks": "已补充"}, status="已重新提交")
    labels = audit.Labels.of(catalog.forms())
    history = audit.row_history(store, PROVINCE, "att1", reviewed.id, labels)
    last = history[history["版本"] == 3]
    assert set(last["字段"]) == {"回访日期", "备注", "状态"}
    assert last.set_index("字段").loc["回访日期", "新值"] == "2020-09-12"
    assert last.set_index("字段").loc["状态", "原值"] == "退回修改"
    sheet = read_workbook(to_xlsx({"记录历史": history}))[0]
    assert sheet.rows[0] == list(history.columns) and len(sheet.rows) == len(history) + 1
    assert form.field("followup_date").label == "回访日期"


def test_audit_lists_newest_first_by_time_not_by_log_order(catalog):
    from lib.core.records import AuditEntry

    at = [dt.datetime(2020, 9, d, 9) for d in (15, 10, 20)]  # written out of time order (an import)
    items = [AuditEntry(t, "city_gz", "新增", "att3", f"r{i}", 1, {}) for i, t in enumerate(at)]
    frame = audit.audit_frame(items, audit.Labels.of(catalog.forms()))
    assert list(frame["记录编号"]) == ["r2", "r0", "r1"]


@pytest.mark.parametrize("field, value, char", [
    ("org", "\u202e广州某某科技有限公司", "U+202E"),  # a direction override: the locked 服务商名称 would fail its own check
    ("org", "广州某某科技有限公司\x07", "U+0007"),  # a control character from a clumsy paste
    ("org", "广州某某科技有限公司\n", "U+000A"),
    ("org", "广州某某\u200b科技有限公司", "U+200B"),
    ("name", "张三\u2066", "U+2066"),
    ("city", "广州\u200f", "U+200F"),
])
def test_an_account_text_is_held_to_the_character_rules_of_answers(store, catalog, accounts, field, value, char):
    roles, cities = catalog.campaign.roles, tuple(catalog.campaign.cities)
    fields = {"org": "广州某某科技有限公司"} | {field: value}
    new = Account("prov_bad", "provider" if field != "city" else "city", **fields)
    with pytest.raises(AccountError) as refused:
        ops.create_account(store, ADMIN, accounts, new, "Provider2020", roles=roles, cities=cities, now=NOW, rounds=4)
    message = str(refused.value)
    assert char in message and "请删除" in message and value not in message  # quoted, not echoed raw
    assert accounts.get("prov_bad") is None


def test_an_account_text_is_bounded(store, catalog, accounts):
    new = Account("prov_long", "provider", org="广州" * 60)
    with pytest.raises(AccountError, match="单位名称超过 100 个字"):
        ops.create_account(store, ADMIN, accounts, new, "Provider2020", roles=catalog.campaign.roles,
                           cities=tuple(catalog.campaign.cities), now=NOW, rounds=4)


def test_the_audit_page_reads_a_money_change_as_the_workbook_does(store, catalog):
    """One entry, one text: the page's 变更内容 of a money field equals the workbook's _audit cell (12.50,
    not 12.5), and its time is cut to the second as everywhere else."""
    form = catalog.form("att1")
    row = next(r for r in store.records("att1") if r.values.get("subsidy_amount") is not None)
    actor = PROVINCE
    store.update("att1", row.id, base_rev=row.rev, actor=actor, values={"subsidy_amount": 12.5})
    store.flush_workbook()
    sheet = openpyxl.load_workbook(store.workbook_path, read_only=True)["_audit"]
    cells = [[c.value for c in r] for r in sheet.iter_rows(values_only=False)]
    in_workbook = next(r[6] for r in reversed(cells) if r[4] == row.id)
    page = audit.audit_frame(store.audit("att1", row.id), audit.Labels.of(catalog.forms()))
    label = form.field("subsidy_amount").label
    assert page["变更内容"].iloc[0] == in_workbook and f"{label}：" in in_workbook and "→ 12.50" in in_workbook
    entry = store.audit("att1", row.id)[-1]
    moved = audit.audit_frame([dt_entry(entry)], audit.Labels.of(catalog.forms()))
    assert moved["时间"].iloc[0] == dt.datetime(2020, 9, 10, 23, 59, 59)


def dt_entry(entry):
    """``entry`` stamped one microsecond before midnight: the page must not round it into the next day."""
    import dataclasses

    return dataclasses.replace(entry, at=dt.datetime(2020, 9, 10, 23, 59, 59, 999999))


@pytest.mark.parametrize("seed", range(5))
def test_a_trail_merged_from_its_parts_equals_one_built_whole(seed):
    """Issue 17: the audit page turns only the entries added since into lines (``audit.merged``); entries
    stamped out of log order and many in the same second must come out as a whole build orders them."""
    import random

    from lib.core.records import AuditEntry

    rng = random.Random(seed)
    items = [AuditEntry(NOW + dt.timedelta(seconds=rng.randint(0, 5)), f"a{i}", rng.choice(["新增", "修改", "登录"]),
                        "att1", f"r{i % 7}", i, {}, f"n{i}") for i in range(40)]
    labels = audit.Labels()
    whole = audit.audit_frame(items, labels)
    cuts = sorted(rng.sample(range(41), 3))
    built = audit.audit_frame(items[:cuts[0]], labels)
    for start, end in zip(cuts, [*cuts[1:], 40], strict=True):
        built = audit.merged(audit.audit_frame(items[start:end], labels), built)
    assert built.equals(whole)
