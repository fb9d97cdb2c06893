"""Checks across files: the campaign's bindings against the forms they bind.

A binding is right when its form exists and is filed by the declared role, every meaning the code
needs is bound to a field that exists outside a table and has a type that fits, and every choice
meaning names one of the field's choices. Each problem carries the path of the YAML key at fault
(``("bindings", "projects", "fields", "voucher")``), so the loader names file, line and key.
"""

from __future__ import annotations

from .bindings import FORM_ROLES, NEEDS, Bindings, FormBinding
from .spec import FieldSpec, FormSpec


def _plain_fields(form: FormSpec) -> dict[str, FieldSpec]:
    """Field key -> spec of the form's fields outside tables (a binding names a column of the row)."""
    return {f.key: f for section in form.sections for f in section.fields}


def binding_problems(bindings: Bindings, forms: dict[str, FormSpec], roles: dict[str, str]) -> list[tuple[tuple, str, dict]]:
    """Problems of ``bindings`` against ``forms`` (form id -> spec) and the campaign's ``roles``:
    (path inside campaign.yaml, error code, message params), in the order of the file."""
    found: list[tuple[tuple, str, dict]] = []
    for role in FORM_ROLES:
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
        found += _field_problems(role, binding, form, at)
    return found


def _field_problems(role: str, binding: FormBinding, form: FormSpec, at: tuple) -> list[tuple[tuple, str, dict]]:
    needs, fields, found = NEEDS[role], _plain_fields(form), []
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
        for choice, word in words.items():
            if choice not in need.choices:
                found.append((path + (choice,), "binding_unknown_choice", {"binding": role, "meaning": meaning, "choice": choice,
                                                                           "known": "、".join(need.choices)}))
            elif spec is not None and word not in available:
                found.append((path + (choice,), "binding_choice_word", {"binding": role, "meaning": meaning, "key": key,
                                                                        "word": word}))
    for meaning, need in needs.items():
        if need.choices and meaning in binding.fields:
            missing = [c for c in need.choices if c not in binding.choices.get(meaning, {})]
            if missing:
                found.append((at + ("choices",), "binding_choices_missing", {"binding": role, "meaning": meaning,
                                                                             "missing": "、".join(missing)}))
    return found
