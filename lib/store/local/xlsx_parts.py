"""The workbook's .xlsx written part by part, rewriting only what changed (issue 17).

An .xlsx is a zip of XML parts; each sheet is its own part. :class:`SheetPart` keeps what it built between
writes: a sheet's rows in blocks of :data:`BLOCK_ROWS`, each block deflated on its own and ended with a full
flush (byte-aligned, no reference to earlier data), so blocks join into one valid deflate stream and the
part's CRC-32 is combined from the blocks' (:func:`crc32_combine`). A block is built again only when one of
its rows is another object than last time (the store's Records and audit rows are immutable: a change is a
new object) or it gained rows; every other block is copied as it is. A new row, or an audit event, so costs
one block, not the whole workbook.

Cells are written as xlsxwriter's constant-memory mode wrote them before (tests/store/test_workbook_parts.py
compares every cell with it): texts as inline strings (``t="inlineStr"``), so no shared-strings part ties
the sheets together and a changed row changes its own sheet's block only; xlsxwriter's escaping (``& < >``,
``_xHHHH_`` for the controls Excel escapes that way, such as a carriage return, and for literal ``_xHHHH_``);
numbers as ``%.16G``; dates and datetimes as Excel serial numbers with their formats.

A restarted writer has none of its blocks in memory: :meth:`SheetPart.seed` takes them back from the file on
disk (``lib.store.local.workbook`` keeps an index of where each block lies and which rows it holds, by
:func:`block_hash` of their keys), so the first change after a restart also builds only its own block.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import struct
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from operator import is_
from typing import Any, BinaryIO

from lib.store.codec import to_cell

#: Rows per deflated block: a change rebuilds this many rows (a few milliseconds).
BLOCK_ROWS = 512
#: zlib's default, as zipfile (and so xlsxwriter) used.
LEVEL = 6
#: The rows' XML and the blocks' layout: another version (a changed row_xml) never takes back old blocks.
FORMAT = 1

#: Cell styles (``cellXfs`` indices): fixed, and number formats after them in the order first asked for.
XF_HEADER, XF_DATETIME, XF_DATE = 1, 2, 3
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"

_ZIP_LIMIT = 0xFFFFFFFF  # no ZIP64: a workbook is read back under 1 GiB (workbook.MAX_READ_BYTES)


# --- cells ------------------------------------------------------------------------------------------

_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_EDGE_SPACE = re.compile(r"^\s|\s$")
_MAX_UTF16 = 32_767


def text_xml(text: str) -> str:
    """A text cell's ``<is>`` content as xlsxwriter wrote it: cut to Excel's 32,767 UTF-16 units, a literal
    ``_xHHHH_`` escaped as ``_x005F_xHHHH_``, controls (a carriage return) as ``_xHHHH_``, then ``& < >``.

    >>> text_xml("a<b & _x0041_\\r")
    '<is><t>a&lt;b &amp; _x005F_x0041__x000D_</t></is>'
    >>> text_xml(" 前后有空格 ")
    '<is><t xml:space="preserve"> 前后有空格 </t></is>'
    """
    if len(text) > _MAX_UTF16 // 2 and len(text.encode("utf-16-le", "surrogatepass")) > 2 * _MAX_UTF16:
        text = text.encode("utf-16-le", "surrogatepass")[: 2 * _MAX_UTF16].decode("utf-16-le", "ignore")
    elif _SPECIAL.search(text) is None:  # nearly every cell: nothing to escape
        return f"<is><t>{text}</t></is>"
    if "_x" in text:
        text = _ESCAPED_ESCAPE.sub(r"_x005F\1", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    preserve = ' xml:space="preserve"' if _EDGE_SPACE.search(text) else ""
    return f"<is><t{preserve}>{text}</t></is>"


_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_|^\s|\s$")


def attribute(text: str) -> str:
    """``text`` escaped for an XML attribute, as xlsxwriter escapes one."""
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", "&#xA;"))


def data(text: str) -> str:
    """``text`` escaped for an element's content, as xlsxwriter escapes one."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@functools.lru_cache(maxsize=4096)  # the rows of one batch share their times
