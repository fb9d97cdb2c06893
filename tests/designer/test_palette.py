"""The palette writes YAML: the new field lands at the end of its section as text, everything else kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.designer.errors import DesignError
from lib.designer.palette import add_field_yaml, free_key
from lib.forms import parse_form
from lib.forms.yamltext import load_yaml

ROOT = Path(__file__).resolve().parents[2]

FORM = """\
# 表单说明：保留这行注释
id: demo
title: 演示表单
short_title: 演示
version: 1
filled_by: provider
sections:
  - key: basic
    title: 基本情况
    fields:
      - key: name   # 名称后的注释
        label: 名称
        type: text
        help: |
          第一行
          第二行

      # 说明：下一部分
  - key: more
    title: 其他
    fields:
    -   key: kind
        label: 类别
        type: select
        choices: ["甲", '乙']
"""


def _fields(text: str, section: int) -> list[dict]:
    return load_yaml(text, "demo.yaml")[0]["sections"][section]["fields"]


def test_the_field_lands_last_in_its_section_and_every_other_line_is_kept():
    out = add_field_yaml(FORM, "basic", {"key": "phone", "label": "联系电话", "type": "phone", "required": True,
                                         "help": "手机或座机"})
    assert [f["key"] for f in _fields(out, 0)] == ["name", "phone"]
    assert _fields(out, 0)[1] == {"key": "phone", "label": "联系电话", "type": "phone", "required": True, "help": "手机或座机"}
    assert _fields(out, 0)[0]["help"] == "第一行\n第二行\n"  # the block scalar kept its text
    added = [line for line in out.splitlines() if line not in FORM.splitlines()]
    assert added == ["      - key: phone", "        label: 联系电话", "        type: phone", "        required: true",
                     "        help: 手机或座机"]
    assert out.replace("\n".join(added) + "\n", "") == FORM  # nothing else moved or changed
    assert parse_form(out, "demo.yaml").field("phone").required


def test_the_dash_and_keys_follow_the_sections_own_indentation():
    out = add_field_yaml(FORM, "more", {"key": "note", "label": "备注", "type": "textarea"})
    assert out.endswith("    -   key: note\n        label: 备注\n        type: textarea\n")
    assert [f["key"] for f in _fields(out, 1)] == ["kind", "note"]


def test_choices_and_texts_a_person_types_are_quoted_as_yaml_needs():
    field = {"key": "answer", "label": "是否: 已完成 # 注意", "type": "select", "choices": ["是: 完成", "- 否", "true", "10"],
             "help": "第一行\n第二行 '引号' \"双引号\""}
    out = add_field_yaml(FORM, "basic", field)
    assert _fields(out, 0)[-1] == field  # true stays the word, 10 the text: they are choices
    assert parse_form(out, "demo.yaml").field("answer").choices == ("是: 完成", "- 否", "true", "10")


def test_windows_line_ends_are_kept():
    text = FORM.replace("\n", "\r\n")
    out = add_field_yaml(text, "more", {"key": "note", "label": "备注", "type": "text"})
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")
    assert [f["key"] for f in _fields(out, 1)] == ["kind", "note"]


def test_a_text_without_a_final_line_end():
    out = add_field_yaml(FORM.rstrip("\n"), "more", {"key": "note", "label": "备注", "type": "text"})
    assert [f["key"] for f in _fields(out, 1)] == ["kind", "note"]


def test_a_block_scalar_that_keeps_its_blank_lines_keeps_them():
    text = FORM.replace("help: |\n", "help: |+\n")
    out = add_field_yaml(text, "basic", {"key": "phone", "label": "电话", "type": "text"})
    assert _fields(out, 0)[0]["help"] == _fields(text, 0)[0]["help"]
    assert [f["key"] for f in _fields(out, 0)] == ["name", "phone"]


@pytest.mark.parametrize("name", ["att1.yaml", "att2.yaml", "att3.yaml", "inspection.yaml"])
def test_every_section_of_the_shipped_forms_takes_a_field(name):
    text = (ROOT / "forms" / name).read_text(encoding="utf-8")
    form = parse_form(text, name)
    for section in form.sections:
        out = add_field_yaml(text, section.key, {"key": "zz_new", "label": "新字段", "type": "integer", "required": True})
        again = parse_form(out, name)
        keys = [f.key for f in again.sections[[s.key for s in again.sections].index(section.key)].fields]
        assert keys == [f.key for f in section.fields] + ["zz_new"]
        assert len(again.all_fields()) == len(form.all_fields()) + 1


@pytest.mark.parametrize(("text", "section", "field", "code"), [
    (FORM, "basic", {"key": "name", "label": "重名", "type": "text"}, "palette_key_taken"),
    (FORM, "basic", {"key": "kind", "label": "另一部分的键", "type": "text"}, "palette_key_taken"),
    (FORM.replace("        type: text\n", "        type: text\n        replaces: old_name\n", 1), "basic",
     {"key": "old_name", "label": "改名前的键", "type": "text"}, "palette_key_taken"),
    (FORM, "nowhere", {"key": "x", "label": "X", "type": "text"}, "palette_no_section"),
    (FORM, "basic", {"key": "X-1", "label": "X", "type": "text"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "", "type": "text"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "colour"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "table"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "select"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "text", "choices": ["甲"]}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "select", "choices": ["甲", "甲"]}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "text", "colour": "red"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "两\n行", "type": "text"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "反\u202e向", "type": "text"}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "text", "help": "长" * 2001}, "palette_bad_field"),
    (FORM, "basic", {"key": "x", "label": "X", "type": "multiselect", "choices": ["甲；乙", "丙"]}, "palette_bad_field"),
    (FORM.replace("title: 基本情况", "title: [unclosed"), "basic", {"key": "x", "label": "X", "type": "text"}, "palette_unparsable"),
    ("a: &x 1\nb: *x\n", "basic", {"key": "x", "label": "X", "type": "text"}, "palette_unparsable"),
    ("id: c\ncities: [甲]\n", "basic", {"key": "x", "label": "X", "type": "text"}, "palette_no_section"),
    (FORM.replace("    fields:\n    -   key: kind\n        label: 类别\n        type: select\n        choices: [\"甲\", '乙']\n",
                  "    fields: [{key: kind, label: 类别, type: text}]\n"), "more", {"key": "x", "label": "X", "type": "text"},
     "palette_layout"),
])
def test_refused_with_nothing_changed(text, section, field, code):
    with pytest.raises(DesignError) as err:
        add_field_yaml(text, section, field)
    assert err.value.code == code
    assert str(err.value)  # a sentence a person reads


def test_free_key_counts_up_past_taken_keys():
    text = add_field_yaml(FORM, "basic", {"key": "name_2", "label": "名称2", "type": "text"})
    assert free_key(text, "name") == "name_3"
    assert free_key(text, "kind") == "kind_2"
    assert free_key(text, "phone") == "phone"


def test_a_form_with_problems_elsewhere_still_takes_a_field():
    broken = FORM.replace("type: select", "type: colour")  # the author's to fix; the palette still helps
    out = add_field_yaml(broken, "basic", {"key": "phone", "label": "电话", "type": "phone"})
    assert [f["key"] for f in _fields(out, 0)] == ["name", "phone"]
