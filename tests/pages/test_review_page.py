"""AppTest of pages/review.py: a reviewer reads the whole row before acting on it, filters the rows,
and a large approval takes a second, explicit click."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib import listing
from lib.auth.policy import row_city
from lib.core.records import Actor
from lib.demo.seed import generate
from lib.forms.columns import sheet_spec
from lib.ui import state

from .conftest import sign_in, unescaped

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "review.py")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅")
ROWS = 14  # more than review.CONFIRM_ABOVE (10)


@pytest.fixture
def filed(app_env, catalog, reopen):
    """ROWS 附件1 rows waiting for review, filed by the demo providers."""
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    demo = generate(catalog, rows=80, seed=7)["att1"][:ROWS]
    return [store.append("att1", r.values, actor=r.actor, status="已提交") for r in demo]


def _page():
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, PROVINCE)
    at.run()
    assert not at.exception
    return at


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def _statuses(reopen, rows):
    store = reopen()
    return [store.get("att1", r.id).status for r in rows]


def test_the_whole_row_is_read_beside_its_own_approve(filed, reopen):
    target = filed[3]
    at = _page()
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(target.id).run()
    shown = unescaped("\n".join(str(v) for t in at.table for v in t.value.to_numpy().ravel()))
    for key in ("provider_name", "client_name", "voucher_no", "project_name", "implementation_content"):
        assert target.values[key] in shown, key
    contact = target.values["contacts"][0]["contact_name"]  # a table field, shown as a small table
    assert any(contact in map(unescaped, t.value.to_numpy().ravel()) for t in at.table if "姓名" in t.value.columns)
    assert "None" not in shown and "nan" not in shown
    assert [d for d in at.get("download_button") if d.label.startswith("打印视图")]

    _button(at, "通过此记录").click().run()
    assert not at.exception
    assert _statuses(reopen, filed) == ["已通过" if r.id == target.id else "已提交" for r in filed]
    assert any("已通过 1 条" in s.value for s in at.success)


def test_a_row_is_returned_from_the_view_with_its_reason(filed, reopen):
    target = filed[0]
    at = _page()
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(target.id).run()
    _button(at, "将此记录退回修改").click().run()
    assert any("请填写退回原因" in e.value for e in at.error)
    assert _statuses(reopen, [target]) == ["已提交"]
    next(t for t in at.text_area if t.label.startswith("此记录的退回原因")).input("合同金额与凭证不符").run()
    _button(at, "将此记录退回修改").click().run()
    assert _statuses(reopen, [target]) == ["退回修改"]


def test_filters_by_city_filer_and_a_select_field(filed, catalog):
    form = catalog.form("att1")
    at = _page()
    city = row_city(form, filed[0])
    next(s for s in at.selectbox if s.label == "地市").set_value(city).run()
    listed = set(at.dataframe[0].value["记录编号"])
    assert listed == {r.id for r in filed if row_city(form, r) == city}

    next(s for s in at.selectbox if s.label == "地市").set_value("").run()
    org = filed[1].org
    next(s for s in at.selectbox if s.label == "填报单位").set_value(org).run()
    assert set(at.dataframe[0].value["记录编号"]) == {r.id for r in filed if r.org == org}

    next(s for s in at.selectbox if s.label == "填报单位").set_value("").run()
    kind = filed[2].values["project_type"]
    picker = next(s for s in at.selectbox if s.label == "项目类型")
    assert picker.options == ["全部", *form.field("project_type").choices]
    picker.set_value(kind).run()
    assert set(at.dataframe[0].value["记录编号"]) == {r.id for r in filed if r.values["project_type"] == kind}
    assert not at.exception


def test_approving_all_takes_a_second_click_that_names_the_count(filed, reopen):
    at = _page()
    next(c for c in at.checkbox if c.label.startswith("选择筛选出的全部待审核记录")).check().run()
    _button(at, f"通过所选（{ROWS} 条）").click().run()
    assert not at.exception
    assert set(_statuses(reopen, filed)) == {"已提交"}  # the first click approves nothing
    assert any(f"即将一次通过 {ROWS} 条记录" in w.value for w in at.warning)

    _button(at, "取消").click().run()
    assert set(_statuses(reopen, filed)) == {"已提交"}
    assert not [b for b in at.button if b.label.startswith("确认通过")]

    _button(at, f"通过所选（{ROWS} 条）").click().run()
    _button(at, f"确认通过 {ROWS} 条").click().run()
    assert not at.exception
    assert set(_statuses(reopen, filed)) == {"已通过"}
    assert any(f"已通过 {ROWS} 条" in s.value for s in at.success)


def test_a_handful_is_approved_with_one_click(filed, reopen):
    at = _page()
    picked = [filed[0].id, filed[5].id]
    next(m for m in at.multiselect if m.label == "选择记录").set_value(picked).run()
    _button(at, "通过所选（2 条）").click().run()
    assert _statuses(reopen, filed) == ["已通过" if r.id in picked else "已提交" for r in filed]


def test_a_picked_row_filtered_away_leaves_the_selection_not_the_page(filed, catalog):
    form = catalog.form("att1")
    at = _page()
    elsewhere = next(r for r in filed if row_city(form, r) != row_city(form, filed[0]))
    next(m for m in at.multiselect if m.label == "选择记录").set_value([filed[0].id, elsewhere.id]).run()
    next(s for s in at.selectbox if s.label == "地市").set_value(row_city(form, filed[0])).run()
    assert not at.exception
    assert next(m for m in at.multiselect if m.label == "选择记录").value == [filed[0].id]
    assert [b for b in at.button if b.label == "通过所选（1 条）"]


def test_returning_all_takes_a_second_click_that_names_the_count(filed, reopen):
    at = _page()
    next(c for c in at.checkbox if c.label.startswith("选择筛选出的全部待审核记录")).check().run()
    _button(at, f"退回修改（{ROWS} 条）").click().run()  # no reason yet: refused at once, nothing to confirm
    assert any("请填写退回原因" in e.value for e in at.error)
    assert not [b for b in at.button if b.label.startswith("确认退回")]

    next(t for t in at.text_area if t.label.startswith("退回原因")).input("请补充合同").run()
    _button(at, f"退回修改（{ROWS} 条）").click().run()
    assert not at.exception
    assert set(_statuses(reopen, filed)) == {"已提交"}  # the first click returns nothing
    assert any(f"即将一次退回 {ROWS} 条记录" in w.value for w in at.warning)
    _button(at, "取消").click().run()
    assert set(_statuses(reopen, filed)) == {"已提交"}

    _button(at, f"退回修改（{ROWS} 条）").click().run()
    _button(at, f"确认退回 {ROWS} 条").click().run()
    assert not at.exception
    assert set(_statuses(reopen, filed)) == {"退回修改"}


def test_a_returned_rows_reason_is_shown_to_the_reviewer_as_typed(filed, reopen):
    target = filed[0]
    at = _page()
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(target.id).run()
    next(t for t in at.text_area if t.label.startswith("此记录的退回原因")).input("见 [说明](http://example.invalid/x)").run()
    _button(at, "将此记录退回修改").click().run()
    next(c for c in at.toggle if "待审核" in c.label).set_value(False).run()
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(target.id).run()
    [shown] = [c.value for c in at.caption if c.value.startswith("上次退回原因")]
    assert "](http" not in shown and "\\[说明\\]" in shown


def test_an_answer_is_shown_to_the_reviewer_as_typed_not_as_markdown(app_env, catalog, reopen):
    """st.table renders Markdown in its cells: a filler's answer must not bring a link or an image."""
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    row = generate(catalog, rows=20, seed=7)["att1"][0]
    typed = "[请点此核对](http://example.invalid/x) ![图](http://example.invalid/a.png)"
    record = store.append("att1", dict(row.values, implementation_content=typed), actor=row.actor, status="已提交")
    at = _page()
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(record.id).run()
    cells = [str(v) for t in at.table for v in t.value.to_numpy().ravel()]
    [cell] = [c for c in cells if "请点此核对" in c]
    assert "](http" not in cell and "![" not in cell and unescaped(cell) == typed


