"""A snapshot brought up to date with the rows changed since the last one (lib/store/frames.py) equals a
full build: same columns in order, dtypes, values and index, whatever sequence of appends, updates, status
changes, renames and new columns came between; and a frame handed out never changes after later writes."""

from __future__ import annotations

import datetime as dt
import gc
from decimal import Decimal
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal, assert_index_equal

from lib.store import frames
from lib.store.codec import encode_values
from lib.store.frames import build_frame
from lib.store.state import State

FORM = "f"
AT = "2020-09-10T10:00:00"
ACTOR = {"account": "u1", "org": "单位", "city": "市"}
#: The sheet's keys at first; "e" is a key no spec declares until a sheet op adds it, "z" a later field.
DECLARED = ["n", "x", "t", "o"]
KEYS = [*DECLARED, "e", "z"]
STATUSES = ["草稿", "已提交", "已退回"]

big = st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**70])
anything = st.one_of(
    st.none(), st.integers(-3, 3), big, st.floats(allow_nan=True), st.sampled_from([0.0, -0.0]), st.text(max_size=3),
    st.booleans(), st.dates(), st.datetimes(), st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.lists(st.text(max_size=2), max_size=2), st.lists(st.fixed_dictionaries({"名": st.text(max_size=2)}), max_size=1))
#: Per key, mostly one plain type, so columns are int64/float64/str and change type now and then.
VALUES = {
    "n": st.one_of(st.integers(-3, 3), st.integers(-3, 3), st.integers(-3, 3), st.none(), st.text(max_size=2), big),
    "x": st.one_of(st.floats(-2, 2), st.floats(-2, 2), st.floats(-2, 2), st.integers(0, 2), st.none()),
    "t": st.one_of(st.text(max_size=3), st.text(max_size=3), st.none(), st.lists(st.text(max_size=2), max_size=2)),
    "o": anything,
    "e": st.one_of(st.text(max_size=2), st.none()),
    "z": st.one_of(st.integers(0, 3), st.dates()),
}
row_values = st.sets(st.sampled_from(KEYS), max_size=len(KEYS)).flatmap(
    lambda keys: st.fixed_dictionaries({k: VALUES[k] for k in sorted(keys)}))

ops = st.lists(st.one_of(
    st.tuples(st.just("append"), row_values, st.sampled_from(STATUSES)),
    st.tuples(st.just("append"), row_values, st.sampled_from(STATUSES)),
    st.tuples(st.just("update"), st.integers(0, 50), row_values, st.one_of(st.none(), st.sampled_from(STATUSES))),
    st.tuples(st.just("update"), st.integers(0, 50), row_values, st.none()),
    st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(STATUSES)),
    st.tuples(st.just("rename"), st.sampled_from(KEYS), st.sampled_from(KEYS)),
    st.tuples(st.just("sheet"), st.lists(st.sampled_from(KEYS), unique=True, max_size=len(KEYS))),
    st.tuples(st.just("snapshot")),
    st.tuples(st.just("snapshot")),
), max_size=40)


def sheet(keys: list[str]) -> dict:
    return {"op": "sheet", "at": AT, "form": FORM, "title": "表", "columns": [[k, f"列{k}", "text"] for k in keys]}


