"""The parts of an ``.xlsx`` file written straight into its zip: what ``lib.office.excel.to_xlsx`` fills
with rows of cells it has already rendered as XML, a column at a time.

Why not XlsxWriter: its per-cell calls (a type check, a dict entry and an XML fragment for every cell)
cost ~10 µs a cell on this machine, 12 s for 50,000 rows of 25 columns even in ``constant_memory`` mode;
rendering a column at once and streaming rows into the zip takes a tenth of that. The parts are those
XlsxWriter writes for the same workbook (styles, frozen header, column widths, autofilter, shared
strings), escaped as it escapes them (``_xHHHH_`` for control characters), except that a text is always
text: XlsxWriter writes a string such as ``<r>&</r>`` as raw rich-text XML, which breaks the file.

>>> strings = SharedStrings()
>>> strings.add(["a<b", "a<b", " x"]).tolist()
[0, 0, 1]
>>> strings.xml().decode().split('count="3" uniqueCount="2">')[1]
'<si><t xml:space="preserve">a&lt;b</t></si><si><t xml:space="preserve"> x</t></si></sst>'
"""

from __future__ import annotations

import functools
import queue
import re
import threading
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from itertools import repeat
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter.utility import quote_sheetname, xl_col_to_name

from lib.core.values import xlsx_format

#: Cell styles (indices of ``cellXfs`` in :data:`_STYLES`).
HEADER, MONEY, DATE, DATETIME = 1, 2, 3, 4

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_BORDER = '<{0} style="thin"><color auto="1"/></{0}>'
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_MAIN}"><numFmts count="3">'
    + "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{xlsx_format(kind)}"/>' for i, kind in enumerate(("money", "date", "datetime")))
    + '</numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFEEF2F7"/><bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
    f'<border>{"".join(_BORDER.format(side) for side in ("left", "right", "top", "bottom"))}<diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" '
    'applyAlignment="1"><alignment wrapText="1"/></xf>'
    + "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>' for n in (164, 165, 166))
    + '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles><dxfs count="0"/>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
)
_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_NUL = re.compile(r"[\x00-\x08\x0b-\x1f]")
# Without NUL: the separator below. A text holding it is escaped on its own, where it is a control character too.
_CONTROL_BYTES = bytes([*range(1, 9), *range(0x0B, 0x20)])
# Joins the texts so they are escaped in one pass.
_SEPARATOR = "\x00"


