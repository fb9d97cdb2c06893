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
from typing import Any

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


# --- sessions without a browser ------------------------------------------------------------------------
# A viewer who only watches a page needs no renderer: Streamlit's own protocol (protobuf BackMsg /
# ForwardMsg over the websocket /_stcore/stream, what the browser's app speaks) holds a real session on the
# server, runs the page on it, and fires the fragments' timers (``auto_rerun``) as the browser would, so the
# server does for it what it does for a browser tab; the bench's machine pays nothing for layout and paint.


def session_cookie(data_dir: Path, account: str, *, hours: float = 8) -> str:
    """A ``Cookie`` header that signs ``account`` in on a server over ``data_dir``: a session token issued as
    signing in issues one (lib.auth.sessions, the server's secret in the data folder), in the app's cookie."""
    from lib.auth.accounts import AccountsFile
    from lib.auth.sessions import SessionTokens
    from lib.ui.auth import COOKIE

    token = SessionTokens(data_dir, AccountsFile(data_dir / "accounts.json")).issue(account, now=dt.datetime.now(), hours=hours)
    return f"{COOKIE}={token}"


class StreamViewers:
    """Sessions on the server at ``url`` driven over Streamlit's websocket protocol from one asyncio loop in
    a thread of its own. ``open`` starts a session signed in by the app's session cookie (``cookie``), runs
    ``page`` on it and returns once a run has drawn ``title``. The page's clocks tick as in a visible tab: a
    fragment that asks to rerun every N s (``st.fragment(run_every=…)``) is rerun every N s, and the board's
    ``lib.ui.visibility.clock`` (a components-v2 element given ``period_ms``) sends its ``tick`` trigger every
    period with its fragment's id, as its script does in the browser."""

    def __init__(self, url: str):
        import asyncio
        import threading

        self.stream = url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="stream-viewers", daemon=True)
        self.thread.start()
        self.sessions: list[_StreamSession] = []

    def open(self, cookie: str, page: str, title: str, *, timeout: float = 120) -> _StreamSession:
        import asyncio

        session = _StreamSession(self.stream, cookie, page, title)
        self.sessions.append(session)
        asyncio.run_coroutine_threadsafe(session.run(), self.loop)
        if not session.drawn.wait(timeout):
            raise TimeoutError(f"{page}: no run drew {title!r} within {timeout} s ({session.error or 'no error'})")
        if session.error:
            raise RuntimeError(f"{page}: {session.error}")
        return session

    def runs(self) -> int:
        """Script runs finished so far, over every session (full runs and fragment runs)."""
        return sum(s.runs for s in self.sessions)

    def errors(self) -> list[str]:
        return [s.error for s in self.sessions if s.error]

    def close(self, timeout: float = 15) -> None:
        """Close every session's websocket and stop the loop, in bounded time."""
        import asyncio

        async def close_all() -> None:
            await asyncio.gather(*(s.close() for s in self.sessions), return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)


