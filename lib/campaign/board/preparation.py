"""Step 1 of the board: the unscoped figures' ingredients, computed once per data change.

``prepare`` normalises the three forms, keeps the rows that count (not 草稿/已撤回, created on or
before ``as_of``), matches them to the registers and builds the units (``lib.campaign.board.units``)
and the detail tables (``lib.campaign.board.detail_tables``); ``change_counter`` says when to redo it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from lib.auth.policy import place
from lib.campaign.board.detail_tables import ATT1_COLUMNS, att1_rows, att2_rows, att3_rows
from lib.campaign.board.units import REPORTED_STATUSES, build_units, column, filed_frame, is_datetime
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


@dataclass(frozen=True)
class Prepared:
    """The shared, unscoped result of step 1."""

    calendar: Calendar
    as_of: dt.date
    units: pd.DataFrame  # english columns, see lib.campaign.board.units
    att1: pd.DataFrame  # reported 附件1 rows (duplicates included, flagged), display columns
    att2: pd.DataFrame
    att3: pd.DataFrame
    issues: pd.DataFrame  # reconcile() output
    readers: pd.DataFrame  # who may read each counted row (see ``readers``)
    later: pd.DataFrame | None = None  # the same for the rows created after as_of (not counted)


def change_counter(frames: dict[str, pd.DataFrame]) -> tuple:
    """A key that changes whenever any row of any frame changes: rows are never deleted and every
    change bumps a row's ``_rev``, so (row count, sum of revisions) per frame is a change counter.

    >>> change_counter({"a": pd.DataFrame({"_rev": [1, 2]}), "b": pd.DataFrame()})
    (('a', 2, 3), ('b', 0, 0))
    """
    return tuple(
        (name, len(f), int(f["_rev"].sum()) if len(f) and "_rev" in f else 0) for name, f in sorted(frames.items())
    )


def _counted(frame: pd.DataFrame | None, as_of: dt.date) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Rows that existed on ``as_of`` (created on or before it), and those created later (or None)."""
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["_id", "_status", "_owner", "_org", "_city", "_created_at", "_rev"]), None
    created = pd.to_datetime(frame["_created_at"])
    keep = created.isna() | (created < pd.Timestamp(as_of) + pd.Timedelta(days=1))
    return (frame, None) if keep.all() else (frame[keep], frame[~keep])


