"""The one rendering of a value (lib.core.values): what every page, workbook, Sheets view, audit entry
and export shows, as properties over any value the store may hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.core.values import LIST_SEPARATOR, MAX_CHANGE_CHARS, WALL_CLOCK, change_text, text, wall_time
from lib.forms.display import value_text
from lib.forms.spec import FieldSpec

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.dates(),
                    st.datetimes(), st.floats(), st.decimals(places=2))
values = st.one_of(scalars, st.lists(st.text(min_size=1, max_size=5), max_size=4),
                   st.lists(st.dictionaries(st.from_regex(r"[a-z]{1,3}", fullmatch=True), scalars, max_size=3), max_size=3))


@given(values)
def test_any_value_renders_without_python_spellings(value):
    shown = text(value)
    assert isinstance(shown, str)
    for word in ("None", "nan", "NaN", "inf", "True", "False", "e+", "e-"):
        assert word not in shown or (isinstance(value, str) and word in value) or _inside(value, word)


def _inside(value, word):
    """A text the person typed may itself hold the word."""
    if isinstance(value, list):
        return any(_inside(v, word) for v in value)
    if isinstance(value, dict):
        return any(word in k or _inside(v, word) for k, v in value.items())
    return isinstance(value, str) and word in value


@pytest.mark.parametrize("value, kind, shown", [
    (True, "", "是"), (False, "boolean", "否"), (None, "money", ""), (float("nan"), "", ""),
    (12.5, "money", "12.50"), (3, "percent", "3.00"), (Decimal("1.10"), "", "1.1"), (0.1 + 0.2, "", "0.3"),
    (10**16, "", "10000000000000000"), (dt.date(2020, 9, 1), "date", "2020-09-01"),
    (dt.datetime(2020, 9, 1, 8, 5, 3), "", "2020-09-01 08:05:03"), (["甲", "", "乙"], "multiselect", "甲；乙"),
])
def test_the_rules(value, kind, shown):
    assert text(value, kind) == shown


def test_the_form_aware_text_is_the_same_rendering():
    money = FieldSpec(key="m", label="金额", type="money")
    four = FieldSpec(key="x", label="系数", type="decimal", decimals=4)
    assert value_text(money, 12.5) == text(12.5, "money") == "12.50"
    assert value_text(four, 1.5) == "1.5000" and value_text(None, ["甲", "乙"]) == LIST_SEPARATOR.join(["甲", "乙"])


def test_one_cap_for_a_change():
    long = change_text({"r": ("", "字" * 5000)}, str)
    assert len(long) == MAX_CHANGE_CHARS + 1 and long.endswith("…")
    assert change_text({"r": (None, True)}, {"r": "备注"}.get) == "备注：（空） → 是"


def test_a_change_reads_each_field_with_its_kind():
    """Money and percent keep two decimals in 变更内容 as in their cells; other numbers are left as they are."""
    kinds = {"m": "money", "p": "percent"}
    assert change_text({"m": (12.5, 3), "p": (None, 80.0), "x": (1.5, 2.0)}, str, kind=kinds.get) == (
        "m：12.50 → 3.00\np：（空） → 80.00\nx：1.5 → 2")


@given(st.datetimes(timezones=st.one_of(st.none(), st.timezones())))
def test_a_time_reads_as_its_wall_time_cut_to_the_second(value):
    """The text and a typed cell (wall_time) agree: the same second, never rounded up, in Beijing time."""
    shown = wall_time(value)
    assert shown.tzinfo is None and shown.microsecond == 0
    assert text(value) == shown.strftime("%Y-%m-%d %H:%M:%S")
    naive = value.astimezone(WALL_CLOCK).replace(tzinfo=None) if value.tzinfo else value
    assert dt.timedelta(0) <= naive - shown < dt.timedelta(seconds=1)
