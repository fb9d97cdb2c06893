"""Who acts on an item: the organisation a finding's typed party stands for, found among the accounts.

The inspection and 附件3 take the provider as free text, so a 简称 or a typo is the ordinary case; an item
whose acting organisation (``actor_org``) is no account's organisation could never be worked. The
organisation is found, in this order, by what identifies it best:

1. ``信用代码`` — the party's credit code (a provider or a lead unit acting itself) equals an account's;
2. ``服务券台账`` — the provider the voucher register in force gives the item's voucher is an account's
   organisation (by name as compared);
3. ``项目填报账号`` — the account that filed the projects form's row of the voucher (its organisation);
4. ``单位名称`` — the typed name itself, as ``lib.auth.policy.comparable`` compares names (the register's
   ``normalize_name`` is the same comparison, written for boards).

None found: ``UNMATCHED``, the typed name kept as ``actor_org``. Whether an item is 无对应账号 is worked out
at read against the accounts as they are then (``unanswered``): an account created later under that name
acts on it; otherwise the province names the organisation (``lib.rectification.admin.reassign``) or
cancels the item. Only accounts of the role that acts count: a
provider for a provider's or a firm's item, a lead unit for a lead unit's.

>>> from lib.core.records import Actor
>>> orgs = Orgs.of([Actor("p", "provider", "广州云智科技有限公司", org_code="91440101MA59ABCDE0")])
>>> orgs.known("provider", "广州云智科技有限公司 "), orgs.known("lead_unit", "广州云智科技有限公司")
('广州云智科技有限公司', '')
>>> acting(orgs, Vouchers({"V1": "广州云智科技有限公司"}, {}), "firm", name="云智", voucher="v1 ")
('广州云智科技有限公司', '服务券台账')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lib.auth.policy import comparable
from lib.campaign.bound import meaning_frame
from lib.campaign.register.kinds import register_kinds
from lib.campaign.register.reconcile import code_text
from lib.campaign.register.store import IMPORTS_SHEET, current_register
from lib.core.statuses import FILED
from lib.forms.loader import FormCatalog
from lib.store.base import Store

BY_CODE = "信用代码"
BY_REGISTER = "服务券台账"
BY_FILER = "项目填报账号"
BY_NAME = "单位名称"
UNMATCHED = "无对应账号"
#: A manual item whose acting organisation the province named though the records do not show it served
#: the firm (the province's reason follows), and an item the province reassigned.
BY_PROVINCE = "省厅指定"
#: The role whose accounts act for each kind of party (campaign.yaml's ``roles:`` names it).
ACTING_ROLE = {"provider": "provider", "firm": "provider", "lead_unit": "lead_unit"}


@dataclass(frozen=True)
class Orgs:
    """The organisations of the accounts that may act on an item (providers and lead units), by role:
    compared name -> the organisation as its accounts write it, credit code -> the organisation."""

    names: Mapping[tuple[str, str], str]
    codes: Mapping[tuple[str, str], str]

    @classmethod
    def of(cls, accounts: Iterable[Any]) -> Orgs:
        """From accounts (``Account`` or ``Actor``: ``role``, ``org``, ``org_code``); a disabled one is none."""
        names: dict[tuple[str, str], str] = {}
        codes: dict[tuple[str, str], str] = {}
        for a in accounts:
            if getattr(a, "disabled", False) or a.role not in ACTING_ROLE.values() or not comparable(a.org):
                continue
            names.setdefault((a.role, comparable(a.org)), a.org.strip())
            if comparable(a.org_code):
                codes.setdefault((a.role, comparable(a.org_code)), a.org.strip())
        return cls(names, codes)

    def coded(self, kind: str, code: Any) -> str:
        """The organisation with credit code ``code`` among those acting for ``kind`` ("" when none)."""
        return self.codes.get((ACTING_ROLE[kind], comparable(code)), "") if comparable(code) else ""

    def known(self, kind: str, name: Any) -> str:
        """The organisation named ``name`` among those acting for ``kind`` ("" when none)."""
        return self.names.get((ACTING_ROLE[kind], comparable(name)), "")

    def all(self, kind: str) -> list[str]:
        """Every organisation that may act for a party of ``kind``, sorted."""
        role = ACTING_ROLE[kind]
        return sorted({org for (r, _), org in self.names.items() if r == role})


def _texts(values) -> list[str]:
    return ["" if v is None or v != v else str(v).strip() for v in values]


@dataclass(frozen=True)
class Vouchers:
    """What the campaign's data say of each voucher's provider: the voucher register in force's provider,
    and the organisation of the account that filed the voucher's projects row (the first filed)."""

    register: Mapping[str, str]
    filers: Mapping[str, str]

    @classmethod
    def of(cls, store: Store, catalog: FormCatalog) -> Vouchers:
        register: dict[str, str] = {}
        kind = register_kinds(catalog.campaign).get("vouchers")
        if kind is not None:
            rows = current_register(store.snapshot(kind.sheet_id), store.snapshot(IMPORTS_SHEET.form_id), kind)
            if "provider" in rows:
                for voucher, provider in zip(_texts(rows["voucher"]), _texts(rows["provider"])):
                    if code_text(voucher) and provider:
                        register.setdefault(code_text(voucher), provider)
        filers: dict[str, str] = {}
        if catalog.bindings.has("projects"):
            binding = catalog.bindings.of("projects")
            rows = meaning_frame(store.snapshot(binding.form), binding, ("voucher",))
            if "_status" in rows and "_org" in rows:
                rows = rows[rows["_status"].isin(FILED)]
                for voucher, org in zip(_texts(rows["voucher"]), _texts(rows["_org"])):
                    if code_text(voucher) and org:
                        filers.setdefault(code_text(voucher), org)
        return cls(register, filers)

    def provider(self, voucher: Any) -> str:
        """The voucher's provider as the data give it (the register's, else its filer's organisation), "" if none."""
        key = code_text(voucher)
        return self.register.get(key) or self.filers.get(key, "") if key else ""


def acting(orgs: Orgs, vouchers: Vouchers, kind: str, *, name: Any, code: Any = None, voucher: Any = None) -> tuple[str, str]:
    """(the acting organisation, how it was found: one of the module's BY_* or UNMATCHED) of a party of
    ``kind`` typed as ``name`` (a firm's item: the provider typed beside it), credit code ``code`` (the
    party's: counted only where the party acts itself), on ``voucher``."""
    if kind != "firm":
        found = orgs.coded(kind, code)
        if found:
            return found, BY_CODE
    if kind != "lead_unit" and voucher is not None:
        key = code_text(voucher)
        for how, source in ((BY_REGISTER, vouchers.register), (BY_FILER, vouchers.filers)):
            found = orgs.known(kind, source.get(key)) if key else ""
            if found:
                return found, how
    found = orgs.known(kind, name)
    return (found, BY_NAME) if found else (str(name or "").strip(), UNMATCHED)


def unanswered(orgs: Orgs, kind: Any, actor_org: Any) -> bool:
    """Whether no account acts as ``actor_org`` for a party of ``kind`` (blank, or no account's organisation)."""
    return kind not in ACTING_ROLE or not orgs.known(kind, actor_org)
