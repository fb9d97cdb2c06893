"""Step 1 of the board: the unscoped figures' ingredients, computed once per data change.

``prepare`` takes the three bound forms as they stood on the board's day (``history.as_of``: rows
created later left out, later changes undone, ``_filed_at`` the time each row was filed), reads them
through the campaign's bindings (``lib.campaign.bound.meaning_frame``), keeps the rows that count
(not 草稿/已撤回), matches them to the registers and builds the units
(``lib.campaign.board.units``) and the detail tables (``lib.campaign.board.detail_tables``);
``prepare_as_of`` does both from the store's snapshots and audit; ``change_counter`` says when to redo it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lib.auth.policy import place
from lib.campaign.board import history
from lib.campaign.board.detail_tables import PROJECT_MEANINGS, benchmarks_table, checks_table, projects_table
from lib.campaign.board.units import build_units, filed_frame, is_datetime
from lib.campaign.bound import SYSTEM_COLUMNS, meaning_frame
from lib.campaign.register.reconcile import (
    KEY_SEPARATOR,
    bind,
    match,
    member,
    normalize_code,
    normalize_name,
    register_frame,
    reported_frame,
)
from lib.campaign.schedule import Calendar
from lib.core.records import AuditEntry
from lib.core.statuses import FILED

if TYPE_CHECKING:
    from lib.campaign.board.counts import Counts


@dataclass(frozen=True)
class Prepared:
    """The shared, unscoped result of step 1."""

    calendar: Calendar
    as_of: dt.date
    units: pd.DataFrame  # english columns, see lib.campaign.board.units
    project_rows: pd.DataFrame  # reported rows of the projects form (duplicates included, flagged), display columns
    benchmark_rows: pd.DataFrame  # of the benchmark reports
    check_rows: pd.DataFrame  # of the checks
    issues: pd.DataFrame  # reconcile() output
    readers: pd.DataFrame  # who may read each counted row (see ``readers``)
    later: pd.DataFrame | None = None  # the same for the rows created after as_of (not counted)
    #: The province's counts of these frames (``lib.campaign.board.counts``), kept by ``incremental``; None: counted by each board.
    counts: Counts | None = None


def change_counter(frames: dict[str, pd.DataFrame]) -> tuple:
    """A key that changes whenever any row of any frame changes: rows are never deleted and every
    change bumps a row's ``_rev``, so (row count, sum of revisions) per frame is a change counter.

    >>> change_counter({"a": pd.DataFrame({"_rev": [1, 2]}), "b": pd.DataFrame()})
    (('a', 2, 3), ('b', 0, 0))
    """
    return tuple(
        (name, len(f), int(f["_rev"].sum()) if len(f) and "_rev" in f else 0) for name, f in sorted(frames.items())
    )


def form_rows(frame: pd.DataFrame | None) -> pd.DataFrame:
    """A form's rows as they stood, or no rows (with the system columns) when it has none yet."""
    if frame is None or frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c.endswith("_at") else object) for c in SYSTEM_COLUMNS})
    return frame


