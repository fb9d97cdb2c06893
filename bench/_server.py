"""What the browser benches share: a store of N demo rows with its registers and demo accounts, a real
``streamlit run`` on it, Chromium through Playwright, the server's CPU and memory read from /proc, and
the moment a page has settled as the browser sees it.

Not a bench itself (bench/browser_pages_bench.py and bench/sessions_bench.py are). The server and the
browser are the browser suite's own (tests/browser/conftest.py: ``AppServer``, Debian's Chromium,
closes bounded by ``closed_within``), so the benches measure what the journeys run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from board_bench import AS_OF, build_store, demo_rows  # noqa: E402

from lib.demo.accounts import DEMO_PASSWORD  # noqa: E402
from lib.demo.lexicon import CITY_INFO  # noqa: E402
from tests.browser.conftest import CHROMIUM, AppServer, closed_within, free_port  # noqa: E402

#: bcrypt cost of the bench's accounts: the lowest bcrypt takes, so seeding thousands of provider
#: accounts takes seconds (a sign-in checks the hash at this cost; a page run never does).
BENCH_ROUNDS = 4
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu", "--disable-component-update",
                 "--disable-sync", "--disable-renderer-backgrounding", "--disable-background-timer-throttling",
                 "--disable-backgrounding-occluded-windows"]
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class People:
    """Who the benches sign in as: the province, a city bureau, the provider whose own 附件1 rows are
    nearest 30, and every provider and city account (for many sessions)."""

    province: str
    city: str
    provider: str
    provider_rows: int
    providers: tuple[str, ...]
    cities: tuple[str, ...]


def prepare_data(data_dir: Path, rows: int) -> People:
    """A local store of ``rows`` 附件1 rows (附件3 a quarter as many, 附件2 one in 60, at least 300) and the
    registers, as bench/board_bench.py builds it, its workbook written whole, and the demo accounts (every
    role, every city, every filer) with the password DEMO_PASSWORD."""
    from lib.auth.accounts import AccountsFile
    from lib.demo.accounts import seed_demo_accounts
    from lib.forms import load_catalog
    from lib.store.factory import open_store

    catalog = load_catalog(ROOT / "forms")
    demo = demo_rows(catalog, rows, max(300, rows // 60), rows // 4)
    build_store(data_dir, catalog, demo)
    with open_store("local", data_dir=data_dir, background=False) as store:
        seed_demo_accounts(AccountsFile(data_dir / "accounts.json"), store, catalog, rounds=BENCH_ROUNDS, today=AS_OF)
        store.flush_workbook()  # the server starts on a whole workbook: no rewrite in its first minutes
    own: dict[str, int] = {}
    for r in demo["att1"]:
        own[r.actor.account] = own.get(r.actor.account, 0) + 1
    provider = min(own, key=lambda account: (abs(own[account] - 30), account))
    cities = tuple(f"city_{CITY_INFO[c].account}" if c in CITY_INFO else f"city_{c}" for c in catalog.campaign.cities)
    return People("province", cities[0], provider, own[provider], tuple(sorted(own, key=lambda a: (-own[a], a))), cities)


def start_server(data_dir: Path) -> AppServer:
    """``streamlit run app.py`` on a free port over ``data_dir`` (no demo seeding, the campaign clock at the
    bench's day); returns once its health check answers (the store opens on the first session's run)."""
    return AppServer(data_dir, free_port(), {"APP_DEMO_DATA": "false", "APP_CAMPAIGN_TODAY": AS_OF.isoformat()})


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _tree(pid: int) -> list[int]:
    """``pid`` and the processes it started, and theirs (the upload reader runs in a child)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            children.setdefault(int(stat.read_text().rsplit(")", 1)[1].split()[1]), []).append(int(stat.parent.name))
    found, todo = [pid], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid``, its children that ended, and those still running."""
    total = 0
    for i, p in enumerate(_tree(pid)):
        with contextlib.suppress(OSError, IndexError):
            fields = _stat(p)  # after the ")": state is fields[0], utime fields[11] … cstime fields[14]
            total += int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if i == 0 else 0)
    return total / TICK


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def chromium():
    """Playwright and Debian's Chromium (never a download), both closed in bounded time whatever happens."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            with closed_within("Chromium"):
                browser.close()
    finally:
        with closed_within("Playwright"):
            pw.stop()


