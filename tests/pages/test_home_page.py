"""AppTest of pages/home.py: the 待办 list at the top (issue 14, outcome 6), the campaign's phases and every
form with its deadline."""

import datetime as dt
from pathlib import Path

import streamlit
from streamlit.testing.v1 import AppTest

from lib.core.records import Actor
from lib.core.statuses import RETURNED, SUBMITTED
from lib.forms.columns import sheet_spec
from lib.store.factory import open_store
from lib.todo import FORM, ITEM, ITEM_QUERY, KINDS, TO_REVIEW
from lib.ui import locale, state
from lib.ui.record_view import plain_text

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


def test_home_lists_phases_and_forms_with_deadlines(app_env, catalog):
    city = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    at = sign_in(AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60), city).run()
    assert not at.exception
    phases = at.dataframe[0].value
    assert list(phases["阶段"]) == [p.name for p in catalog.campaign.phases]
    text = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    for form in catalog.forms():
        assert form.title in text
        if form.deadline:  # the province's complaint register has none: a complaint is recorded when it comes
            assert f"截止：{catalog.campaign.deadlines[form.deadline]:%Y-%m-%d}" in text
    # only the forms this account fills offer 去填报 (a city bureau: 附件3); 打开 is its 待办's (附件3, not filed yet)
    assert [b.label for b in at.button] == ["打开"] + ["去填报"] * len([f for f in catalog.forms() if f.filled_by == "city"])


def test_home_says_whom_to_call_in_plain_words(app_env, catalog):
    provider = Actor("provider_x", "provider", "广州云智信息科技有限公司", "广州")
    at = sign_in(AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=60), provider).run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    assert catalog.campaign.contacts  # the shipped campaign declares them
    for contact in catalog.campaign.contacts:
        assert contact.name in text and f"tel:{contact.phone.replace('-', '')}" in text and contact.email in text
    assert "字段数" not in text  # no developer words


APP = str(ROOT / "app.py")
PROVINCE = Actor("province", "province", "省厅")


def click(at, key: str, monkeypatch) -> tuple[str, dict]:
    """Click the 打开 button ``key`` of the 待办 list: (the page it switches to, its query). AppTest does not
    follow st.switch_page, so the switch is recorded instead."""
    asked = []
    monkeypatch.setattr(streamlit, "switch_page", lambda page, query_params=None: asked.append((page, dict(query_params or {}))))
    at.button(key=key).click().run()
    assert not at.exception
    # the router's own switch (lib.ui.nav.ensure_router: AppTest runs pages in the legacy pages/ mode) is not the click's
    [switched] = [a for a in asked if a[0] != "app.py"]
    return switched


def test_a_provider_s_returned_row_waits_on_its_home_page_flagged_late_and_opens_in_one_click(app_env, catalog, reopen, monkeypatch):
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-25")  # past 附件1's deadline
    provider = Actor("provider_x", "provider", "广州云智信息科技有限公司", "广州")
    binding = catalog.bindings.of("projects")
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
    row = store.append(binding.form, {binding.key("voucher"): "V-1", binding.key("firm"): "某制造厂", binding.key("provider"): provider.org},
                       actor=provider, status=SUBMITTED)
    store.update(binding.form, row.id, base_rev=row.rev, actor=PROVINCE, status=RETURNED, note="请核对服务券编号")
    at = sign_in(AppTest.from_file(APP, default_timeout=60), provider).run()
    assert not at.exception
    assert "待办" in [s.value for s in at.subheader]
    text = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    assert RETURNED in text and "请核对服务券编号" in text and "逾期" in text
    assert f"截止 {catalog.campaign.deadlines[catalog.form(binding.form).deadline]:%Y-%m-%d}" in text
    page, query = click(at, state.todo_open_key(0), monkeypatch)  # the one entry: its row
    assert page == "pages/fill.py" and query == {"form": binding.form, "row": row.id}
    fill = sign_in(AppTest.from_file(str(ROOT / page), default_timeout=60), provider)
    for name, value in query.items():
        fill.query_params[name] = value
    fill.run()
    assert not fill.exception
    assert any(f"正在修改记录 {row.id}" in i.value for i in fill.info)  # the fill page opened the row to correct


