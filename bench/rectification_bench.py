"""Rectification benchmark: generating items from 2,000 / 20,000 findings (target: ≤ 1 s at 20,000), in a
local store, and generating again (nothing new: the idempotent re-run the province clicks); then the
全面整改 page (the lists and an item) under AppTest on the items made (target: ≤ 1.5 s at 20,000).

    .venv/bin/python bench/rectification_bench.py [--findings 2000 20000] [--no-page]

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


def page_run(data_dir: Path, today) -> None:
    """The 全面整改 page under AppTest on the store in ``data_dir``: the first run opens the store (reads the
    whole log, once per process); then a new viewer (the province: every item) on unchanged data, a
    filter changed in that session, and a provider answering for 1/500 of the items."""
    import os

    import streamlit as st
    from board_bench import sign_in
    from streamlit.testing.v1 import AppTest

    from lib.ui import state

    os.environ.update(APP_DATA_DIR=str(data_dir), APP_FORMS_DIR=str(ROOT / "forms"), APP_DEMO_DATA="false",
                      APP_CAMPAIGN_TODAY=today.isoformat())

    def run(label: str, actor: Actor = PROVINCE) -> AppTest:
        at = AppTest.from_file(str(ROOT / "pages" / "rectification.py"), default_timeout=180)
        sign_in(at, actor)
        start = time.perf_counter()
        at.run()
        assert not at.exception, at.exception
        print(f"  page, {label:52s}{(time.perf_counter() - start) * 1000:7.0f} ms")
        return at

    st.cache_resource.clear()
    run("first in this process (opens the store)")
    run("new viewer, unchanged data")
    at = run("new viewer, unchanged data (target 1500)")
    start = time.perf_counter()
    at.radio(key=state.RECTIFY_LIST).set_value("tasks").run()
    print(f"  page, {'the task list opened in that session':52s}{(time.perf_counter() - start) * 1000:7.0f} ms")
    run("a provider answering for 1/500 of the items", Actor("u0", "provider", "单位000"))
    st.cache_resource.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--findings", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--no-page", action="store_true", help="only generation, not the page under AppTest")
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
            if not args.no_page:
                page_run(Path(folder) / "data", today)


if __name__ == "__main__":
    main()
