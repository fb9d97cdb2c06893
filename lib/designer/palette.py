"""The palette: a field added to a form's YAML text for someone who does not write YAML.

The YAML stays the truth, so the field is inserted as TEXT: a block at the end of the section's
``fields``, indented as the items before it, every comment, blank line and quoting of the rest kept as
written. The result is parsed again and refused unless it reads as the same form plus the new field:
a text whose layout the insertion cannot follow (a flow-style list, a block scalar keeping its trailing
blank lines) is refused, never silently changed.

>>> text = '''id: demo
... sections:
...   - key: basic
...     title: 基本情况
...     fields:
...       - key: name   # 名称
...         label: 名称
...         type: text
... '''
>>> print(add_field_yaml(text, "basic", {"key": "kind", "label": "类别", "type": "select", "choices": ["甲", "乙"]}), end="")
id: demo
sections:
  - key: basic
    title: 基本情况
    fields:
      - key: name   # 名称
        label: 名称
        type: text
      - key: kind
        label: 类别
        type: select
        choices: [甲, 乙]
>>> free_key(text, "kind")
'kind'
>>> free_key(text, "name")
'name_2'
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from lib.forms.errors import FormDefinitionError
from lib.forms.loader import parse_form
from lib.forms.spec import KEY_PATTERN, FieldSpec
from lib.forms.types import REGISTRY
from lib.forms.yamltext import load_yaml

from .errors import DesignError

#: The order a palette field's attributes are written in; any other attribute follows in the order given.
_ORDER = ("key", "label", "type", "required", "choices", "help")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: What a palette attribute is called in a refusal.
_ATTR_WORDS = {"key": "字段键", "label": "名称", "type": "类型", "required": "必填", "choices": "选项", "help": "填写说明"}


def add_field_yaml(text: str, section_key: str, field: Mapping[str, Any], filename: str = "表单") -> str:
    """``text`` with ``field`` (the attributes of a FieldSpec: key, label, type, required, choices, help …)
    appended to the fields of section ``section_key``. DesignError, nothing changed: the text does not
    parse (``palette_unparsable``), is no form or has no such section (``palette_no_section``), the field
    is not valid alone (``palette_bad_field``), its key is taken by a field, a table's sub-field or a
    ``replaces`` (``palette_key_taken``), or the insertion would not read back as exactly this form plus
    the field (``palette_layout``)."""
    data = _parsed(text, filename)
    field = _checked_field(field)
    taken = set(_keys(data))
    if field["key"] in taken:
        raise DesignError(f"字段键「{field['key']}」已被本表单使用（字段、表格的子字段或 replaces），请另起一个字段键。",
                          code="palette_key_taken")
    index = _section_index(data, section_key)
    node = yaml.compose(text, Loader=_Loader)  # safe: load_yaml has bounded and parsed this very text
    fields_node = _fields_node(node, index, section_key)
    expected = copy.deepcopy(data)
    expected["sections"][index]["fields"].append(yaml.safe_load(yaml.safe_dump(dict(field), allow_unicode=True)))
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    block = _block(field, fields_node, lines, newline)
    for at in _insertion_points(fields_node, lines):
        candidate = _inserted(lines, at, block, newline)
        try:
            if load_yaml(candidate, filename)[0] == expected:
                _field_checks(candidate, filename, field["key"])
                return candidate
        except FormDefinitionError:
            continue
    raise DesignError(f"无法在「{section_key}」的字段末尾自动插入新字段：这一部分的写法（例如带 |+ 的多行文字）插入后会改变原有内容。"
                      "请在 YAML 中手工添加该字段。", code="palette_layout")


def free_key(text: str, stem: str) -> str:
    """``stem`` when no field of ``text`` uses it as a key, else ``stem_2``, ``stem_3`` …: a key the
    palette can offer. ``text`` must parse (DesignError ``palette_unparsable`` otherwise)."""
    taken = set(_keys(_parsed(text, "表单")))
    if stem not in taken:
        return stem
    n = 2
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def _parsed(text: str, filename: str) -> Any:
    try:
        data, _ = load_yaml(text, filename)
    except FormDefinitionError as exc:
        raise DesignError(f"YAML 还有问题，先修正后再用字段面板添加：{exc}", code="palette_unparsable", problems=exc.problems) from None
    if not isinstance(data, dict) or not isinstance(data.get("sections"), list):
        raise DesignError(f"{filename} 不是表单（没有 sections 部分），字段面板只能向表单添加字段。", code="palette_no_section")
    return data


def _checked_field(field: Mapping[str, Any]) -> dict[str, Any]:
    """The palette's field in the order it is written, without the attributes left empty; DesignError
    ``palette_bad_field`` naming the attribute when it is not a valid field by itself."""
    given = {k: (list(v) if isinstance(v, tuple) else v) for k, v in field.items() if v not in (None, "", [], ())}
    if given.get("required") is False:
        del given["required"]
    ordered = {k: given[k] for k in _ORDER if k in given} | {k: v for k, v in given.items() if k not in _ORDER}
    key = ordered.get("key")
    if not isinstance(key, str) or not re.fullmatch(KEY_PATTERN, key):
        raise DesignError("字段键只能用小写英文字母、数字和下划线，且以字母开头（例如 contact_phone）。", code="palette_bad_field")
    try:
        spec = FieldSpec.model_validate(ordered)
    except ValidationError as exc:
        first = exc.errors()[0]
        attr = str(first["loc"][0]) if first["loc"] else ""
        raise DesignError(f"新字段「{key}」的{_ATTR_WORDS.get(attr, attr)}填写不正确：{first['msg']}", code="palette_bad_field") from None
    ftype = REGISTRY.get(spec.type)
    if ftype is None or spec.type == "table":  # a table needs its sub-fields, which the palette does not ask for
        known = "、".join(t for t in REGISTRY if t != "table")
        raise DesignError(f"新字段「{key}」的类型「{spec.type}」不能用字段面板添加，可用：{known}", code="palette_bad_field")
    if ftype.has_choices and not spec.choices:
        raise DesignError(f"新字段「{key}」是选择题，请至少填写一个选项。", code="palette_bad_field")
    if not ftype.has_choices and spec.choices:
        raise DesignError(f"新字段「{key}」的类型「{spec.type}」没有选项，请删除选项或改为选择题。", code="palette_bad_field")
    if spec.choices and len(set(spec.choices)) != len(spec.choices):
        raise DesignError(f"新字段「{key}」的选项有重复，请删除重复的选项。", code="palette_bad_field")
    return ordered


def _field_checks(text: str, filename: str, key: str) -> None:
    """Refuse the field when the form's own checks find fault with it (a label with a line break or a
    direction mark, a help too long, a choice holding the list separator …): DesignError
    ``palette_bad_field`` with the first such problem. Problems elsewhere in the form are the author's
    to see in the editor, not the palette's to refuse."""
    try:
        parse_form(text, filename)
    except FormDefinitionError as exc:
        mine = [p for p in exc.problems if p.field == key]
        if mine:
            raise DesignError(f"新字段「{key}」：{mine[0].message}", code="palette_bad_field") from None


