"""Who has reported, who is late, what the reports say: every board figure from snapshots.

Pure functions on DataFrames, in two steps so many viewers share the work:

1. ``prepare(frames, vouchers, projects, calendar, as_of)`` — the expensive part, once per data
   change: normalise the three forms, keep the rows that count (not 草稿/已撤回, created on or before
   ``as_of``), match them to the registers, and build ``units``: one row per thing that is due or
   was reported (a register entry, an off-register report, a duplicate, a draft).
2. ``board(prepared, scope)`` — cheap: narrow to what the viewer may see and aggregate.

What is expected (应报) per city:

* 附件1 — the in-scope entries of the voucher register in that city (one row per project);
* 附件2 — the in-scope benchmark projects (在建 / 到期未验收) of that city;
* 附件3 — also the voucher register entries of that city: the form asks the city to list every
  2018/2019 project, checked or not (检查方式 未检查), so "one row per city" would hide omissions.

A register entry counts as reported by its earliest filing; a filing made after the form's deadline
is 逾期报送 (late), one still in 退回修改 is returned; once the deadline has passed (as of the
campaign clock) an entry with no filing is 逾期未报.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lib.store.base import Actor
from lib.submissions import APPROVED, DRAFT, RESUBMITTED, RETURNED, SUBMITTED, WITHDRAWN

from .reconcile import (
    _take,
    match,
    member,
    normalize_code,
    normalize_name,
    normalize_name_text,
    register_frame,
    reported_frame,
    summarize,
)

FORM_IDS = ("att1", "att2", "att3")
#: Statuses that count as reported; 草稿 and 已撤回 do not.
REPORTED_STATUSES = (SUBMITTED, RETURNED, RESUBMITTED, APPROVED)
NOT_COUNTED = (DRAFT, WITHDRAWN)

ON_TIME = "按时报送"
LATE_FILED = "逾期报送"
RETURNED_STATE = "退回修改"
MISSING = "未报送"
OVERDUE = "逾期未报"
DUPLICATE = "重复报送"
STATES = (ON_TIME, LATE_FILED, RETURNED_STATE, MISSING, OVERDUE, DUPLICATE, DRAFT, WITHDRAWN)
REPORTED_STATES = (ON_TIME, LATE_FILED, RETURNED_STATE)

USAGE_STATES = ("正常使用", "使用率较低", "闲置", "停用")
CONCLUSIONS = ("合格", "基本合格", "不合格", "未检查")
SPENDING_BINS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 100.0001))
SPENDING_LABELS = ("0–20%", "20–40%", "40–60%", "60–80%", "80–100%")
EXEMPT = "免填（按月报送）"
NO_RATIO = "未填"

#: The dtype pandas gives a column of text made from one string (a state column).
_TEXT = pd.Series([ON_TIME]).dtype

UNIT_ROLE = {"att1": "服务商", "att2": "牵头单位", "att3": "地市工信部门"}


@dataclass(frozen=True)
class Calendar:
    """What the board needs of the campaign: cities, phases, each form's title and deadline."""

    cities: tuple[str, ...]
    titles: dict[str, str]
    deadlines: dict[str, dt.date]
    phases: tuple[tuple[str, dt.date, dt.date], ...] = ()

    @classmethod
    def from_specs(cls, campaign, forms) -> Calendar:
        """From a CampaignSpec and the FormSpecs of the catalog (only att1..att3 are used)."""
        forms = {f.id: f for f in forms if f.id in FORM_IDS}
        return cls(
            cities=tuple(campaign.cities),
            titles={fid: f.short_title for fid, f in forms.items()},
            deadlines={fid: campaign.deadlines[f.deadline] for fid, f in forms.items() if f.deadline in campaign.deadlines},
            phases=tuple((p.name, p.start, p.end) for p in campaign.phases),
        )

    def title(self, form_id: str) -> str:
        return self.titles.get(form_id, form_id)


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


@dataclass(frozen=True)
class Prepared:
    """The shared, unscoped result of step 1."""

    calendar: Calendar
    as_of: dt.date
    units: pd.DataFrame  # english columns, see _units
    att1: pd.DataFrame  # reported 附件1 rows (duplicates included, flagged), display columns
    att2: pd.DataFrame
    att3: pd.DataFrame
    issues: pd.DataFrame  # reconcile() output
    later: int = 0  # rows created after as_of (not counted)


