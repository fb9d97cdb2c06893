"""The one registry of field types: YAML ``type`` -> value kind, parsing/validation, widget name.

A new type is one ``FieldType`` entry here, one widget in ``lib/ui/widgets.py`` if it needs a new
kind of widget, and one test.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

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
    )
}