def serial(value: dt.date) -> float:
    """Excel's serial number of a date or a naive datetime (1900 system, with its 1900-02-29), as xlsxwriter
    counts it.

    >>> serial(dt.date(2020, 9, 1)), serial(dt.datetime(2020, 9, 10, 12, 0))
    (44075.0, 44084.5)
    """
    if type(value) is dt.date:
        days = float((dt.datetime.fromordinal(value.toordinal()) - _EPOCH).days)
        return days + 1 if days > 59 else days
    delta = value.replace(tzinfo=None) - _EPOCH
    days = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / 86400
    if value.isocalendar() == (1900, 1, 1):
        days -= 1
    return days + 1 if days > 59 else days


_EPOCH = dt.datetime(1899, 12, 31)


@functools.lru_cache(maxsize=1024)
def column_name(col: int) -> str:
    """A column's letters.

    >>> column_name(0), column_name(25), column_name(26), column_name(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    name = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        name = chr(65 + rest) + name
    return name


def row_xml(n: int, cells: Sequence[Any], numbers: Sequence[str] = (), style: int = 0) -> str:
    """One ``<row>``: ``cells`` as :func:`lib.store.codec.to_cell` shows them (a blank or "" writes no
    cell); ``numbers`` gives each column's `` s="…"`` for numbers ("" for General); ``style`` every text's."""
    r = str(n)
    text_style = f' s="{style}"' if style else ""
    refs = _refs(len(cells))
    out = [f'<row r="{r}">']
    add = out.append
    for c, value in enumerate(cells):
        if type(value) is str:  # most cells: no conversion
            if value:
                add(f'{refs[c]}{r}"{text_style} t="inlineStr">{text_xml(value)}</c>')
            continue
        if value is None:
            continue
        cell = to_cell(value)
        t = type(cell)
        if t is str:
            if cell:
                add(f'{refs[c]}{r}"{text_style} t="inlineStr">{text_xml(cell)}</c>')
        elif t is int or t is float:
            add(f'{refs[c]}{r}"{numbers[c] if c < len(numbers) else ""}><v>{cell:.16G}</v></c>')
        elif t is dt.datetime:
            add(f'{refs[c]}{r}" s="{XF_DATETIME}"><v>{serial(cell):.16G}</v></c>')
        elif t is dt.date:
            add(f'{refs[c]}{r}" s="{XF_DATE}"><v>{serial(cell):.16G}</v></c>')
        elif cell is not None:
            add(f'{refs[c]}{r}"{text_style} t="inlineStr">{text_xml(str(cell))}</c>')
    add("</row>")
    return "".join(out)


@functools.lru_cache(maxsize=16)
def _refs(count: int) -> list[str]:
    """Each column's cell start up to its row number: ``<c r="A``, ``<c r="B`` …"""
    return [f'<c r="{column_name(c)}' for c in range(count)]


class Styles:
    """The workbook's cell styles: default, header (bold, light blue, thin border), datetime, date, then
    one per number format in the order first asked for. Only grows, so a style id in a kept block stays
    right in every later ``styles.xml``."""

    def __init__(self) -> None:
        self._formats: dict[str, int] = {DATETIME_FORMAT: 164, DATE_FORMAT: 165}  # format -> numFmtId
        self._xfs: dict[str, int] = {}  # a number format -> its xf index

    def number(self, pattern: str) -> str:
        """The `` s="…"`` attribute of a number cell with ``pattern`` ("" for General)."""
        if not pattern:
            return ""
        if pattern not in self._xfs:
            self._formats.setdefault(pattern, 164 + len(self._formats))
            self._xfs[pattern] = XF_DATE + 1 + len(self._xfs)
        return f' s="{self._xfs[pattern]}"'

    def state(self) -> list[list[Any]]:
        """What :meth:`restore` takes back: the formats and styles in the order they were first asked for."""
        return [list(self._formats.items()), list(self._xfs.items())]

    def restore(self, state: Sequence[Sequence[Any]]) -> None:
        """Take back :meth:`state`, so kept blocks' style ids stay right; raises on a malformed one."""
        formats, xfs = ({str(p): int(i) for p, i in pairs} for pairs in state)
        self._formats, self._xfs = formats, xfs

    def xml(self) -> bytes:
        fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{attribute(p)}"/>' for p, i in self._formats.items())
        xfs = [_XF.format(self._formats[p]) for p in (DATETIME_FORMAT, DATE_FORMAT, *self._xfs)]
        return (f'{_XML_HEAD}<styleSheet xmlns="{_MAIN}"><numFmts count="{len(self._formats)}">{fmts}</numFmts>'
                f"{_STYLE_BODY}<cellXfs count=\"{2 + len(xfs)}\">{_XF_DEFAULT}{_XF_HEADER}{''.join(xfs)}</cellXfs>"
                f"{_STYLE_END}").encode()


