"""The board's prepared frames after a few rows changed, applied to the previous ones
(``lib.campaign.board.incremental.advance``), equal a full prepare of the same store (issue 17, outcome 3).

A real local store holds the demo campaign (rows of the three bound forms filed from 9-10, and the demo
register); seeded random sequences then append rows (new vouchers, vouchers already filed: repeats,
vouchers of another provider: conflicts, off-register ones, drafts), change values (a voucher, a credit
code, an amount, a city) and move statuses (submit, withdraw, return, resubmit), at times before and after
the board's day. After each step every frame of ``Prepared`` is compared with a full prepare's: units,
the three detail tables, the issues, the readers and the rows created after the day, each sorted by all its
columns (the rows prepared again come after the others, so the order is not compared), with
``pandas.testing.assert_frame_equal`` on the values (missing values as None, ``check_dtype=False``: a full prepare's own column types
may change with the rows it holds, e.g. the percentages come out as objects when undoing a later change put
a missing value among them; the incremental frames keep the previous types where they can).

The province's board is compared too: its figures from the counts kept up to date by each step
(``lib.campaign.board.counts``) against the same board counted from a full prepare's frames, every
counted table in its own order (they are sorted by what they show)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace

import pandas as pd
import pytest

from lib.campaign.board import counts, figures, incremental
from lib.campaign.board.scope import scope_for, touches
from lib.campaign.register import kinds
from lib.campaign.register import store as reg
from lib.campaign.schedule import Calendar
from lib.core.records import Actor
from lib.core.statuses import DRAFT, RESUBMITTED, RETURNED, SUBMITTED, WITHDRAWN
from lib.demo.register import PROVINCE, seed_register
from lib.demo.seed import generate, seed_store
from lib.store.factory import open_store
from tests.store.store_cases import Clock

from .conftest import SHIPPED

FORMS = ("att1", "att2", "att3")
AS_OF = dt.date(2020, 9, 25)
REVIEWER = Actor("province", "province", "省厅")
#: Random steps per seed (each compared with a full prepare: the dearest test file of the fast lane's campaign tests).
STEPS = 12
FRAMES = ("units", "project_rows", "benchmark_rows", "check_rows", "issues", "readers", "later")
#: The board's tables counted from the units, the detail rows and the issues, each in its own order.
COUNTED = ("progress", "providers", "late", "usage_by_city", "usage_by_provider", "conclusions", "issues_by_provider",
           "issues_by_city", "spending_bins")


@pytest.fixture
def seeded(tmp_path):
    clock = Clock(dt.datetime(2020, 9, 10, 10))
    store = open_store("local", data_dir=tmp_path / "data", background=False, clock=clock)
    seed_store(store, SHIPPED, rows=40)
    seed_register(store, SHIPPED, rows=40)
    yield store, clock
    store.close()


def inputs(store):
    cal = Calendar.from_specs(SHIPPED.campaign, SHIPPED.forms())
    registers = kinds.register_kinds(SHIPPED.campaign)
    imports = store.snapshot(reg.IMPORTS_SHEET.form_id)
    vouchers, projects = (reg.current_register(store.snapshot(registers[k].sheet_id), imports, registers[k])
                          for k in ("vouchers", "projects"))
    return cal, {f: store.snapshot(f) for f in FORMS}, vouchers, projects


def full(store) -> incremental.Basis:
    cal, frames, vouchers, projects = inputs(store)
    return incremental.start(frames, [e for f in FORMS for e in store.audit(f)], vouchers, projects, cal, AS_OF)


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s rows in the order of all its columns read as text (the order of a full prepare is not compared)."""
    text = [["" if pd.isna(v) else str(v) for v in frame[c].tolist()] for c in frame.columns]
    rows = list(zip(*text, strict=True)) if text else [()] * len(frame)
    return frame.take(sorted(range(len(frame)), key=rows.__getitem__)).reset_index(drop=True)


