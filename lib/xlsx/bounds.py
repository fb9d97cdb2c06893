"""What an uploaded workbook may cost to read, checked before any reader parses it.

A workbook's cost to a reader is not its upload size but what it expands to: the zip parts'
uncompressed sizes (a 0.8 MB shared-strings zip bomb is 3.3 GB unpacked) and the rectangle from A1
to its last cell with a value (a reader builds that rectangle densely: one value at XFD1048576 asks
for 17 billion cells). ``check_workbook`` measures both with counters: it reads the zip directory,
then streams each part it needs through expat and stops at the first limit crossed, so the check
costs at most what the limits allow. It imports only the standard library: the reading subprocess
(``lib.xlsx.reader``) runs it before calamine sees the bytes.

A part with a DTD is refused outright: Excel never writes one, and it is how XXE and entity
expansion ("billion laughs") arrive.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from lib.core.errors import AppError
from lib.core.text import BIDI_CHARS, INVISIBLE_CHARS, LINE_BREAKS, quotable
from lib.xlsx.names import MAX_SHEET_CHARS

#: Parts smaller than this are never refused for their compression ratio: a short sheet of empty
#: styled rows compresses 100:1 honestly; only a big part with a huge ratio is a bomb.
RATIO_FLOOR_BYTES = 1 << 20
#: A real workbook has tens of parts; tens of thousands of tiny ones only cost time.
MAX_ZIP_ENTRIES = 10_000
_CHUNK = 1 << 16
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls: not a zip; bounded by the reading subprocess only
_CELL_REF = re.compile(r"^([A-Z]{1,3})([1-9][0-9]*)$")  # as Excel writes it: no $, no lower case, no row 0
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_MB = 1 << 20

MESSAGES = {
    "unreadable": "无法读取该文件，请上传 Excel 工作簿（.xlsx）。（{detail}）",
    "too_big": "文件有 {size} MB，超过上传上限 {limit} MB。请删除多余内容或拆分后重新上传。",
    "too_many_parts": "文件由 {count} 个部件组成，超过上限 {limit}，不像 Excel 保存的工作簿，未读取。",
    "part_too_big": "文件中的部件「{part}」解压后有 {size} MB，超过上限 {limit} MB（解压后合计），未读取。请删除多余内容或拆分后重新上传。",
    "unzipped_too_big": "文件解压后合计 {size} MB，超过上限 {limit} MB，未读取。请删除多余内容或拆分后重新上传。",
    "ratio": "文件中的部件「{part}」压缩比为 {ratio}:1，超过上限 {limit}:1（疑似压缩炸弹），未读取。",
    "doctype": "文件中的部件「{part}」含有 DTD 或实体声明，Excel 工作簿不会含有这些内容，未读取。",
    "bad_xml": "文件中的部件「{part}」不是有效的 XML（第 {line} 行）：文件已损坏，或不是 Excel 保存的工作簿。",
    "sheet_name": "工作表名「{name}」无效：{why}。请在 Excel 中重命名该工作表后重新上传。",
    "bad_reference": "工作表「{sheet}」中的单元格引用「{ref}」无效：文件已损坏，或不是 Excel 保存的工作簿。",
    "dimension": "工作表「{sheet}」声明的数据范围 {ref} 超过上限（最多 {rows} 行、{columns} 列）。请删除多余的行列后重新上传。",
    "cell_out_of_range": "工作表「{sheet}」的单元格 {cell} 有内容，超出允许的范围（最多 {rows} 行、{columns} 列）。请删除该单元格或多余的行列后重新上传。",
    "area": "工作表合计 {cells} 个单元格（每个工作表从 A1 到最后一个有内容的单元格），超过上限 {limit}（{rows} 行 × {columns} 列）。请删除多余的行列或工作表后重新上传。",
    "sheet_too_large": "工作表「{sheet}」读出 {rows} 行、{columns} 列，超过上限（最多 {max_rows} 行、{max_columns} 列，全部工作表合计 {limit} 个单元格）。请删除多余的行列后重新上传。",
    "read_memory": "读取该文件需要超过 {limit} MB 内存，已停止读取。请删除多余的行列或拆分文件后重新上传。",
    "read_timeout": "读取该文件超过 {limit} 秒，已停止读取。请删除多余的行列或拆分文件后重新上传。",
    "busy": "服务器正在读取其他上传的文件，请稍后重新上传。",
}


class ExcelReadError(AppError, ValueError):
    """The upload is not a workbook we read; ``code`` names the reason, ``str()`` is Chinese."""

    code = "excel_unreadable"  # each instance carries the finer code it was raised with

    def __init__(self, code: str, **params: Any):
        super().__init__(MESSAGES[code].format(**params))
        self.code, self.params = code, params


#: The ``detail`` of an "unreadable" refusal when a library raised: the exception's class name is no word
#: for the person who uploaded (it travels as the ``cause`` parameter, which the message does not show,
#: for the server's log).
NOT_A_WORKBOOK = "文件已损坏、已加密，或不是 Excel 保存的工作簿"


def unreadable(exc: BaseException) -> ExcelReadError:
    """The "unreadable" refusal of bytes a library could not read: Chinese, the cause kept apart."""
    return ExcelReadError("unreadable", detail=NOT_A_WORKBOOK, cause=type(exc).__name__)


@dataclass(frozen=True)
class WorkbookLimits:
    """What one upload may cost. ``max_rows`` × ``max_columns`` also bounds the cells of all sheets
    together, since a reader holds every sheet's rectangle at once."""

    max_bytes: int
    max_unzipped_bytes: int
    max_ratio: float
    max_rows: int
    max_columns: int
    memory_bytes: int  # address space of the reading subprocess
    seconds: float  # wall-clock time of the reading subprocess

    @property
    def max_cells(self) -> int:
        return self.max_rows * self.max_columns

    @classmethod
    def from_settings(cls, settings: Any) -> WorkbookLimits:
        return cls(
            max_bytes=int(settings.upload_max_mb * _MB),
            max_unzipped_bytes=int(settings.upload_max_unzipped_mb * _MB),
            max_ratio=float(settings.upload_max_ratio),
            max_rows=int(settings.upload_max_rows),
            max_columns=int(settings.upload_max_columns),
            memory_bytes=int(settings.upload_read_memory_mb * _MB),
            seconds=float(settings.upload_read_seconds),
        )

    @classmethod
    def defaults(cls) -> WorkbookLimits:
        from lib.settings import load_settings

        return cls.from_settings(load_settings({}))


