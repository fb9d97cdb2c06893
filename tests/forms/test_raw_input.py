"""Raw input cannot hang or crash a check: every hostile value gets a coded Chinese problem.

No test here times anything: each input below took seconds to minutes (or crashed) before it was
bounded, so a regression shows as a hung or failing run, not as a slow assertion.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from lib.forms import check_answers
from lib.forms.errors import MESSAGES
from lib.forms.types import EARLIEST_DATE, LATEST_DATE, MAX_ITEMS, MAX_TEXT_CHARS

from .inline import demo_form
from .test_types import parse, problem_code

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def short_id(value) -> str:
    """A test id that does not turn a 5,000-digit int into text (Python refuses that)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"int of {value.bit_length()} bits"
    return ascii(value)[:24]


@pytest.mark.parametrize(
    "type_, raw, code",
    [
        ("integer", "1e1000000", "exponent"),  # took 60+ s of CPU as Decimal -> int
        ("integer", "9" * 5000, "number_too_large"),
        ("integer", 10**5000, "number_too_large"),
        ("integer", 10**15, "number_too_large"),
        ("money", "1E+30", "exponent"),
        ("money", 1e30, "number_too_large"),
        ("money", Decimal("1E+30"), "number_too_large"),
        ("decimal", "Infinity", "not_number"),
        ("decimal", "-inf", "not_number"),
        ("decimal", "sNaN", "not_number"),
        ("decimal", Decimal("sNaN"), "not_number"),
        ("decimal", float("inf"), "not_number"),
        ("decimal", float("nan"), "not_number"),
        ("money", "2,0.00", "not_number"),  # a misplaced thousands separator
        ("money", "20%", "no_percent"),  # only a percent takes a percent sign
        ("money", "1 000", "not_number"),
        ("integer", [1], "not_integer"),
        ("money", {"a": 1}, "not_number"),
        ("money", dt.date(2020, 1, 1), "not_number"),
        ("multiselect", 5, "bad_value_type"),
        ("multiselect", {"培训辅导": True}, "bad_value_type"),
        ("multiselect", [["培训辅导"]], "bad_value_type"),
        ("multiselect", ["培训辅导"] * (MAX_ITEMS + 1), "bad_value_type"),
        ("text", ["上云"], "bad_value_type"),
        ("text", {"a": "b"}, "bad_value_type"),
        ("text", 10**5000, "bad_value_type"),
        ("text", "字" * (MAX_TEXT_CHARS + 1), "too_long"),
        ("textarea", "字" * (MAX_TEXT_CHARS + 1), "too_long"),
        ("select", ["培训辅导"], "bad_value_type"),
        ("boolean", [True], "not_boolean"),
        ("boolean", 2, "not_boolean"),
        ("date", 20200918, "not_date"),
        ("date", "2020-09-18T00:00", "not_date"),
        ("date", "2020-W38-5", "not_date"),  # an ISO week date Python would accept
        ("phone", 13800138000.5, "bad_phone"),
    ],
    ids=short_id,
)
def test_hostile_raw_values_get_a_coded_problem(type_, raw, code):
    assert problem_code(type_, raw) == code
    assert CHINESE.search(MESSAGES[code])


@pytest.mark.parametrize("type_", ["text", "phone", "email", "credit_code", "city", "select"])
@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\u2028"], ids=["LF", "CR", "TAB", "LS"])
def test_single_line_answers_refuse_line_breaks(type_, char):
    assert problem_code(type_, f"广州{char}佛山") in ("single_line",)


@pytest.mark.parametrize("type_", ["text", "textarea"])
@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85", "\x9b", "\ud800"], ids=["NUL", "ESC", "DEL", "NEL", "CSI", "surrogate"])
def test_control_characters_are_refused_even_in_a_textarea(type_, char):
    assert problem_code(type_, f"上云{char}上平台") == "bad_text"


@pytest.mark.parametrize("type_", ["text", "textarea", "select"])
@pytest.mark.parametrize("char", ["\u202a", "\u202e", "\u2066", "\u2069"])
def test_bidi_overrides_are_refused(type_, char):
    assert problem_code(type_, f"合格{char}不") == "bidi_text"


@pytest.mark.parametrize(
    "type_, raw, stored",
    [
        ("credit_code", "９１４４０１０１ＭＡ５９ＡＢＣＤＥＭ", "91440101MA59ABCDEM"),
        ("credit_code", "９１４４０１０１ｍａ５９ａｂｃｄｅｍ", "91440101MA59ABCDEM"),
        ("phone", "１３８ ００１３ ８０００", "13800138000"),
        ("phone", "０２０－８３１３３３３３", "020-83133333"),
        ("email", "ｌｉ＠１６３．ｃｏｍ", "li@163.com"),
        ("money", "１２.５０", 12.5),
        ("date", "２０２０－０９－１８", dt.date(2020, 9, 18)),
    ],
)
def test_full_width_codes_are_normalised(type_, raw, stored):
    assert parse(type_, raw) == stored


