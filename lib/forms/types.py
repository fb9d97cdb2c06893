"""The one registry of field types: YAML ``type`` -> value kind, parsing/validation, widget name.

A new type is one ``FieldType`` entry here, one widget in ``lib/ui/widgets.py`` if it needs a new
kind of widget, and one test.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

# Characters an .xlsx cell (XML 1.0) cannot hold; tab, newline and carriage return are fine.
ILLEGAL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?|\d{7,8})$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


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


def _text(raw: Any, spec: Any, ctx: dict) -> str:
    value = str(raw).strip() if not isinstance(raw, str) else raw.strip()
    if ILLEGAL_CHARS.search(value):
        raise ValueProblem("bad_text")
    return value


def _integer(raw: Any, spec: Any, ctx: dict) -> int:
    if isinstance(raw, bool):
        raise ValueProblem("not_integer")
    if isinstance(raw, int):
        return raw
    try:
        number = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueProblem("not_integer") from None
    if number != number.to_integral_value():
        raise ValueProblem("not_integer")
    return int(number)


def _decimal_with(places: int | None) -> Callable[[Any, Any, dict], float]:
    def parse(raw: Any, spec: Any, ctx: dict) -> float:
        if isinstance(raw, bool):
            raise ValueProblem("not_number")
        try:
            number = Decimal(str(raw).strip().replace(",", "").rstrip("%"))
        except InvalidOperation:
            raise ValueProblem("not_number") from None
        if not number.is_finite():
            raise ValueProblem("not_number")
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
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw).strip().replace("/", "-"))
    except ValueError:
        raise ValueProblem("not_date") from None


def _select(raw: Any, spec: Any, ctx: dict) -> str:
    value = str(raw).strip()
    if value not in spec.choices:
        raise ValueProblem("not_choice", value=value)
    return value


def _multiselect(raw: Any, spec: Any, ctx: dict) -> list[str]:
    items = re.split(r"[；;、,，]", raw) if isinstance(raw, str) else list(raw)
    values = [str(v).strip() for v in items if str(v).strip()]
    for value in values:
        if value not in spec.choices:
            raise ValueProblem("not_choice", value=value)
    # Keep the order the form declares, so equal answers are equal lists.
    return [c for c in spec.choices if c in values]


def _boolean(raw: Any, spec: Any, ctx: dict) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("是", "true", "1", "yes", "y"):
        return True
    if text in ("否", "false", "0", "no", "n"):
        return False
    raise ValueProblem("not_boolean")


def _phone(raw: Any, spec: Any, ctx: dict) -> str:
    value = re.sub(r"[\s]", "", str(raw))
    if value.startswith("+86"):
        value = value[3:]
    if not PHONE_RE.match(value):
        raise ValueProblem("bad_phone")
    return value


def _email(raw: Any, spec: Any, ctx: dict) -> str:
    value = str(raw).strip()
    if not EMAIL_RE.match(value):
        raise ValueProblem("bad_email")
    return value


def _credit_code(raw: Any, spec: Any, ctx: dict) -> str:
    value = str(raw).strip().upper()
    if not is_credit_code(value):
        raise ValueProblem("bad_credit_code")
    return value


def _city(raw: Any, spec: Any, ctx: dict) -> str:
    value = str(raw).strip()
    if value not in ctx.get("cities", ()):
        raise ValueProblem("not_city", value=value)
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
        FieldType("textarea", "text", "textarea", _text),
        FieldType("integer", "integer", "integer", _integer),
        FieldType("decimal", "number", "decimal", _decimal_with(None)),
        FieldType("money", "number", "money", _decimal_with(2)),
        FieldType("percent", "number", "percent", _decimal_with(2)),
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
