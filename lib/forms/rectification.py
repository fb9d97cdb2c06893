"""The ``rectification:`` section of campaign.yaml (全面整改, the notice's third phase): which findings open
a rectification item, who answers for it, and the steps that close each category.

A finding is a filed row of a bound form (``source``: the kind of form, ``lib.forms.bindings``) that
meets a rule's ``when`` — an expression over that kind's meanings (``NEEDS[source]``): a choice field
with bound choice meanings reads as its meaning (``conclusion == 'fail'``), any other field as its stored
value. Each rule names the party that answers for the item (``responsible``: the meaning naming it in
the source — the provider, the firm or the lead unit), the category whose steps close it, and the item
is supervised by the source row's city. A generated item is due on the section's ``due`` unless the
rule says otherwise. Every step needs its evidence: a text, a file, or nothing but the tick. A step is
the responsible party's (``by: party``, the default: done before it submits) or the supervising city's
(``by: city``: its review, written while it verifies; its 通过 needs it done).

>>> section = Rectification.model_validate({"due": "2020-10-31",
...     "categories": [{"key": "usage", "name": "停用闲置", "steps": [{"key": "note", "name": "恢复使用说明", "evidence": "text"}]}],
...     "rules": [{"key": "idle", "name": "申报停用", "source": "projects", "when": "usage == 'stopped'",
...                "responsible": "provider", "category": "usage"}]})
>>> section.category("usage").steps[0].evidence, sorted(section.rules[0].expression.names)
('text', ['usage'])
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .bindings import KEY_PATTERN, NEEDS, Bindings, Need
from .expressions import FUNCTIONS, KIND_WORDS, READ_CONTEXT, Expression, ExpressionError

#: The kinds of form whose rows can be findings.
SOURCES = ("inspections", "projects", "checks", "benchmarks")
#: The meanings that can name the party answering for an item.
PARTIES = ("provider", "firm", "lead_unit")
#: What a step needs before it counts as done: a text, a file, or only its tick.
EVIDENCE = ("text", "file", "none")
#: Who does a step: the organisation acting on the item (before it submits), or the item's city bureau
#: (while it verifies what was submitted).
PARTY_STEP, CITY_STEP = "party", "city"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    """One step of a category's checklist and the evidence it needs."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    evidence: Literal["text", "file", "none"] = "none"
    by: Literal["party", "city"] = PARTY_STEP
    help: str = ""


class Category(_Strict):
    """A kind of problem and the steps that close an item of it."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    steps: tuple[Step, ...] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _steps_once(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        keys = [s.key for s in steps]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise PydanticCustomError("step_twice", "整改步骤的 key 重复：{keys}", {"keys": "、".join(twice)})
        if all(s.by == CITY_STEP for s in steps):  # the party would submit an empty checklist
            raise PydanticCustomError("steps_all_city", "整改步骤须至少有一步由整改责任单位完成（by: party），不能全部是 by: city", {})
        return steps


class ItemRule(_Strict):
    """Which filed rows of ``source`` open an item (``when``), who answers for it, its category."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    source: Literal["inspections", "projects", "checks", "benchmarks"]
    when: str
    responsible: Literal["provider", "firm", "lead_unit"]
    category: str = Field(pattern=KEY_PATTERN)
    #: Days from the item's creation to its due date; None: the section's ``due``.
    due_days: int | None = Field(default=None, ge=1, le=366)

    @field_validator("when")
    @classmethod
    def _parses(cls, text: str) -> str:
        try:
            Expression(text)
        except ExpressionError as exc:
            raise PydanticCustomError("item_rule_syntax", "when 表达式无法解析：{detail}", {"detail": str(exc)}) from None
        return text

    @property
    def expression(self) -> Expression:
        return Expression(self.when)


#: What an outcome list's entry is (``Outcome.of``): a firm or a provider, by name, from the filed rows of
#: the inspections (this campaign's on-site records) or of the cities' checks (``Outcome.source``); a
#: benchmark project (a filed row of the benchmarks form); a rectification item.
OUTCOME_KINDS = ("firm", "provider", "benchmark", "item")
#: The kinds of form a firm's or a provider's list may be worked out from.
OUTCOME_FORMS = ("inspections", "checks")
class OutcomeVariable(NamedTuple):
    """One variable an outcome list's ``when`` may read: its kind of value (``lib.forms.expressions.KINDS``),
    its short title (the column that shows it beside each entry) and what it counts, for the people who
    write the rules."""

    kind: str
    title: str
    what: str


#: What the items say of an entry, the same for every kind but ``item``: counted over the items whose
#: voucher is the firm's (firm), whose party or acting organisation it is (provider), or opened from its
#: row or naming its project and lead unit (benchmark).
_ITEM_FACTS = {
    "open_items": OutcomeVariable("number", "未销号整改事项数", "涉及它的整改事项中尚未销号的件数"),
    "violations": OutcomeVariable("number", "违规处理数", "涉及它的整改事项上记录的违规处理数（已销号的事项也算）"),
}
_KIND_OF_TYPE = {"text": "text", "textarea": "text", "city": "text", "select": "text", "credit_code": "text", "boolean": "bool",
                 "percent": "number", "decimal": "number", "money": "number", "integer": "number"}