# --- blocks and parts -------------------------------------------------------------------------------


class Piece:
    """Deflated bytes ending on a full flush, with the CRC-32 and length of what they hold."""

    __slots__ = ("crc", "data", "size")

    def __init__(self, raw: bytes):
        z = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
        self.data = z.compress(raw) + z.flush(zlib.Z_FULL_FLUSH)
        self.crc, self.size = zlib.crc32(raw), len(raw)

    @classmethod
    def packed(cls, data: bytes, crc: int, size: int) -> Piece:
        """A piece already deflated (read back from a file we wrote)."""
        piece = cls.__new__(cls)
        piece.data, piece.crc, piece.size = data, crc, size
        return piece


def block_hash(keys: Iterable[str]) -> str:
    """What identifies a block's rows: a hash of their keys (a row's id and revision) in order.

    >>> block_hash(["r1\x1f1", "r2\x1f3"]) == block_hash(["r1\x1f1", "r2\x1f3"]) != block_hash(["r1\x1f1"])
    True
    """
    return hashlib.blake2b("\n".join(keys).encode(), digest_size=16).hexdigest()


class _Block:
    __slots__ = ("hash", "piece", "sources")

    def __init__(self, sources: list[Any], piece: Piece | None, hash: str | None):
        self.sources, self.piece, self.hash = sources, piece, hash


class SheetPart:
    """One worksheet's rows, kept as deflated blocks between writes. ``signature`` is everything its rows'
    XML depends on besides the rows (columns, formats, labels): another signature means a new part.
    ``key(source)`` names a row's content (id and revision) for :func:`block_hash`."""

    def __init__(self, signature: Any, key: Callable[[Any], str]):
        self.signature, self.key = signature, key
        self._blocks: list[_Block] = []
        self.rebuilt = 0  # blocks built by the last update, for the bench and tests

    def seed(self, sources: Sequence[Any], kept: Sequence[tuple[str, Piece]]) -> int:
        """Take back blocks read from a file we wrote: block ``k`` of ``kept`` (its rows' hash, its piece) is
        kept, with ``sources``' rows ``k * BLOCK_ROWS …`` as its sources, when those rows hash the same.
        Only for a part that has built nothing yet; returns how many blocks were taken back."""
        taken = 0
        for k, (digest, piece) in enumerate(kept):
            chunk = list(sources[k * BLOCK_ROWS:(k + 1) * BLOCK_ROWS])
            if chunk and block_hash(map(self.key, chunk)) == digest:
                self._blocks.append(_Block(chunk, piece, digest))
                taken += 1
            else:  # never matches: built by the next update
                self._blocks.append(_Block([], None, None))
        return taken

    def index(self) -> list[tuple[str, Piece]]:
        """Each block's rows' hash and piece, as the last update left them."""
        return [(b.hash, b.piece) for b in self._blocks]

    def update(self, sources: Sequence[Any], render: Callable[[int, Any], str]) -> list[Piece]:
        """The pieces of rows 2… from ``sources`` (row ``n`` rendered by ``render(n, source)``), building only
        the blocks whose sources are not the very objects they were built from."""
        self.rebuilt = 0
        count = (len(sources) + BLOCK_ROWS - 1) // BLOCK_ROWS
        for k in range(count):
            start = k * BLOCK_ROWS
            chunk = list(sources[start:start + BLOCK_ROWS])
            old = self._blocks[k] if k < len(self._blocks) else None
            if old is not None and len(old.sources) == len(chunk) and all(map(is_, old.sources, chunk)):
                continue
            raw = "".join([render(start + i + 2, s) for i, s in enumerate(chunk)]).encode()
            block = _Block(chunk, Piece(raw), block_hash(map(self.key, chunk)))
            if old is None:
                self._blocks.append(block)
            else:
                self._blocks[k] = block
            self.rebuilt += 1
        del self._blocks[count:]
        return [b.piece for b in self._blocks]