def column_number(letters: str) -> int:
    """Excel column letters as a 1-based number.

    >>> column_number("A"), column_number("AA"), column_number("XFD")
    (1, 27, 16384)
    """
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def column_letters(n: int) -> str:
    """Excel column letters of a 1-based number.

    >>> column_letters(16384)
    'XFD'
    """
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def _mb(n: int) -> str:
    return f"{n / _MB:.1f}"


def name_problem(name: str, max_chars: int = MAX_SHEET_CHARS) -> str | None:
    """Why ``name`` (a sheet's or a file's) cannot be stored as a name, in Chinese; None if it can.

    >>> name_problem("服务券兑现清单") is None, name_problem("a\\x07b"), name_problem("x" * 40)
    (True, '含有控制字符（\\\\x07）', '超过 31 个字符')
    """
    if not name.strip():
        return "名称为空"
    bad = _CONTROL.search(name)
    if bad:
        return f"含有控制字符（\\x{ord(bad.group()):02x}）"
    hidden = BIDI_CHARS.search(name) or INVISIBLE_CHARS.search(name) or LINE_BREAKS.search(name)
    if hidden:  # a name is quoted in messages and the import record: it must read as it is, on one line
        return f"含有文字方向、换行或不可见字符（U+{ord(hidden.group()):04X}）"
    if len(name) > max_chars:
        return f"超过 {max_chars} 个字符"
    return None