def _meaning(need: Need) -> OutcomeVariable:
    return OutcomeVariable(_KIND_OF_TYPE[need.types[0]], need.what, f"自查报告中的{need.what}（选项有含义的读作含义）")


#: Entry kind -> variable -> OutcomeVariable: what an outcome list's ``when`` reads.
#: A choice whose meanings the bindings declare (a conclusion, a usage, a programme) reads as its MEANING
#: (``conclusion == 'pass'``); a firm's conclusion and usage are the worst its inspections record (in the
#: order of ``NEEDS``: pass < basic < fail, in_use < low_use < idle < stopped), its satisfaction the word
#: its inspections record when they all record the same one (blank when they differ or one says none).
OUTCOME_VARIABLES: dict[str, dict[str, OutcomeVariable]] = {
    "firm": {
        "inspected": OutcomeVariable("number", "检查次数", "已提交的检查记录数"),
        "conclusion": OutcomeVariable("text", "最差检查结论", "各次检查中最差的检查结论（含义：pass 合格、basic 基本合格、fail 不合格）"),
        "usage": OutcomeVariable("text", "最差使用状态", "各次检查中最差的使用状态（含义：in_use、low_use、idle、stopped）"),
        "satisfaction": OutcomeVariable("text", "企业满意度", "各次检查记录的企业满意度都相同时为该选项，不同或有未填时为空"),
        **_ITEM_FACTS,
    },
    "provider": {
        "inspected": OutcomeVariable("number", "检查项目数", "检查过的项目数（服务券编号不同的项目；一个项目按它最差的结论计）"),
        "passed": OutcomeVariable("number", "合格项目数", "检查结论为合格（pass）的项目数"),
        "basic": OutcomeVariable("number", "基本合格项目数", "检查结论为基本合格（basic）的项目数"),
        "failed": OutcomeVariable("number", "不合格项目数", "检查结论为不合格（fail）的项目数"),
        **_ITEM_FACTS,
    },
    "benchmark": {
        **{m: _meaning(n) for m, n in NEEDS["benchmarks"].items()},
        **_ITEM_FACTS,
    },
    "item": {
        "violations": OutcomeVariable("number", "违规处理数", "记录的违规处理数"),
        "amount": OutcomeVariable("number", "追回资金（万元）", "追回资金合计（万元）"),
        "status": OutcomeVariable("text", "整改状态", "整改状态"),
        "category": OutcomeVariable("text", "整改类别", "整改类别（key）"),
        "rule": OutcomeVariable("text", "生成规则", "生成规则（key；人工添加为 manual）"),
        "party_kind": OutcomeVariable("text", "责任主体类别", "责任主体类别（provider、firm、lead_unit）"),
        "city": OutcomeVariable("text", "督办地市", "督办地市"),
    },
}
#: The variables that read a bound meaning of the entry's source (checked against the bindings at load).
OUTCOME_MEANINGS = {"firm": ("conclusion", "usage", "satisfaction"), "benchmark": tuple(NEEDS["benchmarks"])}


def outcome_expression(of: str, text: str) -> Expression:
    """``text`` (an outcome list's ``when``) parsed, refusing what it may not say: a variable the entry kind
    ``of`` has not (``OUTCOME_VARIABLES``), a function reading the campaign clock or the cities (a list
    follows from the data alone), a kind mistake, a result that is not 是/否.

    >>> sorted(outcome_expression("provider", "inspected >= 3 and failed == 0").names)
    ['failed', 'inspected']
    """
    try:
        expr = Expression(text)
    except ExpressionError as exc:
        raise PydanticCustomError("outcome_when_syntax", "when 表达式无法解析：{detail}", {"detail": str(exc)}) from None
    known = OUTCOME_VARIABLES[of]
    unknown = sorted(expr.names - known.keys())
    if unknown:
        raise PydanticCustomError("outcome_when_unknown", "when 用到了{of}清单没有的变量「{names}」，可用：{known}",
                                  {"of": of, "names": "、".join(unknown), "known": "、".join(known)})
    refused = sorted(expr.functions - (FUNCTIONS.keys() - READ_CONTEXT))
    if refused:
        raise PydanticCustomError("outcome_when_function", "when 不能使用函数「{names}」", {"names": "、".join(refused)})
    kinds = {name: v.kind for name, v in known.items()}
    mistakes = expr.type_problems(kinds)
    if mistakes:
        raise PydanticCustomError("outcome_when_type", "when 表达式类型不对：{detail}", {"detail": "；".join(mistakes)})
    wrong = [k for k in KIND_WORDS if k in expr.result_kinds(kinds) and k != "bool"]  # every branch of `a if c else b`
    if wrong:
        raise PydanticCustomError("outcome_when_not_boolean", "when 的结果应为是/否（比较或条件），这里有的是{kind}",
                                  {"kind": "、".join(KIND_WORDS[k] for k in wrong)})
    return expr


