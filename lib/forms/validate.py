"""Stage 3: raw answers -> a typed record, or the list of every problem, by field and table row.

The same function serves the fill page (live relevance and calculations), imports and tests.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .errors import FormProblem, problem
from .expressions import Context, EvaluationError, Expression
from .patterns import fullmatch
from .spec import FieldSpec, FormSpec, city_codes, outside_scheme
from .types import MAX_ITEMS, REGISTRY, ValueProblem


@lru_cache(maxsize=4096)
def compiled(text: str) -> Expression:
    """Expressions are parsed once per distinct text (specs are immutable)."""
    return Expression(text)


def is_blank(value: Any) -> bool:
    """No answer: None, blank text or an empty list. Tested by type, never by ``==``: an answer may be
    of any type (a numpy scalar from a pandas table compares with ``[]`` as an array that has no truth).

    >>> import numpy as np
    >>> is_blank(" "), is_blank([]), is_blank(np.float64(1.5)), is_blank(0)
    (True, True, False, False)
    """
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list) and not value)


@dataclass
class Outcome:
    """The result of checking answers: typed values (hidden fields blank) and problems."""

    values: dict[str, Any]
    problems: list[FormProblem] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    #: Rules of severity ``warning`` that do not hold: shown, and a submit asks the filler to confirm.
    warnings: list[FormProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _parse(spec: FieldSpec, raw: Any, ctx: dict, row: int | None) -> tuple[Any, FormProblem | None]:
    if is_blank(raw):
        return None, None
    try:
        return REGISTRY[spec.type].parse(raw, spec, ctx), None
    except ValueProblem as exc:
        # The raw value is not kept: it may be anything (a 5,000-digit int no page could show).
        return None, problem(exc.code, field=spec.key, row=row, label=spec.label, **exc.params)


def _evaluate(text: str, env: dict, spec: FieldSpec, row: int | None, problems: list[FormProblem], context: Context) -> Any:
    """The value of one of ``spec``'s expressions; blank, with a problem naming the field, when it
    cannot be computed for these answers."""
    try:
        return compiled(text).evaluate(env, context)
    except EvaluationError as exc:
        problems.append(problem("expression_failed", field=spec.key, row=row, label=spec.label, detail=str(exc)))
        return None


def _truthy(text: str | None, env: dict, spec: FieldSpec, row: int | None, problems: list[FormProblem], context: Context) -> bool:
    return True if not text else bool(_evaluate(text, env, spec, row, problems, context))


def _shown(bound: Any) -> str:
    """A bound as a person writes it: 0 not 0.0, dates as YYYY-MM-DD."""
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


def _check_value(spec: FieldSpec, value: Any, env: dict, row: int | None, context: Context) -> FormProblem | None:
    """Bounds, lengths, pattern and constraint of one present, well-typed value."""

    def bad(code: str, **params) -> FormProblem:
        return problem(code, field=spec.key, row=row, label=spec.label, **params)

    if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
        if spec.min is not None and value < spec.min:
            return bad("below_min", bound=_shown(spec.min))
        if spec.max is not None and value > spec.max:
            return bad("money_above_max" if spec.type == "money" else "above_max", bound=_shown(spec.max))
    if isinstance(value, str):
        if spec.min_length is not None and len(value) < spec.min_length:
            return bad("too_short", bound=spec.min_length)
        if spec.max_length is not None and len(value) > spec.max_length:
            return bad("too_long", bound=spec.max_length)
        if spec.pattern and not fullmatch(spec.pattern, value):
            if spec.pattern_message:
                return bad("constraint", message=spec.pattern_message)
            return bad("pattern_mismatch")
    if spec.constraint:
        failed: list[FormProblem] = []
        if _evaluate(spec.constraint, env, spec, row, failed, context) is False:
            return bad("constraint", message=spec.constraint_message or f"「{spec.label}」不符合填写规则")
        if failed:
            return failed[0]
    for rule in spec.constraints:
        if rule.severity == "error":
            failed = []
            if _evaluate(rule.rule, env, spec, row, failed, context) is False:
                return bad("constraint", message=rule.message)
            if failed:
                return failed[0]
    return None


def _warnings(spec: FieldSpec, env: dict, row: int | None, context: Context) -> list[FormProblem]:
    """The ``warning`` rules of one present, valid value that do not hold (one that cannot be
    computed warns too: the filler confirms what the form could not check)."""
    found: list[FormProblem] = []
    for rule in spec.constraints:
        if rule.severity == "warning":
            failed: list[FormProblem] = []
            if _evaluate(rule.rule, env, spec, row, failed, context) is False or failed:
                found.append(problem("warning", field=spec.key, row=row, label=spec.label, message=rule.message))
    return found


def _check_fields(
    fields: tuple[FieldSpec, ...] | list[FieldSpec],
    raw: dict[str, Any],
    outer: dict[str, Any],
    ctx: dict,
    *,
    row: int | None,
    draft: bool,
    section_visible: dict[str, bool] | None = None,
) -> Outcome:
    values: dict[str, Any] = {}
    problems: list[FormProblem] = []
    warnings: list[FormProblem] = []
    type_failed: set[str] = set()
    for spec in fields:
        if spec.type == "table" or spec.calculation:
            continue
        values[spec.key], err = _parse(spec, raw.get(spec.key), ctx, row)
        if err:
            problems.append(err)
            type_failed.add(spec.key)
    # Rules see an answer that failed its type check as blank, not as the raw text. A rule that cannot
    # be computed is reported even when its field ends up hidden: the form, not the filler, is at fault.
    rule_problems: list[FormProblem] = []
    env = {**outer, **{k: (None if k in type_failed else v) for k, v in values.items()}}
    for spec in fields:  # calculations in form order, so one may use an earlier one
        if spec.calculation:
            result = _evaluate(spec.calculation, env, spec, row, rule_problems, ctx["rules"])
            if isinstance(result, float):
                result = round(result, spec.decimals if spec.decimals is not None else 2)
            values[spec.key] = env[spec.key] = result
    hidden: set[str] = set()
    for spec in fields:  # in form order: a field hidden here is blank for the relevance of later ones
        if section_visible is not None and not section_visible.get(spec.key, True) or not _truthy(spec.relevant, env, spec, row, rule_problems, ctx["rules"]):
            hidden.add(spec.key)
            values[spec.key] = env[spec.key] = None
    problems = [p for p in problems if p.field not in hidden] + rule_problems
    for spec in fields:
        if spec.key in hidden:
            continue
        if spec.type == "table":
            values[spec.key], table_problems, table_warnings = _check_table(spec, raw.get(spec.key), env, ctx, draft=draft)
            env[spec.key] = values[spec.key]
            problems += table_problems
            warnings += table_warnings
            continue
        value = values.get(spec.key)
        if is_blank(value):
            if spec.required and not draft and not spec.calculation and spec.key not in type_failed:
                problems.append(problem("required", field=spec.key, row=row, label=spec.label))
            continue
        if spec.key not in type_failed and not draft:
            err = _check_value(spec, value, env, row, ctx["rules"])
            if err:
                problems.append(err)
            else:
                warnings += _warnings(spec, env, row, ctx["rules"])
    return Outcome(values=values, problems=problems, hidden=hidden, warnings=warnings)


def _check_table(spec: FieldSpec, raw: Any, outer: dict, ctx: dict, *, draft: bool) -> tuple[list, list, list]:
    if is_blank(raw):
        raw = []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw[:MAX_ITEMS]):
        return None, [problem("bad_value_type", field=spec.key, label=spec.label, expected="表格的行")], []
    if len(raw) > MAX_ITEMS:  # refused before any row is checked: the work stays bounded
        return None, [problem("too_many_rows", field=spec.key, label=spec.label, bound=MAX_ITEMS)], []
    rows_in = [r for r in raw if not all(is_blank(v) for v in r.values())]
    rows_out: list[dict] = []
    problems: list[FormProblem] = []
    warnings: list[FormProblem] = []
    for i, row_raw in enumerate(rows_in, start=1):
        result = _check_fields(spec.fields or (), row_raw, outer, ctx, row=i, draft=draft)
        rows_out.append(result.values)
        for p in result.problems:
            problems.append(
                FormProblem(code=p.code, message=f"「{spec.label}」第 {i} 行：{p.message}", field=spec.key, row=i)
            )
        warnings += [FormProblem(code=w.code, message=f"「{spec.label}」第 {i} 行：{w.message}", field=spec.key, row=i)
                     for w in result.warnings]
    if not draft:
        if spec.required and not rows_out:
            problems.append(problem("required", field=spec.key, label=spec.label))
        elif spec.min_rows and len(rows_out) < spec.min_rows:  # min_rows asks for rows even when not required
            problems.append(problem("too_few_rows", field=spec.key, label=spec.label, bound=spec.min_rows))
        if spec.max_rows and len(rows_out) > spec.max_rows:
            problems.append(problem("too_many_rows", field=spec.key, label=spec.label, bound=spec.max_rows))
    return rows_out or None, problems, warnings


def check_answers(form: FormSpec, raw: dict[str, Any], *, cities: tuple[str, ...] = (), draft: bool = False,
                  today: dt.date | None = None) -> Outcome:
    """Parse and check every answer of ``form``.

    ``cities`` are the campaign's (``CampaignSpec.cities``: with the division codes it declares, which
    rules read through ``city_code``); ``today`` is the campaign clock's day for rules' ``today()``
    (None: the real date). ``draft=True`` keeps what parses and skips the required, bounds and
    constraint checks, so an unfinished form can be saved; type problems are still reported.
    """
    if not isinstance(raw, dict):
        return Outcome(values={}, problems=[problem("not_answers")])
    ctx = {"cities": cities, "rules": Context(today=today, city_codes=city_codes(cities), outside_scheme=outside_scheme(cities))}
    # Sections' relevance is judged on the parsed top-level answers (without calculations); a form whose
    # sections all show is checked once (a bulk import checks 10,000 rows).
    pre = _check_fields(form.all_fields(), raw, {}, ctx, row=None, draft=True) if any(s.relevant for s in form.sections) else None
    section_visible = {}
    section_problems: list[FormProblem] = []
    for section in form.sections:
        try:
            shown = not section.relevant or bool(compiled(section.relevant).evaluate(pre.values if pre else {}, ctx["rules"]))
        except EvaluationError as exc:
            shown = True  # a rule that cannot be computed hides nothing; its problem is shown
            first = section.fields[0]
            section_problems.append(problem("expression_failed", field=first.key, label=section.title, detail=str(exc)))
        for spec in section.fields:
            section_visible[spec.key] = shown
    outcome = _check_fields(form.all_fields(), raw, {}, ctx, row=None, draft=draft, section_visible=section_visible)
    outcome.problems[:0] = section_problems
    return outcome