def shown_name(name: str) -> str:
    """A name fit for a message: control, direction and invisible characters shown as code points,
    at most 40 characters (lib.forms.types.quotable, the one rule for quoting what a person typed)."""
    return quotable(name)


def check_size(data: bytes, limits: WorkbookLimits) -> None:
    if len(data) > limits.max_bytes:
        raise ExcelReadError("too_big", size=_mb(len(data)), limit=_mb(limits.max_bytes))


@dataclass
class Noticed:
    """What the scan of a .xlsx sheet saw that a reader does not say: cells holding an error value (#N/A,
    #DIV/0! …, which python-calamine reads as blank) and hidden rows, each as 1-based (row, column) / row,
    at most ``NOTICED_MAX`` of each per sheet."""

    errors: list[tuple[int, int]] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)


#: Error cells and hidden rows kept per sheet: enough to name them, bounded like all an upload controls.
NOTICED_MAX = 200


def check_workbook(data: bytes, limits: WorkbookLimits) -> dict[str, Noticed]:
    """Refuse (ExcelReadError) an upload whose reading would cost more than ``limits``; return, per sheet
    of a .xlsx, what its scan noticed (:class:`Noticed`; empty for other formats).

    A .xlsx or .ods is checked in full (sizes, ratios, sheet names, declared dimensions, every
    valued cell's position, repeats included); a .xls only for its size, its reading being bounded
    by the subprocess alone. Bytes that are no zip and no .xls are left for the reader to refuse.
    """
    check_size(data, limits)
    if data.startswith(_OLE2_MAGIC) or not zipfile.is_zipfile(io.BytesIO(data)):
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            _check_parts(book, limits)
            if "xl/workbook.xml" in book.NameToInfo:
                return _check_sheets(book, limits)
            if "content.xml" in book.NameToInfo:
                _check_ods(book, limits)
            return {}
    except ExcelReadError:
        raise
    except Exception as exc:  # zipfile and zlib raise many types for a broken or encrypted file
        raise unreadable(exc) from None


def _check_parts(book: zipfile.ZipFile, limits: WorkbookLimits) -> None:
    infos = book.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise ExcelReadError("too_many_parts", count=len(infos), limit=MAX_ZIP_ENTRIES)
    total = 0
    for info in infos:
        if info.file_size > limits.max_unzipped_bytes:
            raise ExcelReadError("part_too_big", part=info.filename[:100], size=_mb(info.file_size),
                                 limit=_mb(limits.max_unzipped_bytes))
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ExcelReadError("ratio", part=info.filename[:100], ratio=ratio, limit=f"{limits.max_ratio:g}")
        total += info.file_size
    if total > limits.max_unzipped_bytes:
        raise ExcelReadError("unzipped_too_big", size=_mb(total), limit=_mb(limits.max_unzipped_bytes))


def _local(name: str) -> str:
    """An element or attribute name without its namespace (expat gives "uri local")."""
    return name.rpartition(" ")[2].rpartition(":")[2]


class _Refused(Exception):
    """Carries an ExcelReadError out of expat's callbacks."""

    def __init__(self, error: ExcelReadError):
        super().__init__(str(error))
        self.error = error


def _stream(book: zipfile.ZipFile, part: str, start, end=None, budget: list[int] | None = None) -> None:
    """Feed one zip part to expat in chunks; ``start(name, attrs)`` / ``end(name)`` see each element.
    Counts the bytes really unpacked against ``budget`` (a zip may understate its sizes)."""
    parser = expat.ParserCreate(namespace_separator=" ")

    def doctype(*_args):
        raise _Refused(ExcelReadError("doctype", part=part))

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    try:
        with book.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                if budget is not None:
                    budget[0] -= len(chunk)
                    if budget[0] < 0:
                        raise ExcelReadError("unzipped_too_big", size=f"> {_mb(budget[1])}", limit=_mb(budget[1]))
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except _Refused as refused:
        raise refused.error from None
    except expat.ExpatError as exc:
        raise ExcelReadError("bad_xml", part=part, line=exc.lineno) from None


