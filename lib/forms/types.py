"""The one registry of field types: YAML ``type`` -> value kind, parsing/validation, widget name.

A new type is one ``FieldType`` entry here, one widget in ``lib/ui/widgets.py`` if it needs a new
kind of widget, and one test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
import numbers
import os
import re
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from lib.core.errors import AppError

# The character rules live in lib.core.text (one home for every layer); answers use them from here.
from lib.core.text import BIDI_CHARS, CONTROL_CHARS, INVISIBLE_CHARS, LINE_BREAKS, as_text, quotable  # noqa: F401

#: The one truth about which dates a form accepts: what the date widget can show (lib/ui/widgets.py
#: imports these). A date outside is refused at check time, so none is stored that a page cannot show.
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2035, 12, 31)

# Every raw answer is bounded before it is parsed, so no input can make a check slow (Decimal and
# int conversions are superlinear in the number of digits; `1e1000000` as an int took a minute).
#: Longest text answer, in characters (an .xlsx cell holds 32,767; a table keeps several in one).
MAX_TEXT_CHARS = 10_000
#: Longest number as typed (digits, separators, sign, decimals).
MAX_NUMBER_CHARS = 40
#: Most digits before the decimal point: larger numbers are not kept exactly by a workbook cell.
MAX_INTEGER_DIGITS = 15
#: Most items in a multiselect answer or rows in a table answer.
MAX_ITEMS = 1_000

# A number as people type it: optional sign, digits with correctly grouped thousands separators,
# optional decimals; a point with nothing after it ("12.") is the whole number, as a spreadsheet
# reads it. No exponent, no words (Infinity, NaN, sNaN), no stray separators (2,0.00).
# ASCII digits only (re.ASCII): Python's \d also matches ١٢٣ and १२३, which int() reads as 123.
NUMBER_RE = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d*)?", re.ASCII)
LONG_DIGITS_RE = re.compile(r"\s*[+-]?[\d,]+\s*", re.ASCII)
# Exponent notation (1e3, 1E+3, 2.5e-1): refused with its own message, since a spreadsheet shows a
# large number that way and a filler copying it would not know why "1E+3" is no number.
EXPONENT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+", re.ASCII)

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$", re.ASCII)
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
# How dates are written besides YYYY-MM-DD: 2019/4/12, 2019.4.12, 2019年4月12日 (all read as 2019-04-12).
_DATE_SEPARATORS = str.maketrans({"/": "-", ".": "-", "年": "-", "月": "-", "日": None})


class ValueProblem(Exception):
    """A raw answer does not fit its type; ``code`` is a key of errors.MESSAGES."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code.

    >>> credit_code_check_char("91440101MA59ABCDE")
    'M'
    """
    if len(first17) != 17 or any(c not in CREDIT_CODE_CHARS for c in first17):
        raise ValueError(f"not the first 17 characters of a credit code: {first17!r}")
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def is_credit_code(text: str) -> bool:
    """True when ``text`` is an 18-character 统一社会信用代码 with a correct check character.

    >>> is_credit_code("91440101MA59ABCDEM"), is_credit_code("91440101MA59ABCDE1")
    (True, False)
    """
    if len(text) != 18 or any(c not in CREDIT_CODE_CHARS for c in text):
        return False
    return credit_code_check_char(text[:17]) == text[17]





def _plain_text(raw: Any) -> str:
    """A scalar answer as text, bounded before anything else looks at it; containers are refused."""
    if isinstance(raw, str):
        value = raw
    elif isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 10**MAX_NUMBER_CHARS:
        value = str(raw)
    elif isinstance(raw, float) and abs(raw) < 10**MAX_NUMBER_CHARS:  # also refuses inf and nan
        value = repr(float(raw))
    elif isinstance(raw, dt.date):
        value = raw.isoformat()
    else:
        raise ValueProblem("bad_value_type", expected="文字")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueProblem("too_long", bound=MAX_TEXT_CHARS)
    return value


def clean_text(raw: Any, *, multiline: bool = False, normalise: bool = False) -> str:
    """The one text parser: bounded, stripped, free of control and direction characters, with the
    invisible ones (INVISIBLE_CHARS) dropped.

    ``multiline`` keeps line breaks (as ``\\n``) and tabs; ``normalise`` applies NFKC, so codes typed with
    full-width digits or letters become the ASCII a check or a pattern expects.

    >>> clean_text(" ９１４４０１ ", normalise=True)
    '914401'
    >>> clean_text("第一行\\r\\n第二行", multiline=True)
    '第一行\\n第二行'
    >>> clean_text("\\ufeff新上云\\u200b项目\\u00ad")
    '新上云项目'
    """
    value = _plain_text(raw)
    if BIDI_CHARS.search(value):
        raise ValueProblem("bidi_text")
    value = INVISIBLE_CHARS.sub("", value)
    if normalise:
        value = unicodedata.normalize("NFKC", value)
    value = value.strip()
    if CONTROL_CHARS.search(value):
        raise ValueProblem("bad_text")
    if multiline:
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if LINE_BREAKS.search(value):
        raise ValueProblem("single_line")
    return value


def _typed(raw: str) -> str:
    """A number or a date as typed, ready to match: invisible characters dropped, NFKC (full-width digits
    become ASCII), stripped. Digits of another script are refused rather than read: ``int`` takes ١٢٣
    for 123, which a reviewer of the workbook would not recognise as what was typed.

    >>> _typed(" １２３\\u200b ")
    '123'
    >>> _typed("١٢٣")
    Traceback (most recent call last):
    lib.forms.types.ValueProblem: foreign_digits
    """
    text = unicodedata.normalize("NFKC", INVISIBLE_CHARS.sub("", raw)).strip()
    if any(c.isdigit() and not c.isascii() for c in text):
        raise ValueProblem("foreign_digits")
    return text


def parse_number(raw: Any, *, code: str, percent_sign: bool = False) -> Decimal:
    """The one number parser: a finite Decimal of at most MAX_INTEGER_DIGITS integer digits.

    ``code`` is the problem for text that is not a number (``not_integer`` or ``not_number``); only a
    percent may end in ``%`` (elsewhere: ``no_percent``); exponent notation is ``exponent``.

    >>> parse_number("1,234.50", code="not_number")
    Decimal('1234.50')
    >>> parse_number("1E+3", code="not_number")
    Traceback (most recent call last):
    lib.forms.types.ValueProblem: exponent
    >>> parse_number("12.3.4", code="not_integer")
    Traceback (most recent call last):
    lib.forms.types.ValueProblem: not_integer
    """
    if isinstance(raw, bool):
        raise ValueProblem(code)
    if isinstance(raw, numbers.Integral) and not isinstance(raw, int):  # numpy's int64 from a table read
        raw = int(raw)
    elif isinstance(raw, numbers.Real) and not isinstance(raw, (int, float, Decimal)):
        raw = float(raw)
    if isinstance(raw, int):
        number = Decimal(raw) if abs(raw) < 10**MAX_INTEGER_DIGITS else None
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueProblem(code)
        number = Decimal(repr(float(raw))) if abs(raw) < 10**MAX_INTEGER_DIGITS else None  # numpy floats repr otherwise
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            raise ValueProblem(code)
        number = raw if raw.adjusted() < MAX_INTEGER_DIGITS else None
    elif isinstance(raw, str):
        if len(raw) > MAX_NUMBER_CHARS:  # refused before any conversion; say why when it is all digits
            digits = len(raw) <= MAX_TEXT_CHARS and LONG_DIGITS_RE.fullmatch(raw)
            raise ValueProblem("number_too_large", digits=MAX_INTEGER_DIGITS) if digits else ValueProblem(code)
        text = _typed(raw)
        if text.endswith("%"):
            if not percent_sign:
                raise ValueProblem("no_percent")
            text = text[:-1].rstrip()
        if not NUMBER_RE.fullmatch(text) or not any(c.isdigit() for c in text):
            raise ValueProblem("exponent" if EXPONENT_RE.fullmatch(text) else code)
        number = Decimal(text.replace(",", ""))
        if number.adjusted() >= MAX_INTEGER_DIGITS:
            number = None
    else:
        raise ValueProblem(code)
    if number is None:
        raise ValueProblem("number_too_large", digits=MAX_INTEGER_DIGITS)
    return number


def _text(raw: Any, spec: Any, ctx: dict) -> str:
    # A text with a pattern is a code of some kind: full-width characters are normalised before matching.
    return clean_text(raw, normalise=bool(spec.pattern))


def _textarea(raw: Any, spec: Any, ctx: dict) -> str:
    return clean_text(raw, multiline=True)


def _integer(raw: Any, spec: Any, ctx: dict) -> int:
    number = parse_number(raw, code="not_integer")
    if number != number.to_integral_value():
        raise ValueProblem("not_integer")
    return int(number)


def _decimal_with(places: int | None, percent_sign: bool = False) -> Callable[[Any, Any, dict], float]:
    def parse(raw: Any, spec: Any, ctx: dict) -> float:
        number = parse_number(raw, code="not_number", percent_sign=percent_sign)
        limit = places if places is not None else spec.decimals
        if limit is not None:
            exponent = number.normalize().as_tuple().exponent
            if isinstance(exponent, int) and -exponent > limit:
                raise ValueProblem("too_many_decimals", places=limit)
            return round(float(number), limit)
        return float(number)

    return parse


def _date(raw: Any, spec: Any, ctx: dict) -> dt.date:
    if isinstance(raw, dt.datetime):
        value = raw.date()
    elif isinstance(raw, dt.date):
        value = raw
    elif isinstance(raw, str) and len(raw) <= MAX_NUMBER_CHARS:
        found = DATE_RE.fullmatch(_typed(raw).translate(_DATE_SEPARATORS))
        try:
            value = dt.date(*(int(part) for part in found.groups())) if found else None
        except ValueError:  # 2020-02-30
            value = None
        if value is None:
            raise ValueProblem("not_date")
    else:
        raise ValueProblem("not_date")
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValueProblem("date_out_of_range", earliest=EARLIEST_DATE.isoformat(), latest=LATEST_DATE.isoformat())
    return value


def _select(raw: Any, spec: Any, ctx: dict) -> str:
    value = clean_text(raw)
    if value not in spec.choices:
        raise ValueProblem("not_choice", value=quotable(value))
    return value


def _multiselect(raw: Any, spec: Any, ctx: dict) -> list[str]:
    if isinstance(raw, str):
        items = re.split(r"[；;、,，]", clean_text(raw))
    elif isinstance(raw, (list, tuple)) and len(raw) <= MAX_ITEMS:
        items = [clean_text(v) for v in raw]
    else:
        raise ValueProblem("bad_value_type", expected="选项列表")
    values = [v.strip() for v in items if v.strip()]
    for value in values:
        if value not in spec.choices:
            raise ValueProblem("not_choice", value=quotable(value))
    # Keep the order the form declares, so equal answers are equal lists.
    return [c for c in spec.choices if c in values]


def _boolean(raw: Any, spec: Any, ctx: dict) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    text = raw.strip().lower() if isinstance(raw, str) and len(raw) <= MAX_NUMBER_CHARS else ""
    if text in ("是", "true", "1", "yes", "y"):
        return True
    if text in ("否", "false", "0", "no", "n"):
        return False
    raise ValueProblem("not_boolean")


def _phone(raw: Any, spec: Any, ctx: dict) -> str:
    value = re.sub(r"\s", "", clean_text(raw, normalise=True))
    if value.startswith("+86"):
        value = value[3:]
    if not PHONE_RE.match(value):
        raise ValueProblem("bad_phone")
    return value


def _email(raw: Any, spec: Any, ctx: dict) -> str:
    value = clean_text(raw, normalise=True)
    if len(value) > 254 or not EMAIL_RE.match(value):  # 254: the longest address SMTP carries
        raise ValueProblem("bad_email")
    return value


def _credit_code(raw: Any, spec: Any, ctx: dict) -> str:
    value = clean_text(raw, normalise=True).upper()
    if not is_credit_code(value):
        raise ValueProblem("bad_credit_code")
    return value


def _city(raw: Any, spec: Any, ctx: dict) -> str:
    """One of the campaign's cities, as the campaign spells it; a city typed with its 市 (广州市, the
    way letterheads and registers write it) is that city."""
    value, cities = clean_text(raw), ctx.get("cities", ())
    if value not in cities and value.endswith("市") and value[:-1] in cities:
        value = value[:-1]
    if value not in cities:
        raise ValueProblem("not_city", value=quotable(value))
    return value


# --- files: evidence photos and PDFs ---------------------------------------------------------------
# A ``file`` answer is a list of {sha256, name, type, size}; the bytes are kept apart, content-addressed
# (lib/core/blobs.py). Bytes reach the store only through check_file: the kind is read from the file's
# first bytes and its structure, never from its name or the type the browser declares.


@dataclass(frozen=True)
class FileKind:
    """A kind of file a ``file`` field may accept (YAML ``accept:`` names it by ``key``)."""

    key: str
    mime: str
    word: str  # how a message names it
    extensions: tuple[str, ...]  # the first is given to a download whose name lacks one
    magic: bytes  # what its first bytes are
    image: bool = False  # decoded (bounded) at check time, shown as a thumbnail


FILE_KINDS: dict[str, FileKind] = {k.key: k for k in (
    FileKind("jpeg", "image/jpeg", "JPEG 图片", (".jpg", ".jpeg"), b"\xff\xd8\xff", image=True),
    FileKind("png", "image/png", "PNG 图片", (".png",), b"\x89PNG\r\n\x1a\n", image=True),
    FileKind("pdf", "application/pdf", "PDF 文件", (".pdf",), b"%PDF-"),
)}
_KIND_OF_MIME = {k.mime: k for k in FILE_KINDS.values()}
#: Largest file a field may take, in MB: equal to .streamlit/config.toml's server.maxUploadSize, the
#: HTTP layer's cap (a YAML ``max_mb`` may lower it, never raise it past what the server lets through).
FILE_MAX_MB = 10
_MB = 1024 * 1024
#: Most files one field holds.
MAX_FILES = 20
#: Most pixels of an image: a small file can declare a huge picture, and decoding it (here, or for a
#: thumbnail) would take the server's memory. 50 million is a 48-megapixel phone photo with room.
MAX_IMAGE_PIXELS = 50_000_000
#: Most bytes a PNG may decode to (width × height × bytes per pixel): PNG has no reduced-scale decode, so
#: its whole picture is held while it is checked; 100 MB is a 25-megapixel RGBA screenshot or scan.
MAX_PNG_DECODED_BYTES = 100 * 1024 * 1024
#: A PDF ends with %%EOF. Readers look for it in the last 1024 bytes; the check asks that nothing but
#: blanks follow the last one, so no ZIP or page rides behind the document (a PDF/ZIP polyglot).
_PDF_BLANKS = b" \t\r\n\f\x00"
#: What an evidence PDF never holds and a web page or an active PDF does (compared in lower case): a
#: PDF that is also an HTML page, or runs a script or a program when opened, is refused. Each is long
#: enough that the compressed streams of a 10 MB scan hold one by chance about once in ten thousand files.
PDF_ACTIVE_MARKERS = (b"<html", b"<!doctype", b"<script", b"<iframe", b"<body", b"javascript", b"/launch")
#: The short name of a script action (/JS), looked for outside the streams only (three bytes occur by
#: chance in compressed data).
_PDF_JS = re.compile(rb"/js[\s/<(\[]")
#: A byte of a name written as #xx (ISO 32000 §7.3.5): readers take /J#61vaScript for /JavaScript.
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9a-fA-F]{2})")
#: An object stream (PDF 1.5, ``/Type /ObjStm``) holds objects, catalog and actions included, compressed:
#: each is inflated (FlateDecode, the filter writers use for them) and looked at too, within these bounds.
_PDF_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_PDF_OBJSTM = re.compile(rb"/type\s*/objstm(?![a-z0-9])")
_PDF_FILTER = re.compile(rb"/filter\s*(\[[^\]]*\]|/[a-z0-9]+)")
PDF_OBJECT_STREAMS = 1_000
PDF_INFLATED_BYTES = 32 * _MB
#: Longest file name kept (a name is shown, never used as a path).
MAX_FILE_NAME_CHARS = 100
SHA256_RE = re.compile(r"[0-9a-f]{64}", re.ASCII)
_FILE_KEYS = frozenset({"sha256", "name", "type", "size"})


class FileRefused(AppError):
    """A file a ``file`` field does not take; ``code`` says why (file_empty, file_too_big, file_type,
    file_not_accepted, file_broken, file_trailing, image_too_large, file_active, file_unchecked, too_many_files) and the
    message names the field and the file."""

    code = "file_refused"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)


def file_limit_bytes(spec: Any) -> int:
    """The largest file ``spec`` takes: its YAML ``max_mb`` (the loader keeps it within FILE_MAX_MB), else the cap."""
    return int(min(spec.max_mb or FILE_MAX_MB, FILE_MAX_MB) * _MB)


def accepted_kinds(spec: Any) -> tuple[FileKind, ...]:
    """The kinds ``spec`` takes: its YAML ``accept`` (checked by the loader), else every known kind."""
    return tuple(FILE_KINDS[k] for k in (spec.accept or FILE_KINDS) if k in FILE_KINDS)


def clean_file_name(name: Any, kind: FileKind | None = None) -> str:
    """A file's name as it may be shown and offered for download: its last path part only, without
    control, direction or invisible characters, at most MAX_FILE_NAME_CHARS (the extension kept); with
    ``kind``, ending in one of its extensions (a JPEG named 报告.pdf downloads as 报告.pdf.jpg).

    >>> clean_file_name("..\\\\..\\\\etc/passwd\\x00.png"), clean_file_name("\\u202egnp.exe"), clean_file_name(" ")
    ('passwd.png', 'gnp.exe', '文件')
    >>> clean_file_name("现场照片.JPG", FILE_KINDS["jpeg"]), clean_file_name("报告.pdf", FILE_KINDS["jpeg"])
    ('现场照片.JPG', '报告.pdf.jpg')
    """
    text = name if isinstance(name, str) else ""
    text = re.split(r"[/\\\\]", text[-10 * MAX_FILE_NAME_CHARS:])[-1]
    text = BIDI_CHARS.sub("", INVISIBLE_CHARS.sub("", CONTROL_CHARS.sub("", LINE_BREAKS.sub("", text)))).strip().strip(".")
    text = unicodedata.normalize("NFC", text) or "文件"
    if kind is not None and not text.lower().endswith(kind.extensions):
        text += kind.extensions[0]
    if len(text) > MAX_FILE_NAME_CHARS:
        stem, dot, ext = text.rpartition(".")
        ext = dot + ext if stem and len(ext) <= 10 else ""
        text = text[: MAX_FILE_NAME_CHARS - len(ext)] + ext
    return text


def sniff(head: bytes) -> FileKind | None:
    """The kind a file's first bytes say it is, or None.

    >>> sniff(b"%PDF-1.7 ..."), sniff(b"GIF89a"), sniff(b"")
    (FileKind(key='pdf', mime='application/pdf', word='PDF 文件', extensions=('.pdf',), magic=b'%PDF-', image=False), None, None)
    """
    return next((k for k in FILE_KINDS.values() if head.startswith(k.magic)), None)


def _jpeg_end(data: bytes) -> int | None:
    """Where a JPEG's EOI marker ends (its segments and scans walked, so an EOI inside an embedded
    thumbnail is not taken for it), or None when the bytes end first.

    >>> _jpeg_end(b"\\xff\\xd8\\xff\\xda\\x00\\x02\\x12\\xff\\x00\\xff\\xd0\\x34\\xff\\xd9 tail")
    14
    """
    at, end = 2, len(data)
    while at + 2 <= end:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte before the marker
            at += 1
            continue
        if marker == 0xD9:
            return at + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
            continue
        if at + 4 > end:
            return None
        at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
        if marker == 0xDA:  # a scan's coded data runs to the next marker that is not stuffing or a restart
            while True:
                found = data.find(b"\xff", at)
                if found < 0 or found + 1 >= end:
                    return None
                following = data[found + 1]
                if following == 0 or 0xD0 <= following <= 0xD7:
                    at = found + 2
                elif following == 0xFF:
                    at = found + 1
                else:
                    at = found
                    break
    return None


def _png_end(data: bytes) -> int | None:
    """Where a PNG's IEND chunk ends (its chunks walked by their lengths), or None when the bytes end first."""
    at = 8
    while at + 12 <= len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        at += 12 + length
        if kind == b"IEND":
            return at if at <= len(data) else None
    return None


