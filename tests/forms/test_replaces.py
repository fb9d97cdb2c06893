"""A field's ``replaces:`` (the key it had before a rename) is checked at load: a key that is a field of
the form now, its own key, a key two fields replace, or a table's sub-field are refused with the file,
line and field; a clean rename loads and says which key it replaces."""

from __future__ import annotations

import pytest

from lib.forms import FormDefinitionError, parse_form

HEAD = """\
id: demo
title: 演示表单
short_title: 演示
version: 2
filled_by: provider
sections:
  - key: main
    title: 基本信息
    fields:
      - key: name
        label: 名称
        type: text
"""
BASE = HEAD.count("\n")  # the first line after HEAD is BASE + 1


def test_a_renamed_field_loads_with_the_key_it_replaces():
    form = parse_form(HEAD + "      - key: inspectors\n        label: 检查组人数\n        type: integer\n"
                             "        replaces: count\n", "demo.yaml")
    assert form.field("inspectors").replaces == "count"
    assert form.field("name").replaces is None


CASES = [
    ("its own key", "      - key: count\n        label: 人数\n        type: integer\n        replaces: count\n",
     "replaces_self", "count", 4),
    ("a field of the form now", "      - key: inspectors\n        label: 人数\n        type: integer\n        replaces: name\n",
     "replaces_current", "inspectors", 4),
    ("a key two fields replace",
     "      - key: a_count\n        label: 甲\n        type: integer\n        replaces: count\n"
     "      - key: b_count\n        label: 乙\n        type: integer\n        replaces: count\n",
     "replaces_twice", "b_count", 8),
    ("a sub-field of a table",
     "      - key: people\n        label: 人员\n        type: table\n        fields:\n"
     "          - key: full_name\n            label: 姓名\n            type: text\n            replaces: person\n",
     "replaces_in_table", "full_name", 8),
    ("not a key", "      - key: inspectors\n        label: 人数\n        type: integer\n        replaces: 人数\n",
     "invalid_definition", "inspectors", 4),
]


@pytest.mark.parametrize("case, extra, code, field, line", CASES, ids=[c[0] for c in CASES])
def test_a_replaces_the_store_could_not_carry_out_is_refused_naming_line_and_field(case, extra, code, field, line):
    with pytest.raises(FormDefinitionError) as info:
        parse_form(HEAD + extra, "att9.yaml")
    first = info.value.problems[0]
    assert (first.code, first.field) == (code, field)
    assert first.where == f"att9.yaml 第 {BASE + line} 行"
    assert f"「{field}」" in str(first)


def test_a_chain_of_renames_in_one_version_is_refused():
    # b replaces a and c replaces b: b is a field now, so c's answers would come from a live column.
    with pytest.raises(FormDefinitionError) as info:
        parse_form(HEAD + "      - key: b_count\n        label: 乙\n        type: integer\n        replaces: a_count\n"
                          "      - key: c_count\n        label: 丙\n        type: integer\n        replaces: b_count\n", "demo.yaml")
    assert [p.code for p in info.value.problems] == ["replaces_current"]
