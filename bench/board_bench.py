"""Board benchmark: every figure from a snapshot of 20,000 附件1 rows, 5,000 附件3 rows and 300 附件2
reports (target <= 300 ms), and the board page's full run under AppTest (target <= 1.5 s).

    .venv/bin/python bench/board_bench.py [--att1 20000 --att3 5000 --att2 300] [--no-page]

Rows come from the demo generator and are stamped 2020-09-10; the campaign clock is 2020-09-25.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.campaign import progress as pg  # noqa: E402
from lib.campaign import register as reg  # noqa: E402
from lib.demo.register import PROVINCE, register_frames  # noqa: E402
from lib.demo.seed import generate  # noqa: E402
from lib.forms import load_catalog  # noqa: E402
from lib.forms.columns import sheet_spec  # noqa: E402
from lib.io.excel import read_workbook, to_xlsx  # noqa: E402

AS_OF = dt.date(2020, 9, 25)


CPU: dict[str, float] = {}


def timed(fn, repeat: int = 5, name: str = "") -> tuple[float, object]:
    """Median wall time in ms (and median CPU time of this process into CPU[name])."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU[name] = statistics.median(cpu) * 1000
    return statistics.median(times) * 1000, result


def build_store(data_dir: Path, catalog, demo) -> None:
    from lib.store.factory import open_store

    store = open_store("local", data_dir=data_dir, background=False, clock=lambda: dt.datetime(2020, 9, 10, 10))
    for form_id, rows in demo.items():
        form = catalog.form(form_id)
        store.ensure_sheet(sheet_spec(form))
        batches: dict = {}
        for r in rows:
            batches.setdefault((r.actor, r.status), []).append(r.values)
        for (actor, status), values in batches.items():
            store.append_many(form_id, values, actor=actor, status=status, form_version=form.version)
    vouchers, projects = register_frames(demo, tuple(catalog.campaign.cities), 2020)
    for kind, frame in ((reg.VOUCHERS, vouchers), (reg.PROJECTS, projects)):
        parsed = reg.parse_register(kind, read_workbook(to_xlsx({kind.title: frame})), cities=tuple(catalog.campaign.cities))
        reg.import_register(store, parsed, PROVINCE, file_name="bench.xlsx")
    store.close()