def values(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` sorted (``sorted_rows``), each cell as a Python value and every missing one as None."""
    frame = sorted_rows(frame).astype(object)
    return frame.where(frame.notna(), None)


def same(got, want) -> None:
    for name in FRAMES:
        g, w = getattr(got, name), getattr(want, name)
        assert list(g.columns) == list(w.columns), name
        pd.testing.assert_frame_equal(values(g), values(w), obj=name, check_dtype=False)


def cells(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True).astype(object)
    return frame.where(frame.notna(), None)


def same_board(got, want) -> None:
    """The province's board of ``got`` (its counts kept by ``advance``) equals that of ``want`` counted from its frames."""
    scope = scope_for(PROVINCE, SHIPPED.forms())
    g, w = figures.board(got, scope), figures.board(replace(want, counts=None), scope)
    for name in COUNTED:
        pd.testing.assert_frame_equal(cells(getattr(g, name)), cells(getattr(w, name)), obj=name, check_dtype=False)
    assert g.totals == w.totals  # the board's units are the prepared ones renamed: ``same`` compares those


def step(rng: random.Random, store, clock, templates, n: int) -> str:
    """One random change to the store; says what it was."""
    clock.now = dt.datetime(2020, 9, rng.randint(11, 30), rng.randint(8, 18), rng.randint(0, 59))
    form = rng.choice(FORMS)
    records = store.records(form)
    key = {"att1": "voucher_no", "att3": "voucher_no", "att2": "lead_unit_credit_code"}[form]
    pick = rng.random()
    if pick < 0.45 or not records:
        row = rng.choice(templates[form])
        values = dict(row.values)
        how = rng.random()
        if how < 0.3 and records:  # a key already filed: a repeat (or a conflict, filed by another provider)
            values[key] = rng.choice(records).values.get(key)
        elif how < 0.6:  # a key the register does not know
            values[key] = f"X-{n:05d}"
        status = DRAFT if rng.random() < 0.25 else SUBMITTED
        store.append(form, values, actor=row.actor, status=status)
        return f"append {form} {values.get(key)} {status}"
    rec = rng.choice(records)
    if pick < 0.7:
        field = rng.choice([key, key, "client_credit_code" if form != "att2" else "project_name",
                            "subsidy_amount" if form != "att2" else "spending_ratio", "client_city" if form == "att1" else "city"])
        value = rng.choice([r.values.get(field) for r in records] + [f"Y-{n:05d}"]) if field not in ("subsidy_amount", "spending_ratio") \
            else round(rng.uniform(0, 100), 2)
        if field not in {k for r in records for k in r.values}:
            field, value = key, f"Y-{n:05d}"
        store.update(form, rec.id, base_rev=rec.rev, actor=REVIEWER, values={field: value})
        return f"update {form} {rec.id} {field}={value}"
    status = rng.choice([SUBMITTED, WITHDRAWN, RETURNED, RESUBMITTED, DRAFT])
    store.update(form, rec.id, base_rev=rec.rev, actor=REVIEWER, status=status)
    return f"status {form} {rec.id} {rec.status}->{status}"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_appends_updates_and_status_changes_give_the_full_prepare(seeded, seed):
    store, clock = seeded
    rng = random.Random(seed)
    templates = generate(SHIPPED, rows=40, seed=100 + seed)
    basis = full(store)
    applied = 0
    history = []
    for n in range(STEPS):
        changes = rng.choice([1, 1, 1, 2, 3])
        history += [step(rng, store, clock, templates, n * 10 + i) for i in range(changes)]
        cal, frames, _, _ = inputs(store)
        got = incremental.advance(basis, frames, lambda f, ids: [e for i in ids for e in store.audit(f, i)], cal, AS_OF)
        assert got is not None, history[-changes:]  # a few rows changed: applied, not prepared again
        want = full(store)
        try:
            same(got.prepared, want.prepared)
            same_board(got.prepared, want.prepared)
        except AssertionError as exc:
            raise AssertionError(f"after {history}") from exc
        basis, applied = got, applied + 1
    assert applied == STEPS


def test_a_register_import_the_day_or_a_bulk_change_is_a_full_prepare(seeded):
    store, clock = seeded
    basis = full(store)
    cal, frames, _, _ = inputs(store)
    audit_of = lambda f, ids: [e for i in ids for e in store.audit(f, i)]  # noqa: E731
    assert incremental.advance(basis, frames, audit_of, cal, AS_OF) is basis  # nothing changed
    assert incremental.advance(basis, frames, audit_of, cal, AS_OF + dt.timedelta(days=1)) is None
    assert incremental.advance(basis, frames, audit_of, cal, AS_OF, key=("another register",)) is None
    fewer = {**frames, "att1": frames["att1"].iloc[1:]}  # a row missing (or moved): the store was rebuilt
    assert incremental.advance(basis, fewer, audit_of, cal, AS_OF) is None
    worn = replace(basis, applied=incremental.APPLIED)  # its frames in many pieces after many changes
    assert incremental.advance(worn, frames, audit_of, cal, AS_OF) is worn
    store.update("att1", store.records("att1")[0].id, base_rev=store.records("att1")[0].rev, actor=REVIEWER, status=RETURNED)
    cal, frames, _, _ = inputs(store)
    assert incremental.advance(worn, frames, audit_of, cal, AS_OF) is None
    assert incremental.advance(basis, frames, audit_of, cal, AS_OF).applied == 1


def test_the_provinces_board_after_a_change_reads_the_kept_counts_instead_of_counting(seeded, monkeypatch):
    store, clock = seeded
    basis = full(store)
    templates = generate(SHIPPED, rows=5, seed=9)
    row = templates["att1"][0]
    store.append("att1", {**row.values, "voucher_no": "X-NEW"}, actor=row.actor, status=SUBMITTED)
    cal, frames, _, _ = inputs(store)
    got = incremental.advance(basis, frames, lambda f, ids: [e for i in ids for e in store.audit(f, i)], cal, AS_OF)
    want = figures.board(replace(got.prepared, counts=None), scope_for(PROVINCE, SHIPPED.forms()))

    def recount(*args, **kwargs):
        raise AssertionError("the province's board counted every unit again")

    monkeypatch.setattr(counts.Counts, "of", recount)
    board = figures.board(got.prepared, scope_for(PROVINCE, SHIPPED.forms()))
    assert board.totals == want.totals and board.totals["台账外"] == want.totals["台账外"] > 0
    pd.testing.assert_frame_equal(board.late, want.late)
    pd.testing.assert_frame_equal(board.progress, want.progress)


def board_cells(board: figures.Board) -> dict:
    """Every figure of ``board``, each table's cells as Python values (missing as None), and its totals."""
    # JSON of each table (one C call; missing cells as null, a number's type kept): equal boards give equal text
    tables = {name: value.reset_index(drop=True).to_json(orient="split", date_format="iso", default_handler=repr)
              for name, value in vars(board).items() if isinstance(value, pd.DataFrame)}
    return {**tables, "totals": board.totals}


@pytest.mark.slow
def test_a_scope_no_change_reaches_has_the_same_board_as_before(seeded):
    """Issue 17 (outcome 7): ``scope.touches`` on the change ``advance`` applied (``Basis.delta``) says which
    scopes' boards may differ; a city, a provider or a lead unit it says False for has exactly the board it
    had before, so its viewers keep that board (``lib.ui.board_data._scoped``). Over random appends, updates
    (a city, a voucher moved) and status changes; the test also sees both answers given many times."""
    store, clock = seeded
    rng = random.Random(11)
    templates = generate(SHIPPED, rows=40, seed=107)
    filers = list({r.actor.account: r.actor for form in FORMS for r in templates[form]}.values())
    cities = list(dict.fromkeys(c for c in [*(a.city for a in filers), *SHIPPED.campaign.cities] if c))[:6]  # where rows are filed first
    actors = [Actor(f"city_{i}", "city", f"{c}市工业和信息化局", c) for i, c in enumerate(cities)]
    actors += [next(a for a in filers if a.role == role) for role in ("provider", "lead_unit")] + filers[:2]
    scopes = [scope_for(a, SHIPPED.forms()) for a in actors]
    assert {s.kind for s in scopes} >= {"city", "provider", "lead_unit"}
    basis = full(store)
    before = [board_cells(figures.board(basis.prepared, s)) for s in scopes]
    kept = redrawn = 0
    for n in range(6):
        what = step(rng, store, clock, templates, 500 + n)
        cal, frames, _, _ = inputs(store)
        got = incremental.advance(basis, frames, lambda f, ids: [e for i in ids for e in store.audit(f, i)], cal, AS_OF)
        assert got is not None
        if got is basis:  # the step changed no row (a status set to the one it had): the same figures, the same boards
            continue
        basis = got
        now = [board_cells(figures.board(basis.prepared, s)) for s in scopes]
        for scope, old, new in zip(scopes, before, now, strict=True):
            if not touches(basis.delta, scope):
                assert new == old, (what, scope.label)
                kept += 1
            else:
                redrawn += new != old
        before = now
    assert kept > 30 and redrawn >= 4, (kept, redrawn)  # 53 and 6 with this seed
