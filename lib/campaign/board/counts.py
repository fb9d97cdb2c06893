"""The province's counts, kept beside the prepared frames so that its board after a new row takes off and
adds the few units a change replaced instead of counting 200,000 units again (issue 17, outcome 3).

Every count the province's board shows is a sum over rows of the prepared frames: per city and form
(progress) and per provider of the projects form, the units in each state; the late units per form and
unit (``late_list.late_counts``: multisets of days late and of cities, so that a unit taken off leaves the
right maximum); the first filings per city or provider and answer (usage, conclusions); the issues per
provider or city and type. ``Counts.of`` counts every row once (a full prepare, ``incremental.start``);
``Counts.moved`` takes off the counts of the rows a change removed and adds those of the rows that
replace them (``incremental.advance``), a new ``Counts`` sharing nothing it changes with the old one.

``figures.board`` reads them only where the viewer's frames are the very frames counted (``counting``:
the province sees the prepared frames themselves, unnarrowed) and counts in full otherwise; both ways
go through the same tables (``tally.table_of``, ``late_list.late_table``, ``tally.breakdown_of``), so
they give the same board (tests/campaign/test_board_incremental.py checks it on random sequences).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.campaign.board.detail_tables import CITY, CONCLUSION, USAGE
from lib.campaign.board.late_list import LateCounts, late_counts
from lib.campaign.board.tally import counted, moved, state_flags, summed
from lib.campaign.board.units import DUPLICATE, EXEMPT, MISSING, OVERDUE, REPORTED_STATES, RETURNED_STATE
from lib.campaign.register.reconcile import UNIT
from lib.campaign.schedule import Calendar
from lib.core.statuses import DRAFT

#: The progress table's counts per city and form, in its order.
PROGRESS = ("应报", "免报", "已报", "台账外", "未报", "逾期未报", "逾期报送", RETURNED_STATE, "重复报送", DRAFT)
#: The providers table's counts per unit of the projects form.
BY_UNIT = ("台账项目", "已报送", "未报送", "逾期未报", "逾期报送", RETURNED_STATE)


def progress_flags(units: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per unit, whether it counts in each column of ``PROGRESS``."""
    is_ = state_flags(units)
    in_register = units["in_register"].astype(bool).to_numpy(dtype=bool)
    reported = is_(*REPORTED_STATES)
    flags = {
        "应报": in_register & is_(*REPORTED_STATES, MISSING, OVERDUE), "免报": is_(EXEMPT), "已报": reported,
        "台账外": reported & ~in_register, "未报": is_(MISSING, OVERDUE), "逾期未报": is_(OVERDUE),
        "逾期报送": reported & units["late"].astype(bool).to_numpy(dtype=bool), RETURNED_STATE: is_(RETURNED_STATE),
        "重复报送": is_(DUPLICATE), DRAFT: is_(DRAFT),
    }
    return {c: flags[c] for c in PROGRESS}