def _empty_register(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def prepare(
    frames: dict[str, pd.DataFrame],
    vouchers: pd.DataFrame | None,
    projects: pd.DataFrame | None,
    calendar: Calendar,
    as_of: dt.date,
) -> Prepared:
    """Step 1: the unscoped figures' ingredients (see the module docstring)."""
    vouchers = vouchers if vouchers is not None and len(vouchers) else _empty_register(
        ["voucher_no", "client_name", "client_credit_code", "provider_name", "city", "subsidy_amount"])
    projects = projects if projects is not None and len(projects) else _empty_register(
        ["project_name", "lead_unit_name", "lead_unit_credit_code", "city"])
    (a1, l1), (a2, l2), (a3, l3) = (_counted(frames.get(f), as_of) for f in ("att1", "att2", "att3"))
    rows = readers({"att1": a1, "att2": a2, "att3": a3}, calendar.city_fields)
    later = readers({"att1": l1, "att2": l2, "att3": l3}, calendar.city_fields)

    reg = register_frame(vouchers)
    reg_voucher, reg_code = reg["voucher"], reg["r_code"]
    exp_vouchers = pd.DataFrame({"key": reg_voucher, "city": reg["r_city"], "unit": reg["r_provider"], "name": reg["r_name"]})

    # 附件1: by voucher number within the filer's organisation (reconcile.bind): a voucher the
    # register gives another provider is off-register for the filer and leaves that provider's entry as it is
    rep_all = bind(reported_frame(a1), reg)
    f1 = pd.DataFrame({"key": rep_all["key"], "city": rep_all["city"], "unit": rep_all["provider"],
                       "owner": rep_all["owner"], "name": rep_all["name"], "status": rep_all["status"],
                       "reported_at": rep_all["at"], "row_id": rep_all["row_id"]})
    u1, first1 = build_units("att1", f1, exp_vouchers, calendar.deadlines.get("att1"), as_of, presorted=True)
    if rep_all["conflict"].any():  # show the voucher, not the matching key
        keyed = member(u1["key"], rep_all.loc[rep_all["conflict"], "key"]).to_numpy(dtype=bool)
        u1.loc[keyed, "key"] = u1.loc[keyed, "key"].str.split(KEY_SEPARATOR).str[0]

    # 附件3: by voucher number when given, else by the firm's credit code (a firm with one voucher); a
    # lookup that finds nothing is float NaN, cast to object so that filling it with text is allowed
    a3_voucher = normalize_code(column(a3, "voucher_no"))
    a3_code = normalize_code(column(a3, "client_credit_code"))
    single = reg_code[~reg_code.duplicated(keep=False)]
    by_code = pd.Series(reg_voucher[single.index].values, index=single.values)
    a3_key = a3_voucher.where(a3_voucher != "", a3_code.map(by_code).astype(object).fillna("code:" + a3_code))
    a3_city = column(a3, "city").where(column(a3, "city").notna(), column(a3, "_city", ""))
    exp3 = exp_vouchers.assign(unit=exp_vouchers["city"] + "市工业和信息化局")
    f3 = filed_frame(a3, a3_key, a3_city, a3_city.fillna("") + "市工业和信息化局", column(a3, "client_name"))
    u3, first3 = build_units("att3", f3, exp3, calendar.deadlines.get("att3"), as_of)

    # 附件2: by lead unit code + project name; by code alone when the unit has one project
    p_code = normalize_code(projects["lead_unit_credit_code"])
    p_key = p_code + "|" + normalize_name(projects["project_name"])
    exp2 = pd.DataFrame({"key": p_key.values, "city": projects["city"].fillna("").values,
                         "unit": normalize_name(projects["lead_unit_name"]).values,
                         "name": projects["project_name"].fillna("").values})
    a2_code = normalize_code(column(a2, "lead_unit_credit_code"))
    a2_key = a2_code + "|" + normalize_name(column(a2, "project_name"))
    single2 = p_code[~p_code.duplicated(keep=False)]
    key_by_code = pd.Series(p_key[single2.index].values, index=single2.values)
    a2_key = a2_key.where(member(a2_key, p_key), a2_code.map(key_by_code).astype(object).fillna(a2_key))
    lead = column(a2, "lead_unit_name").where(column(a2, "lead_unit_name").notna(), column(a2, "_org", ""))
    f2 = filed_frame(a2, a2_key, column(a2, "city"), normalize_name(lead), column(a2, "project_name"))
    u2, _ = build_units("att2", f2, exp2, calendar.deadlines.get("att2"), as_of)

    units = pd.concat([u1, u2, u3], ignore_index=True)
    rep2 = a2[a2["_status"].isin(REPORTED_STATUSES)]
    counted3 = a3["_status"].isin(REPORTED_STATUSES).to_numpy(dtype=bool)
    rep3 = a3[counted3]
    if is_datetime(a3["_created_at"]):  # then the filing order of build_units is that of _first_filed
        first_rep3 = pd.Series(first3[counted3], index=rep3.index, dtype=bool)
    else:
        first_rep3 = _first_filed(rep3, a3_key.loc[rep3.index]) if len(rep3) else pd.Series(dtype=bool)
    counted1 = rep_all["status"].isin(REPORTED_STATUSES).to_numpy(dtype=bool)
    rep = rep_all[counted1].copy()  # already in filing order
    rep["duplicate"] = ~first1[counted1]  # a later filing of a voucher already filed
    issues = match(rep, reg)
    firsts = rep.loc[~rep["duplicate"], "row_id"]
    rep1 = _rows_at(a1, rep.index, ATT1_COLUMNS)
    return Prepared(calendar, as_of, units, att1_rows(rep1, rep["provider"], member(rep1["_id"], firsts)),
                    att2_rows(rep2), att3_rows(rep3, first_rep3), issues, readers=rows, later=later)


def readers(rows: dict[str, pd.DataFrame | None], city_fields: dict[str, str]) -> pd.DataFrame:
    """What decides who may read each row (``lib.auth.policy``): form, row_id, its city (``place``: the
    form's city field, else the filer's city), owner and org, as stored; the board's scope
    (``lib.campaign.board.scope``) applies the policy's reach to these."""
    parts = []
    for form_id, frame in rows.items():
        if frame is None or frame.empty:
            continue
        answers = column(frame, city_fields[form_id]) if form_id in city_fields else pd.Series(None, index=frame.index, dtype=object)
        answers = answers.astype(object).where(answers.notna(), None)
        filer = column(frame, "_city", "").astype(object).where(column(frame, "_city", "").notna(), "")
        parts.append(pd.DataFrame({"form": form_id, "row_id": frame["_id"].values,
                                   "city": [place(a, c) for a, c in zip(answers.tolist(), filer.tolist(), strict=True)],
                                   "owner": column(frame, "_owner", "").values, "org": column(frame, "_org", "").values}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ("form", "row_id", "city", "owner", "org")})
    return pd.concat(parts, ignore_index=True)


def _rows_at(frame: pd.DataFrame, labels: pd.Index, columns: tuple[str, ...]) -> pd.DataFrame:
    """``frame.loc[labels]`` limited to ``columns`` (those it has): only the columns used are taken."""
    present = [c for c in columns if c in frame]
    if frame.index.is_unique:
        return frame[present].take(frame.index.get_indexer(labels))
    return frame.loc[labels, present]


def _first_filed(frame: pd.DataFrame, key: pd.Series) -> pd.Series:
    """True for the earliest filing of each key (later ones are duplicates and not counted twice)."""
    order = frame.assign(_k=key.values).sort_values(["_created_at", "_id"], kind="stable")
    return ~order["_k"].duplicated().reindex(frame.index)
