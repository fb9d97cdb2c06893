"""A small JSON file changed safely by several processes: a file lock (``filelock``), temp file, fsync,
atomic replace.

Reads are served from memory until the file's size or mtime changes (one ``stat`` per read).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

from lib.core.files import FILE_MODE, fsync_dir, private_dir


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
        # flock: the OS drops it when its holder dies, so a killed process never leaves the file locked
        # (hence no soft-lock fallback). One descriptor per thread, so threads exclude each other too.
        self._lock = FileLock(self.path.parent / f".{self.path.name}.lock", mode=FILE_MODE, fallback_to_soft=False)
        self._mutex = threading.Lock()
        self._cached: tuple[tuple[int, int], Any] | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def read(self) -> Any:
        """The document (a fresh copy the caller may change), or ``default()`` when there is no file."""
        stamp = self._stamp()
        if stamp is None:
            return self._default()
        with self._mutex:
            if self._cached is None or self._cached[0] != stamp:
                self._cached = (stamp, json.loads(self.path.read_text(encoding="utf-8")))
            return json.loads(json.dumps(self._cached[1]))

    def update(self, change: Callable[[Any], Any], *, always_write: bool = False) -> Any:
        """Under the lock: read, ``change(doc)`` in place (its return value is returned), write atomically
        (not at all when ``change`` left the document as it was, unless ``always_write``: a caller whose
        every call must cost the same, whatever it changed, such as a sign-in attempt)."""
        with self._lock:
            doc = self.read()
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
