"""The catalogue of form errors: one code, one Chinese message template.

Load-time problems (a broken YAML file) and fill-time problems (a bad answer) share the
catalogue so that tests assert on codes and pages show the same words everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGES: dict[str, str] = {
    # definition errors (a form file is wrong)
    "yaml_syntax": "YAML 语法错误：{detail}",
    "duplicate_key": "键「{key}」重复出现（第一次在第 {first_line} 行）",
    "unknown_type": "字段「{field}」的类型「{type}」不存在，可用类型：{known}",
    "missing_choices": "字段「{field}」是选择题，必须提供 choices 选项",
    "bad_expression": "字段「{field}」的 {attr} 表达式无法解析：{detail}",
    "unknown_reference": "字段「{field}」的 {attr} 引用了不存在的字段「{ref}」",
    "unknown_function": "字段「{field}」的 {attr} 使用了不支持的函数「{ref}」",
    "duplicate_field": "字段键「{field}」在表单中重复定义",
    "bad_pattern": "字段「{field}」的 pattern 不是有效的正则表达式：{detail}",
    "invalid_definition": "{detail}",
    "unknown_deadline": "表单的 deadline「{deadline}」在 campaign.yaml 中没有定义",
    # answer errors (a filled value is wrong)
    "required": "「{label}」为必填项",
    "not_integer": "「{label}」应为整数",
    "not_number": "「{label}」应为数字",
    "too_many_decimals": "「{label}」最多保留 {places} 位小数",
    "below_min": "「{label}」不能小于 {bound}",
    "above_max": "「{label}」不能大于 {bound}",
    "too_short": "「{label}」至少需要 {bound} 个字",
    "too_long": "「{label}」不能超过 {bound} 个字",
    "not_date": "「{label}」应为日期，格式 YYYY-MM-DD",
    "not_choice": "「{label}」的值「{value}」不在可选项中",
    "not_boolean": "「{label}」应选择“是”或“否”",
    "bad_phone": "「{label}」不是有效的电话号码（手机 11 位或座机如 020-12345678）",
    "bad_email": "「{label}」不是有效的电子邮箱",
    "bad_credit_code": "「{label}」不是有效的统一社会信用代码（18 位，校验位不符或含非法字符）",
    "not_city": "「{label}」的值「{value}」不是本次检查的地市",
    "pattern_mismatch": "「{label}」格式不正确",
    "constraint": "{message}",
    "too_few_rows": "「{label}」至少需要填写 {bound} 行",
    "too_many_rows": "「{label}」最多填写 {bound} 行",
    "bad_text": "「{label}」含有无法保存的控制字符，请删除后再提交",
}


@dataclass(frozen=True)
class FormProblem:
    """One problem with a form definition or an answer. ``where`` locates it for a person."""

    code: str
    message: str
    field: str = ""
    where: str = ""  # "forms/att1.yaml 第 12 行" or "第 2 行" (table row)
    row: int | None = None  # 1-based table row, for answers inside a table

    def __str__(self) -> str:
        return f"{self.where}：{self.message}" if self.where else self.message


def problem(code: str, *, field: str = "", where: str = "", row: int | None = None, **params) -> FormProblem:
    """Build a problem from the catalogue; unknown placeholders are a programming error."""
    return FormProblem(code=code, message=MESSAGES[code].format(field=field, **params), field=field, where=where, row=row)


class FormDefinitionError(Exception):
    """A form or campaign file cannot be used; carries every problem found."""

    def __init__(self, path: str, problems: list[FormProblem]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
