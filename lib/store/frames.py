"""A form's rows as a DataFrame, brought up to date by applying the rows changed since the last one
instead of being built again: a full build took 1.15 s at 100,000 rows, paid by a viewer after every new
row (issue 17).

:func:`build_frame` is the definition: one row per Record in the order of ``State.rows[form]`` (insertion
order; an update keeps its row's place), the system columns, then one column per field key, typed by
:func:`column`'s rules. A :class:`FrameBook` keeps the last frame with what it takes to bring it up to
date (each row's position, each field column's tally of value types) and a journal of the rows changed
since; :func:`current_book` gives a frame EQUAL to a full build (dtypes, values, index:
tests/store/test_frame_incremental.py): appended rows go at the end, updated rows are replaced in place,
a column whose dtype changes (a None arriving in an int column, or the last None leaving it) or that is new
(a field added to the sheet, a key no spec declares) is built on its own from the records.

A full build instead when: there is no earlier frame (the first snapshot; a State loaded from a checkpoint,
whose books start empty), the earlier frame is empty, a rename moved values between keys in every row, the
journal does not account for every change of the generation, more rows changed than half the frame holds
(the journal stops recording then), or a system value has a type its column does not hold.

A frame handed out never changes: an unchanged column is taken from the previous frame as a pandas Series,
an updated one is a new array, and appends write only rows past the end of every frame's view of a numpy
column's :class:`Spare` (text columns gain an Arrow chunk). Frames get their columns as pandas objects, so
copy-on-write tracks what they share: never as bare arrays, which pandas would let a caller's edit of an
old snapshot write through (tests/store/test_frame_incremental.py checks it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lib.core.records import Record
from lib.store.base import SYSTEM_KEYS, Column, detached

#: The value classes a field column's dtype depends on (positions in a tally).
INT, FLOAT, STR, OTHER = range(4)
#: The journal records this many changed rows at least, more when the frame is larger (half its rows).
JOURNAL_MIN = 1_000
#: Appends add an Arrow chunk to each text column, an update three; past this many, small ones are merged.
MAX_CHUNKS = 64
#: Up to this many rows' values are read one by one, more with one ``take``.
FEW = 64
#: The system columns: the Record attribute, and the dtype every value's type must give (else a full build).
SYSTEM: tuple[tuple[str, str, str], ...] = (
    ("_id", "id", "str"), ("_rev", "rev", "int64"), ("_status", "status", "str"),
    ("_form_version", "form_version", "int64"), ("_owner", "owner", "str"), ("_org", "org", "str"),
    ("_city", "city", "str"), ("_created_at", "created_at", "datetime64[us]"),
    ("_updated_at", "updated_at", "datetime64[us]"), ("_updated_by", "updated_by", "str"),
)
assert tuple(key for key, _, _ in SYSTEM) == SYSTEM_KEYS
SYSTEM_TYPES = {"str": str, "int64": int, "datetime64[us]": dt.datetime}


def build_frame(recs: list[Record], columns: list[Column]) -> pd.DataFrame:
    """All of ``recs`` as a DataFrame: the system columns, then one per column key (a key given twice, or
    a system key, once)."""
    return _built(recs, [c.key for c in columns], {})


def _built(recs: list[Record], keys: list[str], tallies: dict[str, list[int]]) -> pd.DataFrame:
    """The full build, filling ``tallies`` with each field column's."""
    data: dict[str, Any] = {
        "_id": [r.id for r in recs],
        "_rev": pd.Series([r.rev for r in recs], dtype="int64"),
        "_status": [r.status for r in recs],
        "_form_version": pd.Series([r.form_version for r in recs], dtype="int64"),
        "_owner": [r.owner for r in recs],
        "_org": [r.org for r in recs],
        "_city": [r.city for r in recs],
        "_created_at": pd.Series([r.created_at for r in recs], dtype="datetime64[us]"),
        "_updated_at": pd.Series([r.updated_at for r in recs], dtype="datetime64[us]"),
        "_updated_by": [r.updated_by for r in recs],
    }
    assert tuple(data) == SYSTEM_KEYS
    for key in keys:
        if key in data:
            continue
        values = [r.values.get(key) for r in recs]
        tallies[key] = tally(values)
        if tallies[key][OTHER]:  # lists among them: the frame's own, so a caller's edit never reaches the store
            values = [v if type(v) is not list else detached(v) for v in values]
        data[key] = column(values, tallies[key])
    return pd.DataFrame(data)


