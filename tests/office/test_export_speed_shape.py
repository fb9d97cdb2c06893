"""The column-at-a-time writer (``to_xlsx``) writes every cell as the cell-by-cell XlsxWriter path did;
a text is always text; a build reports its progress to its own caller only, and holds nothing another
build needs."""

from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from lib.core.values import xlsx_format
from lib.office import excel
from lib.office.excel import CellFormats, column_width, read_workbook, reporting, to_xlsx, write_cell
from lib.xlsx.names import sheet_name


def cell_by_cell(sheets: dict[str, pd.DataFrame], kinds=None) -> bytes:
    """The writer before the column-at-a-time one: XlsxWriter, one ``write_cell`` per cell."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False, "nan_inf_to_errors": False})
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True})
    formats = {kind: book.add_format({"num_format": xlsx_format(kind)}) for kind in ("money", "date", "datetime")}
    taken: set[str] = set()
    for name, frame in (sheets or {"Sheet1": pd.DataFrame()}).items():
        title = sheet_name(name, taken)
        taken.add(title)
        ws = book.add_worksheet(title)
        columns = list(frame.columns)
        declared = (kinds or {}).get(name, {})
        for c, col in enumerate(columns):
            ws.write_string(0, c, str(col), bold)
            ws.set_column(c, c, column_width(str(col), frame[col].head(200).tolist()))
        ws.freeze_panes(1, 0)
        for c, col in enumerate(columns):
            kind = declared.get(str(col), "")
            fmt = CellFormats(formats, number=formats["money"] if kind in ("money", "percent") else None, guess=not kind)
            for r, value in enumerate(frame[col].tolist(), start=1):
                write_cell(ws, r, c, value, fmt)
        if columns and len(frame):
            ws.autofilter(0, 0, len(frame), len(columns) - 1)
    book.close()
    return out.getvalue()


def mixed(n: int, seed: int = 7) -> tuple[pd.DataFrame, dict[str, str]]:
    """``n`` rows of every kind of column an export holds, blanks and edge values among them."""
    rng = np.random.default_rng(seed)
    pick = lambda options: [options[i] for i in rng.integers(0, len(options), n)]  # noqa: E731
    texts = ["广州市", "=1+1", "0012", " 前后空格 ", "", "_x0041_", "a\x01b", "n\x00l", "http://x.cn", "TRUE", "行一\n行二", "长" * 40_000, "1e5"]
    aware = pd.Timestamp("2020-09-10 02:30:00.999", tz="UTC")
    frame = pd.DataFrame({
        "文本": pd.Series(pick(texts + [None]), dtype="str"),
        "对象文本": pd.Series(pick(texts + [None, float("nan")]), dtype=object),
        "金额": rng.choice([12.5, 3.0, 0.1 + 0.2, -0.0, np.nan, np.inf, 1e16, 123456.789], n),
        "小数": rng.choice([1.2345, 2.0, np.nan, 1 / 3, -7.25], n),
        "整数": rng.integers(-10**6, 10**6, n),
        "大整数": rng.choice([1, 10**15, -(10**15) + 1, 2**62], n),
        "布尔": rng.integers(0, 2, n).astype(bool),
        "是否": pick([True, False, None]),
        "日期": pick([dt.date(2020, 9, 18), dt.date(2021, 2, 28), None]),
        "早日期": pick([dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(2020, 1, 1), None]),
        "时间": pick([dt.datetime(2020, 9, 18, 10, 30, 5, 999_999), dt.datetime(2020, 9, 18), None]),
        "戳": pd.to_datetime(pick([pd.Timestamp("2020-09-18 00:00"), pd.Timestamp("2020-09-18 23:59:59.999999999"), pd.NaT])),
        "带时区": pd.Series(pick([aware, pd.Timestamp("2020-09-10 16:00", tz="UTC"), pd.NaT])),
        "混合时区": pick([dt.datetime(2020, 9, 10, 16, 0, tzinfo=dt.UTC), dt.datetime(2020, 9, 10, 8), None]),
        "多选": pick([["培训辅导", "项目维保"], [], ["甲", None, ""], ("乙",), None, float("nan")]),
        "表格": pick([[{"姓名": "张三", "电话": "138"}], {"k": 1}, {}, None]),
        "核定": pick([Decimal("12.345"), Decimal("3"), Decimal("NaN"), 10**20, None]),
        "奖补": pick([Decimal("12.345"), Decimal("3"), Decimal("-0"), Decimal("0.1") + Decimal("0.2"), None]),
        "系数": pick([Decimal("1.5"), Decimal("2"), None]),
        "可空": pd.array(pick([1, 2, None]), dtype="Int64"),
        "numpy": pick([np.int64(5), np.float64(2.5), np.bool_(True), "文字"]),
        "类别": pd.Categorical(pick(["甲", "乙", None])),
        "混合": pick([1, 2.5, "三", True, dt.date(2020, 1, 2), None, float("nan")]),
    })
    kinds = {"金额": "money", "小数": "number", "大整数": "money", "核定": "money", "奖补": "money", "日期": "date", "时间": "datetime",
             "戳": "datetime", "整数": "integer", "对象文本": "text"}
    return frame, kinds


def cells(data: bytes) -> list[list[list[tuple]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [[[(c.value, c.data_type, c.number_format, c.font.b) for c in row] for row in sheet.iter_rows()] for sheet in book]


def layout(data: bytes) -> list[tuple]:
    """Each sheet's title, frozen pane, autofilter and column widths (XlsxWriter groups equal neighbours)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [(s.title, s.freeze_panes, s.auto_filter.ref,
             {c: d.width for d in s.column_dimensions.values() for c in range(d.min, d.max + 1)}) for s in book]


