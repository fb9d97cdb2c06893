"""Step 2 of the board: every figure for one viewer's scope, from the shared ``Prepared``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from lib.campaign.board.counts import BY_UNIT, PROGRESS, Counts, Parts, repeated
from lib.campaign.board.detail_tables import (
    CITY,
    CONCLUSION,
    EXEMPT_BAND,
    NO_RATIO,
    SPENDING_LABELS,
    USAGE,
    column_kinds,
    conclusion_words,
    usage_words,
)
from lib.campaign.board.late_list import late_table
from lib.campaign.board.preparation import Prepared, prepare_as_of
from lib.campaign.board.scope import Scope, later_count, readable, scope_issues, scope_rows, scope_units
from lib.campaign.board.tally import breakdown_of, table_of
from lib.campaign.board.units import (
    EXEMPT,
    LATE_FILED,
    MISSING,
    ON_TIME,
    OVERDUE,
    RETURNED_STATE,
    UNIT_LABELS,
)
from lib.campaign.register.reconcile import issue_headers, summarize
from lib.campaign.schedule import Calendar, phase_table
from lib.core.roles import INSPECTOR, ORG_ROLES
from lib.core.statuses import DRAFT

ALL = "全部"
#: The default viewer: the whole province (Scope is frozen, so one instance serves every call).
EVERYTHING = Scope()


@dataclass(frozen=True)
class Board:
    """Every figure of the board, with Chinese column names, ready to show and export."""

    scope: Scope
    as_of: dt.date
    progress: pd.DataFrame  # 地市 x 表单
    units: pd.DataFrame  # the rows behind progress, providers and late
    providers: pd.DataFrame  # per provider (the projects form) completeness and register issues
    late: pd.DataFrame
    usage_by_city: pd.DataFrame
    usage_by_provider: pd.DataFrame
    project_rows: pd.DataFrame  # the counted rows of the projects form
    conclusions: pd.DataFrame
    check_rows: pd.DataFrame  # the counted checks
    spending: pd.DataFrame  # per benchmark report
    spending_bins: pd.DataFrame
    issues: pd.DataFrame
    issues_by_provider: pd.DataFrame
    issues_by_city: pd.DataFrame
    phases: pd.DataFrame
    current_phase: str = ""
    totals: dict = field(default_factory=dict)
    #: The kind of each detail-table column headed with a bound field's label (``export.workbook``).
    kinds: dict = field(default_factory=dict)


#: The share of due things reported, in percent with one decimal (blank when nothing is due).
RATE = "完成率（%）"


def _rate(due: pd.Series, missing: pd.Series) -> pd.Series:
    """
    >>> _rate(pd.Series([11, 0]), pd.Series([1, 0])).tolist()
    [90.9, nan]
    """
    return (100 * (due - missing) / due.where(due > 0)).round(1)


def _progress(sums: dict, calendar: Calendar, as_of: dt.date, cities: tuple[str, ...]) -> pd.DataFrame:
    counts = table_of(sums, ["city", "form"], list(PROGRESS))
    forms = [f for f in calendar.forms if f in calendar.titles] or list(calendar.forms)
    grid = pd.MultiIndex.from_product([list(cities), forms], names=["city", "form"])
    extra = counts.index.difference(grid)  # cities outside the list (a typo in a row) stay visible
    counts = counts.reindex(grid.append(extra), fill_value=0).astype(int)
    out = counts.reset_index()
    out[RATE] = _rate(out["应报"], out["未报"])
    out.insert(1, "表单", out["form"].map(calendar.title))
    out["截止日期"] = out["form"].map(lambda f: calendar.deadlines.get(f))
    out = out.rename(columns={"city": "地市"}).drop(columns="form")
    return out[["地市", "表单", "应报", "免报", "已报", "未报", "逾期未报", "逾期报送", RETURNED_STATE, "台账外", "重复报送", DRAFT, RATE,
                "截止日期"]]


def _by_unit(sums: dict) -> pd.DataFrame:
    out = table_of(sums, ["单位"], list(BY_UNIT)).astype(int).reset_index()
    out[RATE] = _rate(out["台账项目"], out["未报送"])
    return out


def _titled(forms: pd.Series, titles: dict) -> pd.Series:
    """``forms.map(titles)``, each distinct form looked up once (the units' column has a few among 200,000 rows)."""
    codes, uniques = pd.factorize(forms)
    return pd.Series(pd.Index(uniques).map(titles).array.take(codes, allow_fill=True), index=forms.index, name=forms.name)


def board(prepared: Prepared, scope: Scope = EVERYTHING) -> Board:
    """Step 2: every figure for one viewer's scope."""
    cal, as_of = prepared.calendar, prepared.as_of
    rows = readable(prepared.readers, scope)
    units = scope_units(prepared.units, scope, rows)
    cities = (scope.city,) if scope.kind == "city" else cal.cities
    if scope.kind in ORG_ROLES:
        cities = tuple(c for c in cal.cities if c in set(units["city"]))
    elif scope.kind == INSPECTOR:  # its assignment's cities, not every city with zeros
        cities = tuple(c for c in cal.cities if c in set(scope.cities))
    projects, benchmarks, checks = cal.forms
    provider = cal.filer_of("projects")  # the campaign's name of the role filing the projects form heads its columns
    scoped_issues = scope_issues(prepared.issues, scope, projects, rows)
    filed1, filed2, filed3 = (scope_rows(detail, f, rows) for f, detail in
                        ((projects, prepared.project_rows), (benchmarks, prepared.benchmark_rows), (checks, prepared.check_rows)))
    # the province reads the counts kept with the prepared frames (``counts``); a narrower scope counts its rows
    kept = prepared.counts
    if kept is None or not kept.counting(units, filed1, filed3, scoped_issues):
        kept = Counts.of(Parts(units, filed1, filed3, scoped_issues), cal, as_of)
    progress = _progress(kept.progress, cal, as_of, cities)
    if scope.forms is not None:
        progress = progress[progress["表单"].isin([cal.title(f) for f in scope.forms])]

    issues = scoped_issues.rename(columns=issue_headers(provider))
    providers = _by_unit(kept.providers).rename(columns={"单位": provider})
    by_provider = summarize(repeated(kept.issues_by_provider, [provider, "问题类型"], issues), provider)
    providers = providers.merge(by_provider.drop(columns=["合计"]), on=provider, how="left")
    for col in by_provider.columns:
        if col not in (provider, "合计"):
            providers[col] = providers[col].fillna(0).astype(int)
    providers = providers.sort_values(["未报送", provider], ascending=[False, True], kind="stable").reset_index(drop=True)

    phases, current = phase_table(cal, as_of)
    spending_bins = (
        filed2["支出区间"].value_counts().reindex([*SPENDING_LABELS, EXEMPT_BAND, NO_RATIO], fill_value=0)
        .rename_axis("支出区间").rename("报告数").reset_index()
    )
    shown_units = units.rename(columns=UNIT_LABELS)
    shown_units["表单"] = _titled(shown_units["表单"], {f: cal.title(f) for f in cal.forms})
    totals = {
        "应报": int(progress["应报"].sum()), "免报": int(progress["免报"].sum()), "已报": int(progress["已报"].sum()), "未报": int(progress["未报"].sum()),
        "逾期未报": int(progress["逾期未报"].sum()), RETURNED_STATE: int(progress[RETURNED_STATE].sum()),
        "核对问题": int(len(issues)), "台账外": int(progress["台账外"].sum()),
        "截至日期后创建": later_count(prepared.later, scope),
    }
    return Board(
        scope=scope,
        as_of=as_of,
        progress=progress.reset_index(drop=True),
        units=shown_units.reset_index(drop=True),
        providers=providers,
        late=late_table(kept.late, cal, as_of, units["days_late"].dtype),
        usage_by_city=breakdown_of(kept.usage_by_city, CITY, USAGE, usage_words(cal), cal.cities),
        usage_by_provider=breakdown_of(kept.usage_by_provider, provider, USAGE, usage_words(cal)),
        project_rows=filed1.reset_index(drop=True),
        conclusions=breakdown_of(kept.conclusions, CITY, CONCLUSION, conclusion_words(cal), cal.cities),
        check_rows=filed3.reset_index(drop=True),
        spending=filed2.reset_index(drop=True),
        spending_bins=spending_bins,
        issues=issues.reset_index(drop=True),
        issues_by_provider=by_provider,
        issues_by_city=summarize(repeated(kept.issues_by_city, ["地市", "问题类型"], issues), "地市"),
        phases=phases,
        current_phase=current,
        totals=totals,
        kinds=column_kinds(cal),
    )


def state_counts(board: Board, form_title: str) -> pd.DataFrame:
    """(地市, 状态, 数量) of one form's due and filed things, for a stacked bar per city.

    Duplicates, drafts and withdrawn rows are left out: they are neither due nor counted; what owes
    no report is shown apart.
    """
    shown = (ON_TIME, LATE_FILED, RETURNED_STATE, MISSING, OVERDUE, EXEMPT)
    u = board.units[(board.units["表单"] == form_title) & board.units["状态"].isin(shown)]
    counts = u.groupby(["地市", "状态"]).size().rename("数量").reset_index()
    order = {city: i for i, city in enumerate(board.progress["地市"].drop_duplicates())}  # the campaign's order
    counts = counts.assign(_o=counts["地市"].map(order)).sort_values(["_o", "地市"], kind="stable").drop(columns="_o")
    return counts[counts["数量"] > 0].reset_index(drop=True)


def compute_board(frames, vouchers, projects, calendar: Calendar, as_of: dt.date, scope: Scope = EVERYTHING,
                  audit=()) -> Board:
    """Both steps at once from the store's snapshots and audit entries (tests and one-off use)."""
    return board(prepare_as_of(frames, vouchers, projects, calendar, as_of, audit), scope)


def narrow(frame: pd.DataFrame, **equals) -> pd.DataFrame:
    """Rows of ``frame`` whose columns equal the given values; None or "全部" means no filter.

    >>> f = pd.DataFrame({"地市": ["甲", "乙"], "状态": ["未报送", "按时报送"]})
    >>> narrow(f, 地市="甲", 状态="全部")["地市"].tolist()
    ['甲']
    """
    mask = pd.Series(True, index=frame.index)
    for column, value in equals.items():
        if value is None or value == ALL or column not in frame:
            continue
        mask &= frame[column] == value
    return frame[mask]