def test_the_reviewer_sees_the_warnings_a_row_raises_with_the_field_named(app_env, catalog, reopen):
    """Warnings (rules of severity ``warning``) are recomputed from the row's values: the filler confirmed
    them at submit, the reviewer checks them (issue 12, outcome 6)."""
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    plain, row = generate(catalog, rows=20, seed=7)["att1"][:2]
    away = next(c for c in catalog.campaign.cities if c != row.values["client_city"] and c != "深圳")
    warned = store.append("att1", dict(row.values, client_city=away, subsidy_amount=row.values["paid_amount"]),
                          actor=row.actor, status="已提交")
    quiet = store.append("att1", plain.values, actor=plain.actor, status="已提交")
    at = _page()
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(warned.id).run()
    [shown] = [unescaped(w.value) for w in at.warning if "填报提醒" in w.value]
    assert "「企业统一社会信用代码」：登记地（第 3–8 位行政区划代码）与所填“企业所在地市”不一致" in shown
    assert "「奖补金额（万元）」：与实际支付金额相同" in shown
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(quiet.id).run()
    assert not [w for w in at.warning if "填报提醒" in w.value]


def test_the_reviewer_is_told_of_a_date_after_the_campaign_clock(app_env, catalog, reopen, monkeypatch):
    """The fill page refuses a follow-up date after the campaign clock (setting campaign_today); the
    reviewer is told of one in a row that holds it, judged on the same clock, not the real date."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-20")
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    row = generate(catalog, rows=20, seed=7)["att1"][0]
    late = store.append("att1", dict(row.values, followup_date=dt.date(2021, 3, 1)), actor=row.actor, status="已提交")
    on_time = store.append("att1", dict(row.values, followup_date=dt.date(2020, 9, 19)), actor=row.actor, status="已提交")
    at = _page()
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(late.id).run()
    assert any("「回访日期」不能晚于今天" in unescaped(w.value) for w in at.warning if "请留意" in w.value)
    next(s for s in at.selectbox if s.label.startswith("查看记录")).set_value(on_time.id).run()
    assert not [w for w in at.warning if "请留意" in w.value]


def test_a_city_bureau_reads_its_scope_as_the_campaign_names_the_bureau(app_env, catalog):
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, Actor("city_gz", "city", "广州市工业和信息化局", city="广州"))
    at.run()
    assert not at.exception
    unit = catalog.campaign.city_unit.replace("{city}", "广州")
    assert [c.value for c in at.caption if c.value.startswith("审核范围")] == [f"审核范围：{unit}"]


def _review_photo_row():
    """The review page's read-and-act part for the file form's rows, as the actor in session_state."""
    import streamlit as st

    from lib.core.records import Actor
    from lib.store.factory import open_store
    from lib.ui import context
    from lib.ui import review as ui
    from tests.forms.inline import demo_form
    from tests.pages.test_file_field import PHOTO_FORM

    form = demo_form(PHOTO_FORM)
    store = open_store("local", data_dir=context.settings().data_dir, background=False)
    try:
        ui.read_and_act(store, form, Actor(*st.session_state["actor"]), store.records(form.id), {}, ())
    finally:
        store.close()


def test_the_reviewer_sees_a_rows_photos_and_downloads_them_only_as_far_as_they_may_read_the_row(app_env, reopen):
    from lib.ui.record_view import plain_text

    from .test_file_field import photo_row

    photo_row(app_env, reopen, Actor("p1", "provider", "甲公司", "广州"))
    at = AppTest.from_function(_review_photo_row, default_timeout=60)
    at.session_state["actor"] = (PROVINCE.account, PROVINCE.role, PROVINCE.org)
    at.run()
    assert not at.exception
    assert [img.captions for img in at.get("image")] == [[plain_text("现场照片.png")]]  # the thumbnail
    assert [d.label for d in at.get("download_button") if "现场照片" in d.label] == [f"下载 {plain_text('现场照片.png（PNG 图片，0.1 KB）')}"]

    # The page passes the reviewer it serves, not a privileged one: a bureau of another city gets the names only.
    other = AppTest.from_function(_review_photo_row, default_timeout=60)
    other.session_state["actor"] = ("city_sz", "city", "深圳市工业和信息化局", "深圳")
    other.run()
    assert not other.exception
    assert not other.get("image") and not [d for d in other.get("download_button") if "现场照片" in d.label]
    assert any("无权查看文件内容" in c.value for c in other.caption)


def test_the_address_picks_the_form_a_todo_entry_names(filed):
    """待办 on the home page opens 审核 with ?form=: the province reviews several forms, and the one named
    is shown, not the first; the address then follows the selection."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, PROVINCE)
    at.query_params["form"] = "att3"
    at.run()
    assert not at.exception
    assert at.selectbox(key=state.REVIEW_FORM).value == "att3"
    assert _page().selectbox(key=state.REVIEW_FORM).value == "att1"  # no address: the first form


