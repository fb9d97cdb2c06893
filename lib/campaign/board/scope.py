"""What a viewer of the board may read, derived from ``lib.auth.policy``, and the board's frames narrowed to it.

There is one rule for who reads which row: ``can(user, READ, form, row)``. The board applies it to
whole snapshots at once through the policy's own pieces: the forms a viewer reads are those
``can(user, READ, form)`` allows, and a row is readable when ``reach(user).admits(its city, its
owner, its organisation)`` — the very predicate ``can`` calls for one row — with the row's city
placed by ``policy.place`` (``preparation.readers`` keeps these keys for every row, once per data
change) — and, of a form the viewer neither fills nor reviews (``policy.reads_unfiled``), only when the
row is filed (not a 草稿 or 已撤回: a city bureau does not read its providers' drafts of the projects
form). So:

* a detail-table row, and any row id a unit or an issue names, is shown only when readable;
* a unit or an issue stands for a register entry as well as, or instead of, a row: it is shown when
  the same reach admits the entry's city and organisation (the register names organisations as the
  province typed them, so an organisation is compared as ``normalize_name_text`` writes it). Where
  the viewer may not read the row it names, it shows the register's facts and the entry's progress
  (its state: reported on time or late, by how many days, returned, missing) and nothing taken from
  the row: ``ROW_VALUES`` are blank (its id, filer, record status, filing time; the amount, city,
  credit code and provider it reports). Reach over an entry is not reach over whoever filed it: the
  register may list a voucher in one city and its filing place the firm in another, and an account
  may spell its organisation differently from the colleague who filed;
* a unit that is only a row (a filing off the register, a repeat, a draft) needs both.

An inspector's reach is its assignment (``Assignments``, passed in by the caller: this layer is below
the sampling that makes it): of every form with a voucher (``Reach.voucher_keys``: the projects, the
checks …) it reads the sampled projects' rows only, judged by the voucher as ``Reach.admits_project``
judges one row (the register entries by their voucher, the rows by the ``voucher`` column
``with_vouchers`` gives the readers; without it, no row of those forms), and of the other forms the rows placed in
its cities. It sees the register's facts of the entries it inspects. Without an assignment it has no
board (``board_scope`` refuses).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from lib.auth.policy import READ, Assignments, Reach, authorize, can, reach, reads_unfiled
from lib.campaign.board.preparation import Prepared
from lib.campaign.board.units import ENTRY_STATES
from lib.campaign.register.reconcile import (
    AMOUNT,
    CITY,
    FILED_UNIT,
    FIRM,
    KEY_SEPARATOR,
    NOT_REPORTED,
    REGISTER_FACTS,
    REGISTER_UNIT,
    UNIT,
    member,
    normalize_name_text,
)
from lib.core.records import Actor
from lib.core.roles import INSPECTOR
from lib.core.statuses import FILED
from lib.forms import FormSpec
from lib.store.base import Store

#: The issues about a register entry a matched filing disagrees with (the others are about a filing).
ENTRY_ISSUES = (NOT_REPORTED, AMOUNT, CITY, FIRM)
#: The columns holding values of a row (its id, filer, record status, filing time, what it reports),
#: blank where a unit or an issue about a register entry names a row the viewer may not read: "" for
#: a text, None (missing) for a time or an amount.
ROW_VALUES = {
    "units": {"row_id": "", "owner": "", "status": "", "reported_at": None},
    "issues": {"记录编号": "", "填报账号": "", "填报奖补金额": None, "填报地市": "", "填报信用代码": "", FILED_UNIT: ""},
}


@dataclass(frozen=True)
class Scope:
    """What a viewer may read (the forms, the reach of ``lib.auth.policy``) and how the board arranges
    it (``kind``: all / city / provider / lead_unit / inspector)."""

    kind: str = "all"
    reach: Reach = field(default_factory=lambda: Reach("all"))
    forms: tuple[str, ...] | None = None  # the form ids it reads; None: every form
    filed_only: tuple[str, ...] = ()  # the form ids of which it reads the filed rows only (``policy.reads_unfiled``)

    @property
    def city(self) -> str:
        return self.reach.city

    @property
    def org(self) -> str:
        """The viewer's organisation as the board compares and shows names."""
        return normalize_name_text(self.reach.org)

    @property
    def cities(self) -> tuple[str, ...]:
        """The cities an inspector's assignment sends it to (empty for the other kinds)."""
        return self.reach.cities

    @property
    def label(self) -> str:
        if self.kind == INSPECTOR:
            return "检查任务：" + "、".join(f"{c}市" for c in self.cities)
        return {"all": "全省", "city": f"{self.city}市"}.get(self.kind, self.org)

    def reads(self, form_id: str) -> bool:
        return self.forms is None or form_id in self.forms

    @property
    def entries(self) -> Reach:
        """The reach applied to register entries: the organisation as the register's names are compared."""
        return replace(self.reach, org=self.org) if self.reach.how == "own" else self.reach


