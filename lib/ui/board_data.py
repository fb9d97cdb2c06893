"""The boards' shared figures: one snapshot of the sheets they read, the prepared figures, each scope's board.

Cost does not grow with viewers, nor with time while nothing changes: the snapshots are taken at most
once per SNAPSHOT_TTL seconds per process, the unscoped figures (with the rows as they stood on the
board's day, rebuilt from the store's audit) are computed once per data change (keyed by the change
counter of the snapshots; a few new or changed rows are applied to the previous ones,
``lib.campaign.board.incremental``), each scope's figures once per data change too, and a scope a change
did not reach keeps its board (``_scoped``). What is derived from a board (a table's filter options, its
narrowed rows) is computed once per board for every viewer (``memo``). The forms are the campaign's bound
ones (``campaign.yaml`` bindings). The open board's watcher is ``lib.ui.board_live``, the panels
``lib.ui.board``.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from lib.auth.policy import Assignments, unassigned
from lib.campaign import archive
from lib.campaign.board import figures, incremental
from lib.campaign.board.preparation import Prepared, change_counter
from lib.campaign.board.scope import Scope, board_scope, scope_for, touches, with_vouchers
from lib.campaign.register import kinds
from lib.campaign.register import store as reg
from lib.campaign.schedule import Calendar
from lib.core import roles
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.sampling import assignments as inspectors
from lib.sampling import record as sampling_record
from lib.ui import context

#: Seconds an open board waits between looks at the change counters (``lib.ui.board_live``).
REFRESH_SECONDS = 5
#: Seconds a snapshot of the sheets is shared before the next look reads them again.
SNAPSHOT_TTL = 2


def calendar() -> Calendar:
    """The served campaign as the board sees it; a broken binding is a coded error shown like a broken form."""
    cat = context.catalog()
    return Calendar.from_specs(cat.campaign, cat.forms(), cat.bindings)


def _calendar_key(cal: Calendar) -> tuple:
    """What the prepared figures depend on besides the data: the calendar, and the cities outside the
    scheme (the register in force is counted without them: ``reg.current_register``)."""
    return (cal.cities, tuple(sorted(cal.titles.items())), tuple(sorted(cal.deadlines.items())), cal.phases,
            cal.bindings.model_dump_json(), tuple(sorted(cal.roles.items())), repr(cal.labels),
            tuple(context.catalog().campaign.outside_scheme))


#: The sheets that say which inspector reads what (the project draw and the inspector draw in force).
ASSIGNMENT_SHEETS = (sampling_record.DRAWS, sampling_record.DRAW_ROWS, *inspectors.SHEETS)


@st.cache_resource(ttl=SNAPSHOT_TTL, show_spinner=False)
def _snapshots() -> tuple[tuple, dict[str, pd.DataFrame], dict[str, pd.DataFrame], tuple]:
    """One snapshot of every sheet the boards read (the bound forms; every stored batch of the
    registers and the import records), shared by all sessions for SNAPSHOT_TTL seconds, with its
    change counter; and the change counter of the sampling sheets (``ASSIGNMENT_SHEETS``)."""
    store, cat = context.store(), context.catalog()
    frames = {fid: store.snapshot(fid) for fid in cat.bindings.form_ids().values()}
    registers = kinds.register_kinds(cat.campaign)
    raw = {name: store.snapshot(name) for name in (registers["vouchers"].sheet_id, registers["projects"].sheet_id,
                                                   reg.IMPORTS_SHEET.form_id)}
    sampled = change_counter({sheet.form_id: store.snapshot(sheet.form_id) for sheet in ASSIGNMENT_SHEETS})
    return change_counter({**frames, **raw}), frames, raw, sampled


def _registers(raw: dict[str, pd.DataFrame], as_of: dt.date | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(vouchers, projects): the batches in force now, or at the end of ``as_of`` (``reg.current_register``)."""
    registers = kinds.register_kinds(context.catalog().campaign)
    imports = raw[reg.IMPORTS_SHEET.form_id]
    vouchers, projects = registers["vouchers"], registers["projects"]
    return (reg.current_register(raw[vouchers.sheet_id], imports, vouchers, as_of),
            reg.current_register(raw[projects.sheet_id], imports, projects, as_of))