def column(values: list[Any], counts: list[int] | None = None) -> pd.Series:
    """Typed column when every value has one plain type (int64 only when every int is in its range);
    otherwise objects kept as given (so None stays None, dates stay datetime.date, lists stay lists).
    ``counts``: ``tally(values)``, when known already."""
    dtype = dtype_of(counts or tally(values))
    if dtype == "str":
        return pd.Series(values)
    return pd.Series(values, dtype=dtype)


def classify(value: Any) -> int:
    """Which class of a tally ``value`` counts in.

    >>> [classify(v) for v in (1, 2**63, 1.0, "1", None, True)]
    [0, 3, 1, 2, 3, 3]
    """
    kind = type(value)
    if kind is int:
        return INT if -(2**63) <= value < 2**63 else OTHER
    return FLOAT if kind is float else STR if kind is str else OTHER


def tally(values: list[Any]) -> list[int]:
    """How many of ``values`` are ints in int64's range, floats, strs, and anything else."""
    types = Counter(map(type, values))  # C speed; the int range is checked only where there are ints
    ints = types.pop(int, 0)
    big = sum(1 for v in values if type(v) is int and not -(2**63) <= v < 2**63) if ints else 0
    return [ints - big, types.pop(float, 0), types.pop(str, 0), big + sum(types.values())]


def dtype_of(counts: list[int]) -> str:
    """The dtype :func:`column` gives values tallied as ``counts``.

    >>> dtype_of([3, 0, 0, 0]), dtype_of([0, 2, 0, 0]), dtype_of([0, 0, 1, 0]), dtype_of([2, 0, 0, 1]), dtype_of([0] * 4)
    ('int64', 'float64', 'str', 'object', 'object')
    """
    total = sum(counts)
    for cls, dtype in ((INT, "int64"), (FLOAT, "float64"), (STR, "str")):
        if total and counts[cls] == total:
            return dtype
    return "object"


