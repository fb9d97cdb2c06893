"""Checks across files: the campaign's bindings against the forms they bind, and the sections that read
the forms through them (priority rules, rectification rules).

A binding is right when its form exists, is filed by the declared role and has a deadline the
campaign declares (a bound form without one could never be late), every meaning the code needs is
bound to a field of its own that exists outside a table and has a type that fits, and every choice
meaning names a word of the field's choices that no other choice meaning of it names. Each problem
carries the path of the YAML key at fault (``("bindings", "projects", "fields", "voucher")``), so the
loader names file, line and key.
"""

from __future__ import annotations

import ast
from collections.abc import Collection

from .bindings import DEADLINED, NEEDS, REGISTER_NEEDS, Bindings, FormBinding, Registers
from .expressions import FUNCTIONS, KIND_WORDS, parse_expression
from .rectification import OUTCOME_MEANINGS, Rectification, outcome_problems
from .spec import CampaignSpec, FieldSpec, FormSpec, _kinds

#: The binding of the form each register is reconciled with (its year field holds the register's years).
REGISTER_FORMS = {"vouchers": "projects", "projects": "benchmarks"}


def _plain_fields(form: FormSpec) -> dict[str, FieldSpec]:
    """Field key -> spec of the form's fields outside tables (a binding names a column of the row)."""
    return {f.key: f for section in form.sections for f in section.fields}


def binding_problems(bindings: Bindings, forms: dict[str, FormSpec], roles: dict[str, str],
                     deadlines: Collection[str]) -> list[tuple[tuple, str, dict]]:
    """Problems of ``bindings`` against ``forms`` (form id -> spec) and the campaign's ``roles`` and
    ``deadlines`` (keys): (path inside campaign.yaml, error code, message params), in the order of the file."""
    found: list[tuple[tuple, str, dict]] = []
    for role in bindings.kinds():
        binding, at = bindings.of(role), ("bindings", role)
        if binding.filed_by not in roles:
            found.append((at + ("filed_by",), "binding_unknown_role", {"binding": role, "role": binding.filed_by}))
        form = forms.get(binding.form)
        if form is None:
            found.append((at + ("form",), "binding_unknown_form", {"binding": role, "form_id": binding.form}))
            continue
        if form.filled_by != binding.filed_by:
            found.append((at + ("filed_by",), "binding_filer", {"binding": role, "form_id": form.id,
                                                                 "role": binding.filed_by, "filled_by": form.filled_by}))
        if role in DEADLINED and form.deadline not in deadlines:  # None too: the board would never count it late
            found.append((at + ("form",), "binding_no_deadline", {"binding": role, "form_id": form.id,
                                                                 "deadline": form.deadline or "（未写）"}))
        found += _field_problems(role, binding, form, at)
    return found