def _empty_register(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def prepare_as_of(
    frames: dict[str, pd.DataFrame],
    vouchers: pd.DataFrame | None,
    projects: pd.DataFrame | None,
    calendar: Calendar,
    as_of: dt.date,
    audit: Iterable[AuditEntry] = (),
) -> Prepared:
    """``prepare`` of the forms as they stood at the end of ``as_of``: ``frames`` are the store's
    snapshots (form id -> frame), ``audit`` its audit entries of those forms."""
    standing, later = history.as_of({f: form_rows(frames.get(f)) for f in calendar.forms}, list(audit), as_of)
    return prepare(standing, vouchers, projects, calendar, as_of, later)


@dataclass(frozen=True)
class Registers:
    """What the registers in force give the filings, once per register change: the voucher register
    normalised (``reg``), the entries each form expects (key, city, unit, name; the benchmark
    reports' with ``exempt`` and ``decided``) and the lookups that give a filing its key (a firm code
    or a lead unit code with one entry). ``only`` narrows the entries to some keys, not the lookups:
    a filing gets the same key whichever part of the register is looked at."""

    reg: pd.DataFrame
    expected1: pd.DataFrame
    expected3: pd.DataFrame
    expected2: pd.DataFrame
    voucher_by_code: pd.Series
    project_keys: pd.Index
    key_by_code: pd.Series
    programme_of: pd.Series  # the register's programme by project key (for the reports that say another)
    ministry: object
    #: Per narrowed frame, key -> its rows' positions: built on the first ``only`` (once per register change), so
    #: that narrowing to a few keys looks them up instead of scanning 100,000 entries on every change.
    positions: dict = field(default_factory=dict, compare=False, repr=False)

    def only(self, keys1: set, keys2: set, keys3: set) -> Registers:
        """The entries of these keys of the projects form, the benchmark reports and the checks."""
        def keep(name: str, column: str, keys: set) -> pd.DataFrame:
            frame = getattr(self, name)
            if not keys or not len(frame):
                return frame.iloc[0:0]
            if any(pd.isna(k) for k in keys):  # a blank key: matched as ``isin`` matches it
                return frame[among(frame[column], keys)]
            at = self.positions.get(name)
            if at is None:  # the distinct keys, the rows in key order, where each key's rows start in it
                codes, uniques = pd.factorize(frame[column].to_numpy(dtype=object))
                at = self.positions[name] = (pd.Index(uniques, dtype=object), np.argsort(codes, kind="stable"),
                                             np.searchsorted(np.sort(codes), np.arange(len(uniques) + 1)))
            distinct, order, starts = at
            found = [c for c in distinct.get_indexer(pd.Index(list(keys), dtype=object)).tolist() if c >= 0]
            hits = [order[starts[c]:starts[c + 1]] for c in found]
            return frame.take(np.sort(np.concatenate(hits)) if hits else np.zeros(0, dtype=np.intp))
        return replace(self, reg=keep("reg", "voucher", keys1), expected1=keep("expected1", "key", keys1),
                       expected2=keep("expected2", "key", keys2), expected3=keep("expected3", "key", keys3), positions={})


def among(values: pd.Series, keys: set) -> np.ndarray:
    """Which of ``values`` (a long column) are among ``keys`` (a few): pandas' hash lookup of the few
    (``member`` is for a long pool).

    >>> among(pd.Series(["a", "b", None]), {"b"}).tolist()
    [False, True, False]
    """
    if not keys or not len(values):
        return np.zeros(len(values), dtype=bool)
    return values.isin(list(keys)).to_numpy(dtype=bool)


def registers(vouchers: pd.DataFrame | None, projects: pd.DataFrame | None, calendar: Calendar) -> Registers:
    """``Registers`` of the voucher and project registers in force (meaning columns; None: not imported)."""
    vouchers = vouchers if vouchers is not None and len(vouchers) else _empty_register(
        ["voucher", "firm", "firm_code", "provider", "city", "subsidy"])
    projects = projects if projects is not None and len(projects) else _empty_register(
        ["project", "lead_unit", "lead_unit_code", "city", "programme"])
    reg = register_frame(vouchers)
    reg_voucher, reg_code = reg["voucher"], reg["r_code"]
    expected1 = pd.DataFrame({"key": reg_voucher, "city": reg["r_city"], "unit": reg["r_provider"], "name": reg["r_name"]})
    single = reg_code[~reg_code.duplicated(keep=False)]
    by_code = pd.Series(reg_voucher[single.index].values, index=single.values)
    expected3 = expected1.assign(unit=calendar.unit_of_city(expected1["city"]))  # the city's bureau checks its projects
    # The Ministry's projects owe no benchmark report: the register's programme decides for the entries
    # it classifies, the report's only for the others and for reports off the register.
    ministry = calendar.bindings.of("benchmarks").word("programme", "ministry")
    p_code = normalize_code(projects["lead_unit_code"])
    p_key = p_code + "|" + normalize_name(projects["project"])
    classified = projects["programme"].notna() & (projects["programme"].astype(object) != "")
    expected2 = pd.DataFrame({"key": p_key.values, "city": projects["city"].fillna("").values,
                              "unit": normalize_name(projects["lead_unit"]).values,
                              "name": projects["project"].fillna("").values,
                              "exempt": (projects["programme"] == ministry).to_numpy(dtype=bool),
                              "decided": classified.to_numpy(dtype=bool)})
    single2 = p_code[~p_code.duplicated(keep=False)]
    key_by_code = pd.Series(p_key[single2.index].values, index=single2.values)
    said = pd.Series(projects["programme"].where(classified).to_numpy(dtype=object), index=p_key.to_numpy(dtype=object))
    return Registers(reg, expected1, expected3, expected2, by_code, pd.Index(p_key.to_numpy(dtype=object), dtype=object),
                     key_by_code, said[~said.index.duplicated()], ministry)


def meaning_frames(raw: dict[str, pd.DataFrame | None], calendar: Calendar) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The three bound forms' rows (as they stood) read through the campaign's bindings."""
    b = calendar.bindings
    f1, f2, f3 = calendar.forms
    a1 = meaning_frame(form_rows(raw.get(f1)), b.of("projects"), PROJECT_MEANINGS + ("provider", "firm_code"))
    return a1, meaning_frame(form_rows(raw.get(f2)), b.of("benchmarks")), meaning_frame(form_rows(raw.get(f3)), b.of("checks"))


def check_keys(a3: pd.DataFrame, regs: Registers) -> pd.Series:
    """The key a check is counted by: its voucher number when given, else the firm's credit code's
    voucher (a firm with one voucher), else ``code:`` and the code. A lookup that finds nothing is
    float NaN, cast to object so that filling it with text is allowed."""
    a3_voucher, a3_code = normalize_code(a3["voucher"]), normalize_code(a3["firm_code"])
    return a3_voucher.where(a3_voucher != "", a3_code.map(regs.voucher_by_code).astype(object).fillna("code:" + a3_code))


def report_keys(a2: pd.DataFrame, regs: Registers) -> pd.Series:
    """The key a benchmark report is counted by: lead unit code + project name; by code alone when the unit has one project."""
    a2_code = normalize_code(a2["lead_unit_code"])
    a2_key = a2_code + "|" + normalize_name(a2["project"])
    return a2_key.where(member(a2_key, regs.project_keys), a2_code.map(regs.key_by_code).astype(object).fillna(a2_key))


def prepare(
    frames: dict[str, pd.DataFrame],
    vouchers: pd.DataFrame | None,
    projects: pd.DataFrame | None,
    calendar: Calendar,
    as_of: dt.date,
    later: dict[str, pd.DataFrame] | None = None,
    regs: Registers | None = None,
) -> Prepared:
    """Step 1: the unscoped figures' ingredients (see the module docstring). ``frames``: form id ->
    the rows as they stood on ``as_of`` (with ``_filed_at``); ``later``: form id -> the rows created
    after it (counted apart); ``vouchers`` / ``projects``: the registers in force (meaning columns),
    or ``regs`` made of them (``registers``; narrowed by ``Registers.only``, the units and issues are
    those of its keys: ``lib.campaign.board.incremental``)."""
    regs = regs if regs is not None else registers(vouchers, projects, calendar)
    f1, f2, f3 = calendar.forms
    raw = {f: form_rows(frames.get(f)) for f in (f1, f2, f3)}
    a1, a2, a3 = meaning_frames(raw, calendar)
    rows = readers(raw, calendar.city_fields)
    later = readers({f: frame for f, frame in (later or {}).items() if f in raw}, calendar.city_fields)
    reg = regs.reg

    # the projects form: by voucher number within the filer's organisation (reconcile.bind): a voucher
    # the register gives another provider is off-register for the filer and leaves that provider's entry as it is
    rep_all = bind(reported_frame(a1), reg)
    filed1 = pd.DataFrame({"key": rep_all["key"], "city": rep_all["city"], "unit": rep_all["provider"],
                           "owner": rep_all["owner"], "name": rep_all["name"], "status": rep_all["status"],
                           "reported_at": rep_all["at"], "row_id": rep_all["row_id"]})
    u1, first1 = build_units(f1, filed1, regs.expected1, calendar.deadlines.get(f1), as_of, presorted=True)
    if rep_all["conflict"].any():  # show the voucher, not the matching key
        keyed = member(u1["key"], rep_all.loc[rep_all["conflict"], "key"]).to_numpy(dtype=bool)
        u1.loc[keyed, "key"] = u1.loc[keyed, "key"].str.split(KEY_SEPARATOR).str[0]

    # the checks: by voucher number when given, else by the firm's credit code (a firm with one voucher)
    a3_key = check_keys(a3, regs)
    a3_city = a3["city"].where(a3["city"].notna(), a3["_city"].fillna(""))
    filed3 = filed_frame(a3, a3_key, a3_city, calendar.unit_of_city(a3_city.fillna("")), a3["firm"])
    u3, first3 = build_units(f3, filed3, regs.expected3, calendar.deadlines.get(f3), as_of)

    # the benchmark reports: by lead unit code + project name; by code alone when the unit has one project
    a2_key = report_keys(a2, regs)
    lead = a2["lead_unit"].where(a2["lead_unit"].notna(), a2["_org"].fillna(""))
    filed2 = filed_frame(a2, a2_key, a2["city"], normalize_name(lead), a2["project"], a2["programme"] == regs.ministry)
    u2, _ = build_units(f2, filed2, regs.expected2, calendar.deadlines.get(f2), as_of)
    # what the register says of each report's project, for the table to show where the report disagrees
    a2 = a2.assign(register_programme=a2_key.map(regs.programme_of).to_numpy(dtype=object))

    units = pd.concat([u1, u2, u3], ignore_index=True)
    rep2 = a2[a2["_status"].isin(FILED)]
    counted3 = a3["_status"].isin(FILED).to_numpy(dtype=bool)
    rep3 = a3[counted3]
    if is_datetime(a3["_filed_at"]):  # then the filing order of build_units is that of _first_filed
        first_rep3 = pd.Series(first3[counted3], index=rep3.index, dtype=bool)
    else:
        first_rep3 = _first_filed(rep3, a3_key.loc[rep3.index]) if len(rep3) else pd.Series(dtype=bool)
    counted1 = rep_all["status"].isin(FILED).to_numpy(dtype=bool)
    rep = rep_all[counted1].copy()  # already in filing order
    rep["duplicate"] = ~first1[counted1]  # a later filing of a voucher already filed
    issues = match(rep, reg)
    firsts = rep.loc[~rep["duplicate"], "row_id"]
    rep1 = _rows_at(a1, rep.index, ("_id", "_status", "_owner", "_filed_at", *PROJECT_MEANINGS))
    return Prepared(calendar, as_of, units, projects_table(rep1, rep["provider"], member(rep1["_id"], firsts), calendar),
                    benchmarks_table(rep2, calendar), checks_table(rep3, first_rep3, calendar), issues, readers=rows, later=later)


def readers(rows: dict[str, pd.DataFrame | None], city_fields: dict[str, str]) -> pd.DataFrame:
    """What decides who may read each row (``lib.auth.policy``): form, row_id, its city (``place``: the
    form's city field, else the filer's city), owner, org and status (a reader that neither fills nor
    reviews a form reads its filed rows only), as stored; the board's scope
    (``lib.campaign.board.scope``) applies the policy's reach to these."""
    parts = []
    for form_id, frame in rows.items():
        if frame is None or frame.empty:
            continue
        blank = pd.Series(None, index=frame.index, dtype=object)
        key = city_fields.get(form_id)
        answers = frame[key] if key in frame else blank  # a city field no row has answered yet
        answers = answers.astype(object).where(answers.notna(), None)
        filer = frame["_city"].astype(object).where(frame["_city"].notna(), "")
        parts.append(pd.DataFrame({"form": form_id, "row_id": frame["_id"].values,
                                   "city": [place(a, c) for a, c in zip(answers.tolist(), filer.tolist(), strict=True)],
                                   "owner": frame["_owner"].fillna("").values, "org": frame["_org"].fillna("").values,
                                   "status": frame["_status"].fillna("").values}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("form", "row_id", "city", "owner", "org", "status")})
    return pd.concat(parts, ignore_index=True)


def _rows_at(frame: pd.DataFrame, labels: pd.Index, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame.loc[labels]`` limited to ``columns`` (those it has): only the columns used are taken."""
    present = [c for c in columns if c in frame]
    if frame.index.is_unique:
        return frame[present].take(frame.index.get_indexer(labels))
    return frame.loc[labels, present]


def _first_filed(frame: pd.DataFrame, key: pd.Series) -> pd.Series:
    """True for the earliest filing of each key (later ones are duplicates and not counted twice)."""
    order = frame.assign(_k=key.values).sort_values(["_filed_at", "_id"], kind="stable")
    return ~order["_k"].duplicated().reindex(frame.index)
