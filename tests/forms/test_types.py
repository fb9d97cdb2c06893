"""The field-type registry: each type parses what a civil servant types and refuses the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib.forms.spec import FieldSpec
from lib.forms.types import CREDIT_CODE_CHARS, REGISTRY, ValueProblem, credit_code_check_char, is_credit_code

CITIES = ("广州", "深圳", "佛山")


def parse(type_: str, raw, **spec_kw):
    if REGISTRY[type_].has_choices:
        spec_kw.setdefault("choices", ("项目改进", "优化升级", "培训辅导", "项目维保"))
    spec = FieldSpec(key="f", label="字段", type=type_, **spec_kw)
    return REGISTRY[type_].parse(raw, spec, {"cities": CITIES})


def problem_code(type_: str, raw, **spec_kw) -> str:
    with pytest.raises(ValueProblem) as info:
        parse(type_, raw, **spec_kw)
    return info.value.code


# --- 统一社会信用代码 -------------------------------------------------------------------------

REAL_LOOKING = ("9144030071526726XG", "914403001922038216", "91440300708461136T", "91440101MA59ABCDEM")
body = st.text(alphabet=CREDIT_CODE_CHARS, min_size=17, max_size=17)


@given(first17=body)
def test_generated_credit_codes_are_valid(first17):
    code = first17 + credit_code_check_char(first17)
    assert is_credit_code(code)
    assert parse("credit_code", code) == code


@given(first17=body, data=st.data())
def test_any_other_check_character_is_refused(first17, data):
    good = credit_code_check_char(first17)
    wrong = data.draw(st.sampled_from([c for c in CREDIT_CODE_CHARS if c != good]))
    assert problem_code("credit_code", first17 + wrong) == "bad_credit_code"


@given(first17=body, position=st.integers(0, 16), data=st.data())
def test_a_single_typo_is_caught(first17, position, data):
    # The GB 32100 weights are coprime with 31, so one changed character always changes the sum.
    code = first17 + credit_code_check_char(first17)
    typo = data.draw(st.sampled_from([c for c in CREDIT_CODE_CHARS if c != code[position]]))
    assert not is_credit_code(code[:position] + typo + code[position + 1 :])


@pytest.mark.parametrize("code", REAL_LOOKING)
def test_real_looking_codes(code):
    assert parse("credit_code", code) == code


@pytest.mark.parametrize(
    "raw",
    [
        "9144030071526726XA",  # wrong check character
        "9144030071526726X",  # 17 characters
        "9144030071526726XGX",  # 19 characters
        "",
        "91440300-1526726XG",
    ],
)
def test_bad_credit_codes(raw):
    assert not is_credit_code(raw.strip().upper())


@pytest.mark.parametrize("letter", "IOSVZ")
def test_letters_outside_the_standard_are_refused(letter):
    # Put the forbidden letter in the organisation code and give it every possible check character:
    # none may pass, because the letter itself is illegal.
    first17 = "91440101MA59ABCD" + letter
    for check in CREDIT_CODE_CHARS:
        assert problem_code("credit_code", first17 + check) == "bad_credit_code"


def test_lowercase_and_spaces_are_accepted_and_normalised():
    assert parse("credit_code", "  91440101ma59abcdem ") == "91440101MA59ABCDEM"


# --- phones, emails ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, stored",
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("+86 199 2000 1234", "19920001234"),
        ("020-83133333", "020-83133333"),
        ("0757-86281234", "0757-86281234"),
        ("075786281234", "075786281234"),
        ("020-83133333-801", "020-83133333-801"),
        ("83133333", "83133333"),
    ],
)
def test_valid_phones(raw, stored):
    assert parse("phone", raw) == stored


@pytest.mark.parametrize("raw", ["12345", "1380013800", "138001380001", "12800138000", "23800138000", "020-123", "电话", "0757-8628-1234"])
def test_invalid_phones(raw):
    assert problem_code("phone", raw) == "bad_phone"


@pytest.mark.parametrize("raw", ["gyhlwc@gdei.gov.cn", "li.jing+2020@163.com", "123456789@qq.com"])
def test_valid_emails(raw):
    assert parse("email", f" {raw} ") == raw


@pytest.mark.parametrize("raw", ["gyhlwc", "a@b", "@qq.com", "li jing@163.com", "li@163..com", "李@163.com"])
def test_invalid_emails(raw):
    assert problem_code("email", raw) == "bad_email"


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, value",
    [("12.34", 12.34), ("12.30", 12.3), ("1,234.5", 1234.5), (" 7 ", 7.0), (12, 12.0), (0.1, 0.1), ("0.10", 0.1)],
)
def test_money_keeps_two_decimals(raw, value):
    assert parse("money", raw) == value


@pytest.mark.parametrize("raw, code", [("12.345", "too_many_decimals"), ("abc", "not_number"), (True, "not_number"), ("NaN", "not_number"), ("inf", "not_number"), ("1万", "not_number")])
def test_bad_money(raw, code):
    assert problem_code("money", raw) == code


def test_percent_accepts_a_percent_sign():
    assert parse("percent", "42.5%") == 42.5


def test_decimal_honours_declared_decimals():
    assert parse("decimal", "1.23456") == 1.23456
    assert problem_code("decimal", "1.234", decimals=2) == "too_many_decimals"


@pytest.mark.parametrize("raw, value", [("12", 12), ("12.0", 12), ("1,200", 1200), (5, 5)])
def test_integers(raw, value):
    assert parse("integer", raw) == value


@pytest.mark.parametrize("raw", ["12.5", "十二", True, ""])
def test_not_integers(raw):
    assert problem_code("integer", raw) == "not_integer"


# --- dates, choices, booleans, cities, text ---------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["2020-09-18", " 2020-09-18 ", "2020/09/18", dt.date(2020, 9, 18), dt.datetime(2020, 9, 18, 15, 30)],
)
def test_dates(raw):
    assert parse("date", raw) == dt.date(2020, 9, 18)


@pytest.mark.parametrize("raw", ["2020-13-01", "2020-02-30", "18/09/2020", "9月18日", "明天"])
def test_bad_dates(raw):
    assert problem_code("date", raw) == "not_date"


def test_select():
    assert parse("select", " 培训辅导 ") == "培训辅导"
    assert problem_code("select", "其他") == "not_choice"


@pytest.mark.parametrize("raw", ["项目维保；培训辅导", "项目维保、培训辅导", "项目维保,培训辅导", ["项目维保", "培训辅导"]])
def test_multiselect_splits_and_orders_as_declared(raw):
    assert parse("multiselect", raw) == ["培训辅导", "项目维保"]


def test_multiselect_refuses_unknown_items():
    assert problem_code("multiselect", ["培训辅导", "请客吃饭"]) == "not_choice"


@pytest.mark.parametrize("raw, value", [("是", True), ("否", False), (True, True), ("false", False), ("1", True), ("N", False)])
def test_booleans(raw, value):
    assert parse("boolean", raw) is value


def test_bad_boolean():
    assert problem_code("boolean", "也许") == "not_boolean"


def test_city_comes_from_the_campaign():
    assert parse("city", "佛山") == "佛山"
    assert problem_code("city", "香港") == "not_city"


def test_a_city_typed_with_its_shi_is_that_city_and_nothing_else_is():
    assert parse("city", "佛山市") == parse("city", " 佛山市 ") == "佛山"
    assert problem_code("city", "香港市") == "not_city"
    assert problem_code("city", "市") == "not_city"
    assert problem_code("city", "佛山市市") == "not_city"


@pytest.mark.parametrize("type_", ["text", "textarea"])
def test_text_strips_and_refuses_control_characters(type_):
    assert parse(type_, "  上云  ") == "上云"
    assert problem_code(type_, "上云\x00上平台") == "bad_text"


def test_only_a_textarea_keeps_line_breaks():
    assert parse("textarea", "第一行\r\n第二行\t缩进") == "第一行\n第二行\t缩进"
    assert problem_code("text", "第一行\n第二行") == "single_line"


def test_every_registered_type_is_covered_here():
    covered = {"text", "textarea", "integer", "decimal", "money", "percent", "date", "select", "multiselect",
               "boolean", "phone", "email", "credit_code", "city", "table",
               "file"}  # its own file: tests/forms/test_file_type.py (content checks, storage, serving)
    assert set(REGISTRY) == covered, "a new type needs a test in this file"
    assert REGISTRY["table"].parse is None  # tables are checked row by row in validate.py
