"""What a page costs on the server for one viewer, at 20,000 附件1 rows (prints figures; never pass/fail).

    .venv/bin/python bench/pages_bench.py [--att1 20000] [--profile PAGE] [--data-dir DIR]

Each signed-in page runs under Streamlit's AppTest (the script run a browser's session would make; the
browser's own rendering is not in it) for the province, a city bureau and a provider with ~30 own rows:
the first run of a page in a new session, then a rerun with nothing changed, then a run right after
another process filed a row (each such row stays in a kept store). The naive alternative printed beside the
audit page: its table built whole from the trail, as it was on every change before. ``--profile`` prints cProfile's top functions for one page's script runs
(``review:province``: one viewer's), measured in the script runner's own thread. ``--data-dir`` keeps the
store in DIR and reuses it on the next run of the same size (or one bench/browser_pages_bench.py kept).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from board_bench import AS_OF, build_store, demo_rows, sign_in  # noqa: E402

from lib.core.records import Actor  # noqa: E402
from lib.demo.register import PROVINCE  # noqa: E402
from lib.forms import load_catalog  # noqa: E402

PAGES = ("my_submissions", "review", "audit", "fill", "home", "rectification")


def viewers(catalog, demo) -> dict[str, Actor]:
    """The province, the first city, and the provider with the number of own 附件1 rows nearest 30."""
    counts: dict[str, tuple[Actor, int]] = {}
    for r in demo["att1"]:
        actor, n = counts.get(r.actor.account, (r.actor, 0))
        counts[r.actor.account] = (actor, n + 1)
    provider = min(counts.values(), key=lambda an: abs(an[1] - 30))[0]
    city = catalog.campaign.cities[0]
    from lib.campaign.schedule import Calendar

    unit = Calendar.from_specs(catalog.campaign, catalog.forms()).unit_of_city(city)
    return {"province": PROVINCE, "city": Actor("city_bench", "city", unit, city), "provider": provider}


@contextlib.contextmanager
def profiled(enabled: bool):
    """cProfile around each script run while the block runs, printed after each: AppTest runs the page in
    another thread, which a profiler enabled in this one does not see."""
    if not enabled:
        yield
        return
    from streamlit.runtime.scriptrunner import script_runner

    plain = script_runner.exec_func_with_error_handling

    def run(func, ctx):
        prof = cProfile.Profile()
        prof.enable()
        try:
            return plain(func, ctx)
        finally:
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)

    script_runner.exec_func_with_error_handling = run
    try:
        yield
    finally:
        script_runner.exec_func_with_error_handling = plain


def run_page(page: str, actor: Actor, profile: bool = False, change=None) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) of ``pages/<page>.py`` for ``actor`` in a new AppTest session: its first run, a rerun
    with nothing changed, and, given ``change``, a run after ``change()`` (another process filing a row). CPU is this process's
    (the script runs in one of its threads)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=300)
    sign_in(at, actor)
    times = []
    for i in range(3 if change else 2):
        if i == 2:
            change()
        start, cpu = time.perf_counter(), time.process_time()
        with profiled(profile):
            at.run()
        times.append(((time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000))
        if at.exception:
            print(f"  {page} for {actor.account}: {at.exception[0].message[:200]}")
    return times


def filer(data_dir: Path, catalog, demo):
    """A change as another process makes it: a provider files one more 附件1 row (a store of its own)."""
    from lib.store.factory import open_store

    def file_one() -> None:
        row = demo["att1"][0]
        with open_store("local", data_dir=data_dir, background=False) as other:
            other.append("att1", row.values, actor=row.actor, status="已提交", form_version=catalog.form("att1").version)
    return file_one


def naive_audit(catalog) -> float:
    """CPU ms of the audit page's table built whole from the trail (what it was on every run, then on every change)."""
    from lib import audit
    from lib.ui import context

    start = time.process_time()
    audit.audit_frame(context.store().audit(), audit.Labels.of(catalog.forms()))
    return (time.process_time() - start) * 1000


def _browser_bench_store(data_dir: Path, rows: int) -> bool:
    """Whether ``data_dir`` holds a store bench/browser_pages_bench.py built of ``rows`` rows (the same demo
    rows, with accounts): this bench can reuse it."""
    import json

    note = data_dir / "bench-people.json"
    return note.exists() and json.loads(note.read_text()).get("rows") == rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--att1", type=int, default=20_000)
    parser.add_argument("--profile", default="", help="a page name: print its profile for the provider "
                                                      "(page:viewer for another viewer, e.g. review:province)")
    parser.add_argument("--pages", default=",".join(PAGES))
    parser.add_argument("--data-dir", type=Path, help="keep the store here and reuse it on the next run of this size")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "forms")
    demo = demo_rows(catalog, args.att1, max(300, args.att1 // 60), args.att1 // 4)
    people = viewers(catalog, demo)
    with contextlib.nullcontext(str(args.data_dir)) if args.data_dir else tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) if args.data_dir else Path(tmp) / "data"
        marker = data_dir / f"pages-bench-{args.att1}"
        if not marker.exists() and not _browser_bench_store(data_dir, args.att1):
            if data_dir.exists() and any(data_dir.iterdir()):
                raise SystemExit(f"{data_dir} is not empty and holds no store of {args.att1} rows built by this bench")
            build_store(data_dir, catalog, demo)
            marker.touch()
        os.environ.update(APP_DATA_DIR=str(data_dir), APP_FORMS_DIR=str(ROOT / "forms"), APP_DEMO_DATA="false",
                          APP_CAMPAIGN_TODAY=AS_OF.isoformat())
        import streamlit as st

        st.cache_resource.clear()
        run_page("home", people["province"])  # the process's first run opens the store: not counted
        print(f"附件1 {len(demo['att1']):,} rows; provider {people['provider'].account} "
              f"({sum(r.actor.account == people['provider'].account for r in demo['att1'])} own rows)")
        print(f"{'page':16s}{'viewer':10s}{'first run (CPU)':>22s}{'rerun (CPU)':>20s}{'after a new row (CPU)':>26s}")
        change = filer(data_dir, catalog, demo)
        for page in args.pages.split(","):
            for who, actor in people.items():
                runs = run_page(page, actor, profile=(f"{page}:{who}" == args.profile
                                                      or (page == args.profile and who == "provider")), change=change)
                print(f"{page:16s}{who:10s}" + "".join(f"{wall:12.0f}ms ({cpu:5.0f}ms)" for wall, cpu in runs))
            if page == "audit":
                print(f"  naive: the audit table built whole from the trail, as before on every change: "
                      f"{naive_audit(catalog):.0f} ms CPU")
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {dt.datetime.now():%Y-%m-%d %H:%M}")
        st.cache_resource.clear()  # closes the store (its background writer) before its folder is removed


if __name__ == "__main__":
    main()
