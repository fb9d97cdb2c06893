"""Rules of severity ``warning`` (``constraints:`` on a field): shown to the filler, never blocking
(the submit asks for a confirmation instead), skipped in drafts and on hidden fields (issue 12, outcome 6).
A warning's text starts with its field's label, so a reviewer reading it apart from the form knows the field."""

from __future__ import annotations

import pytest

from lib.forms import FormDefinitionError, check_answers, parse_form

FORM = """\
id: demo
title: 演示表单
short_title: 演示
version: 1
filled_by: provider
sections:
  - key: main
    title: 金额
    fields:
      - key: paid
        label: 实际支付金额
        type: money
      - key: show
        label: 填写奖补
        type: boolean
      - key: subsidy
        label: 奖补金额
        type: money
        relevant: "show"
        constraints:
          - rule: "subsidy <= paid"
            message: 「奖补金额」不能超过实际支付金额。
          - rule: "subsidy != paid"
            message: 与实际支付金额相同，请核实是否按全额奖补。
            severity: warning
      - key: people
        label: 联系人
        type: table
        fields:
          - key: phone
            label: 电话
            type: text
            constraints:
              - rule: "len(phone) != 7"
                message: 像是缺了区号，请核实。
                severity: warning
"""


@pytest.fixture(scope="module")
def form():
    return parse_form(FORM, "demo.yaml")


def test_a_warning_rule_that_fails_is_a_warning_not_a_problem(form):
    out = check_answers(form, {"paid": "10", "show": True, "subsidy": "10"})
    assert out.ok and out.problems == []
    assert [(w.code, w.field, w.message) for w in out.warnings] == [("warning", "subsidy", "「奖补金额」：与实际支付金额相同，请核实是否按全额奖补。")]


def test_an_error_rule_beside_it_still_stops_the_submit_and_the_warning_is_not_added(form):
    out = check_answers(form, {"paid": "10", "show": True, "subsidy": "12"})
    assert [(p.code, p.field) for p in out.problems] == [("constraint", "subsidy")]
    assert out.warnings == []


def test_no_warning_when_the_rule_holds_in_a_draft_or_on_a_hidden_field(form):
    assert check_answers(form, {"paid": "10", "show": True, "subsidy": "8"}).warnings == []
    assert check_answers(form, {"paid": "10", "show": True, "subsidy": "10"}, draft=True).warnings == []
    assert check_answers(form, {"paid": "10", "show": False, "subsidy": "10"}).warnings == []


def test_a_warning_inside_a_table_names_its_row(form):
    out = check_answers(form, {"people": [{"phone": "83133000"}, {"phone": "8313300"}]})
    assert out.ok
    assert [(w.field, w.row, w.message) for w in out.warnings] == [("people", 2, "「联系人」第 2 行：「电话」：像是缺了区号，请核实。")]


@pytest.mark.parametrize("old, new, code", [
    ('rule: "subsidy != paid"', 'rule: "subsidy !="', "bad_expression"),
    ('rule: "subsidy != paid"', 'rule: "subsidy != contract"', "unknown_reference"),
    ("severity: warning\n      - key: people", "severity: notice\n      - key: people", "invalid_definition"),
    ("message: 与实际支付金额相同", 'message: "与实际\\u202e支付金额相同', "spec_text_bad_char"),
])
def test_a_broken_rule_is_refused_at_load_naming_the_field(old, new, code):
    assert FORM.count(old) == 1
    text = FORM.replace(old, new)
    if code == "spec_text_bad_char":
        text = text.replace("请核实是否按全额奖补。", "请核实是否按全额奖补。\"")
    with pytest.raises(FormDefinitionError) as info:
        parse_form(text, "demo.yaml")
    assert code in [p.code for p in info.value.problems]
    assert "subsidy" in [p.field for p in info.value.problems]
