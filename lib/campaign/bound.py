"""A form's rows in the campaign's own words: the one place campaign code turns field keys into meanings.

Board, register import and reconciliation never name a form's field keys: they take a snapshot
through ``meaning_frame``, which keeps the system columns (``_id``, ``_status``, ``_owner`` ...) and
renames each bound field to its meaning (``voucher``, ``firm``, ``subsidy`` ...; see
``lib.forms.bindings.NEEDS``). Choice words stay the campaign's (a table shows them as filed); code
that needs one asks the binding (``binding.word("usage", "stopped")``). The bindings were checked
against the forms when the catalog loaded, so a bound field is a column of the form's sheet; a
meaning left unbound (an optional one) or a column the sheet does not have yet (no row was ever
written) is a column of missing values, shown as not collected.

>>> from lib.forms.bindings import FormBinding
>>> b = FormBinding(form="f", filed_by="provider", fields={"voucher": "coupon", "firm": "company"})
>>> snap = pd.DataFrame({"_id": ["r1"], "_status": ["已提交"], "coupon": ["A-1"], "other": [1]})
>>> meaning_frame(snap, b).columns.tolist()
['_id', '_status', 'voucher', 'firm']
>>> bool(meaning_frame(snap, b)["firm"].isna().all())
True
"""

from __future__ import annotations

import pandas as pd

from lib.forms.bindings import FormBinding

#: The system columns a meaning frame keeps (those the snapshot has), and the filing time the board
#: adds (``lib.campaign.board.history``).
SYSTEM_COLUMNS = ("_id", "_rev", "_status", "_form_version", "_owner", "_org", "_city", "_created_at",
                  "_updated_at", "_updated_by", "_filed_at")


def meaning_frame(frame: pd.DataFrame | None, binding: FormBinding, meanings: tuple[str, ...] | None = None) -> pd.DataFrame:
    """``frame`` (a form's snapshot) with its system columns and, for each meaning of ``binding``
    (or only ``meanings``), the bound field's column under the meaning's name."""
    frame = frame if frame is not None else pd.DataFrame()
    wanted = tuple(binding.fields) if meanings is None else meanings
    out = {c: frame[c] for c in SYSTEM_COLUMNS if c in frame}
    for meaning in wanted:
        key = binding.key(meaning)
        out[meaning] = frame[key] if key is not None and key in frame else pd.Series(None, index=frame.index, dtype=object)
    return pd.DataFrame(out, index=frame.index)
