"""AppTest of the receipt on pages/fill.py (issue 15, outcome 7): after a submission the filer downloads a
print-ready page naming the form, the row id, its revision and time, with every answer, escaped."""

from __future__ import annotations

from html import escape

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from lib.demo.seed import generate
from lib.forms.display import answered_sections, value_text
from lib.ui.record_view import receipt_name

from .test_fill_page import click, fill_in, messages, start

HOSTILE = '<script>alert("x")</script> & <b>粗体</b>'


@pytest.fixture
def att1_row(catalog):
    """A valid 附件1 answer and the provider who files it, from the demo generator."""
    return generate(catalog, rows=40, seed=7)["att1"][0]


def capture_downloads(monkeypatch) -> dict:
    """{file name: the callable a deferred download_button was given} for the runs of the test: the
    button's data as the browser would fetch it on click (AppTest keeps no media manager after a run)."""
    found = {}
    real = MediaFileManager.add_deferred

    def add_deferred(self, data, mimetype, coordinates, file_name=None, **kwargs):
        found[file_name] = data
        return real(self, data, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return found


@pytest.fixture
def downloads(monkeypatch):
    return capture_downloads(monkeypatch)


def test_the_receipt_is_a_print_ready_page_holding_every_answer_escaped(app_env, catalog, att1_row, reopen, downloads):
    form = catalog.form("att1")
    values = {**att1_row.values, "remarks": HOSTILE, "project_name": "项目<i>甲</i>"}
    at = start(att1_row.actor)
    fill_in(at, form, values)
    at = click(at.run(), "提交")
    assert "提交成功" in messages(at.success), messages(at.error)
    [record] = reopen().records("att1")

    name = receipt_name(form, record)
    assert name == f"回执-{form.short_title}-{record.id}-第{record.rev}版.html"
    [button] = [b for b in at.get("download_button") if b.proto.label.startswith("下载回执")]
    assert button.proto.deferred_file_id  # built when clicked, from the stored row
    page = downloads[name]()
    assert page.startswith("<!DOCTYPE html>") and "window.print()" in page
    for shown in (form.title, record.id, str(record.rev), value_text(None, record.updated_at)):
        assert escape(shown) in page
    answers = [a for section in answered_sections(form, record.values, catalog.campaign.cities) for a in section.answers]
    assert len(answers) > 10
    for answer in answers:
        texts = [answer.text] if answer.rows is None else [v for row in answer.rows for v in row.values()]
        for text in texts:
            assert escape(text) in page, (answer.label, text)
    assert escape(HOSTILE) in page and HOSTILE not in page and "<i>甲</i>" not in page
