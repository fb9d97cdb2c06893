"""A row's answers as a Word document (``.docx``): the report a lead unit files, as the city forwards it.

Form-generic: the title is the form's, then a line naming the filer, the row and its dates, then each
section the form shows for these answers (``lib.forms.display.answered_sections``, as the print view
does) under a heading with the section's title — the outline's numbering (一、二、…) is the YAML's
titles'. A section's short answers form a two-column table (label | answer); a long text (a
``textarea``, or any answer with a line break or longer than :data:`LONG_TEXT`) is its label as a bold
line, then its text as paragraphs, line breaks kept; a ``table`` field is a Word table with its
columns; a ``file`` field reads as its files' names.

Word and WPS pick a font per script: East Asian text gets ``w:eastAsia`` fonts (仿宋 for the body, 黑体
for headings, 宋体 for the title), which a document made from python-docx's template does not name.
python-docx escapes the text as XML; the characters XML 1.0 cannot hold at all (C0 controls, lone
surrogates) are replaced by U+FFFD first, so no answer can stop the document from being written or opened.

>>> from lib.forms.spec import FormSpec
>>> form = FormSpec.model_validate({"id": "r", "title": "报告", "short_title": "报告", "version": 1, "filled_by": "lead_unit",
...     "sections": [{"key": "a", "title": "一、进度", "fields": [{"key": "done", "label": "完成情况", "type": "textarea"}]}]})
>>> import datetime as dt, io, docx
>>> from lib.core.records import Record
>>> now = dt.datetime(2020, 9, 18, 10, 0)
>>> row = Record("r", "r1", 1, "已提交", 1, "u", "某单位", "", now, now, "u", {"done": "第一行\\n<w:p>&"})
>>> [p.text for p in docx.Document(io.BytesIO(report_docx(form, row, ()))).paragraphs][2:]
['一、进度', '完成情况', '第一行', '<w:p>&']
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from lib.core.records import Record
from lib.core.values import text as value_text
from lib.core.values import wall_time
from lib.forms import FormSpec
from lib.forms.display import Answer, answered_sections
from lib.forms.spec import FieldSpec

#: An answer this long (characters) reads as paragraphs under its label, not in a table cell.
LONG_TEXT = 80
#: Fonts by script: Latin text, the body's East Asian text, headings', the title's.
LATIN, BODY, HEADING, TITLE = "Times New Roman", "仿宋", "黑体", "宋体"
# What XML 1.0 cannot hold (lib.core.text.CELL_ILLEGAL's characters; tab, newline and return are fine).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINES = re.compile(r"\r\n|[\r\n\u2028\u2029\x85]")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _clean(value: Any) -> str:
    return _NOT_XML.sub("\ufffd", value if isinstance(value, str) else value_text(value))


def _fonts(rpr_owner, east_asia: str, *, size: float | None = None, bold: bool | None = None) -> None:
    """Set a style's or a run's fonts (Latin and East Asian) and drop the template's theme fonts, which
    Word and WPS would use instead of the names given."""
    font = rpr_owner.font
    font.name = LATIN
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rfonts = rpr_owner.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:eastAsia"), east_asia)


def _styled(document) -> None:
    """A4 portrait, and the body, heading and title styles in Chinese fonts, black."""
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.6)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    _fonts(document.styles["Normal"], BODY, size=12)
    for name, size in (("Heading 1", 15), ("Heading 2", 13)):
        style = document.styles[name]
        _fonts(style, HEADING, size=size, bold=False)
        style.font.color.rgb = RGBColor(0, 0, 0)
    title = document.styles["Title"]
    _fonts(title, TITLE, size=20, bold=True)
    title.font.color.rgb = RGBColor(0, 0, 0)
    # the template draws a rule under the title: an official report has none
    ppr = title.element.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)


def _long(spec: FieldSpec | None, answer: Answer) -> bool:
    return (spec is not None and spec.type == "textarea") or "\n" in answer.text or "\r" in answer.text or len(answer.text) > LONG_TEXT


def _grid(document, rows: list[list[str]], *, header: bool, widths: list[float] | None = None):
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for r, values in enumerate(rows):
        cells = table.rows[r].cells
        for c, value in enumerate(values):
            paragraph = cells[c].paragraphs[0]
            lines = _LINES.split(_clean(value))
            run = paragraph.add_run(lines[0])
            for line in lines[1:]:
                run.add_break()
                run.add_text(line)
            if header and r == 0:
                run.bold = True
            if widths:
                cells[c].width = Cm(widths[c])
    return table


def _paragraphs(document, text: str) -> None:
    for line in _LINES.split(_clean(text)):
        document.add_paragraph(line)


def _section(document, specs: dict[str, FieldSpec], answers: list[Answer]) -> None:
    """One section's answers in form order: runs of short answers as one label | answer table, each long
    text and each table field on its own."""
    short: list[list[str]] = []

    def flush() -> None:
        if short:
            _grid(document, short, header=False, widths=[5.2, 10.6])
            short.clear()

    for answer in answers:
        label = answer.label + ("（自动计算）" if answer.calculated else "")
        spec = specs.get(answer.label)
        if answer.rows is not None:
            flush()
            document.add_paragraph().add_run(_clean(label)).bold = True
            if answer.rows:
                heads = list(answer.rows[0])
                _grid(document, [heads, *([row.get(h, "") for h in heads] for row in answer.rows)], header=True)
            else:
                document.add_paragraph("（无）")
        elif _long(spec, answer):
            flush()
            document.add_paragraph().add_run(_clean(label)).bold = True
            _paragraphs(document, answer.text or "（未填写）")
        else:
            short.append([label, answer.text])
    flush()


def report_docx(form: FormSpec, record: Record, cities: tuple[str, ...], *, campaign_title: str = "",
                printed_on: dt.date | None = None) -> bytes:
    """``record`` of ``form`` as ``.docx`` bytes (see the module's docstring); ``cities`` are the campaign's
    (a city field's answers are checked against them, as on the print view); ``campaign_title`` a line
    above the form's title; ``printed_on`` the day named as the document's date (default: today)."""
    printed_on = printed_on or dt.date.today()
    document = Document()
    _styled(document)
    props = document.core_properties
    props.title, props.author, props.comments = _clean(form.title)[:255], _clean(record.org or record.owner)[:255], ""
    props.last_modified_by, props.keywords, props.subject = "", "", _clean(campaign_title)[:255]
    props.created = props.modified = wall_time(record.updated_at)
    if campaign_title:
        line = document.add_paragraph(_clean(campaign_title))
        line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title = document.add_paragraph(_clean(form.title), style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    filed = value_text(wall_time(record.updated_at).date())
    meta = document.add_paragraph(_clean(f"填报单位：{record.org or record.owner}　　提交日期：{filed}　　"
                                         f"记录编号：{record.id}（第{record.rev}版，{record.status}）　　导出日期：{value_text(printed_on)}"))
    meta.alignment = WD_ALIGN_PARAGRAPH.CENTER
    by_title = {s.title: s for s in form.sections}
    for section in answered_sections(form, record.values, cities):
        declared = by_title.get(section.title)
        document.add_heading(_clean(section.title), level=1)
        _section(document, {f.label: f for f in declared.fields} if declared else {}, section.answers)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