def _field_problems(role: str, binding: FormBinding, form: FormSpec, at: tuple) -> list[tuple[tuple, str, dict]]:
    needs, fields, found = NEEDS[role], _plain_fields(form), []
    meaning_of: dict[str, str] = {}  # field key -> the first meaning bound to it
    for meaning, key in binding.fields.items():
        path = at + ("fields", meaning)
        need = needs.get(meaning)
        if need is None:
            found.append((path, "binding_unknown_meaning", {"binding": role, "meaning": meaning, "known": "、".join(needs)}))
            continue
        spec = fields.get(key)
        if spec is None:
            found.append((path, "binding_unknown_field", {"binding": role, "meaning": meaning, "form_id": form.id, "key": key}))
        elif spec.type not in need.types:
            found.append((path, "binding_type", {"binding": role, "meaning": meaning, "key": key, "type": spec.type,
                                                 "types": "、".join(need.types)}))
        elif key in meaning_of:  # the provider's code read from the firm's field: a figure silently wrong
            found.append((path, "binding_field_twice", {"binding": role, "key": key, "first": meaning_of[key], "meaning": meaning}))
        meaning_of.setdefault(key, meaning)
    for meaning, need in needs.items():
        if need.required and meaning not in binding.fields:
            found.append((at + ("fields",), "binding_missing", {"binding": role, "meaning": meaning, "what": need.what}))
    for meaning, words in binding.choices.items():
        path = at + ("choices", meaning)
        need, key = needs.get(meaning), binding.fields.get(meaning)
        if need is None or not need.choices or key is None:
            found.append((path, "binding_choices_unused", {"binding": role, "meaning": meaning}))
            continue
        spec = fields.get(key)
        available = set(spec.choices or ()) if spec is not None else set()
        choice_of: dict[str, str] = {}  # word -> the first choice meaning given it
        for choice, word in words.items():
            if choice not in need.choices:
                found.append((path + (choice,), "binding_unknown_choice", {"binding": role, "meaning": meaning, "choice": choice,
                                                                           "known": "、".join(need.choices)}))
            elif spec is not None and word not in available:
                found.append((path + (choice,), "binding_choice_word", {"binding": role, "meaning": meaning, "key": key,
                                                                        "word": word}))
            elif word in choice_of:  # a row with this word would count as either meaning, by lookup order
                found.append((path + (choice,), "binding_word_twice", {"binding": role, "meaning": meaning, "word": word,
                                                                       "first": choice_of[word], "choice": choice}))
            else:
                choice_of[word] = choice
    for meaning, need in needs.items():
        if need.choices and meaning in binding.fields:
            missing = [c for c in need.choices if c not in binding.choices.get(meaning, {})]
            if missing:
                found.append((at + ("choices",), "binding_choices_missing", {"binding": role, "meaning": meaning,
                                                                             "missing": "、".join(missing)}))
    return found


def campaign_problems(campaign: CampaignSpec, forms: dict[str, FormSpec]) -> list[tuple[tuple, str, dict]]:
    """Every cross-file problem of ``campaign``: its bindings, its registers and the cities outside the
    scheme, against ``forms`` and its own lists."""
    found: list[tuple[tuple, str, dict]] = []
    if campaign.bindings is not None:
        found += binding_problems(campaign.bindings, forms, campaign.roles, campaign.deadlines.keys())
    if campaign.registers is not None:
        found += register_problems(campaign.registers, campaign.bindings, forms)
    if campaign.bindings is not None:
        found += rule_problems(campaign, campaign.bindings)
    if campaign.rectification is not None:
        found += rectification_problems(campaign, campaign.bindings, forms)
    archive = campaign.office.archive
    if archive is not None:
        if campaign.bindings is None or not campaign.bindings.has(archive.source):
            found.append((("office", "archive", "source"), "archive_source_unbound", {"source": archive.source}))
        if archive.deadline not in campaign.deadlines:
            found.append((("office", "archive", "deadline"), "archive_deadline_unknown",
                          {"deadline": archive.deadline, "known": "、".join(campaign.deadlines)}))
    for i, city in enumerate(campaign.outside_scheme):
        if city not in campaign.cities:
            found.append((("outside_scheme", i), "outside_scheme_city", {"city": city}))
    return found


#: What each derived variable of the priority rules (``spec.RULE_VARIABLES``) reads: the (kind of form,
#: meaning) pairs it counts, of which at least one must be bound, and the ``sampling.facts`` list it needs
#: (None: none). A variable whose sources are all unbound would be a column of zeros nobody noticed.
RULE_READS: dict[str, tuple[tuple[tuple[str, str], ...], str | None]] = {
    "checked_on_site": ((("checks", "method"),), "on_site"),
    "provider_failed": ((("checks", "conclusion"), ("inspections", "conclusion")), "fail"),
    "complaints": ((("complaints", "voucher"), ("checks", "complaint")), None),
}


def rule_problems(campaign: CampaignSpec, bindings: Bindings) -> list[tuple[tuple, str, dict]]:
    """A priority rule's ``when`` names a derived variable the campaign cannot work out: none of its
    forms or fields is bound, or the ``sampling.facts`` list it reads is empty."""
    found: list[tuple[tuple, str, dict]] = []
    facts = campaign.sampling.facts
    for i, rule in enumerate(campaign.sampling.priority_rules):
        at = ("sampling", "priority_rules", i, "when")
        for name in sorted(rule.expression.names & RULE_READS.keys()):
            sources, listed = RULE_READS[name]
            if not any(bindings.has(kind) and bindings.of(kind).key(meaning) is not None for kind, meaning in sources):
                where = "、".join(f"bindings.{kind}.fields.{meaning}" for kind, meaning in sources)
                found.append((at, "rule_fact_unbound", {"field": rule.key, "name": name, "sources": where}))
            if listed is not None and not getattr(facts, listed):
                found.append((at, "rule_fact_list_empty", {"field": rule.key, "name": name, "listed": listed}))
    return found