def scope_for(actor: Actor, forms: Iterable[FormSpec], assignments: Assignments | None = None) -> Scope:
    """The board scope of ``actor`` among ``forms`` (the catalog's): what ``lib.auth.policy`` lets it
    read, an inspector within ``assignments`` (the inspector draw in force; None: it has none).

    >>> from lib.forms import load_catalog
    >>> scope_for(Actor("city_a", "city", "甲市某局", "甲"), load_catalog("forms").forms()).kind
    'city'
    """
    r = reach(actor, assignments)
    readable = [f for f in forms if can(actor, READ, f, assignments=assignments)]
    return Scope("all" if r.how == "all" else actor.role, r, tuple(f.id for f in readable),
                 tuple(f.id for f in readable if not reads_unfiled(actor, f)))


def board_scope(store: Store, actor: Actor, forms: Iterable[FormSpec], assignments: Assignments | None = None) -> Scope:
    """``scope_for``, refused for a role the policy gives no rows (an inspector without an
    assignment among them): Forbidden (audited, 拒绝访问)."""
    scope = scope_for(actor, forms, assignments)
    if scope.reach.how == "none":
        authorize(store, actor, READ, assignments=assignments)  # always refused: a role with no reach
        raise AssertionError("unreachable")
    return scope


def _vouchers_by_row(frame: pd.DataFrame | None, key: str) -> pd.Series:
    """Row id -> voucher as stored, of one form's snapshot (empty when it has none)."""
    if frame is None or frame.empty or key not in frame:
        return pd.Series(dtype=object)
    voucher = pd.Series(frame[key].to_numpy(dtype=object), index=frame["_id"].to_numpy(dtype=object))
    return voucher[~voucher.index.duplicated()]


def with_vouchers(prepared: Prepared, frames: dict[str, pd.DataFrame]) -> Prepared:
    """``prepared`` whose readers (and those of the rows created after the clock) carry each row's
    voucher as stored (``voucher``; "" for the rows of forms without one): what an inspector's reach
    over a form with a voucher judges, as ``can`` judges the stored row. ``frames``: the store's
    snapshots the board was prepared from (form id -> frame). Once per data change."""
    bindings = prepared.calendar.bindings
    keys = {bindings.of(kind).form: bindings.of(kind).key("voucher") for kind in bindings.kinds() if bindings.of(kind).key("voucher")}
    by_form = {form_id: _vouchers_by_row(frames.get(form_id), key) for form_id, key in keys.items()}

    def carried(readers: pd.DataFrame | None) -> pd.DataFrame | None:
        if readers is None:
            return None
        values = np.full(len(readers), "", dtype=object)
        for form_id, voucher in by_form.items():
            mine = (readers["form"] == form_id).to_numpy(dtype=bool)
            values[mine] = readers["row_id"][mine].map(voucher).fillna("").to_numpy(dtype=object)
        return readers.assign(voucher=values)

    return replace(prepared, readers=carried(prepared.readers), later=carried(prepared.later))


