"""The network side of the Google Sheets backend: settings, credentials and one HTTP session.

Every request gspread makes goes through :class:`SheetsSession`, which

* sends it to ``api_base_url`` when one is set (a local Sheets API server in tests);
* waits for quota before sending (a token bucket per kind that never exceeds the per-minute
  limit, so a single app process does not earn 429s in the first place);
* retries 429, 5xx, dropped connections and timeouts a bounded number of times with exponential
  backoff and jitter (a random wait between half and all of the current cap), then raises :class:`SheetsDown` (gspread 6.2.1's own
  BackOffHTTPClient retries forever, so it is not used);
* counts requests by kind for the benchmark and the UI.
"""

from __future__ import annotations

import collections
import json
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

import requests
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.transport.requests import AuthorizedSession

from lib.store.base import Unavailable

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Google's documented limits (https://developers.google.com/sheets/api/limits and the Sheets help
# centre). A request over MAX_REQUEST_BYTES is refused whole: 400 "Request payload size exceeds
# the limit: 10485760 bytes." (or 413 from the front end).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_CELL_CHARS = 50_000  # characters in one cell ("Your input contains more than the maximum of 50000 ...")
MAX_SPREADSHEET_CELLS = 10_000_000  # rows x columns over all sheets of one spreadsheet
# What we put in one request: well under the limit, so the envelope (ranges, option names) and
# any difference between our size estimate and Google's count can never reach it, and one slow
# request does not hold up the submissions queued behind it for long.
REQUEST_BUDGET_BYTES = 4 * 1024 * 1024

T = TypeVar("T")


def json_bytes(value: Any) -> int:
    """Bytes ``value`` takes in a request body as ``requests`` encodes it (``json=``: ASCII-escaped,
    so a Chinese character costs six bytes).

    >>> json_bytes(["甲", 1])
    13
    """
    return len(json.dumps(value))


def request_chunks(items: Sequence[T], size: Callable[[T], int] = json_bytes, *,
                   budget: int = REQUEST_BUDGET_BYTES, max_items: int | None = None) -> Iterator[list[T]]:
    """Consecutive groups of ``items``, in order, each fitting in one request: the sizes (plus a
    separator each) add up to at most ``budget`` and a group holds at most ``max_items``. This is
    the one place every write to the spreadsheet is cut by size. An item over the budget on its
    own makes a group by itself (the caller refuses such items before they get here).

    >>> [len(g) for g in request_chunks(["x" * 10] * 5, budget=30)]
    [2, 2, 1]
    >>> [len(g) for g in request_chunks(list(range(5)), max_items=2)]
    [2, 2, 1]
    """
    group: list[T] = []
    used = 0
    for item in items:
        n = size(item) + 2  # ", " between items
        if group and (used + n > budget or (max_items is not None and len(group) >= max_items)):
            yield group
            group, used = [], 0
        group.append(item)
        used += n
    if group:
        yield group


def send_halving(send: Callable[[list[T]], None], items: list[T]) -> None:
    """``send(items)``; when Google refuses the request for its size (:class:`RequestTooLarge`), send
    each half the same way, down to single items.

    >>> sent = []
    >>> def send(items):
    ...     if len(items) > 2:
    ...         raise RequestTooLarge("too large")
    ...     sent.append(items)
    >>> send_halving(send, [1, 2, 3, 4, 5])
    >>> sent
    [[1, 2], [3], [4, 5]]
    """
    try:
        send(items)
    except RequestTooLarge:
        if len(items) == 1:
            raise
        half = len(items) // 2
        send_halving(send, items[:half])
        send_halving(send, items[half:])


def quote_title(title: str) -> str:
    """A sheet title as A1 notation wants it: always quoted, a quote inside doubled.

    >>> quote_title("现场检查's"), quote_title("_log")
    ("'现场检查''s'", "'_log'")
    """
    return "'" + title.replace("'", "''") + "'"


