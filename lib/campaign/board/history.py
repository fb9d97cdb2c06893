"""The board as of a day, from the log: every row as it stood at the end of that day, and when it was filed.

The store keeps each row's latest version and an audit entry for every change (``Store.audit``): a
creation carries the row's first values (rev 1), an update the values it changed as ``{key: (old, new)}``
and, when the status moved, ``_status: (old, new)``. ``as_of`` undoes, from a snapshot, every change
made after the day, so the late list of 9-19 can be drawn again weeks later; and it adds the column
``_filed_at``, the time the board measures lateness from:

* A row is **filed** when it enters a filed status (``lib.core.statuses.FILED``: 已提交, 退回修改,
  已重新提交, 已通过) from one that is not (its creation, 草稿, 已撤回). A draft saved on 9-10 and
  submitted on 9-30 was filed on 9-30; as of 9-15 it is a 草稿 and not filed (``NaT``).
* Withdrawn (已撤回) and submitted again, it counts from the resubmission: the withdrawal took the
  filing back.
* Returned (退回修改) and resubmitted, it keeps its first filing: the row was filed, and the reviewer
  asked for a correction; meanwhile the board shows it as 退回修改 (its status that day).
* ``_filed_at`` is ``NaT`` for a row not in a filed status that day.

Entries newer than the snapshot (a revision above the row's ``_rev``, or a row not in the snapshot)
are ignored: the audit may be read a moment after the snapshot. Events (rev 0: a refused access, a
sign-in lock) change no row and are ignored too. When the audit lacks a row's newest revisions (it
was read before the snapshot, or none was given for the row), what they changed is unknown: the row
stands as in the snapshot and, in a filed status, ``_filed_at`` is its ``_updated_at`` — the latest
it can have been filed, so its lateness is never understated. Entries that skip or repeat a revision
below the newest one (a damaged or merged log, which the store itself refuses to read) would set
values back wrongly: ``as_of`` raises ``AppError`` with code ``history_gap`` naming the rows.

Times are the store's naive local datetimes; an audit time that carries a timezone (a log line with
an offset) is read on the wall clock people read (``lib.core.values.WALL_CLOCK``). The end of ``day``
is midnight after it.

>>> import datetime as dt
>>> from lib.core.records import AuditEntry
>>> from lib.core.statuses import SUBMITTED
>>> snap = pd.DataFrame({"_id": ["r1"], "_rev": [2], "_status": [SUBMITTED],
...                      "_created_at": [dt.datetime(2021, 9, 10, 9)], "_updated_at": [dt.datetime(2021, 9, 30, 9)],
...                      "_updated_by": ["p1"], "name": ["新"]})
>>> audit = [AuditEntry(dt.datetime(2021, 9, 10, 9), "p1", "新增", "f", "r1", 1, {"name": (None, "旧")}),
...          AuditEntry(dt.datetime(2021, 9, 30, 9), "p1", "提交", "f", "r1", 2,
...                     {"name": ("旧", "新"), "_status": ("草稿", SUBMITTED)})]
>>> standing, later = as_of({"f": snap}, audit, dt.date(2021, 9, 15))
>>> standing["f"][["_rev", "_status", "name"]].values.tolist(), bool(standing["f"]["_filed_at"].isna().all())
([[1, '草稿', '旧']], True)
>>> str(as_of({"f": snap}, audit, dt.date(2021, 9, 30))[0]["f"]["_filed_at"].iloc[0])
'2021-09-30 09:00:00'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from lib.core.errors import AppError
from lib.core.records import AuditEntry
from lib.core.statuses import FILED
from lib.core.values import WALL_CLOCK

#: The column ``as_of`` adds: when the row was filed, as of the day (NaT: not filed that day).
FILED_AT = "_filed_at"

_TIME = "datetime64[us]"  # the store's time columns
_LOG_COLUMNS = ["i", "form", "row", "rev", "at", "account", "old_status", "new_status"]
#: Rows named in a history_gap message; more are counted, not listed.
_NAMED_ROWS = 5


def as_of(frames: dict[str, pd.DataFrame], audit: Sequence[AuditEntry],
          day: dt.date) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """``(standing, later)``: per form id of ``frames`` (``Store.snapshot``), the rows as they stood at
    the end of ``day`` with ``_filed_at`` added, and the rows created after ``day`` (as in the snapshot).

    ``audit`` holds the forms' audit entries (``Store.audit``), oldest first or not, other forms' too.
    """
    end = pd.Timestamp(day).normalize() + pd.Timedelta(days=1)  # midnight after the day
    log = _log(audit)
    by_form = dict(tuple(log.groupby("form", sort=False))) if len(log) else {}
    standing, later = {}, {}
    for form, frame in frames.items():
        created = pd.to_datetime(frame["_created_at"]).astype(_TIME)
        before = (created < end).to_numpy()
        entries, behind = _known(by_form.get(form, log.iloc[:0]), frame, form)
        standing[form] = _standing(frame, entries, behind, audit, end)[before].reset_index(drop=True)
        later[form] = frame[~before].reset_index(drop=True)
    return standing, later


def _log(audit: Sequence[AuditEntry]) -> pd.DataFrame:
    """One line per row change (events left out): where it is in ``audit``, which row, revision, time,
    account, and the status it moved from and to (None when the status stayed)."""
    lines = [(i, a.form_id, a.row_id, a.rev, a.at, a.account, *(a.changes.get("_status") or (None, None)))
             for i, a in enumerate(audit) if a.rev > 0]
    columns = list(zip(*lines)) or [()] * len(_LOG_COLUMNS)
    # Plain object columns: ids are only matched, and pandas' own text columns match them many times slower.
    log = pd.DataFrame({name: np.array(values, dtype=object) for name, values in zip(_LOG_COLUMNS, columns, strict=True)})
    try:
        return log.astype({"i": "int64", "rev": "int64", "at": _TIME})
    except (TypeError, ValueError):  # a time with a timezone: each read on the wall clock (rare, so looked at only then)
        log["at"] = [t if t.tzinfo is None else t.astimezone(WALL_CLOCK).replace(tzinfo=None) for t in log["at"]]
        return log.astype({"i": "int64", "rev": "int64", "at": _TIME})


def _known(entries: pd.DataFrame, frame: pd.DataFrame, form: str) -> tuple[pd.DataFrame, np.ndarray]:
    """``entries`` of the rows in ``frame`` whose history they hold up to the revision the frame shows,
    with the row's position (``pos``), sorted by row then revision; and, per row of ``frame``, whether
    the entries lack its newest revisions (``behind``: it stands as in the snapshot).

    Raises ``AppError`` (``history_gap``) when a row's entries skip or repeat a revision."""
    revs = frame["_rev"].to_numpy()
    pos = pd.Index(frame["_id"].to_numpy(dtype=object)).get_indexer(entries["row"].to_numpy())
    entries = entries.assign(pos=pos)[pos >= 0]
    entries = entries[entries["rev"].to_numpy() <= revs[entries["pos"].to_numpy()]]
    entries = entries.sort_values(["pos", "rev"], kind="stable")
    p, r = entries["pos"].to_numpy(), entries["rev"].to_numpy()
    # Complete up to its newest entry, a row's entries are its revisions 1, 2, 3 ... in order.
    starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]]) if len(p) else np.zeros(0, dtype=np.intp)
    nth = np.arange(len(p)) - np.repeat(starts, np.diff(np.r_[starts, len(p)])) + 1
    broken = r != nth
    if broken.any():
        ids = frame["_id"].to_numpy(dtype=object)[np.unique(p[broken])]
        named = "、".join(map(str, ids[:_NAMED_ROWS])) + (f" 等 {len(ids)} 条" if len(ids) > _NAMED_ROWS else "")
        raise AppError(f"表单「{form}」记录 {named} 的修改历史缺少或重复了版本，无法还原其在所选日期的状态；"
                       "请运行 verify 检查数据日志。", code="history_gap")
    behind = np.bincount(p, minlength=len(frame)) < revs
    return entries[~behind[p]], behind


