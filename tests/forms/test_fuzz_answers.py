"""Fuzzing `check_answers`: every shipped form, given arbitrary JSON-like answers, returns an outcome
whose problems are coded and whose values stay within the bounds the code enforces — never another
exception.

The time a check takes is bounded by the code, not measured here: every raw value is capped before it
is parsed (lib/forms/types.py), tables by row count, expressions by size, depth and result
(lib/forms/expressions.py), and patterns run in RE2's linear time. What this test asserts is that
those caps hold for whatever comes in: no value escapes them into the record.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.forms import FieldSpec, check_answers
from lib.forms.errors import MESSAGES
from lib.forms.expressions import MAX_RESULT_DIGITS, MAX_RESULT_ITEMS
from lib.forms.types import (
    BIDI_CHARS,
    CONTROL_CHARS,
    EARLIEST_DATE,
    INVISIBLE_CHARS,
    LATEST_DATE,
    MAX_INTEGER_DIGITS,
    MAX_ITEMS,
    MAX_TEXT_CHARS,
)

from .test_shipped_forms import FORM_IDS

CHINESE = re.compile(r"[\u4e00-\u9fff]")
NUMBERS = ("integer", "decimal", "money", "percent")

# Inputs that once hung or crashed a check, mixed into the generated ones so every run meets them.
HOSTILE = st.sampled_from([
    "1e1000000", "9" * 5000, "-" + "9" * 40, "Infinity", "-inf", "sNaN", "NaN", "2,0.00", "20%", "1,2345",
    "9999-12-31", "0001-01-01", "2020-02-30", "２０２０－０９－１８", "１３８００１３８０００", "\u202e合格", "第一行\n第二行",
    "\x00", "\x85", "\ud800", "\u200b", "\u200e合格", "\ufeff\U000e0041", "١٢٣", "٢٠٢٠-٠١-٠١", "字" * (MAX_TEXT_CHARS + 1), "是", "否", "%s", "'", "(a+)+$", "a" * 3000 + "!",
])
# What a pandas table (st.data_editor, an .xlsx read) hands back: numpy scalars, which compare with a list
# as an array (``np.float64(1) == []`` has no truth value) and subclass float or str or neither.
NUMPY = (st.floats().map(np.float64) | st.integers(-(2**63), 2**63 - 1).map(np.int64) | st.booleans().map(np.bool_)
         | st.text(max_size=20).map(np.str_) | st.just(np.nan) | st.just(np.float64("nan")))
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.sampled_from([10**4000, -(10**400), 10**15, 2**63, -1])  # 10**4000: Python prints ints up to 4,300 digits
    | st.floats() | st.text(max_size=40) | st.text(st.characters(codec=None), max_size=20) | st.dates().map(str) | HOSTILE
    | NUMPY
)
JSON_LIKE = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12
)


def plausible(spec: FieldSpec, cities: tuple[str, ...]) -> st.SearchStrategy:
    """Values a real filler could send for ``spec``, so generated answers also reach the rules."""
    options = [JSON_LIKE]
    if spec.choices:
        options += [st.sampled_from(spec.choices), st.lists(st.sampled_from(spec.choices), max_size=4)]
    if spec.type == "city":
        options.append(st.sampled_from(cities))
    if spec.type == "date":
        options += [st.dates(), st.dates(EARLIEST_DATE, LATEST_DATE).map(str)]
    if spec.type in NUMBERS:
        options += [st.decimals(-(10**16), 10**16, places=3).map(str), st.floats(-1e16, 1e16), st.integers(-(10**16), 10**16)]
    if spec.type == "boolean":
        options.append(st.sampled_from([True, False, "是", "否", 0, 1, 2]))
    if spec.type == "table":
        row = st.fixed_dictionaries({}, optional={sub.key: plausible(sub, cities) for sub in spec.fields or ()})
        options.append(st.lists(row, max_size=4))
    return st.one_of(options)


def answers(form, cities) -> st.SearchStrategy:
    fields = {spec.key: plausible(spec, cities) for spec in form.all_fields()}
    extra = st.dictionaries(st.text(max_size=8), JSON_LIKE, max_size=3)  # keys no field has
    return st.tuples(st.fixed_dictionaries({}, optional=fields), extra).map(lambda pair: {**pair[1], **pair[0]})


def within_bounds(spec: FieldSpec, value) -> bool:
    """Whether a checked value is of its field's kind and inside the caps (blank always is)."""
    if value is None:
        return True
    if spec.calculation:  # a rule's result: bounded by the expression language
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return math.isfinite(value) and abs(value) < 10**MAX_RESULT_DIGITS
        return not isinstance(value, (str, list)) or len(value) <= MAX_RESULT_ITEMS
    kind = spec.kind
    if kind == "text":
        return isinstance(value, str) and len(value) <= MAX_TEXT_CHARS and not CONTROL_CHARS.search(value) \
            and not BIDI_CHARS.search(value) and not INVISIBLE_CHARS.search(value) and (spec.type == "textarea" or "\n" not in value)
    if kind == "integer":
        return type(value) is int and abs(value) < 10**MAX_INTEGER_DIGITS
    if kind == "number":
        return type(value) is float and math.isfinite(value) and abs(value) < 10**MAX_INTEGER_DIGITS
    if kind == "date":
        return type(value) is dt.date and EARLIEST_DATE <= value <= LATEST_DATE
    if kind == "bool":
        return type(value) is bool
    if kind == "list":
        return isinstance(value, list) and all(v in spec.choices for v in value)
    if kind == "table":
        subs = {sub.key: sub for sub in spec.fields or ()}
        return isinstance(value, list) and len(value) <= MAX_ITEMS and all(
            isinstance(row, dict) and set(row) <= set(subs) and all(within_bounds(subs[k], v) for k, v in row.items())
            for row in value
        )
    return False


@pytest.mark.parametrize("form_id", FORM_IDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), draft=st.booleans())
def test_any_answers_give_an_outcome_with_coded_problems_and_bounded_values(catalog, cities, form_id, data, draft):
    form = catalog.form(form_id)
    raw = data.draw(answers(form, cities))
    outcome = check_answers(form, raw, cities=cities, draft=draft)
    keys = {spec.key for spec in form.all_fields()}
    for found in outcome.problems:
        assert found.code in MESSAGES
        assert found.field in keys, found
        assert CHINESE.search(found.message)
    assert set(outcome.values) == keys
    for spec in form.all_fields():
        assert within_bounds(spec, outcome.values[spec.key]), (spec.key, outcome.values[spec.key])
    if outcome.ok and not draft:
        assert all(outcome.values[s.key] is not None for s in form.all_fields() if s.required and s.key not in outcome.hidden
                   and not s.calculation)


@settings(max_examples=100, deadline=None)
@given(raw=JSON_LIKE.filter(lambda v: not isinstance(v, dict)))
def test_answers_that_are_not_a_mapping_are_refused_with_a_code(catalog, cities, raw):
    outcome = check_answers(catalog.form("att1"), raw, cities=cities)
    assert [p.code for p in outcome.problems] == ["not_answers"]
