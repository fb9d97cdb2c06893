"""Widgets every list of rows uses (我的填报, 审核, the boards): search, the table, the picker, the Excel export.

What the columns are and how a row is found is ``lib.listing``; this only draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from lib import listing
from lib.core.records import Record
from lib.forms import FormSpec
from lib.office import excel
from lib.ui import locale

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Rows from which an export is prepared on a click, with a progress bar, before it is downloaded
#: (``xlsx_download``); a smaller one is built in about a second when its download button is clicked.
PREPARED_FROM = 5_000


def form_picker(forms: list[FormSpec], *, key: str, wanted: str | None = None) -> FormSpec:
    """A selectbox of ``forms`` by title; the catalog's own FormSpec of the one chosen (``wanted``, a form id
    from the address, is chosen when the widget has no value yet).

    The widget holds the form's id, not the FormSpec: Streamlit deep-copies a widget's value on every run,
    and a copy is a new object each run, so what is kept per form object (``lib.auth.scope``'s judgement
    of a province's queue, 19,000 rows at 20,000) was redone on every run (issue 17)."""
    by_id = {f.id: f for f in forms}
    if wanted in by_id and key not in st.session_state:
        st.session_state[key] = wanted
    return by_id[st.selectbox("表单", list(by_id), format_func=lambda i: by_id[i].title, key=key)]


def search_box(form: FormSpec, *, key: str) -> str:
    """A search field over the rows' summary fields, id and status; returns what was typed."""
    fields = "、".join(f.label for f in form.summary_fields())
    return st.text_input("搜索", key=key, max_chars=listing.MAX_QUERY, placeholder=f"输入{fields}、记录编号或状态中的文字",
                         help="列出任一列含有这段文字的记录；清空则列出全部。")


def page(total: int, *, key: str) -> slice:
    """Which of ``total`` rows the browser gets: all when they fit a page of ``locale.PAGE_ROWS``, else the
    page a 页码 selectbox (key ``key``) names, with a caption of which rows these are.

    A selectbox, not a number field: its pages are its options, so a page that no longer exists (a filter
    left fewer rows) gives way to the first, as Streamlit drops a value that is no longer an option. The page
    chosen stays while the rows change otherwise (a reviewer on page 3 stays there after approving a row).

    A province's queue of 19,000 rows sent 2,000 of them on every run, the table and two pickers of their
    captions (1.3 MB at 20,000 rows, most of 审核's time to open), and rows past the 2,000th could be
    reached only by filtering (issue 17)."""
    size = locale.PAGE_ROWS
    pages = -(-total // size)
    if pages <= 1:
        return slice(0, total)
    left, right = st.columns([4, 1], vertical_alignment="bottom")
    number = right.selectbox("页码", list(range(pages)), key=key, format_func=lambda n: f"第 {n + 1} 页（共 {pages} 页）")
    start = number * size
    left.caption(f"本页列出第 {start + 1:,}–{min(total, start + size):,} 条（共 {total:,} 条，每页 {size} 条）")
    return slice(start, start + size)


def table(form: FormSpec, records: list[Record], reasons: Mapping[str, str] | None = None, *, key: str,
          filer: bool = False) -> list[Record]:
    """The rows as a table whose first columns identify each row, a page of them at a time (``page``, its
    selectbox under ``key``); the rows listed, which the page's pickers offer."""
    listed = records[page(len(records), key=key)]
    st.dataframe(listing.table(form, listed, reasons, filer=filer), hide_index=True, height=min(400, 38 + 35 * len(listed)))
    return listed


def pick(form: FormSpec, records: list[Record], *, label: str, key: str, filer: bool = False) -> Record | None:
    """A selectbox naming each of ``records`` (the rows a table lists: ``table``'s answer) by its id,
    status (its filer when ``filer``) and summary; the row chosen (None if no rows).
    A row chosen before and since filtered away (or on another page) gives way to the first one listed
    (Streamlit drops a selectbox value that is no longer an option)."""
    by_id = {r.id: r for r in records}
    if not by_id:
        return None
    names = listing.captions(form, by_id.values(), filer=filer)
    row_id = st.selectbox(label, list(by_id), key=key, format_func=names.__getitem__)
    return by_id[row_id]


def export_button(form: FormSpec, records: list[Record], reasons: Mapping[str, str] | None, *, label: str, file_name: str, key: str) -> None:
    """An Excel download of ``records`` (every field), built only when asked."""
    xlsx_download(label, lambda: listing.export_workbook(form, records, reasons), file_name=file_name, key=key, disabled=not records,
                  rows=len(records))


def xlsx_download(label: str, workbook: Callable[[], bytes], *, file_name: str, key: str, disabled: bool = False,
                  rows: int | None = None) -> None:
    """The one Excel download button: ``workbook`` builds the file's bytes only when asked, never on a
    page run that did not ask.

    A file of fewer than :data:`PREPARED_FROM` ``rows`` (or of a size not given) is built when the
    button is clicked (deferred data, in Streamlit's worker thread), and the click does not rerun the
    page. A larger one takes seconds: a 准备导出 button builds it in this session's own script run with a
    progress bar, then offers it for download until the page next runs (the data may have changed
    since). Nothing is cached or locked across sessions meanwhile; another session's pages run as usual.
    """
    if rows is None or rows < PREPARED_FROM or disabled:
        st.download_button(label, data=workbook, file_name=file_name, mime=XLSX_MIME, key=key, icon="📥", on_click="ignore",
                           disabled=disabled)
        return
    if not st.button(f"准备{label}（{rows:,} 行）", key=_prepare_key(key), icon="📄", help="生成 Excel 文件，完成后出现下载按钮。"):
        return
    bar = st.progress(0.0, text=f"正在生成 Excel（{rows:,} 行）……")
    with excel.reporting(lambda share: bar.progress(min(1.0, share), text=f"正在生成 Excel（{rows:,} 行）…… {share:.0%}")):
        data = workbook()
    bar.empty()
    st.download_button(label, data=data, file_name=file_name, mime=XLSX_MIME, key=key, icon="📥", on_click="ignore", type="primary")
    st.caption("文件已生成，请点击下载；页面刷新后如需导出请重新准备。")


def _prepare_key(key: str) -> str:
    """The 准备导出 button's key beside its download's ``key`` (a name from lib.ui.state)."""
    return key + ":prepare"
