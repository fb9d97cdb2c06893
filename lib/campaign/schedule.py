"""The campaign as the progress board sees it: the forms it follows, cities, phases, deadlines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

FORM_IDS = ("att1", "att2", "att3")


@dataclass(frozen=True)
class Calendar:
    """What the board needs of the campaign: cities, phases, each form's title and deadline."""

    cities: tuple[str, ...]
    titles: dict[str, str]
    deadlines: dict[str, dt.date]
    phases: tuple[tuple[str, dt.date, dt.date], ...] = ()
    city_fields: dict[str, str] = field(default_factory=dict)  # form id -> the field placing its rows in a city

    @classmethod
    def from_specs(cls, campaign, forms) -> Calendar:
        """From a CampaignSpec and the FormSpecs of the catalog (only att1..att3 are used)."""
        forms = {f.id: f for f in forms if f.id in FORM_IDS}
        return cls(
            cities=tuple(campaign.cities),
            titles={fid: f.short_title for fid, f in forms.items()},
            deadlines={fid: campaign.deadlines[f.deadline] for fid, f in forms.items() if f.deadline in campaign.deadlines},
            phases=tuple((p.name, p.start, p.end) for p in campaign.phases),
            city_fields={fid: f.city_field() for fid, f in forms.items() if f.city_field()},
        )

    def title(self, form_id: str) -> str:
        return self.titles.get(form_id, form_id)


def phase_table(calendar: Calendar, as_of: dt.date) -> tuple[pd.DataFrame, str]:
    """The phases with their state on ``as_of`` (已结束 / 进行中 / 未开始), and the current phase's name."""
    rows = [{"阶段": name, "开始": start, "结束": end,
             "状态": "已结束" if as_of > end else ("进行中" if start <= as_of else "未开始")}
            for name, start, end in calendar.phases]
    current = next((r["阶段"] for r in rows if r["状态"] == "进行中"), "")
    return pd.DataFrame(rows, columns=["阶段", "开始", "结束", "状态"]), current