@st.cache_resource(max_entries=4, show_spinner=False)
def _bases(as_of: dt.date, cal_key: tuple) -> dict:
    """The last prepared figures of a day and calendar (``incremental.Basis``) that the next change is applied to."""
    return {"lock": threading.Lock(), "basis": None}


@st.cache_resource(max_entries=4, show_spinner=False)
def _prepared(counter: tuple, as_of: dt.date, cal_key: tuple, _frames, _raw, _cal) -> Prepared:
    """Once per data change and day: the forms as they stood and the registers in force at the end of
    that day, matched and counted. A few new or changed rows are applied to the previous figures (their
    audit read row by row); anything else (a register import, the first run) reads the forms' whole
    audit and prepares every row (``lib.campaign.board.incremental``)."""
    store = context.store()
    slot, registers_key = _bases(as_of, cal_key), change_counter(_raw)
    with slot["lock"]:
        before = slot["basis"]
        basis = incremental.advance(before, _frames, lambda form, ids: [e for i in ids for e in store.audit(form, i)],
                                    _cal, as_of, registers_key)
        if basis is None:
            audit = [entry for fid in _frames for entry in store.audit(fid)]
            vouchers, projects = _registers(_raw, as_of)
            basis = incremental.start(_frames, audit, vouchers, projects, _cal, as_of, registers_key)
        elif basis is not before and basis.delta is not None:  # the boards of scopes the change missed carry over (``_scoped``)
            memo(basis.prepared, BEFORE, lambda: (weakref.ref(before.prepared), basis.delta))
        slot["basis"] = basis
    return basis.prepared


@st.cache_resource(max_entries=4, show_spinner=False)
def _inspected(counter: tuple, as_of: dt.date, cal_key: tuple, _prepared: Prepared, _frames) -> Prepared:
    """``_prepared`` with each row's voucher beside who may read it (``with_vouchers``): what an
    inspector's reach judges, once per data change and only when an inspector looks."""
    return with_vouchers(_prepared, _frames)


@st.cache_resource(max_entries=4, show_spinner=False)
def _assignments(sampled: tuple, cal_key: tuple) -> Assignments:
    """The inspector assignment in force, once per change of the sampling sheets."""
    return inspectors.assignments_in_force(context.store(), context.catalog())


#: ``memo`` name under which prepared figures made by applying a change keep (a weak reference to) the
#: figures they were made from and the change (``incremental.Basis.delta``).
BEFORE = "before"
#: How many changes back ``_carried`` looks for a scope's board (while those figures are still held: ``_prepared``).
CARRIED_BACK = 8


def _scoped(counter: tuple, as_of: dt.date, cal_key: tuple, scope: Scope, _prepared: Prepared) -> figures.Board:
    """One scope's figures, once per prepared figures (shared by its viewers) and forgotten with them: kept in
    a cache of their own keyed by the change counter, a viewed scope's boards of every earlier change stayed
    (181 boards, 2,839 frames after 8 changes with 22 scopes viewed: bench/sessions_bench.py). A scope the
    change reached nowhere (``scope.touches``) keeps the very board it had: not counted again, and its open
    boards see the same object and are not drawn again (``seen_key``): a new row costs the province's board
    and its own city's, not every city's (issue 17, outcome 7)."""
    return memo(_prepared, ("board", scope), lambda: _carried(_prepared, scope) or figures.board(_prepared, scope))


def _carried(prepared: Prepared, scope: Scope) -> figures.Board | None:
    """The board ``scope`` had on earlier prepared figures ``prepared`` was made from, change by change,
    when none of the changes between them reached it; None when there is none to carry (the scope was
    not viewed meanwhile, those figures are gone, or a change reached it). Going back more than one
    change: viewers ask every REFRESH_SECONDS, and rows filed meanwhile make newer figures in between."""
    at = prepared
    for _ in range(CARRIED_BACK):
        link = peek(at, BEFORE)
        before = link[0]() if link is not None else None
        if before is None or touches(link[1], scope):
            return None
        board = peek(before, ("board", scope))
        if board is not None:
            return board
        at = before
    return None


class NoAssignment(AppError):
    """An inspector opened the board while no inspector draw in force assigns it anything: said on each
    refresh, so not audited as a refusal (nothing was asked of a row)."""

    code = "no_assignment"


