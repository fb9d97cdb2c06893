"""A read-only view of one whole row, and its print view, for 审核, 我的填报 and the fill page's receipt.

What is shown is ``lib.forms.display.answered_sections``: the sections and fields the form shows for
these answers, calculated values computed, tables as small tables, blanks blank. The print view is a
standalone HTML file (``lib.office.print_view``) offered as a download; it carries its own 打印 button.
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from lib.core.records import Record
from lib.forms import FormSpec
from lib.forms.display import Answer, answered_sections
from lib.office.print_view import file_name, print_html

# Every ASCII punctuation character: CommonMark lets each be escaped, and escaped they start no
# emphasis, link, image, list, formula, Streamlit colour directive, nor an autolink ("http://", "www.").
_MARKDOWN = re.compile(r"([!-/:-@\[-`{-~])")


def plain_text(text: str) -> str:
    """``text`` shown as typed in Streamlit markdown: for whatever a person typed (a reviewer's
    return reason, a refusal quoting an answer), so it cannot bring a link or an image to the page."""
    return _MARKDOWN.sub(r"\\\1", text)


def _label(answer: Answer) -> str:
    return answer.label + ("（自动计算）" if answer.calculated else "")


def show(form: FormSpec, values: dict, cities: tuple[str, ...], *, warnings: list[str] | None = None,
         reminders: list[str] | None = None) -> None:
    """Draw every section of the row ``values`` read-only; above them ``warnings`` (rules the row no
    longer meets) and ``reminders`` (the form's warnings its answers raise, which the filler
    confirmed), as texts. st.table renders Markdown in its cells: what the filler typed is escaped,
    so a reviewer never gets a link or an image from an answer."""
    if warnings:
        st.warning("请留意：\n\n" + "\n".join(f"- {plain_text(w)}" for w in warnings))
    if reminders:
        st.warning("填报提醒（提交时由填报单位确认），请核实：\n\n" + "\n".join(f"- {plain_text(w)}" for w in reminders))
    for section in answered_sections(form, values, cities):
        st.markdown(f"**{section.title}**")
        plain: list[Answer] = []
        for answer in section.answers + [None]:
            if answer is not None and answer.rows is None:
                plain.append(answer)
                continue
            if plain:  # consecutive plain fields as one two-column table, in form order
                st.table(pd.DataFrame({"字段": [_label(a) for a in plain], "内容": [plain_text(a.text) for a in plain]}),
                         hide_index=True, hide_header=True)
                plain = []
            if answer is not None:
                st.caption(f"{answer.label}（{len(answer.rows)} 行）")
                if answer.rows:
                    st.table(pd.DataFrame([{k: plain_text(v) for k, v in row.items()} for row in answer.rows]), hide_index=True)


def print_button(form: FormSpec, record: Record, cities: tuple[str, ...], *, key: str) -> None:
    """A button that downloads the row's print view (an .html page with its own 打印 button)."""
    st.download_button(  # the page is built only when clicked: most runs never print
        "打印视图", lambda: print_html(form, record, cities), file_name=file_name(form, record),
        mime="text/html", key=key, icon="🖨️", on_click="ignore",
        help="下载本条记录的完整内容（网页文件），用浏览器打开后点“打印”或按 Ctrl+P。",
    )
