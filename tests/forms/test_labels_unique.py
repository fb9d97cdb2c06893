"""Two fields of one form whose labels read as one (the same up to width, blanks and a trailing * or ：), or two
sub-fields of one table, are refused at load naming the line and both keys: the import template names its
columns by label, so neither could be imported. The same label in two different tables is no clash."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.forms import FormDefinitionError, load_catalog, parse_form

ROOT = Path(__file__).resolve().parents[2]

HEAD = """\
id: demo
title: 演示表单
short_title: 演示
version: 1
filled_by: provider
sections:
  - key: main
    title: 基本信息
    fields:
      - key: name
        label: 名称
        type: text
      - key: note
        label: 备注
        type: text
"""
BASE = HEAD.count("\n")


def table(key: str, *labels: str) -> str:
    subs = "".join(f"          - key: {key}_{i}\n            label: {label}\n            type: text\n" for i, label in enumerate(labels))
    return f"      - key: {key}\n        label: {key}表\n        type: table\n        fields:\n{subs}"


CASES = [
    ("the same label in another section", "  - key: more\n    title: 跟踪服务\n    fields:\n"
     "      - key: note2\n        label: 备注\n        type: text\n", "note2", "note", 5),
    ("a label differing in width and blanks", "      - key: name2\n        label: ' 名 称 ＊'\n        type: text\n", "name2", "name", 2),
    ("a table named like a field", "      - key: people\n        label: 名称\n        type: table\n        fields:\n"
     "          - key: who\n            label: 姓名\n            type: text\n", "people", "name", 2),
    ("two sub-fields of one table", table("people", "姓名", "姓名："), "people_1", "people_0", 9),
]


@pytest.mark.parametrize("case, extra, field, first, line", CASES, ids=[c[0] for c in CASES])
def test_two_labels_that_read_as_one_header_are_refused_naming_both_keys(case, extra, field, first, line):
    with pytest.raises(FormDefinitionError) as info:
        parse_form(HEAD + extra, "att9.yaml")
    [problem] = info.value.problems
    assert (problem.code, problem.field) == ("duplicate_label", field)
    assert problem.where == f"att9.yaml 第 {BASE + line} 行"
    assert f"「{first}」" in str(problem)


def test_the_same_sub_field_label_in_two_tables_loads():
    form = parse_form(HEAD + table("people", "姓名") + table("staff", "姓名"), "demo.yaml")
    assert form.field("staff").fields[0].label == form.field("people").fields[0].label


@pytest.mark.parametrize("folder", ["forms", "tests/campaigns/other"])
def test_the_shipped_and_the_other_campaigns_forms_load(folder):
    catalog = load_catalog(ROOT / folder)
    assert catalog.forms() and not catalog.problems()