def test_a_reviewer_s_waiting_rows_open_the_review_page_with_their_form(app_env, catalog, reopen, monkeypatch):
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-25")
    city = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    binding = catalog.bindings.of("benchmarks")
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
    lead = Actor("lead_x", "lead_unit", "某牵头单位", "广州")
    for name in ("项目一", "项目二"):
        store.append(binding.form, {binding.key("project"): name, binding.key("lead_unit"): lead.org, binding.key("city"): "广州"},
                     actor=lead, status=SUBMITTED)
    at = sign_in(AppTest.from_file(APP, default_timeout=60), city).run()
    assert not at.exception
    entries = [m.value for m in at.markdown if any(m.value.startswith(f"**{kind}**") for kind in KINDS)]
    # 附件3, the city's own, is overdue on 9-25 and comes first; the review has no due date and comes last
    assert [(e.startswith(f"**{FORM}**"), e.startswith(f"**{TO_REVIEW}**")) for e in entries] == [(True, False), (False, True)]
    assert catalog.form(catalog.bindings.of("checks").form).title in entries[0] and catalog.form(binding.form).title in entries[1]
    assert "2 条待审核" in [c.value for c in at.caption]
    assert click(at, state.todo_open_key(1), monkeypatch) == ("pages/review.py", {"form": binding.form})


def test_nothing_waiting_is_said_so(app_env):
    at = sign_in(AppTest.from_file(APP, default_timeout=60), PROVINCE).run()
    assert not at.exception
    assert any("没有等待您处理的事项" in s.value for s in at.success)


def test_a_form_is_due_for_the_register_entries_of_the_account_not_yet_filed_as_the_board_counts_them(app_env, catalog, reopen,
                                                                                                       monkeypatch):
    from lib.campaign.register import store as reg
    from lib.campaign.register import upload
    from lib.campaign.register.kinds import register_kinds
    from lib.forms.types import credit_code_check_char
    from lib.office.excel import SheetRows

    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-15")  # before 附件1's deadline
    store = reopen()
    kind = register_kinds(catalog.campaign)["vouchers"]
    headers = [kind.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]
    codes = [f"91440100MA{i:07d}" for i in range(5)]
    rows = [[f"V-{i:06d}", f"企业{i}", c + credit_code_check_char(c), f"服务商{i % 2}", "广州", kind.years[0], 20.0, kind.in_scope[0]]
            for i, c in enumerate(codes)]
    parsed = upload.parse_register(kind, [SheetRows("S", [headers, *rows])])
    assert not parsed.problems
    reg.import_register(store, parsed, PROVINCE, file_name="台账.xlsx")
    provider = Actor("provider_0", "provider", "服务商0", "广州")  # the register lists three of its projects
    binding = catalog.bindings.of("projects")
    store.close()
    filed = open_store("local", data_dir=app_env, background=False, clock=lambda: dt.datetime(2020, 9, 10, 10))  # on the campaign clock
    try:
        filed.ensure_sheet(sheet_spec(catalog.form(binding.form)))
        filed.append(binding.form, {binding.key("voucher"): "V-000000", binding.key("firm"): "企业0", binding.key("provider"): provider.org,
                                    binding.key("city"): "广州"}, actor=provider, status=SUBMITTED)
    finally:
        filed.close()
    at = sign_in(AppTest.from_file(APP, default_timeout=60), provider).run()
    assert not at.exception
    [entry] = [m.value for m in at.markdown if any(m.value.startswith(f"**{kind}**") for kind in KINDS)]
    assert entry.startswith(f"**{FORM}**") and catalog.form(binding.form).title in entry
    assert "尚有 2 项未报送" in [c.value for c in at.caption]
    assert "逾期" not in "\n".join(m.value for m in at.markdown)


def test_a_rectification_item_waits_for_the_party_that_acts_on_it_and_opens_on_the_rectification_page(app_env, catalog, reopen,
                                                                                                       monkeypatch):
    from lib.rectification.records import ITEMS, PENDING

    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-11-03")  # past the section's due date
    provider = Actor("provider_x", "provider", "广州云智信息科技有限公司", "广州")
    store = reopen()
    store.ensure_sheet(ITEMS)
    section = catalog.campaign.rectification
    values = {"item_id": "ZG-001", "rule": "manual", "category": section.categories[0].key, "city": "广州", "party_kind": "provider",
              "party": provider.org, "actor_org": provider.org, "project": "某项目", "finding": "停用", "due": section.due}
    item = store.append(ITEMS.form_id, values, actor=PROVINCE, status=PENDING)
    binding = catalog.bindings.of("projects")
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))  # it filed its 附件1: only the item waits
    store.append(binding.form, {binding.key("voucher"): "V-1", binding.key("provider"): provider.org}, actor=provider, status=SUBMITTED)
    at = sign_in(AppTest.from_file(APP, default_timeout=60), provider).run()
    assert not at.exception
    [entry] = [m.value for m in at.markdown if any(m.value.startswith(f"**{kind}**") for kind in KINDS)]
    assert entry.startswith(f"**{ITEM}**") and section.categories[0].name in entry
    assert any(plain_text("ZG-001") in c.value for c in at.caption)  # as typed: the text escaped for markdown
    assert any(f"截止 {section.due:%Y-%m-%d}" in m.value and "逾期" in m.value for m in at.markdown)
    assert click(at, state.todo_open_key(0), monkeypatch) == ("pages/rectification.py", {ITEM_QUERY: item.id})


