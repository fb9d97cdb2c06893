"""Round trips of the value codec (log JSON and workbook cells), as properties."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

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
    st.none(), st.booleans(), st.integers(), legal_text, st.dates(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1)),
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


def test_equality_respects_type():
    assert not same_value(1, 1.0) and not same_value(1, True) and not same_value([1], [1.0])
    assert same_value([{"a": dt.date(2020, 1, 1)}], [{"a": dt.date(2020, 1, 1)}])
    assert encode(Decimal("1.10")) == {"$dec": "1.10"}
