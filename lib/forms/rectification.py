"""The ``rectification:`` section of campaign.yaml (全面整改, the notice's third phase): which findings open
a rectification item, who answers for it, and the steps that close each category.

A finding is a filed row of a bound form (``source``: the kind of form, ``lib.forms.bindings``) that
meets a rule's ``when`` — an expression over that kind's meanings (``NEEDS[source]``): a choice field
with bound choice meanings reads as its meaning (``conclusion == 'fail'``), any other field as its stored
value. Each rule names the party that answers for the item (``responsible``: the meaning naming it in
the source — the provider, the firm or the lead unit), the category whose steps close it, and the item
is supervised by the source row's city. A generated item is due on the section's ``due`` unless the
rule says otherwise. Every step needs its evidence: a text, a file, or nothing but the tick.

>>> section = Rectification.model_validate({"due": "2020-10-31",
...     "categories": [{"key": "usage", "name": "停用闲置", "steps": [{"key": "note", "name": "恢复使用说明", "evidence": "text"}]}],
...     "rules": [{"key": "idle", "name": "申报停用", "source": "projects", "when": "usage == 'stopped'",
...                "responsible": "provider", "category": "usage"}]})
>>> section.category("usage").steps[0].evidence, sorted(section.rules[0].expression.names)
('text', ['usage'])
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from .bindings import KEY_PATTERN
from .expressions import Expression, ExpressionError

#: The kinds of form whose rows can be findings.
SOURCES = ("inspections", "projects", "checks", "benchmarks")
#: The meanings that can name the party answering for an item.
PARTIES = ("provider", "firm", "lead_unit")
#: What a step needs before it counts as done: a text, a file, or only its tick.
EVIDENCE = ("text", "file", "none")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    """One step of a category's checklist and the evidence it needs."""

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1)
    evidence: Literal["text", "file", "none"] = "none"
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


class Rectification(_Strict):
    """The ``rectification:`` section (see the module's docstring)."""

    due: dt.date
    categories: tuple[Category, ...] = Field(min_length=1)
    rules: tuple[ItemRule, ...] = ()

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
