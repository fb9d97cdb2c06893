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


def group_sums(keys: list[pd.Series], names: list[str], flags: dict[str, np.ndarray]) -> pd.DataFrame:
    """``DataFrame({**keys, **flags}).groupby(names).sum()`` for boolean flags (counts as int64)."""
    groups, group_of = key_groups(keys)
    keep = group_of >= 0
    data = {c: np.bincount(group_of[keep], weights=f[keep], minlength=len(groups[0])).astype(np.int64) for c, f in flags.items()}
    index = pd.Index(groups[0], name=names[0]) if len(names) == 1 else pd.MultiIndex.from_arrays(groups, names=names)
    return pd.DataFrame(data, index=index)


def breakdown(rows: pd.DataFrame, by: str, column: str, order: tuple[str, ...], by_order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Long table (by, column, 项目数) with every (by, category) pair present."""
    if rows.empty:
        return pd.DataFrame(columns=[by, column, "项目数"])
    (keys, values), group_of = key_groups([rows[by], rows[column]])
    size = np.bincount(group_of[group_of >= 0], minlength=len(keys))
    counts = dict(zip(zip(keys, values, strict=True), size.tolist(), strict=True))
    present = {k for k, _ in counts}
    cats = list(order) + sorted({c for _, c in counts} - set(order))
    keys = [k for k in by_order if k in present] + sorted(present - set(by_order))
    return pd.DataFrame([(k, c, counts.get((k, c), 0)) for k in keys for c in cats], columns=[by, column, "项目数"])
