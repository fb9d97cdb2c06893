"""Group counts without ``groupby``: the board counts many flags over the same keys, and factorising
the keys once then ``bincount``-ing each flag is much faster than a pandas groupby per figure."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def state_flags(units: pd.DataFrame) -> Callable[..., np.ndarray]:
    """``is_(*states)``: which rows of ``units`` are in one of ``states`` (one pass over the column)."""
    codes, uniques = pd.factorize(units["state"])
    names = np.asarray(uniques, dtype=object)

    def is_(*states: str) -> np.ndarray:
        table = np.append(np.isin(names, np.asarray(states, dtype=object)), False)  # code -1: blank
        return table[codes]

    return is_


def key_groups(keys: list[pd.Series]) -> tuple[list[list], np.ndarray]:
    """The distinct combinations of ``keys`` in sorted order (as groupby orders its groups) as
    one list of values per key, and each row's group number (-1 where a key is blank)."""
    codes, uniques = [], []
    for key in keys:
        c, u = pd.factorize(key, sort=True)
        codes.append(c)
        uniques.append(u)
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    blank = np.zeros(len(keys[0]), dtype=bool)
    for c, u in zip(codes, uniques, strict=True):
        combined = combined * max(len(u), 1) + np.maximum(c, 0)
        blank |= c < 0
    present, group_of = np.unique(combined[~blank], return_inverse=True)
    out = np.full(len(combined), -1, dtype=np.int64)
    out[~blank] = group_of
    values = []
    for u in reversed(uniques):
        n = max(len(u), 1)
        values.append(np.asarray(u, dtype=object)[present % n].tolist() if len(u) else [])
        present = present // n
    return values[::-1], out


def counted(keys: list[pd.Series]) -> dict[tuple, int]:
    """How many rows hold each combination of ``keys`` (a row with a blank key is left out).

    >>> counted([pd.Series(["甲", "乙", "甲", None]), pd.Series(["a", "b", "a", "a"])])
    {('乙', 'b'): 1, ('甲', 'a'): 2}
    """
    if not len(keys[0]):
        return {}
    values, group_of = key_groups(keys)
    size = np.bincount(group_of[group_of >= 0], minlength=len(values[0]))
    return dict(zip(zip(*values, strict=True), size.tolist(), strict=True))


def summed(keys: list[pd.Series], flags: dict[str, np.ndarray]) -> dict[tuple, np.ndarray]:
    """Per combination of ``keys`` (blank ones left out): its row count, then the sum of each flag,
    as one int64 array (what ``table_of`` turns into ``group_sums``' frame)."""
    if not len(keys[0]):
        return {}
    values, group_of = key_groups(keys)
    keep = group_of >= 0
    size = np.bincount(group_of[keep], minlength=len(values[0]))
    table = np.stack([size, *(np.bincount(group_of[keep], weights=f[keep], minlength=len(size)) for f in flags.values())], axis=1)
    return dict(zip(zip(*values, strict=True), table.astype(np.int64), strict=True))


def table_of(sums: dict[tuple, np.ndarray], names: list[str], flags: list[str]) -> pd.DataFrame:
    """``summed``'s counts as ``group_sums`` gives them: one row per combination in key order, a column per flag."""
    keys = sorted(sums)
    columns = [list(c) for c in zip(*keys, strict=True)] if keys else [[] for _ in names]
    rows = np.array([sums[k] for k in keys], dtype=np.int64).reshape(len(keys), len(flags) + 1)
    data = {c: rows[:, i + 1] for i, c in enumerate(flags)}
    index = pd.Index(columns[0], name=names[0]) if len(names) == 1 else pd.MultiIndex.from_arrays(columns, names=names)
    return pd.DataFrame(data, index=index)


def group_sums(keys: list[pd.Series], names: list[str], flags: dict[str, np.ndarray]) -> pd.DataFrame:
    """``DataFrame({**keys, **flags}).groupby(names).sum()`` for boolean flags (counts as int64)."""
    return table_of(summed(keys, flags), names, list(flags))


def moved(counts: dict, gone: dict, come: dict) -> dict:
    """``counts`` (of ``counted`` or ``summed``) with the counts of the rows ``gone`` taken off and
    those of ``come`` added: a new dict (``counts`` is shared with readers of the previous figures);
    a combination no row holds any more is dropped.

    >>> moved({("a",): 2, ("b",): 1}, {("b",): 1}, {("c",): 3})
    {('a',): 2, ('c',): 3}
    """
    if not gone and not come:
        return counts
    out = dict(counts)
    for delta, sign in ((gone, -1), (come, 1)):
        for key, n in delta.items():
            total = out[key] + sign * n if key in out else sign * n
            size = total[0] if isinstance(total, np.ndarray) else total
            if size:
                out[key] = total
            else:
                out.pop(key, None)
    return out


def breakdown(rows: pd.DataFrame, by: str, column: str, order: tuple[str, ...], by_order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Long table (by, column, 项目数) with every (by, category) pair present."""
    return breakdown_of({} if rows.empty else counted([rows[by], rows[column]]), by, column, order, by_order)


def breakdown_of(counts: dict[tuple, int], by: str, column: str, order: tuple[str, ...], by_order: tuple[str, ...] = ()) -> pd.DataFrame:
    """``breakdown`` of the rows whose (by, column) pairs ``counts`` counts (``counted``)."""
    if not counts:
        return pd.DataFrame(columns=[by, column, "项目数"])
    present = {k for k, _ in counts}
    cats = list(order) + sorted({c for _, c in counts} - set(order))
    keys = [k for k in by_order if k in present] + sorted(present - set(by_order))
    return pd.DataFrame([(k, c, counts.get((k, c), 0)) for k in keys for c in cats], columns=[by, column, "项目数"])
