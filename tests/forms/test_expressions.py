"""The expression language: what it evaluates, how blanks propagate, what it refuses."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from lib.forms.expressions import MAX_DEPTH, Context, EvaluationError, Expression, ExpressionError


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


def test_today_is_the_clock_the_caller_passes():
    clock = Context(today=dt.date(2020, 9, 15))
    assert Expression("today()").evaluate({}, clock) == dt.date(2020, 9, 15)
    assert Expression("d <= today()").evaluate({"d": dt.date(2020, 9, 16)}, clock) is False
    assert Expression("d <= today()").evaluate({"d": dt.date(2020, 9, 15)}, clock) is True


@pytest.mark.parametrize("city, code, expected", [
    ("广州", "91440101MA59ABCDEM", True),
    ("佛山", "91440101MA59ABCDEM", False),
    ("汕尾", "91440101MA59ABCDEM", None),  # no code declared: blank, the rule stays silent
    (None, "91440101MA59ABCDEM", None),
    ("广州", "9144010", None),  # not 18 characters: no registration area
])
def test_a_credit_codes_area_is_compared_with_the_city_code_the_campaign_declares(city, code, expected):
    codes = Context(city_codes={"广州": "4401", "佛山": "4406"})
    rule = Expression("starts_with(credit_area(code), city_code(city))")
    assert rule.evaluate({"city": city, "code": code}, codes) is expected
    assert Expression("credit_area(code)").evaluate({"code": code}) == ("440101" if len(code) == 18 else None)


@pytest.mark.parametrize("text, kinds", [
    ("starts_with(amount, 'x')", {"amount": "number"}),
    ("city_code(amount) == '4401'", {"amount": "number"}),
    ("credit_area(day) == '440101'", {"day": "date"}),
])
def test_the_campaign_functions_take_texts_checked_at_load(text, kinds):
    assert Expression(text).type_problems(kinds)


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


# --- bounded at run time: nothing an expression computes can exhaust the server ---------------


@pytest.mark.parametrize(
    "text, env",
    [
        ("'x' * n", {"n": 10**15}),  # repetition refused before it is built
        ("n * s", {"s": "ab", "n": 10**15}),
        ("[1, 2] * n", {"n": 10**9}),
        ("s + s", {"s": "字" * 6000}),
        ("'%999999999d' % n", {"n": 1}),  # formatting could build any size: not offered
        ("a * a * a", {"a": 10**15}),  # beyond 10**30: no longer a number a cell keeps
        ("a * 1e29 * 1e29 * 1e29", {"a": 1.0}),  # float overflow to inf
        ("a / 3", {"a": 10**400}),  # int too large to convert to float
        ("round(a, -1000000000)", {"a": 5}),  # would compute 10**(10**9)
        ("round(a, 'x')", {"a": 5}),
        ("abs(a)", {"a": "文字"}),  # a kind mistake the loader could not see
        ("len(a)", {"a": 5}),
        ("count(a)", {"a": 5}),
        ("sum_of(a, b)", {"a": [{"x": 1}], "b": ["x"]}),
        ("date(a)", {"a": "下周"}),
        ("days_between(a, b)", {"a": "2020-09-01", "b": "下周"}),
        ("d >= '下周'", {"d": dt.date(2020, 9, 1)}),
        ("min(a)", {"a": 5}),
    ],
)
def test_a_result_out_of_bounds_or_a_bad_argument_is_an_evaluation_error(text, env):
    with pytest.raises(EvaluationError) as info:
        Expression(text).evaluate(env)
    assert re.search(r"[\u4e00-\u9fff]", str(info.value))


@pytest.mark.parametrize(
    "text, env",
    [
        ("[[x] * n] * n == [[x] * n] * n", {"x": 0, "n": 10_000}),  # 10**8 items by content, 10**4 by outer length
        ("[[[x] * n] * n] * n == 1", {"x": "某公司", "n": 10_000}),
        ("[s] * n", {"s": "字" * 100, "n": 200}),  # 200 items of 100 characters each
        ("[a, a, a]", {"a": [0] * 5_000}),  # a list literal repeating a large list
        ("a + a + a", {"a": [[0] * 100] * 50}),
        ("[[x] * n] * m", {"x": None, "n": 10_000, "m": 2}),
    ],
    ids=["2-level product compared", "3-level product", "long texts repeated", "literal of large lists", "sum of nested lists", "blank items"],
)
def test_nested_results_are_bounded_by_their_whole_content(text, env):
    """A list of lists counts every item it holds (and a text its characters), not only its own length:
    otherwise each level multiplies the work of a comparison by the bound."""
    with pytest.raises(EvaluationError) as info:
        Expression(text).evaluate(env)
    assert "10000" in str(info.value)


def test_results_within_the_bound_still_compute():
    assert Expression("[[x] * 100] * 100 == [[x] * 100] * 100").evaluate({"x": 1}) is True
    assert Expression("len('ab' * n)").evaluate({"n": 5_000}) == 10_000
    assert Expression("coalesce(rows)").evaluate({"rows": [{"a": "字" * 1_000}] * 1_000}) is not None  # answers are not re-measured


@pytest.mark.parametrize(
    "text",
    [
        "[[[client_name]*10000]*10000]*10000 == [[[client_name]*10000]*10000]*10000",
        "len([[0] * 10000] * 10000) > 0",
        "[[x] * (100 * 1000)] * 1 == y",
        "'ab' * 6000 == x",
        "x in ['字' * 5000] * 3",
    ],
    ids=["attack", "inside a call", "constant product", "text", "inside a comparison"],
)
def test_a_result_known_to_exceed_the_bound_is_refused_at_load(text):
    with pytest.raises(ExpressionError, match="10000"):
        Expression(text)


def test_a_unary_sign_on_text_is_blank_like_other_operator_type_errors():
    assert ev("-a", a="x") is None


@pytest.mark.parametrize(
    "text",
    [
        "10**10**10",
        "a" + " + a" * 200,  # over MAX_EXPRESSION_CHARS
        "not " * (MAX_DEPTH + 1) + "a",
        "-" * 2000 + "1",
        "a\x00",
        "1" + "0" * 40,  # a number constant beyond the result bound
        "1e400",
        "today(1)",  # arity is known at load
        "abs()",
        "round(a, 2, 3)",
    ],
    ids=["power tower", "long", "deep not", "deep minus", "NUL", "huge constant", "inf constant", "today(1)", "abs()", "round/3"],
)
def test_costly_or_malformed_expressions_are_refused_at_load(text):
    with pytest.raises(ExpressionError):
        Expression(text)


@pytest.mark.parametrize(
    "text, kinds, fragment",
    [
        ("abs(name) > 1", {"name": "text"}, "abs 的第 1 个参数应为数字"),
        ("len(amount) > 1", {"amount": "number"}, "len 的第 1 个参数应为文字或多选列表或表格"),
        ("count(amount)", {"amount": "number"}, "count"),
        ("name + 1", {"name": "text"}, "不能对文字和数字做 + 运算"),
        ("'%s 万元' % amount", {"amount": "number"}, "不支持用 % 格式化文字"),
        ("name > amount", {"name": "text", "amount": "number"}, "不能比较文字和数字的大小"),
        ("-name", {"name": "text"}, "正负号只能用于数字"),
        ("days_between(start, amount)", {"start": "date", "amount": "number"}, "days_between 的第 2 个参数"),
        ("sum_of(rows, 1)", {"rows": "table"}, "sum_of 的第 2 个参数应为文字"),
        ("'a' in amount", {"amount": "number"}, "in 的右边"),
    ],
)
def test_kind_mistakes_are_found_before_any_answer(text, kinds, fragment):
    found = Expression(text).type_problems(kinds)
    assert found and fragment in found[0]


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("d >= '2018-03-20'", {"d": "date"}),  # a date compared with an ISO date text is allowed
        ("round(paid / contract * 100, 9) >= 90", {"paid": "number", "contract": "number"}),
        ("len(note) <= 200 and count(people) > 0", {"note": "text", "people": "table"}),
        ("coalesce(a, 0) + 1", {"a": "number"}),
        ("'培训辅导' in services", {"services": "list"}),
        ("x * 2", {}),  # an unknown kind is not guessed
    ],
)
def test_well_kinded_expressions_have_no_type_problems(text, kinds):
    assert Expression(text).type_problems(kinds) == []
