"""Uploads are bounded before they are parsed: each hostile workbook is refused with its code and a
Chinese message naming the sheet, cell or part; the bounded reader refuses what the check cannot see
by its memory and time limits, in a subprocess, and the server process survives."""

from __future__ import annotations

import dataclasses
import io
import math
import zipfile

import pytest

from lib.office.excel import read_upload, read_workbook, to_xlsx
from lib.xlsx.bounds import ExcelReadError, WorkbookLimits, check_workbook, column_letters
from tests.io.xlsx_parts import Sheet, cell, ods, patched, row, saved, table, xlsx

LIMITS = WorkbookLimits(max_bytes=10 << 20, max_unzipped_bytes=10 << 20, max_ratio=100, max_rows=5000,
                        max_columns=50, memory_bytes=512 << 20, seconds=60)
HEADER = ["服务券编号", "企业名称", "统一社会信用代码", "服务商", "地市", "年度", "奖补金额（万元）", "兑现状态"]


def register_rows(n: int) -> list[list]:
    return [HEADER] + [[f"SYQ-2019-4401-{i:05d}", f"企业{i}", "91440101MA59ABCDEM", "服务商甲", "广州", 2019, 1.5, "已兑现"]
                       for i in range(n)]


def refusal(data: bytes, limits: WorkbookLimits = LIMITS) -> ExcelReadError:
    with pytest.raises(ExcelReadError) as refused:
        check_workbook(data, limits)
    return refused.value


def test_the_2kb_file_with_one_cell_at_xfd1048576_is_refused_before_parsing(tmp_path):
    data = saved(tmp_path / "far.xlsx", xlsx([Sheet("清单", row(1048576, cell("XFD1048576", 1)))]))
    assert len(data) < 2048
    error = refusal(data)
    assert error.code == "cell_out_of_range"
    assert "「清单」" in str(error) and "XFD1048576" in str(error) and "5000 行、50 列" in str(error)


def test_a_declared_dimension_beyond_the_limits_is_refused(tmp_path):
    data = saved(tmp_path / "dim.xlsx", xlsx([Sheet("S", row(1, cell("A1", "x")), dimension="A1:XFD1048576")]))
    error = refusal(data)
    assert error.code == "dimension" and "A1:XFD1048576" in str(error)


def test_a_register_with_one_stray_cell_at_xfd1_is_refused_naming_the_cell(tmp_path):
    body = table(register_rows(2000)).replace('<row r="1">', f'<row r="1">{cell("XFD1", "x")}', 1)
    data = saved(tmp_path / "stray.xlsx", xlsx([Sheet("兑现清单", body, dimension="A1:H2001")]))
    error = refusal(data)
    assert error.code == "cell_out_of_range" and "「兑现清单」的单元格 XFD1" in str(error)


def test_an_empty_styled_cell_far_away_costs_nothing_and_is_allowed(tmp_path):
    """Readers skip a cell with no value, so the check does too (Excel writes such cells)."""
    data = saved(tmp_path / "styled.xlsx", xlsx([Sheet("S", row(1, cell("A1", 1), '<c r="XFD1" s="1"/>'))]))
    check_workbook(data, LIMITS)
    assert [s.rows for s in read_upload(data, LIMITS)] == [[[1]]]


def test_a_shared_strings_zip_bomb_is_refused_by_its_declared_size(tmp_path):
    bomb = f'<sst xmlns="x"><si><t>{"A" * (60 << 20)}</t></si></sst>'
    data = saved(tmp_path / "bomb.xlsx", xlsx([Sheet("S", row(1, '<c r="A1" t="s"><v>0</v></c>'))], shared_xml=bomb, level=9))
    assert len(data) < 1 << 20
    error = refusal(data)
    assert error.code == "part_too_big" and "xl/sharedStrings.xml" in str(error) and "60.0 MB" in str(error)


def test_a_part_with_a_bomb_like_ratio_is_refused_under_the_size_limit(tmp_path):
    data = saved(tmp_path / "ratio.xlsx", xlsx([Sheet("S", row(1, cell("A1", 1)))], extra={"xl/media/x.bin": b"\0" * (5 << 20)}, level=9))
    error = refusal(data, dataclasses.replace(LIMITS, max_unzipped_bytes=100 << 20))
    assert error.code == "ratio" and "xl/media/x.bin" in str(error)


def test_the_sheets_together_are_bounded_by_rows_times_columns(tmp_path):
    sheets = [Sheet(f"S{i}", row(5000, cell("AX5000", 1))) for i in range(3)]  # each alone is allowed
    error = refusal(saved(tmp_path / "many.xlsx", xlsx(sheets)))
    assert error.code == "area" and "250000" in str(error)


