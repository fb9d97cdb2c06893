"""A report as Word (lib.office.docx_report): re-read with python-docx, it holds every answer the form
shows, under the sections' headings in form order; hostile text survives as text; any campaign's form."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

import docx
import pytest

from lib.core.records import Record
from lib.demo.benchmark import benchmark_reports
from lib.demo.lexicon import CITY_INFO
from lib.demo.maker import Maker
from lib.forms import load_catalog
from lib.forms.display import answered_sections
from lib.office.docx_report import report_docx

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_catalog(ROOT / "forms")
OTHER = load_catalog(ROOT / "tests" / "campaigns" / "other")
REPORTS = SHIPPED.form(SHIPPED.bindings.of("benchmarks").form)
AT = dt.datetime(2020, 9, 18, 10, 30)


def _record(form, values, org="佛山某某股份有限公司") -> Record:
    return Record(form.id, "r00007", 2, "已提交", 1, "lead1", org, "佛山", AT, AT, "lead1", values)


def _demo_values(n: int = 12) -> list[dict]:
    cities = [CITY_INFO[c] for c in SHIPPED.campaign.cities]
    return [r.values for r in benchmark_reports(Maker(random.Random(7)), REPORTS, n, cities)]


def _read(data: bytes):
    return docx.Document(io.BytesIO(data))


def _texts(document) -> list[str]:
    """Every paragraph's and every table cell's text, in the document's order (cells row by row)."""
    out = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            out += [cell.text for cell in row.cells]
    return out


def _headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]


def _holds_every_answer(form, record, document) -> None:
    text = "\n".join(_texts(document))
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    sections = answered_sections(form, record.values, tuple(SHIPPED.campaign.cities))
    assert _headings(document) == [s.title for s in sections]
    for section in sections:
        for answer in section.answers:
            assert answer.label in text
            if answer.rows:
                for row in answer.rows:
                    assert set(row.values()) <= cells, (answer.label, row)
            elif answer.text:
                for line in answer.text.splitlines():
                    assert line in text, (answer.label, line)


def test_every_answer_of_every_demo_report_is_in_the_document():
    values = _demo_values()
    assert any(v.get("partner_units") for v in values), "a report with a table of partners"
    assert any(v.get("monthly_report_exempt") for v in values), "an exempt report: its sections 一..六 hidden"
    for v in values:
        record = _record(REPORTS, v)
        _holds_every_answer(REPORTS, record, _read(report_docx(REPORTS, record, tuple(SHIPPED.campaign.cities))))


def test_title_filer_and_dates_head_the_document():
    record = _record(REPORTS, _demo_values(1)[0])
    document = _read(report_docx(REPORTS, record, tuple(SHIPPED.campaign.cities), campaign_title=SHIPPED.campaign.title,
                                 printed_on=dt.date(2020, 9, 21)))
    first = [p.text for p in document.paragraphs[:3]]
    assert first[:2] == [SHIPPED.campaign.title, REPORTS.title]
    assert "佛山某某股份有限公司" in first[2] and "2020-09-18" in first[2] and "2020-09-21" in first[2] and "r00007" in first[2]
    assert document.core_properties.title == REPORTS.title


def test_a_table_field_is_a_word_table_with_its_columns():
    values = next(v for v in _demo_values() if v.get("partner_units") and len(v["partner_units"]) >= 2)
    document = _read(report_docx(REPORTS, _record(REPORTS, values), tuple(SHIPPED.campaign.cities)))
    partners = REPORTS.field("partner_units")
    heads = [s.label for s in partners.fields]
    grids = [t for t in document.tables if [c.text for c in t.rows[0].cells] == heads]
    assert len(grids) == 1 and len(grids[0].rows) == 1 + len(values["partner_units"])
    assert [c.text for c in grids[0].rows[1].cells][0] == values["partner_units"][0]["partner_name"]


def test_a_long_text_keeps_its_lines_as_paragraphs_under_a_bold_label():
    values = next(v for v in _demo_values() if not v.get("monthly_report_exempt")) | {"construction_done": "第一项：平台上线\n第二项：设备联网"}
    document = _read(report_docx(REPORTS, _record(REPORTS, values), tuple(SHIPPED.campaign.cities)))
    paragraphs = document.paragraphs
    label = REPORTS.field("construction_done").label
    at = next(i for i, p in enumerate(paragraphs) if p.text == label)
    assert all(r.bold for r in paragraphs[at].runs)
    assert [p.text for p in paragraphs[at + 1: at + 3]] == ["第一项：平台上线", "第二项：设备联网"]


@pytest.mark.parametrize("hostile", ["<w:p>&amp;</w:p>]]>", "A & B < C > D \"E\" 'F'", "😀👍🏽 中文𠀀", "长" * 5000 + "\n" + "尾" * 3000])
def test_hostile_answers_survive_as_text(hostile):
    values = next(v for v in _demo_values() if not v.get("monthly_report_exempt")) | {"key_indicators": hostile, "project_name": hostile[:100]}
    record = _record(REPORTS, values, org=f"单位{hostile[:20]}")
    data = report_docx(REPORTS, record, tuple(SHIPPED.campaign.cities))
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None
    text = "\n".join(_texts(_read(data)))
    for line in hostile.splitlines():
        assert line in text


def test_characters_xml_cannot_hold_do_not_break_the_document():
    """The store refuses them in answers; a name or a form title from elsewhere may still hold one."""
    values = _demo_values(1)[0]
    record = _record(REPORTS, values, org="单位\x07\x00名\ud800")
    document = _read(report_docx(REPORTS, record, tuple(SHIPPED.campaign.cities), campaign_title="活动\x1b标题"))
    assert document.paragraphs[0].text == "活动\ufffd标题"
    assert "单位\ufffd\ufffd名\ufffd" in document.paragraphs[2].text


def test_east_asian_fonts_are_named():
    data = report_docx(REPORTS, _record(REPORTS, _demo_values(1)[0]), tuple(SHIPPED.campaign.cities))
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml").decode("utf-8")
    assert 'w:eastAsia="仿宋"' in styles and 'w:eastAsia="黑体"' in styles
    assert "eastAsiaTheme" not in styles.split('w:styleId="Normal"')[1].split("</w:style>")[0]


def test_the_other_campaigns_report_form_renders_by_the_same_code():
    form = OTHER.form(OTHER.bindings.of("benchmarks").form)
    values = {"item_name": "智能工厂改造", "leader_name": "甲公司", "region": "广州", "funding_line": "省级示范", "build_state": "在建",
              "partner_units": [{"partner_name": "乙研究院", "partner_role": "算法"}], "construction_done": "已完成一期\n二期在建",
              "total_investment": 120.5, "planned_start": dt.date(2020, 5, 1), "contact_name": "张三"}
    record = _record(form, values)
    document = _read(report_docx(form, record, tuple(OTHER.campaign.cities)))
    assert _headings(document)[:2] == ["基本情况", "一、项目建设进度"]
    _holds_every_answer(form, record, document)
    assert "120.50" in "\n".join(_texts(document))