class Outcome(_Strict):
    """One outcome list (标杆培育企业, 优秀服务商培育对象 …): what an entry is (``of``) and the condition an
    entry is listed by (``when``, over ``OUTCOME_VARIABLES[of]``); the province confirms it
    (``lib.rectification.outcomes``)."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    of: Literal["firm", "provider", "benchmark", "item"]
    #: The kind of form a firm's or a provider's entries come from (``OUTCOME_FORMS``; None: inspections);
    #: the other kinds have their own (benchmarks, the items).
    source: Literal["inspections", "checks"] | None = None
    when: str

    @model_validator(mode="after")
    def _a_condition_over_its_variables(self) -> Outcome:
        if self.source is not None and self.of not in ("firm", "provider"):
            raise PydanticCustomError("outcome_source_fixed", "只有企业（firm）和服务商（provider）清单可以写 source", {})
        outcome_expression(self.of, self.when)
        return self

    @property
    def form_kind(self) -> str | None:
        """The kind of form this list's entries come from (None: the items)."""
        if self.of in ("firm", "provider"):
            return self.source or "inspections"
        return "benchmarks" if self.of == "benchmark" else None

    @property
    def naming(self) -> str | None:
        """The meaning of ``form_kind`` that names an entry (None: an item, named by its id)."""
        return {"firm": "firm", "provider": "provider", "benchmark": "project"}.get(self.of)

    @property
    def expression(self) -> Expression:
        return outcome_expression(self.of, self.when)


def outcome_problems(outcomes: tuple[Outcome, ...], bindings: Bindings) -> list[tuple[tuple, str, dict]]:
    """What the bindings leave an outcome list unable to know: its entries' source form or naming meaning
    unbound, or a variable it reads whose meaning is unbound (it would be blank for every entry, and the
    list silently empty). (path in campaign.yaml, error code, params), like ``lib.forms.crosscheck``.

    >>> from lib.forms.bindings import FormBinding
    >>> b = Bindings(projects=FormBinding(form="p", filed_by="provider"), benchmarks=FormBinding(form="b", filed_by="lead_unit"),
    ...     checks=FormBinding(form="c", filed_by="city"))
    >>> [code for _, code, _ in outcome_problems((Outcome(key="good", name="优秀", of="provider", when="failed == 0"),), b)]
    ['outcome_source_unbound']
    """
    found: list[tuple[tuple, str, dict]] = []
    for i, outcome in enumerate(outcomes):
        at = ("rectification", "outcomes", i)
        kind, naming = outcome.form_kind, outcome.naming
        if kind is None:
            continue
        if not bindings.has(kind) or bindings.of(kind).key(naming) is None:
            found.append((at + ("source" if outcome.source else "of",), "outcome_source_unbound", {"outcome": outcome.key, "source": f"bindings.{kind}.fields.{naming}"}))
            continue
        binding = bindings.of(kind)
        for name in sorted(outcome.expression.names & set(OUTCOME_MEANINGS.get(outcome.of, ()))):
            if binding.key(name) is None:
                found.append((at + ("when",), "outcome_variable_unbound", {"outcome": outcome.key, "name": name,
                                                                             "source": f"bindings.{kind}.fields.{name}"}))
    return found


class Rectification(_Strict):
    """The ``rectification:`` section (see the module's docstring)."""

    due: dt.date
    categories: tuple[Category, ...] = Field(min_length=1)
    rules: tuple[ItemRule, ...] = ()
    #: The outcome lists (outcome 5 of the phase), each computed by its rule and confirmed by the province.
    outcomes: tuple[Outcome, ...] = ()

    @field_validator("outcomes")
    @classmethod
    def _outcome_keys_once(cls, outcomes: tuple[Outcome, ...]) -> tuple[Outcome, ...]:
        keys = [o.key for o in outcomes]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise PydanticCustomError("outcome_key_twice", "成果清单的 key 重复：{keys}", {"keys": "、".join(twice)})
        return outcomes

    @model_validator(mode="after")
    def _keys_once_and_categories_known(self) -> Rectification:
        for what, keys in (("整改类别", [c.key for c in self.categories]), ("整改规则", [r.key for r in self.rules])):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            if twice:
                raise PydanticCustomError("rectification_key_twice", "{what}的 key 重复：{keys}", {"what": what, "keys": "、".join(twice)})
        known = {c.key for c in self.categories}
        for rule in self.rules:
            if rule.category not in known:
                raise PydanticCustomError("rectification_unknown_category", "整改规则「{rule}」的类别「{category}」没有在 categories 中声明",
                                          {"rule": rule.key, "category": rule.category})
        return self

    def category(self, key: str) -> Category:
        return next(c for c in self.categories if c.key == key)