def _listed(at) -> list[str]:
    return list(at.dataframe[0].value[listing.ID])


def test_a_long_queue_is_listed_a_page_at_a_time_while_its_actions_take_all(filed, reopen, monkeypatch):
    """Issue 17: a province's queue of 19,000 rows sent its first 2,000 to the table and, as captions, to two
    pickers on every run (1.3 MB at 20,000 rows), and rows past the 2,000th were reached only by filtering."""
    from lib.ui import locale

    monkeypatch.setattr(locale, "PAGE_ROWS", 5)
    at = _page()
    first = _listed(at)
    assert len(first) == 5
    assert any(f"本页列出第 1–5 条（共 {ROWS} 条" in c.value for c in at.caption)
    pager = at.selectbox(key=state.review_page_key("att1"))
    assert pager.options == ["第 1 页（共 3 页）", "第 2 页（共 3 页）", "第 3 页（共 3 页）"]
    assert [o.split("｜")[0] for o in at.selectbox(key=state.REVIEW_VIEW).options] == first
    assert len(at.multiselect(key=state.REVIEW_PICKED).options) == 5  # the listed rows are named, not the whole queue

    pager.set_value(2).run()  # the last page: the rest
    last = _listed(at)
    assert len(last) == ROWS - 10 and not set(last) & set(first)
    assert any(f"本页列出第 11–{ROWS} 条（共 {ROWS} 条" in c.value for c in at.caption)
    assert [o.split("｜")[0] for o in at.selectbox(key=state.REVIEW_VIEW).options] == last
    pages = [first, _listed(at.selectbox(key=state.review_page_key("att1")).set_value(1).run()), last]
    assert sorted(sum(pages, [])) == sorted(r.id for r in filed)  # every row on one page and one only

    next(c for c in at.checkbox if c.label.startswith("选择筛选出的全部待审核记录")).check().run()
    _button(at, f"通过所选（{len(filed)} 条）").click().run()  # the bulk action still takes every row in the queue, every page
    _button(at, f"确认通过 {len(filed)} 条").click().run()
    assert set(_statuses(reopen, filed)) == {"已通过"}