def _admitted(r: Reach, city: pd.Series, owner: pd.Series, org: pd.Series) -> np.ndarray:
    """``r.admits`` over columns, as one bool per row (``all`` / ``none`` answer with one bool)."""
    got = r.admits(city.to_numpy(dtype=object), owner.to_numpy(dtype=object), org.to_numpy(dtype=object))
    return np.broadcast_to(np.asarray(got, dtype=bool), (len(city),))


def _sampled(r: Reach, vouchers: pd.Series) -> np.ndarray:
    """``r.admits_voucher`` over a column of vouchers (each distinct voucher judged once)."""
    admitted = {v for v in pd.unique(vouchers.astype(object)) if r.admits_voucher(v)}
    return member(vouchers.astype(object), admitted).to_numpy(dtype=bool)


def _placed(r: Reach, forms: pd.Series, city: pd.Series, owner: pd.Series, org: pd.Series, vouchers: pd.Series | None) -> np.ndarray:
    """Which rows (of the forms ``forms`` names, one per row) ``r`` admits: by ``_admitted``, and of the
    forms ``r`` narrows (an inspector's forms with a voucher) by ``vouchers`` (None: none known, none admitted)."""
    got = _admitted(r, city, owner, org)
    narrowed = forms.map(r.narrows).to_numpy(dtype=bool) if r.how == "cities" else None
    if narrowed is None or not narrowed.any():
        return got
    got = got.copy()
    got[narrowed] = _sampled(r, vouchers[narrowed]) if vouchers is not None else False
    return got


def _reading(scope: Scope, forms: pd.Series) -> np.ndarray:
    """Which of ``forms`` (form ids, one per row) ``scope`` reads."""
    return np.ones(len(forms), dtype=bool) if scope.forms is None else forms.isin(scope.forms).to_numpy(dtype=bool)


def _keys(form, row_ids: pd.Series) -> pd.Series:
    """(form, row id) as one text: a row id names a row within its form."""
    return form + KEY_SEPARATOR + row_ids.astype(object)


def _may_read(readers: pd.DataFrame, scope: Scope) -> np.ndarray:
    """Which rows of ``readers`` (``preparation.readers``: form, row_id, city, owner, org, status; and
    ``voucher`` from ``with_vouchers``) ``scope`` may read."""
    forms = readers["form"]
    placed = _placed(scope.reach, forms, readers["city"], readers["owner"], readers["org"], readers.get("voucher"))
    unfiled = forms.isin(scope.filed_only).to_numpy(dtype=bool) & ~readers["status"].isin(FILED).to_numpy(dtype=bool)
    return placed & _reading(scope, forms) & ~unfiled


@dataclass(frozen=True)
class Readable:
    """The rows a scope may read, looked up by form and row id (``everything``: no lookup needed)."""

    everything: bool
    keys: frozenset = frozenset()

    def of(self, form, row_ids: pd.Series) -> np.ndarray:
        """Which of ``row_ids`` (of ``form``: one id, or one per row) may be read."""
        if self.everything:
            return np.ones(len(row_ids), dtype=bool)
        return member(_keys(form, row_ids), self.keys).to_numpy(dtype=bool)


def readable(readers: pd.DataFrame, scope: Scope) -> Readable:
    """The rows of ``readers`` ``scope`` may read (computed once per scope and data change)."""
    if scope.reach.how == "all" and _reading(scope, readers["form"]).all():
        return Readable(True)
    ok = _may_read(readers, scope)
    return Readable(False, frozenset(_keys(readers["form"][ok], readers["row_id"][ok])))


def _unlinked(frame: pd.DataFrame, linked: np.ndarray, blanks: dict[str, str | None]) -> pd.DataFrame:
    """``frame`` with each column of ``blanks`` set to its blank where ``linked`` is False (a row the
    viewer may not read)."""
    if linked.all():
        return frame
    frame = frame.copy()
    for col, blank in blanks.items():
        frame.loc[~linked, col] = blank
    return frame


