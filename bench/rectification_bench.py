"""Rectification benchmark: generating items from 2,000 / 20,000 findings (target: ≤ 1 s at 20,000), in a
local store, and generating again (nothing new: the idempotent re-run the province clicks).

    .venv/bin/python bench/rectification_bench.py [--findings 2000 20000]

The findings are spread over the shipped campaign's rules: per finding one more filed row that meets no
rule, so every rule reads twice its findings' rows. The source rows are written to the store first (not
timed); ``findings`` is the rules alone over the snapshots, ``generate`` the whole click: the rules, the
opened items read, the new items written as one batch and the event logged.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.core.records import Actor  # noqa: E402
from lib.core.statuses import SUBMITTED  # noqa: E402
from lib.forms import load_catalog  # noqa: E402
from lib.forms.columns import sheet_spec  # noqa: E402
from lib.rectification.generate import findings, generate  # noqa: E402
from lib.store.factory import open_store  # noqa: E402

PROVINCE = Actor("province", "province", "省厅")
FILERS = {"provider": Actor("p", "provider", "服务商"), "lead_unit": Actor("l", "lead_unit", "牵头单位"),
          "city": Actor("c", "city", "地市", "广州"), "inspector": Actor("i", "inspector", "检查组")}
#: Per kind of source: (meaning, choice meaning or word) that makes a row a finding, and one that does not.
MEETS = {"projects": ("usage", "stopped", "in_use"), "checks": ("conclusion", "fail", "pass"),
         "inspections": ("conclusion", "basic", "pass"), "benchmarks": ("status", "到期未验收", "在建")}


def fill(store, catalog, findings_wanted: int) -> None:
    """Write, for each rule's source, its share of rows meeting the rule and as many that do not."""
    cities = list(catalog.campaign.cities)
    rules = catalog.campaign.rectification.rules
    per_rule = findings_wanted // len(rules)
    for r, rule in enumerate(rules):
        binding = catalog.bindings.of(rule.source)
        store.ensure_sheet(sheet_spec(catalog.form(binding.form)))
        meaning, hit, miss = MEETS[rule.source]
        rows = []
        for i in range(2 * per_rule):
            value = hit if i % 2 == 0 else miss
            values = {binding.key("city"): cities[i % len(cities)],
                      binding.key(meaning): binding.word(meaning, value) if binding.words(meaning) else value,
                      binding.key(rule.responsible): f"单位{i % 500:03d}"}
            for extra in ("voucher", "project", "provider"):
                if binding.key(extra) is not None and binding.key(extra) not in values:
                    values[binding.key(extra)] = f"V{r}-{i:07d}" if extra == "voucher" else f"{extra}{i}"
            rows.append(values)
        store.append_many(binding.form, rows, actor=FILERS[binding.filed_by], status=SUBMITTED)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, nargs="+", default=[2_000, 20_000])
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "forms")
    today = catalog.campaign.phases[-1].start
    print(f"{'findings':>9} {'rows read':>10} {'findings()':>11} {'generate':>9} {'again':>7} {'created':>8}")
    for n in args.findings:
        with tempfile.TemporaryDirectory() as folder:
            store = open_store("local", data_dir=Path(folder) / "data", background=False)
            try:
                fill(store, catalog, n)
                read = sum(len(store.snapshot(catalog.bindings.of(k).form)) for k in {r.source for r in catalog.campaign.rectification.rules})
                t0 = time.perf_counter()
                found = findings(catalog, store.snapshot, today=today)
                t1 = time.perf_counter()
                summary = generate(store, catalog, PROVINCE, today)
                t2 = time.perf_counter()
                again = generate(store, catalog, PROVINCE, today)
                t3 = time.perf_counter()
                assert len(found) == len(summary.created) and not again.created
                print(f"{n:>9} {read:>10} {t1 - t0:>10.3f}s {t2 - t1:>8.3f}s {t3 - t2:>6.3f}s {len(summary.created):>8}")
            finally:
                store.close()


if __name__ == "__main__":
    main()
