"""The expression language: what it evaluates, how blanks propagate, what it refuses."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.forms.expressions import Expression, ExpressionError


def ev(text: str, **env):
    return Expression(text).evaluate(env)


@pytest.mark.parametrize(
    "text, env, expected",
    [
        ("a + b * 2", {"a": 1, "b": 3}, 7),
        ("(a + b) / (c + d) * 100", {"a": 30, "b": 20, "c": 100, "d": 100}, 25.0),
        ("a // 2 + a % 2", {"a": 7}, 4),
        ("-a", {"a": 3}, -3),
        ("a >= b * 0.9", {"a": 95, "b": 100}, True),
        ("a >= b * 0.9", {"a": 89.99, "b": 100}, False),
        ("1 < a <= 3", {"a": 3}, True),
        ("1 < a <= 3", {"a": 4}, False),
        ("s != '正常使用'", {"s": "闲置"}, True),
        ("s != '正常使用'", {"s": "正常使用"}, False),
        ("s in ['闲置', '停用']", {"s": "停用"}, True),
        ("s not in ['闲置', '停用']", {"s": "停用"}, False),
        ("'培训辅导' in xs", {"xs": ["项目改进", "培训辅导"]}, True),
        ("a and not b", {"a": True, "b": False}, True),
        ("a or b", {"a": False, "b": False}, False),
        ("'高' if a > 10 else '低'", {"a": 11}, "高"),
        ("d >= '2018-03-20'", {"d": dt.date(2018, 3, 20)}, True),
        ("d >= date('2018-03-20')", {"d": dt.date(2018, 3, 19)}, False),
        ("'2020-09-18' >= d", {"d": dt.date(2020, 9, 18)}, True),
        ("True", {}, True),
    ],
)
def test_evaluates(text, env, expected):
    assert Expression(text).evaluate(env) == expected


@pytest.mark.parametrize(
    "text, env",
    [
        ("a + 1", {}),  # unknown or blank name
        ("a * b", {"a": 2, "b": None}),
        ("a >= b * 0.9", {"a": 95, "b": None}),
        ("s != '正常使用'", {"s": None}),
        ("a / b", {"a": 1, "b": 0}),  # division by zero is blank, not a crash
        ("a + b", {"a": 1, "b": "x"}),  # a type error is blank, not a crash
        ("a < b", {"a": 1, "b": "x"}),
        ("-a", {"a": None}),
        ("round(a, 2)", {"a": None}),
        ("min(a, b)", {"a": 1, "b": None}),
        ("date(a)", {"a": None}),
        ("days_between(a, b)", {"a": "2020-09-07", "b": None}),
    ],
)
def test_blank_propagates(text, env):
    assert Expression(text).evaluate(env) is None


def test_not_of_blank_is_true_so_a_negated_flag_shows_its_section():
    # att2's sections use `not monthly_report_exempt`: unanswered must mean "show".
    assert ev("not monthly_report_exempt") is True
    assert ev("not monthly_report_exempt", monthly_report_exempt=True) is False


def test_boolean_operators_are_three_valued_over_blanks():
    # a blank operand leaves the result blank unless another operand decides it
    assert ev("a and b", a=True, b=None) is None
    assert ev("a and b", a=False, b=None) is False
    assert ev("a or b", a=None, b=True) is True
    assert ev("a or b", a=None, b=False) is None
    # so a rule over a blank neither fires nor passes by accident
    assert ev("paid <= contract and paid >= contract * 0.9", paid=95, contract=None) is None


@pytest.mark.parametrize(
    "text, env, expected",
    [
        ("blank(a)", {"a": ""}, True),
        ("blank(a)", {"a": []}, True),
        ("blank(a)", {"a": 0}, False),
        ("filled(a)", {"a": "x"}, True),
        ("filled(a)", {}, False),
        ("len(a)", {"a": "上云上平台"}, 5),
        ("len(a)", {}, 0),
        ("count(rows)", {"rows": [{}, {}]}, 2),
        ("count(rows)", {"rows": None}, 0),
        ("sum_of(rows, 'x')", {"rows": [{"x": 1.5}, {"x": None}, {"x": 2}]}, 3.5),
        ("sum_of(rows, 'x')", {"rows": None}, 0),
        ("days_between(a, b)", {"a": dt.date(2020, 9, 7), "b": "2020-09-21"}, 14),
        ("days_between(a, b)", {"a": dt.date(2020, 9, 21), "b": dt.date(2020, 9, 7)}, -14),
        ("date('2020-09-18')", {}, dt.date(2020, 9, 18)),
        ("min(a, b)", {"a": 3, "b": 2}, 2),
        ("max(a, b, 10)", {"a": 3, "b": 2}, 10),
        ("abs(a)", {"a": -2.5}, 2.5),
        ("round(a, 2)", {"a": 1.23456}, 1.23),
        ("coalesce(a, b, 'x')", {"a": "", "b": None}, "x"),
        ("coalesce(a, b)", {"a": "", "b": 5}, 5),
    ],
)
def test_functions(text, env, expected):
    assert Expression(text).evaluate(env) == expected


def test_today_is_today():
    assert ev("today()") == dt.date.today()


def test_names_and_functions_are_collected():
    expr = Expression("paid <= contract and round(paid / contract * 100, 6) >= 90 and not blank(note)")
    assert expr.names == {"paid", "contract", "note"}
    assert expr.functions == {"round", "blank"}
    assert Expression("True or False or None").names == set()


@pytest.mark.parametrize(
    "text",
    [
        "a >",  # syntax
        "a.__class__",  # attribute access
        "a[0]",  # subscript
        "__import__('os').system('id')",
        "(lambda: 1)()",
        "[x for x in a]",
        "{'a': 1}",
        "a if",
        "f(x=1)",  # keyword arguments
        "a ** 2",  # power is not offered (cost bomb)
        "a is None",
        "~a",
        "b'bytes'",
        "x := 1",
    ],
)
def test_refuses_unsafe_or_unknown_syntax(text):
    with pytest.raises(ExpressionError):
        Expression(text)


def test_calls_are_recorded_not_resolved_at_parse_time():
    # The loader reports unknown functions; the parser only records them.
    assert Expression("sqrt(a)").functions == {"sqrt"}
