"""Map a form to the sheet the store keeps for it: stable keys bound to Chinese headers."""

from __future__ import annotations

from lib.core.values import TWO_DECIMALS
from lib.store.base import Column, SheetSpec

from .spec import FormSpec


def sheet_spec(form: FormSpec) -> SheetSpec:
    """The sheet of ``form``: one column per top-level field, headed by its label.

    Labels may repeat across sections, so a repeated label is suffixed with its key to keep
    every header unique in the workbook. A money or percent column says so (``Column.display``): its
    numbers read with two decimals.
    """
    seen: dict[str, int] = {}
    columns = []
    for spec in form.all_fields():
        label = spec.label
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label}（{spec.key}）"
        display = spec.type if spec.type in TWO_DECIMALS else ""
        columns.append(Column(key=spec.key, label=label, kind=spec.kind, display=display))
    return SheetSpec(form_id=form.id, title=form.short_title, columns=tuple(columns))
