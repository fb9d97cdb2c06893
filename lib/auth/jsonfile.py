"""A small JSON file changed safely by several processes: a file lock (``filelock``), temp file, fsync,
atomic replace.

Reads are served from memory until the file's inode, size or times change (one ``stat`` per read);
a change under the lock always reads the file itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock

from lib.core.files import FILE_MODE, fsync_dir, private_dir, private_opener

from .errors import DataFileError


@contextlib.contextmanager
def locked(lock: FileLock) -> Iterator[None]:
    """Hold ``lock`` (a FileLock of this package: flock, no soft fallback). Its file is made 0600 first,
    an older looser one tightened, and never followed if it is a symbolic link; a lock that cannot be
    taken is a DataFileError naming the file, not an English OSError."""
    path = Path(lock.lock_file)
    try:
        os.close(private_opener(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW))
        lock.acquire()
    except OSError as exc:
        raise DataFileError(f"无法锁定文件 {path}（{exc.strerror or exc}）：请检查数据目录中的这个文件"
                            "（应为本程序创建的普通文件，不能是链接）。", code="lock_failed") from exc
    try:
        yield
    finally:
        lock.release()


def lock_for(path: Path) -> FileLock:
    """The lock that guards ``path``: ``.<name>.lock`` beside it. flock: the OS drops it when its holder
    dies, so a killed process never leaves the file locked (hence no soft-lock fallback). One descriptor
    per thread, so threads exclude each other too."""
    return FileLock(path.parent / f".{path.name}.lock", mode=FILE_MODE, fallback_to_soft=False)


class JsonFile:
    """One JSON document on disk; ``update(change)`` is the only way to write it.

    >>> import tempfile, pathlib
    >>> f = JsonFile(pathlib.Path(tempfile.mkdtemp()) / "x.json", default=dict)
    >>> f.update(lambda doc: doc.update(a=1))["a"]
    1
    >>> f.read()
    {'a': 1}
    """

    def __init__(self, path: Path, *, default: Callable[[], Any]):
        self.path = Path(path)
        private_dir(self.path.parent)  # it holds password hashes: 0700, like the data folder
        self._default = default
        self._lock = lock_for(self.path)
        self._mutex = threading.Lock()
        self._cached: tuple[tuple[int, ...], Any] | None = None

    def _stamp(self) -> tuple[int, ...] | None:
        # The inode changes with every replace and ctime with any write, where a coarse (1–2 s) mtime
        # and an equal size alone would let a rewrite in the same second read as the old document.
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)

    def _parse(self) -> Any:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise DataFileError(f"文件 {self.path} 已损坏（不是有效的 JSON），无法读取：请从备份恢复，或联系管理员。",
                                code="file_damaged") from exc

    def read(self) -> Any:
        """The document (a fresh copy the caller may change), or ``default()`` when there is no file."""
        return self.read_part(lambda doc: doc)

    def read_part(self, pick: Callable[[Any], Any]) -> Any:
        """``pick(document)`` as a fresh copy the caller may change: only that part is copied (the session
        check reads one account of thousands on every page run), never the whole document."""
        stamp = self._stamp()
        if stamp is None:
            return pick(self._default())
        with self._mutex:
            if self._cached is None or self._cached[0] != stamp:
                self._cached = (stamp, self._parse())
            part = pick(self._cached[1])
            return part if part is None or isinstance(part, (str, int, float, bool)) else json.loads(json.dumps(part))

    def update(self, change: Callable[[Any], Any], *, always_write: bool = False) -> Any:
        """Under the lock: read, ``change(doc)`` in place (its return value is returned), write atomically
        (not at all when ``change`` left the document as it was, unless ``always_write``: a caller whose
        every call must cost the same, whatever it changed, such as a sign-in attempt)."""
        with locked(self._lock):
            # From the file itself, never the cache: what is changed must be what another process last wrote.
            doc = self._parse() if self.path.exists() else self._default()
            before = json.dumps(doc, sort_keys=True)
            result = change(doc)
            if always_write or json.dumps(doc, sort_keys=True) != before:
                self._write(doc)
            return result if result is not None else doc

    def _write(self, doc: Any) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(doc, out, ensure_ascii=False, indent=1, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_dir(self.path.parent)
        stamp = self._stamp()
        if stamp is not None:  # what was just written is the cache: the next read need not parse it again
            with self._mutex:
                self._cached = (stamp, json.loads(json.dumps(doc)))