def _image_end(kind: FileKind, data: bytes) -> int | None:
    """Where an image's picture ends (what follows is no part of it), or None when it has no end."""
    return (_png_end if kind.key == "png" else _jpeg_end)(data)


def _pdf_problem(data: bytes) -> str | None:
    """``file_broken`` when a PDF has no %%EOF, ``file_trailing`` when anything but blanks follows its
    last one (a ZIP or a page riding behind the document), ``file_active`` when it holds a web page's or an active PDF's markers (``PDF_ACTIVE_MARKERS``, /JS)
    — its names' #xx escapes decoded, its object streams inflated —, ``file_unchecked`` when an object
    stream cannot be inflated within the bounds, else None.

    A heuristic, not a PDF reader: a script in another kind of stream, or spelled in a string's octal
    escapes, is not seen. Downloads are attachments, never shown in the app; the README asks that
    evidence PDFs be opened in a reader that runs no scripts.

    >>> _pdf_problem(b"%PDF-1.4\\n1 0 obj <<>> endobj\\n%%EOF\\n"), _pdf_problem(b"%PDF-1.4 x")
    (None, 'file_broken')
    >>> _pdf_problem(b"%PDF-1.4\\n<HTML><script>x</script>\\n%%EOF"), _pdf_problem(b"%PDF-1.4 /OpenAction << /S /JavaScript >> %%EOF")
    ('file_active', 'file_active')
    >>> _pdf_problem(b"%PDF-1.4 << /JS (x) >> %%EOF"), _pdf_problem(b"%PDF-1.4 stream\\n/js(\\nendstream %%EOF")
    ('file_active', None)
    >>> _pdf_problem(b"%PDF-1.4 << /S /J#61vaScript >> %%EOF"), _pdf_problem(b"%PDF-1.4 %%EOF\\nPK\\x03\\x04")
    ('file_active', 'file_trailing')
    """
    if not data.rstrip(_PDF_BLANKS).endswith(b"%%EOF"):
        return "file_trailing" if b"%%EOF" in data else "file_broken"
    if _active(_pdf_names(data), streams=True):
        return "file_active"
    budget, seen = PDF_INFLATED_BYTES, 0
    for found in _PDF_STREAM_START.finditer(data):
        begins = data.rfind(b"obj", 0, found.start()) + 3
        budget -= found.start() - begins  # read back to the object's start: bounded too, as a file of
        if budget < 0:  # many "stream" lines and no "obj" would make it quadratic
            return "file_unchecked"
        head = _pdf_names(data[begins:found.start()])  # the stream's dictionary
        if not _PDF_OBJSTM.search(head):
            continue
        seen += 1
        filters = _PDF_FILTER.search(head)
        if filters is None:  # not compressed: its bytes were looked at above
            continue
        if seen > PDF_OBJECT_STREAMS or filters.group(1).strip(b"[] \t\r\n") != b"/flatedecode":
            return "file_unchecked"
        try:
            objects = zlib.decompressobj().decompress(data[found.end():], budget + 1)
        except zlib.error:
            return "file_unchecked"
        budget -= len(objects)
        if budget < 0:
            return "file_unchecked"
        if _active(_pdf_names(objects), streams=False):
            return "file_active"
    return None