def _sheet_parts(book: zipfile.ZipFile, budget: list[int]) -> list[tuple[str, str]]:
    """(sheet name, zip part) of every worksheet the workbook lists, in workbook order."""
    sheets: list[tuple[str, str]] = []
    targets: dict[str, str] = {}

    def on_sheet(name, attrs):
        if _local(name) == "sheet":
            rid = next((v for k, v in attrs.items() if _local(k) == "id"), "")
            sheets.append((attrs.get("name", ""), rid))

    def on_rel(name, attrs):
        if _local(name) == "Relationship" and "Id" in attrs:
            targets[attrs["Id"]] = attrs.get("Target", "")

    _stream(book, "xl/workbook.xml", on_sheet, budget=budget)
    if "xl/_rels/workbook.xml.rels" in book.NameToInfo:
        _stream(book, "xl/_rels/workbook.xml.rels", on_rel, budget=budget)
    parts = []
    for name, rid in sheets:
        why = name_problem(name)
        if why:
            raise ExcelReadError("sheet_name", name=shown_name(name), why=why)
        target = targets.get(rid, "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        if part not in book.NameToInfo:  # a reader might find it where we did not look: refuse
            raise ExcelReadError("unreadable", detail=f"找不到工作表「{shown_name(name)}」的内容")
        parts.append((name, part))
    return parts


def _check_sheets(book: zipfile.ZipFile, limits: WorkbookLimits) -> dict[str, Noticed]:
    budget = [limits.max_unzipped_bytes, limits.max_unzipped_bytes]
    for part in ("xl/sharedStrings.xml", "[Content_Types].xml"):
        if part in book.NameToInfo:  # read for a DTD only: no cell positions there
            _stream(book, part, lambda name, attrs: None, budget=budget)
    area, noticed = 0, {}
    for sheet, part in _sheet_parts(book, budget):
        noticed[sheet] = Noticed()
        area += _scan_sheet(book, sheet, part, limits, budget, noticed[sheet])
        if area > limits.max_cells:
            raise ExcelReadError("area", cells=area, limit=limits.max_cells, rows=limits.max_rows,
                                 columns=limits.max_columns)
    return noticed


def _scan_sheet(book: zipfile.ZipFile, sheet: str, part: str, limits: WorkbookLimits, budget: list[int],
                noticed: Noticed | None = None) -> int:
    """Check one worksheet's declared dimension and the position of every cell with a value;
    return the cells of its rectangle from A1 (what a reader allocates). A cell counts at its
    first <v> or <is>: an empty styled cell is skipped by readers, so it costs nothing."""
    row = col = max_row = max_col = 0  # row: the <row> element's number, which a cell's own reference does not change
    cell: tuple[int, int] | None = None  # the open cell not yet counted
    error = False  # the open cell's type is an error value (t="e")
    noticed = noticed if noticed is not None else Noticed()
    tags: dict[str, str] = {}  # expat's "namespace local" names, reduced once each

    def position(ref: str) -> tuple[int, int] | None:
        match = _CELL_REF.match(ref)
        if not match:
            return None
        digits = match.group(2)
        number = int(digits) if len(digits) <= 9 else limits.max_rows + 1  # no 5,000-digit int parse
        return number, column_number(match.group(1))

    def beyond(r: int, c: int) -> bool:
        return r > limits.max_rows or c > limits.max_columns

    def start(name, attrs):
        nonlocal row, col, max_row, max_col, cell, error
        tag = tags.get(name) or tags.setdefault(name, _local(name))
        if tag == "c":
            error = attrs.get("t") == "e"
            ref = attrs.get("r")
            if ref:
                pos = position(ref)
                if pos is None:  # a reader might place it anywhere (or fail): refuse what we cannot place
                    raise _Refused(ExcelReadError("bad_reference", sheet=sheet, ref=shown_name(ref)))
                cell, col = pos, pos[1]
            else:  # as calamine places it: the row's number, the column after the previous cell's
                col += 1
                cell = (row, col)
        elif (tag == "v" or tag == "is") and cell is not None:
            r, c = cell
            cell = None
            if beyond(r, c):
                shown = f"{column_letters(min(c, 16384))}{r}" if r <= 1_048_576 else f"第 {r} 行"
                raise _Refused(ExcelReadError("cell_out_of_range", sheet=sheet, cell=shown, rows=limits.max_rows,
                                              columns=limits.max_columns))
            max_row, max_col = max(max_row, r), max(max_col, c)
            if error and len(noticed.errors) < NOTICED_MAX:
                noticed.errors.append((r, c))
        elif tag == "row":
            r = attrs.get("r", "")
            row = (int(r) if len(r) <= 9 else limits.max_rows + 1) if r.isascii() and r.isdigit() else row + 1
            col, cell = 0, None
            if attrs.get("hidden") in ("1", "true") and len(noticed.hidden) < NOTICED_MAX:
                noticed.hidden.append(row)
        elif tag == "dimension":
            ref = attrs.get("ref", "")
            last = position(ref.rpartition(":")[2]) if ref else None
            if last and beyond(*last):
                raise _Refused(ExcelReadError("dimension", sheet=sheet, ref=ref[:40], rows=limits.max_rows,
                                              columns=limits.max_columns))

    _stream(book, part, start, budget=budget)
    return max_row * max_col


def _count(text: str | None, limit: int) -> int:
    """A repeat count attribute, at least 1; a count past ``limit`` is parsed no further."""
    if not text or not (text.isascii() and text.isdigit()):
        return 1
    return int(text) if len(text) <= 9 else limit + 1


def _check_ods(book: zipfile.ZipFile, limits: WorkbookLimits) -> None:
    """An OpenDocument spreadsheet's tables: a row or cell may say it repeats a million times, and
    readers expand the repeats of a cell with a value (trailing empty repeats cost nothing)."""
    state = {"sheet": "", "row": 0, "rows": 1, "col": 0, "cols": 1, "cell": False, "valued": False,
             "max_row": 0, "max_col": 0, "area": 0}
    budget = [limits.max_unzipped_bytes, limits.max_unzipped_bytes]

    def start(name, attrs):
        tag, local = _local(name), {_local(k): v for k, v in attrs.items()}
        if tag == "table":
            why = name_problem(local.get("name", ""))
            if why:
                raise _Refused(ExcelReadError("sheet_name", name=shown_name(local.get("name", "")), why=why))
            state.update(sheet=local["name"], row=0, max_row=0, max_col=0)
        elif tag == "table-row":
            state.update(rows=_count(local.get("number-rows-repeated"), limits.max_rows), col=0)
        elif tag in ("table-cell", "covered-table-cell"):
            state.update(cols=_count(local.get("number-columns-repeated"), limits.max_columns), cell=True,
                         valued="value-type" in local)
        elif tag == "p" and state["cell"]:
            state["valued"] = True

    def end(name):
        tag = _local(name)
        if tag in ("table-cell", "covered-table-cell"):
            if state["valued"]:
                last_row, last_col = state["row"] + state["rows"], state["col"] + state["cols"]
                if last_row > limits.max_rows or last_col > limits.max_columns:
                    cell = f"{column_letters(min(last_col, 16384))}{last_row}" if last_row <= 1_048_576 else f"第 {last_row} 行"
                    raise _Refused(ExcelReadError("cell_out_of_range", sheet=state["sheet"], cell=cell,
                                                  rows=limits.max_rows, columns=limits.max_columns))
                state["max_row"], state["max_col"] = max(state["max_row"], last_row), max(state["max_col"], last_col)
            state.update(col=state["col"] + state["cols"], cell=False, valued=False)
        elif tag == "table-row":
            state["row"] += state["rows"]
        elif tag == "table":
            state["area"] += state["max_row"] * state["max_col"]
            if state["area"] > limits.max_cells:
                raise _Refused(ExcelReadError("area", cells=state["area"], limit=limits.max_cells,
                                              rows=limits.max_rows, columns=limits.max_columns))

    _stream(book, "content.xml", start, end, budget)