class Run:
    """A State fed log entries, with each snapshot taken compared with a full build."""

    def __init__(self) -> None:
        self.state = State()
        self.state.apply(sheet(DECLARED))
        self.taken: list[tuple[pd.DataFrame, pd.DataFrame]] = []  # (snapshot, its full build) in order
        self.clock = dt.datetime(2020, 9, 10, 10)

    def at(self) -> str:
        self.clock += dt.timedelta(minutes=1, microseconds=7)
        return self.clock.isoformat()

    def rows(self) -> list:
        return list(self.state.rows.get(FORM, {}).values())

    def append(self, values: dict, status: str) -> None:
        rid = f"r{len(self.rows()):03d}"
        self.state.apply({"op": "append", "at": self.at(), "form": FORM, "id": rid, "rev": 1, "actor": ACTOR,
                          "status": status, "values": encode_values(values)})

    def update(self, index: int, values: dict | None, status: str | None) -> None:
        rows = self.rows()
        if not rows:
            return
        rec = rows[index % len(rows)]
        entry = {"op": "update", "at": self.at(), "form": FORM, "id": rec.id, "rev": rec.rev + 1,
                 "actor": {"account": f"u{rec.rev}"}, "action": "修改"}
        if values is not None:
            entry["values"] = encode_values(values)
        if status is not None:
            entry["status"] = status
        self.state.apply(entry)

    def rename(self, old: str, new: str) -> None:
        if not self.state.rename_problem(FORM, old, new):
            self.state.apply({"op": "rename", "at": self.at(), "form": FORM, "from": old, "to": new, "actor": ACTOR})

    def snapshot(self) -> pd.DataFrame:
        got = self.state.frame(FORM)
        expected = build_frame(self.rows(), self.state.columns(FORM))
        assert_frame_equal(got, expected, check_dtype=True, check_exact=True, check_index_type=True,
                           check_column_type=True)
        assert_index_equal(got.index, pd.RangeIndex(len(expected)), exact=True)
        self.taken.append((got, expected.copy(deep=True)))
        return got

    def play(self, steps: list[tuple]) -> None:
        for step in steps:
            if step[0] == "append":
                self.append(step[1], step[2])
            elif step[0] == "update":
                self.update(step[1], step[2], step[3])
            elif step[0] == "status":
                self.update(step[1], None, step[2])
            elif step[0] == "rename":
                self.rename(step[1], step[2])
            elif step[0] == "sheet":
                self.state.apply(sheet(step[1]))
            else:
                self.snapshot()
        self.snapshot()
        for got, expected in self.taken:  # later writes never changed a frame already handed out
            assert_frame_equal(got, expected, check_dtype=True, check_exact=True)