def _pdf_names(data: bytes) -> bytes:
    """PDF bytes with each name's #xx escape decoded (ISO 32000 §7.3.5), as a reader takes them, in lower
    case (/J#53 is /JS)."""
    return _PDF_NAME_ESCAPE.sub(lambda m: bytes.fromhex(m.group(1).decode()), data).lower()


def _active(lowered: bytes, *, streams: bool) -> bool:
    """Whether PDF bytes (in lower case, names decoded) hold an active marker; ``streams``: the bytes hold
    streams, and /JS is looked for outside them only (three bytes occur by chance in compressed data)."""
    return any(marker in lowered for marker in PDF_ACTIVE_MARKERS) or bool(
        _PDF_JS.search(_outside_streams(lowered) if streams else lowered))


def _outside_streams(data: bytes) -> bytes:
    """``data`` without its streams' bytes (from "stream" to the next "endstream"; a stream that never
    ends is kept). One pass: a regex over a file of many unended streams took quadratic time.

    >>> _outside_streams(b"a stream\\nxx endstream b endstream\\nc stream\\nyy")
    b'a  b endstream\\nc stream\\nyy'
    """
    parts, at = [], 0
    while (start := _PDF_STREAM_START.search(data, at)) is not None:
        end = data.find(b"endstream", start.end())
        if end < 0:
            break
        parts.append(data[at:start.start()])
        at = end + len(b"endstream")
    parts.append(data[at:])
    return b"".join(parts)


