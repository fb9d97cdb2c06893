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

The rows as they stood are kept as the full prepare's frames plus the rows changed since (``patch``):
a change copies a few rows, not every row; and the lookups over whole columns are hash lookups of a
few keys (``among``).

Anything else is a full ``start``: the registers, the day or the calendar changed (``Basis.key``), a
row went missing or moved, more rows changed than ``LIMIT``, or ``APPLIED`` changes were applied since.
The province's counts (``lib.campaign.board.counts``) are moved with the frames: the rows replaced
taken off, those replacing them added. The result holds the same rows as a
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
from lib.campaign.board.counts import Counts, Parts
from lib.campaign.board.preparation import (
    Prepared,
    Registers,
    among,
    check_keys,
    form_rows,
    meaning_frames,
    prepare,
    readers,
    registers,
    report_keys,
)
from lib.campaign.register.reconcile import normalize_code
from lib.campaign.schedule import Calendar
from lib.core.records import AuditEntry

#: Above this many new or changed rows, a full prepare (their audit is read row by row).
LIMIT = 200
#: After this many changes applied, a full prepare: each change leaves the frames' text columns in a few more
#: pieces (``_replaced``), which slowly makes every pass over them dearer; a full prepare joins them again.
APPLIED = 1000

#: The audit entries of some rows of a form: ``audit_of(form_id, row_ids)`` (``Store.audit`` by row).
AuditOf = Callable[[str, list[str]], Iterable[AuditEntry]]


@dataclass(frozen=True)
class Basis:
    """A ``Prepared`` with what it was made from, so that the next change can be applied to it."""

    key: tuple  # what else it depends on (the day, the calendar, the registers' change counter): any change, a full prepare
    regs: Registers
    ids: dict[str, pd.Series]  # per form: the snapshot's row ids, in its order
    revs: dict[str, np.ndarray]  # per form: each row's revision
    standing: dict[str, pd.DataFrame]  # per form: the rows created up to the day, as they stood at the full prepare
    groups: dict[str, pd.Series]  # per form: row id -> the key its units are counted by (of ``standing``)
    patch: dict[str, pd.DataFrame]  # per form: the rows of ``standing`` changed since, and the new ones, as they stand
    patch_groups: dict[str, pd.Series]  # their keys
    prepared: Prepared
    applied: int = 0  # changes applied since the full prepare (``APPLIED``)
    #: What the last ``advance`` changed in ``prepared``: the rows of each frame it took off and those it put in
    #: (both, in one ``Prepared``); None after a full ``start``. ``scope.touches`` reads it: a scope none of them
    #: reaches has the same board as before.
    delta: Prepared | None = None


def _ids_revs(frame: pd.DataFrame | None) -> tuple[pd.Series, np.ndarray]:
    if frame is None or frame.empty:
        return pd.Series([], dtype=object), np.zeros(0, dtype=np.int64)
    return frame["_id"], frame["_rev"].to_numpy(dtype=np.int64)


def _ids(frame: pd.DataFrame) -> pd.Series:
    return pd.Series(frame["_id"].to_numpy(dtype=object) if len(frame) else [], dtype=object)


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
                              index=pd.Index(_ids(frame), dtype=object), dtype=object)
    return out


def start(frames: dict[str, pd.DataFrame], audit: Iterable[AuditEntry], vouchers: pd.DataFrame | None,
          projects: pd.DataFrame | None, calendar: Calendar, as_of: dt.date, key: tuple = ()) -> Basis:
    """A full prepare (``preparation.prepare_as_of``), kept as the basis of the next changes. ``key``:
    what the caller knows the result also depends on besides the day (the calendar, the registers'
    change counter)."""
    cut = {f: form_rows(frames.get(f)) for f in calendar.forms}
    standing, later = history.as_of(cut, list(audit), as_of)
    regs = registers(vouchers, projects, calendar)
    prepared = prepare(standing, None, None, calendar, as_of, later, regs=regs)
    prepared = replace(prepared, counts=Counts.of(Parts(prepared.units, prepared.project_rows, prepared.check_rows, prepared.issues),
                                                  calendar, as_of))
    pairs = {f: _ids_revs(frames.get(f)) for f in calendar.forms}
    grouped = groups(standing, regs, calendar)
    return Basis((as_of, key), regs, {f: p[0] for f, p in pairs.items()}, {f: p[1] for f, p in pairs.items()},
                 standing, grouped, {f: standing[f].iloc[0:0] for f in calendar.forms},
                 {f: grouped[f].iloc[0:0] for f in calendar.forms}, prepared)


#: How many row ids, spread over the snapshot, ``_changed`` compares with the previous one's.
SAMPLED = 256