def test_every_cell_is_written_as_the_cell_by_cell_writer_wrote_it(monkeypatch):
    monkeypatch.setattr(excel, "CHUNK", 700)  # rows written in chunks, the last one short
    frame, kinds = mixed(2_000)
    sheets = {"明细": frame, "明细 ": frame.iloc[:3, :4], "空": pd.DataFrame(columns=["甲", "乙"]), "无列": pd.DataFrame()}
    new, old = to_xlsx(sheets, {"明细": kinds}), cell_by_cell(sheets, {"明细": kinds})
    assert cells(new) == cells(old)
    assert layout(new) == layout(old)
    assert [s.rows for s in read_workbook(new)] == [s.rows for s in read_workbook(old)]


def test_no_sheets_is_one_empty_sheet_as_before():
    assert cells(to_xlsx({})) == cells(cell_by_cell({})) and layout(to_xlsx({})) == layout(cell_by_cell({}))


@pytest.mark.parametrize("value", ["<r>&</r>", "<r><t>粗体</t></r>", "<r>x</r>"])
def test_a_text_that_looks_like_rich_text_xml_stays_that_text(value):
    """XlsxWriter writes a string starting ``<r>`` and ending ``</r>`` as raw XML: a filer's
    ``<r>&</r>`` made the whole export unreadable."""
    [sheet] = read_workbook(to_xlsx({"t": pd.DataFrame({"备注": [value, "下一行"]})}))
    assert sheet.rows[1:] == [[value], ["下一行"]]


@pytest.mark.parametrize("value", ["<r>&</r>", "<r><t>粗体</t></r>", "<r>x</r>"])
def test_write_cell_keeps_a_text_that_looks_like_rich_text_xml(value):
    """The official layouts write cell by cell through XlsxWriter (``write_cell``): the same text stays text there."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    write_cell(book.add_worksheet("t"), 0, 0, value, CellFormats({}))
    book.close()
    assert read_workbook(out.getvalue())[0].rows == [[value]]
    assert openpyxl.load_workbook(io.BytesIO(out.getvalue())).active["A1"].value == value


def test_progress_rises_to_one_for_the_caller_that_asked():
    frame = pd.DataFrame({"序号": range(2 * excel.CHUNK + 3)})
    seen: list[float] = []
    with reporting(seen.append):
        to_xlsx({"a": frame, "b": frame.head(5)})
    assert seen == sorted(seen) and seen[-1] == 1 and len(seen) == 4
    to_xlsx({"a": frame})  # outside the block: nobody is told
    assert len(seen) == 4


def test_a_build_in_progress_holds_nothing_another_build_needs():
    """Session A's export stops half way (inside its progress report); session B's export, in another
    thread, completes meanwhile and reports only to B: A's build holds no lock B needs, and the progress
    of one session never moves another's bar."""
    frame = pd.DataFrame({"序号": range(3 * excel.CHUNK), "名称": ["甲"] * (3 * excel.CHUNK)})
    halfway, release = threading.Event(), threading.Event()
    a_seen: list[float] = []

    def a_report(share: float) -> None:
        a_seen.append(share)
        if len(a_seen) == 1:
            halfway.set()
            release.wait(60)

    a_out: list[bytes] = []
    a = threading.Thread(target=lambda: a_out.append(_built(frame, a_report)))
    a.start()
    try:
        assert halfway.wait(60)
        b_seen: list[float] = []
        b_out: list[bytes] = []
        b = threading.Thread(target=lambda: b_out.append(_built(frame.head(10), b_seen.append)))
        b.start()
        b.join(60)
        assert not b.is_alive() and b_out and b_seen == [1.0]
        assert a_seen == [pytest.approx(1 / 3)] and a.is_alive()
    finally:
        release.set()
        a.join(60)
    assert a_out and a_seen[-1] == 1 and len(read_workbook(a_out[0])[0].rows) == 3 * excel.CHUNK + 1


