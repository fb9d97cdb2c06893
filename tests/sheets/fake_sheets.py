"""A local server speaking the subset of the Google Sheets v4 REST API that our backend uses.

Test infrastructure: gspread's real HTTP code runs against it through a session that rewrites
``https://sheets.googleapis.com`` to this server. Shapes follow responses recorded from Google
(gspread's ``tests/cassettes``): value ranges omit ``values`` when empty, open ranges are
bounded by the grid, errors are ``{"error": {"code", "message", "status"}}``.

What it models:

* ``GET spreadsheets/{id}``; ``values`` get / batchGet / update / batchUpdate / append / clear /
  batchClear; ``spreadsheets/{id}:batchUpdate`` with addSheet, appendDimension,
  updateSheetProperties, deleteSheet, and repeatCell of a number format (``Sheet.number_format``;
  ``FORMATTED_VALUE`` shows a number with a ``0.00`` pattern's decimals);
* ``valueInputOption`` RAW (stored as sent) vs USER_ENTERED (``=1+1`` becomes a formula, ``007``
  the number 7, ``TRUE`` a boolean) and the three ``valueRenderOption`` values;
* grid limits (writes or reads outside the grid are refused as Google does) and Google's
  documented limits, answered with the bodies Google sends: a request body over 10 MiB, a cell
  over 50,000 characters, a spreadsheet over 10 million cells, ``values`` that is not a list of
  rows of scalars (all 400 INVALID_ARGUMENT, refused before anything is written);
* the OAuth token endpoint: a service-account JWT is checked against the registered public key
  and exchanged for a bearer token that the data endpoints then require;
* a per-user quota of reads and writes per window (default 60 per 60 s) answered with 429
  RESOURCE_EXHAUSTED; injected faults (error statuses, latency, dropped connections); stop and
  restart on the same port with the data kept; request counters by kind.
"""

from __future__ import annotations

import collections
import contextlib
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.sheets.fake_sheets_model import (
    DEFAULT_COLS,
    DEFAULT_ROWS,
    MAX_REQUEST_BYTES,
    TOO_LARGE,
    ApiError,
    Range,
    Sheet,
    Spreadsheet,
    check_fits,
    check_values,
    col_letters,
    parse_range,
    quote_title,
    read_rows,
    value_range,
    write_rows,
)

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


# --- the server ---------------------------------------------------------------------------------


@dataclass
class Fault:
    kind: str | None  # "read", "write" or None for any data request
    status: int = 503  # 0 means: drop the connection without an answer
    after_apply: bool = False  # drop only after the request took effect (the answer is lost)