def _changed(basis: Basis, form: str, frame: pd.DataFrame | None) -> np.ndarray | None:
    """Positions in ``frame`` of the rows new or changed since ``basis`` (None: a row went missing or
    moved). Rows are only ever appended: the same count of rows or more, and the same ids at a few
    hundred places spread over the previous ones (ids are unique and random), is the same store."""
    ids, revs = _ids_revs(frame)
    old_ids, old_revs = basis.ids[form], basis.revs[form]
    n = len(old_ids)
    if len(ids) < n:
        return None
    if n:
        at = np.unique(np.linspace(0, n - 1, min(n, SAMPLED)).astype(np.intp))
        if ids.take(at).astype(object).tolist() != old_ids.take(at).astype(object).tolist():
            return None
    return np.concatenate([np.flatnonzero(revs[:n] != old_revs), np.arange(n, len(ids))])


def _without(frame: pd.DataFrame, drop: np.ndarray) -> pd.DataFrame:
    return frame if not drop.any() else frame[~drop]


def _typed(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """The few rows of ``new`` with ``old``'s column types where they can take them (prepared alone, text
    may come out as objects), so that the many of ``old`` are not converted when they are joined."""
    new = new.copy()
    for column, kind in old.dtypes.items():
        if column in new and new[column].dtype != kind:
            try:
                new[column] = new[column].astype(kind)
            except (TypeError, ValueError):
                pass
    return new


def _joined(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``old`` then ``new``, one index (``new`` typed as ``old``: ``_typed``)."""
    if new.empty:
        return old.reset_index(drop=True)
    if old.empty:
        return new.reset_index(drop=True)
    return pd.concat([old, _typed(new, old)], ignore_index=True)


#: Above this many rows dropped from a frame at once, ``_replaced`` filters it instead of slicing it.
SLICES = 32


def _replaced(old: pd.DataFrame, drop: np.ndarray, new: pd.DataFrame) -> pd.DataFrame:
    """``_joined(_without(old, drop), new)``, the kept rows taken as the slices between the few dropped:
    slices of the long text columns are views, where a filter copies every string (22 ms for the units
    at 100,000 rows, against 8 ms)."""
    gone = np.flatnonzero(drop)
    if len(gone) > SLICES:
        return _joined(_without(old, drop), new)
    bounds = np.concatenate([[-1], gone, [len(old)]])
    pieces = [old.iloc[a + 1:b] for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True) if b > a + 1]
    if not pieces:
        return new.reset_index(drop=True) if not new.empty else old.iloc[0:0].reset_index(drop=True)
    if not new.empty:
        pieces.append(_typed(new, old))
    return pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)


def _rows_of(frame: pd.DataFrame, ids: dict[str, set]) -> np.ndarray:
    """Which rows of a readers frame (form, row_id) are among ``ids`` (form -> row ids)."""
    drop = np.zeros(len(frame), dtype=bool)
    for form, these in ids.items():
        if these:
            hit = among(frame["row_id"], these)
            if hit.any():
                drop |= hit & (frame["form"] == form).to_numpy(dtype=bool)
    return drop


def _as_they_stood(basis: Basis, frames: dict[str, pd.DataFrame], changed: dict[str, np.ndarray], audit_of: AuditOf,
                   as_of: dt.date) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame | None]]:
    """The changed rows of each form as they stood on the day (``history.as_of`` of them alone, with
    their own audit), and those created after it."""
    fresh, fresh_later = {}, {}
    for form, pos in changed.items():
        fresh[form], fresh_later[form] = basis.patch[form].iloc[0:0], None
        if len(pos):
            sub = frames[form].take(pos).reset_index(drop=True)
            # a row at its first revision has no change to undo: as_of takes it as it is, filed when it was
            # written (the same as its creation entry says); only the others' audit is read
            revised = sub.loc[sub["_rev"].to_numpy(dtype=np.int64) > 1, "_id"].astype(object).tolist()
            stood, later = history.as_of({form: sub}, list(audit_of(form, revised)) if revised else [], as_of)
            fresh[form], fresh_later[form] = stood[form], later[form]
    return fresh, fresh_later


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
        return basis  # the same basis and Prepared: no new figures, and ``delta`` stays what it was
    if basis.applied >= APPLIED:
        return None

    fresh, fresh_later = _as_they_stood(basis, frames, changed, audit_of, as_of)
    now = groups(fresh, basis.regs, calendar)
    touched, affected, redo, patch, patch_groups = {}, {}, {}, dict(basis.patch), dict(basis.patch_groups)
    for form in calendar.forms:
        base, base_groups = basis.standing[form], basis.groups[form]
        old_patch, old_patch_groups = basis.patch[form], basis.patch_groups[form]
        ids = set(basis.ids[form].take(changed[form][changed[form] < len(basis.ids[form])]).astype(object).tolist()) | set(now[form].index)
        patched = set(old_patch_groups.index)
        # the keys the changed rows were counted by (the patch's version of a row, else the full prepare's) and are now
        in_patch = among(pd.Series(old_patch_groups.index, dtype=object), ids)
        in_base = among(pd.Series(base_groups.index, dtype=object), ids - patched) if ids - patched else np.zeros(len(base_groups), dtype=bool)
        touched[form] = set(old_patch_groups[in_patch].tolist()) | set(base_groups[in_base].tolist()) | set(now[form].tolist())
        if not touched[form]:
            redo[form], affected[form] = fresh[form], set()
            continue
        # every row counted by those keys, as it stands: from the patch, else from the full prepare's rows
        base_hit = among(base_groups, touched[form])
        if base_hit.any() and patched:
            base_hit = base_hit & ~among(pd.Series(base_groups.index, dtype=object), patched)
        patch_hit = among(old_patch_groups, touched[form])
        affected[form] = set(base_groups.index[base_hit]) | set(old_patch_groups.index[patch_hit]) | set(now[form].index)
        keep_base, keep_patch = base_hit & ~in_base, patch_hit & ~in_patch
        redo[form] = _joined(_joined(base[keep_base], old_patch[keep_patch]), fresh[form])
        if len(fresh[form]):
            patch[form] = _joined(old_patch[~in_patch], fresh[form])
            patch_groups[form] = pd.concat([old_patch_groups[~in_patch], now[form]])
    again = prepare(redo, None, None, calendar, as_of, None, regs=basis.regs.only(touched[f1], touched[f2], touched[f3]))

    p = basis.prepared
    units = p.units
    stale = np.zeros(len(units), dtype=bool)
    for form in calendar.forms:
        if touched[form]:
            hit = among(units["key"], touched[form])
            stale |= hit & (units["form"] == form).to_numpy(dtype=bool) if hit.any() else False
    gone_issues = among(p.issues["服务券编号"], touched[f1]) if touched[f1] else np.zeros(len(p.issues), dtype=bool)

    def detail(table: pd.DataFrame, new: pd.DataFrame, form: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The table with the rows of the affected keys replaced, and the rows replaced."""
        if not affected[form]:
            return table, table.iloc[0:0]
        gone = among(table["记录编号"], affected[form])
        return _replaced(table, gone, new), table[gone]

    later_ids = {f: set(fl["_id"].astype(object).tolist()) for f, fl in fresh_later.items() if fl is not None and len(fl)}
    later, later_out, later_in = p.later, None, None
    if later_ids:
        later_in = readers({f: fresh_later[f] for f in later_ids}, calendar.city_fields)
        if later is None:
            later = later_in
        else:
            out = _rows_of(later, later_ids)
            later, later_out = _replaced(later, out, later_in), later[out]
    (project_rows, gone1), (check_rows, gone3) = detail(p.project_rows, again.project_rows, f1), detail(p.check_rows, again.check_rows, f3)
    benchmark_rows, gone2 = detail(p.benchmark_rows, again.benchmark_rows, f2)
    now = Parts(_replaced(units, stale, again.units), project_rows, check_rows, _replaced(p.issues, gone_issues, again.issues))
    counts = p.counts.moved(now, Parts(units[stale], gone1, gone3, p.issues[gone_issues]),
                            Parts(again.units, again.project_rows, again.check_rows, again.issues), calendar, as_of) if p.counts else None
    readers_out = _rows_of(p.readers, affected)
    prepared = replace(
        p, units=now.units, issues=now.issues, project_rows=project_rows, check_rows=check_rows, benchmark_rows=benchmark_rows,
        readers=_replaced(p.readers, readers_out, again.readers), later=later, counts=counts)
    delta = Prepared(calendar, as_of, units=_both(units[stale], again.units), project_rows=_both(gone1, again.project_rows),
                     benchmark_rows=_both(gone2, again.benchmark_rows), check_rows=_both(gone3, again.check_rows),
                     issues=_both(p.issues[gone_issues], again.issues), readers=_both(p.readers[readers_out], again.readers),
                     later=_both(later_out, later_in))
    ids, revs = dict(basis.ids), dict(basis.revs)
    for form in calendar.forms:
        if len(changed[form]):
            ids[form], revs[form] = _ids_revs(frames[form])
    return replace(basis, ids=ids, revs=revs, patch=patch, patch_groups=patch_groups, prepared=prepared, applied=basis.applied + 1,
                   delta=delta)


def _both(out: pd.DataFrame | None, into: pd.DataFrame | None) -> pd.DataFrame | None:
    """The rows a change took off a frame and those it put in, one frame (``Basis.delta``): a few rows."""
    present = [f for f in (out, into) if f is not None and len(f)]
    if not present:
        return out if out is not None else into
    return pd.concat(present, ignore_index=True) if len(present) > 1 else present[0].reset_index(drop=True)
