"""An upload no library can read is refused in Chinese only: the library's exception class (attack M13:
"无法读取该文件……（CalamineError）") is kept for the server's log, never shown to the person who uploaded."""

from __future__ import annotations

import re

import pytest

from lib.office.excel import to_xlsx
from lib.xlsx.bounds import ExcelReadError, WorkbookLimits, check_workbook
from lib.xlsx.reader import read_bounded, read_cells

LIMITS = WorkbookLimits(max_bytes=10 << 20, max_unzipped_bytes=10 << 20, max_ratio=100, max_rows=5000,
                        max_columns=50, memory_bytes=512 << 20, seconds=60)


def _corrupted() -> bytes:
    """A workbook whose sheet's deflate data no writer made: zipfile/zlib raise while it is checked."""
    data = bytearray(to_xlsx({"清单": __import__("pandas").DataFrame({"编号": [f"第{i}行" for i in range(500)]})}))
    start = data.find(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml") + 40
    data[start:start + 64] = bytes(range(64))
    return bytes(data)


def _latin_words(message: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]{2,}", message)) - {"Excel", "xlsx"}


@pytest.mark.parametrize("data", [b"PK\x03\x04 not really", "编号,名称\nV-1,甲\n".encode(), b""], ids=["pk", "csv", "empty"])
def test_bytes_no_reader_takes_are_refused_in_chinese_with_no_class_name(data):
    with pytest.raises(ExcelReadError) as in_process:
        read_cells(data, LIMITS)
    with pytest.raises(ExcelReadError) as bounded:
        read_bounded(data, LIMITS)
    for refused in (in_process.value, bounded.value):
        assert refused.code == "unreadable" and not _latin_words(str(refused)), str(refused)
        assert refused.params["cause"]  # what the library raised, for the log


def test_a_part_the_check_cannot_inflate_is_refused_in_chinese_with_no_class_name():
    with pytest.raises(ExcelReadError) as refused:
        check_workbook(_corrupted(), LIMITS)
    assert refused.value.code == "unreadable" and not _latin_words(str(refused.value)), str(refused.value)