def test_a_reason_typed_with_a_link_or_an_image_is_shown_as_typed(app_env, catalog, reopen):
    provider = Actor("provider_x", "provider", "广州云智信息科技有限公司", "广州")
    binding = catalog.bindings.of("projects")
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
    row = store.append(binding.form, {binding.key("voucher"): "V-1", binding.key("provider"): provider.org}, actor=provider, status=SUBMITTED)
    typed = "见 [说明](http://evil.example) ![x](http://evil.example/x.png) **重要**"
    store.update(binding.form, row.id, base_rev=row.rev, actor=PROVINCE, status=RETURNED, note=typed)
    at = sign_in(AppTest.from_file(APP, default_timeout=60), provider).run()
    assert not at.exception
    [caption] = [c.value for c in at.caption if "退回原因" in c.value]
    assert "\\[说明\\]" in caption and "\\*\\*重要\\*\\*" in caption  # escaped: no link, no bold


def test_two_thousand_items_to_verify_are_one_entry_and_its_button_opens_the_waiting_list(app_env, catalog, reopen, monkeypatch):
    """Attack N11: a city with 2,000 items 已提交整改材料 had 2,000 blocks and buttons on 首页 (seconds per
    click). They wait for the same action: one entry with their count, whose one button opens the
    rectification page on its 待我办理 list, which the page then shows."""
    from lib.rectification.records import ITEMS
    from lib.rectification.records import SUBMITTED as ITEM_SUBMITTED
    from lib.todo import WAITING

    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-10-20")
    city = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    section = catalog.campaign.rectification
    category = section.categories[0]
    steps = [{"step": s.key, "done": True, "text": "已整改"} for s in category.steps]
    store = reopen()
    store.ensure_sheet(ITEMS)
    store.append_batch([(ITEMS.form_id, {"item_id": f"ZG-{n:06d}", "rule": "manual", "category": category.key, "city": "广州",
                                         "party_kind": "provider", "party": "服务商甲", "actor_org": "服务商甲", "voucher": f"V-{n}",
                                         "project": f"项目{n}", "finding": "停用", "due": section.due, "steps": steps, "evidence": [],
                                         "violations": []}, ITEM_SUBMITTED) for n in range(2000)], actor=PROVINCE)
    at = sign_in(AppTest.from_file(str(ROOT / "pages" / "home.py"), default_timeout=120), city).run()
    assert not at.exception
    entries = [m.value for m in at.markdown if any(m.value.startswith(f"**{kind}**") for kind in KINDS)]
    items = [e for e in entries if e.startswith(f"**{ITEM}**")]
    assert len(items) == 1 and plain_text("2,000 项整改事项") in items[0]  # as the page escapes it
    assert len(entries) <= 3 and len(at.button) <= len(entries) + len(catalog.forms())  # 待办's and 去填报's: bounded
    assert any(f"截止 {section.due:%Y-%m-%d}" in m.value for m in at.markdown)
    opens = next(n for n, e in enumerate(entries) if e.startswith(f"**{ITEM}**"))
    assert click(at, state.todo_open_key(opens), monkeypatch) == ("pages/rectification.py", {})
    assert at.session_state[state.RECTIFY_LIST] == WAITING
    page = sign_in(AppTest.from_file(str(ROOT / "pages" / "rectification.py"), default_timeout=120), city)
    page.session_state[state.RECTIFY_LIST] = at.session_state[state.RECTIFY_LIST]
    page.run()
    assert not page.exception
    assert page.radio(key=state.RECTIFY_LIST).value == WAITING
    # the list of the 2,000 to verify: its count, its first rows drawn (the export has them all)
    assert any("2,000 行" in c.value for c in page.caption)
    assert any(len(d.value) == min(2000, locale.SHOWN_ROWS) for d in page.dataframe)