def xml_text(value: str) -> str:
    """``value`` as the content of a ``<t>`` element, escaped as XlsxWriter escapes it: a literal
    ``_xHHHH_`` guarded, control characters as ``_xHHHH_``, Unicode non-characters likewise.

    >>> xml_text("a&b\\x01_x0041_")
    'a&amp;b_x0001__x005F_x0041_'
    """
    value = _ESCAPED_ESCAPE.sub(r"_x005F\1", value)
    value = _NUL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return escape(value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_"))


class SharedStrings:
    """The workbook's table of texts: every text cell names its entry (``t="s"``). The texts of one
    call are stored once each however many cells hold them (a text in two columns may be stored
    twice: a reader does not mind), and all are escaped at once when the table is written."""

    def __init__(self) -> None:
        self._texts: list[str] = []
        self.count = 0

    def add(self, texts: Sequence[str]) -> np.ndarray:
        """The entries of ``texts`` (an array or list of texts, repeated or not), each distinct one added."""
        codes, distinct = pd.factorize(np.asarray(texts, dtype=object))
        self.count += len(codes)
        return self.extend(distinct.tolist())[codes]

    def extend(self, distinct: list[str]) -> np.ndarray:
        """The entries of ``distinct`` (texts none of which repeats), added; the caller counts the cells
        that name them in ``count``."""
        offset = len(self._texts)
        self._texts.extend(distinct)
        return np.arange(offset, offset + len(distinct), dtype=np.int64)

    def xml(self) -> bytes:
        """The ``sharedStrings.xml`` part."""
        return b"".join(self.parts())

    def parts(self, batch: int = 20_000) -> Iterator[bytes]:
        """The ``sharedStrings.xml`` part in pieces, ``batch`` texts at a time: each batch joined, encoded once
        and escaped as bytes (a few passes in C over it), so the writer's thread deflates one batch while the
        next is made, and the whole part is never one string."""
        texts = self._texts
        yield f'{_XML}<sst xmlns="{_MAIN}" count="{self.count}" uniqueCount="{len(texts)}">'.encode()
        for start in range(0, len(texts), batch):
            part = texts[start:start + batch]
            joined = _SEPARATOR.join(part)
            if joined.count(_SEPARATOR) == len(part) - 1:  # no text holds the separator: one pass for all
                body = _escaped(joined.encode("utf-8", "surrogatepass"))
            else:
                body = _BETWEEN.join(xml_text(value).encode("utf-8", "surrogatepass") for value in part)
            yield _FIRST
            yield body.replace(_SEPARATOR_BYTE, _BETWEEN)
            yield _LAST
        yield b"</sst>"


# Spaces always preserved: a text keeps its leading and trailing spaces whatever a reader's default.
_FIRST, _BETWEEN, _LAST = b'<si><t xml:space="preserve">', b'</t></si><si><t xml:space="preserve">', b"</t></si>"
_SEPARATOR_BYTE = _SEPARATOR.encode()
_ESCAPED_ESCAPE_BYTES = re.compile(rb"(_x[0-9a-fA-F]{4}_)")
_CONTROL_IN_BYTES = re.compile(rb"[\x01-\x08\x0b-\x1f]")


def _escaped(joined: bytes) -> bytes:
    """``xml_text`` of texts joined by NUL and encoded as UTF-8, the NULs kept; the scans for what is rare
    skipped when a quick look in C finds none of it. (In UTF-8 a control character is one byte never inside
    another character, and U+FFFE/U+FFFF are the only characters encoded as EF BF BE/BF.)"""
    if b"_x" in joined:
        joined = _ESCAPED_ESCAPE_BYTES.sub(rb"_x005F\1", joined)
    if len(joined.translate(None, _CONTROL_BYTES)) != len(joined):
        joined = _CONTROL_IN_BYTES.sub(lambda m: b"_x%04X_" % m.group()[0], joined)
    if b"\xef\xbf\xbe" in joined or b"\xef\xbf\xbf" in joined:
        joined = joined.replace(b"\xef\xbf\xbe", b"_xFFFE_").replace(b"\xef\xbf\xbf", b"_xFFFF_")
    return joined.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")


# --- a column's cells, built in Arrow's kernels --------------------------------------------------------
# A cell written by a Python f-string costs ~0.2 µs; Arrow joins a whole column's in C++ (a sixth of it,
# less with the cast of its numbers), and a chunk's rows end as one buffer, never a Python string per cell.


def cell_xml(letter: str, rows: range, values: pa.Array | Sequence[str | None], attrs: str | pa.Array = "") -> pa.Array:
    """The XML of the cells of column ``letter`` in ``rows``: ``<c r="{letter}{row}"{attrs}><v>{value}</v></c>``
    for each value (texts that need no escaping: numbers, shared-string entries), "" where it is None (a
    blank cell is not written). ``attrs`` is one text for every cell or one per cell.

    >>> cell_xml("B", range(2, 5), ["1", None, "2.5"], ' s="2"').to_pylist()
    ['<c r="B2" s="2"><v>1</v></c>', '', '<c r="B4" s="2"><v>2.5</v></c>']
    """
    values = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    if len(values) != len(rows):
        raise ValueError(f"{len(values)} values for {len(rows)} rows")
    joined = pc.binary_join_element_wise(f'<c r="{letter}', _row_numbers(rows.start, rows.stop), '"', attrs, "><v>", values,
                                         "</v></c>", "", null_handling="emit_null")
    return joined.fill_null("")


def entry_texts(entries: np.ndarray) -> pa.Array:
    """Shared-string entries as the texts of their cells, None where an entry is -1 (a blank).

    >>> entry_texts(np.array([3, -1, 0])).to_pylist()
    ['3', None, '0']
    """
    return pc.cast(pa.array(entries, pa.int64(), mask=entries < 0), pa.string())


def number_texts(values: np.ndarray) -> pa.Array:
    """Numbers as XlsxWriter writes them (``{:.16G}``: what Excel reads back is the same number), None where
    one is not finite (a blank). Integers below 10**15 as their digits, cast in C++, as ``.16G`` writes them.

    >>> number_texts(np.array([0.1 + 0.2, -0.0, np.nan, 1e20, 2.5])).to_pylist()
    ['0.3', '-0', None, '1E+20', '2.5']
    """
    if values.dtype.kind in "iu" and not ((values >= 10**15) | (values <= -(10**15))).any():  # np.abs(-2**63) < 0
        return pc.cast(pa.array(values), pa.string())
    finite = np.isfinite(values)
    return pa.array(list(map(format, values.tolist(), repeat(".16G"))), pa.string(), mask=~finite)


def rows_xml(rows: range, cells: Sequence[pa.Array | Sequence[str]]) -> pa.Buffer:
    """The ``<row>`` elements of ``rows``, each holding its cells of every column (``cells[c]``: a column's
    cell XML, "" for a blank, as :func:`cell_xml` makes them), as one UTF-8 buffer.

    >>> bytes(rows_xml(range(2, 4), [cell_xml("A", range(2, 4), ["1", None]), ["", '<c r="B3"/>']]))
    b'<row r="2"><c r="A2"><v>1</v></c></row><row r="3"><c r="B3"/></row>'
    """
    columns = [c if isinstance(c, pa.Array) else pa.array(c, pa.string()) for c in cells]
    joined = pc.binary_join_element_wise('<row r="', _row_numbers(rows.start, rows.stop), '">', *columns, "</row>", "")
    # The rows' texts lie end to end in the array's data buffer: that stretch is the chunk's XML.
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32, count=len(joined) + 1, offset=joined.offset * 4)
    return joined.buffers()[2][offsets[0]:offsets[-1]] if len(joined) else pa.py_buffer(b"")


