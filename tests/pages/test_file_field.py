"""A ``file`` field on a page (issue 13, outcome 5): a small inline form uploads a PNG through
st.file_uploader; the row keeps its hash and the file is in the data folder; the read-only view shows
the photo to its filer and nothing of it to another provider."""

from __future__ import annotations

import hashlib
import io

from PIL import Image
from streamlit.testing.v1 import AppTest

from lib.core.blobs import Blobs
from lib.core.records import Actor
from lib.ui.record_view import plain_text

FILER = ("p1", "provider", "甲公司", "广州")
OTHER = ("p2", "provider", "乙公司", "广州")


def _fill():
    """The form on the fill page's widgets, with a 提交 that checks the answers and appends the row."""
    import streamlit as st

    from lib.core.records import Actor
    from lib.forms import check_answers
    from lib.forms.columns import sheet_spec
    from lib.store.factory import open_store
    from lib.ui import context, widgets
    from tests.forms.inline import demo_form

    form = demo_form("      - {key: title, label: 项目名称, type: text}\n"
                     "      - {key: photos, label: 现场照片, type: file, required: true, accept: [png, jpeg]}\n")
    widgets.render_form(form, ())
    if st.button("提交"):
        outcome = check_answers(form, widgets.current_answers(form))
        if not outcome.ok:
            st.error("；".join(p.message for p in outcome.problems))
        else:
            store = open_store("local", data_dir=context.settings().data_dir, background=False)
            try:
                store.ensure_sheet(sheet_spec(form))
                record = store.append(form.id, outcome.values, actor=Actor(*st.session_state["actor"]), status="已提交")
            finally:
                store.close()
            st.session_state["row"] = record.id


def _view():
    """The read-only view of the stored row for the viewer in session_state."""
    import streamlit as st

    from lib.core.records import Actor
    from lib.store.factory import open_store
    from lib.ui import context, record_view
    from tests.forms.inline import demo_form

    form = demo_form("      - {key: title, label: 项目名称, type: text}\n"
                     "      - {key: photos, label: 现场照片, type: file, required: true, accept: [png, jpeg]}\n")
    store = open_store("local", data_dir=context.settings().data_dir, background=False)
    try:
        record = store.get(form.id, st.session_state["row"])
    finally:
        store.close()
    record_view.show(form, record.values, (), viewer=Actor(*st.session_state["viewer"]), record=record)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 90, 200)).save(out, format="PNG")
    return out.getvalue()


#: The inline form the real pages' tests (审核, 我的填报) show a file field of.
PHOTO_FORM = ("      - {key: title, label: 项目名称, type: text}\n"
              "      - {key: photos, label: 现场照片, type: file, accept: [png, jpeg], max_mb: 5}\n")


def photo_row(app_env, reopen, actor: Actor, *, status: str = "已提交"):
    """A row of the PHOTO_FORM form filed by ``actor`` with one PNG, the file stored as an upload
    stores it (checked, then put under the data folder); the Record."""
    from lib.forms.columns import sheet_spec
    from lib.forms.types import check_file
    from tests.forms.inline import demo_form

    form = demo_form(PHOTO_FORM)
    data = _png()
    item = check_file(form.field("photos"), "现场照片.png", data)
    Blobs(app_env / "files").put(data)
    store = reopen()
    store.ensure_sheet(sheet_spec(form))
    return store.append(form.id, {"title": "上云项目", "photos": [item]}, actor=actor, status=status)


def _filed(app_env) -> tuple[str, dict]:
    at = AppTest.from_function(_fill, default_timeout=30)
    at.session_state["actor"] = FILER
    at.run()
    at.file_uploader[0].upload("../现场\u202e照片.png", _png(), "text/html").run()  # the browser's word is not taken
    assert not at.exception and not at.error
    assert [t.value for t in at.text] == ["现场照片.png（PNG 图片，0.1 KB）"]  # named cleaned, kind from the bytes
    at.text_input[0].input("上云项目")
    [b for b in at.button if b.label == "提交"][0].click().run()
    assert not at.exception and not at.error
    return at.session_state["row"], at


def test_an_uploaded_png_is_stored_by_hash_and_the_row_holds_it(app_env, reopen):
    row_id, _ = _filed(app_env)
    store = reopen()
    values = store.get("demo", row_id).values
    data = _png()
    digest = hashlib.sha256(data).hexdigest()
    assert values["photos"] == [{"sha256": digest, "name": "现场照片.png", "type": "image/png", "size": len(data)}]
    assert (app_env / "files" / digest[:2] / digest).read_bytes() == data
    assert Blobs(app_env / "files").read(digest) == data


