"""The append-only log: one JSON object per line, the single source of truth of a local store.

Any number of threads and processes share one log file. Writers take :meth:`LogFile.locked`
(a thread lock plus ``fcntl.flock`` on a side file), catch up with the tail, then append and
fsync. Readers take no lock: they only ever consume complete lines, so a line being written
is simply picked up on the next read. A line left half-written by a killed writer is ignored
by readers and cut off by the next writer, who holds the lock and therefore knows nobody is
still writing it. That is what makes a line all-or-nothing, so a change of several rows (a
register import) is one line, a ``batch`` entry (``lib.store.entries.batch_entry``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from lib.core.files import fsync_dir, private_opener
from lib.store.base import Unavailable

_CHUNK = 4 * 1024 * 1024


def dump_line(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


class NoPrefix(Exception):
    """The log has no prefix of the length asked (:meth:`LogFile.prefix_identity`); ``str()`` says why."""


class ProcessLock:
    """A lock held across threads of this process and across processes (``flock`` on a file).

    Re-entrant for the thread that holds it. The OS drops it when the holder dies, so a killed
    process never leaves it stuck.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fd = private_opener(path, os.O_RDWR | os.O_CREAT)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._owner: int | None = None

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock; with a ``timeout`` (0 = one try) return False instead of waiting longer."""
        if not self._thread_lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        if self._depth == 0:
            if not self._flock(timeout):
                self._thread_lock.release()
                return False
            self._owner = threading.get_ident()
        self._depth += 1
        return True

    def _flock(self, timeout: float | None) -> bool:
        if timeout is None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def is_mine(self) -> bool:
        return self._owner == threading.get_ident()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = -1


class LogFile:
    """Reader and locked appender of one JSON-lines log.

    ``offset`` is how many bytes of complete lines this object has handed out so far.
    """

    def __init__(self, path: Path, lock_path: Path):
        self.path = path
        self.lock_path = lock_path
        self.offset = 0
        self.lines_read = 0
        self.lock = ProcessLock(lock_path)
        existed = path.exists()
        self._fd = private_opener(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
        if not existed:
            fsync_dir(path.parent)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd = -1
        self.lock.close()

    def size(self) -> int:
        """Bytes on disk now, complete or not (a cheap stat: the "anything new?" test)."""
        return os.fstat(self._fd).st_size

    def start_at(self, offset: int, lines: int) -> None:
        """Read on from ``offset`` (the end of line ``lines``), the state up to it having come from
        elsewhere (a checkpoint that :meth:`prefix_identity` showed to cover this log's first bytes)."""
        if self.offset:
            raise RuntimeError("start_at after reading")
        self.offset, self.lines_read = offset, lines

    def prefix_identity(self, offset: int) -> dict[str, Any]:
        """What tells this log's first ``offset`` bytes from another's: the SHA-256 of every one of them
        (streamed, a chunk at a time: ~0.1 s of CPU for 100 MB). A log replaced, truncated, or edited
        anywhere before ``offset``, even to text of the same length, gives another answer; a log that only
        grew, or a backup copy of it, gives the same. Raises :class:`NoPrefix` (why, in Chinese) when the log
        is shorter than ``offset`` or ``offset`` is not the end of one of its lines."""
        size = self.size()
        if offset < 0 or size < offset:
            raise NoPrefix(f"日志 {self.path.name} 只有 {size} 字节，短于检查点覆盖的 {offset} 字节：日志被替换或截断过")
        if offset and os.pread(self._fd, 1, offset - 1) != b"\n":
            raise NoPrefix(f"日志 {self.path.name} 有 {size} 字节，但其前 {offset} 字节（检查点覆盖的）不在一行的结尾处"
                           f"结束：日志被替换或改写过")
        digest = hashlib.sha256()
        pos = 0
        while pos < offset:
            chunk = os.pread(self._fd, min(_CHUNK, offset - pos), pos)
            if not chunk:  # cut short while we read: the log is shorter now
                raise NoPrefix(f"日志 {self.path.name} 在读取时变得短于 {offset} 字节：日志被替换或截断过")
            digest.update(chunk)
            pos += len(chunk)
        return {"offset": offset, "sha256": digest.hexdigest()}

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive across threads of this process and across processes; re-entrant."""
        return self.lock.held()

    def read_new(self, apply: Callable[[dict[str, Any]], None], upto: int | None = None) -> None:
        """Call ``apply`` on each entry of the complete lines after ``offset`` (up to byte ``upto``),
        a chunk at a time so a big log is never all in memory; advances ``offset``.

        A trailing line without its newline is left for later: it is either still being written
        or the remains of a killed writer.
        """
        end = self.size() if upto is None else upto
        if end < self.offset:
            raise Unavailable(
                f"数据日志 {self.path.name} 比已读取的内容短，可能被替换或截断；请停止应用，"
                f"用备份恢复日志后运行 `python -m lib.store verify {self.path.parent}` 检查。",
                code="log_truncated",
            )
        carry = b""
        pos = self.offset
        while pos < end:
            chunk = os.pread(self._fd, min(_CHUNK, end - pos), pos)
            if not chunk:
                break
            pos += len(chunk)
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                entries = self._parse(data[:cut])
                self.offset += cut
                for entry in entries:
                    apply(entry)

    def _parse(self, block: bytes) -> list[dict[str, Any]]:
        out = []
        for raw in block.splitlines():
            self.lines_read += 1
            try:
                out.append(json.loads(raw))
            except ValueError as err:
                raise Unavailable(
                    f"数据日志 {self.path.name} 第 {self.lines_read} 行损坏（{err}）；请停止应用并联系管理员，"
                    f"修复后运行 `python -m lib.store verify {self.path.parent}`。",
                    code="log_damaged",
                ) from err
        return out

    def append(self, lines: list[bytes]) -> int:
        """Write ``lines`` at the end and fsync; return the new offset. Caller holds the lock
        and has read every complete line first (so ``offset`` is the end of the last one)."""
        if not self.lock.is_mine():
            raise RuntimeError("LogFile.append needs the log lock")
        size = self.size()
        if size > self.offset:
            # A torn line from a writer killed mid-write: nobody else can be writing now.
            os.ftruncate(self._fd, self.offset)
        payload = b"".join(lines)
        try:
            view = memoryview(payload)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            os.fdatasync(self._fd)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.offset)
            raise Unavailable(f"无法写入数据日志（{err.strerror}），本次提交未保存，请稍后重试或联系管理员。",
                              code="log_write_failed") from err
        self.offset += len(payload)
        self.lines_read += len(lines)
        return self.offset