def _decoded_bytes(image) -> int:
    """How many bytes ``image`` (opened, not loaded) takes once decoded."""
    per_band = 4 if image.mode in ("I", "F") else 2 if "16" in image.mode else 1
    return image.width * image.height * len(image.getbands()) * per_band


def _image_problem(kind: FileKind, data: bytes) -> str | None:
    """Why an image's bytes cannot be shown (``image_too_large``, ``file_broken``), or None. PIL (which Streamlit draws images with) reads it: the header must agree with the magic
    bytes, the picture stay within MAX_IMAGE_PIXELS (a PNG, decoded whole, within MAX_PNG_DECODED_BYTES
    too, judged from its header before any pixel is decoded), the pixels decode (a JPEG at reduced
    scale: cheap, still whole), and the picture have an end (``take_file`` cuts what follows it)."""
    from PIL import Image  # imported when a file arrives, not by every process that reads forms

    try:
        with Image.open(io.BytesIO(data), formats=["PNG" if kind.key == "png" else "JPEG"]) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return "image_too_large"
            if kind.key == "png" and _decoded_bytes(image) > MAX_PNG_DECODED_BYTES:
                return "image_too_large"
            image.draft("RGB", (512, 512))
            image.load()
    except Image.DecompressionBombError:
        return "image_too_large"
    except Exception:  # noqa: BLE001 - hostile bytes make PIL raise many types; each means "not a readable image"
        return "file_broken"
    return "file_broken" if _image_end(kind, data) is None else None


