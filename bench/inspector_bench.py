"""How long the inspector draw takes for 200 inspectors and 21 cities (issue 13, outcome 9). Not a test.

The pool is made to be realistic and tight: inspectors spread over the cities (home and organisation),
a quarter declaring conflicts with organisations of the sample, a tenth with a stale health declaration;
and a second, harder case where the groups need almost every eligible inspector, so augmenting paths
are long; and a third that cannot be met, timed to its refusal.

    .venv/bin/python bench/inspector_bench.py
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from lib.sampling.inspectors import Inspector, InspectorDrawError, draw_groups  # noqa: E402

DAY = dt.date(2026, 9, 22)


def case(people: int, cities: int, seed: int) -> tuple[list[Inspector], dict[str, list[str]]]:
    rng = np.random.default_rng(seed)
    names = [f"市{k:02d}" for k in range(cities)]
    sample = {c: [f"{c}服务商{j}" for j in range(rng.integers(3, 30))] for c in names}
    firms = [p for parties in sample.values() for p in parties]
    pool = []
    for n in range(people):
        home, org_city = rng.choice(names), rng.choice(names)
        conflicts = tuple(rng.choice(firms, size=rng.integers(1, 6))) if rng.random() < 0.25 else ()
        age = int(rng.integers(15, 40)) if rng.random() < 0.1 else int(rng.integers(0, 14))
        pool.append(Inspector(f"ins{n:04d}", city=str(home), org=f"单位{n % 37}", org_city=str(org_city),
                              conflicts=conflicts, health_declared_on=DAY - dt.timedelta(days=age)))
    return pool, sample


def timed(label: str, people: int, cities: int, size: int, runs: int = 5) -> None:
    pool, sample = case(people, cities, seed=1)
    best, outcome = float("inf"), "drawn"
    for seed in range(runs):
        start = time.perf_counter()
        try:
            draw_groups(pool, sample, size, seed=seed, day=DAY)
        except InspectorDrawError as err:
            outcome = f"refused ({err.code})"
        best = min(best, time.perf_counter() - start)
    print(f"{label}: {people} inspectors × {cities} cities, groups of {size}, {outcome}: best of {runs} {best * 1000:.1f} ms")


if __name__ == "__main__":
    timed("usual", 200, 21, 3)
    timed("tight", 200, 21, 8)
    timed("impossible", 200, 21, 9)
