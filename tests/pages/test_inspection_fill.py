"""AppTest of pages/fill.py for the on-site inspection record (issue 13, outcome 5): an assigned
inspector picks a project its group may inspect, the members come prefilled, the provider's declaration
is shown beside the form and a usage found that differs from it is flagged; an inspector without an
assignment is told it has no 检查任务; the province files a complaint on the ordinary fill page."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from streamlit.testing.v1 import AppTest

from lib.auth.accounts import Account, AccountsFile
from lib.campaign.register import store as reg
from lib.campaign.register import upload
from lib.campaign.register.kinds import register_kinds
from lib.core import roles
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms.columns import sheet_spec
from lib.forms.types import credit_code_check_char
from lib.office.excel import SheetRows
from lib.sampling.assignments import assignments_in_force, current_assignment, draw_inspectors
from lib.sampling.record import draw_rows, freeze, record_draw
from lib.settings import load_settings
from lib.ui import state

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "fill.py")
PROVINCE = Actor("province", "province", "省厅")
#: The voucher register: five projects in 广州 and five in 佛山 (one of each drawn at the campaign's 20%).
ENTRIES = [(f"V-{i:06d}", city) for i, city in enumerate(["广州"] * 5 + ["佛山"] * 5)]
HOMES = ("汕头", "汕头", "汕头", "珠海", "珠海", "珠海", "东莞", "东莞", "东莞")


def _code(n: int) -> str:
    body = f"91440100MA{n:07d}"
    return body + credit_code_check_char(body)


def _import_register(store, catalog) -> None:
    kind = register_kinds(catalog.campaign)["vouchers"]
    headers = [kind.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]
    rows = [[v, f"企业{v}", _code(i), f"服务商{i % 2}", city, kind.years[0], 20.0, kind.in_scope[0]] for i, (v, city) in enumerate(ENTRIES)]
    parsed = upload.parse_register(kind, [SheetRows("S", [headers, *rows])])
    assert not parsed.problems, parsed.problems
    reg.import_register(store, parsed, PROVINCE, file_name="台账.xlsx")


@pytest.fixture
def assigned(app_env, catalog, reopen):
    """The register drawn and the inspectors drawn: the 广州 group's first member (an Actor), its
    members' names, the project drawn in 广州 and the one drawn in 佛山 (as the draw recorded them)."""
    store = reopen()
    _import_register(store, catalog)
    frame, _ = freeze(store, catalog, PROVINCE)
    draw = record_draw(store, catalog, frame.frame_id, "20200922", PROVINCE)
    pool = [Account(f"ins{n:02d}", roles.INSPECTOR, org=f"检查单位{n}", name=f"检查员{n}", city=home, health_declared_on="2020-09-20")
            for n, home in enumerate(HOMES)]
    AccountsFile(load_settings(os.environ).accounts_path).add_many(pool)
    draw_inspectors(store, catalog, pool, "7", PROVINCE, day=dt.date(2020, 9, 23))
    group = current_assignment(store).assignment.members("广州")
    names = {a.account: a.name for a in pool}
    drawn = {row["city"]: row for row in draw_rows(store, draw.draw_id)}
    me = next(a for a in pool if a.account == group[0])
    return me.actor(), tuple(names[a] for a in group), drawn["广州"], drawn["佛山"], store


def declare(store, catalog, row: dict, usage: str, status: str = SUBMITTED) -> None:
    """The provider's 附件1 row for the drawn project ``row``, declaring ``usage`` (``status``: submitted unless given)."""
    binding = catalog.bindings.of("projects")
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
    values = {binding.key("voucher"): row["voucher"], binding.key("city"): row["city"], binding.key("firm"): row["firm"],
              binding.key("provider"): row["provider"], binding.key("usage"): binding.word("usage", usage),
              binding.key("active_users"): 12, binding.key("subsidy"): 20.0}
    store.append(binding.form, values, actor=Actor("p0", roles.PROVIDER, row["provider"], row["city"]), status=status)


def start(actor, form_id: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, actor)
    at.query_params["form"] = form_id
    return at.run()