@contextlib.contextmanager
def signed_in(browser, url: str, account: str, *, timeout_ms: float = 120_000):
    """A new browser context signed in as ``account`` on the server at ``url``, its page yielded; the
    context is closed in bounded time afterwards."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        page.goto(url)
        page.get_by_label("账号").fill(account)
        page.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.get_by_text(f"账号：{account}").wait_for()
        yield page
    finally:
        with closed_within("a browser context"):
            context.close()


# Settled: the app is connected, its script is not running, no status widget ("Running…") shows and the
# page's title is drawn, and all of this has held for ``quiet`` ms without a break (a page that reruns
# itself, or a second run after the navigation, starts the wait again). The time returned is when that
# state began, from ``start`` (performance.now() at the trigger, or 0: the navigation's start on a load).
_SETTLE_JS = """
([title, href, quiet, timeout]) => new Promise((resolve, reject) => {
  const start = href === null ? 0 : performance.now();
  const settled = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
      && app.getAttribute('data-test-connection-state') === 'CONNECTED'
      && !document.querySelector('[data-testid="stStatusWidget"]')
      && [...document.querySelectorAll('h1')].some(h => h.textContent.trim() === title);
  };
  let since = null, timer = null;
  const done = (value, error) => {
    observer.disconnect(); clearTimeout(timer); clearTimeout(limit);
    error ? reject(new Error(error)) : resolve(value);
  };
  const check = () => {
    if (!settled()) { since = null; clearTimeout(timer); return; }
    if (since === null) { since = performance.now(); timer = setTimeout(() => done(since - start), quiet); }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  const limit = setTimeout(() => done(null, `not settled within ${timeout} ms: "${title}"`), timeout);
  if (href !== null) {
    const link = document.querySelector(`[data-testid="stSidebarNav"] a[href$="/${href}"]`);
    if (!link) { done(null, `no link to ${href} in the sidebar`); return; }
    link.click();
  } else {
    check();
  }
})
"""

QUIET_MS = 500


def open_by_link(page, href: str, title: str, *, timeout_ms: float = 120_000) -> float:
    """Click the sidebar's link to ``href`` (the same session, as a person does) and return the ms until
    the page titled ``title`` has settled."""
    return page.evaluate(_SETTLE_JS, [title, href, QUIET_MS, timeout_ms])


def open_by_address(page, url: str, title: str, *, timeout_ms: float = 120_000) -> float:
    """Load ``url`` afresh (a new Streamlit session, the session cookie signs it in) and return the ms from
    the navigation's start until the page titled ``title`` has settled."""
    page.goto(url, wait_until="domcontentloaded")
    return page.evaluate(_SETTLE_JS, [title, None, QUIET_MS, timeout_ms])


def wait_settled(page, title: str, *, timeout_ms: float = 120_000) -> None:
    """Wait until the open page titled ``title`` has settled (``QUIET_MS`` without a run)."""
    page.evaluate(_SETTLE_JS, [title, None, QUIET_MS, timeout_ms])


def sidebar_links(page) -> list[str]:
    """The url paths of the pages the signed-in account's sidebar offers."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
                            .map(a => new URL(a.href).pathname.replace(/^\\//, '') || 'home')""")


def quantiles(values: list[float]) -> tuple[float, float, float]:
    """(median, p95, max) of ``values`` (p95 by the nearest rank)."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
    return statistics.median(ordered), ordered[rank], ordered[-1]


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"


def actor_note(people: People) -> str:
    return (f"province: {people.province}; city: {people.city}; provider: {people.provider} "
            f"({people.provider_rows} own 附件1 rows); {len(people.providers):,} providers")


def wait_quiet(pid: int, *, below: float = 0.1, within: float = 90) -> float:
    """Wait until the server uses less than ``below`` of a CPU over 2 s (its start-up work done: the store
    read, a checkpoint or workbook written in the background), at most ``within`` s; returns the wait."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        before = cpu_seconds(pid)
        time.sleep(2)
        if cpu_seconds(pid) - before < below * 2:
            break
    return time.monotonic() - start
