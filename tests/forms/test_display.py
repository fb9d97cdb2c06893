"""A ``file`` field's answer read by a person (issue 13, outcome 5): its file names, never the stored
hashes, wherever a row is read as text — the print view, the export, the sections of the read-only view."""

from __future__ import annotations

import datetime as dt
import hashlib

from lib.core.records import Record
from lib.forms import check_answers
from lib.forms.display import answered_sections, file_text, value_text
from lib.listing import export_frame
from lib.office.print_view import print_html
from tests.forms.inline import demo_form

FORM = demo_form("      - {key: title, label: 项目名称, type: text}\n"
                 "      - {key: photos, label: 现场照片, type: file}\n")
PHOTO = {"sha256": hashlib.sha256(b"photo").hexdigest(), "name": "现场照片.jpg", "type": "image/jpeg", "size": 1536000}
REPORT = {"sha256": hashlib.sha256(b"report").hexdigest(), "name": "报告.pdf", "type": "application/pdf", "size": 2048}


def _record(values: dict) -> Record:
    at = dt.datetime(2020, 9, 18, 10, 30)
    return Record("demo", "r00007", 1, "已提交", 1, "p1", "甲公司", "广州", at, at, "p1", values)


def test_a_file_answer_reads_as_its_file_names():
    spec = FORM.field("photos")
    assert check_answers(FORM, {"photos": [PHOTO, REPORT]}).ok  # the shape the row really keeps
    assert value_text(spec, [PHOTO, REPORT]) == "现场照片.jpg；报告.pdf"
    assert value_text(spec, []) == "" and value_text(spec, None) == ""
    assert file_text(PHOTO) == "现场照片.jpg（JPEG 图片，1.46 MB）"


def test_the_sections_the_print_view_and_the_export_name_the_files_not_their_hashes():
    values = {"title": "上云项目", "photos": [PHOTO, REPORT]}
    [section] = answered_sections(FORM, values, ())
    assert [(a.label, a.text, a.rows) for a in section.answers] == [("项目名称", "上云项目", None), ("现场照片", "现场照片.jpg；报告.pdf", None)]

    page = print_html(FORM, _record(values), ())
    assert "现场照片.jpg；报告.pdf" in page
    assert PHOTO["sha256"] not in page and "sha256" not in page

    exported = export_frame(FORM, [_record(values)])
    assert exported["现场照片"].tolist() == ["现场照片.jpg；报告.pdf"]
    assert not exported.map(lambda cell: PHOTO["sha256"] in str(cell)).to_numpy().any()