def sheet_head(columns: int, rows: int, *, selected: bool, freeze_column: bool, widths: Sequence[int],
               header: Sequence[str]) -> bytes:
    """Everything before the data rows: dimension, view and frozen panes, column widths, the header row
    (row 1, in the header style). ``rows`` counts the data rows."""
    last = f"{column_name(columns - 1)}{rows + 1}"
    dimension = "A1" if last == "A1" else f"A1:{last}"
    tab = ' tabSelected="1"' if selected else ""
    if freeze_column:
        pane = ('<pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" state="frozen"/>'
                '<selection pane="topRight" activeCell="B1" sqref="B1"/>'
                '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/><selection pane="bottomRight"/>')
    else:
        pane = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>'
    cols, c = [], 0
    while c < len(widths):
        end = c
        while end + 1 < len(widths) and widths[end + 1] == widths[c]:
            end += 1
        chars = ((int(widths[c] * 7 + 0.5) + 5) * 256 // 7) / 256.0  # as Excel (and xlsxwriter) rounds a width
        cols.append(f'<col min="{c + 1}" max="{end + 1}" width="{chars:.16g}" customWidth="1"/>')
        c = end + 1
    return (f'{_XML_HEAD}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="{dimension}"/>'
            f'<sheetViews><sheetView{tab} workbookViewId="0">{pane}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{"".join(cols)}</cols><sheetData>'
            f"{row_xml(1, header, style=XF_HEADER)}").encode()


SHEET_TAIL = (b'</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
              b'footer="0.3"/></worksheet>')


def package(names: Sequence[str], styles: Styles) -> dict[str, bytes]:
    """The small parts around the sheets, for worksheets named ``names`` (sheet1.xml … in that order)."""
    n = len(names)
    types = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}worksheet+xml"/>'
                    for i in range(1, n + 1))
    sheets = "".join(f'<sheet name="{attribute(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, 1))
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_OD}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, n + 1))
    titles = "".join(f"<vt:lpstr>{data(name)}</vt:lpstr>" for name in names)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    texts = {
        "[Content_Types].xml": f"{_XML_HEAD}{_TYPES_HEAD}{types}</Types>",
        "_rels/.rels": f"{_XML_HEAD}{_ROOT_RELS}",
        "docProps/app.xml": f"{_XML_HEAD}{_APP_HEAD}<vt:i4>{n}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
                            f'<TitlesOfParts><vt:vector size="{n}" baseType="lpstr">{titles}</vt:vector>'
                            f"</TitlesOfParts>{_APP_TAIL}",
        "docProps/core.xml": f"{_XML_HEAD}{_CORE_HEAD}<dcterms:created xsi:type=\"dcterms:W3CDTF\">{now}"
                             f"</dcterms:created><dcterms:modified xsi:type=\"dcterms:W3CDTF\">{now}"
                             "</dcterms:modified></cp:coreProperties>",
        "xl/_rels/workbook.xml.rels": f'{_XML_HEAD}<Relationships xmlns="{_PKG}/relationships">{rels}'
                                      f'<Relationship Id="rId{n + 1}" Type="{_OD}/theme" Target="theme/theme1.xml"/>'
                                      f'<Relationship Id="rId{n + 2}" Type="{_OD}/styles" Target="styles.xml"/>'
                                      "</Relationships>",
        "xl/workbook.xml": f"{_XML_HEAD}{_WORKBOOK_HEAD}<sheets>{sheets}</sheets>"
                           '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
    }
    return {**{name: text.encode() for name, text in texts.items()}, "xl/styles.xml": styles.xml(),
            "xl/theme/theme1.xml": _theme()}


# --- the zip ----------------------------------------------------------------------------------------

END = zlib.compressobj(LEVEL, zlib.DEFLATED, -15).flush()  # an empty final block: ends a part's stream


def write_zip(out: BinaryIO, parts: Sequence[tuple[str, Sequence[Piece]]]) -> list[int]:
    """Write a zip of ``parts`` (name, its pieces in order) to ``out``: each part's pieces joined as one
    deflate stream, closed by an empty final block; CRC-32 and sizes in the local headers (no descriptors).
    Returns where each part's deflated data starts in the file."""
    central, offset, starts = [], 0, []
    for name, pieces in parts:
        crc, size, packed = 0, 0, len(END)
        for p in pieces:
            crc, size, packed = crc32_combine(crc, p.crc, p.size), size + p.size, packed + len(p.data)
        if size > _ZIP_LIMIT or packed > _ZIP_LIMIT or offset > _ZIP_LIMIT:
            raise ValueError("工作簿超过 4 GiB，无法写入")
        raw = name.encode()
        fields = (20, 0, 8, 0, 33, crc, packed, size, len(raw))  # version 2.0, deflate, 1980-01-01 00:00
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields, 0) + raw)
        starts.append(offset + 30 + len(raw))
        for p in pieces:
            out.write(p.data)
        out.write(END)
        central.append(struct.pack("<IH", 0x02014B50, 20) + struct.pack("<HHHHHIIIHHHHHII", *fields, 0, 0, 0, 0, 0,
                                                                         offset) + raw)
        offset += 30 + len(raw) + packed
    directory = b"".join(central)
    out.write(directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory),
                                      offset, 0))
    return starts


