"""Workbooks written part by part with zipfile, so a test can make one no spreadsheet program would:
a declared dimension of A1:XFD1048576, a lone cell at XFD1, a shared-strings bomb, a DTD."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass
class Sheet:
    name: str
    body: str = ""  # the inside of <sheetData>, as XML text
    dimension: str | None = None
    prolog: str = ""  # text before <worksheet> (a DOCTYPE, say)


def cell(ref: str, value, kind: str | None = None) -> str:
    """One <c>: a number or text (an inline string unless ``kind`` says otherwise)."""
    if kind is None and isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    t = f' t="{kind}"' if kind else ""
    return f'<c r="{ref}"{t}><v>{escape(str(value))}</v></c>'


def row(number: int, *cells: str) -> str:
    return f'<row r="{number}">{"".join(cells)}</row>'


def table(rows: list[list], first_row: int = 1) -> str:
    """Rows of values from A``first_row`` on, as sheetData text (None leaves a cell out)."""
    from lib.xlsx.bounds import column_letters

    out = []
    for i, values in enumerate(rows, start=first_row):
        cells = [cell(f"{column_letters(j)}{i}", v) for j, v in enumerate(values, start=1) if v is not None]
        out.append(row(i, *cells))
    return "".join(out)


def xlsx(sheets: list[Sheet], *, shared: list[str] | None = None, shared_xml: str | None = None,
         extra: dict[str, bytes] | None = None, level: int = 6) -> bytes:
    """The bytes of a .xlsx holding ``sheets``; ``shared``/``shared_xml`` become xl/sharedStrings.xml."""
    out = io.BytesIO()
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    if shared is not None:
        shared_xml = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'
                      + "".join(f"<si><t>{escape(s)}</t></si>" for s in shared) + "</sst>")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>'))
        z.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" '
                   f'Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        listed = "".join(f'<sheet name={quoteattr(s.name)} sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, 1))
        z.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" '
                   f'xmlns:r="{DOC_RELS}"><sheets>{listed}</sheets></workbook>')
        rels = "".join(f'<Relationship Id="rId{i}" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, len(sheets) + 1))
        if shared_xml is not None:
            rels += f'<Relationship Id="rId{len(sheets) + 1}" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        z.writestr("xl/_rels/workbook.xml.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">{rels}</Relationships>')
        for i, s in enumerate(sheets, 1):
            dim = f'<dimension ref="{s.dimension}"/>' if s.dimension else ""
            z.writestr(f"xl/worksheets/sheet{i}.xml", f'<?xml version="1.0" encoding="UTF-8"?>{s.prolog}<worksheet xmlns="{MAIN}">'
                       f"{dim}<sheetData>{s.body}</sheetData></worksheet>")
        if shared_xml is not None:
            z.writestr("xl/sharedStrings.xml", shared_xml)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def saved(path: Path, data: bytes) -> bytes:
    """Write ``data`` to ``path`` (a real file in tmp_path) and read it back, as an upload would arrive."""
    path.write_bytes(data)
    return path.read_bytes()


def patched(data: bytes, part: str, old: str, new: str) -> bytes:
    """``data`` with ``old`` replaced by ``new`` in one part (text a writer would have escaped)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info)
            dst.writestr(info.filename, body.replace(old.encode(), new.encode()) if info.filename == part else body)
    return out.getvalue()


ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def ods(tables: dict[str, str]) -> bytes:
    """The bytes of an OpenDocument spreadsheet: table name -> the inside of <table:table> (rows)."""
    out = io.BytesIO()
    body = "".join(f"<table:table table:name={quoteattr(name)}>{rows}</table:table>" for name, rows in tables.items())
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
            'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'))
        z.writestr("content.xml", f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS} office:version="1.2">'
                   f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>")
    return out.getvalue()
