"""A :class:`~lib.store.state.State` as Arrow tables and back, value for value and type for type.

The checkpoint (``lib.store.local.checkpoint``) keeps a state in columns so that opening a store costs a
few C-speed column conversions instead of parsing and decoding every JSON line of the log. Each column
holds one Python type exactly (:func:`encode_column`): texts (dictionary-encoded when they repeat, and
interned when short, as ``codec.decode_values`` does, so a loaded store takes no more memory than a
replayed one), int64, float64, bool, date32, naive timestamps, Decimals as their text; a column of mixed
types (or a value none of those hold: an int beyond 64 bits, a datetime with a zone, a list, a table) is
the log's own JSON encoding (``codec.encode``), so whatever the log holds comes back as it came out of it.

A list of value dicts (:func:`encode_dicts`) is a column per key plus, per row, its *layout*: which keys
the dict has, in which order. So a key absent from a row stays absent (not None), and keys keep their order.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from decimal import Decimal
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np
import pyarrow as pa

from lib.core.records import Record
from lib.store.base import SheetSpec
from lib.store.codec import decode, encode
from lib.store.state import AuditRow, State

#: Texts at most this long are interned when loaded, as ``codec.decode_values`` interns them.
_INTERNED = 40

_KINDS = {list: "list", str: "str", int: "int", float: "float", bool: "bool", dt.date: "date", dt.datetime: "datetime",
          Decimal: "decimal"}
_ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "date": pa.date32(),
                "datetime": pa.timestamp("us")}
_CONVERSION_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError, UnicodeError)


def encode_column(values: list[Any]) -> tuple[Any, pa.Array]:
    """The kind (JSON-ready) and the Arrow array of ``values`` (None is a null); :func:`decode_column` gives
    them back. Lists of texts and tables are Arrow lists (of texts; of :func:`encode_dicts` rows).

    >>> kind, arr = encode_column([1, None, 2**70])
    >>> kind, decode_column(kind, arr)
    ('json', [1, None, 1180591620717411303424])
    >>> kind, arr = encode_column([[{"name": "张三", "n": 1}], None, []])
    >>> decode_column(kind, arr)
    [[{'name': '张三', 'n': 1}], None, []]
    """
    types = set(map(type, values))
    types.discard(type(None))
    kind = _KINDS.get(types.pop(), "json") if len(types) == 1 else ("str" if not types else "json")
    if kind == "int" and not all(-(2**63) <= v < 2**63 for v in values if v is not None):
        kind = "json"
    elif kind == "datetime" and any(v.tzinfo is not None for v in values if v is not None):
        kind = "json"  # a zone: the JSON form keeps it (as the log does, a fixed offset)
    elif kind == "list":
        items = {type(x) for v in values if v is not None for x in v}
        if items == {dict} and all(type(k) is str for v in values if v is not None for row in v for k in row):
            kind = "table"
        elif not items <= {str}:
            kind = "json"
    try:
        if kind in ("list", "table"):
            return _nested(values, kind)
        return kind, _typed(kind, values)
    except _CONVERSION_ERRORS:  # a text Arrow refuses (a lone surrogate): JSON escapes it
        return "json", pa.array([None if v is None else json.dumps(encode(v)) for v in values], pa.string())


def _typed(kind: str, values: list[Any]) -> pa.Array:
    if kind == "str":
        arr = pa.array(values, pa.string())
        coded = arr.dictionary_encode()
        return coded if len(coded.dictionary) * 2 <= len(arr) else arr
    if kind == "decimal":
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if kind == "json":
        return pa.array([None if v is None else json.dumps(encode(v), ensure_ascii=False) for v in values],
                        pa.string())
    return pa.array(values, _ARROW_TYPES[kind])


def _nested(values: list[Any], kind: str) -> tuple[Any, pa.Array]:
    """Lists as one Arrow list column: the items of every row in one child column, with offsets."""
    offsets, nulls, items = [0], [], []
    for v in values:
        nulls.append(v is None)
        if v is not None:
            items.extend(v)
        offsets.append(len(items))
    if kind == "table":
        meta, columns = encode_dicts(items)
        child = pa.StructArray.from_arrays(list(columns.values()), names=list(columns))
        kind_of_items: Any = {"table": meta}
    else:
        inner, child = encode_column(items)
        kind_of_items = {"list": inner}
    arr = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), child, mask=pa.array(nulls, pa.bool_()))
    return kind_of_items, arr


def decode_column(kind: Any, arr: pa.Array | pa.ChunkedArray) -> list[Any]:
    """The Python values of a column :func:`encode_column` wrote."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if isinstance(kind, dict):
        return _decode_nested(kind, arr)
    if kind == "str":
        if pa.types.is_dictionary(arr.type):
            return _via_dictionary(arr, intern=True)
        if not pa.types.is_string(arr.type):
            raise ValueError(f"text column of type {arr.type}")
        return arr.to_pylist()  # texts that rarely repeat: interning would share nothing
    if kind in _ARROW_TYPES:
        if arr.type != _ARROW_TYPES[kind]:
            raise ValueError(f"{kind} column of type {arr.type}")
        if kind in ("date", "datetime"):  # few distinct ones (a batch shares its time): one object each, as _time
            return _via_dictionary(arr.dictionary_encode())
        return arr.to_pylist()
    if kind == "decimal":
        return [None if s is None else Decimal(s) for s in arr.to_pylist()]
    if kind == "json":
        return [None if s is None else decode(json.loads(s)) for s in arr.to_pylist()]
    raise ValueError(f"unknown column kind {kind!r}")