def _keys(data: Any) -> Iterator[str]:
    """Every field key of a form's plain data (table sub-fields too) and every key a field replaces."""
    def walk(fields: Any) -> Iterator[str]:
        for f in fields if isinstance(fields, list) else ():
            if isinstance(f, dict):
                for attr in ("key", "replaces"):
                    if isinstance(f.get(attr), str):
                        yield f[attr]
                yield from walk(f.get("fields"))

    for section in data.get("sections") or ():
        if isinstance(section, dict):
            yield from walk(section.get("fields"))


def _section_index(data: Any, section_key: str) -> int:
    keys = [s.get("key") if isinstance(s, dict) else None for s in data["sections"]]
    if section_key not in keys:
        known = "、".join(str(k) for k in keys if k) or "（无）"
        raise DesignError(f"表单中没有部分「{section_key}」，可选：{known}", code="palette_no_section")
    index = keys.index(section_key)
    if not isinstance(data["sections"][index].get("fields"), list):
        raise DesignError(f"部分「{section_key}」没有 fields 列表，请先在 YAML 中写出它的字段。", code="palette_no_section")
    return index


def _fields_node(root: yaml.Node, index: int, section_key: str) -> yaml.SequenceNode:
    sections = next(v for k, v in root.value if k.value == "sections")
    fields = next(v for k, v in sections.value[index].value if k.value == "fields")
    if fields.flow_style or not fields.value:
        raise DesignError(f"部分「{section_key}」的 fields 写成了一行（[...]），字段面板无法在其中插入：请改为每个字段一段的写法，或手工添加。",
                          code="palette_layout")
    return fields


def _block(field: dict[str, Any], fields_node: yaml.SequenceNode, lines: list[str], newline: str) -> str:
    """The field as a sequence item, its dash and keys in the columns of the first item's."""
    first = fields_node.value[0].start_mark
    head = lines[first.line][: first.column]
    dash = head.rfind("-")
    body = "".join(yaml.dump({k: v}, Dumper=_Dumper, allow_unicode=True, default_flow_style=None if isinstance(v, list) else False,
                             width=1_000_000) for k, v in field.items())
    out = []
    for i, line in enumerate(body.splitlines()):
        prefix = (" " * dash + "-").ljust(first.column) if i == 0 else " " * first.column
        out.append(prefix + line + newline)
    return "".join(out)


class _Dumper(yaml.SafeDumper):
    """Writes a text of several lines as a ``|`` block, as a person writes help (PyYAML quotes it where it must)."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def _end(node: yaml.Node) -> tuple[int, int]:
    """Where the last value inside ``node`` ends (a block collection's own end is the next token's start)."""
    if isinstance(node, yaml.MappingNode):
        return max((_end(v) for _, v in node.value), default=(node.start_mark.line, node.start_mark.column))
    if isinstance(node, yaml.SequenceNode) and not node.flow_style:
        return max((_end(v) for v in node.value), default=(node.start_mark.line, node.start_mark.column))
    return node.end_mark.line, node.end_mark.column


def _insertion_points(fields_node: yaml.SequenceNode, lines: list[str]) -> list[int]:
    """Indexes of the lines to insert before: right after the last item's last non-blank line, then
    after its blank lines too (which a block scalar may count as content)."""
    line, column = _end(fields_node.value[-1])
    last = line if column > 0 else line - 1  # a block scalar ends at the start of the line after it
    tight = last
    while tight > fields_node.value[-1].start_mark.line and not lines[tight].strip():
        tight -= 1
    return list(dict.fromkeys((tight + 1, last + 1)))


def _inserted(lines: list[str], at: int, block: str, newline: str) -> str:
    before = lines[:at]
    if before and not before[-1].endswith(("\n", "\r")):
        before[-1] += newline
    return "".join(before) + block + "".join(lines[at:])