class FakeSheets:
    """The server and its data. ``start()`` serves on a loopback port in a thread."""

    TOKEN_PATH = "/token"

    def __init__(self, *, reads_per_window: int = 60, writes_per_window: int = 60, window_seconds: float = 60.0,
                 require_auth: bool = True):
        self.reads_per_window = reads_per_window
        self.writes_per_window = writes_per_window
        self.window_seconds = window_seconds
        self.require_auth = require_auth
        self.latency = 0.0
        self.max_request_bytes = MAX_REQUEST_BYTES  # tests lower it to prove a refused write is split
        self.too_large_status = 400  # 413: the front end's HTML page instead of the API's JSON body
        self.largest_request = 0  # bytes of the largest data request body received
        self.books: dict[str, Spreadsheet] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        self.request_bytes: collections.Counter[str] = collections.Counter()  # endpoint -> body bytes served
        self.log: list[tuple[float, str, str]] = []  # (time, kind, endpoint) of every served data request
        self._faults: list[Fault] = []
        self._keys: dict[str, str] = {}  # service account email -> public key PEM
        self._tokens: dict[str, str] = {}  # bearer token -> email
        self._recent: dict[tuple[str, str], collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        return self.url + self.TOKEN_PATH

    def start(self) -> FakeSheets:
        handler = type("Handler", (_Handler,), {"fake": self})
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering (connections are refused) but keep the data and the port for ``start``."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._httpd = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # --- test controls ---------------------------------------------------------------------

    def create_spreadsheet(self, title: str = "测试表格", *, share_with: str | None = None) -> str:
        key = "fake" + secrets.token_hex(10)
        with self._lock:
            self.books[key] = Spreadsheet(key, title, [Sheet(0, "Sheet1")], {share_with} if share_with else set())
        return key

    def register_service_account(self, email: str, public_key_pem: str) -> None:
        self._keys[email] = public_key_pem

    def fail_next(self, n: int = 1, *, status: int = 503, kind: str | None = None, after_apply: bool = False) -> None:
        """Answer the next ``n`` matching data requests with ``status`` (0: drop the connection)."""
        with self._lock:
            self._faults.extend(Fault(kind, status, after_apply) for _ in range(n))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def values(self, key: str, title: str, option: str = "UNFORMATTED_VALUE") -> list[list[Any]]:
        """A sheet's content as the API would render it (for assertions)."""
        with self._lock:
            sheet = self.books[key].sheet(title)
            return read_rows(Range(sheet, 0, 0, sheet.rows - 1, sheet.cols - 1), option)

    def reset_quota(self) -> None:
        """Forget requests made so far, as if a new quota minute began."""
        with self._lock:
            self._recent.clear()

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.request_bytes.clear()
            self.log.clear()
            self.largest_request = 0

    # --- request handling (called by the handler threads) ----------------------------------

    def issue_token(self, form: dict[str, str]) -> dict:
        from google.auth import jwt

        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, verify=False)
            pem = self._keys[claims["iss"]]
            # Google checks the audience against its own token URI, which the library always uses.
            jwt.decode(assertion, certs=pem, audience=GOOGLE_TOKEN_AUDIENCE)
        except Exception as err:  # noqa: BLE001 - every failure is the same answer to the client
            raise _OAuthError(f"Invalid JWT Signature. ({err})") from err
        token = "ya29.fake-" + secrets.token_urlsafe(16)
        with self._lock:
            self._tokens[token] = claims["iss"]
            self.counts["token"] += 1
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def user_of(self, header: str | None) -> str:
        if not self.require_auth:
            return "anonymous"
        token = (header or "").removeprefix("Bearer ").strip()
        user = self._tokens.get(token)
        if user is None:
            raise ApiError(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                "login cookie or other valid authentication credential.")
        return user

    def admit(self, user: str, kind: str) -> None:
        """Enforce the per-user quota with a sliding window, as Google's per-minute counters do."""
        limit = self.reads_per_window if kind == "read" else self.writes_per_window
        now = time.monotonic()
        recent = self._recent[(user, kind)]
        while recent and recent[0] <= now - self.window_seconds:
            recent.popleft()
        if len(recent) >= limit:
            self.counts[f"429_{kind}"] += 1
            metric = "Read requests" if kind == "read" else "Write requests"
            raise ApiError(429, f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per user' "
                                f"of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
                           [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
                             "domain": "googleapis.com",
                             "metadata": {"service": "sheets.googleapis.com", "quota_location": "global",
                                          "quota_limit": f"{'Read' if kind == 'read' else 'Write'}RequestsPerMinutePerUser",
                                          "quota_limit_value": str(limit),
                                          "quota_metric": f"sheets.googleapis.com/{kind}_requests"}}])
        recent.append(now)

    def take_fault(self, kind: str) -> Fault | None:
        for i, fault in enumerate(self._faults):
            if fault.kind in (None, kind):
                return self._faults.pop(i)
        return None

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> dict:
        """Route one data request; the caller holds the lock."""
        m = re.fullmatch(r"/v4/spreadsheets/([^/:]+)(?::batchUpdate|/values(?::(batchGet|batchUpdate|batchClear)|/(.+)))?",
                         path)
        if not m:
            raise ApiError(404, "Requested entity was not found.")
        book = self.books.get(m.group(1))
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        q1 = {k: v[-1] for k, v in query.items()}
        render = q1.get("valueRenderOption", "FORMATTED_VALUE")
        if path.endswith(":batchUpdate") and "/values" not in path:
            return self.spreadsheet_batch_update(book, body)
        if "/values" not in path:
            return book.metadata()
        op, tail = m.group(2), m.group(3)
        if op == "batchGet":
            return {"spreadsheetId": book.key,
                    "valueRanges": [value_range(parse_range(book, r), render) for r in query.get("ranges", [])]}
        if op == "batchUpdate":
            option = (body or {}).get("valueInputOption", "")
            if not option:
                raise ApiError(400, "'valueInputOption' is required but not specified")
            ranges = [(parse_range(book, d["range"]), d.get("values", [])) for d in body.get("data", [])]
            for i, (rng, values) in enumerate(ranges):  # refuse the whole batch before writing any of it
                check_values(values, f"data[{i}].values")
                check_fits(rng, values)
            replies = [write_rows(book, rng, values, option) for rng, values in ranges]
            return {"spreadsheetId": book.key,
                    "totalUpdatedRows": sum(r["updatedRows"] for r in replies),
                    "totalUpdatedColumns": max((r["updatedColumns"] for r in replies), default=0),
                    "totalUpdatedCells": sum(r["updatedCells"] for r in replies),
                    "totalUpdatedSheets": len({rng.sheet.sheet_id for rng, _ in ranges}),
                    "responses": replies}
        if op == "batchClear":
            cleared = [self._clear(parse_range(book, r)) for r in (body or {}).get("ranges", [])]
            return {"spreadsheetId": book.key, "clearedRanges": cleared}
        text, _, action = tail.partition(":")
        text = urllib.parse.unquote(text)
        if action == "append":
            return self._append(book, text, body, q1)
        if action == "clear":
            return {"spreadsheetId": book.key, "clearedRange": self._clear(parse_range(book, text))}
        if method == "GET":
            return value_range(parse_range(book, text), render)
        if method == "PUT":
            option = q1.get("valueInputOption", "")
            if not option:
                raise ApiError(400, "'valueInputOption' is required but not specified")
            rng = parse_range(book, text)
            return write_rows(book, rng, (body or {}).get("values", []), option)
        raise ApiError(404, "Requested entity was not found.")

    def _append(self, book: Spreadsheet, text: str, body: dict, q: dict[str, str]) -> dict:
        option = q.get("valueInputOption", "")
        if not option:
            raise ApiError(400, "'valueInputOption' is required but not specified")
        values = (body or {}).get("values", [])
        check_values(values)
        rng = parse_range(book, text)
        sheet = rng.sheet
        last = sheet.last_used_row(rng.c0, rng.c1)
        start = max(last + 1, rng.r0)
        width = max((len(r) for r in values), default=0)
        if rng.c0 + width > sheet.cols:
            raise ApiError(400, f"Range ({quote_title(sheet.title)}!{col_letters(rng.c0)}{start + 1}) exceeds grid "
                                f"limits. Max rows: {sheet.rows}, max columns: {sheet.cols}")
        rows_before = sheet.rows
        if q.get("insertDataOption") == "INSERT_ROWS":
            sheet.rows += len(values)
        else:
            sheet.rows = max(sheet.rows, start + len(values))
        try:
            book.check_cells()
        except ApiError:
            sheet.rows = rows_before
            raise
        used = max((len(r) for r in sheet.cells[rng.r0:last + 1]), default=rng.c0 + 1)
        table = Range(sheet, rng.r0, rng.c0, max(last, rng.r0), max(used - 1, rng.c0)) if last >= 0 else None
        reply = {"spreadsheetId": book.key,
                 "updates": write_rows(book, Range(sheet, start, rng.c0, start, rng.c1), values, option)}
        if table is not None:
            reply["tableRange"] = table.a1()
        return reply

    def _clear(self, rng: Range) -> str:
        for r in range(rng.r0, min(rng.r1, len(rng.sheet.cells) - 1) + 1):
            for c in range(rng.c0, rng.c1 + 1):
                if rng.sheet.get(r, c) is not None:
                    rng.sheet.put(r, c, None)
        return rng.a1()

    def spreadsheet_batch_update(self, book: Spreadsheet, body: dict) -> dict:
        replies = []
        staged = [Sheet(s.sheet_id, s.title, s.rows, s.cols, s.hidden, s.cells, list(s.formats)) for s in book.sheets]
        original, book.sheets = book.sheets, staged
        try:
            for i, req in enumerate((body or {}).get("requests", [])):
                (name, args), = req.items()
                if name == "addSheet":
                    props = args.get("properties", {})
                    title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
                    if any(s.title == title for s in book.sheets):
                        raise ApiError(400, f"Invalid requests[{i}].addSheet: A sheet with the name \"{title}\" "
                                            f"already exists. Please enter another name.")
                    grid = props.get("gridProperties", {})
                    sheet = Sheet(props.get("sheetId", secrets.randbelow(2**31 - 1) + 1), title,
                                  grid.get("rowCount", DEFAULT_ROWS), grid.get("columnCount", DEFAULT_COLS),
                                  bool(props.get("hidden", False)))
                    book.sheets.append(sheet)
                    replies.append({"addSheet": {"properties": sheet.properties(len(book.sheets) - 1)}})
                elif name == "appendDimension":
                    sheet = book.by_id(args["sheetId"])
                    if args["dimension"] == "ROWS":
                        sheet.rows += int(args["length"])
                    else:
                        sheet.cols += int(args["length"])
                    replies.append({})
                elif name == "updateSheetProperties":
                    props = args["properties"]
                    sheet = book.by_id(props["sheetId"])
                    for f in args.get("fields", "").split(","):
                        f = f.strip()
                        if f == "title":
                            sheet.title = props["title"]
                        elif f == "hidden":
                            sheet.hidden = bool(props.get("hidden", False))
                        elif f.startswith("gridProperties"):
                            grid = props.get("gridProperties", {})
                            sheet.rows = grid.get("rowCount", sheet.rows)
                            sheet.cols = grid.get("columnCount", sheet.cols)
                    replies.append({})
                elif name == "repeatCell":
                    replies.append(_repeat_cell(book, args, f"Invalid requests[{i}].repeatCell: "))
                elif name == "deleteSheet":
                    book.sheets.remove(book.by_id(args["sheetId"]))
                    replies.append({})
                else:
                    raise ApiError(400, f"Invalid requests[{i}]: unsupported request {name}")
                book.check_cells(f"Invalid requests[{i}].{name}: ")
        except Exception:
            book.sheets = original
            raise
        return {"spreadsheetId": book.key, "replies": replies}