def text(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_an_assigned_inspector_picks_its_project_sees_the_declaration_and_a_usage_mismatch(assigned, catalog):
    actor, names, gz, fs, store = assigned
    declare(store, catalog, gz, "idle")
    binding = catalog.bindings.of("inspections")
    # what the sampling hands the policy: every bound form with a voucher, and the group by name
    given = assignments_in_force(store, catalog)
    bound = catalog.bindings
    assert given.voucher_keys == {bound.of(k).form: bound.of(k).key("voucher") for k in ("projects", "checks", "inspections", "complaints")}
    assert given.members_of(actor.account) == names and given.cities_of(actor.account) == ("广州",)
    form_id = binding.form
    at = start(actor, form_id)
    assert not at.exception
    # only the forms an inspector fills, within its assignment
    assert sorted(at.selectbox[0].options) == sorted(f.title for f in catalog.forms() if f.filled_by == roles.INSPECTOR)
    field = lambda meaning: state.field_key(form_id, binding.key(meaning))  # noqa: E731
    assert at.session_state[field("members")] == "、".join(names) and len(names) == catalog.campaign.sampling.inspector_group_size
    picker = at.selectbox(key=state.fill_button_key(form_id, "inspection_pick"))
    assert picker.options[1:] == [f"{gz['voucher']}｜{gz['firm']}｜{gz['provider']}｜广州"]  # its city's drawn project only
    at = picker.select(gz["voucher"]).run()
    assert (at.session_state[field("voucher")], at.session_state[field("city")]) == (gz["voucher"], "广州")
    # firm and provider as the draw recorded them, wherever the campaign binds those meanings to the form
    assert {m: at.session_state[field(m)] for m in ("firm", "provider") if binding.key(m)} == {
        m: gz[m] for m in ("firm", "provider") if binding.key(m)}
    shown = text(at.markdown)
    declared = catalog.bindings.of("projects")
    assert declared.word("usage", "idle") in shown and gz["firm"] in shown.replace("\\", "")
    assert not at.warning
    at.selectbox(key=field("usage")).select(binding.word("usage", "in_use")).run()
    [warning] = [w for w in at.warning if "不一致" in str(w.value)]
    assert binding.word("usage", "in_use") in str(warning.value) and declared.word("usage", "idle") in str(warning.value)
    at.selectbox(key=field("usage")).select(binding.word("usage", "idle")).run()
    assert not [w for w in at.warning if "不一致" in str(w.value)]  # the same meaning: no flag


def test_a_provider_s_later_draft_does_not_replace_its_filed_declaration(assigned, catalog):
    """Attack M9: the sample is public; a draft saved before the visit (使用率较低) showed as the
    declaration and pre-empted the mismatch flag against what was filed (正常使用)."""
    from lib.core.statuses import DRAFT

    actor, names, gz, fs, store = assigned
    declare(store, catalog, gz, "in_use")
    declare(store, catalog, gz, "low_use", status=DRAFT)
    binding, declared = catalog.bindings.of("inspections"), catalog.bindings.of("projects")
    at = start(actor, binding.form)
    assert any("请先选择本组抽中的项目" in str(c.value) for c in at.caption)  # nothing chosen: said before 保存草稿
    at = at.selectbox(key=state.fill_button_key(binding.form, "inspection_pick")).select(gz["voucher"]).run()
    shown = text(at.markdown)
    assert declared.word("usage", "in_use") in shown and declared.word("usage", "low_use") not in shown
    at = at.selectbox(key=state.field_key(binding.form, binding.key("usage"))).select(binding.word("usage", "low_use")).run()
    assert [w for w in at.warning if "不一致" in str(w.value)]


def test_a_project_without_a_declaration_is_said_to_have_none_and_the_typed_members_stay(assigned, catalog):
    actor, names, gz, fs, store = assigned
    binding = catalog.bindings.of("inspections")
    form_id = binding.form
    at = start(actor, form_id)
    at.session_state[state.field_key(form_id, binding.key("members"))] = "张三"
    at = at.selectbox(key=state.fill_button_key(form_id, "inspection_pick")).select(gz["voucher"]).run()
    assert any("没有" in str(i.value) and gz["voucher"] in str(i.value).replace("\\", "") and "正式申报" in str(i.value) for i in at.info)
    assert at.session_state[state.field_key(form_id, binding.key("members"))] == "张三"


def test_an_inspector_without_an_assignment_is_told_it_has_no_task(app_env, catalog):
    at = start(Actor("ins_none", roles.INSPECTOR, "检查单位", "广州"), catalog.bindings.of("inspections").form)
    assert not at.exception
    assert any("没有检查任务" in str(i.value) for i in at.info)
    assert not at.selectbox


def test_the_province_files_a_complaint_on_the_fill_page(app_env, catalog, reopen):
    form = catalog.form(catalog.bindings.of("complaints").form)
    at = start(PROVINCE, form.id)
    assert [form.title] == at.selectbox[0].options  # the one form the province files
    answers = {"voucher_no": "V-000001", "received_date": dt.date(2020, 10, 1), "source": "信访", "content": "项目未实际使用"}
    for key, value in answers.items():
        at.session_state[state.field_key(form.id, key)] = value
    at = next(b for b in at.button if b.label == "提交").click().run()
    assert not at.exception and not at.error
    [row] = reopen().records(form.id)
    assert (row.values["voucher_no"], row.owner, row.status) == ("V-000001", PROVINCE.account, SUBMITTED)


def test_my_submissions_lists_the_group_s_inspections_only_and_the_inspector_withdraws_one(assigned, catalog):
    """我的填报 of an assigned inspector: its group's inspection of the project drawn in its city, not the
    one another group filed in its own city; withdrawing goes through the same assignment."""
    from lib import submissions
    from lib.sampling.assignments import assignments_in_force

    actor, names, gz, fs, store = assigned
    binding = catalog.bindings.of("inspections")
    form = catalog.form(binding.form)
    store.ensure_sheet(sheet_spec(form))
    given = assignments_in_force(store, catalog)
    other = Actor(next(a for a in given.cities if given.cities_of(a) == ("佛山",)), roles.INSPECTOR, "检查单位")
    cities = tuple(catalog.campaign.cities)
    ours = submissions.save_draft(store, form, {binding.key("voucher"): gz["voucher"], binding.key("city"): "广州"}, actor,
                                  cities=cities, assignments=given).record
    theirs = submissions.save_draft(store, form, {binding.key("voucher"): fs["voucher"], binding.key("city"): "佛山"}, other,
                                    cities=cities, assignments=given).record
    at = AppTest.from_file(str(ROOT / "pages" / "my_submissions.py"), default_timeout=60)
    sign_in(at, actor)
    at.query_params["form"] = form.id
    at.run()
    assert not at.exception
    at = next(s for s in at.selectbox if s.label == "表单").select(form.id).run()
    assert set(at.dataframe[0].value["记录编号"]) == {ours.id}
    next(c for c in at.checkbox if c.label == "确认撤回这条记录").check().run()
    next(b for b in at.button if b.label == "撤回").click().run()
    assert not at.exception and not at.error
    assert (store.get(form.id, ours.id).status, store.get(form.id, theirs.id).status) == ("已撤回", "草稿")



def test_an_inspector_has_the_evidence_files_of_its_group_s_inspection_and_of_no_other(assigned, catalog):
    """The record view serves a row's files to whoever may read the row: an inspector within the draw
    in force (its receipt and 我的填报 pass it), not one without it, nor another group's member."""
    from lib.sampling.assignments import assignments_in_force
    from lib.ui.record_view import serves_file

    actor, names, gz, fs, store = assigned
    binding = catalog.bindings.of("inspections")
    form = catalog.form(binding.form)
    store.ensure_sheet(sheet_spec(form))
    digest = "ab" * 32
    item = {"sha256": digest, "name": "现场.png", "type": "image/png", "size": 10}
    row = store.append(form.id, {binding.key("voucher"): gz["voucher"], binding.key("city"): "广州", binding.key("evidence"): [item]},
                       actor=actor, status=SUBMITTED)
    given = assignments_in_force(store, catalog)
    other = next(a for a in given.cities if given.cities_of(a) == ("佛山",))
    assert serves_file(actor, form, row, digest, given) and not serves_file(actor, form, row, "cd" * 32, given)
    assert not serves_file(actor, form, row, digest)  # no draw passed: nothing
    assert not serves_file(Actor(other, roles.INSPECTOR, "检查单位"), form, row, digest, given)
