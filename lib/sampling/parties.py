"""Who the sampled projects name, for the inspector draw's 回避: the names and 统一社会信用代码 of their
firms, providers and lead units, looked up in the registers in force and the filed forms, and the
declared conflicts that name no organisation the campaign knows (a typo, caught before the draw).

A drawn row (``lib.sampling.record.DRAW_ROWS``) carries its firm's and provider's names only; the
codes are found by its voucher, in the voucher register in force (the firm's code) and in the filed
rows of the projects form (the firm's and, where bound, the provider's code). A benchmark project's
lead unit (the benchmark register in force, the filed benchmark form) is a party of a sampled project
when it is the project's firm: the same name as ``party_key`` folds it, or the same code. So a conflict
declared with a lead unit or with a code keeps its inspector away exactly as one declared by the
firm's name does (``lib.sampling.inspectors``: a declared name or code matches a party's name or code).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from lib.auth.accounts import CONFLICT_FIELDS, Account
from lib.campaign.bound import meaning_frame
from lib.campaign.register.kinds import register_kinds
from lib.campaign.register.reconcile import code_text
from lib.campaign.register.store import IMPORTS_SHEET, current_register
from lib.core import roles
from lib.core.statuses import FILED
from lib.forms.loader import FormCatalog
from lib.sampling.inspectors import party_key
from lib.store.base import Store


def places(catalog: FormCatalog) -> tuple[str, ...]:
    """The place names ``party_key`` drops from a name: the campaign's cities."""
    return tuple(catalog.campaign.cities)


def _texts(values) -> list[str]:
    return ["" if v is None or v != v else str(v).strip() for v in values]


def _register(store: Store, catalog: FormCatalog, kind: str, meanings: tuple[str, ...]) -> pd.DataFrame:
    """The entries in force of the register ``kind`` ("vouchers" / "projects"), the ``meanings`` it has."""
    kinds = register_kinds(catalog.campaign)
    if kind not in kinds:
        return pd.DataFrame(columns=list(meanings))
    register = current_register(store.snapshot(kinds[kind].sheet_id), store.snapshot(IMPORTS_SHEET.form_id), kinds[kind])
    return register.reindex(columns=list(meanings))


def _filed(store: Store, catalog: FormCatalog, kind: str, meanings: tuple[str, ...]) -> pd.DataFrame:
    """The filed rows of the form bound as ``kind``, its ``meanings`` (an unbound one empty)."""
    binding = catalog.bindings.of(kind)
    rows = meaning_frame(store.snapshot(binding.form), binding, meanings)
    rows = rows[rows["_status"].isin(FILED)] if "_status" in rows else rows.iloc[0:0]
    return rows.reindex(columns=list(meanings))


@dataclass(frozen=True)
class Known:
    """What the campaign's data say of organisations: codes by voucher, and the benchmark lead units."""

    codes: dict[str, set[str]]  # voucher (``code_text``) -> its firm's and provider's codes
    firm_codes: dict[str, set[str]]  # voucher -> its firm's codes only
    leads: list[tuple[str, str]]  # (lead unit's name, its code)
    names: set[str]  # every organisation name and code the registers and forms hold

    @classmethod
    def of(cls, store: Store, catalog: FormCatalog) -> Known:
        codes: dict[str, set[str]] = {}
        firm_codes: dict[str, set[str]] = {}
        names: set[str] = set()
        vouchers = _register(store, catalog, "vouchers", ("voucher", "firm", "firm_code", "provider"))
        projects = _filed(store, catalog, "projects", ("voucher", "firm", "firm_code", "provider", "provider_code"))
        for table, firm_columns, other_columns in ((vouchers, ("firm_code",), ()), (projects, ("firm_code",), ("provider_code",))):
            voucher = [code_text(v) for v in table["voucher"]]
            for column in (*firm_columns, *other_columns):
                for v, code in zip(voucher, _texts(table[column])):
                    if v and code:
                        codes.setdefault(v, set()).add(code)
                        if column in firm_columns:
                            firm_codes.setdefault(v, set()).add(code)
            for column in table.columns:
                names.update(t for t in _texts(table[column]) if t and column != "voucher")
        leads: list[tuple[str, str]] = []
        for table in (_register(store, catalog, "projects", ("lead_unit", "lead_unit_code")),
                      _filed(store, catalog, "benchmarks", ("lead_unit", "lead_unit_code"))):
            leads += list(zip(_texts(table["lead_unit"]), _texts(table["lead_unit_code"])))
        leads = sorted(set(leads))
        names.update(t for pair in leads for t in pair if t)
        return cls(codes, firm_codes, leads, names)


