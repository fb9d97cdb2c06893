"""The campaign as the progress board sees it: the forms it follows (through the bindings), cities,
phases, deadlines, who files each form and what its bound fields are called."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from lib.forms.bindings import FORM_ROLES, NEEDS, Bindings


@dataclass(frozen=True)
class Calendar:
    """What the board needs of the campaign: its bindings (which form is the projects list, the
    benchmark reports, the checks), cities, phases, each bound form's title and deadline, and the
    Chinese names a table shows for the bound fields and the filing roles."""

    cities: tuple[str, ...]
    titles: dict[str, str]  # form id -> short title
    deadlines: dict[str, dt.date]  # form id -> last day to submit
    bindings: Bindings
    phases: tuple[tuple[str, dt.date, dt.date], ...] = ()
    city_fields: dict[str, str] = field(default_factory=dict)  # form id -> the field placing its rows in a city
    roles: dict[str, str] = field(default_factory=dict)  # role key -> Chinese name (campaign.yaml roles:)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # kind of form -> meaning -> the field's label
    types: dict[str, dict[str, str]] = field(default_factory=dict)  # kind of form -> meaning -> the field's type
    city_unit: str | None = None  # campaign.yaml city_unit: a city's bureau, "{city}" standing for the city

    @classmethod
    def from_specs(cls, campaign, forms, bindings: Bindings | None = None) -> Calendar:
        """From a CampaignSpec and the FormSpecs of the catalog; ``bindings``: the catalog's checked
        bindings (default: the campaign's own). Only the bound forms are followed."""
        bindings = bindings if bindings is not None else campaign.bindings
        bound = {kind: bindings.of(kind) for kind in FORM_ROLES}
        forms = {f.id: f for f in forms if f.id in {b.form for b in bound.values()}}
        labels: dict[str, dict[str, str]] = {}
        types: dict[str, dict[str, str]] = {}
        for kind, binding in bound.items():
            form = forms.get(binding.form)
            fields = {f.key: f for f in form.all_fields()} if form is not None else {}
            labels[kind] = {m: fields[k].label for m, k in binding.fields.items() if k in fields}
            types[kind] = {m: fields[k].type for m, k in binding.fields.items() if k in fields}
        return cls(
            cities=tuple(campaign.cities),
            titles={fid: f.short_title for fid, f in forms.items()},
            deadlines={fid: campaign.deadlines[f.deadline] for fid, f in forms.items() if f.deadline in campaign.deadlines},
            bindings=bindings,
            phases=tuple((p.name, p.start, p.end) for p in campaign.phases),
            city_fields={fid: f.city_field() for fid, f in forms.items() if f.city_field()},
            roles=dict(campaign.roles),
            labels=labels,
            types=types,
            city_unit=campaign.city_unit,
        )

    def title(self, form_id: str) -> str:
        return self.titles.get(form_id, form_id)

    def form_id(self, kind: str) -> str:
        """The form id bound to ``kind`` (projects / benchmarks / checks)."""
        return self.bindings.of(kind).form

    @property
    def forms(self) -> tuple[str, ...]:
        """The bound form ids, in the order of ``FORM_ROLES``."""
        return tuple(self.form_id(kind) for kind in FORM_ROLES)

    def filer(self, form_id: str) -> str:
        """The Chinese name of the role that files ``form_id`` (the campaign's ``roles:``)."""
        role = next((self.bindings.of(k).filed_by for k in FORM_ROLES if self.form_id(k) == form_id), "")
        return self.roles.get(role, role)

    def filer_of(self, kind: str) -> str:
        """The Chinese name of the role that files the form bound to ``kind``: what the board's tables
        call that form's filing unit (a column, a tab, a caption).

        >>> from lib.forms import load_catalog
        >>> c = load_catalog("tests/campaigns/other")
        >>> Calendar.from_specs(c.campaign, c.forms()).filer_of("benchmarks") == c.campaign.roles["lead_unit"]
        True
        """
        return self.filer(self.form_id(kind))

    def unit_of_city(self, city):
        """A city's bureau as the board names it (``city_unit``; without one, the city and its role's
        name); ``city`` may be a text or a Series of them.

        >>> Calendar((), {}, {}, None, city_unit="{city}市某局").unit_of_city(pd.Series(["甲", "乙"])).tolist()
        ['甲市某局', '乙市某局']
        """
        before, _, after = (self.city_unit or "{city}" + self.roles.get("city", "")).partition("{city}")
        return before + city + after

    def label(self, kind: str, meaning: str) -> str:
        """What the form calls the field bound to ``meaning``; the application's word for an unbound one."""
        return self.labels.get(kind, {}).get(meaning) or NEEDS[kind][meaning].what


def phase_table(calendar: Calendar, as_of: dt.date) -> tuple[pd.DataFrame, str]:
    """The phases with their state on ``as_of`` (已结束 / 进行中 / 未开始), and the current phase's name."""
    rows = [{"阶段": name, "开始": start, "结束": end,
             "状态": "已结束" if as_of > end else ("进行中" if start <= as_of else "未开始")}
            for name, start, end in calendar.phases]
    current = next((r["阶段"] for r in rows if r["状态"] == "进行中"), "")
    return pd.DataFrame(rows, columns=["阶段", "开始", "结束", "状态"]), current