@pytest.mark.parametrize("prolog", [
    '<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
])
def test_xxe_and_entity_expansion_are_refused(tmp_path, prolog):
    data = saved(tmp_path / "dtd.xlsx", xlsx([Sheet("S", row(1, cell("A1", "x")), prolog=prolog)]))
    error = refusal(data)
    assert error.code == "doctype" and "xl/worksheets/sheet1.xml" in str(error)
    with pytest.raises(ExcelReadError) as read:
        read_upload(data, LIMITS)
    assert read.value.code == "doctype"


@pytest.mark.parametrize("name, why", [("x" * 40, "超过 31 个字符"), (" ", "名称为空")])
def test_sheet_names_are_checked(tmp_path, name, why):
    error = refusal(saved(tmp_path / "name.xlsx", xlsx([Sheet(name, row(1, cell("A1", 1)))])))
    assert error.code == "sheet_name" and why in str(error)


def test_a_sheet_name_with_a_control_character_is_refused(tmp_path):
    data = patched(xlsx([Sheet("ab", row(1, cell("A1", 1)))]), "xl/workbook.xml", 'name="ab"', 'name="a&#7;b"')
    assert read_workbook(data)[0].name == "a\x07b"  # what calamine alone would hand on to the import record
    error = refusal(saved(tmp_path / "ctl.xlsx", data))
    assert error.code == "bad_xml" and "xl/workbook.xml" in str(error)  # XML 1.0 cannot hold \x07


def test_the_upload_size_is_checked_first(tmp_path):
    data = saved(tmp_path / "big.xlsx", to_xlsx({}))
    error = refusal(data, dataclasses.replace(LIMITS, max_bytes=len(data) - 1))
    assert error.code == "too_big"


def test_too_many_parts(tmp_path):
    extra = {f"xl/x/{i}.bin": b"" for i in range(10_001)}
    assert refusal(saved(tmp_path / "parts.xlsx", xlsx([Sheet("S")], extra=extra))).code == "too_many_parts"


def test_a_zip_that_understates_a_part_is_refused_when_it_unpacks_more(tmp_path):
    """The reader stops at the declared size; a zip whose directory lies fails its check, not the server."""
    data = bytearray(xlsx([Sheet("S", table([[i] for i in range(3000)]))], level=9))
    book = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = book.getinfo("xl/worksheets/sheet1.xml")
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"xl/worksheets/sheet1.xml") + 1)
    data[central + 24:central + 28] = (100).to_bytes(4, "little")  # the directory's uncompressed size
    assert info.file_size > 100
    error = refusal(saved(tmp_path / "liar.xlsx", bytes(data)))
    assert error.code == "unreadable"


def test_a_well_formed_upload_reads_as_in_process(tmp_path):
    data = saved(tmp_path / "ok.xlsx", to_xlsx({"清单": __import__("pandas").DataFrame(register_rows(30)[1:], columns=HEADER)}))
    check_workbook(data, LIMITS)
    assert read_upload(data, LIMITS) == read_workbook(data)


def test_odd_types_and_numbers_come_back_for_the_caller_to_name():
    body = row(1, cell("A1", "1E+30", "n"), cell("B1", "9" * 5000, "n"), cell("C1", "NaN", "n"), cell("D1", "-1e400", "n"),
               cell("E1", "#DIV/0!", "e"), cell("F1", 1, "b"), cell("G1", "2020-01-01T00:00:00", "d"), cell("H1", "a\u202eb"))
    [sheet] = read_upload(xlsx([Sheet("S", body)]), LIMITS)
    a, b, c, d, e, f, g, h = sheet.rows[0]
    assert a == 1e30 and b == math.inf and math.isnan(c) and d == -math.inf
    assert e is None and f is True and str(g) == "2020-01-01 00:00:00" and h == "a\u202eb"


def test_what_the_check_lets_through_is_bounded_by_the_subprocess_memory_limit(tmp_path):
    """With rows and columns unbounded, the stray-cell register needs 1.4 GB to read: the reading
    subprocess is stopped at its memory limit and this process carries on."""
    body = table(register_rows(2000)).replace('<row r="1">', f'<row r="1">{cell("XFD1", "x")}', 1)
    data = saved(tmp_path / "stray.xlsx", xlsx([Sheet("S", body)]))
    open_limits = dataclasses.replace(LIMITS, max_rows=1 << 21, max_columns=1 << 15, memory_bytes=256 << 20)
    check_workbook(data, open_limits)
    with pytest.raises(ExcelReadError) as refused:
        read_upload(data, open_limits)
    assert refused.value.code == "read_memory" and "256 MB" in str(refused.value)


def test_a_read_that_outlasts_its_time_limit_is_refused():
    with pytest.raises(ExcelReadError) as refused:
        read_upload(to_xlsx({}), dataclasses.replace(LIMITS, seconds=0.001))  # no interpreter starts that fast
    assert refused.value.code == "read_timeout"


def test_bytes_that_are_no_workbook_are_refused_by_the_reader():
    with pytest.raises(ExcelReadError) as refused:
        read_upload(b"PK\x03\x04 not really", LIMITS)
    assert refused.value.code == "unreadable" and "无法读取该文件" in str(refused.value)