def _built(frame: pd.DataFrame, progress) -> bytes:
    with reporting(progress):
        return to_xlsx({"a": frame})


def _export_page():
    """A page with one export of ``st.session_state.rows`` rows and another widget."""
    import pandas as pd
    import streamlit as st

    from lib.office.excel import to_xlsx
    from lib.ui.rows import xlsx_download

    def build() -> bytes:
        st.session_state.builds = st.session_state.get("builds", 0) + 1
        return to_xlsx({"a": pd.DataFrame({"序号": range(3)})})

    xlsx_download("导出为 Excel", build, file_name="x.xlsx", key="test:export", rows=st.session_state.rows)
    st.checkbox("其他", key="test:other")


def _page(rows: int):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_export_page, default_timeout=60)
    at.session_state.rows = rows
    return at.run()


def test_a_large_export_is_built_only_when_asked_and_offered_until_the_page_runs_again():
    from lib.ui.rows import PREPARED_FROM

    at = _page(PREPARED_FROM)
    assert not at.exception and "builds" not in at.session_state and not at.get("download_button")
    [prepare] = at.button
    assert prepare.label.startswith("准备导出")
    prepare.click().run()
    assert at.session_state.builds == 1 and len(at.get("download_button")) == 1
    at.checkbox(key="test:other").check().run()  # any other rerun: not built again, asked again
    assert at.session_state.builds == 1 and not at.get("download_button") and at.button[0].label.startswith("准备导出")


def test_a_small_export_is_one_download_button_built_only_when_clicked():
    at = _page(10)
    assert not at.exception and not at.button and len(at.get("download_button")) == 1 and "builds" not in at.session_state


_VALUES = hs.one_of(
    hs.none(), hs.text(alphabet=hs.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=8),
    hs.booleans(), hs.integers(-(10**16), 10**16), hs.floats(allow_nan=True, allow_infinity=True),
    hs.dates(dt.date(1899, 12, 1), dt.date(2100, 1, 1)), hs.datetimes(dt.datetime(1899, 12, 1), dt.datetime(2100, 1, 1)),
    hs.decimals(allow_nan=True, places=3, min_value=-(10**16), max_value=10**16),
    hs.lists(hs.one_of(hs.none(), hs.text(max_size=3)), max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(hs.lists(_VALUES, min_size=1, max_size=12), hs.sampled_from(["", "money", "number", "date", "datetime"]), hs.booleans())
def test_any_column_is_written_as_the_cell_by_cell_writer_wrote_it(values, kind, one_type):
    """A column of any mix of values (or of one type: the column-at-a-time paths), declared or not."""
    if one_type:
        values = [v for v in values if type(v) is type(values[0]) or v is None] or values[:1]
    frame = pd.DataFrame({"列": pd.Series(values, dtype=object)})
    kinds = {"a": {"列": kind}} if kind else None
    assert cells(to_xlsx({"a": frame}, kinds)) == cells(cell_by_cell({"a": frame}, kinds))


def test_a_failure_on_either_side_of_the_deflating_thread_is_raised_to_the_builder():
    from lib.office.xlsx_package import _write_behind

    class Full:
        def write(self, chunk: bytes) -> None:
            raise OSError("no space left")

    with pytest.raises(OSError, match="no space"):
        _write_behind(Full(), (b"x" for _ in range(100)))  # the writer fails: the builder stops and is told

    def broken():
        yield b"x"
        raise ValueError("a value no rule knows")

    written: list[bytes] = []
    with pytest.raises(ValueError):
        _write_behind(type("Part", (), {"write": lambda self, c: written.append(c)})(), broken())
    assert written == [b"x"] and not [t for t in threading.enumerate() if t.name == "xlsx-deflate"]
