"""The durable local outbox of the Google Sheets backend.

Every row submitted is first written here (one JSON line per submission, so the rows of one batch
stay together or are lost together; fsync'ed) and only then sent; a line
``{"done": [eid, ...]}`` records delivery. So a submission survives the spreadsheet being
unreachable and the app being restarted; it is sent again until it lands, and the log's
"first copy of an entry id wins" rule makes a repeated send harmless.

Layout: ``<data_dir>/sheets_outbox/<spreadsheet_key>/<random>.jsonl``, one file per open store,
held with ``flock``; the entries hold personal data, so the files are 0600 and every folder on
the way 0700 (``lib.core.files``). A file nobody holds belongs to a process that ended: the next store to
open adopts its undelivered entries.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from lib.core.files import fsync_dir, private_dir, private_opener
from lib.store.base import Unavailable


class Outbox:
    def __init__(self, folder: Path):
        self.folder = private_dir(folder)
        self.path = folder / f"{secrets.token_hex(6)}.jsonl"
        self._fd = private_opener(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fsync_dir(folder)
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, Any]] = {}  # eid -> entry, in submission order

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._pending.values())

    def add(self, entries: list[dict[str, Any]]) -> None:
        """Make ``entries`` durable here before they are sent (one line, one fsync: a crash
        mid-write leaves a torn line that is read as none of them)."""
        payload = _line({"entries": entries})
        with self._lock:
            try:
                view = memoryview(payload)
                while view:  # a big batch may take more than one write
                    view = view[os.write(self._fd, view):]
                os.fdatasync(self._fd)
            except OSError as err:
                raise Unavailable(f"无法写入本地待同步队列（{err.strerror}），本次提交未保存，请稍后重试。",
                                  code="outbox_write_failed") from err
            for e in entries:
                self._pending[e["eid"]] = e

    def done(self, eids: list[str]) -> None:
        """Mark entries delivered. Not fsync'ed: losing this line only causes a harmless resend."""
        with self._lock:
            eids = [e for e in eids if e in self._pending]
            if not eids:
                return
            for eid in eids:
                del self._pending[eid]
            if self._pending:
                os.write(self._fd, _line({"done": eids}))
            else:
                os.ftruncate(self._fd, 0)  # everything delivered: start the file afresh

    def adopt_orphans(self) -> list[dict[str, Any]]:
        """Take over undelivered entries of outbox files no running store holds."""
        adopted: list[dict[str, Any]] = []
        for path in sorted(self.folder.glob("*.jsonl")):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live store owns it
                entries = read_pending(path)
                if entries:
                    self.add(entries)
                    adopted.extend(entries)
                path.unlink()
                fsync_dir(self.folder)
            finally:
                os.close(fd)
        return adopted

    def close(self) -> None:
        with self._lock:
            empty = not self._pending
            with contextlib.suppress(OSError):
                os.close(self._fd)
            if empty:
                with contextlib.suppress(OSError):
                    self.path.unlink()


def read_pending(path: Path) -> list[dict[str, Any]]:
    """Entries in an outbox file not yet marked done; a torn last line is ignored."""
    pending: dict[str, dict[str, Any]] = {}
    for raw in path.read_bytes().splitlines():
        try:
            item = json.loads(raw)
        except ValueError:
            continue
        for entry in item.get("entries", [item["entry"]] if "entry" in item else []):  # "entry": older files
            pending[entry["eid"]] = entry
        for eid in item.get("done", ()):
            pending.pop(eid, None)
    return list(pending.values())


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