def chunked_demo(catalog, att1: int, att2: int, att3: int, chunk: int = 4000) -> dict:
    """Demo rows in chunks of different seeds (one generator run has names for a few thousand
    projects); voucher numbers get a chunk suffix so they stay unique."""
    from dataclasses import replace

    out: dict[str, list] = {"att1": [], "att2": [], "att3": []}
    k = 0
    while len(out["att1"]) < att1:
        k += 1
        part = generate(catalog, rows=min(chunk, att1 - len(out["att1"])), seed=2020 + k)
        for form_id in ("att1", "att3"):
            out[form_id] += [
                replace(r, values={**r.values, "voucher_no": f"{r.values['voucher_no']}-{k}"} if r.values.get("voucher_no") else r.values)
                for r in part[form_id]
            ]
        out["att2"] += part["att2"]
    return {"att1": out["att1"][:att1], "att2": out["att2"][:att2], "att3": out["att3"][:att3]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--att1", type=int, default=20_000)
    parser.add_argument("--att3", type=int, default=5_000)
    parser.add_argument("--att2", type=int, default=300)
    parser.add_argument("--no-page", action="store_true")
    args = parser.parse_args()

    catalog = load_catalog(ROOT / "forms")
    demo = chunked_demo(catalog, args.att1, args.att2, args.att3)
    print(f"rows: 附件1 {len(demo['att1']):,}  附件3 {len(demo['att3']):,}  附件2 {len(demo['att2']):,}")

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        start = time.perf_counter()
        build_store(data_dir, catalog, demo)
        print(f"store built in {time.perf_counter() - start:.1f} s")

        from lib.store.factory import open_store

        store = open_store("local", data_dir=data_dir, background=False)
        frames = {f: store.snapshot(f) for f in pg.FORM_IDS}
        imports = store.snapshot(reg.IMPORTS_SHEET.form_id)
        vouchers = reg.current_register(store.snapshot(reg.VOUCHERS.sheet_id), imports, reg.VOUCHERS)
        projects = reg.current_register(store.snapshot(reg.PROJECTS.sheet_id), imports, reg.PROJECTS)
        snap_ms, _ = timed(lambda: [store.snapshot(f) for f in (*pg.FORM_IDS, reg.VOUCHERS.sheet_id)])
        store.close()
        print(f"register: {len(vouchers):,} vouchers, {len(projects):,} projects in force")
        cal = pg.Calendar.from_specs(catalog.campaign, catalog.forms())

        prep_ms, prepared = timed(lambda: pg.prepare(frames, vouchers, projects, cal, AS_OF), name="prepare")
        all_ms, full = timed(lambda: pg.board(prepared, pg.Scope()), name="province")
        city_ms, _ = timed(lambda: pg.board(prepared, pg.Scope("city", city="广州")), name="city")
        provider = demo["att1"][0].actor
        prov_ms, _ = timed(lambda: pg.board(prepared, pg.scope_for(provider)), name="provider")
        xlsx_ms, _ = timed(lambda: to_xlsx({"明细": full.units}), repeat=1, name="xlsx")
        print(f"{'':34s}{'wall':>9s}{'cpu':>9s}")
        for label, wall, key in (
            ("snapshots (cached frames)", snap_ms, ""), ("prepare (once per data change)", prep_ms, "prepare"),
            ("board, province", all_ms, "province"), ("board, one city", city_ms, "city"),
            ("board, one provider", prov_ms, "provider"),
            ("every figure, province (target 300)", prep_ms + all_ms, "total"),
            (f"export {len(full.units):,} detail rows to xlsx", xlsx_ms, "xlsx"),
        ):
            cpu = CPU["prepare"] + CPU["province"] if key == "total" else CPU.get(key, float("nan"))
            print(f"{label:34s}{wall:7.0f}ms{cpu:7.0f}ms")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

        if not args.no_page:
            page_run(data_dir)


def page_run(data_dir: Path) -> None:
    """The page under AppTest: the first run opens the store (reads the whole log, once per
    process); then a new viewer on unchanged data; then a viewer right after a row was filed
    (snapshot, prepare, board and render all redone)."""
    os.environ.update(APP_DATA_DIR=str(data_dir), APP_FORMS_DIR=str(ROOT / "forms"), APP_DEMO_DATA="false",
                      APP_CAMPAIGN_TODAY=AS_OF.isoformat())
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from lib.store.factory import open_store
    from lib.ui import board, state

    def run(label: str) -> None:
        at = AppTest.from_file(str(ROOT / "pages" / "board.py"), default_timeout=180)
        at.session_state[state.ACTOR] = asdict(PROVINCE)
        start = time.perf_counter()
        at.run()
        assert not at.exception, at.exception
        print(f"page full run, {label:44s}{(time.perf_counter() - start) * 1000:7.0f} ms")

    st.cache_resource.clear()
    run("first in this process (opens the store)")
    run("new viewer, unchanged data")
    run("new viewer, unchanged data")
    catalog = load_catalog(ROOT / "forms")
    row = generate(catalog, rows=40, seed=5)["att1"][0]
    other = open_store("local", data_dir=data_dir, background=False, clock=lambda: dt.datetime(2020, 9, 12, 9))
    other.append("att1", {**row.values, "voucher_no": "SYQ-2019-0000-BENCH"}, actor=row.actor, status="已提交")
    other.close()
    time.sleep(board.SNAPSHOT_TTL + 0.1)
    run("after a new row (target 1500)")
    st.cache_resource.clear()


if __name__ == "__main__":
    main()