def _standing(frame: pd.DataFrame, entries: pd.DataFrame, behind: np.ndarray, audit: Sequence[AuditEntry],
              end: pd.Timestamp) -> pd.DataFrame:
    out = frame.copy()
    status = _statuses(frame, entries, end)
    after = entries[(entries["at"] >= end) & (entries["rev"] > 1)]
    if len(after):  # the day is before some change: undo it
        _undo(out, entries, after, audit)
        out["_status"] = status["status"].to_numpy()
    filed = status["filed_at"].to_numpy(copy=True)
    if behind.any():  # the latest such a row can have been filed
        filed[behind] = pd.to_datetime(frame["_updated_at"]).astype(_TIME).to_numpy()[behind]
    out[FILED_AT] = pd.Series(filed, index=out.index).where(status["status"].isin(FILED).to_numpy()).astype(_TIME)
    return out


def _statuses(frame: pd.DataFrame, entries: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """Per row of ``frame`` (by position): its status at ``end`` and when it last entered a filed
    status before ``end`` (NaT if never)."""
    moves = entries[entries["new_status"].notna()]
    # A creation entry does not carry the first status: it is what the first move left, else the status now.
    first = frame["_status"].to_numpy(dtype=object, copy=True)
    firsts = moves.drop_duplicates("pos", keep="first")
    first[firsts["pos"].to_numpy()] = firsts["old_status"].to_numpy()
    creations = pd.DataFrame({"pos": np.arange(len(frame)), "rev": 1, "old_status": None, "new_status": first,
                              "at": pd.to_datetime(frame["_created_at"]).astype(_TIME).to_numpy()})
    timeline = pd.concat([creations, moves[["pos", "rev", "old_status", "new_status", "at"]]], ignore_index=True)
    timeline = timeline[timeline["at"] < end].sort_values(["pos", "rev"], kind="stable")
    entering = timeline["new_status"].isin(FILED) & ~timeline["old_status"].isin(FILED)
    last = timeline.drop_duplicates("pos", keep="last").set_index("pos")
    filed = timeline[entering].drop_duplicates("pos", keep="last").set_index("pos")
    index = pd.RangeIndex(len(frame))
    return pd.DataFrame({"status": last["new_status"].reindex(index).to_numpy(),
                         "filed_at": filed["at"].reindex(index).astype(_TIME).to_numpy()})


def _undo(out: pd.DataFrame, entries: pd.DataFrame, after: pd.DataFrame, audit: Sequence[AuditEntry]) -> None:
    """Set back, in ``out``, the values, revision and last change of each row that ``after`` (its entries
    past the day) changed. Only the later entries' changes are read, never the whole log."""
    first_after = after.drop_duplicates("pos", keep="first")
    pos = first_after["pos"].to_numpy()
    rev = first_after["rev"].to_numpy() - 1
    out["_rev"] = _put(out["_rev"], pos, rev)
    then = entries.set_index(["pos", "rev"])[["at", "account"]]
    last = then.reindex(pd.MultiIndex.from_arrays([pos, rev]))
    found = last["at"].notna().to_numpy()
    out["_updated_at"] = _put(out["_updated_at"], pos[found], last["at"].to_numpy()[found])
    out["_updated_by"] = _put(out["_updated_by"], pos[found], last["account"].to_numpy()[found])
    changed = [(p, r, key, old) for i, p, r in zip(after["i"].tolist(), after["pos"].tolist(), after["rev"].tolist())
               for key, (old, _new) in audit[i].changes.items() if not key.startswith("_")]
    olds = pd.DataFrame(changed, columns=["pos", "rev", "key", "old"])
    olds = olds.sort_values(["pos", "rev"], kind="stable").drop_duplicates(["pos", "key"], keep="first")
    for key, rows in olds.groupby("key", sort=False):
        if key in out:
            out[key] = _put(out[key], rows["pos"].to_numpy(), rows["old"].to_numpy())


def _put(column: pd.Series, pos: np.ndarray, values: np.ndarray) -> pd.Series:
    """``column`` with ``values`` at positions ``pos``, keeping its dtype where the values allow."""
    data = column.to_numpy(dtype=object, copy=True)
    data[pos] = values
    put = pd.Series(data, index=column.index, dtype=object)
    # Typed again only when the values are of the column's type, as the store types a column; None put
    # back among integers keeps objects rather than turning every number into a float.
    typed = put.infer_objects()
    return typed if typed.dtype == column.dtype else put
