"""The sampling's progress for the board (issue 13, outcome 7): per city the frame's N, the n drawn and how
(by each way of selection and each priority rule), the drawn projects inspected so far, those overdue
after the inspection deadline, their conclusions and usage; and, from the inspected drawn projects, the
province-wide estimates (``lib.sampling.estimate``) with their 95% intervals and the method's note.

Pure: it reads snapshots (the draw records, the drawn rows, the frame rows, the inspection form's rows),
so the board computes it once per data change. The inspection form is read through its binding
(``inspections``, ``lib.campaign.bound.meaning_frame``); a campaign that does not bind one has no
inspections to count (``Setting.binding`` None). The deadline is the inspection form's own
(``deadline:`` in its YAML, a date of ``campaign.yaml``'s ``deadlines``): the phase it closes is named
from the calendar, never by its key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from lib.campaign.bound import meaning_frame
from lib.campaign.register.reconcile import normalize_code
from lib.core.statuses import FILED, RETURNED
from lib.forms.bindings import NEEDS, FormBinding
from lib.forms.loader import FormCatalog
from lib.sampling.draw import SELECTION_WORDS
from lib.sampling.estimate import (
    METHOD_NOTE,
    Estimate,
    EstimateInputInvalid,
    inspected_probabilities,
    missing_classes,
    missing_text,
    ratio,
    share,
)
from lib.sampling.record import DRAW_ACTIVE, DRAW_ROWS, DRAWS, FRAME_ROWS

#: The sheets progress reads besides the inspection form (a board caches on their change counter).
SHEETS = (DRAWS, DRAW_ROWS, FRAME_ROWS)

INSPECTED, WAITING, OVERDUE = "已检查", "待检查", "逾期未检查"
#: A drawn project whose inspection record the province returned for correction (退回修改): counted
#: apart — neither inspected nor waiting, its conclusion in no count and no estimate until it is filed again.
SENT_BACK = "检查记录退回修改"
#: Every state of a drawn project, in the order the tables show them.
STATES = (INSPECTED, SENT_BACK, WAITING, OVERDUE)
#: What an estimate says when no inspected drawn project is there to estimate from.
NOTHING = "尚无已检查的抽中项目，无法估计"
#: The per-city table's first columns; the drawn projects' states follow (what the office follows first), then
#: how they were drawn, the rules', the conclusions' and the usages' own columns in the campaign's words.
CITY, POPULATION, DRAWN = "地市", "抽样框项目数", "抽中项目数"
#: What counts as idle or stopped, by meaning (``NEEDS["inspections"]["usage"]``).
IDLE = ("idle", "stopped")


def estimate_labels(binding: FormBinding) -> tuple[str, str, str]:
    """What the three estimates are called, in the campaign's own choice words: the failed share, the
    idle-or-stopped share and the subsidy in failed projects.

    >>> from lib.forms.bindings import FormBinding
    >>> estimate_labels(FormBinding(form="f", filed_by="inspector", choices={
    ...     "conclusion": {"fail": "未通过"}, "usage": {"idle": "搁置", "stopped": "弃用"}}))
    ('未通过项目占比', '弃用或搁置项目占比', '未通过项目的奖补金额（万元）')
    """
    fail = binding.word("conclusion", "fail")
    return (f"{fail}项目占比", f"{binding.word('usage', 'stopped')}或{binding.word('usage', 'idle')}项目占比",
            f"{fail}项目的奖补金额（万元）")


def heading(column: str) -> str:
    """The heading a drawn row's ``column`` has in the drawn list (``record.DRAW_ROWS``), in the tables here too.

    >>> heading("subsidy")
    '奖补金额（万元）'
    """
    return next(c.label for c in DRAW_ROWS.columns if c.key == column)


@dataclass(frozen=True)
class Setting:
    """What progress reads of the campaign: the inspection form's binding (None: the campaign has no
    inspections), its deadline and the name of the phase that deadline falls in, the priority rules'
    names and the cities, in the campaign's order."""

    binding: FormBinding | None
    deadline: dt.date | None = None
    phase: str = ""
    rules: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()

    @classmethod
    def of(cls, catalog: FormCatalog) -> Setting:
        campaign, bindings = catalog.campaign, catalog.bindings
        rules, cities = tuple(r.name for r in campaign.sampling.priority_rules), tuple(campaign.cities)
        if not bindings.has("inspections"):
            return cls(None, rules=rules, cities=cities)
        binding = bindings.of("inspections")
        form = catalog.form(binding.form)  # the loader checked that the bound form exists
        deadline = campaign.deadlines.get(form.deadline) if form.deadline else None
        phase = next((p.name for p in campaign.phases if deadline is not None and p.start <= deadline <= p.end), "")
        return cls(binding, deadline, phase, rules, cities)


