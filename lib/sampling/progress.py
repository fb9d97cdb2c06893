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
from lib.core.statuses import FILED
from lib.forms.bindings import NEEDS, FormBinding
from lib.forms.loader import FormCatalog
from lib.sampling.draw import SELECTION_WORDS
from lib.sampling.estimate import METHOD_NOTE, Estimate, EstimateInputInvalid, inspected_probabilities, ratio, share
from lib.sampling.record import DRAW_ACTIVE, DRAW_ROWS, DRAWS, FRAME_ROWS

#: The sheets progress reads besides the inspection form (a board caches on their change counter).
SHEETS = (DRAWS, DRAW_ROWS, FRAME_ROWS)

INSPECTED, WAITING, OVERDUE = "已检查", "待检查", "逾期未检查"
#: The columns of the per-city table that are counts of drawn projects (before the rules', the
#: conclusions' and the usages' own columns, which follow the campaign's words).
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
    """One estimate of the board: its label, the estimate (None: nothing inspected to estimate from)
    and whether it is an amount in 万元 (else a share)."""

    label: str
    estimate: Estimate | None
    amount: bool = False

    @property
    def text(self) -> str:
        """The estimate and its interval as a person reads them.

        >>> EstimateRow("x", Estimate(0.125, 0.05, 0.031, 0.352, 24)).text
        '12.5%（95% 置信区间 3.1%–35.2%）'
        >>> EstimateRow("x", None).text
        '尚无已检查的抽中项目，无法估计'
        """
        e = self.estimate
        if e is None:
            return "尚无已检查的抽中项目，无法估计"
        if self.amount:
            return f"{e.value:,.2f} 万元（95% 置信区间 {e.low:,.2f}–{e.high:,.2f}）"
        return f"{e.value:.1%}（95% 置信区间 {e.low:.1%}–{e.high:.1%}）"


@dataclass(frozen=True)
class Progress:
    """The sampling's progress: ``draw_id`` of the draw in force (None: nothing drawn yet; the tables
    are then empty), ``cities`` (one row per city of the frame), ``projects`` (one row per drawn
    project), ``estimates`` (province-wide; empty for a scope of some cities), ``unmatched`` filed
    inspection rows whose voucher is not drawn (the province's only), and the method's note."""

    setting: Setting
    draw_id: str | None
    cities: pd.DataFrame
    projects: pd.DataFrame
    estimates: tuple[EstimateRow, ...]
    unmatched: int = 0
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
    """The filed inspection rows in meanings, one per voucher (the latest filed), with ``key`` the
    voucher as compared (width-folded, upper case: ``normalize_code``)."""
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
        found = filed.set_index("key")
        drawn = drawn.join(found[["date", "usage", "conclusion"]], on="key")
        inspected = drawn["key"].isin(found.index)
        unmatched = int((~filed["key"].isin(drawn["key"])).sum())
    else:
        drawn = drawn.assign(date=None, usage=None, conclusion=None)
        inspected, unmatched = pd.Series(False, index=drawn.index), 0
    late = setting.deadline is not None and today > setting.deadline
    drawn["state"] = [INSPECTED if done else (OVERDUE if late else WAITING) for done in inspected]
    estimates = _estimates(setting, drawn, inspected, frame) if cities is None and setting.binding is not None else ()
    if cities is not None:  # a city's own rows; the count of other inspections is the province's to see
        drawn, frame, unmatched = drawn[drawn["city"].isin(cities)], frame[frame["city"].isin(cities)], 0
    return Progress(setting, draw_id, _city_table(setting, drawn, frame), _project_table(drawn), estimates, unmatched)


def _city_table(setting: Setting, drawn: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    present = set(frame["city"].astype(str)) | set(drawn["city"].astype(str))
    names = [c for c in setting.cities if c in present] + sorted(present - set(setting.cities))
    out = pd.DataFrame(index=pd.Index(names, name=CITY))
    out[POPULATION] = frame.groupby("city").size()
    out[DRAWN] = drawn.groupby("city").size()
    selections = list(SELECTION_WORDS.values())
    out = out.join(_counts(drawn, "selection", selections))
    met = drawn.explode("rules")
    out = out.join(_counts(met.dropna(subset=["rules"]), "rules", list(setting.rules), "规则："))
    out = out.join(_counts(drawn, "state", [INSPECTED, WAITING, OVERDUE]))
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


def _estimates(setting: Setting, drawn: pd.DataFrame, done: pd.Series, frame: pd.DataFrame) -> tuple[EstimateRow, ...]:
    """The three estimates from the inspected (``done``) drawn projects, each from those with the answer
    it needs, weighted by their π adjusted for the drawn projects not inspected yet
    (``estimate.inspected_probabilities``)."""
    binding = setting.binding
    fail, idle = binding.word("conclusion", "fail"), {binding.word("usage", m) for m in IDLE}
    drawn_pi = pd.to_numeric(drawn["probability"], errors="coerce")  # a π that is no number weighs nothing (NaN)
    adjusted = pd.Series(inspected_probabilities(drawn_pi, drawn["city"].astype(str), done), index=drawn.index)
    inspected = drawn[done]
    pi = adjusted[done].where(lambda p: p > 0)
    subsidy = pd.to_numeric(inspected["subsidy"], errors="coerce")

    def made(compute, usable) -> Estimate | None:
        rows = inspected[usable & pi.notna()]
        try:
            return compute(rows) if len(rows) else None
        except EstimateInputInvalid:  # nothing to weigh (no subsidy among them): no estimate, not 0
            return None

    concluded = inspected["conclusion"].notna() & (inspected["conclusion"].astype(str) != "")
    used = inspected["usage"].notna() & (inspected["usage"].astype(str) != "")
    known = concluded & subsidy.notna()
    total = float(pd.to_numeric(frame["subsidy"], errors="coerce").sum())
    failed = made(lambda r: share(r["conclusion"] == fail, pi[r.index], r["city"]), concluded)
    stopped = made(lambda r: share(r["usage"].isin(idle), pi[r.index], r["city"]), used)
    amount = made(lambda r: ratio(subsidy[r.index].where(r["conclusion"] == fail, 0.0), subsidy[r.index], pi[r.index],
                                  r["city"]).scaled(total), known)
    labels = estimate_labels(binding)
    return (EstimateRow(labels[0], failed), EstimateRow(labels[1], stopped), EstimateRow(labels[2], amount, amount=True))


def of_store(store, catalog: FormCatalog, today: dt.date, cities: tuple[str, ...] | None = None) -> Progress:
    """``progress`` from the store's snapshots taken now (the board takes them once per refresh for
    every viewer and calls ``progress`` itself)."""
    setting = Setting.of(catalog)
    inspections = store.snapshot(setting.binding.form) if setting.binding is not None else None
    return progress(setting, store.snapshot(DRAWS.form_id), store.snapshot(DRAW_ROWS.form_id),
                    store.snapshot(FRAME_ROWS.form_id), inspections, today, cities)
