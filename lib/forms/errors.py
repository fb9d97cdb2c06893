"""The catalogue of form errors: one code, one Chinese message template.

Load-time problems (a broken YAML file) and fill-time problems (a bad answer) share the
catalogue so that tests assert on codes and pages show the same words everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.core.errors import AppError

MESSAGES: dict[str, str] = {
    # definition errors (a form file is wrong)
    "yaml_syntax": "YAML 语法错误：{detail}",
    "duplicate_key": "键「{key}」重复出现（第一次在第 {first_line} 行）",
    "unknown_type": "字段「{field}」的类型「{type}」不存在，可用类型：{known}",
    "missing_choices": "字段「{field}」是选择题，必须提供 choices 选项",
    "choice_has_separator": "字段「{field}」的选项「{choice}」含有「{separator}」：多选的答案用它隔开显示，请改用其他标点",
    "bad_expression": "字段「{field}」的 {attr} 表达式无法解析：{detail}",
    "unknown_reference": "字段「{field}」的 {attr} 引用了不存在的字段「{ref}」",
    "unknown_function": "字段「{field}」的 {attr} 使用了不支持的函数「{ref}」",
    "empty_group": "{attr} 的第 {index} 组没有列出字段：每组至少写一个字段键",
    "empty_key": "{attr} 的第 {index} 项为空：请写一个字段键",
    "duplicate_form_id": "表单 id「{form_id}」已由 {first} 使用，本文件未启用：请给本表单另起一个 id",
    "spec_text_too_long": "{what} 超过 {limit} 个字，页面无法完整显示，请精简",
    "spec_text_bad_char": "{what} 含有换行、控制字符、改变文字方向的字符或不可见字符（{char}），请删除",
    "duplicate_field": "字段键「{field}」在表单中重复定义",
    "duplicate_label": "字段「{field}」的标签「{label}」与字段「{first}」的标签相同：导入模板的表头无法区分两列，请改用不同的标签",
    "bad_pattern": "字段「{field}」的 pattern 不是有效的正则表达式：{detail}",
    "invalid_definition": "{detail}",
    "unknown_deadline": "表单的 deadline「{deadline}」在 campaign.yaml 中没有定义",
    "file_too_large": "文件超过 {limit} 字节，表单文件不能这么大，请检查是否放错了文件",
    "not_utf8": "文件不是 UTF-8 编码，请用 UTF-8 另存",
    "not_regular_file": "不是普通文件（{kind}），表单文件夹中只读取普通的 .yaml 文件，请删除或改名",
    "yaml_bad_char": "含有不允许的控制字符 {char}（例如空字符），请删除",
    "yaml_alias": "不支持 YAML 锚点和别名（& 与 *），请把内容直接写出",
    "yaml_too_deep": "嵌套超过 {limit} 层，请检查缩进或括号",
    "yaml_too_many_nodes": "内容超过 {limit} 个值，表单文件不能这么大",
    "yaml_key": "键必须是文字，不能是列表或键值对",
    "yaml_value": "值「{value}」无法读取（{detail}），例如日期不存在或数字过长",
    "more_problems": "另有 {more} 个问题未列出，请先修正以上问题",
    "load_failed": "读取文件时发生意外错误（{error}），详情已记入服务器日志，请联系管理员",
    "campaign_unavailable": "活动配置 {file} 无法使用，依赖它的页面暂停服务，请管理员按下列问题修正",
    "self_review": "填报角色「{role}」同时是审核角色：填报人不能审核自己的行。确需如此，请写明 self_review: true",
    "expression_type": "字段「{field}」的 {attr} 表达式类型不对：{detail}",
    "rectification_when_type": "整改规则「{rule}」的 when 表达式类型不对：{detail}",
    # campaign bindings (campaign.yaml says what a form's fields mean; checked against the forms)
    "binding_unknown_form": "bindings.{binding} 的表单「{form_id}」不存在（或未能加载）",
    "binding_unknown_role": "bindings.{binding} 的填报角色「{role}」不在 roles 中",
    "binding_filer": "bindings.{binding} 声明由「{role}」填报，但表单「{form_id}」的 filled_by 是「{filled_by}」",
    "binding_unknown_meaning": "bindings.{binding}.fields 中的「{meaning}」不是系统认识的含义，可用：{known}",
    "binding_unknown_field": "bindings.{binding}.fields.{meaning} 指向的字段「{key}」在表单「{form_id}」中不存在（表格内的子字段不能绑定）",
    "binding_type": "bindings.{binding}.fields.{meaning} 指向的字段「{key}」类型为 {type}，应为 {types} 之一",
    "binding_missing": "bindings.{binding}.fields 缺少「{meaning}」（{what}）：请写明它对应表单的哪个字段",
    "binding_choices_unused": "bindings.{binding}.choices 中的「{meaning}」没有对应的选项含义（或未在 fields 中绑定）",
    "binding_unknown_choice": "bindings.{binding}.choices.{meaning} 中的「{choice}」不是系统认识的选项含义，可用：{known}",
    "binding_choice_word": "bindings.{binding}.choices.{meaning} 的选项「{word}」不在字段「{key}」的 choices 中",
    "rule_fact_unbound": "优先规则「{field}」的 when 用到 {name}，它读取 {sources}，但都没有绑定：请绑定其一，或删除这条规则",
    "rule_fact_list_empty": "优先规则「{field}」的 when 用到 {name}，它读取 sampling.facts.{listed}，但没有写明：请列出对应的选项含义",
    "binding_choices_missing": "bindings.{binding}.choices.{meaning} 缺少选项含义：{missing}",
    "binding_no_deadline": "bindings.{binding} 的表单「{form_id}」的 deadline「{deadline}」不在 campaign.yaml 的 deadlines 中：看板按它判断逾期，被绑定的表单必须有截止日期",
    "binding_field_twice": "bindings.{binding}.fields 中「{first}」和「{meaning}」指向同一个字段「{key}」：每个含义要绑定自己的字段",
    "binding_word_twice": "bindings.{binding}.choices.{meaning} 中「{first}」和「{choice}」是同一个选项「{word}」：看板无法判断这个选项算哪一种",
    "register_unknown_meaning": "registers.{register}.columns 中的「{meaning}」不是系统认识的列含义，可用：{known}",
    "register_missing": "registers.{register}.columns 缺少列：{missing}",
    "register_no_header": "registers.{register}.columns.{meaning} 至少要写一个表头",
    "register_header_twice": "registers.{register} 的表头「{header}」写了两次：导入时无法判断它是哪一列",
    "register_scope_both": "registers.{register}.state 中「{words}」既在 in_scope 又在 excluded 中",
    "register_year": "registers.{register}.years 中的「{year}」不在表单字段「{key}」的选项（{choices}）中",
    "outside_scheme_city": "outside_scheme 中的「{city}」不在 cities 中",
    # rectification (campaign.yaml's rectification: rules read a bound kind of form through its meanings)
    "rectification_source_unbound": "整改规则「{rule}」的来源「{source}」没有在 bindings 中绑定：请绑定该类表单，或删除这条规则",
    "rectification_unknown_meaning": "整改规则「{rule}」的 when 用到「{name}」，它不是 {source} 表单的含义，可用：{known}",
    "rectification_meaning_unbound": "整改规则「{rule}」的 when 用到「{name}」（{what}），但 bindings.{source}.fields 没有绑定它：请绑定，或修改规则",
    "rectification_choice": "整改规则「{rule}」的 when 把「{name}」与「{value}」比较，它不是可用的选项：{known}",
    "rectification_party_unknown": "整改规则「{rule}」的责任主体「{party}」不是 {source} 表单的含义：请改为该表单绑定的服务商、企业或牵头单位",
    "rectification_party_unbound": "整改规则「{rule}」的责任主体「{party}」（{what}）没有在 bindings.{source}.fields 中绑定：整改事项无法写明责任主体",
    "rectification_firm_no_provider": "整改规则「{rule}」的责任主体是企业，但 bindings.{source}.fields 没有绑定服务商（provider）：企业的整改事项由其服务商办理",
    "rectification_no_city": "整改规则「{rule}」的来源 bindings.{source} 没有绑定地市（city）：整改事项需要督办地市",
    "archive_source_unbound": "office.archive.source「{source}」没有在 bindings 中绑定：地市汇总的报告须来自一类已绑定的表单",
    "archive_deadline_unknown": "office.archive.deadline「{deadline}」不是 deadlines 中的日期，可用：{known}",
    "rectification_due_early": "rectification.due「{due}」早于最后一个阶段「{phase}」的开始日期 {start}：整改期限不能早于整改事项的生成日期",
    # outcome lists (rectification.outcomes: each list's entries and variables come from a bound form)
    "outcome_source_unbound": "成果清单「{outcome}」的条目来自 {source}，但它没有绑定：请绑定，或删除这个清单",
    "outcome_variable_unbound": "成果清单「{outcome}」的 when 用到「{name}」，它读取 {source}，但没有绑定：请绑定，或修改条件",
    "role_name_twice": "roles 中 {role} 的名称「{name}」与 {first} 相同：登录和账号页面无法区分这两个角色，请另起名称",
    "city_code_twice": "cities 中「{city}」的区划代码 {division} 与「{first}」相同：无法判断企业登记在哪个地市",
    "binding_breaks_form": "本次修改使 campaign.yaml 的绑定失效（{detail}），本文件的上一个有效版本继续使用",
    "bound_form_missing": "文件不存在：campaign.yaml 的 bindings 使用表单「{form_id}」，它的上一个有效版本继续使用；确要删除这个表单，请先在 bindings 中改用其他表单",
    "campaign_no_bindings": "{file} 没有 bindings 部分：看板和清单导入需要知道各表单字段的含义，请管理员补充",
    # a renamed field (replaces: the key it had before; lib.forms.spec.replaces_problems)
    "replaces_self": "字段「{field}」的 replaces 写的是它自己的键：replaces 应写这个字段改名之前的旧键",
    "replaces_current": "字段「{field}」的 replaces「{old}」仍是本表单的字段：改名后旧键不能再作字段，请删除旧字段或去掉 replaces",
    "replaces_twice": "字段「{field}」和「{first}」都写了 replaces「{old}」：一个旧键只能改名为一个字段",
    "replaces_in_table": "表格中的子字段「{field}」不能写 replaces：只有表格之外的字段可以改名",
    # answer errors (a filled value is wrong)
    "required": "「{label}」为必填项",
    "not_integer": "「{label}」应为整数",
    "not_number": "「{label}」应为数字",
    "too_many_decimals": "「{label}」最多保留 {places} 位小数",
    "below_min": "「{label}」不能小于 {bound}",
    "above_max": "「{label}」不能大于 {bound}",
    "money_above_max": "「{label}」不能大于 {bound} 万元，请核实金额是否按“万元”填写（不是“元”）",
    "no_percent": "「{label}」应填数值本身，不能带百分号 %",
    "exponent": "「{label}」不能用科学计数法（如 1e3、1E+3），请直接填写数字",
    "too_short": "「{label}」至少需要 {bound} 个字",
    "too_long": "「{label}」不能超过 {bound} 个字",
    "not_date": "「{label}」应为日期，格式 YYYY-MM-DD（也可写 2019/4/12 或 2019年4月12日）",
    "not_choice": "「{label}」的值「{value}」不在可选项中",
    "not_boolean": "「{label}」应选择“是”或“否”",
    "bad_phone": "「{label}」不是有效的电话号码（手机 11 位或座机如 020-12345678）",
    "bad_email": "「{label}」不是有效的电子邮箱",
    "bad_credit_code": "「{label}」不是有效的统一社会信用代码（18 位，校验位不符或含非法字符）",
    "not_city": "「{label}」的值「{value}」不是本次检查的地市",
    "pattern_mismatch": "「{label}」格式不正确",
    "constraint": "{message}",
    "warning": "「{label}」：{message}",
    "too_few_rows": "「{label}」至少需要填写 {bound} 行",
    "too_many_rows": "「{label}」最多填写 {bound} 行",
    "bad_text": "「{label}」含有无法保存的控制字符，请删除后再提交",
    "single_line": "「{label}」只能填一行，不能含换行或制表符",
    "bidi_text": "「{label}」含有改变文字方向的不可见字符（如 U+200E、U+200F、U+202A–U+202E、U+2066–U+2069），请删除后再提交",
    "foreign_digits": "「{label}」只能用数字 0–9 填写（全角数字也可以），不能用其他文字的数字",
    "bad_value_type": "「{label}」收到的内容不是{expected}，请重新填写",
    # a file field's answer: the stored files it names (each upload was checked when it arrived)
    "not_file_list": "「{label}」收到的内容不是已上传的文件，请重新上传",
    "too_many_files": "「{label}」最多 {bound} 个文件，现有 {count} 个，请删除多余的文件",
    "bad_file_entry": "「{label}」的第 {index} 个文件记录不完整或已被改动，请删除它后重新上传该文件",
    "number_too_large": "「{label}」的数值过大：整数部分最多 {digits} 位",
    "date_out_of_range": "「{label}」应在 {earliest} 至 {latest} 之间",
    "expression_failed": "「{label}」的规则无法计算（{detail}），请检查填写的内容；如仍有问题请联系管理员",
    "not_answers": "提交的内容不是按字段填写的表单，请刷新页面后重新填写",
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


#: Most problems listed for one file: a file with thousands of mistakes is reported by its first ones.
MAX_REPORTED = 50


class FormDefinitionError(AppError):
    """A form or campaign file cannot be used; carries the problems found (at most MAX_REPORTED,
    then one ``more_problems`` saying how many were left out), each with its own code."""

    code = "form_definition"

    def __init__(self, path: str, problems: list[FormProblem]):
        self.path = path
        if len(problems) > MAX_REPORTED:
            problems = [*problems[:MAX_REPORTED], problem("more_problems", where=path, more=len(problems) - MAX_REPORTED)]
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