@dataclass(frozen=True)
class EstimateRow:
    """One estimate of the board: its label, the estimate (None: none can be made yet, ``reason`` says
    why) and whether it is an amount in 万元 (else a share)."""

    label: str
    estimate: Estimate | None
    amount: bool = False
    reason: str = NOTHING

    @property
    def text(self) -> str:
        """The estimate and its interval as a person reads them.

        >>> EstimateRow("x", Estimate(0.125, 0.05, 0.031, 0.352, 24)).text
        '12.5%（95% 置信区间 3.1%–35.2%）'
        >>> EstimateRow("x", None).text
        '尚无已检查的抽中项目，无法估计'
        >>> EstimateRow("x", Estimate(0.2, 0.0, 0.2, 0.2, 10)).text
        '20.0%（所涉项目均为必抽且全部检查，无抽样误差）'
        """
        e = self.estimate
        if e is None:
            return self.reason
        exact = "（所涉项目均为必抽且全部检查，无抽样误差）"
        if self.amount:
            if e.exact:
                return f"{e.value:,.2f} 万元{exact}"
            return f"{e.value:,.2f} 万元（95% 置信区间 {e.low:,.2f}–{e.high:,.2f}）"
        if e.exact:
            return f"{e.value:.1%}{exact}"
        return f"{e.value:.1%}（95% 置信区间 {e.low:.1%}–{e.high:.1%}）"


@dataclass(frozen=True)
class Progress:
    """The sampling's progress: ``draw_id`` of the draw in force (None: nothing drawn yet; the tables
    are then empty), ``cities`` (one row per city of the frame), ``projects`` (one row per drawn
    project), ``estimates`` (province-wide; empty for a scope of some cities), ``unmatched`` filed
    inspection rows whose voucher is not drawn and ``unreachable`` frame projects no draw could pick
    (π = 0: the take-all projects filled their city's places; outside the estimates), both the
    province's only, and the method's note."""

    setting: Setting
    draw_id: str | None
    cities: pd.DataFrame
    projects: pd.DataFrame
    estimates: tuple[EstimateRow, ...]
    unmatched: int = 0
    unreachable: int = 0
    note: str = METHOD_NOTE

    @property
    def inspections(self) -> bool:
        return self.setting.binding is not None


def _in_force(draws: pd.DataFrame | None) -> pd.Series | None:
    """The draw in force: the newest 有效 one (two only after a crash in the middle of a redraw)."""
    if draws is None or draws.empty or "_status" not in draws:
        return None
    active = draws[draws["_status"] == DRAW_ACTIVE]
    return None if active.empty else active.sort_values("_created_at").iloc[-1]


def _of(rows: pd.DataFrame | None, column: str, value: str, sheet) -> pd.DataFrame:
    """The rows of ``rows`` whose ``column`` is ``value`` (none, with the sheet's columns, when it has no rows)."""
    if rows is None or column not in rows:
        return pd.DataFrame(columns=[c.key for c in sheet.columns])
    return rows[rows[column] == value]


def _filed_inspections(rows: pd.DataFrame | None, binding: FormBinding) -> pd.DataFrame:
    """The filed inspection rows in meanings, one per voucher (the latest filed, returned ones too:
    ``_status`` says which), with ``key`` the voucher as compared (width-folded, upper case: ``normalize_code``)."""
    frame = meaning_frame(rows, binding, ("voucher", "date", "usage", "conclusion"))
    if "_status" in frame:
        frame = frame[frame["_status"].isin(FILED)]
    frame = frame.assign(key=normalize_code(frame["voucher"]) if len(frame) else pd.Series(dtype=object))
    frame = frame[frame["key"] != ""]
    if "_created_at" in frame:
        frame = frame.sort_values("_created_at")
    return frame.drop_duplicates("key", keep="last")


def _counts(projects: pd.DataFrame, column: str, words: list[str], prefix: str = "") -> pd.DataFrame:
    """Per city, how many projects carry each of ``words`` in ``column``."""
    table = pd.crosstab(projects["city"], projects[column]) if len(projects) else pd.DataFrame()
    return pd.DataFrame({f"{prefix}{w}": table[w] if w in table else 0 for w in words}, index=table.index)


