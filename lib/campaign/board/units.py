"""Units: one row per thing that is due or was filed for a form, with its reporting state.

A unit is a register entry (filed or not), a filing of a key the register does not know, a later
filing of a key already filed (重复报送), or a draft / withdrawn row. Its state decides every count
of the board. A unit's filing time is when its row was filed (``_filed_at``: when it last entered a
counted status, ``lib.campaign.board.history``), never when its draft was created. A unit that owes
no report (the notice exempts the Ministry's projects from 附件2) is 免报: not due, never late.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from lib.campaign.register.reconcile import take_or_blank
from lib.core.statuses import DRAFT, FILED, NOT_FILED, RETURNED, WITHDRAWN

ON_TIME = "按时报送"
LATE_FILED = "逾期报送"
RETURNED_STATE = RETURNED  # a row still returned to its filer: the status is the state
MISSING = "未报送"
OVERDUE = "逾期未报"
DUPLICATE = "重复报送"
EXEMPT = "免报（工信部项目）"
STATES = (ON_TIME, LATE_FILED, RETURNED_STATE, MISSING, OVERDUE, EXEMPT, DUPLICATE, DRAFT, WITHDRAWN)
REPORTED_STATES = (ON_TIME, LATE_FILED, RETURNED_STATE)
#: The states of a unit that stands for a register entry (with its first filing, if any); the others stand for a row.
ENTRY_STATES = (*REPORTED_STATES, MISSING, OVERDUE, EXEMPT)

#: The dtype pandas gives a column of text made from one string (a state column).
_TEXT = pd.Series([ON_TIME]).dtype

#: Chinese headers of the units' columns, for display and export.
UNIT_LABELS = {
    "form": "表单", "city": "地市", "unit": "单位", "owner": "填报账号", "key": "编号", "name": "名称",
    "in_register": "台账内", "state": "状态", "late": "逾期", "reported_at": "填报时间", "days_late": "逾期天数",
    "row_id": "记录编号", "status": "记录状态",
}


def is_datetime(values: pd.Series) -> bool:
    """Whether ``values`` is a plain (timezone-naive) numpy datetime64 column."""
    return isinstance(values.dtype, np.dtype) and values.dtype.kind == "M"


def _late(at: pd.Series, deadline: dt.date | None) -> pd.Series:
    if deadline is None:
        return pd.Series(False, index=at.index)
    return pd.to_datetime(at) >= pd.Timestamp(deadline) + pd.Timedelta(days=1)


def _days_late(at: pd.Series, deadline: dt.date | None) -> pd.Series:
    if deadline is None:
        return pd.Series(0, index=at.index)
    stamps = pd.to_datetime(at)
    if is_datetime(stamps):  # naive datetime64: whole days in numpy (floor to the day, as normalize)
        values = stamps.to_numpy()
        days = (values.astype("datetime64[D]") - np.datetime64(deadline, "D")).astype(np.int64)
        days[np.isnat(values)] = 0
        return pd.Series(np.maximum(days, 0), index=at.index)
    days = (stamps.dt.normalize() - pd.Timestamp(deadline)).dt.days
    return days.clip(lower=0).fillna(0).astype(int)


def filed_frame(frame: pd.DataFrame, key: pd.Series, city: pd.Series, unit: pd.Series, name: pd.Series,
                exempt: pd.Series | None = None) -> pd.DataFrame:
    """The filed rows of a form (a meaning frame as it stood, with ``_filed_at``) in the units shape
    (before matching); ``exempt``: the rows that say they owe no report."""
    out = pd.DataFrame(
        {
            "key": key.values,
            "city": city.fillna("").values,
            "unit": unit.fillna("").values,
            "owner": frame["_owner"].fillna("").values,
            "name": name.fillna("").values,
            "status": frame["_status"].values,
            "reported_at": pd.to_datetime(frame["_filed_at"]).values,
            "row_id": frame["_id"].values,
        }
    )
    if exempt is not None:
        out["exempt"] = exempt.to_numpy(dtype=bool)
    return out


def build_units(
    form_id: str, filed: pd.DataFrame, expected: pd.DataFrame, deadline: dt.date | None, as_of: dt.date,
    presorted: bool = False,
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per due or filed thing of one form, and which rows of ``filed`` are first filings.

    ``filed``: every row in the shape of ``filed_frame``; ``expected``: key, city, unit, name of each
    register entry. Columns out: form, key, city, unit, owner, name, in_register, state, late,
    reported_at, days_late, row_id, status. ``presorted``: ``filed`` is already in filing order.
    An ``exempt`` column (bool) in ``expected`` or ``filed`` marks what owes no report: an entry the
    register exempts or whose first filing says so, and a filing off the register that says so, is
    EXEMPT (counted apart, never late); its repeats and drafts keep their own states. A ``decided``
    column (bool) in ``expected`` marks the entries whose exemption the register alone decides: a
    filing's own claim does not change theirs.

    The rows are those of a left merge of the register entries with the first filing of each key,
    then the filings of keys not in the register, the later filings of a key (duplicates) and the
    drafts / withdrawn rows; they are found by hash lookups on the keys, and the frame is taken
    from ``filed`` and ``expected`` by position.
    """
    status = filed["status"]
    counted = np.flatnonzero(status.isin(FILED).to_numpy(dtype=bool))
    if not presorted and len(counted) > 1:
        when = filed[["reported_at", "row_id"]].take(counted).reset_index(drop=True)
        counted = counted[when.sort_values(["reported_at", "row_id"], kind="stable").index.to_numpy()]
    keys = filed["key"].to_numpy(dtype=object)
    repeat = pd.Index(keys[counted], dtype=object).duplicated()
    first, dup_pos = counted[~repeat], counted[repeat]
    first_flags = np.zeros(len(filed), dtype=bool)
    first_flags[first] = True
    other_pos = np.flatnonzero(status.isin(NOT_FILED).to_numpy(dtype=bool))

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
        joined[c] = take_or_blank(filed[c], filing)
    joined["in_register"] = True
    filed_exempt = filed["exempt"].to_numpy(dtype=bool) if "exempt" in filed else np.zeros(len(filed), dtype=bool)
    entry_exempt = exp["exempt"].to_numpy(dtype=bool) if "exempt" in exp else np.zeros(len(exp), dtype=bool)
    claimed = filed_exempt[np.maximum(filing, 0)] & (filing >= 0) if len(filed) else np.zeros(len(exp), dtype=bool)
    decided = exp["decided"].to_numpy(dtype=bool) if "decided" in exp else np.zeros(len(exp), dtype=bool)
    joined["exempt"] = entry_exempt | (claimed & ~decided)
    off = filed.take(first[exp_index.get_indexer(first_keys) < 0])
    off["in_register"] = False
    off["exempt"] = filed_exempt[first[exp_index.get_indexer(first_keys) < 0]]
    # a duplicate or a draft of a register entry belongs to the entry's city and unit
    parts = [(joined, "main"), (off, "main")]
    for pos, kind in ((dup_pos, "dup"), (other_pos, "other")):
        part = filed.take(pos)
        at = exp_index.get_indexer(pd.Index(keys[pos], dtype=object))
        part["in_register"] = at >= 0
        for c in ("city", "unit"):
            part[c] = take_or_blank(exp[c], at).set_axis(part.index).fillna(part[c])
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
            exempt = part["exempt"].to_numpy(dtype=bool)
            state[exempt] = EXEMPT
            late = late & ~exempt
            days[exempt] = 0
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