def register_problems(registers: Registers, bindings: Bindings | None, forms: dict[str, FormSpec]) -> list[tuple[tuple, str, dict]]:
    """Each register declares exactly the column meanings the code reads, no header twice, scope words
    that do not contradict each other, and years its form's year field can hold."""
    found: list[tuple[tuple, str, dict]] = []
    for kind, needs in REGISTER_NEEDS.items():
        register, at = registers.of(kind), ("registers", kind)
        for meaning in register.columns:
            if meaning not in needs:
                found.append((at + ("columns", meaning), "register_unknown_meaning",
                              {"register": kind, "meaning": meaning, "known": "、".join(needs)}))
        missing = [m for m in needs if m not in register.columns]
        if missing:
            found.append((at + ("columns",), "register_missing", {"register": kind, "missing": "、".join(missing)}))
        seen: dict[str, str] = {}
        for meaning, headers in register.columns.items():
            if not headers:
                found.append((at + ("columns", meaning), "register_no_header", {"register": kind, "meaning": meaning}))
            for header in headers:
                if header in seen or header in register.state.headers:
                    found.append((at + ("columns", meaning), "register_header_twice", {"register": kind, "header": header}))
                seen[header] = meaning
        both = sorted(set(register.state.in_scope) & set(register.state.excluded))
        if both:
            found.append((at + ("state",), "register_scope_both", {"register": kind, "words": "、".join(both)}))
        form_binding = bindings.of(REGISTER_FORMS[kind]) if bindings is not None else None
        form = forms.get(form_binding.form) if form_binding is not None else None
        year_key = form_binding.key("year") if form_binding is not None else None
        year_field = _plain_fields(form).get(year_key) if form is not None and year_key else None
        if year_field is not None and year_field.choices:
            for i, year in enumerate(register.years):
                if year not in year_field.choices:
                    found.append((at + ("years", i), "register_year", {"register": kind, "year": year, "key": year_key,
                                                                       "choices": "、".join(year_field.choices)}))
    return found



