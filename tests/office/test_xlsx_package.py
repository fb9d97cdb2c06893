"""The parts ``lib.office.xlsx_package`` writes: the shared strings escaped as XlsxWriter escapes a text,
whatever batch a text falls in; a column's cells built in Arrow as the cell-by-cell f-strings wrote them."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from lib.office.excel import read_workbook, to_xlsx
from lib.office.xlsx_package import SharedStrings, cell_xml, entry_texts, number_texts, rows_xml, xml_text
from tests.office.test_export_speed_shape import mixed

# The characters escaping treats apart, and a few it does not.
_PIECES = ["a", "&", "<", ">", "_x0041_", "_X00a1_", "_x", "\x00", "\x01", "\x1f", "\t", "\n", "\r", "\ufffe", "\uffff",
           "\ud800", "长", " ", "𝄞"]
_texts = hs.lists(hs.lists(hs.sampled_from(_PIECES), max_size=5).map("".join), max_size=30)


def _items(xml: bytes) -> list[bytes]:
    return re.findall(rb'<si><t xml:space="preserve">(.*?)</t></si>', xml, re.S)


@settings(max_examples=200, deadline=None)
@given(texts=_texts, batch=hs.integers(1, 8))
def test_each_shared_text_is_escaped_as_xml_text_escapes_it_whatever_its_batch(texts, batch):
    strings = SharedStrings()
    entries = strings.add(texts).tolist()
    xml = b"".join(strings.parts(batch=batch))
    assert xml == strings.xml()
    items = _items(xml)
    assert [items[e] for e in entries] == [xml_text(t).encode("utf-8", "surrogatepass") for t in texts]
    assert xml.endswith(b"</sst>") and f'count="{len(texts)}" uniqueCount="{len(items)}"'.encode() in xml


_numbers = hs.one_of(
    hs.lists(hs.floats(allow_nan=True, allow_infinity=True) | hs.sampled_from([0.1 + 0.2, -0.0, 1e16, 1e-5, 1 / 3]), max_size=20)
    .map(lambda v: np.array(v, dtype=np.float64)),
    hs.lists(hs.integers(-(10**15) + 1, 10**15 - 1), max_size=20).map(lambda v: np.array(v, dtype=np.int64)),
    hs.lists(hs.integers(-(2**63), 2**63 - 1) | hs.sampled_from([-(2**63), 10**15, -(10**15)]), max_size=20)
    .map(lambda v: np.array(v, dtype=np.int64)),
)


@settings(max_examples=200, deadline=None)
@given(values=_numbers, start=hs.integers(2, 10**6), letter=hs.sampled_from(["A", "Z", "AB", "XFD"]))
def test_a_column_of_numbers_is_the_xml_the_cell_by_cell_f_string_wrote(values, start, letter):
    """What ``lib.office.excel`` wrote a cell at a time (``{v:.16G}``, nothing for a number that is not finite)."""
    rows = range(start, start + len(values))
    expected = [f'<c r="{letter}{r}" s="2"><v>{v:.16G}</v></c>' if np.isfinite(v) else ""
                for r, v in zip(rows, values.tolist(), strict=True)]
    built = cell_xml(letter, rows, number_texts(values), ' s="2"')
    assert built.to_pylist() == expected
    assert bytes(rows_xml(rows, [built, ["<c/>"] * len(rows)])) == "".join(
        f'<row r="{r}">{cell}<c/></row>' for r, cell in zip(rows, expected, strict=True)).encode()


def test_shared_string_entries_and_attributes_per_cell():
    rows = range(7, 10)
    built = cell_xml("C", rows, entry_texts(np.array([5, -1, 0])), pa.array([' t="s"', ' t="s"', ' s="3" t="s"']))
    assert built.to_pylist() == ['<c r="C7" t="s"><v>5</v></c>', "", '<c r="C9" s="3" t="s"><v>0</v></c>']
    assert bytes(rows_xml(range(2, 2), [])) == b""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_an_export_cell_for_cell(tmp_path):
    """LibreOffice opens what ``to_xlsx`` writes (every kind of column, escapes, blanks, two chunks) and, saving
    it as its own ``.xlsx``, keeps every cell."""
    frame, kinds = mixed(300)
    frame = frame.drop(columns=["表格", "混合"])  # texts of Python reprs and mixed cells: typed as LibreOffice types them
    source = tmp_path / "导出.xlsx"
    source.write_bytes(to_xlsx({"明细": frame, "二": frame.head(3)}, {"明细": kinds}))
    done = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                           "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"), str(source)],
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    ours, theirs = read_workbook(source.read_bytes()), read_workbook((tmp_path / "out" / "导出.xlsx").read_bytes())
    assert [(s.name, _15_digits(s.rows)) for s in theirs] == [(s.name, _15_digits(s.rows)) for s in ours]


def _15_digits(rows: list[list]) -> list[list]:
    """Floats to the 15 significant digits LibreOffice saves (1/3 comes back 0.333333333333333)."""
    return [[float(f"{v:.15g}") if type(v) is float else v for v in row] for row in rows]