def col_letters(index: int) -> str:
    """Spreadsheet column letters of a 0-based index.

    >>> col_letters(0), col_letters(25), col_letters(26)
    ('A', 'Z', 'AA')
    """
    out, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def a1(title: str, cells: str) -> str:
    """The A1 range ``cells`` of sheet ``title``; every range we send goes through here.

    >>> a1("_log", "A1:H")
    "'_log'!A1:H"
    """
    return f"{quote_title(title)}!{cells}"


def cell_chars(text: str) -> int:
    """Length of ``text`` as the cell limit counts it: UTF-16 code units (as Java's String does;
    a character outside the BMP, such as an emoji, counts twice). The stricter reading of
    "characters", so a cell we send can never be refused for it.

    >>> cell_chars("甲乙"), cell_chars("\U0001F600")
    (2, 2)
    """
    return len(text.encode("utf-16-le")) // 2


def cut_text(text: str, limit: int) -> list[str]:
    """``text`` in consecutive pieces of at most ``limit`` UTF-16 units, never splitting a character.

    >>> cut_text("ab\U0001F600c", 2)
    ['ab', '\U0001F600', 'c']
    """
    pieces, i = [], 0
    while i < len(text):
        j = min(len(text), i + limit)
        while (over := cell_chars(text[i:j]) - limit) > 0:
            j -= max(1, over // 2)
        pieces.append(text[i:j])
        i = j
    return pieces


class SheetsDown(Unavailable):
    """The spreadsheet did not answer within the retry budget (network, quota or Google outage)."""

    code = "sheets_down"


class RequestTooLarge(Unavailable):
    """Google refused a request for its size; the caller sends the same data in smaller pieces."""

    code = "sheets_request_too_large"


@dataclass(frozen=True)
class SheetsConfig:
    """The ``[gsheets]`` table of ``.streamlit/secrets.toml``; every key but the first two is optional."""

    spreadsheet_key: str
    service_account: dict[str, Any] = field(default_factory=dict)
    api_base_url: str = ""  # e.g. http://127.0.0.1:8765 for a local Sheets API server
    cache_seconds: float = 10.0  # a read serves every viewer of this process for this long
    reads_per_minute: int = 60  # this process's share of the service account's quota
    writes_per_minute: int = 60
    quota_window_seconds: float = 60.0  # tests shrink the window, keeping the ratio
    retry_attempts: int = 5  # tries per request, the first included
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 8.0
    request_timeout_seconds: float = 20.0
    submit_wait_seconds: float = 30.0  # longest an append waits for the sheet before it is queued
    offline_probe_seconds: float = 15.0  # while unreachable, how often delivery of queued rows is retried

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> SheetsConfig:
        """Build from the secrets table; unknown keys are refused so a typo is not silently ignored.

        >>> SheetsConfig.from_table({"spreadsheet_key": "abc", "cache_seconds": "5"}).cache_seconds
        5.0
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise Unavailable(f"[gsheets] 配置中有未知的设置：{'、'.join(unknown)}；可用的设置见 .streamlit/secrets.toml.example。",
                              code="sheets_config")
        if not str(table.get("spreadsheet_key", "")).strip():
            raise Unavailable("[gsheets] 配置缺少 spreadsheet_key（表格链接中 /d/ 与 /edit 之间的那一段）。", code="sheets_config")
        values: dict[str, Any] = {}
        for name, value in table.items():
            default = known[name].default
            if name == "service_account":
                values[name] = dict(value or {})
            elif isinstance(default, float):
                values[name] = float(value)
            elif isinstance(default, int):
                values[name] = int(value)
            else:
                values[name] = str(value).strip()
        return cls(**values)


def build_credentials(config: SheetsConfig) -> Credentials:
    """Service-account credentials from the secrets; anonymous only for a local test server."""
    info = config.service_account
    if not info:
        if config.api_base_url:
            return AnonymousCredentials()
        raise Unavailable("[gsheets] 配置缺少 service_account（服务账号 JSON 密钥的各项内容）。", code="sheets_config")
    from google.oauth2 import service_account

    try:
        return service_account.Credentials.from_service_account_info(dict(info), scopes=list(SCOPES))
    except (ValueError, KeyError) as err:
        raise Unavailable(f"[gsheets] service_account 内容无效（{err}）；请粘贴服务账号 JSON 密钥中的全部字段。",
                          code="sheets_config") from err


class QuotaGate:
    """Token bucket per kind ("read", "write") that never lets more than ``limit`` requests
    through in any window of ``window`` seconds: capacity ``burst`` and refill
    ``(limit - burst) / window``, so ``burst + refill * window == limit``.

    >>> gate = QuotaGate(reads=60, writes=60, window=60.0)
    >>> gate.acquire("write")
    True
    >>> round(gate.available("write"))  # a burst of 6, then 54 spread over the minute
    5
    """

    def __init__(self, *, reads: int, writes: int, window: float, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, list[float]] = {}  # kind -> [tokens, rate, capacity, last]
        for kind, limit in (("read", reads), ("write", writes)):
            burst = max(1, limit // 10)
            rate = max(limit - burst, 1) / window
            self._buckets[kind] = [float(burst), rate, float(burst), clock()]

    def _refill(self, kind: str) -> list[float]:
        b = self._buckets[kind]
        now = self._clock()
        b[0] = min(b[2], b[0] + (now - b[3]) * b[1])
        b[3] = now
        return b

    def available(self, kind: str) -> float:
        with self._lock:
            return self._refill(kind)[0]

    def acquire(self, kind: str, *, deadline: float | None = None) -> bool:
        """Take one token, waiting for it; False if it would only come after ``deadline``."""
        while True:
            with self._lock:
                b = self._refill(kind)
                if b[0] >= 1:
                    b[0] -= 1
                    return True
                wait = (1 - b[0]) / b[1]
            if deadline is not None and self._clock() + wait > deadline:
                return False
            time.sleep(min(wait, 0.5))


class SheetsSession(AuthorizedSession):
    """An AuthorizedSession with URL rewriting, quota pacing and bounded retries (see module doc)."""

    def __init__(self, credentials: Credentials, config: SheetsConfig, *, gate: QuotaGate | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        super().__init__(credentials)
        self.config = config
        self.gate = gate or QuotaGate(reads=config.reads_per_minute, writes=config.writes_per_minute,
                                      window=config.quota_window_seconds)
        self.stats: collections.Counter[str] = collections.Counter()
        self._stats_lock = threading.Lock()
        self._sleep = sleep
        self._base = config.api_base_url.rstrip("/")

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``attempt`` (1-based): random in [cap/2, cap], cap doubling."""
        cap = min(self.config.backoff_max_seconds, self.config.backoff_base_seconds * 2 ** (attempt - 1))
        delay = random.uniform(cap / 2, cap)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff_max_seconds))
        return delay

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self._base:
            for host in GOOGLE_HOSTS:
                if url.startswith(host):
                    url = self._base + url[len(host):]
                    break
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.config.request_timeout_seconds
        kind = "read" if method.upper() == "GET" else "write"
        attempts = max(1, self.config.retry_attempts)
        problem = ""
        for attempt in range(1, attempts + 1):
            self.gate.acquire(kind)
            self._count(kind)
            try:
                response = super().request(method, url, *args, **kwargs)
            except auth_exceptions.RefreshError as err:
                if getattr(err, "retryable", False):
                    problem = f"无法取得访问令牌（{err}）"
                else:
                    raise Unavailable(f"Google 服务账号认证失败（{err}）；请检查 [gsheets] service_account 配置。",
                                      code="sheets_auth") from err
            except (requests.ConnectionError, requests.Timeout, auth_exceptions.TransportError) as err:
                problem = f"连接失败（{type(err).__name__}）"
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                problem = f"HTTP {response.status_code}"
                if response.status_code == 429:
                    self._count("throttled")
                if attempt == attempts:
                    break
                self._count("retries")
                self._sleep(self.backoff(attempt, _retry_after(response)))
                continue
            if attempt < attempts:
                self._count("retries")
                self._sleep(self.backoff(attempt))
        self._count("gave_up")
        raise SheetsDown(f"暂时无法连接 Google 表格（{problem}，已重试 {attempts} 次）。")


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
