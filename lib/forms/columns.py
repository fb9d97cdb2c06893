"""Map a form to the sheet the store keeps for it: stable keys bound to Chinese headers."""

from __future__ import annotations

from lib.store.base import Column, SheetSpec

from .spec import FormSpec


def sheet_spec(form: FormSpec) -> SheetSpec:
    """The sheet of ``form``: one column per top-level field, headed by its label.

    Labels may repeat across sections, so a repeated label is suffixed with its key to keep
    every header unique in the workbook.
    """
    seen: dict[str, int] = {}
    columns = []
    for spec in form.all_fields():
        label = spec.label
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label}（{spec.key}）"
        columns.append(Column(key=spec.key, label=label, kind=spec.kind))
    return SheetSpec(form_id=form.id, title=form.short_title, columns=tuple(columns))
