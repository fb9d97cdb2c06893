"""Checks across files: the campaign's bindings against the forms they bind.

A binding is right when its form exists, is filed by the declared role and has a deadline the
campaign declares (a bound form without one could never be late), every meaning the code needs is
bound to a field of its own that exists outside a table and has a type that fits, and every choice
meaning names a word of the field's choices that no other choice meaning of it names. Each problem
carries the path of the YAML key at fault (``("bindings", "projects", "fields", "voucher")``), so the
loader names file, line and key.
"""

from __future__ import annotations

from collections.abc import Collection

from .bindings import DEADLINED, NEEDS, REGISTER_NEEDS, Bindings, FormBinding, Registers
from .spec import CampaignSpec, FieldSpec, FormSpec

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