def test_a_patterned_text_is_normalised_before_matching():
    assert parse("text", "ＳＹＱ－２０１９－００１２３", pattern="[A-Z0-9-]+") == "SYQ-2019-00123"
    # Without a pattern, text is kept as typed (full-width punctuation is ordinary Chinese writing).
    assert parse("text", "上云（一期）") == "上云（一期）"


@pytest.mark.parametrize(
    "raw, ok",
    [("1,234.56", True), ("1,234,567", True), ("-12.5", True), ("12,34", False), ("1,2345", False), ("12.", True), ("1..2", False)],
)
def test_thousands_separators_must_be_grouped_by_three(raw, ok):
    if ok:
        assert parse("money", raw) == float(raw.replace(",", ""))
    else:
        assert problem_code("money", raw) == "not_number"


@pytest.mark.parametrize(
    "raw, code",
    [
        ("9999-12-31", "date_out_of_range"),  # was stored, then crashed the correction page
        (dt.date(9999, 12, 31), "date_out_of_range"),
        (EARLIEST_DATE - dt.timedelta(days=1), "date_out_of_range"),
        (dt.datetime.combine(LATEST_DATE + dt.timedelta(days=1), dt.time()), "date_out_of_range"),
    ],
)
def test_dates_the_widget_cannot_show_are_refused(raw, code):
    assert problem_code("date", raw) == code


def test_the_widget_range_itself_is_accepted():
    assert parse("date", EARLIEST_DATE.isoformat()) == EARLIEST_DATE
    assert parse("date", LATEST_DATE) == LATEST_DATE
    assert parse("date", "2020/9/8") == dt.date(2020, 9, 8)


# --- through check_answers: the field is named, nothing raises ---------------------------------


def test_a_date_out_of_range_is_refused_at_check_time_naming_the_field(check, att3_answers):
    outcome = check("att3", att3_answers(check_date="9999-12-31"))
    [found] = [p for p in outcome.problems if p.field == "check_date"]
    assert found.code == "date_out_of_range"
    assert found.message == "「检查日期」应在 2000-01-01 至 2035-12-31 之间"


def test_a_table_given_something_else_is_a_problem_of_that_field(check, att1_answers):
    for raw in (5, "陈伟", {"contact_name": "陈伟"}, [1, 2]):
        outcome = check("att1", att1_answers(contacts=raw))
        assert [(p.field, p.code) for p in outcome.problems] == [("contacts", "bad_value_type")]


def test_too_many_table_rows_are_refused_before_checking_any(check, att1_answers):
    rows = [{"contact_name": "陈伟", "contact_phone": "不是电话"}] * (MAX_ITEMS + 1)
    outcome = check("att1", att1_answers(contacts=rows))
    assert [(p.field, p.code) for p in outcome.problems] == [("contacts", "too_many_rows")]


def test_answers_that_are_not_a_mapping_are_one_coded_problem(catalog):
    for raw in (None, [], "text", 5):
        outcome = check_answers(catalog.form("att1"), raw)
        assert [p.code for p in outcome.problems] == ["not_answers"] and not outcome.values


def test_a_rule_that_cannot_be_computed_is_a_problem_naming_the_field():
    form = demo_form("""\
      - {key: start, label: 开始日期, type: date}
      - {key: note, label: 说明, type: text}
      - {key: late, label: 延期天数, type: integer, calculation: "days_between(start, note)"}
""")
    outcome = check_answers(form, {"start": "2020-09-01", "note": "下周"})
    assert [(p.field, p.code) for p in outcome.problems] == [("late", "expression_failed")]
    assert "「延期天数」" in outcome.problems[0].message and outcome.values["late"] is None


def test_a_catastrophic_backtracking_pattern_cannot_hang_a_submit():
    # With Python's re this pattern needs 2**n steps on n letters; RE2 answers in linear time.
    form = demo_form("""\
      - {key: code, label: 编号, type: text, pattern: "(a+)+$"}
""")
    outcome = check_answers(form, {"code": "a" * 5000 + "!"})
    assert [(p.field, p.code) for p in outcome.problems] == [("code", "pattern_mismatch")]
    assert check_answers(form, {"code": "a" * 5000}).ok


def test_numbers_read_from_a_table_library_are_numbers():
    # A record read back through pandas may hold numpy scalars; they check like Python numbers.
    import numpy as np  # installed with pandas
    assert parse("integer", np.int64(35)) == 35
    assert parse("money", np.float64(19.5)) == 19.5
    assert problem_code("money", np.float64("inf")) == "not_number"