def current_board(actor: Actor, as_of: dt.date) -> figures.Board:
    """The board for ``actor``'s scope as of ``as_of``, from the process's shared snapshot; an
    inspector's is its assignment (NoAssignment when it has none)."""
    counter, frames, raw, sampled = _snapshots()
    cal = calendar()
    key = _calendar_key(cal)
    forms = context.catalog().forms()
    assigned = _assignments(sampled, key) if actor.role == roles.INSPECTOR else None
    if assigned is not None and scope_for(actor, forms, assigned).reach.how == "none":
        raise NoAssignment(unassigned(actor, "查看看板"))
    prepared = _prepared(counter, as_of, key, frames, raw, cal)
    if assigned is not None:
        prepared = _inspected(counter, as_of, key, prepared, frames)
    return _scoped(counter, as_of, key, board_scope(context.store(), actor, forms, assigned), prepared)


def warm() -> None:
    """Build what the first open of the board would: the shared figures of the campaign clock's day (the
    day every board opens on) and the province's scope of them, so that no viewer pays for them after a
    server start (6.6 CPU-s at 100,000 rows, issue 17). Called once per process in the background when the
    store opens (``lib.ui.context``); a city's scope is built on its first open (a fraction of this)."""
    counter, frames, raw, _ = _snapshots()
    cal = calendar()
    key = _calendar_key(cal)
    as_of = context.settings().campaign_today or dt.date.today()
    prepared = _prepared(counter, as_of, key, frames, raw, cal)
    _scoped(counter, as_of, key, scope_for(Actor("", roles.PROVINCE), context.catalog().forms()), prepared)


def counters() -> tuple[tuple, tuple]:
    """The change counters of the shared snapshot: the boards' sheets, the sampling sheets."""
    counter, _, _, sampled = _snapshots()
    return counter, sampled


def shared_frames() -> dict[str, pd.DataFrame]:
    """The bound forms' frames of the shared snapshot, by form id."""
    return _snapshots()[1]


def current_register() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(vouchers, projects) of the register in force, from the shared snapshot."""
    return _registers(_snapshots()[2])


def register_note(as_of: dt.date) -> str:
    """Which register batches the board of ``as_of`` counts (title and import time of each), from the shared snapshot."""
    registers = kinds.register_kinds(context.catalog().campaign)
    imports = _snapshots()[2][reg.IMPORTS_SHEET.form_id]
    return "计入的台账：" + "；".join(reg.batch_note(imports, registers[k], as_of) for k in ("vouchers", "projects"))


def clear_shared() -> None:
    """Forget the shared snapshot (after this session wrote the register)."""
    _snapshots.clear()


#: What ``memo`` computed, by the id of the object it was computed from (dropped with that object).
_MEMO: dict[int, dict] = {}
_MEMO_LOCK = threading.RLock()  # re-entrant: a computation may memo what it is made from


def memo(owner: object, name: Any, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per ``owner`` and ``name``: the boards of a scope and data change are shared
    (``_scoped``), so what is derived from one (a table's filter options, the late rows) is derived
    once for every viewer and every redraw, and forgotten when the board is."""
    slot = _MEMO.get(id(owner))
    if slot is not None and name in slot:
        return slot[name]
    with _MEMO_LOCK:  # one computes, a viewer asking meanwhile waits for it rather than computing it again
        slot = _MEMO.get(id(owner))
        if slot is None:
            slot = _MEMO[id(owner)] = {}
            weakref.finalize(owner, _MEMO.pop, id(owner), None)
        if name not in slot:
            slot[name] = compute()
        return slot[name]


def peek(owner: object, name: Any) -> Any:
    """What ``memo`` computed for ``owner`` and ``name``, or None (nothing computed)."""
    return _MEMO.get(id(owner), {}).get(name)


@st.cache_resource(ttl=SNAPSHOT_TTL, show_spinner=False)
def forwards_counter() -> tuple:
    """The change counter of the archive confirmations (``archive.FORWARDS``), shared like the snapshots."""
    return change_counter({archive.FORWARDS.form_id: context.store().snapshot(archive.FORWARDS.form_id)})