def _read_bounded(data: bytes | IO[bytes], limit: int) -> bytes | int:
    """The bytes of ``data``, or its size when it is over ``limit`` (a stream's size is taken from its
    end, so an oversized file is refused before it is read)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data) if len(data) <= limit else len(data)
    size = data.seek(0, os.SEEK_END)
    data.seek(0)
    return data.read(limit + 1) if size <= limit else size


_FILE_MESSAGES = {
    "file_empty": "是空文件（0 字节）",
    "file_too_big": "有 {size:.1f} MB，超过本项的上限 {limit:g} MB，请压缩后再上传",
    "file_type": "不是 {words}（按文件内容判断，与文件名无关）",
    "file_not_accepted": "是 {word}，本项只接受 {words}",
    "file_broken": "内容已损坏或不完整，无法作为 {word} 打开",
    "image_too_large": "图片尺寸过大（上限 {pixels} 万像素，PNG 解码后不超过 {png_mb} MB），请缩小后再上传",
    "file_active": "含有网页或脚本内容（打开时会运行脚本或程序），请另存或打印为普通 PDF 后再上传",
    "file_trailing": "在 PDF 的结尾标记（%%EOF）之后还有其他内容，请另存或打印为普通 PDF 后再上传",
    "file_unchecked": "含有无法检查的压缩内容（对象流），请另存或打印为普通 PDF 后再上传",
    "too_many_files": "未上传：本项最多 {bound} 个文件",
}


def _refused(spec: Any, name: str, code: str, **params: Any) -> FileRefused:
    return FileRefused(code, f"「{spec.label}」的文件「{quotable(name)}」" + _FILE_MESSAGES[code].format(**params))


def check_file(spec: Any, name: Any, data: bytes | IO[bytes], *, held: int = 0) -> dict[str, Any]:
    """The answer item for one uploaded file of the ``file`` field ``spec`` — {sha256, name, type, size} —
    or FileRefused naming the field and the file: empty, over the field's size limit, not a kind the
    field accepts (judged by content), a broken image, a PDF without its %%EOF or with a web page's or a
    script's markers. ``held``: files the field holds already. The item describes the bytes
    ``take_file`` gives to store (an image without what follows its end).

    >>> from lib.forms.spec import FieldSpec
    >>> spec = FieldSpec(key="photos", label="现场照片", type="file", accept=("pdf",))
    >>> check_file(spec, "a/b.pdf", b"%PDF-1.4 x\\n%%EOF\\n")["name"]
    'b.pdf'
    >>> check_file(spec, "c.pdf", b"GIF89a...")
    Traceback (most recent call last):
    lib.forms.types.FileRefused: 「现场照片」的文件「c.pdf」不是 PDF 文件（按文件内容判断，与文件名无关）
    """
    return take_file(spec, name, data, held=held)[0]


def take_file(spec: Any, name: Any, data: bytes | IO[bytes], *, held: int = 0) -> tuple[dict[str, Any], bytes]:
    """``check_file``'s item and the bytes to store for it: an image ends where its picture ends. A phone's
    motion photo (a video after the JPEG) or a file hidden behind a picture is cut off rather than stored
    and handed out with it, so the inspector's photo is kept and nothing else is."""
    shown = clean_file_name(name)
    accepted = accepted_kinds(spec)
    if held >= MAX_FILES:
        raise _refused(spec, shown, "too_many_files", bound=MAX_FILES)
    limit = file_limit_bytes(spec)
    body = _read_bounded(data, limit)
    if isinstance(body, int) or len(body) > limit:
        size = body if isinstance(body, int) else len(body)
        raise _refused(spec, shown, "file_too_big", size=size / _MB, limit=limit / _MB)
    if not body:
        raise _refused(spec, shown, "file_empty")
    kind = sniff(body[:16])
    words = "、".join(k.word for k in accepted)
    if kind is None:
        raise _refused(spec, shown, "file_type", words=words)
    if kind not in accepted:
        raise _refused(spec, shown, "file_not_accepted", word=kind.word, words=words)
    problem_code = _image_problem(kind, body) if kind.image else _pdf_problem(body)
    if problem_code:
        raise _refused(spec, shown, problem_code, word=kind.word, pixels=MAX_IMAGE_PIXELS // 10_000,
                       png_mb=MAX_PNG_DECODED_BYTES // _MB)
    if kind.image:
        body = body[:_image_end(kind, body)]
    item = {"sha256": hashlib.sha256(body).hexdigest(), "name": clean_file_name(name, kind), "type": kind.mime, "size": len(body)}
    return item, body


def file_kind(item: Any) -> FileKind | None:
    """The kind of a stored answer item ({sha256, name, type, size}), or None when it is not one."""
    return _KIND_OF_MIME.get(item.get("type")) if isinstance(item, dict) else None


def _file(raw: Any, spec: Any, ctx: dict) -> list[dict[str, Any]]:
    """Answer items of files already checked and stored (check_file made them): each is refused
    unless it has exactly that shape — a SHA-256, a kind we know, a size within the cap, a clean
    name — so no answer can name a path or a file of another shape. Repeats of one file count once."""
    if not isinstance(raw, (list, tuple)):
        raise ValueProblem("not_file_list")
    if len(raw) > MAX_FILES:
        raise ValueProblem("too_many_files", bound=MAX_FILES, count=len(raw))
    files: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(raw, 1):
        if not (isinstance(item, dict) and item.keys() == _FILE_KEYS and file_kind(item) is not None
                and isinstance(item["sha256"], str) and SHA256_RE.fullmatch(item["sha256"])
                and type(item["size"]) is int and 0 < item["size"] <= FILE_MAX_MB * _MB
                and isinstance(item["name"], str) and clean_file_name(item["name"], file_kind(item)) == item["name"]):
            raise ValueProblem("bad_file_entry", index=index)
        files.setdefault(item["sha256"], dict(item))
    return list(files.values())


@dataclass(frozen=True)
class FieldType:
    name: str
    kind: str  # store column kind: text / integer / number / date / bool / list / table
    widget: str  # widget name in lib/ui/widgets.py
    parse: Callable[[Any, Any, dict], Any] | None  # None: handled by the validator (table)
    has_choices: bool = False


REGISTRY: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType("text", "text", "text", _text),
        FieldType("textarea", "text", "textarea", _textarea),
        FieldType("integer", "integer", "integer", _integer),
        FieldType("decimal", "number", "decimal", _decimal_with(None)),
        FieldType("money", "number", "money", _decimal_with(2)),
        FieldType("percent", "number", "percent", _decimal_with(2, percent_sign=True)),
        FieldType("date", "date", "date", _date),
        FieldType("select", "text", "select", _select, has_choices=True),
        FieldType("multiselect", "list", "multiselect", _multiselect, has_choices=True),
        FieldType("boolean", "bool", "boolean", _boolean),
        FieldType("phone", "text", "text", _phone),
        FieldType("email", "text", "text", _email),
        FieldType("credit_code", "text", "text", _credit_code),
        FieldType("city", "text", "city", _city),
        FieldType("table", "table", "table", None),
        # A list of {sha256, name, type, size}: the bytes are in lib.core.blobs, let in by check_file.
        FieldType("file", "table", "file", _file),
    )
}