def unit_flags(units: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per unit (of the projects form), whether it counts in each column of ``BY_UNIT``."""
    is_ = state_flags(units)
    reported = is_(*REPORTED_STATES)
    return {
        "台账项目": units["in_register"].astype(bool).to_numpy(dtype=bool) & is_(*REPORTED_STATES, MISSING, OVERDUE),
        "已报送": reported, "未报送": is_(MISSING, OVERDUE), "逾期未报": is_(OVERDUE),
        "逾期报送": reported & units["late"].astype(bool).to_numpy(dtype=bool), RETURNED_STATE: is_(RETURNED_STATE),
    }


def progress_sums(units: pd.DataFrame) -> dict[tuple, np.ndarray]:
    """(city, form) -> units, then the ``PROGRESS`` counts (``tally.summed``)."""
    return summed([units["city"], units["form"]], progress_flags(units))


def unit_sums(units: pd.DataFrame, form_id: str) -> dict[tuple, np.ndarray]:
    """(unit,) -> units of ``form_id``, then the ``BY_UNIT`` counts."""
    u = units[["unit", "in_register", "state", "late"]].take(np.flatnonzero((units["form"] == form_id).to_numpy(dtype=bool)))
    return summed([u["unit"]], unit_flags(u))


def firsts(detail: pd.DataFrame) -> pd.DataFrame:
    """The first filings among a detail table's rows (a repeat is not counted twice)."""
    return detail[detail["首次报送"].astype(bool)]


@dataclass(frozen=True)
class Parts:
    """Rows of the frames ``Counts`` counts: those a change removed, or those it added."""

    units: pd.DataFrame
    project_rows: pd.DataFrame
    check_rows: pd.DataFrame
    issues: pd.DataFrame


@dataclass(frozen=True)
class Counts:
    """The province's counts of ``units``, ``project_rows``, ``check_rows`` and ``issues`` (the prepared
    frames they were counted from, kept to tell whether a viewer's frames are these)."""

    units: pd.DataFrame
    project_rows: pd.DataFrame
    check_rows: pd.DataFrame
    issues: pd.DataFrame
    progress: dict  # (city, form) -> [units, *PROGRESS]
    providers: dict  # (unit,) -> [units, *BY_UNIT], of the projects form
    late: LateCounts
    usage_by_city: dict  # (city, usage) -> first filings of the projects form
    usage_by_provider: dict  # (provider, usage) -> the same
    conclusions: dict  # (city, conclusion) -> first checks
    issues_by_provider: dict  # (unit, issue type) -> issues
    issues_by_city: dict  # (city, issue type) -> issues

    @staticmethod
    def tallies(parts: Parts, calendar: Calendar, as_of: dt.date) -> dict:
        """Every count of ``parts``' rows, by field name."""
        provider = calendar.filer_of("projects")
        projects, _, checks = calendar.forms
        firsts1, firsts3 = firsts(parts.project_rows), firsts(parts.check_rows)
        issues = parts.issues

        def pairs(frame: pd.DataFrame, a: str, b: str) -> dict:
            return counted([frame[a], frame[b]]) if len(frame) else {}

        return {
            "progress": progress_sums(parts.units), "providers": unit_sums(parts.units, projects),
            "late": late_counts(parts.units, calendar, as_of),
            "usage_by_city": pairs(firsts1, CITY, USAGE), "usage_by_provider": pairs(firsts1, provider, USAGE),
            "conclusions": pairs(firsts3, CITY, CONCLUSION),
            "issues_by_provider": pairs(issues, UNIT, "问题类型"), "issues_by_city": pairs(issues, "地市", "问题类型"),
        }

    @classmethod
    def of(cls, parts: Parts, calendar: Calendar, as_of: dt.date) -> Counts:
        """Every row of the prepared frames counted (once per full prepare)."""
        return cls(parts.units, parts.project_rows, parts.check_rows, parts.issues, **cls.tallies(parts, calendar, as_of))

    def moved(self, now: Parts, gone: Parts, come: Parts, calendar: Calendar, as_of: dt.date) -> Counts:
        """These counts for the frames ``now``: those counted, less the rows ``gone``, plus the rows ``come``."""
        minus, plus = self.tallies(gone, calendar, as_of), self.tallies(come, calendar, as_of)
        late = tuple((moved(days, gone_days, come_days), moved(cities, gone_cities, come_cities))
                     for (days, cities), (gone_days, gone_cities), (come_days, come_cities)
                     in zip(self.late, minus["late"], plus["late"], strict=True))
        fields = {name: moved(getattr(self, name), minus[name], plus[name]) for name in minus if name != "late"}
        return Counts(now.units, now.project_rows, now.check_rows, now.issues, late=late, **fields)

    def counting(self, units: pd.DataFrame, project_rows: pd.DataFrame, check_rows: pd.DataFrame, issues: pd.DataFrame) -> bool:
        """Whether a viewer's frames are the very frames counted (the province's board)."""
        return (units is self.units and project_rows is self.project_rows and check_rows is self.check_rows
                and issues is self.issues)


def repeated(counts: dict[tuple, int], names: list[str], like: pd.DataFrame) -> pd.DataFrame:
    """A frame of ``names`` columns holding each combination of ``counts`` as many times as counted, the
    columns of the types ``like``'s have: what a full count's grouping would see of ``like`` (the
    issues' summaries are made by ``reconcile.summarize`` of it)."""
    keys = list(counts)
    times = np.array([counts[k] for k in keys], dtype=np.int64)
    columns = {}
    for i, name in enumerate(names):
        values = np.repeat(np.array([k[i] for k in keys], dtype=object), times)
        columns[name] = pd.Series(values, dtype=like[name].dtype) if len(values) else like[name].iloc[0:0].reset_index(drop=True)
    return pd.DataFrame(columns)