def test_a_page_a_search_no_longer_reaches_gives_way_to_the_first(filed, monkeypatch):
    from lib.ui import locale

    monkeypatch.setattr(locale, "PAGE_ROWS", 5)
    at = _page()
    at.selectbox(key=state.review_page_key("att1")).set_value(2).run()
    wanted = filed[0].id
    at.text_input(key=state.REVIEW_SEARCH).input(wanted).run()  # one row left: one page, no pager
    assert not at.exception
    assert _listed(at) == [wanted]
    assert not [s for s in at.selectbox if s.key == state.review_page_key("att1")]
    at.text_input(key=state.REVIEW_SEARCH).input("").run()  # every row again: back on the first page, not the third
    assert at.selectbox(key=state.review_page_key("att1")).value == 0 and len(_listed(at)) == 5


def test_a_rerun_with_nothing_changed_judges_no_row_again(filed, monkeypatch):
    """Issue 17: the form picker's value came back a deep copy on every run (Streamlit copies a widget's
    value), so lib.auth.scope's judgement, kept per form object, was redone over the whole queue each run."""
    from lib.auth import scope

    asked = []
    real = scope.can
    monkeypatch.setattr(scope, "can", lambda *a, **k: asked.append(1) or real(*a, **k))
    at = _page()
    assert len(asked) >= len(filed)
    asked.clear()
    at.run()
    assert not at.exception and asked == []
