"""Board benchmark: every figure from a snapshot of 20,000 附件1 rows, 5,000 附件3 rows and 300 附件2
reports (target <= 300 ms), the same with the rows as they stood on the day rebuilt from the audit
(``prepare_as_of``, once per data change), the figures after a new row or a status change applied to the
prepared ones (``incremental.advance``) and the province's board from the counts kept with them (issue 17:
<= 300 ms at 100,000 rows) against a full prepare and against the board counted in full, in the same run,
the CPU an idle open board costs per refresh (the change-counter check against the old tick that drew the
whole board), and the board page's full run under AppTest (target <= 1.5 s).

    .venv/bin/python bench/board_bench.py [--att1 20000 --att3 5000 --att2 300] [--no-page]
    .venv/bin/python bench/board_bench.py --sizes 20000 100000 --no-page   # 附件3 and 附件2 scaled alike

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.campaign.board import figures, history, incremental  # noqa: E402
from lib.campaign.board.preparation import prepare, prepare_as_of  # noqa: E402
from lib.campaign.board.scope import Scope, scope_for, with_vouchers  # noqa: E402
from lib.campaign.register import kinds, upload  # noqa: E402
from lib.campaign.register import store as reg  # noqa: E402
from lib.campaign.schedule import Calendar  # noqa: E402
from lib.core.records import Actor  # noqa: E402
from lib.demo.register import PROVINCE, register_frames  # noqa: E402
from lib.demo.seed import generate  # noqa: E402
from lib.forms import load_catalog  # noqa: E402
from lib.forms.columns import sheet_spec  # noqa: E402
from lib.office.excel import read_workbook, to_xlsx  # noqa: E402

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
    registers = kinds.register_kinds(catalog.campaign)
    for kind, frame in ((registers["vouchers"], vouchers), (registers["projects"], projects)):
        parsed = upload.parse_register(kind, read_workbook(to_xlsx({kind.title: frame})))
        reg.import_register(store, parsed, PROVINCE, file_name="bench.xlsx")
    store.close()


def demo_rows(catalog, att1: int, att2: int, att3: int) -> dict:
    """One demo generator run of ``att1`` projects (it makes ~40% as many 附件3 checks and ~3% 附件2
    reports), cut to the wanted sizes."""
    data = generate(catalog, rows=att1, seed=2020)
    return {"att1": data["att1"], "att2": data["att2"][:att2], "att3": data["att3"][:att3]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--att1", type=int, default=20_000)
    parser.add_argument("--att3", type=int, default=5_000)
    parser.add_argument("--att2", type=int, default=300)
    parser.add_argument("--sizes", type=int, nargs="*", help="附件1 sizes to run one after the other (附件3, 附件2 in the default proportion)")
    parser.add_argument("--changes", type=int, default=5, help="new rows and status changes applied, each timed once")
    parser.add_argument("--no-page", action="store_true")
    args = parser.parse_args()
    for att1 in args.sizes or [args.att1]:
        scale = att1 / 20_000 if args.sizes else 1
        run_size(att1, round(args.att2 * scale), round(args.att3 * scale), args.changes, args.no_page)


def run_size(att1: int, att2: int, att3: int, changes: int, no_page: bool) -> None:
    catalog = load_catalog(ROOT / "forms")
    demo = demo_rows(catalog, att1, att2, att3)
    print(f"\nrows: 附件1 {len(demo['att1']):,}  附件3 {len(demo['att3']):,}  附件2 {len(demo['att2']):,}")

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        start = time.perf_counter()
        build_store(data_dir, catalog, demo)
        print(f"store built in {time.perf_counter() - start:.1f} s")

        from lib.store.factory import open_store

        store = open_store("local", data_dir=data_dir, background=False)
        cal = Calendar.from_specs(catalog.campaign, catalog.forms())
        registers = kinds.register_kinds(catalog.campaign)
        frames = {f: store.snapshot(f) for f in cal.forms}
        audit = [entry for f in cal.forms for entry in store.audit(f)]
        imports = store.snapshot(reg.IMPORTS_SHEET.form_id)
        vouchers, projects = (reg.current_register(store.snapshot(registers[k].sheet_id), imports, registers[k])
                              for k in ("vouchers", "projects"))
        snap_ms, _ = timed(lambda: [store.snapshot(f) for f in (*cal.forms, registers["vouchers"].sheet_id)])
        audit_ms, _ = timed(lambda: [store.audit(f) for f in cal.forms], name="audit")
        print(f"register: {len(vouchers):,} vouchers, {len(projects):,} projects in force; {len(audit):,} audit entries")

        standing, later = history.as_of(frames, audit, AS_OF)
        log_ms, _ = timed(lambda: prepare_as_of(frames, vouchers, projects, cal, AS_OF, audit), name="as_of")
        prep_ms, prepared = timed(lambda: prepare(standing, vouchers, projects, cal, AS_OF, later), name="prepare")
        all_ms, full = timed(lambda: figures.board(prepared, Scope()), name="province")
        city_ms, _ = timed(lambda: figures.board(prepared, scope_for(Actor("city_gz", "city", cal.unit_of_city("广州"), "广州"), catalog.forms())), name="city")
        provider = demo["att1"][0].actor
        prov_ms, _ = timed(lambda: figures.board(prepared, scope_for(provider, catalog.forms())), name="provider")
        xlsx_ms, _ = timed(lambda: to_xlsx({"明细": full.units}), repeat=1, name="xlsx")
        print(f"{'':34s}{'wall':>9s}{'cpu':>9s}")
        for label, wall, key in (
            ("snapshots (cached frames)", snap_ms, ""), ("read the forms' audit", audit_ms, "audit"),
            ("prepare (once per data change)", prep_ms, "prepare"), ("as of the day + prepare", log_ms, "as_of"),
            ("board, province", all_ms, "province"), ("board, one city", city_ms, "city"),
            ("board, one provider", prov_ms, "provider"),
            ("every figure, province (target 300)", prep_ms + all_ms, "total"),
            (f"export {len(full.units):,} detail rows to xlsx", xlsx_ms, "xlsx"),
        ):
            cpu = CPU["prepare"] + CPU["province"] if key == "total" else CPU.get(key, float("nan"))
            print(f"{label:34s}{wall:7.0f}ms{cpu:7.0f}ms")
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        store.close()
        after_a_change(data_dir, catalog, cal, vouchers, projects, changes)
        if not no_page:
            page_run(data_dir)


def after_a_change(data_dir: Path, catalog, cal: Calendar, vouchers, projects, changes: int) -> None:
    """The figures after one new row, then after one status change, ``changes`` times each: what the board
    page does on a data change (lib.ui.board_data._prepared) — the row's audit, ``incremental.advance``, the
    readers' vouchers, the province's board from the counts kept with the prepared frames — against the
    full path in the same run (every form's audit, ``incremental.start``, the same board after), and the
    province's board counted from the frames as before the kept counts. The snapshot, the store's part,
    is timed beside it."""
    from dataclasses import replace

    from lib.store.factory import open_store

    store = open_store("local", data_dir=data_dir, background=False, clock=lambda: dt.datetime(2020, 9, 12, 9))
    frames = {f: store.snapshot(f) for f in cal.forms}
    basis = incremental.start(frames, [e for f in cal.forms for e in store.audit(f)], vouchers, projects, cal, AS_OF)
    rows = generate(catalog, rows=40, seed=7)["att1"]
    wall: dict[tuple, list[float]] = {}
    cpu: dict[tuple, list[float]] = {}

    def lap(kind: str, name: str, fn):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.setdefault((kind, name), []).append((time.perf_counter() - start) * 1000)
        cpu.setdefault((kind, name), []).append((time.process_time() - start_cpu) * 1000)
        return result

    for n in range(2 * changes):
        if n % 2 == 0:  # a provider files a new row
            kind, row = "new", rows[n % len(rows)]
            store.append("att1", {**row.values, "voucher_no": f"SYQ-2019-0000-B{n:04d}"}, actor=row.actor, status="已提交")
        else:  # a reviewer returns one
            kind, rec = "status", store.records("att1")[n * 97 % len(frames["att1"])]
            store.update("att1", rec.id, base_rev=rec.rev, actor=Actor("province", "province", "省厅"), status="退回修改")
        new = lap(kind, "snapshot", lambda: {f: store.snapshot(f) for f in cal.forms})
        got = lap(kind, "advance", lambda b=basis, s=new: incremental.advance(b, s, lambda f, ids: [e for i in ids for e in store.audit(f, i)], cal, AS_OF))
        assert got is not None
        lap(kind, "vouchers", lambda g=got, s=new: with_vouchers(g.prepared, s))
        lap(kind, "board", lambda g=got: figures.board(g.prepared, Scope()))
        lap(kind, "recount", lambda g=got: figures.board(replace(g.prepared, counts=None), Scope()))
        lap(kind, "audit", lambda: [e for f in cal.forms for e in store.audit(f)])
        lap(kind, "start", lambda s=new: incremental.start(s, [e for f in cal.forms for e in store.audit(f)], vouchers, projects, cal, AS_OF))
        basis = got
    store.close()
    med = {k: statistics.median(v) for k, v in wall.items()}
    mcpu = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"after a change (median of {changes} each)                      new row: wall      cpu   status change: wall      cpu")
    for label, k in (("store snapshot of the bound forms (the store's part)", "snapshot"), ("applied: row audit + advance", "advance"),
                     ("province board from the kept counts", "board"), ("province board counted in full (as before)", "recount"),
                     ("full: every form's audit + start (prepare_as_of)", "start"), ("  of which reading the audit", "audit"),
                     ("rows' vouchers (an inspector's board only)", "vouchers")):
        print(f"  {label:52s}{med['new', k]:7.0f} ms{mcpu['new', k]:7.0f} ms{med['status', k]:13.0f} ms{mcpu['status', k]:7.0f} ms")
    for kind, what in (("new", "a new row"), ("status", "a status change")):
        inc, naive = med[kind, "advance"] + med[kind, "board"], med[kind, "start"] + med[kind, "board"]
        inc_cpu, naive_cpu = mcpu[kind, "advance"] + mcpu[kind, "board"], mcpu[kind, "start"] + mcpu[kind, "board"]
        before, before_cpu = med[kind, "advance"] + med[kind, "recount"], mcpu[kind, "advance"] + mcpu[kind, "recount"]
        print(f"  province figures after {what} (target 300): applied {inc:6.0f} ms wall {inc_cpu:6.0f} ms cpu; "
              f"applied, board counted in full {before:6.0f} ms wall {before_cpu:6.0f} ms cpu; "
              f"full {naive:6.0f} ms wall {naive_cpu:6.0f} ms cpu; ratio to full {naive / inc:4.1f}x wall {naive_cpu / inc_cpu:4.1f}x cpu")
    print(f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def sign_in(at, actor) -> None:
    """A signed-in session for ``actor`` in an AppTest, as tests/pages/conftest.py makes one: the
    account in the accounts file and a session token in session_state."""
    from lib.auth.accounts import Account, AccountsFile
    from lib.auth.sessions import SessionTokens
    from lib.settings import load_settings
    from lib.ui import state

    cfg = load_settings(os.environ)
    accounts = AccountsFile(cfg.accounts_path)
    if accounts.get(actor.account) is None:
        accounts.add_many([Account(actor.account, actor.role, org=actor.org, city=actor.city)])
    at.session_state[state.SESSION] = SessionTokens(cfg.data_dir, accounts).issue(actor.account, now=dt.datetime.now(), hours=1)


def page_run(data_dir: Path) -> None:
    """The page under AppTest: the first run opens the store (reads the whole log, once per
    process); then a new viewer on unchanged data; then a viewer right after a row was filed
    (snapshot, prepare, board and render all redone)."""
    os.environ.update(APP_DATA_DIR=str(data_dir), APP_FORMS_DIR=str(ROOT / "forms"), APP_DEMO_DATA="false",
                      APP_CAMPAIGN_TODAY=AS_OF.isoformat())
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from lib.store.factory import open_store
    from lib.ui import board_data

    def run(label: str) -> None:
        at = AppTest.from_file(str(ROOT / "pages" / "board.py"), default_timeout=180)
        sign_in(at, PROVINCE)
        start = time.perf_counter()
        at.run()
        assert not at.exception, at.exception
        print(f"page full run, {label:44s}{(time.perf_counter() - start) * 1000:7.0f} ms")

    st.cache_resource.clear()
    run("first in this process (opens the store)")
    idle_ticks()
    run("new viewer, unchanged data")
    run("new viewer, unchanged data")
    catalog = load_catalog(ROOT / "forms")
    row = generate(catalog, rows=40, seed=5)["att1"][0]
    other = open_store("local", data_dir=data_dir, background=False, clock=lambda: dt.datetime(2020, 9, 12, 9))
    other.append("att1", {**row.values, "voucher_no": "SYQ-2019-0000-BENCH"}, actor=row.actor, status="已提交")
    other.close()
    time.sleep(board_data.SNAPSHOT_TTL + 0.1)
    run("after a new row (target 1500)")
    st.cache_resource.clear()


def _empty_script() -> None:
    import streamlit as st

    st.empty()


def _old_tick() -> None:
    """What each open board's fragment did every 5 s before issue 17: the whole board drawn again."""
    import datetime as dt

    from lib.demo.register import PROVINCE
    from lib.ui import board, board_data

    board.render_board(board_data.current_board(PROVINCE, dt.date(2020, 9, 25)), board_data.calendar())


def _new_tick() -> None:
    """What it does now while the data stays the same: the change counters compared (``board_live.stale``)."""
    import datetime as dt

    import streamlit as st

    from lib.demo.register import PROVINCE
    from lib.ui import board_live

    day = dt.date(2020, 9, 25)
    seen = st.session_state.get("seen")  # the first run remembers what it sees, as the board's first draw does
    changed, st.session_state["seen"] = board_live.stale(seen, PROVINCE, day)
    if changed and seen is not None:
        st.rerun()


def idle_ticks(repeat: int = 5) -> None:
    """CPU per refresh of an idle open board, per viewer, under AppTest (its own cost measured apart, as an
    empty script, and taken off); the session check both ticks begin with (lib.ui.auth) is left out of both."""
    from streamlit.testing.v1 import AppTest

    cpu = {}
    for name, script in (("empty", _empty_script), ("old", _old_tick), ("new", _new_tick)):
        at = AppTest.from_function(script, default_timeout=180)
        at.run()  # warm: the shared snapshot and figures are there, as for a board already open
        times = []
        for _ in range(repeat):
            start = time.process_time()
            at.run()
            times.append((time.process_time() - start) * 1000)
            assert not at.exception, at.exception
        cpu[name] = statistics.median(times)
    old, new = cpu["old"] - cpu["empty"], cpu["new"] - cpu["empty"]
    print(f"idle open board, CPU per 5-s refresh per viewer (AppTest run, median of {repeat}): old tick (draw the whole "
          f"board) {cpu['old']:.1f} ms, new tick (compare change counters) {cpu['new']:.1f} ms, an empty script "
          f"{cpu['empty']:.1f} ms; less the empty script: {old:.1f} ms vs {max(new, 0):.1f} ms, per minute "
          f"{old * 12 / 1000:.2f} s vs {max(new, 0) * 12 / 1000:.3f} s")


if __name__ == "__main__":
    main()