def _repeat_cell(book: Spreadsheet, args: dict, prefix: str) -> dict:
    """A repeatCell of ``userEnteredFormat.numberFormat`` (the only field we model), refused as
    Google refuses it: no fields named, an unknown number format type, a range outside the grid."""
    rng, fields = args.get("range", {}), args.get("fields", "")
    if not fields:
        raise ApiError(400, f"{prefix}At least one field must be updated, but none were specified.")
    if fields != "userEnteredFormat.numberFormat":
        raise ApiError(400, f"{prefix}unsupported fields {fields} (the fake models only userEnteredFormat.numberFormat)")
    sheet = book.by_id(rng.get("sheetId", 0))
    fmt = args.get("cell", {}).get("userEnteredFormat", {}).get("numberFormat", {})
    if fmt.get("type") not in ("TEXT", "NUMBER", "PERCENT", "CURRENCY", "DATE", "TIME", "DATE_TIME", "SCIENTIFIC"):
        raise ApiError(400, f"{prefix}Invalid value at 'requests.repeat_cell.cell.user_entered_format.number_format.type'")
    r0, r1 = rng.get("startRowIndex", 0), rng.get("endRowIndex")
    c0, c1 = rng.get("startColumnIndex", 0), rng.get("endColumnIndex")
    if (r1 if r1 is not None else r0) > sheet.rows or (c1 if c1 is not None else c0) > sheet.cols:
        raise ApiError(400, f"{prefix}Range ({quote_title(sheet.title)}) exceeds grid limits. "
                            f"Max rows: {sheet.rows}, max columns: {sheet.cols}")
    sheet.formats.append((r0, r1, c0, c1, dict(fmt)))
    return {}


