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
from lib.sampling.inspectors import party_key
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
    places: tuple[str, ...] = ()  # the campaign's cities, which a name may lead with (``same_party``)

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
        return cls(register, filers, tuple(catalog.campaign.cities))

    def provider(self, voucher: Any, typed: Any = None) -> str:
        """The provider of ``voucher`` as the data give it: the register's; else the organisation that filed it
        when it may stand for the name ``typed`` (``same_party``); else "" (the typed name is then the caller's)."""
        key = code_text(voucher)
        if not key:
            return ""
        filer = self.filers.get(key, "")
        return self.register.get(key) or (filer if same_party(filer, typed, self.places) else "")


def acting(orgs: Orgs, vouchers: Vouchers, kind: str, *, name: Any, code: Any = None, voucher: Any = None) -> tuple[str, str]:
    """(the acting organisation, how it was found: one of the module's BY_* or UNMATCHED) of a party of
    ``kind`` typed as ``name`` (a firm's item: the provider typed beside it), credit code ``code`` (the
    party's: counted only where the party acts itself), on ``voucher``."""
    if kind != "firm":
        found = orgs.coded(kind, code)
        if found:
            return found, BY_CODE
    key = code_text(voucher) if kind != "lead_unit" and voucher is not None else ""
    # The province's register first; then the name as typed, when an account bears it; the voucher's filer
    # only last — anyone may file a row with another's voucher, so a filer must never outrank the name the
    # inspector or the city wrote down (attack P1).
    found = orgs.known(kind, vouchers.register.get(key)) if key else ""
    if found:
        return found, BY_REGISTER
    found = orgs.known(kind, name)
    if found:
        return found, BY_NAME
    filer = vouchers.filers.get(key, "") if key else ""
    found = orgs.known(kind, filer) if same_party(filer, name, vouchers.places) else ""
    return (found, BY_FILER) if found else (str(name or "").strip(), UNMATCHED)


def same_party(filer: Any, typed: Any, places: Iterable[str] = ()) -> bool:
    """Whether the organisation that filed a voucher may stand for the name someone typed for its party:
    the name is blank, or both fold to one (``lib.sampling.inspectors.party_key`` with the campaign's cities
    ``places``: 云智科技 for 广州云智科技有限公司), or one folded name (two characters at least) begins the other.
    Another organisation's filing of the voucher never takes the party over (attack P1).

    >>> same_party("甲城云智科技有限公司", "云智科技", ("甲城",)), same_party("乙云科技有限公司", "乙云")
    (True, True)
    >>> same_party("乙公司", ""), same_party("丙数据科技有限公司", "甲云科技有限公司")
    (True, False)
    """
    if not str(typed or "").strip():
        return True
    places = tuple(places)
    if not str(filer or "").strip():
        return False
    a, b = sorted((party_key(str(filer), places), party_key(str(typed), places)), key=len)
    return a == b or (len(a) >= 2 and b.startswith(a))  # 乙云 typed for 乙云科技有限公司: a short form of the name


def unanswered(orgs: Orgs, kind: Any, actor_org: Any) -> bool:
    """Whether no account acts as ``actor_org`` for a party of ``kind`` (blank, or no account's organisation)."""
    return kind not in ACTING_ROLE or not orgs.known(kind, actor_org)
