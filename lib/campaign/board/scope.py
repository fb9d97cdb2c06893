"""What a viewer of the board may read, derived from ``lib.auth.policy``, and the board's frames narrowed to it.

There is one rule for who reads which row: ``can(user, READ, form, row)``. The board applies it to
whole snapshots at once through the policy's own pieces: the forms a viewer reads are those
``can(user, READ, form)`` allows, and a row is readable when ``reach(user).admits(its city, its
owner, its organisation)`` — the very predicate ``can`` calls for one row — with the row's city
placed by ``policy.place`` (``preparation.readers`` keeps these keys for every row, once per data
change). So:

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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from lib.auth.policy import READ, Reach, authorize, can, reach
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
    it (``kind``: all / city / provider / lead_unit)."""

    kind: str = "all"
    reach: Reach = field(default_factory=lambda: Reach("all"))
    forms: tuple[str, ...] | None = None  # the form ids it reads; None: every form

    @property
    def city(self) -> str:
        return self.reach.city

    @property
    def org(self) -> str:
        """The viewer's organisation as the board compares and shows names."""
        return normalize_name_text(self.reach.org)

    @property
    def label(self) -> str:
        return {"all": "全省", "city": f"{self.city}市"}.get(self.kind, self.org)

    def reads(self, form_id: str) -> bool:
        return self.forms is None or form_id in self.forms

    @property
    def entries(self) -> Reach:
        """The reach applied to register entries: the organisation as the register's names are compared."""
        return replace(self.reach, org=self.org) if self.reach.how == "own" else self.reach


def scope_for(actor: Actor, forms: Iterable[FormSpec]) -> Scope:
    """The board scope of ``actor`` among ``forms`` (the catalog's): what ``lib.auth.policy`` lets it read.

    >>> from lib.forms import load_catalog
    >>> scope_for(Actor("city_a", "city", "甲市某局", "甲"), load_catalog("forms").forms()).kind
    'city'
    """
    r = reach(actor)
    return Scope("all" if r.how == "all" else actor.role, r, tuple(f.id for f in forms if can(actor, READ, f)))


def board_scope(store: Store, actor: Actor, forms: Iterable[FormSpec]) -> Scope:
    """``scope_for``, refused for a role the policy gives no rows: Forbidden (audited, 拒绝访问)."""
    scope = scope_for(actor, forms)
    if scope.reach.how == "none":
        authorize(store, actor, READ)  # always refused: a role with no reach
        raise AssertionError("unreachable")
    return scope


def _admitted(r: Reach, city: pd.Series, owner: pd.Series, org: pd.Series) -> np.ndarray:
    """``r.admits`` over columns, as one bool per row (``all`` / ``none`` answer with one bool)."""
    got = r.admits(city.to_numpy(dtype=object), owner.to_numpy(dtype=object), org.to_numpy(dtype=object))
    return np.broadcast_to(np.asarray(got, dtype=bool), (len(city),))


def _reading(scope: Scope, forms: pd.Series) -> np.ndarray:
    """Which of ``forms`` (form ids, one per row) ``scope`` reads."""
    return np.ones(len(forms), dtype=bool) if scope.forms is None else forms.isin(scope.forms).to_numpy(dtype=bool)


def _keys(form, row_ids: pd.Series) -> pd.Series:
    """(form, row id) as one text: a row id names a row within its form."""
    return form + KEY_SEPARATOR + row_ids.astype(object)


def _may_read(readers: pd.DataFrame, scope: Scope) -> np.ndarray:
    """Which rows of ``readers`` (``preparation.readers``: form, row_id, city, owner, org) ``scope`` may read."""
    return _admitted(scope.reach, readers["city"], readers["owner"], readers["org"]) & _reading(scope, readers["form"])


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
    placed = units[_admitted(scope.entries, units["city"], units["owner"], units["unit"]) & _reading(scope, units["form"])]
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
    placed = _admitted(scope.entries, issues["地市"], issues["填报账号"], issues[UNIT])
    linked = rows.of(form_id, issues["记录编号"])
    keep = placed & (linked | issues["问题类型"].isin(ENTRY_ISSUES).to_numpy(dtype=bool))
    shown = _unlinked(issues[keep], linked[keep], ROW_VALUES["issues"])
    if scope.kind == "city":
        return _without_facts(shown, "台账地市", scope.city)
    return _without_facts(shown, REGISTER_UNIT, scope.org)


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