def test_a_refused_file_is_named_and_nothing_of_it_is_written(app_env):
    at = AppTest.from_function(_fill, default_timeout=30)
    at.session_state["actor"] = FILER
    at.run()
    at.file_uploader[0].upload("报告.png", b"%PDF-1.7 not a photo", "image/png").run()
    assert len(at.error) == 1 and "「现场照片」的文件「报告.png」" in at.error[0].value  # names the field and the file
    assert not (app_env / "files").exists() or not any(p.is_file() for p in (app_env / "files").rglob("*"))
    [b for b in at.button if b.label == "提交"][0].click().run()
    assert "现场照片" in at.error[-1].value and "row" not in at.session_state  # the required answer is missing


def test_the_view_shows_the_photo_to_its_filer_and_not_to_another_provider(app_env):
    row_id, _ = _filed(app_env)
    shown = AppTest.from_function(_view, default_timeout=30)
    shown.session_state["row"], shown.session_state["viewer"] = row_id, FILER
    shown.run()
    assert not shown.exception
    assert [img.captions for img in shown.get("image")] == [[plain_text("现场照片.png")]]  # a caption is markdown
    downloads = shown.get("download_button")
    assert len(downloads) == 1 and "现场照片" in downloads[0].label

    hidden = AppTest.from_function(_view, default_timeout=30)
    hidden.session_state["row"], hidden.session_state["viewer"] = row_id, OTHER
    hidden.run()
    assert not hidden.exception
    assert not hidden.get("image") and not hidden.get("download_button")
    assert any("无权查看文件内容" in c.value for c in hidden.caption)


def test_the_same_photo_twice_is_one_file_and_delete_takes_it_out_of_the_answer(app_env):
    at = AppTest.from_function(_fill, default_timeout=30)
    at.session_state["actor"] = FILER
    at.run()
    at.file_uploader[0].upload("a.png", _png(), "image/png").run()
    at.file_uploader[0].upload("b.png", _png(), "image/png").run()  # a fresh uploader: the first was taken in
    assert [t.value for t in at.text] == ["a.png（PNG 图片，0.1 KB）"]
    [b for b in at.button if b.label == "删除"][0].click().run()
    assert not at.text and not at.exception
    digest = hashlib.sha256(_png()).hexdigest()
    assert Blobs(app_env / "files").has(digest)  # the bytes stay: another row may name the same file


def test_a_file_missing_from_the_data_folder_is_said_and_the_view_goes_on(app_env):
    row_id, _ = _filed(app_env)
    digest = hashlib.sha256(_png()).hexdigest()
    (app_env / "files" / digest[:2] / digest).unlink()  # a data folder copied without its files
    shown = AppTest.from_function(_view, default_timeout=30)
    shown.session_state["row"], shown.session_state["viewer"] = row_id, FILER
    shown.run()
    assert not shown.exception and not shown.get("image") and not shown.get("download_button")
    assert len(shown.warning) == 1 and "现场照片" in shown.warning[0].value
    assert shown.table  # the rest of the row is still shown


def _receipt():
    """The fill page's receipt of the file form's row in session_state, as the filer in session_state."""
    import streamlit as st

    from lib.core.records import Actor
    from lib.store.factory import open_store
    from lib.ui import context, fill_outcome, state
    from tests.forms.inline import demo_form
    from tests.pages.test_file_field import PHOTO_FORM

    form = demo_form(PHOTO_FORM)
    st.session_state.setdefault(state.receipt_key(form.id), {"id": st.session_state["row"], "rev": 1, "status": "已提交",
                                                             "time": "2020-09-18 10:30:00", "pending": False})
    store = open_store("local", data_dir=context.settings().data_dir, background=False)
    try:
        fill_outcome.show_receipt(store, form, Actor(*st.session_state["actor"]), ())
    finally:
        store.close()


def test_the_receipt_shows_the_photo_just_submitted_with_its_download(app_env, reopen):
    row = photo_row(app_env, reopen, Actor(*FILER))
    at = AppTest.from_function(_receipt, default_timeout=30)
    at.session_state["row"], at.session_state["actor"] = row.id, FILER
    at.run()
    assert not at.exception and any("提交成功" in s.value for s in at.success)
    assert [img.captions for img in at.get("image")] == [[plain_text("现场照片.png")]]
    assert len([d for d in at.get("download_button") if "现场照片" in d.label]) == 1