def progress(setting: Setting, draws: pd.DataFrame | None, drawn_rows: pd.DataFrame | None, frame_rows: pd.DataFrame | None,
             inspections: pd.DataFrame | None, today: dt.date, cities: tuple[str, ...] | None = None) -> Progress:
    """The progress of the draw in force as of ``today`` (overdue: not inspected and ``today`` after
    the inspection deadline). ``cities``: the viewer's cities (None: the province, which also gets the
    estimates)."""
    draw = _in_force(draws)
    if draw is None:
        return Progress(setting, None, pd.DataFrame(), pd.DataFrame(), ())
    draw_id = str(draw["draw_id"])
    drawn = _of(drawn_rows, "draw_id", draw_id, DRAW_ROWS).copy()
    frame = _of(frame_rows, "frame_id", str(draw["frame_id"]), FRAME_ROWS)
    drawn["key"] = normalize_code(drawn["voucher"])
    drawn["rules"] = [tuple(r) if isinstance(r, list | tuple) else () for r in drawn["rules"]]
    filed = _filed_inspections(inspections, setting.binding) if setting.binding is not None else None
    if filed is not None:
        # A returned record is being corrected: its findings are not the group's yet (attack M13).
        sent_back = filed["_status"] == RETURNED if "_status" in filed else pd.Series(False, index=filed.index)
        found = filed.set_index("key")
        drawn = drawn.join(found.loc[~sent_back.to_numpy(), ["date", "usage", "conclusion"]], on="key")
        inspected = drawn["key"].isin(found.index[~sent_back.to_numpy()])
        returned = drawn["key"].isin(found.index[sent_back.to_numpy()])
        unmatched = int((~filed["key"].isin(drawn["key"])).sum())
    else:
        drawn = drawn.assign(date=None, usage=None, conclusion=None)
        inspected = returned = pd.Series(False, index=drawn.index)
        unmatched = 0
    late = setting.deadline is not None and today > setting.deadline
    drawn["state"] = [INSPECTED if done else SENT_BACK if back else (OVERDUE if late else WAITING)
                      for done, back in zip(inspected, returned, strict=True)]
    estimates, unreachable = (), 0
    if cities is None and setting.binding is not None:
        estimates = _estimates(setting, drawn, inspected, frame)
        unreachable = len(frame) - int(_reachable(drawn, frame).sum())
    if cities is not None:  # a city's own rows; the count of other inspections is the province's to see
        drawn, frame, unmatched = drawn[drawn["city"].isin(cities)], frame[frame["city"].isin(cities)], 0
    return Progress(setting, draw_id, _city_table(setting, drawn, frame), _project_table(drawn), estimates, unmatched,
                    unreachable)