@dataclass(frozen=True)
class Board:
    """Every figure of the board, with Chinese column names, ready to show and export."""

    scope: Scope
    as_of: dt.date
    progress: pd.DataFrame  # 地市 x 表单
    units: pd.DataFrame  # the rows behind progress, providers and late
    providers: pd.DataFrame  # per provider (附件1) completeness and register issues
    late: pd.DataFrame
    usage_by_city: pd.DataFrame
    usage_by_provider: pd.DataFrame
    att1: pd.DataFrame
    conclusions: pd.DataFrame
    att3: pd.DataFrame
    spending: pd.DataFrame  # per 附件2 report
    spending_bins: pd.DataFrame
    issues: pd.DataFrame
    issues_by_provider: pd.DataFrame
    issues_by_city: pd.DataFrame
    phases: pd.DataFrame
    current_phase: str = ""
    totals: dict = field(default_factory=dict)


# --- step 1 ------------------------------------------------------------------------------------


def change_counter(frames: dict[str, pd.DataFrame]) -> tuple:
    """A key that changes whenever any row of any frame changes: rows are never deleted and every
    change bumps a row's ``_rev``, so (row count, sum of revisions) per frame is a change counter.

    >>> change_counter({"a": pd.DataFrame({"_rev": [1, 2]}), "b": pd.DataFrame()})
    (('a', 2, 3), ('b', 0, 0))
    """
    return tuple(
        (name, len(f), int(f["_rev"].sum()) if len(f) and "_rev" in f else 0) for name, f in sorted(frames.items())
    )


def _col(frame: pd.DataFrame, key: str, default=None) -> pd.Series:
    return frame[key] if key in frame else pd.Series(default, index=frame.index, dtype=object)


def _counted(frame: pd.DataFrame | None, as_of: dt.date) -> pd.DataFrame:
    """Rows that existed on ``as_of`` (created on or before it)."""
    if frame is None or frame.empty:
        return pd.DataFrame(columns=["_id", "_status", "_owner", "_org", "_city", "_created_at", "_rev"])
    created = pd.to_datetime(frame["_created_at"])
    keep = created.isna() | (created < pd.Timestamp(as_of) + pd.Timedelta(days=1))
    return frame if keep.all() else frame[keep]


def _late(at: pd.Series, deadline: dt.date | None) -> pd.Series:
    if deadline is None:
        return pd.Series(False, index=at.index)
    return pd.to_datetime(at) >= pd.Timestamp(deadline) + pd.Timedelta(days=1)


def _days_late(at: pd.Series, deadline: dt.date | None) -> pd.Series:
    if deadline is None:
        return pd.Series(0, index=at.index)
    stamps = pd.to_datetime(at)
    if _is_datetime(stamps):  # naive datetime64: whole days in numpy (floor to the day, as normalize)
        values = stamps.to_numpy()
        days = (values.astype("datetime64[D]") - np.datetime64(deadline, "D")).astype(np.int64)
        days[np.isnat(values)] = 0
        return pd.Series(np.maximum(days, 0), index=at.index)
    days = (stamps.dt.normalize() - pd.Timestamp(deadline)).dt.days
    return days.clip(lower=0).fillna(0).astype(int)


def _filed(frame: pd.DataFrame, key: pd.Series, city: pd.Series, unit: pd.Series, name: pd.Series) -> pd.DataFrame:
    """The filed rows of a form in the units shape (before matching)."""
    return pd.DataFrame(
        {
            "key": key.values,
            "city": city.fillna("").values,
            "unit": unit.fillna("").values,
            "owner": _col(frame, "_owner", "").values,
            "name": name.fillna("").values,
            "status": frame["_status"].values,
            "reported_at": pd.to_datetime(frame["_created_at"]).values,
            "row_id": frame["_id"].values,
        }
    )


