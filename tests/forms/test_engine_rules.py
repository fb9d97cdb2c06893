"""Engine rules over inline forms: blanks in rules, cascading relevance, table rows, messages."""

import pytest

from lib.forms import FormDefinitionError, check_answers
from tests.forms.inline import demo_form as form


def codes(outcome):
    return sorted((p.field, p.code) for p in outcome.problems)


def test_an_answer_that_fails_its_type_is_blank_for_other_rules():
    f = form("""      - {key: contract, label: 合同金额, type: money}
      - {key: paid, label: 实付金额, type: money, constraint: "paid <= contract", constraint_message: 实付不能超过合同}
""")
    out = check_answers(f, {"contract": "十万", "paid": 5})
    assert codes(out) == [("contract", "not_number")]  # no spurious constraint problem on paid


def test_relevance_cascades_through_hidden_fields():
    f = form("""      - {key: status, label: 状态, type: select, choices: [正常, 异常]}
      - {key: detail, label: 异常情况, type: select, choices: [闲置, 停用], relevant: "status == '异常'"}
      - {key: reason, label: 停用原因, type: text, required: true, relevant: "detail == '停用'"}
""")
    out = check_answers(f, {"status": "正常", "detail": "停用", "reason": None})
    assert out.ok and {"detail", "reason"} <= out.hidden
    out = check_answers(f, {"status": "异常", "detail": "停用", "reason": None})
    assert codes(out) == [("reason", "required")]


def test_min_rows_applies_to_a_table_that_is_not_required():
    f = form("""      - key: people
        label: 联系人
        type: table
        min_rows: 2
        fields:
          - {key: name, label: 姓名, type: text, required: true}
""")
    assert codes(check_answers(f, {"people": [{"name": "张三"}]})) == [("people", "too_few_rows")]
    assert check_answers(f, {"people": [{"name": "张三"}, {"name": "李四"}]}).ok


def test_integer_bounds_are_shown_as_integers():
    f = form("""      - {key: users, label: 月活跃用户数, type: integer, min: 0}
""")
    (problem,) = check_answers(f, {"users": -1}).problems
    assert problem.message == "「月活跃用户数」不能小于 0"


@pytest.mark.parametrize(
    "extra, expected",
    [
        ("        colour: red\n", "不支持的属性"),
        ("        required: maybe\n", "应为 true 或 false"),
    ],
)
def test_a_bad_attribute_is_reported_once_in_chinese(extra, expected):
    with pytest.raises(FormDefinitionError) as err:
        form("      - key: a\n        label: A\n        type: text\n" + extra)
    (problem,) = err.value.problems
    assert expected in problem.message and "demo.yaml 第 13 行" in str(problem) and problem.field == "a"


def test_structure_problems_of_tables_name_their_field():
    with pytest.raises(FormDefinitionError) as err:
        form("      - {key: people, label: 联系人, type: table}\n")
    assert [p.field for p in err.value.problems] == ["people"]
