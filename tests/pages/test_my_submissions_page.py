"""AppTest of pages/my_submissions.py: one's own rows only, and withdrawing one."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.core.records import Actor
from lib.demo.seed import generate
from lib.forms.columns import sheet_spec

from .conftest import sign_in, unescaped

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "my_submissions.py")


def test_lists_own_rows_only_and_withdraws_one(app_env, catalog, reopen):
    rows = generate(catalog, rows=40, seed=3)["att1"]
    mine = rows[0].actor
    other = next(r for r in rows if r.actor.account != mine.account)
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    own = [store.append("att1", r.values, actor=mine, status="已提交") for r in [r for r in rows if r.actor == mine][:3]]
    foreign = store.append("att1", other.values, actor=other.actor, status="已提交")

    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, mine)
    at.run()
    assert not at.exception
    listed = set(at.dataframe[0].value["记录编号"])
    assert listed == {r.id for r in own}
    assert foreign.id not in listed

    target = own[0]
    next(s for s in at.selectbox if s.label == "选择一条记录").set_value(target.id).run()
    next(c for c in at.checkbox if c.label == "确认撤回这条记录").check().run()
    next(b for b in at.button if b.label == "撤回").click().run()
    assert not at.exception
    assert reopen().get("att1", target.id).status == "已撤回"
    assert reopen().get("att1", foreign.id).status == "已提交"


def _own_rows(catalog, reopen, n=4):
    rows = generate(catalog, rows=60, seed=5)["att1"]
    mine = rows[0].actor
    store = reopen()
    store.ensure_sheet(sheet_spec(catalog.form("att1")))
    own = [store.append("att1", r.values, actor=mine, status="已提交") for r in [r for r in rows if r.actor == mine][:n]]
    return store, mine, own


def test_rows_are_told_apart_by_summary_fields_and_blanks_are_blank(app_env, catalog, reopen):
    store, mine, own = _own_rows(catalog, reopen)
    draft = store.append("att1", {"client_name": "只填了企业名称的草稿"}, actor=mine, status="草稿")

    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, mine)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    labels = [f.label for f in catalog.form("att1").summary_fields()]
    assert list(table.columns[: len(labels)]) == labels  # the form's summary fields come first
    by_id = table.set_index("记录编号")
    first = own[0]
    assert [by_id.loc[first.id, label] for label in labels] == [first.values[f.key] for f in catalog.form("att1").summary_fields()]
    blank = by_id.loc[draft.id]
    assert blank["项目名称"] == "" and blank["服务券编号"] == "" and blank["退回原因"] == ""


def test_search_matches_a_summary_field_the_row_id_or_the_status(app_env, catalog, reopen):
    store, mine, own = _own_rows(catalog, reopen)
    target = own[2]
    store.update("att1", own[1].id, base_rev=own[1].rev, actor=Actor("prov", "province"), status="已通过", note="审核通过")

    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, mine)
    at.run()

    def search(text):  # each run's own widgets: an earlier run's would send its stale choices again
        next(t for t in at.text_input if t.label == "搜索").set_value(text).run()
        return list(at.dataframe[0].value["记录编号"]) if at.dataframe else []

    next(s for s in at.selectbox if s.label == "选择一条记录").set_value(own[0].id).run()
    assert search(target.values["voucher_no"].lower()) == [target.id]
    assert next(s for s in at.selectbox if s.label == "选择一条记录").value == target.id  # the row searched away gave way
    assert search(target.id) == [target.id]
    assert search("已通过") == [own[1].id]
    assert search("没有这样的项目") == []
    assert not at.dataframe and any("没有符合搜索条件" in i.value for i in at.info)
    assert not at.exception


def test_an_approved_row_is_read_and_printed_not_edited(app_env, catalog, reopen):
    store, mine, own = _own_rows(catalog, reopen)
    approved = store.update("att1", own[0].id, base_rev=own[0].rev, actor=Actor("prov", "province"), status="已通过", note="审核通过")

    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, mine)
    at.run()
    next(s for s in at.selectbox if s.label == "选择一条记录").set_value(approved.id).run()
    assert not at.exception
    assert not [b for b in at.button if b.label in ("打开修改", "撤回")]
    shown = unescaped("\n".join(str(v) for t in at.table for v in t.value.to_numpy().ravel()))
    for key in ("client_name", "project_name", "voucher_no", "implementation_content"):
        assert approved.values[key] in shown
    assert "None" not in shown and "nan" not in shown
    assert [d for d in at.get("download_button") if d.label.startswith("打印视图")]
    exports = [d for d in at.get("download_button") if d.label.startswith("导出我的全部填报")]
    assert exports and "4 条" in exports[0].label


def test_a_return_reason_is_shown_to_the_filler_as_typed(app_env, catalog, reopen):
    from lib import review

    store, mine, own = _own_rows(catalog, reopen, n=1)
    reason = "请 [点此重新登录](http://example.invalid/login) 后修改 ![x](http://example.invalid/a.png)"
    review.return_for_changes(store, catalog.form("att1"), Actor("prov", "province"), {own[0].id: own[0].rev}, reason)

    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, mine)
    at.run()
    assert not at.exception
    [shown] = [w.value for w in at.warning if "审核意见" in w.value]
    assert "](http" not in shown and "![" not in shown and "\\[点此重新登录\\]" in shown


def _view_photo_row():
    """我的填报's 查看全部内容 of the file form's row in session_state, for the actor in session_state."""
    import streamlit as st

    from lib.core.records import Actor
    from lib.store.factory import open_store
    from lib.ui import context
    from lib.ui import my_submissions as mine
    from tests.forms.inline import demo_form
    from tests.pages.test_file_field import PHOTO_FORM

    form = demo_form(PHOTO_FORM)
    store = open_store("local", data_dir=context.settings().data_dir, background=False)
    try:
        record = store.get(form.id, st.session_state["row"])
    finally:
        store.close()
    mine.view(form, record, (), Actor(*st.session_state["actor"]))


def test_the_filer_reads_its_rows_photos_and_another_provider_gets_none_of_them(app_env, reopen):
    from lib.ui.record_view import plain_text

    from .test_file_field import photo_row

    filer = ("p1", "provider", "甲公司", "广州")
    row = photo_row(app_env, reopen, Actor(*filer), status="已通过")  # a finished row: its view is open
    at = AppTest.from_function(_view_photo_row, default_timeout=60)
    at.session_state["row"], at.session_state["actor"] = row.id, filer
    at.run()
    assert not at.exception
    assert [img.captions for img in at.get("image")] == [[plain_text("现场照片.png")]]
    assert len([d for d in at.get("download_button") if "现场照片" in d.label]) == 1

    other = AppTest.from_function(_view_photo_row, default_timeout=60)
    other.session_state["row"], other.session_state["actor"] = row.id, ("p2", "provider", "乙公司", "广州")
    other.run()
    assert not other.exception
    assert not other.get("image") and not [d for d in other.get("download_button") if "现场照片" in d.label]
    assert any("无权查看文件内容" in c.value for c in other.caption)