def scope_units(units: pd.DataFrame, scope: Scope, rows: Readable) -> pd.DataFrame:
    """The units (english columns) ``scope`` may see (see the module docstring)."""
    if rows.everything and scope.reach.how == "all":
        return units
    vouchers = units["key"].astype(str).str.split(KEY_SEPARATOR).str[0]  # a conflicting filing's key: voucher + filer
    placed = units[_placed(scope.entries, units["form"], units["city"], units["owner"], units["unit"], vouchers)
                   & _reading(scope, units["form"])]
    linked = rows.of(placed["form"], placed["row_id"])
    entry = (placed["in_register"].astype(bool) & placed["state"].isin(ENTRY_STATES)).to_numpy(dtype=bool)
    shown = entry | linked
    return _unlinked(placed[shown], linked[shown], ROW_VALUES["units"])


def scope_rows(detail: pd.DataFrame, form_id: str, rows: Readable) -> pd.DataFrame:
    """The detail rows of form ``form_id`` (Chinese columns) ``scope`` may read."""
    return detail if rows.everything or detail.empty else detail[rows.of(form_id, detail["记录编号"])]


def scope_issues(issues: pd.DataFrame, scope: Scope, form_id: str, rows: Readable) -> pd.DataFrame:
    """The reconciliation issues (of ``form_id``'s filings) ``scope`` may see. A provider does not see
    the register's facts of an entry the register gives another provider, nor a city those of an
    entry in another city (a filing of a voucher listed elsewhere)."""
    if not scope.reads(form_id):
        return issues.iloc[0:0]
    if scope.reach.how == "all":
        return issues
    forms = pd.Series(form_id, index=issues.index, dtype=object)
    placed = _placed(scope.entries, forms, issues["地市"], issues["填报账号"], issues[UNIT], issues["服务券编号"])
    linked = rows.of(form_id, issues["记录编号"])
    keep = placed & (linked | issues["问题类型"].isin(ENTRY_ISSUES).to_numpy(dtype=bool))
    shown = _unlinked(issues[keep], linked[keep], ROW_VALUES["issues"])
    if scope.kind == INSPECTOR:  # the entries it inspects: their register facts are what it checks on site
        return shown
    if scope.kind == "city":
        return _without_facts(shown, "台账地市", scope.city)
    return _without_facts(shown, REGISTER_UNIT, scope.org)


def touches(delta: Prepared, scope: Scope) -> bool:
    """Whether any row of ``delta`` (what a change took off the prepared frames and put in:
    ``incremental.Basis.delta``) could show on ``scope``'s board: a unit, an issue, a detail row or a
    later row placed within its reach. False means the scope's board is the same as before the change
    (``figures.board`` reads nothing but the rows its reach places, the calendar and the day), so its
    viewers keep it. Erring towards True: a row counts as touching when its place is in reach, readable
    or not, and the whole province and an inspector (whose reach is judged by the voucher rows carry,
    ``with_vouchers``) are always touched by a change."""
    if scope.reach.how in ("all", "cities") or scope.kind == INSPECTOR:
        return True

    def reached(city: pd.Series, owner: pd.Series, org: pd.Series) -> bool:  # by the rows' reach or the entries'
        return any(_admitted(r, city, owner, org).any() for r in (scope.reach, scope.entries))

    placed = [(f["city"], f["owner"], f["unit"] if "unit" in f else f["org"]) for f in (delta.units, delta.readers, delta.later)
              if f is not None and len(f)]
    if delta.issues is not None and len(delta.issues):
        placed.append((delta.issues["地市"], delta.issues["填报账号"], delta.issues[UNIT]))
    return any(reached(*columns) for columns in placed)


def later_count(later: pd.DataFrame | None, scope: Scope) -> int:
    """How many of the rows created after the clock (``later``: ``preparation.readers`` of them) ``scope`` may read."""
    return 0 if later is None or later.empty else int(_may_read(later, scope).sum())


def _without_facts(issues: pd.DataFrame, column: str, own: str) -> pd.DataFrame:
    """``issues`` with the register's facts blanked where the entry's ``column`` is not ``own``."""
    others = (issues[column] != own) & (issues[column] != "")
    if not others.any():
        return issues
    issues = issues.copy()
    issues.loc[others, REGISTER_FACTS] = None
    return issues

