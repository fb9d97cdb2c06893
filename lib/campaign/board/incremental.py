"""Step 1 again after a few rows were added or changed: the rows applied to the previous ``Prepared``
instead of preparing every row again (issue 17: a new row at 100,000 rows).

What a row contributes to the prepared frames depends on the row itself (its reader keys, its detail
row) and on the other rows counted by the same key: the units of a key (its register entry, its first
filing, its repeats and drafts) and, for the projects form, the reconciliation issues of a voucher.
The key comes from the row's own values and the registers' lookups (``preparation.Registers``). So,
from the previous ``Basis``:

1. the rows whose revision moved or that are new are found by ``_id`` and ``_rev`` (rows are never
   deleted, and the snapshot keeps them in the order they were created);
2. only they are taken as they stood on the day (``history.as_of``, with their own audit entries);
3. their keys before and after the change name the affected keys; every row counted by one of them
   (kept from the previous basis as it stood) is prepared again with the register entries of those
   keys alone (``Registers.only``), and what the previous ``Prepared`` held for those keys and rows is
   replaced by the result.

Anything else is a full ``start``: the registers, the day or the calendar changed (``Basis.key``), a
row went missing or moved, or more rows changed than ``LIMIT``. The result holds the same rows as a
full prepare (tests/campaign/test_board_incremental.py checks it on random sequences); the rows
prepared again come after the others, so the tables' order may differ from a full prepare's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lib.campaign.board import history
from lib.campaign.board.preparation import (
    Prepared,
    Registers,
    check_keys,
    form_rows,
    meaning_frames,
    prepare,
    readers,
    registers,
    report_keys,
)
from lib.campaign.register.reconcile import member, normalize_code
from lib.campaign.schedule import Calendar
from lib.core.records import AuditEntry

#: Above this many new or changed rows, a full prepare (their audit is read row by row).
LIMIT = 200

#: The audit entries of some rows of a form: ``audit_of(form_id, row_ids)`` (``Store.audit`` by row).
AuditOf = Callable[[str, list[str]], Iterable[AuditEntry]]


@dataclass(frozen=True)
class Basis:
    """A ``Prepared`` with what it was made from, so that the next change can be applied to it."""

    key: tuple  # what else it depends on (the day, the calendar, the registers' change counter): any change, a full prepare
    regs: Registers
    ids: dict[str, np.ndarray]  # per form: the snapshot's row ids, in its order
    revs: dict[str, np.ndarray]  # per form: each row's revision
    standing: dict[str, pd.DataFrame]  # per form: the rows created up to the day, as they stood (history.as_of)
    groups: dict[str, pd.Series]  # per form: row id -> the key its units are counted by (standing rows)
    prepared: Prepared


def _ids_revs(frame: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    if frame is None or frame.empty:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    return frame["_id"].to_numpy(dtype=object), frame["_rev"].to_numpy(dtype=np.int64)


def groups(standing: dict[str, pd.DataFrame], regs: Registers, calendar: Calendar) -> dict[str, pd.Series]:
    """Row id -> the key its form counts it by (``preparation.prepare``'s keys): the voucher for the
    projects form (a conflicting filing's key starts with it; its issues are the voucher's), the
    report key and the check key for the other two."""
    f1, f2, f3 = calendar.forms
    a1, a2, a3 = meaning_frames(standing, calendar)
    out = {}
    for form, frame, keys in ((f1, a1, lambda: normalize_code(a1["voucher"])), (f2, a2, lambda: report_keys(a2, regs)),
                              (f3, a3, lambda: check_keys(a3, regs))):
        out[form] = pd.Series(keys().to_numpy(dtype=object) if len(frame) else np.zeros(0, dtype=object),
                              index=pd.Index(frame["_id"].to_numpy(dtype=object) if len(frame) else [], dtype=object), dtype=object)
    return out


def start(frames: dict[str, pd.DataFrame], audit: Iterable[AuditEntry], vouchers: pd.DataFrame | None,
          projects: pd.DataFrame | None, calendar: Calendar, as_of: dt.date, key: tuple = ()) -> Basis:
    """A full prepare (``preparation.prepare_as_of``), kept as the basis of the next changes. ``key``:
    what the caller knows the result also depends on (the registers' change counter)."""
    cut = {f: form_rows(frames.get(f)) for f in calendar.forms}
    standing, later = history.as_of(cut, list(audit), as_of)
    regs = registers(vouchers, projects, calendar)
    prepared = prepare(standing, None, None, calendar, as_of, later, regs=regs)
    pairs = {f: _ids_revs(frames.get(f)) for f in calendar.forms}
    return Basis((as_of, key), regs, {f: p[0] for f, p in pairs.items()}, {f: p[1] for f, p in pairs.items()},
                 standing, groups(standing, regs, calendar), prepared)


def _changed(basis: Basis, form: str, frame: pd.DataFrame | None) -> np.ndarray | None:
    """Positions in ``frame`` of the rows new or changed since ``basis`` (None: a row went missing or moved)."""
    ids, revs = _ids_revs(frame)
    old_ids, old_revs = basis.ids[form], basis.revs[form]
    n = len(old_ids)
    if len(ids) < n or not np.array_equal(ids[:n], old_ids):
        return None
    return np.concatenate([np.flatnonzero(revs[:n] != old_revs), np.arange(n, len(ids))])


def _without(frame: pd.DataFrame, drop: np.ndarray) -> pd.DataFrame:
    return frame if not drop.any() else frame[~drop]


def _joined(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``old`` then ``new``, one index; a side without rows does not change the other's column types."""
    if new.empty:
        return old.reset_index(drop=True)
    if old.empty:
        return new.reset_index(drop=True)
    out = pd.concat([old, new], ignore_index=True)
    for column, kind in old.dtypes.items():  # a few rows prepared alone may be typed more loosely (text as objects)
        if out[column].dtype != kind:
            try:
                out[column] = out[column].astype(kind)
            except (TypeError, ValueError):
                pass
    return out


def _rows_of(frame: pd.DataFrame, ids: dict[str, set]) -> np.ndarray:
    """Which rows of a readers frame (form, row_id) are among ``ids`` (form -> row ids)."""
    drop = np.zeros(len(frame), dtype=bool)
    for form, these in ids.items():
        if these:
            drop |= (frame["form"] == form).to_numpy(dtype=bool) & member(frame["row_id"], these).to_numpy(dtype=bool)
    return drop


def advance(basis: Basis | None, frames: dict[str, pd.DataFrame], audit_of: AuditOf, calendar: Calendar,
            as_of: dt.date, key: tuple = ()) -> Basis | None:
    """``basis`` with the rows of ``frames`` (the store's new snapshots) that are new or changed since
    applied; None when only a full ``start`` will do (see the module docstring)."""
    if basis is None or basis.key != (as_of, key):  # the caller's key holds the calendar's
        return None
    f1, f2, f3 = calendar.forms
    changed: dict[str, np.ndarray] = {}
    for form in calendar.forms:
        pos = _changed(basis, form, frames.get(form))
        if pos is None:
            return None
        changed[form] = pos
    if sum(len(p) for p in changed.values()) > LIMIT:
        return None
    if not any(len(p) for p in changed.values()):
        return basis

    # the changed rows as they stood on the day, and the keys they were and are counted by
    fresh, fresh_later = {}, {}
    for form, pos in changed.items():
        sub = frames[form].take(pos) if len(pos) else frames.get(form, pd.DataFrame()).iloc[0:0]
        ids = sub["_id"].astype(object).tolist() if len(pos) else []
        stood, later = history.as_of({form: sub.reset_index(drop=True)} if len(pos) else {}, list(audit_of(form, ids)) if ids else [], as_of)
        fresh[form] = stood.get(form, basis.standing[form].iloc[0:0])
        fresh_later[form] = later.get(form)
    now = groups(fresh, basis.regs, calendar)
    touched, affected, redo = {}, {}, {}
    for form in calendar.forms:
        changed_ids = set(basis.ids[form][changed[form][changed[form] < len(basis.ids[form])]].tolist())
        old = basis.groups[form]
        before = set(old[member(pd.Series(old.index, dtype=object), changed_ids).to_numpy(dtype=bool)].tolist()) if changed_ids else set()
        touched[form] = before | set(now[form].tolist())
        same = member(old, touched[form]).to_numpy(dtype=bool) & ~member(pd.Series(old.index, dtype=object), changed_ids | set(now[form].index)).to_numpy(dtype=bool)
        kept = basis.standing[form][same] if len(old) else basis.standing[form].iloc[0:0]
        redo[form] = _joined(kept, fresh[form])
        affected[form] = set(old.index[member(old, touched[form]).to_numpy(dtype=bool)].tolist()) | set(now[form].index.tolist())
    again = prepare(redo, None, None, calendar, as_of, None, regs=basis.regs.only(touched[f1], touched[f2], touched[f3]))

    p = basis.prepared
    units = p.units
    stale = np.zeros(len(units), dtype=bool)
    for form in calendar.forms:
        if touched[form]:
            stale |= (units["form"] == form).to_numpy(dtype=bool) & member(units["key"], touched[form]).to_numpy(dtype=bool)
    issues = _without(p.issues, member(p.issues["服务券编号"], touched[f1]).to_numpy(dtype=bool)) if touched[f1] else p.issues

    def detail(table: pd.DataFrame, new: pd.DataFrame, form: str) -> pd.DataFrame:
        if not affected[form]:
            return table
        return _joined(_without(table, member(table["记录编号"], affected[form]).to_numpy(dtype=bool)), new)

    later_ids = {f: set(fl["_id"].astype(object).tolist()) for f, fl in fresh_later.items() if fl is not None and len(fl)}
    later = p.later
    if later_ids:
        new_later = readers({f: fresh_later[f] for f in later_ids}, calendar.city_fields)
        later = _joined(_without(later, _rows_of(later, later_ids)), new_later) if later is not None else new_later
    prepared = replace(
        p, units=_joined(_without(units, stale), again.units), issues=_joined(issues, again.issues),
        project_rows=detail(p.project_rows, again.project_rows, f1), benchmark_rows=detail(p.benchmark_rows, again.benchmark_rows, f2),
        check_rows=detail(p.check_rows, again.check_rows, f3),
        readers=_joined(_without(p.readers, _rows_of(p.readers, affected)), again.readers), later=later)

    standing, grouped, ids, revs = dict(basis.standing), dict(basis.groups), dict(basis.ids), dict(basis.revs)
    for form in calendar.forms:
        if not len(changed[form]):
            continue
        ids[form], revs[form] = _ids_revs(frames[form])
        gone = set(fresh[form]["_id"].astype(object).tolist()) if len(fresh[form]) else set()
        if gone:
            old_ids = pd.Series(basis.standing[form]["_id"].to_numpy(dtype=object), dtype=object) if len(basis.standing[form]) else pd.Series(dtype=object)
            standing[form] = _joined(_without(basis.standing[form], member(old_ids, gone).to_numpy(dtype=bool)), fresh[form])
            keep = ~member(pd.Series(grouped[form].index, dtype=object), gone).to_numpy(dtype=bool)
            grouped[form] = pd.concat([grouped[form][keep], now[form]])
    return replace(basis, ids=ids, revs=revs, standing=standing, groups=grouped, prepared=prepared)