@dataclass(eq=False)
class FrameBook:
    """A form's frame at ``generation`` and the rows changed since (the journal ``State._bump`` keeps)."""

    generation: int
    frame: pd.DataFrame
    positions: dict[str, int]  # row id -> its row in ``frame``
    arrays: dict[str, Any]  # each column of ``frame`` as an array (ndarray, ArrowStringArray), read, never written
    tallies: dict[str, list[int]]  # field key -> ``tally`` of its column
    spares: dict[str, Spare] = field(default_factory=dict)  # numpy columns with room for appends
    changed: dict[str, None] = field(default_factory=dict)  # rows appended or updated since, first change first
    bumps: int = 0  # changes to the form since, as its generation counts them
    whole: bool = False  # a change the journal cannot replay: the next frame is a full build

    def note(self, row_id: str | None, *, reshaped: bool = False) -> None:
        """One change to the form: ``row_id`` appended or updated, None when no row changed (a sheet spec);
        ``reshaped``: values moved in every row (a rename)."""
        self.bumps += 1
        if reshaped or len(self.changed) > max(len(self.positions) // 2, JOURNAL_MIN):
            self.whole = True  # a full build is cheaper than replaying that many, and the journal stays small
            self.changed.clear()
        elif row_id is not None and not self.whole:
            self.changed[row_id] = None


@dataclass(eq=False)
class Spare:
    """A numpy column with room to grow: its frames view the first rows of ``values`` through ``series``
    (pandas tracks those views, so an edit of a frame copies first), and only rows past every view's end
    are written, so an append touches neither the rows before it nor their objects' reference counts (an
    object column's copy and its release cost about 10 ms each at 100,000 rows)."""

    values: np.ndarray
    series: pd.Series


def current_book(book: FrameBook | None, generation: int, rows: dict[str, Record], keys: list[str]) -> FrameBook:
    """A book of ``rows`` (a form's, in order) at ``generation`` with a column per key of ``keys`` after the
    system ones: ``book`` brought up to date when its journal allows, else built in full. ``book`` is
    spent either way (its positions and tallies are reused)."""
    if book is not None and not book.whole and book.positions and book.generation + book.bumps == generation:
        advanced = _advanced(book, generation, rows, keys)
        if advanced is not None:
            return advanced
    tallies: dict[str, list[int]] = {}
    frame = _built(list(rows.values()), keys, tallies)
    return FrameBook(generation, frame, {rid: i for i, rid in enumerate(rows)},
                     {key: _array_of(frame[key]) for key in frame.columns}, tallies)


def _array_of(series: pd.Series) -> Any:
    return series.array if isinstance(series.array, pd.arrays.ArrowStringArray) else series.to_numpy()


def _dtype(array: Any) -> str:
    return "str" if isinstance(array, pd.arrays.ArrowStringArray) else str(array.dtype)


def _advanced(book: FrameBook, generation: int, rows: dict[str, Record], keys: list[str]) -> FrameBook | None:
    """``book``'s frame with its journal applied; None when it cannot be (a full build then)."""
    positions, start = book.positions, len(book.positions)
    appended: list[Record] = []
    updated: list[tuple[int, Record]] = []
    for rid in book.changed:
        rec = rows.get(rid)
        if rec is None:
            return None
        at = positions.get(rid)
        if at is None:
            positions[rid] = start + len(appended)
            appended.append(rec)
        else:
            updated.append((at, rec))
    if start + len(appended) != len(rows) or len(book.frame) != start:
        return None
    updated.sort(key=lambda u: u[0])
    arrays: dict[str, Any] = {}
    spares: dict[str, Spare] = {}
    for key, attr, dtype in SYSTEM:
        was = book.arrays.get(key)
        if was is None or _dtype(was) != dtype:
            return None
        get, wanted = attrgetter(attr), SYSTEM_TYPES[dtype]
        new = [get(r) for r in appended]
        changes = _changes(was, dtype, [(at, get(r)) for at, r in updated])
        if any(type(v) is not wanted or _aware(v) for v in new) or any(
                type(v) is not wanted or _aware(v) for _, v in changes):
            return None  # the full build's list inference decides such a column
        arrays[key] = _applied(was, dtype, new, changes, book.spares, spares, key)
    everything: list[Record] | None = None
    tallies: dict[str, list[int]] = {}
    for key in keys:
        if key in arrays:
            continue
        counts, was = book.tallies.get(key), book.arrays.get(key)
        array = None
        if counts is not None and was is not None:
            array = _field(was, counts, key, appended, updated, book.spares, spares)
        if array is None:  # a new column, or its dtype changed: built from every row
            everything = list(rows.values()) if everything is None else everything
            values = [r.values.get(key) for r in everything]
            counts = tally(values)
            array = _array_of(column(values, counts))
        tallies[key] = counts
        arrays[key] = array
    frame = _framed(book, arrays, spares, start + len(appended))
    return FrameBook(generation, frame, positions, arrays, tallies, spares)


def _framed(book: FrameBook, arrays: dict[str, Any], spares: dict[str, Spare], length: int) -> pd.DataFrame:
    """The frame of ``arrays``: the columns ``book``'s frame holds already are taken from it, and those in
    a spare as views of its ``series``: pandas objects, so copy-on-write tracks what they share (never the
    bare arrays, which pandas would let an edit of a frame write through)."""
    old = book.frame

    def series(key: str, array: Any, index: pd.Index) -> pd.Series:
        if key in spares:
            return spares[key].series.iloc[:length]
        # The dtype given: pandas would take an object array of texts for a str column.
        return pd.Series(array, index=index, dtype=array.dtype, copy=False)

    if length == len(old) and list(arrays) == list(old.columns):  # an update: most columns as they were
        frame = old.copy(deep=False)
        for key, array in arrays.items():
            if array is not book.arrays[key]:
                frame[key] = series(key, array, old.index)
        return frame
    index = old.index if length == len(old) else pd.RangeIndex(length)
    data = {key: old[key] if array is book.arrays.get(key) else series(key, array, index) for key, array in arrays.items()}
    return pd.DataFrame(data, index=index, copy=False)


def _aware(value: Any) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _field(was: Any, counts: list[int], key: str, appended: list[Record], updated: list[tuple[int, Record]],
           had: dict[str, Spare], spares: dict[str, Spare]) -> Any:
    """A field column with the changed rows applied; None when its dtype changes (``counts`` is updated)."""
    dtype = _dtype(was)
    new = [_own(r.values.get(key)) for r in appended]
    changes = _changes(was, dtype, [(at, _own(r.values.get(key))) for at, r in updated])
    if not new and not changes:
        if key in had:
            spares[key] = had[key]
        return was
    if changes:
        olds = _values_at(was, dtype, [at for at, _ in changes]) if dtype == "object" else None
        for i, (_, value) in enumerate(changes):
            counts[classify(olds[i]) if olds is not None else _CLASS[dtype]] -= 1
            counts[classify(value)] += 1
    for value in new:
        counts[classify(value)] += 1
    if dtype_of(counts) != dtype:
        return None
    return _applied(was, dtype, new, changes, had, spares, key)


_CLASS = {"int64": INT, "float64": FLOAT, "str": STR}


def _own(value: Any) -> Any:
    return value if type(value) is not list else detached(value)


def _changes(was: Any, dtype: str, candidates: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """The (position, value) of ``candidates`` whose value differs from the one ``was`` holds there."""
    if not candidates:
        return []
    olds = _values_at(was, dtype, [at for at, _ in candidates])
    return [(at, v) for (at, v), old in zip(candidates, olds, strict=True) if not _same(old, v)]


def _same(was: Any, value: Any) -> bool:
    """Whether a column holding ``was`` would hold ``value`` alike (else it is written again)."""
    if was is value:
        return True
    kind = type(was)
    if kind is not type(value):
        return False
    if kind is float:
        return was == value and math.copysign(1, was) == math.copysign(1, value)
    if kind is dt.datetime:  # aware times equal as instants may still differ in offset: 20:00+08:00 is not 12:00+00:00 shown
        return was == value and was.utcoffset() == value.utcoffset()
    return kind in (int, str) and was == value


def _values_at(was: Any, dtype: str, at: list[int]) -> list[Any]:
    """The values at positions ``at`` as Python values (the objects themselves in an object column)."""
    if dtype == "str":
        texts = was.__arrow_array__()
        if len(at) > FEW:
            return pc.take(texts, pa.array(at, pa.int64())).to_pylist()
        return [texts[i].as_py() for i in at]  # a take of a few rows costs as much as copying the column
    return was[np.asarray(at, dtype=np.int64)].tolist()


def _applied(was: Any, dtype: str, new: list[Any], changes: list[tuple[int, Any]], had: dict[str, Spare],
             spares: dict[str, Spare], key: str) -> Any:
    """``was`` with ``changes`` (position, value; positions ascending) made and ``new`` added (``was``
    itself when there is nothing to do): the previous frame's rows stay as they were. A numpy column's
    spare (``had``, its ``key``) is grown in place by appends, copied for changes; the one the result lives
    in is put in ``spares``."""
    if not new and not changes:
        if key in had:
            spares[key] = had[key]
        return was
    if dtype == "str":
        texts = was.__arrow_array__()  # Arrow arrays are immutable: the new column shares their buffers
        chunks, start = [], 0
        for at, value in changes:  # the rows between changes as slices of the old chunks (no copy)
            chunks += texts.slice(start, at - start).chunks
            chunks.append(pa.array([value], pa.large_string()))
            start = at + 1
        chunks += texts.slice(start).chunks
        if new:
            chunks.append(pa.array(new, pa.large_string()))
        return pd.arrays.ArrowStringArray(pa.chunked_array(_compacted(chunks), pa.large_string()), dtype=was.dtype)
    start, end = len(was), len(was) + len(new)
    spare = had.get(key)
    if changes or spare is None or was.base is not spare.values or end > len(spare.values):
        values = np.empty(end + end // 2 + 16, dtype=was.dtype)  # rows written in place are never in a frame
        values[:start] = was
        spare = Spare(values, pd.Series(values, dtype=values.dtype, copy=False))
    if new:
        spare.values[start:end] = _array(new, was.dtype)
    for at, value in changes:
        spare.values[at] = value  # one at a time: a list value is stored as it is, not spread over rows
    spares[key] = spare
    return spare.values[:end]


def _compacted(chunks: list[pa.Array]) -> list[pa.Array]:
    """``chunks`` as they are when not too many; else runs of small ones merged, each run up to 1/16 of the
    rows, so only the small ones are copied and at most about 33 are left."""
    if len(chunks) <= MAX_CHUNKS:
        return chunks
    limit = max(sum(len(c) for c in chunks) // 16, 1)
    out: list[pa.Array] = []
    run: list[pa.Array] = []
    size = 0
    for chunk in chunks:
        if run and size + len(chunk) > limit:
            out.append(run[0] if len(run) == 1 else pa.concat_arrays(run))
            run, size = [], 0
        run.append(chunk)
        size += len(chunk)
    out.append(run[0] if len(run) == 1 else pa.concat_arrays(run))
    return out


def _array(values: list[Any], dtype: np.dtype) -> np.ndarray:
    if dtype.kind != "O":
        return np.array(values, dtype=dtype)
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out