@given(ops, st.sampled_from([1, 1_000]), st.sampled_from([2, 64]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_snapshot_after_any_changes_equals_a_full_build(steps, journal_min, max_chunks):
    """``journal_min`` 1: the journal gives up often (a full build then); ``max_chunks`` 2: text columns
    have their chunks merged after nearly every change."""
    with mock.patch.multiple(frames, JOURNAL_MIN=journal_min, MAX_CHUNKS=max_chunks):
        Run().play(steps)


def test_a_none_in_an_int_column_makes_it_object_and_an_int_again_makes_it_int64():
    run = Run()
    for i in range(3):
        run.append({"n": i, "x": 0.5, "t": "甲"}, "已提交")
    assert str(run.snapshot()["n"].dtype) == "int64"
    run.update(1, {"n": None}, None)
    frame = run.snapshot()
    assert frame["n"].dtype == object and frame["n"].tolist() == [0, None, 2]
    run.update(1, {"n": 7}, None)
    assert str(run.snapshot()["n"].dtype) == "int64"
    run.update(0, {"x": 1}, None)  # an int among floats: objects, each kept as given
    assert run.snapshot()["x"].tolist() == [1, 0.5, 0.5] and type(run.taken[-1][0]["x"][0]) is int
    run.append({"t": 3}, "草稿")
    frame = run.snapshot()
    assert frame["t"].dtype == object and frame["t"].tolist() == ["甲", "甲", "甲", 3]


def test_appends_and_updates_are_applied_to_the_previous_frame_not_rebuilt():
    """The journal is what the frame is brought up to date with: a full build happens once."""
    run = Run()
    for i in range(5):
        run.append({"n": i, "t": f"行{i}", "o": [f"{i}"]}, "草稿")
    first = run.snapshot()
    with mock.patch.object(frames, "_built", wraps=frames._built) as built:
        run.update(2, {"t": "改", "o": Decimal("1.5")}, "已提交")
        second = run.snapshot()
        # A column the update left alone is the very array of the frame before; a text column's rows are
        # the same Arrow buffers.
        assert np.shares_memory(first["n"].to_numpy(), second["n"].to_numpy())
        assert texts(first)[0].buffers()[2].address == texts(second)[0].buffers()[2].address
        for i in range(3):
            run.append({"n": 10 + i, "t": None, "o": dt.date(2020, 9, i + 1)}, "已提交")
        run.update(6, {"n": 2**63}, None)  # a column changing dtype is built on its own, not the frame
        frame = run.snapshot()
    assert built.call_count == 2  # the test's own full builds only
    assert frame["_status"].tolist() == ["草稿", "草稿", "已提交", "草稿", "草稿", "已提交", "已提交", "已提交"]
    assert frame["o"][2] == Decimal("1.5") and frame["o"][7] == dt.date(2020, 9, 3)
    assert frame["_rev"].tolist() == [1, 1, 2, 1, 1, 1, 2, 1]


def texts(frame: pd.DataFrame) -> list:
    """The Arrow chunks of ``frame``'s text column "t"."""
    return frame["t"].array.__arrow_array__().chunks


@pytest.mark.parametrize("change", ["rename", "journal_lost"])
def test_a_change_the_journal_cannot_replay_builds_in_full(change):
    run = Run()
    run.append({"n": 1, "t": "甲"}, "草稿")
    run.snapshot()
    if change == "rename":
        run.rename("t", "名称")
    else:
        run.state.generation[FORM] += 1  # a change the journal never saw
    run.append({"n": 2, "名称": "乙"}, "草稿")
    with mock.patch.object(frames, "_built", wraps=frames._built) as built:
        run.snapshot()
    assert built.call_count == 2  # the State's frame and the test's own


def test_a_state_whose_frames_were_set_without_books_builds_in_full():
    """A State filled by setting its attributes (a checkpoint's load) has no books: the first frame is built."""
    run = Run()
    run.append({"n": 1}, "草稿")
    run.snapshot()
    loaded = State()
    for name in ("specs", "rows", "audit", "extra_keys", "_known_keys", "generation", "renames"):
        setattr(loaded, name, getattr(run.state, name))
    run.state = loaded
    run.append({"n": 2}, "草稿")
    assert run.snapshot()["n"].tolist() == [1, 2]


def test_many_changes_keep_a_text_column_in_few_chunks():
    """Each update splices a text column (no copy), each append adds a chunk: small chunks are merged."""
    run = Run()
    for i in range(200):
        run.append({"t": f"行{i}"}, "草稿")
    run.snapshot()
    for i in range(60):  # 3 or 4 chunks each: merged several times
        run.update(i * 7, {"t": f"改{i}"}, None)
        run.append({"t": f"新{i}"}, "草稿")
        frame = run.snapshot()
        assert frame["t"].array.__arrow_array__().num_chunks <= frames.MAX_CHUNKS
    assert frame["t"].tolist()[-1] == "新59" and len(frame) == 260


@pytest.mark.parametrize("change", ["append", "update", "new_column"])
def test_editing_an_old_snapshot_never_reaches_the_frames_after_it(change):
    """The frame a snapshot came from is dropped once the next one replaces it; an edit of the old snapshot
    then must still not write into the arrays the new frame shares with it."""
    run = Run()
    for i in range(4):
        run.append({"n": i, "x": i / 2, "t": f"行{i}", "o": [i]}, "草稿")
    run.snapshot()  # a full build
    run.append({"n": 5, "x": 0.5, "t": "五", "o": [5]}, "草稿")
    old = run.snapshot()  # its columns are views of arrays with room for the next appends
    if change == "append":
        run.append({"n": 9, "x": 0.5, "t": "新", "o": [9]}, "草稿")
    elif change == "update":
        run.update(3, {"t": "改"}, "已提交")
    else:
        run.append({"n": 9, "e": "新键"}, "草稿")
    new = run.snapshot()
    kept = new.copy(deep=True)
    run.taken.clear()
    gc.collect()
    for key, value in (("n", -1), ("x", -1.0), ("t", "改掉"), ("o", "改掉"), ("_rev", 99), ("_status", "改掉")):
        old.loc[0, key] = value
        old.iloc[1, list(old.columns).index(key)] = value
    assert_frame_equal(new, kept, check_exact=True)
    assert_frame_equal(run.state.frame(FORM), kept, check_exact=True)


def test_an_aware_time_changed_to_the_same_instant_in_another_offset_shows_the_new_offset():
    """Attack Q1: 20:00+08:00 → "x" → 12:00+00:00 between two snapshots kept the old object (equal as an instant)."""
    east, utc = dt.timezone(dt.timedelta(hours=8)), dt.UTC
    run = Run()
    run.append({"when": dt.datetime(2020, 9, 10, 20, tzinfo=east)}, "已提交")
    run.snapshot()
    run.update(0, {"when": "x"}, None)
    run.update(0, {"when": dt.datetime(2020, 9, 10, 12, tzinfo=utc)}, None)
    assert run.snapshot()["when"][0].utcoffset() == dt.timedelta(0)