def _via_dictionary(arr: pa.DictionaryArray, *, intern: bool = False) -> list[Any]:
    words = arr.dictionary.to_pylist()
    if intern:
        words = [w if w is None or len(w) > _INTERNED else sys.intern(w) for w in words]
    words.append(None)
    return _objects(words)[arr.indices.fill_null(len(words) - 1).to_numpy()].tolist()


def _objects(values: list[Any]) -> np.ndarray:
    """``values`` as a one-dimensional array of the same objects (numpy would make rows of equal lists a matrix),
    to be taken from by index in C rather than one Python lookup per row."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _decode_nested(kind: dict[str, Any], arr: pa.ListArray) -> list[Any]:
    (tag, inner), = kind.items()
    if not pa.types.is_list(arr.type):
        raise ValueError(f"{tag} column of type {arr.type}")
    offsets = arr.offsets.to_pylist()
    base = offsets[0]
    child = arr.values.slice(base, offsets[-1] - base)
    if tag == "table":
        fields = dict(zip((f.name for f in child.type), child.flatten(), strict=True))
        items = decode_dicts(inner, fields.__getitem__)
    elif tag == "list":
        items = decode_column(inner, child)
    else:
        raise ValueError(f"unknown column kind {tag!r}")
    if base:
        offsets = [a - base for a in offsets]
    out: list[Any] = list(map(items.__getitem__, map(slice, offsets, offsets[1:])))
    if arr.null_count:
        for i in np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False)).tolist():
            out[i] = None
    return out


def encode_dicts(dicts: list[dict[str, Any]], prefix: str = "v") -> tuple[dict[str, Any], dict[str, pa.Array]]:
    """``dicts`` as columns named ``<prefix>0``, ``<prefix>1`` … and ``<prefix>layout``, with what reads them back
    (the keys, each column's kind, the layouts: JSON-ready)."""
    layouts: dict[tuple[str, ...], int] = {}
    keys: dict[str, int] = {}
    ids = []
    for d in dicts:
        shape = tuple(d)
        lid = layouts.get(shape)
        if lid is None:
            lid = layouts[shape] = len(layouts)
            for key in shape:
                keys.setdefault(key, len(keys))
        ids.append(lid)
    kinds, columns = [], {f"{prefix}layout": pa.array(ids, pa.int32())}
    for j, key in enumerate(keys):
        kind, arr = encode_column(list(map(dict.get, dicts, repeat(key))))
        kinds.append(kind)
        columns[f"{prefix}{j}"] = arr
    meta = {"keys": list(keys), "kinds": kinds, "layouts": [[keys[k] for k in shape] for shape in layouts]}
    return meta, columns


def decode_dicts(meta: dict[str, Any], column: Callable[[str], Any], prefix: str = "v") -> list[dict[str, Any]]:
    """The dicts :func:`encode_dicts` wrote; ``column`` gives a column by its name (``table.column``)."""
    keys = [sys.intern(k) for k in meta["keys"]]
    cols = [decode_column(kind, column(f"{prefix}{j}")) for j, kind in enumerate(meta["kinds"])]
    shapes = meta["layouts"]
    layout = column(f"{prefix}layout")
    if len(shapes) == 1:  # every dict has the same keys (a form's rows, as a rule): no grouping
        return _dicts([keys[j] for j in shapes[0]], [cols[j] for j in shapes[0]], len(layout))
    ids = layout.to_numpy()
    if len(ids) and not 0 <= ids.min() <= ids.max() < len(shapes):
        raise ValueError(f"layout ids outside 0..{len(shapes) - 1}")
    order = np.argsort(ids, kind="stable")  # the rows of each layout together, in their order
    bounds = np.searchsorted(ids[order], np.arange(len(shapes) + 1)).tolist()
    arrays = [_objects(col) for col in cols]
    out = np.empty(len(ids), dtype=object)
    for lid, shape in enumerate(shapes):
        rows = order[bounds[lid]:bounds[lid + 1]]
        if len(rows):
            out[rows] = _objects(_dicts([keys[j] for j in shape], [arrays[j][rows].tolist() for j in shape], len(rows)))
    return out.tolist()


def _dicts(names: list[str], columns: list[list[Any]], count: int) -> list[dict[str, Any]]:
    """``count`` dicts with the keys ``names`` (in that order), the values of key k from ``columns[k]``."""
    if not names:
        return [{} for _ in range(count)]
    if any(len(col) != count for col in columns):
        raise ValueError(f"columns of {sorted({len(col) for col in columns})} values for {count} dicts")
    return list(map(dict, map(zip, repeat(names), zip(*columns))))


# --- a whole state --------------------------------------------------------------------------------

_SYSTEM = ("id", "rev", "status", "form_version", "owner", "org", "city", "created_at", "updated_at", "updated_by")
_AUDIT = ("at", "account", "action", "form_id", "row_id", "rev", "note", "created")
#: How an audit entry's ``changes`` is kept: none, a creation's values that are its row's values still (the same
#: dict, as after a replay), a creation's values of their own (the row changed since), an update's (old, new) pairs.
_EMPTY, _SHARED, _FIRST, _PAIRS = 0, 1, 2, 3


@dataclass
class Cut:
    """The parts of a state taken at one instant (shallow copies: Records and their values never change)."""

    specs: dict[str, SheetSpec]
    rows: dict[str, list[Record]]
    audit: list[AuditRow]
    extra_keys: dict[str, list[str]]
    generation: dict[str, int]
    renames: dict[str, dict[str, str]]
    known_keys: dict[str, list[str]]  # dropped declarations too: a later row with such a key adds no column

    @classmethod
    def of(cls, state: State) -> Cut:
        """Call with the state held still (``LocalStore.reading``); cheap: no value is copied."""
        return cls(dict(state.specs), {f: list(rows.values()) for f, rows in state.rows.items()}, list(state.audit),
                   {f: list(keys) for f, keys in state.extra_keys.items()}, dict(state.generation),
                   {f: dict(moves) for f, moves in state.renames.items()}, state.known_keys())


def state_tables(cut: Cut) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    """``cut`` as JSON-ready facts and Arrow tables; :func:`state_from` reads them back."""
    meta: dict[str, Any] = {
        "specs": [[s.form_id, s.title, [[c.key, c.label, c.kind, c.display] for c in s.columns]]
                  for s in cut.specs.values()],
        "extra_keys": cut.extra_keys, "generation": cut.generation,
        "renames": cut.renames, "known_keys": cut.known_keys, "forms": list(cut.rows), "rows": [], "first": [],
    }
    tables: dict[str, pa.Table] = {}
    current = {f: {r.id: r for r in recs} for f, recs in cut.rows.items()}
    first: dict[str, list[dict[str, Any]]] = {f: [] for f in cut.rows}
    kinds, refs = [], []
    cells: dict[str, list[Any]] = {"audit": [], "key": [], "os": [], "oj": [], "ns": [], "nj": []}
    for i, a in enumerate(cut.audit):
        ref = None
        if a.created:
            rec = current.get(a.form_id, {}).get(a.row_id)
            if rec is not None and rec.values is a.changes:
                kind = _SHARED
            else:
                kind, ref = _FIRST, len(first.setdefault(a.form_id, []))
                first[a.form_id].append(a.changes)
        elif a.changes:
            kind = _PAIRS
            for key, (old, new) in a.changes.items():
                cells["audit"].append(i)
                cells["key"].append(key)
                for side, value in (("o", old), ("n", new)):
                    text = type(value) is str
                    cells[side + "s"].append(value if text else None)
                    cells[side + "j"].append(None if text or value is None else json.dumps(encode(value), ensure_ascii=False))
        else:
            kind = _EMPTY
        kinds.append(kind)
        refs.append(ref)
    for n, form in enumerate(cut.rows):
        recs = cut.rows[form]
        columns, system = {}, []
        for name in _SYSTEM:
            kind, columns[f"s_{name}"] = encode_column(list(map(attrgetter(name), recs)))
            system.append(kind)
        vmeta, vcols = encode_dicts([r.values for r in recs])
        tables[f"rows{n}"] = pa.table({**columns, **vcols})
        meta["rows"].append({"system": system, "values": vmeta})
        fmeta, fcols = encode_dicts(first.get(form, []))
        tables[f"first{n}"] = pa.table(fcols)
        meta["first"].append(fmeta)
    columns, audit_kinds = {}, []
    for name in _AUDIT:
        kind, columns[name] = encode_column(list(map(attrgetter(name), cut.audit)))
        audit_kinds.append(kind)
    columns["changes"] = pa.array(kinds, pa.int8())
    columns["ref"] = pa.array(refs, pa.int32())
    tables["audit"] = pa.table(columns)
    meta["audit"] = audit_kinds
    tables["changes"] = pa.table({"audit": pa.array(cells["audit"], pa.int32()), "key": pa.array(cells["key"], pa.string()),
                                  **{k: pa.array(cells[k], pa.string()) for k in ("os", "oj", "ns", "nj")}})
    return meta, tables


def state_from(meta: dict[str, Any], tables: dict[str, pa.Table]) -> State:
    """The :class:`State` :func:`state_tables` wrote (its frames built again when first asked)."""
    state = State()
    # The specs through the one way a state takes them; what the entries also did (rows, generations, the
    # keys it knows: a replay knows keys declared once and dropped since) is replaced below.
    for form, title, columns in meta["specs"]:
        state.apply({"op": "sheet", "form": sys.intern(form), "title": title, "columns": columns})
    forms = [sys.intern(f) for f in meta["forms"]]
    state.rows = {}
    first: dict[str, list[dict[str, Any]]] = {}
    for n, form in enumerate(forms):
        table = tables[f"rows{n}"]
        info = meta["rows"][n]
        system = [decode_column(kind, table.column(f"s_{name}")) for name, kind in zip(_SYSTEM, info["system"], strict=True)]
        values = decode_dicts(info["values"], table.column)
        state.rows[form] = dict(zip(system[0], _records(form, system, values), strict=True))
        first[form] = decode_dicts(meta["first"][n], tables[f"first{n}"].column)
    table = tables["audit"]
    columns = [decode_column(kind, table.column(name)) for name, kind in zip(_AUDIT, meta["audit"], strict=True)]
    at, account, action, form_id, row_id, rev, note, created = columns
    changes = _audit_changes(table.column("changes").to_numpy(), table.column("ref").to_pylist(), form_id, row_id,
                             state.rows, first, tables["changes"])
    state.audit = _audit_rows(at, account, action, form_id, row_id, rev, changes, note, created)
    state.extra_keys = {sys.intern(f): {sys.intern(k): None for k in keys} for f, keys in meta["extra_keys"].items()}
    state.generation = {sys.intern(f): int(n) for f, n in meta["generation"].items()}
    state.renames = {sys.intern(f): dict(moves) for f, moves in meta["renames"].items()}
    state.restore_known_keys(meta["known_keys"])
    return state


#: Record's fields in order: the form, the system columns, the values.
_RECORD_FIELDS = ("form_id", *_SYSTEM, "values")


def _records(form: str, system: list[list[Any]], values: list[dict[str, Any]]) -> list[Record]:
    """``Record(form, *system, values)`` for each row, made a column at a time: a frozen dataclass's
    ``__init__`` sets each of its 12 fields through ``object.__setattr__`` (~2 µs a row, 0.2 s at 100,000),
    while each slot's own descriptor fills a whole column from C (0.08 s). The same objects as ``__init__``
    makes, since Record does nothing else when made; a Record that did would be made the slow way."""
    count = len(values)
    if tuple(f.name for f in fields(Record)) != _RECORD_FIELDS or hasattr(Record, "__post_init__"):
        return list(map(Record, repeat(form, count), *system, values))
    if any(len(col) != count for col in system):
        raise ValueError(f"system columns of {sorted({len(col) for col in system})} values for {count} rows")
    out = list(map(object.__new__, repeat(Record, count)))
    for name, column in zip(_RECORD_FIELDS, (repeat(form, count), *system, values), strict=True):
        deque(map(getattr(Record, name).__set__, out, column), maxlen=0)
    return out


def _audit_rows(*columns: list[Any]) -> list[AuditRow]:
    """``AuditRow(*values)`` for each entry, through ``tuple.__new__`` called from C: what the named tuple's
    own ``__new__`` does, without a Python call per entry (0.1 s at 100,000 entries)."""
    if len(columns) != len(AuditRow.__annotations__):  # a field added to AuditRow and not here
        raise TypeError(f"{len(columns)} audit columns for {list(AuditRow.__annotations__)}")
    return list(map(tuple.__new__, repeat(AuditRow), zip(*columns, strict=True)))


def _audit_changes(kinds: np.ndarray, refs: list[int | None], forms: list[str], row_ids: list[str],
                   rows: dict[str, dict[str, Record]], first: dict[str, list[dict[str, Any]]],
                   pairs: pa.Table) -> list[dict[str, Any]]:
    """Each audit entry's ``changes``, from how it is kept (``kinds``: _SHARED, _FIRST …): a kind at a time,
    the creations that share their row's values (nearly all of them) in one pass."""
    if len(kinds) != len(forms):
        raise ValueError(f"{len(kinds)} audit kinds for {len(forms)} entries")
    if ((kinds < _EMPTY) | (kinds > _PAIRS)).any():
        raise ValueError(f"audit changes kinds {sorted(set(kinds.tolist()) - {_EMPTY, _SHARED, _FIRST, _PAIRS})}")
    out: list[Any] = [None] * len(kinds)
    for i in np.flatnonzero(kinds == _EMPTY).tolist():
        out[i] = {}
    shared = np.flatnonzero(kinds == _SHARED)
    if len(shared) == len(kinds):
        return [rows[f][r].values for f, r in zip(forms, row_ids, strict=True)]
    for i in shared.tolist():
        out[i] = rows[forms[i]][row_ids[i]].values
    for i in np.flatnonzero(kinds == _FIRST).tolist():
        out[i] = first[forms[i]][refs[i]]
    updates = _pairs(pairs)
    for i in np.flatnonzero(kinds == _PAIRS).tolist():
        out[i] = updates[i]
    return out


def _pairs(table: pa.Table) -> dict[int, dict[str, tuple[Any, Any]]]:
    """Each update's changes, by its index in the audit."""
    out: dict[int, dict[str, tuple[Any, Any]]] = {}
    columns = [table.column(name).to_pylist() for name in ("audit", "key", "os", "oj", "ns", "nj")]
    for i, key, os_, oj, ns, nj in zip(*columns, strict=True):
        old = os_ if oj is None else decode(json.loads(oj))
        new = ns if nj is None else decode(json.loads(nj))
        d = out.get(i)
        if d is None:
            d = out[i] = {}
        d[sys.intern(key)] = (old, new)
    return out
