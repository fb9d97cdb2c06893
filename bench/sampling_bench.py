"""Sampling benchmark: building and fingerprinting the frame (the priority facts included), the draw and
every row's inclusion probability, at 2,000 / 20,000 / 100,000 frame rows (target: freeze + draw + π
≤ 2 s at 100,000), and, with ``--store``, freezing into a local store (its rows written as one batch).

    .venv/bin/python bench/sampling_bench.py [--rows 2000 20000 100000] [--store]

Projects are spread over the shipped campaign's cities; one in four has a check on file (some desk
reviews, some failed, some with a complaint), one in fifty an inspection of this campaign (some failed)
and one in a hundred a complaint recorded, so every priority rule (the shipped YAML conditions) has facts
to find and every derived variable is worked out.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.core.statuses import SUBMITTED  # noqa: E402
from lib.forms import load_catalog  # noqa: E402
from lib.sampling.draw import draw, frame_probabilities  # noqa: E402
from lib.sampling.frame import build_frame  # noqa: E402


def synthetic(catalog, n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """(projects by meaning, form id -> snapshot by field keys of the checks, inspections and
    complaints forms) for ``n`` projects."""
    cities = [c for c in catalog.campaign.cities if c not in catalog.campaign.outside_scheme]
    projects = pd.DataFrame({
        "voucher": [f"V-{i:07d}" for i in range(n)],
        "city": rng.choice(cities, n),
        "provider": rng.choice([f"服务商{i:03d}" for i in range(max(n // 50, 2))], n),
        "firm": [f"企业{i}" for i in range(n)],
        "subsidy": rng.uniform(1, 60, n).round(2),
    })
    binding = catalog.bindings.of("checks")
    checked = projects.sample(frac=0.25, random_state=1)
    methods = [binding.word("method", m) for m in ("on_site", "desk")]
    conclusions = [binding.word("conclusion", c) for c in ("pass", "fail")]
    checks = pd.DataFrame({
        "_status": SUBMITTED,
        binding.key("voucher"): checked["voucher"].to_numpy(),
        binding.key("provider"): checked["provider"].to_numpy(),
        binding.key("method"): rng.choice(methods, len(checked)),
        binding.key("conclusion"): rng.choice(conclusions, len(checked), p=[0.95, 0.05]),
        binding.key("complaint"): rng.random(len(checked)) < 0.02,
    })
    snapshots = {binding.form: checks}
    if catalog.bindings.has("inspections"):
        inspections, inspected = catalog.bindings.of("inspections"), projects.sample(frac=0.02, random_state=2)
        snapshots[inspections.form] = pd.DataFrame({
            "_status": SUBMITTED, inspections.key("voucher"): inspected["voucher"].to_numpy(),
            inspections.key("conclusion"): rng.choice([inspections.word("conclusion", c) for c in ("pass", "fail")],
                                                      len(inspected), p=[0.9, 0.1])})
    if catalog.bindings.has("complaints"):
        complaints, complained = catalog.bindings.of("complaints"), projects.sample(frac=0.01, random_state=3)
        snapshots[complaints.form] = pd.DataFrame({"_status": SUBMITTED, complaints.key("voucher"): complained["voucher"].to_numpy()})
    return projects, snapshots


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[2_000, 20_000, 100_000])
    parser.add_argument("--store", action="store_true", help="also time writing the frozen frame to a local store")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "forms")
    rng = np.random.default_rng(20200922)
    print(f"{'rows':>8} {'frame+facts':>12} {'fingerprint':>12} {'draw':>8} {'π (all)':>8} {'total':>8} {'drawn':>7}"
          + (f" {'store':>9}" if args.store else ""))
    for n in args.rows:
        projects, snapshots = synthetic(catalog, n, rng)
        t0 = time.perf_counter()
        frame = build_frame(projects, snapshots.get, catalog.bindings, catalog.campaign.sampling)
        t1 = time.perf_counter()
        fingerprint = frame.fingerprint
        t2 = time.perf_counter()
        sample = draw(frame, 20200922)
        t3 = time.perf_counter()
        frame_probabilities(frame)
        t4 = time.perf_counter()
        line = (f"{n:>8} {t1 - t0:>11.2f}s {t2 - t1:>11.2f}s {t3 - t2:>7.2f}s {t4 - t3:>7.2f}s {t4 - t0:>7.2f}s "
                f"{len(sample.drawn):>7}")
        if args.store:
            line += f" {store_time(frame):>8.2f}s"
        print(line, flush=True)
        assert fingerprint == frame.fingerprint


def store_time(frame) -> float:
    """Seconds to store ``frame`` (its rows and record as one batch) in a fresh local store."""
    from lib.core.records import Actor
    from lib.sampling.record import store_frame
    from lib.store.factory import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store("local", data_dir=Path(tmp) / "data", background=False)
        try:
            start = time.perf_counter()
            store_frame(store, frame, Actor("bench", "province"), campaign_id="bench")
            return time.perf_counter() - start
        finally:
            store.close()


if __name__ == "__main__":
    main()
