"""The on-site inspection record's companions: the sampled projects a group may still inspect, what the provider declared for one, and where the inspection disagrees with it, by meaning.

Everything goes through the bindings: the inspections form is the one bound as ``inspections``, the
provider's declaration the ``projects`` form's row of the same voucher (``meaning_frame``), and usage
words are compared by what they mean (``in_use``, ``low_use``, ``idle``, ``stopped``), so a campaign
whose two forms word usage differently still compares them. The caller passes rows already read through
``lib.auth.scope`` (an inspector reads only its sampled projects) and the projects of the draw in force
as the sampling recorded them (``voucher``, ``city``, ``firm``, ``provider``); nothing here reads the store.

>>> from lib.forms.bindings import FormBinding
>>> declared = FormBinding(form="p", filed_by="provider", fields={"usage": "state"}, choices={"usage": {"idle": "闲置"}})
>>> inspected = FormBinding(form="i", filed_by="inspector", fields={"usage": "seen"}, choices={"usage": {"idle": "未使用"}})
>>> usage_mismatch("闲置", "未使用", declared, inspected) is None
True
>>> inspected = FormBinding(form="i", filed_by="inspector", fields={"usage": "seen"},
...                         choices={"usage": {"idle": "未使用", "in_use": "在用"}})
>>> usage_mismatch("闲置", "在用", declared, inspected)
('闲置', '在用')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lib.auth.policy import comparable
from lib.campaign.bound import meaning_frame
from lib.core.records import Record
from lib.core.statuses import FILED, WITHDRAWN
from lib.core.values import is_missing
from lib.forms.bindings import FormBinding

#: What the declaration shows, by meaning of the projects form, in order (those the campaign binds).
DECLARED = ("firm", "provider", "usage", "active_users", "subsidy")
#: The meanings a chosen project fills into an empty inspection field (those the campaign binds).
FILLED = ("voucher", "city", "firm", "provider")


@dataclass(frozen=True)
class Candidate:
    """A project of the draw in force a group may inspect: as the sampling recorded it."""

    voucher: str
    city: str
    firm: str = ""
    provider: str = ""

    @property
    def caption(self) -> str:
        """One line for a picker: voucher, firm, provider, city.

        >>> Candidate("V-1", "甲", "某厂", "某服务商").caption
        'V-1｜某厂｜某服务商｜甲'
        """
        return "｜".join(t for t in (self.voucher, self.firm, self.provider, self.city) if t)


def _text(value: Any) -> str:
    return "" if value is None or is_missing(value) else str(value).strip()


def records_frame(records: Iterable[Record]) -> pd.DataFrame:
    """Rows read through the policy as a snapshot-shaped frame (system columns and field keys), for
    ``meaning_frame``."""
    return pd.DataFrame([{"_id": r.id, "_status": r.status, "_updated_at": r.updated_at, **r.values} for r in records])


def candidates(drawn: Iterable[Mapping[str, Any]], sampled: Mapping[str, frozenset[str]],
               inspections: Iterable[Record], binding: FormBinding) -> list[Candidate]:
    """The projects of ``drawn`` (the draw in force) sampled in one of ``sampled``'s cities (city ->
    vouchers, as ``comparable`` writes them: the group's), that no live (not withdrawn) row of
    ``inspections`` (the inspections form, bound by ``binding``) names yet, by city then voucher.

    >>> b = FormBinding(form="i", filed_by="inspector", fields={"voucher": "no"})
    >>> drawn = [{"voucher": "V-2", "city": "甲"}, {"voucher": "V-1", "city": "甲", "firm": "厂"}, {"voucher": "V-3", "city": "乙"}]
    >>> [c.voucher for c in candidates(drawn, {"甲": frozenset({"v-1", "v-2"})}, [], b)]
    ['V-1', 'V-2']
    """
    key = binding.key("voucher")
    done = {comparable(r.values.get(key)) for r in inspections if r.status != WITHDRAWN}
    out = [Candidate(_text(row.get("voucher")), _text(row.get("city")), _text(row.get("firm")), _text(row.get("provider")))
           for row in drawn
           if comparable(row.get("voucher")) in sampled.get(_text(row.get("city")), frozenset())
           and comparable(row.get("voucher")) not in done]
    return sorted(out, key=lambda c: (c.city, c.voucher))


def fills(candidate: Candidate, binding: FormBinding) -> dict[str, str]:
    """Field key -> value a chosen project gives the inspection form (``FILLED``, the meanings bound).

    >>> fills(Candidate("V-1", "甲", "厂", "商"), FormBinding(form="i", filed_by="inspector", fields={"voucher": "no", "city": "c"}))
    {'no': 'V-1', 'c': '甲'}
    """
    values = {"voucher": candidate.voucher, "city": candidate.city, "firm": candidate.firm, "provider": candidate.provider}
    return {binding.key(m): values[m] for m in FILLED if binding.key(m) and values[m]}


@dataclass(frozen=True)
class Declaration:
    """What the provider declared for one voucher: ``facts`` meaning -> value (those bound, in
    ``DECLARED`` order), the row's id and status, and the usage word as declared."""

    row_id: str
    status: str
    facts: dict[str, Any]
    usage: str = ""


def declaration(projects: Iterable[Record], binding: FormBinding, voucher: Any) -> Declaration | None:
    """The provider's declaration of ``voucher`` among ``projects`` (the projects form's rows the
    viewer reads): its latest FILED row (``statuses.FILED``), compared as ``comparable``; None when
    there is none. A draft is never the declaration: the sample is public, and a provider must not
    replace what it filed by saving a draft before the visit.

    >>> import datetime as dt
    >>> from dataclasses import replace
    >>> b = FormBinding(form="p", filed_by="provider", fields={"voucher": "no", "usage": "u"})
    >>> row = Record("p", "r1", 1, "已提交", 1, "o", "", "", dt.datetime(2020, 9, 1), dt.datetime(2020, 9, 1), "o", {"no": "V-1", "u": "闲置"})
    >>> declaration([row], b, " v-1 ").usage, declaration([row], b, "V-2")
    ('闲置', None)
    >>> declaration([replace(row, status="草稿")], b, "V-1") is None  # a draft is not filed
    True
    """
    wanted = comparable(voucher)
    if not wanted:
        return None
    rows = [r for r in projects if r.status in FILED and comparable(r.values.get(binding.key("voucher"))) == wanted]
    if not rows:
        return None
    latest = max(rows, key=lambda r: r.updated_at)
    shown = tuple(m for m in DECLARED if binding.key(m))
    frame = meaning_frame(records_frame([latest]), binding, shown)
    facts = {m: frame[m].iloc[0] for m in shown}
    return Declaration(latest.id, latest.status, facts, _text(facts.get("usage")))


def usage_meaning(word: Any, binding: FormBinding) -> str | None:
    """The meaning (``in_use`` …) of the usage word ``word`` in ``binding``'s form; None for a blank
    or a word the binding does not name."""
    text = _text(word)
    return next((meaning for meaning, w in binding.words("usage").items() if w == text), None) if text else None


def usage_mismatch(declared: Any, inspected: Any, projects: FormBinding, inspections: FormBinding) -> tuple[str, str] | None:
    """(declared word, inspected word) when the two usage words mean different things; None when they
    mean the same, or either is blank or unbound."""
    said, seen = usage_meaning(declared, projects), usage_meaning(inspected, inspections)
    if said is None or seen is None or said == seen:
        return None
    return _text(declared), _text(inspected)