@functools.lru_cache(maxsize=4)
def _row_numbers(start: int, stop: int) -> pa.Array:
    """The row numbers ``start`` … ``stop - 1`` as texts: every column of a chunk names them (immutable, so the
    few chunks in flight share them)."""
    return pc.cast(pa.array(np.arange(start, stop, dtype=np.int64)), pa.string())


def _width(characters: float) -> str:
    """A column width as XlsxWriter stores ``set_column(c, c, characters)`` (rounded to whole pixels)."""
    pixels = int(characters * 7 + 0.5) + 5
    return f"{(pixels * 256 // 7) / 256.0:.16g}"


class Package:
    """An ``.xlsx`` being written into ``out`` (a binary file): sheets streamed in order, then ``close``."""

    def __init__(self, out, *, level: int = 1) -> None:
        # Deflate level 1: a third of the default's time for a file ~15 % larger.
        self._zip = zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level)
        self._sheets: list[tuple[str, str | None]] = []
        self.strings = SharedStrings()

    def add_sheet(self, title: str, widths: Sequence[float], rows: int, body: Iterable[str | pa.Buffer]) -> None:
        """A sheet ``title`` with ``len(widths)`` columns of those widths, a frozen header row, an
        autofilter over ``rows`` rows below it (none when empty), and the rows' XML (``<row>`` elements,
        the header's first: texts, or UTF-8 buffers as :func:`rows_xml` makes them) streamed from ``body``."""
        n = len(self._sheets)
        last = f"{xl_col_to_name(len(widths) - 1)}{rows + 1}" if widths else ""
        ref = f"A1:{last}" if widths and last != "A1" else "A1"
        filtered = bool(widths) and rows > 0
        cols = "".join(f'<col min="{c}" max="{c}" width="{_width(w)}" customWidth="1"/>' for c, w in enumerate(widths, start=1))
        selected = ' tabSelected="1"' if n == 0 else ""
        head = (f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><dimension ref="{ref}"/><sheetViews>'
                f'<sheetView{selected} workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>'
                f'<sheetFormatPr defaultRowHeight="15"/>{f"<cols>{cols}</cols>" if cols else ""}<sheetData>')
        autofilter = f'<autoFilter ref="{ref}"/>' if filtered else ""
        tail = (f"</sheetData>{autofilter}"
                '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
        with self._zip.open(f"xl/worksheets/sheet{n + 1}.xml", "w", force_zip64=True) as part:
            part.write(head.encode())
            _write_behind(part, (chunk.encode("utf-8", "surrogatepass") if isinstance(chunk, str) else chunk for chunk in body))
            part.write(tail.encode())
        self._sheets.append((title, f"{quote_sheetname(title)}!{_absolute(ref)}" if filtered else None))

    def close(self) -> None:
        """Write the workbook's own parts and close the zip."""
        n = len(self._sheets)
        sheets = "".join(f'<sheet name={quoteattr(t)} sheetId="{i}" r:id="rId{i}"/>' for i, (t, _) in enumerate(self._sheets, start=1))
        names = "".join(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">{escape(f)}</definedName>'
                        for i, (_, f) in enumerate(self._sheets) if f)
        parts = {
            "xl/workbook.xml": f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr/><bookViews><workbookView/></bookViews>'
                               f'<sheets>{sheets}</sheets>{f"<definedNames>{names}</definedNames>" if names else ""}'
                               '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>',
            "xl/styles.xml": _STYLES,
            "xl/_rels/workbook.xml.rels": _rels([(f"{_REL}/worksheet", f"worksheets/sheet{i}.xml") for i in range(1, n + 1)]
                                                + [(f"{_REL}/styles", "styles.xml"), (f"{_REL}/sharedStrings", "sharedStrings.xml")]),
            "_rels/.rels": _rels([(f"{_REL}/officeDocument", "xl/workbook.xml")]),
            "[Content_Types].xml": (
                f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
                f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
                + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>' for i in range(1, n + 1))
                + "</Types>"),
        }
        with self._zip.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            _write_behind(part, self.strings.parts())
        for name, xml in parts.items():
            self._zip.writestr(name, xml.encode("utf-8", "surrogatepass"))
        self._zip.close()


def _write_behind(part, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``part`` in a thread of its own while the next chunk is made: deflating
    releases the GIL, so on a machine with a core to spare the file is compressed alongside (a third
    of the work) instead of after. Only this build's two threads share the queue."""
    ready: queue.Queue[bytes | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def drain() -> None:
        try:
            while (chunk := ready.get()) is not None:
                part.write(chunk)
        except BaseException as error:  # noqa: BLE001 - handed to the builder's thread below
            failed.append(error)
            while ready.get() is not None:  # keep taking, so the builder never waits on a full queue
                pass

    writer = threading.Thread(target=drain, name="xlsx-deflate", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failed:
                break
            ready.put(chunk)
    finally:
        ready.put(None)
        writer.join()
    if failed:
        raise failed[0]


def _absolute(ref: str) -> str:
    """``A1:D3`` as ``$A$1:$D$3``."""
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", cell) for cell in ref.split(":"))


def _rels(targets: list[tuple[str, str]]) -> str:
    rows = "".join(f'<Relationship Id="rId{i}" Type="{kind}" Target="{target}"/>' for i, (kind, target) in enumerate(targets, start=1))
    return f'{_XML}<Relationships xmlns="{_PKG_REL}">{rows}</Relationships>'
