"""What a viewer of the progress board may see, and the narrowing of the board's frames to it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lib.campaign.register.reconcile import REGISTER_FACTS, normalize_name_text
from lib.core.records import Actor


@dataclass(frozen=True)
class Scope:
    """What a viewer may see: everything, one city, or one organisation's own rows."""

    kind: str = "all"  # all / city / provider / lead_unit
    city: str = ""
    org: str = ""
    account: str = ""

    @property
    def label(self) -> str:
        return {"all": "全省", "city": f"{self.city}市", "provider": self.org, "lead_unit": self.org}.get(self.kind, "")


def scope_for(actor: Actor) -> Scope:
    """The board scope of an actor: province (and admin, inspector) see all; a city its own city;
    a provider or lead unit its own organisation.

    >>> scope_for(Actor("city_广州", "city", "广州市工业和信息化局", "广州")).kind
    'city'
    """
    if actor.role == "city":
        return Scope("city", city=actor.city)
    if actor.role in ("provider", "lead_unit"):
        return Scope(actor.role, org=normalize_name_text(actor.org), account=actor.account)
    return Scope("all")


def scope_units(units: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The units (english columns) ``scope`` may see."""
    if scope.kind == "city":
        return units[units["city"] == scope.city]
    if scope.kind in ("provider", "lead_unit"):
        form = "att1" if scope.kind == "provider" else "att2"
        return units[(units["form"] == form) & ((units["unit"] == scope.org) | (units["owner"] == scope.account))]
    return units


def scope_rows(rows: pd.DataFrame, scope: Scope, org_col: str | None) -> pd.DataFrame:
    """The detail rows (Chinese columns) ``scope`` may see; ``org_col`` names the organisation a
    provider or lead unit is matched on (None: such viewers see none of them)."""
    if scope.kind == "city":
        return rows[rows["地市"] == scope.city]
    if scope.kind in ("provider", "lead_unit"):
        if org_col is None or org_col not in rows:
            return rows.iloc[0:0]
        return rows[(rows[org_col] == scope.org) | (rows["填报账号"] == scope.account)]
    return rows


def scope_issues(issues: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    """The reconciliation issues ``scope`` may see: a lead unit sees none (they concern 附件1).
    A provider does not see the register's facts of an entry the register gives another provider,
    nor a city those of an entry in another city (a filing of a voucher listed elsewhere)."""
    if scope.kind == "city":
        return _without_facts(issues[issues["地市"] == scope.city], "台账地市", scope.city)
    if scope.kind == "provider":
        return _without_facts(issues[(issues["服务商"] == scope.org) | (issues["填报账号"] == scope.account)], "台账服务商", scope.org)
    if scope.kind == "lead_unit":
        return issues.iloc[0:0]
    return issues


def _without_facts(issues: pd.DataFrame, column: str, own: str) -> pd.DataFrame:
    """``issues`` with the register's facts blanked where the entry's ``column`` is not ``own``."""
    others = (issues[column] != own) & (issues[column] != "")
    if not others.any():
        return issues
    issues = issues.copy()
    issues.loc[others, REGISTER_FACTS] = None
    return issues