def test_a_corrupted_part_is_refused_as_unreadable_by_the_check_and_the_reader(tmp_path):
    data = bytearray(xlsx([Sheet("S", table([[f"第{i}行", i] for i in range(500)]))]))
    start = data.find(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml") + 40
    data[start:start + 64] = bytes(range(64))  # deflate data no writer made
    assert refusal(bytes(data)).code == "unreadable"
    with pytest.raises(ExcelReadError) as refused:
        read_upload(saved(tmp_path / "broken.xlsx", bytes(data)), LIMITS)
    assert refused.value.code == "unreadable"


LIBREOFFICE_TAIL = ('<table:table-row table:number-rows-repeated="1048573">'
                    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>')
ODS_BOMB = ('<table:table-row table:number-rows-repeated="100000"><table:table-cell office:value-type="float" '
            'office:value="1" table:number-columns-repeated="1000"/></table:table-row>')


def test_an_ods_is_checked_with_its_repeats_and_empty_repeats_cost_nothing(tmp_path):
    rows = ('<table:table-row><table:table-cell office:value-type="string"><text:p>编号</text:p></table:table-cell>'
            '<table:table-cell table:number-columns-repeated="1023"/></table:table-row>'
            '<table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="float" office:value="2"/>'
            '</table:table-row>' + LIBREOFFICE_TAIL)  # as LibreOffice writes the unused rest of a sheet
    data = saved(tmp_path / "ok.ods", ods({"清单": rows}))
    check_workbook(data, LIMITS)
    assert [(s.name, s.rows) for s in read_upload(data, LIMITS)] == [("清单", [["编号"], [2], [2]])]
    error = refusal(saved(tmp_path / "bomb.ods", ods({"清单": ODS_BOMB})))
    assert error.code == "cell_out_of_range" and "「清单」的单元格 ALL100000" in str(error)


def test_an_ods_repeat_bomb_the_check_lets_through_is_stopped_by_the_subprocess_limit(tmp_path):
    open_limits = dataclasses.replace(LIMITS, max_rows=1 << 21, max_columns=1 << 15, memory_bytes=256 << 20)
    data = saved(tmp_path / "bomb.ods", ods({"清单": ODS_BOMB}))
    check_workbook(data, open_limits)
    with pytest.raises(ExcelReadError) as refused:
        read_upload(data, open_limits)
    assert refused.value.code == "read_memory"


@pytest.mark.parametrize("body, placed", [
    ('<row r="61"><c r="C24"><v>1</v></c><c><v>2</v></c></row>', "D61"),  # found by the fuzz test
    ('<row r="3"><c><v>1</v></c></row><row><c r="B7"><v>2</v></c></row>' + "<row><c/></row>" * 56 + "<row><c><v>3</v></c></row>", "A61"),
    ('<row r="1"><c r="L1" s="1"/><c><v>1</v></c></row>', "M1"),
])
def test_cells_without_a_reference_are_placed_as_the_reader_places_them(body, placed):
    """A cell without r sits in its <row>'s row (not the previous cell's), one column after the previous cell."""
    tight = dataclasses.replace(LIMITS, max_rows=60, max_columns=12)
    error = refusal(xlsx([Sheet("S", body)]), tight)
    assert error.code == "cell_out_of_range" and f"单元格 {placed} " in str(error)
    [sheet] = read_upload(xlsx([Sheet("S", body)]), dataclasses.replace(tight, max_rows=100, max_columns=100))
    r, c = max((i + 1, j + 1) for i, cells in enumerate(sheet.rows) for j, v in enumerate(cells) if v is not None)
    assert f"{column_letters(c)}{r}" == placed  # calamine reads the last value where the check placed it


def test_the_reader_refuses_a_sheet_over_the_limits_before_making_python_objects_of_it():
    """The subprocess's last line for what no check measured (a .xls): the rectangle calamine found."""
    from lib.xlsx.reader import read_cells

    tight = dataclasses.replace(LIMITS, max_rows=5, max_columns=5)
    assert read_cells(xlsx([Sheet("S", row(5, cell("E5", 1)))]), tight)[0][1][4] == [None] * 4 + [1]
    with pytest.raises(ExcelReadError) as refused:
        read_cells(xlsx([Sheet("S", row(6, cell("E6", 1)))]), tight)
    assert refused.value.code == "sheet_too_large" and "「S」读出 6 行、5 列" in str(refused.value)


@pytest.mark.parametrize("name", ["\u202e单兑现券务服", "台账\u200b", "清单\u2066x", "台账\u2028清单"])
def test_a_sheet_or_file_name_with_direction_or_invisible_characters_is_refused(name):
    """A name is quoted in messages and the import record: it must read as it is stored."""
    from lib.xlsx.bounds import name_problem, shown_name

    assert "文字方向、换行或不可见字符" in name_problem(name)
    assert "[U+" in shown_name(name) and "\u202e" not in shown_name(name)