def member_header(data: bytes) -> tuple[int, int, int, bytes] | None:
    """A local header's (CRC-32, packed size, size, name) as :func:`write_zip` writes it; None if it is not one.
    ``data``: the header's bytes, from its signature on."""
    if len(data) < 30:
        return None
    magic, *fields, name_len, extra = struct.unpack("<IHHHHHIIIHH", data[:30])
    if magic != 0x04034B50 or fields[2] != 8 or extra or len(data) < 30 + name_len:
        return None
    return fields[5], fields[6], fields[7], data[30:30 + name_len]


_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (reflected), as zlib's crc32_combine computes it."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _powers() -> list[int]:
    table, p = [], 1 << 30  # x^1
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _powers()  # x^(2^n) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from crc(A), crc(B) and len(B) (zlib's crc32_combine, which Python's zlib lacks).

    >>> crc32_combine(zlib.crc32(b"ab"), zlib.crc32(b"cde"), 3) == zlib.crc32(b"abcde")
    True
    """
    p, n, k = 1 << 31, len2, 3  # x^0; multiply by x^(8 * len2)
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


# --- fixed texts (as xlsxwriter writes them) --------------------------------------------------------

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OD = _REL  # the officeDocument relationship types live under the same name
_PKG = "http://schemas.openxmlformats.org/package/2006"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."
_TYPES_HEAD = (
    f'<Types xmlns="{_PKG}/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/'
    'docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties'
    f'+xml"/><Override PartName="/xl/styles.xml" ContentType="{_CT}styles+xml"/><Override PartName="/xl/theme/'
    'theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/><Override PartName="/xl/'
    f'workbook.xml" ContentType="{_CT}sheet.main+xml"/>')
_ROOT_RELS = (
    f'<Relationships xmlns="{_PKG}/relationships"><Relationship Id="rId1" Type="{_OD}/officeDocument" '
    f'Target="xl/workbook.xml"/><Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" '
    f'Target="docProps/core.xml"/><Relationship Id="rId3" Type="{_OD}/extended-properties" '
    'Target="docProps/app.xml"/></Relationships>')
_APP_HEAD = (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="'
    'http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>Microsoft Excel'
    '</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="2" '
    'baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant><vt:variant>')
_APP_TAIL = ("<Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
             "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>")
_CORE_HEAD = (
    f'<cp:coreProperties xmlns:cp="{_PKG}/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator></dc:creator>'
    "<cp:lastModifiedBy></cp:lastModifiedBy>")
_WORKBOOK_HEAD = (
    f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><fileVersion appName="xl" lastEdited="4" lowestEdited="4" '
    'rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" '
    'yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews>')
_FONT = '<sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/><scheme val="minor"/>'
_THIN = '<color auto="1"/>'
_STYLE_BODY = (
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts><fills count="3"><fill><patternFill '
    'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill '
    'patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border><border>'
    f'<left style="thin">{_THIN}</left><right style="thin">{_THIN}</right><top style="thin">{_THIN}</top>'
    f'<bottom style="thin">{_THIN}</bottom><diagonal/></border></borders><cellStyleXfs count="1"><xf '
    'numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>')
_XF_DEFAULT = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
_XF_HEADER = ('<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" '
              'applyBorder="1"/>')
_XF = '<xf numFmtId="{}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
_STYLE_END = ('<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles><dxfs '
              'count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
              'defaultPivotStyle="PivotStyleLight16"/></styleSheet>')


@functools.cache
def _theme() -> bytes:
    """The default Office theme xlsxwriter writes (the fonts' theme colour refers to it)."""
    from xlsxwriter.theme import THEME_XML_2007

    return THEME_XML_2007.encode()