class _OAuthError(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    fake: FakeSheets
    protocol_version = "HTTP/1.0"  # one request per connection: stopping the server ends every exchange

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        fake = self.fake
        with fake._lock:
            fake._open.add(self.connection)
        try:
            self._answer(method)
        finally:
            with fake._lock:
                fake._open.discard(self.connection)

    def _answer(self, method: str) -> None:
        fake = self.fake
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path == fake.TOKEN_PATH:
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
            try:
                self._send(200, fake.issue_token(form))
            except _OAuthError as err:
                self._send(400, {"error": "invalid_grant", "error_description": str(err)})
            return
        if fake.latency:
            time.sleep(fake.latency)
        kind = "read" if method == "GET" else "write"
        with fake._lock:
            fake.largest_request = max(fake.largest_request, len(raw))
        if len(raw) > fake.max_request_bytes:  # Google's front end refuses it before reading it
            with fake._lock:
                fake.counts["too_large"] += 1
            if fake.too_large_status == 413:
                self._send_page(413, _TOO_LARGE_PAGE)
            else:
                self._send(400, ApiError(400, TOO_LARGE.replace(str(MAX_REQUEST_BYTES), str(fake.max_request_bytes))).body())
            return
        # Path segments hold '!' and quotes percent-encoded; keep ':' visible for the action suffix.
        path = urllib.parse.unquote(url.path) if "/values/" not in url.path else url.path
        query = urllib.parse.parse_qs(url.query)
        try:
            body = json.loads(raw) if raw else None
            with fake._lock:
                user = fake.user_of(self.headers.get("Authorization"))
                book_key = path.split("/")[3].split(":")[0] if path.count("/") >= 3 else ""
                book = fake.books.get(book_key)
                if book is not None and book.shared_with and user not in book.shared_with and fake.require_auth:
                    raise ApiError(403, "The caller does not have permission")
                fault = fake.take_fault(kind)
                if fault is not None and not fault.after_apply:
                    fake.counts[f"fault_{kind}"] += 1
                    if fault.status == 0:
                        self._drop()
                        return
                    raise ApiError(fault.status, "The service is currently unavailable." if fault.status == 503
                                   else "Internal error encountered.")
                fake.admit(user, kind)
                endpoint = _endpoint(method, path)
                answer = fake.dispatch(method, path, query, body)
                fake.counts[kind] += 1
                fake.counts[endpoint] += 1
                fake.request_bytes[endpoint] += len(raw)
                fake.log.append((time.monotonic(), kind, endpoint))
            if fault is not None:  # after_apply: the change is made, the answer never arrives
                fake.counts[f"fault_{kind}"] += 1
                self._drop()
                return
            self._send(200, answer)
        except ApiError as err:
            self._send(err.code, err.body())
        except (ValueError, KeyError, TypeError) as err:
            self._send(400, ApiError(400, f"Invalid JSON payload received. {err}").body())

    def _drop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _send(self, code: int, payload: dict) -> None:
        self._send_page(code, json.dumps(payload, ensure_ascii=False), "application/json")

    def _send_page(self, code: int, text: str, kind: str = "text/html") -> None:
        data = text.encode("utf-8")
        with contextlib.suppress(OSError):
            self.send_response(code)
            self.send_header("Content-Type", f"{kind}; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


# Google's front end answers an oversized body with its generic error page, not the API's JSON.
_TOO_LARGE_PAGE = ("<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n"
                   "  <title>Error 413 (Request Entity Too Large)!!1</title>\n"
                   "  <p><b>413.</b> <ins>That\u2019s an error.</ins>\n"
                   "  <p>Your client issued a request that was too large.\n  <ins>That\u2019s all we know.</ins>\n")


def _endpoint(method: str, path: str) -> str:
    if "/values" not in path:
        return "spreadsheets.batchUpdate" if path.endswith(":batchUpdate") else "spreadsheets.get"
    for action in ("batchGet", "batchUpdate", "batchClear", "append", "clear"):
        if path.endswith(":" + action):
            return "values." + action
    return "values.get" if method == "GET" else "values.update"


_TEST_KEYS: dict[str, str] = {}


def secrets_for_test_server(server: FakeSheets, **overrides: Any) -> dict[str, Any]:
    """A ``[gsheets]`` table for a new spreadsheet on ``server``: a generated service-account key
    (registered with the server's token endpoint), the spreadsheet shared with it, fast retries.
    Unthrottled on the client side; set ``reads_per_minute``/``writes_per_minute`` to test quota."""
    if not _TEST_KEYS:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _TEST_KEYS["private"] = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()).decode()
        _TEST_KEYS["public"] = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    email = "contract@test-project.iam.gserviceaccount.com"
    server.register_service_account(email, _TEST_KEYS["public"])
    return {"spreadsheet_key": server.create_spreadsheet("契约测试", share_with=email),
            "service_account": {"type": "service_account", "project_id": "test-project", "private_key_id": "1",
                                "private_key": _TEST_KEYS["private"], "client_email": email,
                                "token_uri": server.token_uri},
            "api_base_url": server.url, "reads_per_minute": 100_000, "writes_per_minute": 100_000,
            "retry_attempts": 3, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.2,
            "offline_probe_seconds": 0.3, **overrides}