def rectification_problems(campaign: CampaignSpec, bindings: Bindings | None, forms: dict[str, FormSpec]) -> list[tuple[tuple, str, dict]]:
    """The ``rectification:`` section against the bindings and the calendar: each rule reads a bound kind
    of form, names in ``when`` only meanings that kind binds, compares a choice meaning only with one of
    its choice meanings (a choice field without bound meanings: with one of the field's words), names a
    bound responsible party (a firm's with its provider bound: the provider acts for it) and a source with a
    bound city; the default due date is not before the last
    phase starts (items are generated then at the earliest: a due date before an item's creation)."""
    section: Rectification = campaign.rectification
    found: list[tuple[tuple, str, dict]] = []
    last = campaign.phases[-1] if campaign.phases else None
    if last is not None and section.due < last.start:
        found.append((("rectification", "due"), "rectification_due_early",
                      {"due": section.due.isoformat(), "phase": last.name, "start": last.start.isoformat()}))
    if bindings is None:  # a campaign without bindings is refused as such (campaign_no_bindings)
        return found
    for i, rule in enumerate(section.rules):
        at = ("rectification", "rules", i)
        if not bindings.has(rule.source):
            found.append((at + ("source",), "rectification_source_unbound", {"rule": rule.key, "source": rule.source}))
            continue
        binding, needs = bindings.of(rule.source), NEEDS[rule.source]
        form = forms.get(binding.form)
        for name in sorted(rule.expression.functions - FUNCTIONS.keys()):
            found.append((at + ("when",), "unknown_function", {"field": rule.key, "attr": "when", "ref": name}))
        for name in sorted(rule.expression.names):
            if name not in needs:
                found.append((at + ("when",), "rectification_unknown_meaning",
                              {"rule": rule.key, "name": name, "source": rule.source, "known": "、".join(needs)}))
            elif binding.key(name) is None:
                found.append((at + ("when",), "rectification_meaning_unbound",
                              {"rule": rule.key, "name": name, "what": needs[name].what, "source": rule.source}))
        fields = _plain_fields(form) if form is not None else {}
        kinds = {name: ("text" if binding.words(name) else _kinds([fields[binding.key(name)]]).get(binding.key(name)))
                 for name in rule.expression.names if name in needs and binding.key(name) in fields}
        if len(kinds) == len(rule.expression.names):  # every name known: what the rule computes is known too
            mistakes = rule.expression.type_problems(kinds)
            ends = rule.expression.result_kinds(kinds) - {None, "bool"}
            if mistakes or ends:
                detail = "；".join(mistakes) or "结果应为是/否，这里有的是" + "、".join(KIND_WORDS[k] for k in sorted(ends))
                found.append((at + ("when",), "rectification_when_type", {"rule": rule.key, "detail": detail}))
        for name, value in _compared_words(rule.when):
            if name not in needs or binding.key(name) is None:
                continue  # named above
            known = _choices_of(binding, form, name)
            if known is not None and value not in known:
                found.append((at + ("when",), "rectification_choice",
                              {"rule": rule.key, "name": name, "value": value, "known": "、".join(known) or "（无）"}))
        if rule.responsible not in needs:
            found.append((at + ("responsible",), "rectification_party_unknown",
                          {"rule": rule.key, "party": rule.responsible, "source": rule.source}))
        elif binding.key(rule.responsible) is None:
            found.append((at + ("responsible",), "rectification_party_unbound",
                          {"rule": rule.key, "party": rule.responsible, "what": needs[rule.responsible].what, "source": rule.source}))
        elif rule.responsible == "firm" and binding.key("provider") is None:  # a firm's item is worked by its provider
            found.append((at + ("responsible",), "rectification_firm_no_provider", {"rule": rule.key, "source": rule.source}))
        if binding.key("city") is None:
            found.append((at + ("source",), "rectification_no_city", {"rule": rule.key, "source": rule.source}))
    found += outcome_problems(section.outcomes, bindings)
    for i, outcome in enumerate(section.outcomes):  # a word no entry can have lists nobody, silently
        kind = outcome.form_kind
        if kind is None or not bindings.has(kind):
            continue  # named by outcome_problems
        binding = bindings.of(kind)
        for name, value in _compared_words(outcome.when):
            if name not in OUTCOME_MEANINGS.get(outcome.of, ()) or binding.key(name) is None:
                continue
            known = _choices_of(binding, forms.get(binding.form), name)
            if known is not None and value not in known:
                found.append((("rectification", "outcomes", i, "when"), "rectification_choice",
                              {"rule": outcome.key, "name": name, "value": value, "known": "、".join(known) or "（无）"}))
    return found


def _choices_of(binding: FormBinding, form: FormSpec | None, meaning: str) -> tuple[str, ...] | None:
    """What a text compared with ``meaning`` may be: its choice meanings when the binding declares them,
    else the words of the bound choice field; None when the field offers no choices (any text may do)."""
    if binding.words(meaning):
        return tuple(binding.words(meaning))
    spec = _plain_fields(form).get(binding.key(meaning)) if form is not None else None
    return tuple(spec.choices) if spec is not None and spec.choices else None


def _compared_words(text: str) -> list[tuple[str, str]]:
    """(name, text) for every text constant ``text`` compares a bare name with (``==``, ``!=``, ``in``,
    ``not in``, a list or tuple of texts on the other side), in the order written.

    >>> _compared_words("conclusion in ['fail', 'basic'] or status == '到期未验收' or filled(problems)")
    [('conclusion', 'fail'), ('conclusion', 'basic'), ('status', '到期未验收')]
    """
    found: list[tuple[str, str]] = []
    for node in ast.walk(parse_expression(text)):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        for a, b in zip(sides, sides[1:]):
            for name, other in ((a, b), (b, a)):
                if isinstance(name, ast.Name):
                    items = other.elts if isinstance(other, (ast.List, ast.Tuple)) else [other]
                    found += [(name.id, item.value) for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]
    return found