def _units(
    form_id: str, filed: pd.DataFrame, expected: pd.DataFrame, deadline: dt.date | None, as_of: dt.date,
    presorted: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per due or filed thing of one form, and which rows of ``filed`` are first filings.

    ``filed``: every row in the shape of ``_filed``; ``expected``: key, city, unit, name of each
    register entry. Columns out: form, key, city, unit, owner, name, in_register, state, late,
    reported_at, days_late, row_id, status. ``presorted``: ``filed`` is already in filing order.

    The rows are those of a left merge of the register entries with the first filing of each key,
    then the filings of keys not in the register, the later filings of a key (duplicates) and the
    drafts / withdrawn rows; they are found by hash lookups on the keys, and the frame is taken
    from ``filed`` and ``expected`` by position.
    """
    status = filed["status"]
    counted = np.flatnonzero(status.isin(REPORTED_STATUSES).to_numpy(dtype=bool))
    if not presorted and len(counted) > 1:
        when = filed[["reported_at", "row_id"]].take(counted).reset_index(drop=True)
        counted = counted[when.sort_values(["reported_at", "row_id"], kind="stable").index.to_numpy()]
    keys = filed["key"].to_numpy(dtype=object)
    repeat = pd.Index(keys[counted], dtype=object).duplicated()
    first, dup_pos = counted[~repeat], counted[repeat]
    first_flags = np.zeros(len(filed), dtype=bool)
    first_flags[first] = True
    other_pos = np.flatnonzero(status.isin(NOT_COUNTED).to_numpy(dtype=bool))

    exp_keys = pd.Index(expected["key"].to_numpy(dtype=object), dtype=object)
    exp_pos = np.flatnonzero(~exp_keys.duplicated())
    exp = expected if len(exp_pos) == len(expected) else expected.take(exp_pos)
    exp_index = exp_keys if len(exp_pos) == len(expected) else exp_keys.take(exp_pos)
    first_keys = pd.Index(keys[first], dtype=object)
    e_first = first_keys.get_indexer(exp_index)  # the first filing of each register entry, or -1
    joined = pd.DataFrame({c: exp[c].reset_index(drop=True) for c in ("key", "city", "unit", "name")})
    filing = np.full(len(e_first), -1, dtype=np.intp)
    filing[e_first >= 0] = first[e_first[e_first >= 0]]
    for c in ("owner", "status", "reported_at", "row_id"):
        joined[c] = _take(filed[c], filing)
    joined["in_register"] = True
    off = filed.take(first[exp_index.get_indexer(first_keys) < 0])
    off["in_register"] = False
    # a duplicate or a draft of a register entry belongs to the entry's city and unit
    parts = [(joined, "main"), (off, "main")]
    for pos, kind in ((dup_pos, "dup"), (other_pos, "other")):
        part = filed.take(pos)
        at = exp_index.get_indexer(pd.Index(keys[pos], dtype=object))
        part["in_register"] = at >= 0
        for c in ("city", "unit"):
            part[c] = _take(exp[c], at).set_axis(part.index).fillna(part[c])
        parts.append((part, kind))

    overdue = deadline is not None and as_of > deadline
    frames = []
    for part, kind in parts:
        if part.empty:
            continue
        blank = part["status"].isna().to_numpy(dtype=bool)
        late = _late(part["reported_at"], deadline).to_numpy(dtype=bool) & ~blank
        if kind == "main":
            state = np.full(len(part), ON_TIME, dtype=object)
            state[late] = LATE_FILED
            state[(part["status"] == RETURNED).to_numpy(dtype=bool)] = RETURNED_STATE
            state[blank] = OVERDUE if overdue else MISSING
            days = _days_late(part["reported_at"], deadline).to_numpy(copy=True)
            if overdue:
                days[blank] = (as_of - deadline).days
            state = pd.array(state, dtype=_TEXT)
        elif kind == "dup":
            state = pd.array(np.full(len(part), DUPLICATE, dtype=object), dtype=_TEXT)
            days = _days_late(part["reported_at"], deadline).to_numpy(copy=True)
        else:
            state = part["status"].astype(object).to_numpy()
            days = np.zeros(len(part), dtype=np.int64)
            late = np.zeros(len(part), dtype=bool)
        part["state"], part["late"], part["days_late"] = state, late, days
        frames.append(part)
    cols = ["key", "city", "unit", "owner", "name", "in_register", "state", "late", "reported_at", "days_late", "row_id", "status"]
    if not frames:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    else:
        out = pd.concat(frames, ignore_index=True)[cols]
    out.insert(0, "form", form_id)
    out["owner"] = out["owner"].fillna("")
    out["row_id"] = out["row_id"].fillna("")
    out["status"] = out["status"].fillna("")
    return out, first_flags


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
    a1 = _counted(frames.get("att1"), as_of)
    a2 = _counted(frames.get("att2"), as_of)
    a3 = _counted(frames.get("att3"), as_of)
    later = sum(len(f) for f in frames.values() if f is not None) - len(a1) - len(a2) - len(a3)

    reg = register_frame(vouchers)
    reg_voucher, reg_code = reg["voucher"], reg["r_code"]
    exp_vouchers = pd.DataFrame({"key": reg_voucher, "city": reg["r_city"], "unit": reg["r_provider"], "name": reg["r_name"]})

    # 附件1: by voucher number; the provider is the one named in the row, else the filing account's org
    rep_all = reported_frame(a1)
    f1 = pd.DataFrame({"key": rep_all["voucher"], "city": rep_all["city"], "unit": rep_all["provider"],
                       "owner": rep_all["owner"], "name": rep_all["name"], "status": rep_all["status"],
                       "reported_at": rep_all["at"], "row_id": rep_all["row_id"]})
    u1, first1 = _units("att1", f1, exp_vouchers, calendar.deadlines.get("att1"), as_of, presorted=True)

    # 附件3: by voucher number when given, else by the firm's credit code (a firm with one voucher)
    a3_voucher = normalize_code(_col(a3, "voucher_no"))
    a3_code = normalize_code(_col(a3, "client_credit_code"))
    single = reg_code[~reg_code.duplicated(keep=False)]
    by_code = pd.Series(reg_voucher[single.index].values, index=single.values)
    a3_key = a3_voucher.where(a3_voucher != "", a3_code.map(by_code).fillna("code:" + a3_code))
    a3_city = _col(a3, "city").where(_col(a3, "city").notna(), _col(a3, "_city", ""))
    exp3 = exp_vouchers.assign(unit=exp_vouchers["city"] + "市工业和信息化局")
    f3 = _filed(a3, a3_key, a3_city, a3_city.fillna("") + "市工业和信息化局", _col(a3, "client_name"))
    u3, first3 = _units("att3", f3, exp3, calendar.deadlines.get("att3"), as_of)

    # 附件2: by lead unit code + project name; by code alone when the unit has one project
    p_code = normalize_code(projects["lead_unit_credit_code"])
    p_key = p_code + "|" + normalize_name(projects["project_name"])
    exp2 = pd.DataFrame({"key": p_key.values, "city": projects["city"].fillna("").values,
                         "unit": normalize_name(projects["lead_unit_name"]).values,
                         "name": projects["project_name"].fillna("").values})
    a2_code = normalize_code(_col(a2, "lead_unit_credit_code"))
    a2_key = a2_code + "|" + normalize_name(_col(a2, "project_name"))
    single2 = p_code[~p_code.duplicated(keep=False)]
    key_by_code = pd.Series(p_key[single2.index].values, index=single2.values)
    a2_key = a2_key.where(member(a2_key, p_key), a2_code.map(key_by_code).fillna(a2_key))
    lead = _col(a2, "lead_unit_name").where(_col(a2, "lead_unit_name").notna(), _col(a2, "_org", ""))
    f2 = _filed(a2, a2_key, _col(a2, "city"), normalize_name(lead), _col(a2, "project_name"))
    u2, _ = _units("att2", f2, exp2, calendar.deadlines.get("att2"), as_of)

    units = pd.concat([u1, u2, u3], ignore_index=True)
    rep2 = a2[a2["_status"].isin(REPORTED_STATUSES)]
    counted3 = a3["_status"].isin(REPORTED_STATUSES).to_numpy(dtype=bool)
    rep3 = a3[counted3]
    if _is_datetime(a3["_created_at"]):  # then the filing order of _units is that of _first_filed
        first_rep3 = pd.Series(first3[counted3], index=rep3.index, dtype=bool)
    else:
        first_rep3 = _first_filed(rep3, a3_key.loc[rep3.index]) if len(rep3) else pd.Series(dtype=bool)
    counted1 = rep_all["status"].isin(REPORTED_STATUSES).to_numpy(dtype=bool)
    rep = rep_all[counted1].copy()  # already in filing order
    rep["duplicate"] = ~first1[counted1]  # a later filing of a voucher already filed
    issues = match(rep, reg)
    firsts = rep.loc[~rep["duplicate"], "row_id"]
    rep1 = _rows_at(a1, rep.index, ATT1_COLUMNS)
    return Prepared(calendar, as_of, units, _att1_rows(rep1, rep["provider"], member(rep1["_id"], firsts)),
                    _att2_rows(rep2), _att3_rows(rep3, first_rep3), issues, later=later)


def _is_datetime(values: pd.Series) -> bool:
    return isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"


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


ATT1_COLUMNS = ("_id", "_status", "client_city", "client_name", "voucher_no", "project_name", "subsidy_amount",
                "usage_status", "monthly_active_users", "reason", "_owner", "_created_at")


def _att1_rows(rep: pd.DataFrame, provider: pd.Series, first: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"], "服务商": provider,
            "地市": _col(rep, "client_city").fillna(""), "企业名称": _col(rep, "client_name"),
            "服务券编号": _col(rep, "voucher_no"), "项目名称": _col(rep, "project_name"),
            "奖补金额（万元）": _col(rep, "subsidy_amount"), "使用状态": _col(rep, "usage_status").fillna("未填"),
            "月活跃用户数": _col(rep, "monthly_active_users"), "原因说明": _col(rep, "reason"),
            "填报账号": _col(rep, "_owner", ""), "填报时间": rep["_created_at"], "首次报送": first,
        }
    ).reset_index(drop=True)


def _att3_rows(rep: pd.DataFrame, first: pd.Series) -> pd.DataFrame:
    method = _col(rep, "check_method")
    conclusion = _col(rep, "conclusion").where(method != "未检查", "未检查").fillna("未填")
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"],
            "地市": _col(rep, "city").where(_col(rep, "city").notna(), _col(rep, "_city", "")),
            "企业名称": _col(rep, "client_name"), "服务商": _col(rep, "provider_name"),
            "服务券编号": _col(rep, "voucher_no"), "检查方式": method, "检查结论": conclusion,
            "使用状态": _col(rep, "usage_status"), "企业满意度": _col(rep, "satisfaction"),
            "投诉举报": _col(rep, "complaint"), "存在问题": _col(rep, "problems"),
            "填报账号": _col(rep, "_owner", ""), "填报时间": rep["_created_at"], "首次报送": first,
        }
    ).reset_index(drop=True)


def spending_bin(ratio: pd.Series, exempt: pd.Series) -> pd.Series:
    """The spending-ratio band of each report; exempt reports and blanks get their own band.

    >>> spending_bin(pd.Series([0.0, 45.5, 100.0, None, None]), pd.Series([False, False, False, True, None])).tolist()
    ['0–20%', '40–60%', '80–100%', '免填（按月报送）', '未填']
    """
    ratio = pd.to_numeric(ratio, errors="coerce")
    edges = [lo for lo, _ in SPENDING_BINS] + [SPENDING_BINS[-1][1]]
    bands = pd.cut(ratio.clip(upper=100), bins=edges, labels=list(SPENDING_LABELS), right=False).astype(object)
    bands = bands.where(ratio.notna(), NO_RATIO)
    return bands.where(~(exempt.fillna(False).astype(bool)), EXEMPT)


def _att2_rows(rep: pd.DataFrame) -> pd.DataFrame:
    lead = _col(rep, "lead_unit_name").where(_col(rep, "lead_unit_name").notna(), _col(rep, "_org", ""))
    ratio = pd.to_numeric(_col(rep, "spending_ratio"), errors="coerce")
    exempt = _col(rep, "monthly_report_exempt")
    return pd.DataFrame(
        {
            "记录编号": rep["_id"], "记录状态": rep["_status"], "项目名称": _col(rep, "project_name"),
            "牵头单位": normalize_name(lead), "地市": _col(rep, "city").fillna(""),
            "支持渠道": _col(rep, "programme"), "建设状态": _col(rep, "project_status"),
            "总体完成进度（%）": _col(rep, "percent_complete"), "资金支出比例（%）": ratio.round(1),
            "支出区间": spending_bin(ratio, exempt), "填报账号": _col(rep, "_owner", ""), "填报时间": rep["_created_at"],
        }
    ).reset_index(drop=True)


# --- step 2 ------------------------------------------------------------------------------------


UNIT_LABELS = {
    "form": "表单", "city": "地市", "unit": "单位", "owner": "填报账号", "key": "编号", "name": "名称",
    "in_register": "台账内", "state": "状态", "late": "逾期", "reported_at": "填报时间", "days_late": "逾期天数",
    "row_id": "记录编号", "status": "记录状态",
}


def _scope_units(units: pd.DataFrame, scope: Scope) -> pd.DataFrame:
    if scope.kind == "city":
        return units[units["city"] == scope.city]
    if scope.kind in ("provider", "lead_unit"):
        form = "att1" if scope.kind == "provider" else "att2"
        return units[(units["form"] == form) & ((units["unit"] == scope.org) | (units["owner"] == scope.account))]
    return units


def _scope_rows(rows: pd.DataFrame, scope: Scope, org_col: str | None) -> pd.DataFrame:
    if scope.kind == "city":
        return rows[rows["地市"] == scope.city]
    if scope.kind in ("provider", "lead_unit"):
        if org_col is None or org_col not in rows:
            return rows.iloc[0:0]
        return rows[(rows[org_col] == scope.org) | (rows["填报账号"] == scope.account)]
    return rows


def _state_flags(units: pd.DataFrame) -> Callable[..., np.ndarray]:
    """``is_(*states)``: which rows of ``units`` are in one of ``states`` (one pass over the column)."""
    codes, uniques = pd.factorize(units["state"])
    names = np.asarray(uniques, dtype=object)

    def is_(*states: str) -> np.ndarray:
        table = np.append(np.isin(names, np.asarray(states, dtype=object)), False)  # code -1: blank
        return table[codes]

    return is_


def _progress(units: pd.DataFrame, calendar: Calendar, as_of: dt.date, cities: tuple[str, ...]) -> pd.DataFrame:
    is_ = _state_flags(units)
    in_register = units["in_register"].astype(bool).to_numpy(dtype=bool)
    reported = is_(*REPORTED_STATES)
    flags = {
        "应报": in_register & is_(*REPORTED_STATES, MISSING, OVERDUE),
        "已报": reported,
        "台账外": reported & ~in_register,
        "未报": is_(MISSING, OVERDUE),
        "逾期未报": is_(OVERDUE),
        "逾期报送": reported & units["late"].astype(bool).to_numpy(dtype=bool),
        "退回修改": is_(RETURNED_STATE),
        "重复报送": is_(DUPLICATE),
        "草稿": is_(DRAFT),
    }
    counts = _group_sums([units["city"], units["form"]], ["city", "form"], flags)
    forms = [f for f in FORM_IDS if f in calendar.titles] or list(FORM_IDS)
    grid = pd.MultiIndex.from_product([list(cities), forms], names=["city", "form"])
    extra = counts.index.difference(grid)  # cities outside the list (a typo in a row) stay visible
    counts = counts.reindex(grid.append(extra), fill_value=0).astype(int)
    out = counts.reset_index()
    out["完成率"] = ((out["应报"] - out["未报"]) / out["应报"].where(out["应报"] > 0)).round(3)
    out.insert(1, "表单", out["form"].map(calendar.title))
    out["截止日期"] = out["form"].map(lambda f: calendar.deadlines.get(f))
    out = out.rename(columns={"city": "地市"}).drop(columns="form")
    return out[["地市", "表单", "应报", "已报", "未报", "逾期未报", "逾期报送", "退回修改", "台账外", "重复报送", "草稿", "完成率", "截止日期"]]


def _by_unit(units: pd.DataFrame, form_id: str) -> pd.DataFrame:
    u = units[["unit", "in_register", "state", "late"]].take(np.flatnonzero((units["form"] == form_id).to_numpy(dtype=bool)))
    is_ = _state_flags(u)
    reported = is_(*REPORTED_STATES)
    flags = {
        "台账项目": u["in_register"].astype(bool).to_numpy(dtype=bool) & is_(*REPORTED_STATES, MISSING, OVERDUE),
        "已报送": reported,
        "未报送": is_(MISSING, OVERDUE),
        "逾期未报": is_(OVERDUE),
        "逾期报送": reported & u["late"].astype(bool).to_numpy(dtype=bool),
        "退回修改": is_(RETURNED_STATE),
    }
    out = _group_sums([u["unit"]], ["单位"], flags).astype(int).reset_index()
    out["完成率"] = ((out["台账项目"] - out["未报送"]) / out["台账项目"].where(out["台账项目"] > 0)).round(3)
    return out


def _city_list(cities: list[str]) -> str:
    """The cities of a late entry, shortened when there are many.

    >>> _city_list(["广州", "佛山", "广州", "东莞", "中山"])
    '东莞、中山、佛山 等 4 个地市'
    """
    names = sorted(set(cities))
    return "、".join(names) if len(names) <= 3 else "、".join(names[:3]) + f" 等 {len(names)} 个地市"


def _late_list(units: pd.DataFrame, calendar: Calendar, as_of: dt.date) -> pd.DataFrame:
    """Who is late, with what and by how many days (most days first)."""
    cols = ["单位", "角色", "表单", "地市", "事项", "数量", "截止日期", "逾期天数"]
    past = [f for f, d in calendar.deadlines.items() if d is not None and as_of > d]
    parts = []
    for label, mask, days in (
        ("未报送", units["state"] == OVERDUE, "days_late"),
        ("逾期报送", units["state"].isin(REPORTED_STATES) & units["late"].astype(bool), "days_late"),
        ("退回修改未重新提交", (units["state"] == RETURNED_STATE) & units["form"].isin(past), None),
    ):
        pos = np.flatnonzero(mask.to_numpy(dtype=bool))
        if not len(pos):
            continue
        # groupby(["form", "unit"]): groups in key order, NaN keys dropped
        (forms, unit_names), group_of = _groups([units["form"].take(pos), units["unit"].take(pos)])
        keep = group_of >= 0
        size = np.bincount(group_of[keep], minlength=len(forms))
        most = np.full(len(forms), np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(most, group_of[keep], units["days_late"].to_numpy(dtype=np.int64)[pos][keep])
        g = pd.DataFrame({"form": forms, "unit": unit_names, "数量": size,
                          "逾期天数": most.astype(units["days_late"].dtype)})  # object when units is (empty parts)
        cities: list[set] = [set() for _ in forms]
        for k, city in zip(group_of.tolist(), units["city"].take(pos).tolist(), strict=True):
            if k >= 0:
                cities[k].add(city)
        g["地市"] = [_city_list(list(c)) for c in cities]
        if days is None:
            g["逾期天数"] = g["form"].map(lambda f: (as_of - calendar.deadlines[f]).days)
        g["事项"] = label + " " + g["数量"].astype(str) + " 项"
        parts.append(g)
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out["角色"] = out["form"].map(UNIT_ROLE)
    out["表单"] = out["form"].map(calendar.title)
    out["截止日期"] = out["form"].map(lambda f: calendar.deadlines.get(f))
    out = out.rename(columns={"unit": "单位"})
    return out.sort_values(["逾期天数", "数量"], ascending=False, kind="stable")[cols].reset_index(drop=True)


def _groups(keys: list[pd.Series]) -> tuple[list[list], np.ndarray]:
    """The distinct combinations of ``keys`` in sorted order (as groupby orders its groups) as
    one list of values per key, and each row's group number (-1 where a key is blank)."""
    codes, uniques = [], []
    for key in keys:
        c, u = pd.factorize(key, sort=True)
        codes.append(c)
        uniques.append(u)
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    blank = np.zeros(len(keys[0]), dtype=bool)
    for c, u in zip(codes, uniques, strict=True):
        combined = combined * max(len(u), 1) + np.maximum(c, 0)
        blank |= c < 0
    present, group_of = np.unique(combined[~blank], return_inverse=True)
    out = np.full(len(combined), -1, dtype=np.int64)
    out[~blank] = group_of
    values = []
    for u in reversed(uniques):
        n = max(len(u), 1)
        values.append(np.asarray(u, dtype=object)[present % n].tolist() if len(u) else [])
        present = present // n
    return values[::-1], out


def _group_sums(keys: list[pd.Series], names: list[str], flags: dict[str, np.ndarray]) -> pd.DataFrame:
    """``DataFrame({**keys, **flags}).groupby(names).sum()`` for boolean flags (counts as int64)."""
    groups, group_of = _groups(keys)
    keep = group_of >= 0
    data = {c: np.bincount(group_of[keep], weights=f[keep], minlength=len(groups[0])).astype(np.int64) for c, f in flags.items()}
    index = pd.Index(groups[0], name=names[0]) if len(names) == 1 else pd.MultiIndex.from_arrays(groups, names=names)
    return pd.DataFrame(data, index=index)


def _breakdown(rows: pd.DataFrame, by: str, column: str, order: tuple[str, ...], by_order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Long table (by, column, 项目数) with every (by, category) pair present."""
    if rows.empty:
        return pd.DataFrame(columns=[by, column, "项目数"])
    (keys, values), group_of = _groups([rows[by], rows[column]])
    size = np.bincount(group_of[group_of >= 0], minlength=len(keys))
    counts = dict(zip(zip(keys, values, strict=True), size.tolist(), strict=True))
    present = {k for k, _ in counts}
    cats = list(order) + sorted({c for _, c in counts} - set(order))
    keys = [k for k in by_order if k in present] + sorted(present - set(by_order))
    return pd.DataFrame([(k, c, counts.get((k, c), 0)) for k in keys for c in cats], columns=[by, column, "项目数"])


def _phases(calendar: Calendar, as_of: dt.date) -> tuple[pd.DataFrame, str]:
    rows = [{"阶段": name, "开始": start, "结束": end,
             "状态": "已结束" if as_of > end else ("进行中" if start <= as_of else "未开始")}
            for name, start, end in calendar.phases]
    current = next((r["阶段"] for r in rows if r["状态"] == "进行中"), "")
    return pd.DataFrame(rows, columns=["阶段", "开始", "结束", "状态"]), current


def board(prepared: Prepared, scope: Scope = Scope()) -> Board:
    """Step 2: every figure for one viewer's scope."""
    cal, as_of = prepared.calendar, prepared.as_of
    units = _scope_units(prepared.units, scope)
    cities = (scope.city,) if scope.kind == "city" else cal.cities
    if scope.kind in ("provider", "lead_unit"):
        cities = tuple(c for c in cal.cities if c in set(units["city"]))
    progress = _progress(units, cal, as_of, cities)
    if scope.kind == "provider":
        progress = progress[progress["表单"] == cal.title("att1")]
    elif scope.kind == "lead_unit":
        progress = progress[progress["表单"] == cal.title("att2")]

    issues = prepared.issues
    if scope.kind == "city":
        issues = issues[issues["地市"] == scope.city]
    elif scope.kind == "provider":
        issues = issues[(issues["服务商"] == scope.org) | (issues["填报账号"] == scope.account)]
    elif scope.kind == "lead_unit":
        issues = issues.iloc[0:0]
    providers = _by_unit(units, "att1").rename(columns={"单位": "服务商"})
    by_provider = summarize(issues, "服务商")
    providers = providers.merge(by_provider.drop(columns=["合计"]), on="服务商", how="left")
    for col in by_provider.columns:
        if col not in ("服务商", "合计"):
            providers[col] = providers[col].fillna(0).astype(int)
    providers = providers.sort_values(["未报送", "服务商"], ascending=[False, True], kind="stable").reset_index(drop=True)

    att1 = _scope_rows(prepared.att1, scope, "服务商")
    att2 = _scope_rows(prepared.att2, scope, "牵头单位" if scope.kind == "lead_unit" else None)
    att3 = _scope_rows(prepared.att3, scope, None)
    firsts1 = att1[att1["首次报送"].astype(bool)]
    firsts3 = att3[att3["首次报送"].astype(bool)]
    phases, current = _phases(cal, as_of)
    spending_bins = (
        att2["支出区间"].value_counts().reindex([*SPENDING_LABELS, EXEMPT, NO_RATIO], fill_value=0)
        .rename_axis("支出区间").rename("报告数").reset_index()
    )
    shown_units = units.rename(columns=UNIT_LABELS)
    shown_units["表单"] = shown_units["表单"].map({f: cal.title(f) for f in FORM_IDS})
    totals = {
        "应报": int(progress["应报"].sum()), "已报": int(progress["已报"].sum()), "未报": int(progress["未报"].sum()),
        "逾期未报": int(progress["逾期未报"].sum()), "退回修改": int(progress["退回修改"].sum()),
        "核对问题": int(len(issues)), "截至日期后创建": prepared.later,
    }
    return Board(
        scope=scope,
        as_of=as_of,
        progress=progress.reset_index(drop=True),
        units=shown_units.reset_index(drop=True),
        providers=providers,
        late=_late_list(units, cal, as_of),
        usage_by_city=_breakdown(firsts1, "地市", "使用状态", USAGE_STATES, cal.cities),
        usage_by_provider=_breakdown(firsts1, "服务商", "使用状态", USAGE_STATES),
        att1=att1.reset_index(drop=True),
        conclusions=_breakdown(firsts3, "地市", "检查结论", CONCLUSIONS, cal.cities),
        att3=att3.reset_index(drop=True),
        spending=att2.reset_index(drop=True),
        spending_bins=spending_bins,
        issues=issues.reset_index(drop=True),
        issues_by_provider=by_provider,
        issues_by_city=summarize(issues, "地市"),
        phases=phases,
        current_phase=current,
        totals=totals,
    )


def state_counts(board: Board, form_title: str) -> pd.DataFrame:
    """(地市, 状态, 数量) of one form's due and filed things, for a stacked bar per city.

    Duplicates, drafts and withdrawn rows are left out: they are neither due nor counted.
    """
    shown = (ON_TIME, LATE_FILED, RETURNED_STATE, MISSING, OVERDUE)
    u = board.units[(board.units["表单"] == form_title) & board.units["状态"].isin(shown)]
    counts = u.groupby(["地市", "状态"]).size().rename("数量").reset_index()
    order = {city: i for i, city in enumerate(board.progress["地市"].drop_duplicates())}  # the campaign's order
    counts = counts.assign(_o=counts["地市"].map(order)).sort_values(["_o", "地市"], kind="stable").drop(columns="_o")
    return counts[counts["数量"] > 0].reset_index(drop=True)


def compute_board(frames, vouchers, projects, calendar: Calendar, as_of: dt.date, scope: Scope = Scope()) -> Board:
    """Both steps at once (tests and one-off use)."""
    return board(prepare(frames, vouchers, projects, calendar, as_of), scope)


def narrow(frame: pd.DataFrame, **equals) -> pd.DataFrame:
    """Rows of ``frame`` whose columns equal the given values; None or "全部" means no filter.

    >>> f = pd.DataFrame({"地市": ["广州", "佛山"], "状态": ["未报送", "按时报送"]})
    >>> narrow(f, 地市="广州", 状态="全部")["地市"].tolist()
    ['广州']
    """
    mask = pd.Series(True, index=frame.index)
    for column, value in equals.items():
        if value is None or value == ALL or column not in frame:
            continue
        mask &= frame[column] == value
    return frame[mask]


ALL = "全部"

__all__ = [
    "ALL", "Board", "Calendar", "Prepared", "Scope", "board", "change_counter", "compute_board", "narrow",
    "prepare", "scope_for",
]
