"""Round trips of the value codec (log JSON and workbook cells), as properties."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.store.base import InvalidValue
from lib.store.codec import (
    decode,
    encode,
    from_cell,
    kind_of,
    same_cell,
    same_value,
    to_cell,
    validate_values,
)

legal_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=[
    *map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]), "\ufffe", "\uffff"]), max_size=50)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), legal_text, st.dates(min_value=dt.date(1900, 3, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1)),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
values = st.one_of(scalars, st.lists(legal_text, max_size=5),
                   st.lists(st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), scalars, max_size=4),
                            max_size=3))


@given(values)
def test_log_encoding_round_trips_value_and_type(value):
    validate_values({"f": value})
    back = decode(json.loads(json.dumps(encode(value), ensure_ascii=False)))
    assert same_value(back, value)


@given(st.one_of(legal_text, st.integers(-10**14, 10**14), st.dates(), st.booleans(), st.lists(
    st.from_regex(r"[a-z甲乙]{1,5}", fullmatch=True), min_size=1, max_size=4)))
@settings(max_examples=200)
def test_a_cell_reads_back_as_the_value(value):
    cell = to_cell(value)
    if isinstance(value, (dt.date, int)) and not isinstance(value, bool):
        cell = float(cell) if isinstance(value, int) else cell  # calamine reads numbers as floats
    assert same_cell(value, cell)
    back = from_cell(cell, kind_of(value))
    assert back == value or (value == "" and back is None)


@pytest.mark.parametrize("value", [dt.date(1899, 12, 31), dt.date(1, 1, 1), dt.datetime(1800, 1, 1, 8, 30),
                                   dt.date(1900, 2, 28), [{"日": dt.date(1900, 1, 1)}]])
def test_a_date_no_spreadsheet_shows_faithfully_is_refused_naming_the_field(value):
    """Attack Q4: a date before 1900 was written as a serial of 0 or below (shown as a time or an error, verify
    never 一致), and one before 1900-03-01 is a day early in LibreOffice (Excel's phantom 1900-02-29)."""
    with pytest.raises(InvalidValue) as info:
        validate_values({"day": value}, {"day": "开工日期"})
    assert info.value.code == "date_out_of_range" and "「开工日期」" in str(info.value)
    validate_values({"day": dt.date(1900, 3, 1), "at": dt.datetime(1900, 3, 1, 0, 0, 1)})


def test_equality_respects_type():
    assert not same_value(1, 1.0) and not same_value(1, True) and not same_value([1], [1.0])
    assert same_value([{"a": dt.date(2020, 1, 1)}], [{"a": dt.date(2020, 1, 1)}])
    assert encode(Decimal("1.10")) == {"$dec": "1.10"}


@pytest.mark.parametrize("value", [10**5000, -(10**5000), Decimal("1E+400"), Decimal("-1E-400")],
                         ids=["huge", "huge-negative", "1E+400", "-1E-400"])
def test_numbers_no_cell_holds_are_refused_with_a_code_even_under_a_known_key(value):
    """A 5,000-digit int (Python will not write its text) or a Decimal beyond a double (the cell would be inf or
    0): refused with a code, also after the key was seen (the fast path for known keys; attack D2, D3)."""
    validate_values({"amount_seen": 1})
    with pytest.raises(InvalidValue) as err:
        validate_values({"amount_seen": value})
    assert err.value.code == "number_out_of_range"


@pytest.mark.parametrize("value, fits", [
    ("a" * 32_767, True),
    ("😀" * 16_383, True),  # 32,766 units
    ("a" * 32_766 + "😀", False),  # 32,767 characters, 32,768 units
    ("𠀀" * 20_000, False),
    (["好"] * 10 + ["😀" * 16_380], False),  # a list's cell: its items joined with "；"
])
def test_a_text_is_measured_as_the_workbook_cell_counts_it(value, fits):
    """Attack Q3: the store let in 32,767 characters holding emoji or rare characters, which the workbook
    cell (UTF-16 units, as Excel counts) could not hold: the workbook showed them cut, and a person's
    unrelated save then imported the cut text into the log."""
    if fits:
        validate_values({"remark": value})
        return
    with pytest.raises(InvalidValue) as info:
        validate_values({"remark": value}, {"remark": "备注"})
    assert info.value.code in ("text_too_long", "list_too_long") and "备注" in str(info.value)