def rerun_message(stream: str, page: str, page_hash: str = "", query: str = ""):
    """A BackMsg rerun_script as a browser in Guangdong sends it to ``stream`` (``ws://…/_stcore/stream``): the
    page by its name (``page``) until the server has named its hash (``page_hash``), no widget state yet
    (the caller adds what it holds), the browser's time zone, locale and address."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query
    state.page_name = "" if page_hash else page
    state.page_script_hash = page_hash
    state.widget_states.SetInParent()
    state.context_info.timezone = "Asia/Shanghai"
    state.context_info.timezone_offset = -480
    state.context_info.locale = "zh-CN"
    state.context_info.url = stream.replace("ws://", "http://").rsplit("/_stcore", 1)[0] + "/" + page
    return msg


class _StreamSession:
    """One session: the first rerun_script names the page, as a browser's first load of ``/<page>`` does."""

    def __init__(self, stream: str, cookie: str, page: str, title: str):
        import threading

        self.stream, self.cookie, self.page, self.title = stream, cookie, page, title.encode()
        self.drawn = threading.Event()
        self.runs = 0
        self.error: str | None = None
        self.page_hash = ""
        self.socket = None
        self.timers: dict[str, Any] = {}

    def _rerun(self, fragment_id: str = "", trigger: str = "") -> bytes:
        """A rerun_script: of the page (the first load), or of one fragment, with a component's ``tick``."""
        import json

        msg = rerun_message(self.stream, self.page, self.page_hash if fragment_id else "")
        state = msg.rerun_script
        if trigger:
            widget = state.widget_states.widgets.add()
            widget.id = trigger
            widget.json_trigger_value = json.dumps([{"event": "tick", "value": int(time.time() * 1000)}])
        if fragment_id:
            state.fragment_id = fragment_id
            state.is_auto_rerun = True
        return msg.SerializeToString()

    async def _tick(self, fragment_id: str, interval: float, trigger: str = "") -> None:
        import asyncio

        while True:
            await asyncio.sleep(interval)
            await self.socket.send(self._rerun(fragment_id, trigger))

    def _clock(self, delta) -> None:
        """Start ticking for a components-v2 element with a ``period_ms`` (lib.ui.visibility.clock): its
        trigger aggregator's id is Streamlit's own rule for that element id."""
        import asyncio
        import json

        from streamlit.components.v2.bidi_component.main import _make_trigger_id

        element = delta.new_element.bidi_component
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            period = json.loads(element.json or "{}").get("period_ms")
            key = f"{element.id} in {delta.fragment_id}"
            if period and key not in self.timers:
                for timer in self.timers.values():  # one clock on a page: a new one (a new run) replaces it
                    timer.cancel()
                self.timers = {key: asyncio.ensure_future(
                    self._tick(delta.fragment_id, period / 1000, _make_trigger_id(element.id, "events")))}

    async def run(self) -> None:
        import asyncio

        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        from websockets.asyncio.client import connect

        try:
            # no keepalive pings from this side (a browser sends none): on a loaded machine an answer later than
            # 20 s closed the session, which a person's tab would have kept
            async with connect(self.stream, subprotocols=["streamlit"], max_size=None, open_timeout=60, ping_interval=None,
                               additional_headers={"Cookie": self.cookie}) as socket:
                self.socket = socket
                await socket.send(self._rerun())
                async for data in socket:
                    msg = ForwardMsg()
                    msg.ParseFromString(data)
                    kind = msg.WhichOneof("type")
                    if kind == "navigation":  # the page the run chose, which a later rerun must name
                        self.page_hash = msg.navigation.page_script_hash
                    elif kind == "delta" and self.title in data and not self.drawn.is_set():
                        self.drawn.set()
                    elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                        element = msg.delta.new_element.WhichOneof("type")
                        if element == "exception":
                            self.error = self.error or msg.delta.new_element.exception.message[:300]
                        elif element == "bidi_component":
                            self._clock(msg.delta)
                    elif kind == "auto_rerun":
                        fid = msg.auto_rerun.fragment_id
                        if fid not in self.timers:
                            self.timers[fid] = asyncio.ensure_future(self._tick(fid, msg.auto_rerun.interval))
                    elif kind == "stop_auto_rerun":
                        for timer in self.timers.values():
                            timer.cancel()
                        self.timers.clear()
                    elif kind == "script_finished":
                        self.runs += 1
                        if not self.drawn.is_set() and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY \
                                and self.runs <= 3:
                            # the process's first session runs in Streamlit's legacy pages/ mode and the router
                            # sends it home (lib.ui.nav): ask for the page again, as a person would click it
                            await socket.send(self._rerun())
                    elif kind == "page_not_found":
                        self.error = self.error or f"page not found: {self.page}"
        except Exception as exc:  # noqa: BLE001 - reported through ``error`` to the thread that opened it
            if not isinstance(exc, asyncio.CancelledError):
                self.error = self.error or f"{type(exc).__name__}: {exc}"
        finally:
            for timer in self.timers.values():
                timer.cancel()
            self.drawn.set()  # a failure ends the wait for the first draw too

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
