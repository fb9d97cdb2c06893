"""The .xlsx view of a log: layout, atomic writing, reading back, and the stamp of what we wrote.

The workbook is derived data. It is always written as a whole file, to a temp file in the same folder,
fsync'ed and renamed over the old one, so a reader (or a crash) only ever sees a complete file; what
is built again for it is only what changed (:class:`WorkbookParts`, :mod:`lib.store.local.xlsx_parts`).
A small stamp file next to it records which log offset each written file reflects and the
file's size/mtime/inode, so a later writer can tell its own file from one a person saved. Beside it, an
index of where each sheet's blocks of rows lie in that file and which rows they hold lets a restarted writer
take the blocks back instead of building them all (:meth:`WorkbookParts.resume`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook

from lib.core.files import fsync_dir, private_opener
from lib.core.records import Record
from lib.core.values import AUDIT_HEADERS, change_text, xlsx_format
from lib.store.base import SYSTEM_COLUMNS, Column, SheetSpec
from lib.store.codec import to_cell
from lib.store.local.xlsx_parts import (
    BLOCK_ROWS,
    END,
    FORMAT,
    SHEET_TAIL,
    Piece,
    SheetPart,
    Styles,
    crc32_combine,
    member_header,
    package,
    row_xml,
    sheet_head,
    write_zip,
)
from lib.store.state import STATUS_LABEL, AuditRow, State
from lib.xlsx.bounds import WorkbookLimits, check_workbook
from lib.xlsx.names import sheet_name

AUDIT_SHEET = "_audit"
TEMP_SUFFIX = ".writing.tmp"
# Sheet names a form's sheet may not take: the audit sheet, and the name Excel reserves.
_RESERVED_SHEETS = (AUDIT_SHEET, "history")


@dataclass(frozen=True)
class SheetLayout:
    """One form's sheet: its name and (key, header, kind) per column, system columns first, and the
    .xlsx number format of each column ("" where the value's own type decides, as for dates)."""

    form_id: str
    name: str
    columns: tuple[tuple[str, str, str], ...]
    formats: tuple[str, ...] = ()


def layout(specs: dict[str, SheetSpec], columns: Callable[[str], list[Column]]) -> list[SheetLayout]:
    """Sheets in form declaration order; headers are the Chinese labels (made unique)."""
    taken: set[str] = set(_RESERVED_SHEETS)
    out = []
    for form_id, spec in specs.items():
        name = sheet_name(spec.title or form_id, taken)
        taken.add(name)
        cols: list[tuple[str, str, str]] = []
        formats: list[str] = []
        headers: set[str] = set()
        for key, header in SYSTEM_COLUMNS:
            cols.append((key, header, "system"))
            formats.append("")
            headers.add(header)
        for col in columns(form_id):
            header = col.label or col.key
            if header in headers:
                header = f"{header}（{col.key}）"
            headers.add(header)
            cols.append((col.key, header, col.kind))
            formats.append(xlsx_format(col.display))
        out.append(SheetLayout(form_id, name, tuple(cols), tuple(formats)))
    return out


class WorkbookParts:
    """What a writing process keeps between writes so the next one rewrites only what changed: the cell
    styles and each sheet's deflated blocks of rows (see :mod:`lib.store.local.xlsx_parts`). Empty at first;
    a restarted writer takes back the blocks of the file on disk (:meth:`resume`), else its first write
    builds every block."""

    def __init__(self) -> None:
        self.styles = Styles()
        self.sheets: dict[str, SheetPart] = {}  # form id -> its sheet's part
        self.audit: SheetPart | None = None
        self.index: dict[str, Any] = {}  # where the last write put each part's blocks (save_index)
        self._resumed: dict[str, tuple[str, list[tuple[str, Piece]]]] = {}  # part -> signature hash, blocks

    def rebuilt(self) -> int:
        """Blocks of rows the last write built (the rest were copied)."""
        return sum(p.rebuilt for p in self.sheets.values()) + (self.audit.rebuilt if self.audit else 0)

    def resume(self, path: Path) -> int:
        """Take back the blocks of ``path`` when it is the file we wrote last, as its index describes it (same
        file, format and block size; every part's header agreeing with the index's sizes and CRC-32s); the
        next write keeps those whose rows are unchanged. Only for parts that built nothing yet. Returns the
        blocks taken back: 0 (a full build, as without it) for a missing, damaged or foreign index or file."""
        if self.sheets or self.audit is not None:
            return 0
        stamp = matching_stamp(path)
        try:
            index = json.loads(index_path(path).read_text("utf-8"))
            if stamp is None or index.get("format") != _format() or \
                    any(index["file"].get(k) != stamp.get(k) for k in ("size", "mtime_ns", "ino")):
                return 0
            resumed = _read_blocks(path, index["parts"])
            styles = Styles()
            styles.restore(index["styles"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return 0
        self.styles, self._resumed = styles, resumed
        return sum(len(blocks) for _, blocks in resumed.values())

    def part(self, name: str, signature: Any, key: Callable[[Any], str], sources: list[Any]) -> SheetPart:
        """A new part for ``name`` ("" for the audit), seeded with the blocks :meth:`resume` took back for it."""
        part = SheetPart(signature, key)
        digest, blocks = self._resumed.pop(name, (None, []))
        if blocks and digest == _signature_hash(signature):
            part.seed(sources, blocks)
        return part


def write_workbook(
    path: Path,
    sheets: list[SheetLayout],
    rows: dict[str, list[Record]],
    audit: list[AuditRow],
    titles: dict[str, str],
    labels: dict[str, dict[str, str]],
    displays: dict[str, dict[str, str]] | None = None,
    parts: WorkbookParts | None = None,
) -> Path:
    """Write the whole workbook to a fsync'ed temp file beside ``path``; return the temp path.
    ``labels`` and ``displays`` (form -> key -> money/percent) make the audit's 变更内容 read as the
    fields' cells do. ``parts``: what an earlier write of this process kept; only the blocks of rows that
    changed since are built again (a fresh one builds all).

    The caller stamps it and then renames it over ``path`` (see :func:`install`).
    """
    parts = parts if parts is not None else WorkbookParts()
    displays = displays or {}
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    # Created (0600) before the blocks are built, so the temp file marks a write in progress from its start.
    with open(tmp, "wb", opener=lambda p, flags: private_opener(p, flags | os.O_EXCL)) as f:
        try:
            built: list[tuple[str, list[Piece]]] = []
            for i, sheet in enumerate(sheets):
                built.append((sheet.name, _form_pieces(parts, sheet, rows.get(sheet.form_id, []), selected=i == 0)))
            parts.sheets = {s.form_id: parts.sheets[s.form_id] for s in sheets}
            built.append((AUDIT_SHEET, _audit_pieces(parts, audit, titles, labels, displays, selected=not sheets)))
            small = {name: [Piece(text)] for name, text in package([n for n, _ in built], parts.styles).items()}
            members = [(f"xl/worksheets/sheet{i}.xml", pieces) for i, (_, pieces) in enumerate(built, 1)]
            starts = write_zip(f, [("[Content_Types].xml", small.pop("[Content_Types].xml")), *small.items(), *members])
            parts._resumed = {}  # what resume took back and no part took is not kept
            _index(parts, sheets, members, starts[-len(members):])
            f.flush()
            os.fsync(f.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    return tmp


def _form_pieces(parts: WorkbookParts, sheet: SheetLayout, recs: list[Record], *, selected: bool) -> list[Piece]:
    signature = (sheet.columns, sheet.formats)
    part = parts.sheets.get(sheet.form_id)
    if part is None or part.signature != signature:  # a new field, a rename: the sheet is built again
        part = parts.sheets[sheet.form_id] = parts.part(sheet.form_id, signature, _record_key, recs)
    numbers = [parts.styles.number(p) for p in sheet.formats]
    keys = [key for key, _, _ in sheet.columns[len(SYSTEM_COLUMNS):]]

    def render(n: int, rec: Record) -> str:
        v = rec.values
        return row_xml(n, [rec.id, rec.rev, rec.status, rec.form_version, rec.owner, rec.org, rec.city,
                           rec.created_at, rec.updated_at, rec.updated_by, *[v.get(k) for k in keys]], numbers)

    rows = part.update(recs, render)
    widths = [20 if key.endswith("_at") or key == "_id" else max(10, min(40, len(header) * 2 + 4))
              for key, header, _ in sheet.columns]
    head = sheet_head(len(sheet.columns), len(recs), selected=selected, freeze_column=True, widths=widths,
                      header=[h for _, h, _ in sheet.columns])
    return [Piece(head), *rows, Piece(SHEET_TAIL)]


_AUDIT_WIDTHS = (20, 14, 10, 16, 24, 6, 60, 30)


def _audit_pieces(parts: WorkbookParts, audit: list[AuditRow], titles: dict[str, str],
                  labels: dict[str, dict[str, str]], displays: dict[str, dict[str, str]], *, selected: bool) -> list[Piece]:
    signature = (titles, labels, displays)  # what 变更内容 and 表单 read: another field label rewrites the texts
    if parts.audit is None or parts.audit.signature != signature:
        parts.audit = parts.part("", signature, _audit_key, audit)

    def render(n: int, a: AuditRow) -> str:
        return row_xml(n, [a.at, a.account, a.action, titles.get(a.form_id, a.form_id), a.row_id, a.rev or None,
                           describe_changes(a, labels.get(a.form_id, {}), displays.get(a.form_id, {})), a.note])

    rows = parts.audit.update(audit, render)
    head = sheet_head(len(AUDIT_HEADERS), len(audit), selected=selected, freeze_column=False,
                      widths=_AUDIT_WIDTHS, header=AUDIT_HEADERS)
    return [Piece(head), *rows, Piece(SHEET_TAIL)]


def _record_key(rec: Record) -> str:
    return f"{rec.id}\x1f{rec.rev}"  # every change of a row is a new revision


def _audit_key(a: AuditRow) -> str:
    return f"{a.row_id}\x1f{a.rev}\x1f{a.action}\x1f{a.at}"  # the audit only grows; this guards a replaced log


# --- the index of blocks: a restarted writer takes them back ---------------------------------------


def index_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.parts.json")


@functools.cache
def _format() -> list[Any]:
    """What the blocks' bytes depend on besides their rows and their sheet's signature: the block size and
    the code that renders a row (this module, xlsx_parts, the codec, the value texts). Blocks written by
    another release are never taken back, though no one remembered to bump FORMAT."""
    code = hashlib.blake2b(STATUS_LABEL.encode(), digest_size=16)
    for name in (__name__, row_xml.__module__, to_cell.__module__, change_text.__module__):
        code.update(Path(sys.modules[name].__file__).read_bytes())
    return [FORMAT, BLOCK_ROWS, code.hexdigest()]


def _signature_hash(signature: Any) -> str:
    text = json.dumps(signature, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _index(parts: WorkbookParts, sheets: list[SheetLayout], members: list[tuple[str, list[Piece]]],
           starts: list[int]) -> None:
    """Record in ``parts.index`` where this write put each sheet's blocks: per part its member name, where its
    data starts, its head and tail pieces and each block's (rows' hash, packed length, CRC-32, size)."""
    owners = [*((s.form_id, parts.sheets[s.form_id]) for s in sheets), ("", parts.audit)]
    out = {}
    for (owner, part), (name, pieces), start in zip(owners, members, starts, strict=True):
        head, tail = pieces[0], pieces[-1]
        out[owner] = {"member": name, "start": start, "signature": _signature_hash(part.signature),
                      "head": [len(head.data), head.crc, head.size], "tail": [len(tail.data), tail.crc, tail.size],
                      "blocks": [[digest, len(p.data), p.crc, p.size] for digest, p in part.index()]}
    parts.index = {"format": _format(), "styles": parts.styles.state(), "parts": out}


def save_index(path: Path, tmp: Path, parts: WorkbookParts) -> None:
    """Write beside ``path`` the index of ``tmp``, the file :func:`write_workbook` just wrote with ``parts``
    (before it is installed: the index names the file it describes, so a stale one is never taken)."""
    target = index_path(path)
    scratch = target.with_name(target.name + ".tmp")
    with open(scratch, "w", encoding="utf-8", opener=private_opener) as f:
        json.dump({**parts.index, "file": file_id(tmp)}, f, ensure_ascii=False)
    os.replace(scratch, target)  # not fsync'ed: after a crash a torn index only costs a full build


def _read_blocks(path: Path, described: dict[str, Any]) -> dict[str, tuple[str, list[tuple[str, Piece]]]]:
    """Each part's blocks read from ``path`` as the index ``described`` them, each part checked against its
    local header (name, packed size, CRC-32 combined from the index's); raises ValueError on a mismatch."""
    out = {}
    with open(path, "rb") as f:
        for owner, part in described.items():
            name = part["member"].encode()
            f.seek(part["start"] - 30 - len(name))
            header = member_header(f.read(30 + len(name)))
            pieces = [part["head"], *(b[1:] for b in part["blocks"]), part["tail"]]
            crc, size = 0, 0
            for _, p_crc, p_size in pieces:
                crc, size = crc32_combine(crc, p_crc, p_size), size + p_size
            if header != (crc, sum(p[0] for p in pieces) + len(END), size, name):
                raise ValueError(f"{part['member']}: the file does not agree with its index")
            f.seek(part["start"] + part["head"][0])
            data, at, blocks = f.read(sum(b[1] for b in part["blocks"])), 0, []
            for digest, packed, p_crc, p_size in part["blocks"]:
                blocks.append((str(digest), Piece.packed(data[at:at + packed], int(p_crc), int(p_size))))
                at += packed
            if at != len(data):
                raise ValueError(f"{part['member']}: the file is shorter than its index")
            out[owner] = (str(part["signature"]), blocks)
    return out


def write_workbook_whole(
    path: Path,
    sheets: list[SheetLayout],
    rows: dict[str, list[Record]],
    audit: list[AuditRow],
    titles: dict[str, str],
    labels: dict[str, dict[str, str]],
    displays: dict[str, dict[str, str]] | None = None,
) -> Path:
    """The whole-file writer :func:`write_workbook` replaced (xlsxwriter, constant memory), kept as the
    reference: its cells are what the parts writer must write (tests/store/test_workbook_parts.py), and
    bench/workbook_bench.py measures it beside the parts writer. Same arguments and result."""
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    # Created 0600 before xlsxwriter truncates and fills it, so os.replace installs a private file
    # (the fsync below re-checks the mode in case a library version writes a new file instead).
    os.close(private_opener(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    try:
        wb = xlsxwriter.Workbook(
            str(tmp),
            # Text stays text: nothing that looks like a formula, number or URL is converted.
            {"constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
             "strings_to_urls": False},
        )
        fmt = _Formats(wb)
        for sheet in sheets:
            _write_form_sheet(wb, fmt, sheet, rows.get(sheet.form_id, []))
        _write_audit_sheet(wb, fmt, audit, titles, labels, displays or {})
        wb.close()
        fd = private_opener(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.header = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        self.date = wb.add_format({"num_format": xlsx_format("date")})
        self.datetime = wb.add_format({"num_format": xlsx_format("datetime")})
        self._wb, self._numbers = wb, {}

    def numbers(self, patterns: tuple[str, ...]) -> list[Any]:
        """The cell format of each column's numbers (None: General)."""
        for p in patterns:
            if p and p not in self._numbers:
                self._numbers[p] = self._wb.add_format({"num_format": p})
        return [self._numbers.get(p) for p in patterns]


def _write_row(ws: Any, fmt: _Formats, r: int, cells: list[Any], numbers: list[Any] = ()) -> None:
    for c, value in enumerate(cells):
        cell = to_cell(value)
        if cell is None:
            continue
        t = type(cell)
        if t is str:
            if cell:
                ws.write_string(r, c, cell)
        elif t is int or t is float:
            ws.write_number(r, c, cell, numbers[c] if c < len(numbers) else None)
        elif t is dt.datetime:
            ws.write_datetime(r, c, cell, fmt.datetime)
        elif t is dt.date:
            ws.write_datetime(r, c, cell, fmt.date)
        else:
            ws.write_string(r, c, str(cell))


def _write_form_sheet(wb: Any, fmt: _Formats, sheet: SheetLayout, recs: list[Record]) -> None:
    ws = wb.add_worksheet(sheet.name)
    ws.freeze_panes(1, 1)
    for c, (key, header, _) in enumerate(sheet.columns):
        width = 20 if key.endswith("_at") or key == "_id" else max(10, min(40, len(header) * 2 + 4))
        ws.set_column(c, c, width)
        ws.write_string(0, c, header, fmt.header)
    sys_n = len(SYSTEM_COLUMNS)
    field_keys = [key for key, _, _ in sheet.columns[sys_n:]]
    numbers = fmt.numbers(sheet.formats)
    for r, rec in enumerate(recs, start=1):
        v = rec.values
        _write_row(ws, fmt, r, [rec.id, rec.rev, rec.status, rec.form_version, rec.owner, rec.org, rec.city,
                                rec.created_at, rec.updated_at, rec.updated_by, *[v.get(k) for k in field_keys]], numbers)


def _write_audit_sheet(wb: Any, fmt: _Formats, audit: list[AuditRow], titles: dict[str, str],
                       labels: dict[str, dict[str, str]], displays: dict[str, dict[str, str]]) -> None:
    ws = wb.add_worksheet(AUDIT_SHEET)
    ws.freeze_panes(1, 0)
    for c, (header, width) in enumerate(zip(AUDIT_HEADERS, _AUDIT_WIDTHS, strict=True)):
        ws.set_column(c, c, width)
        ws.write_string(0, c, header, fmt.header)
    for r, a in enumerate(audit, start=1):
        _write_row(ws, fmt, r, [a.at, a.account, a.action, titles.get(a.form_id, a.form_id), a.row_id,
                                a.rev or None, describe_changes(a, labels.get(a.form_id, {}), displays.get(a.form_id, {})), a.note])


def describe_changes(a: AuditRow, labels: dict[str, str], displays: dict[str, str]) -> str:
    """The 变更内容 cell, as every place shows it (``lib.core.values.change_text``)."""
    labels = {**labels, "_status": STATUS_LABEL}
    return change_text(a.changes, lambda k: labels.get(k, k), created=a.created, kind=displays.get)


# --- installing and stamping -------------------------------------------------------------------


def file_id(path: Path) -> dict[str, int] | None:
    """What identifies one written file: size, mtime and inode (os.replace keeps all three)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}


def stamp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.stamp.json")


def read_stamp(path: Path) -> list[dict[str, Any]]:
    """Known written files, oldest first: [{"offset", "size", "mtime_ns", "ino", "layout"}]."""
    try:
        return json.loads(stamp_path(path).read_text("utf-8"))["known"]
    except (FileNotFoundError, ValueError, KeyError):
        return []


def write_stamp(path: Path, known: list[dict[str, Any]]) -> None:
    target = stamp_path(path)
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", opener=private_opener) as f:
        json.dump({"format": 1, "known": known}, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)


def install(path: Path, tmp: Path, offset: int, sheets: list[SheetLayout]) -> dict[str, Any]:
    """Rename ``tmp`` over ``path`` so that at every instant the stamp knows the file on disk.

    The stamp first lists both the current and the new file, then only the new one, so a crash
    between the steps never makes our own file look like a person's edit.
    """
    new = {**file_id(tmp), "offset": offset,
           "layout": {s.form_id: {"sheet": s.name, "columns": [[k, h, kind] for k, h, kind in s.columns]}
                      for s in sheets}}
    previous = matching_stamp(path)
    write_stamp(path, ([previous] if previous else []) + [new])
    os.replace(tmp, path)
    fsync_dir(path.parent)
    write_stamp(path, [new])
    return new


def matching_stamp(path: Path) -> dict[str, Any] | None:
    """The stamp of the file on disk if we wrote it unchanged; None if missing or edited."""
    current = file_id(path)
    for known in reversed(read_stamp(path)):
        if current and all(known.get(k) == current[k] for k in ("size", "mtime_ns", "ino")):
            return known
    return None


def remove_stale_temps(folder: Path) -> None:
    """Temp files left by a killed writer. Only the holder of the workbook lock calls this."""
    for p in folder.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            p.unlink()


#: Cap on a workbook read back, packed and unpacked (the demo's 100,000 rows take a tenth of it).
MAX_READ_BYTES = 1 << 30


def read_limits(state: State) -> WorkbookLimits:
    """What reading back a workbook of this store may cost: twice its longest sheet plus 10,000
    rows, its widest sheet plus 50 columns. A person's file beyond that (one stray cell at
    XFD1048576 asks calamine for 512 GiB) is refused before it is parsed."""
    rows = max([len(state.audit), *(len(recs) for recs in state.rows.values())]) + 1
    columns = max([len(AUDIT_HEADERS), *(len(SYSTEM_COLUMNS) + len(state.columns(f)) for f in state.specs)])
    return WorkbookLimits(max_bytes=MAX_READ_BYTES, max_unzipped_bytes=MAX_READ_BYTES, max_ratio=1000.0,
                          max_rows=min(2 * rows + 10_000, 1_048_576), max_columns=min(columns + 50, 16_384),
                          memory_bytes=0, seconds=0)  # these two bound the upload subprocess, unused here


def read_sheets(path: Path, limits: WorkbookLimits) -> dict[str, list[list[Any]]]:
    """Every sheet's cells (calamine types: str, float, bool, date, datetime; "" when blank).

    Raises ExcelReadError (a ValueError with a Chinese message) before parsing a file beyond ``limits``.
    """
    check_workbook(path.read_bytes(), limits)
    wb = CalamineWorkbook.from_path(str(path))
    try:
        return {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
    finally:
        with contextlib.suppress(Exception):
            wb.close()