def sampled_parties(rows: Iterable[Mapping], known: Known, where: Iterable[str] = ()) -> dict[str, list[str]]:
    """``cities_sample`` for ``inspectors.draw_groups``: city -> the names and codes of its sampled
    projects' provider, firm (with their codes, by voucher) and the lead units that are the firm (by
    ``party_key`` with ``where``, or by code), each once, sorted. Every city with a row is in it.

    >>> known = Known({"V-1": {"C1", "P1"}}, {"V-1": {"C1"}}, [("甲市乙厂有限公司", "L9"), ("丙厂", "C1"), ("丁厂", "X")], set())
    >>> sampled_parties([{"voucher": "v-1", "city": "甲市", "provider": "戊公司", "firm": "乙厂"}], known, ("甲市",))
    {'甲市': ['C1', 'L9', 'P1', '丙厂', '乙厂', '戊公司', '甲市乙厂有限公司']}
    """
    where = tuple(where)
    lead_keys = [(party_key(name, where), code_text(code), name, code) for name, code in known.leads]
    out: dict[str, set[str]] = {}
    for row in rows:
        found = out.setdefault(str(row.get("city") or ""), set())
        voucher = code_text(row.get("voucher"))
        firm = _texts([row.get("firm")])[0]
        found.update(t for t in (_texts([row.get("provider")])[0], firm) if t)
        found.update(known.codes.get(voucher, ()))
        firm_key, firm_codes = party_key(firm, where) if firm else "", {code_text(c) for c in known.firm_codes.get(voucher, ())}
        for key, code, name, raw_code in lead_keys:
            if (firm_key and key == firm_key) or (code and code in firm_codes):
                found.update(t for t in (name, raw_code) if t)
    return {city: sorted(names) for city, names in out.items()}


@dataclass(frozen=True)
class Unmatched:
    """A declared conflict that names no organisation of the campaign's data (a typo?)."""

    account: str
    name: str  # the inspector's display name
    kind: str  # the conflict kind's label (``CONFLICT_FIELDS``)
    declared: str


def unmatched_conflicts(accounts: Iterable[Account], known: Known, where: Iterable[str] = ()) -> list[Unmatched]:
    """The enabled inspectors' declared conflicts that match no name or code the campaign's registers
    and forms hold (compared by ``party_key``), in account order: shown to the province before a draw,
    so that a mistyped name, which would keep nobody away, is caught.

    >>> a = Account("i1", roles.INSPECTOR, conflict_firms=("乙厂有限公司", "乙场"), conflict_providers=("c1",))
    >>> [(u.kind, u.declared) for u in unmatched_conflicts([a], Known({}, {}, [], {"乙厂", "C1"}))]
    [('回避的企业', '乙场')]
    """
    where = tuple(where)
    keys = {party_key(n, where) for n in known.names}
    out = []
    for a in sorted(accounts, key=lambda a: a.account):
        if a.role != roles.INSPECTOR or a.disabled:
            continue
        for field, label in CONFLICT_FIELDS.items():
            out += [Unmatched(a.account, a.name, label, n) for n in getattr(a, field) if party_key(n, where) not in keys]
    return out