def _city_table(setting: Setting, drawn: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    present = set(frame["city"].astype(str)) | set(drawn["city"].astype(str))
    names = [c for c in setting.cities if c in present] + sorted(present - set(setting.cities))
    out = pd.DataFrame(index=pd.Index(names, name=CITY))
    out[POPULATION] = frame.groupby("city").size()
    out[DRAWN] = drawn.groupby("city").size()
    out = out.join(_counts(drawn, "state", list(STATES)))  # what the office follows first: inspected, overdue
    selections = list(SELECTION_WORDS.values())
    out = out.join(_counts(drawn, "selection", selections))
    met = drawn.explode("rules")
    out = out.join(_counts(met.dropna(subset=["rules"]), "rules", list(setting.rules), "规则："))
    if setting.binding is not None:
        out = out.join(_counts(drawn, "conclusion", list(setting.binding.words("conclusion").values()), "结论："))
        out = out.join(_counts(drawn, "usage", list(setting.binding.words("usage").values()), "使用："))
    return out.fillna(0).astype(int).reset_index()


def _project_table(drawn: pd.DataFrame) -> pd.DataFrame:
    what = NEEDS["inspections"]
    return pd.DataFrame({
        heading("voucher"): drawn["voucher"], heading("city"): drawn["city"], heading("firm"): drawn["firm"],
        heading("provider"): drawn["provider"], heading("subsidy"): pd.to_numeric(drawn["subsidy"], errors="coerce"),
        heading("probability"): pd.to_numeric(drawn["probability"], errors="coerce").round(4),
        heading("selection"): drawn["selection"], heading("rules"): ["、".join(map(str, r)) for r in drawn["rules"]],
        "检查情况": drawn["state"], what["date"].what: drawn["date"], what["usage"].what: drawn["usage"],
        what["conclusion"].what: drawn["conclusion"]}).reset_index(drop=True)


def _reachable(drawn: pd.DataFrame, frame: pd.DataFrame) -> pd.Series:
    """Which frame rows the draw could pick (π > 0), the projects the estimates are about: every row of
    a city with a project drawn by chance (each of its projects not drawn with certainty had a π > 0);
    in a city without one, the drawn rows only (either the whole city was drawn, or its take-all
    projects filled its places and the others had π = 0)."""
    chance = set(drawn.loc[pd.to_numeric(drawn["probability"], errors="coerce") < 1, "city"].astype(str))
    taken = set(drawn["key"])
    keys = normalize_code(frame["voucher"]) if len(frame) else pd.Series(dtype=object)
    return frame["city"].astype(str).isin(chance) | keys.isin(taken)


def _estimates(setting: Setting, drawn: pd.DataFrame, done: pd.Series, frame: pd.DataFrame) -> tuple[EstimateRow, ...]:
    """The three estimates from the inspected (``done``) drawn projects, each from those with the answer
    it needs, weighted by their π adjusted for the drawn projects not inspected yet
    (``estimate.inspected_probabilities``) — none while a class of drawn projects has none of them
    (``estimate.missing_classes``), with the reason in the row. Shares are of the frame projects the
    draw could pick (``_reachable``), the amount of their known subsidy total."""
    binding, what = setting.binding, NEEDS["inspections"]
    fail, idle = binding.word("conclusion", "fail"), {binding.word("usage", m) for m in IDLE}
    pi = pd.to_numeric(drawn["probability"], errors="coerce")
    subsidy = pd.to_numeric(drawn["subsidy"], errors="coerce")
    order = {city: i for i, city in enumerate(setting.cities)}
    reachable = frame[_reachable(drawn, frame)]
    population = len(reachable)
    total = float(pd.to_numeric(reachable["subsidy"], errors="coerce").sum())

    def answered(column: str) -> pd.Series:
        return done & drawn[column].notna() & (drawn[column].astype(str) != "")

    def made(label: str, eligible: pd.Series, usable: pd.Series, compute, lacking: str, amount: bool = False) -> EstimateRow:
        """``eligible``: the drawn projects the estimate is about; ``usable``: those of them it can use;
        ``lacking``: why none can be used although some are inspected."""
        def row(estimate: Estimate | None, reason: str = NOTHING) -> EstimateRow:
            return EstimateRow(label, estimate, amount, reason)
        if pi.isna().any():  # the workbook refuses edits of the drawn list; a store-level one lands here
            return row(None, "抽中名单中有项目的入样概率不是数字（请在随机抽查页面核验抽样记录），无法估计")
        if not done.any():
            return row(None)
        if not usable.any():
            return row(None, lacking)
        cities = drawn.loc[eligible, "city"].astype(str)
        if missing := missing_classes(pi[eligible], cities, usable[eligible]):
            missing.sort(key=lambda m: (order.get(m[0], len(order)), m[0]))  # the campaign's order of cities
            return row(None, f"依据尚不完整：{missing_text(missing)}尚无检查记录，暂不作全省估计")
        adjusted = pd.Series(inspected_probabilities(pi[eligible], cities, usable[eligible]), index=cities.index)
        rows = drawn[eligible & usable]
        try:
            return row(compute(rows, adjusted[rows.index]))
        except EstimateInputInvalid as err:  # e.g. the inspected ones by chance all have a subsidy of 0
            return row(None, f"无法估计：{err}")

    def unanswered(meaning: str) -> str:
        return f"已检查的抽中项目都没有填写{what[meaning].what}，无法估计"

    everyone = pd.Series(True, index=drawn.index)
    concluded, used = answered("conclusion"), answered("usage")
    labels = estimate_labels(binding)
    return (
        made(labels[0], everyone, concluded, lambda r, p: share(r["conclusion"] == fail, p, r["city"], population),
             unanswered("conclusion")),
        made(labels[1], everyone, used, lambda r, p: share(r["usage"].isin(idle), p, r["city"], population),
             unanswered("usage")),
        made(labels[2], subsidy.notna(), concluded & subsidy.notna(),
             lambda r, p: ratio(subsidy[r.index].where(r["conclusion"] == fail, 0.0), subsidy[r.index], p, r["city"],
                                total).scaled(total),
             f"已检查的抽中项目的{heading('subsidy')}都未知，无法估计" if concluded.any() else unanswered("conclusion"),
             amount=True))


def of_store(store, catalog: FormCatalog, today: dt.date, cities: tuple[str, ...] | None = None) -> Progress:
    """``progress`` from the store's snapshots taken now (the board takes them once per refresh for
    every viewer and calls ``progress`` itself)."""
    setting = Setting.of(catalog)
    inspections = store.snapshot(setting.binding.form) if setting.binding is not None else None
    return progress(setting, store.snapshot(DRAWS.form_id), store.snapshot(DRAW_ROWS.form_id),
                    store.snapshot(FRAME_ROWS.form_id), inspections, today, cities)
