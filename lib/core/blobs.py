"""Content-addressed files (a ``file`` field's photos and PDFs) under the data folder: one file per
SHA-256 of its bytes, written once, atomically, readable only by the app's account.

A file lives at ``<folder>/<first two hex digits>/<all 64>``: the name is the hash of the content, so the
same photo uploaded twice is stored once, a name can never be a path (only 64 hex digits are taken),
and a stored file is never rewritten. A row holds the hash (lib/forms/types.py's ``file`` type); this
module neither checks what a file is (lib.forms.types.check_file does, before ``put``) nor who may read
it (the read-only view asks lib.auth.policy.can first). Both store backends keep their files here:
the Google Sheets backend holds only the hash, name, type and size in its cell.

A file is stored when it is picked, before its row is saved (the form shows it at once); files of rows
never saved are collected by ``sweep``: those no row names (``named_files``) and untouched for a day
(``python -m lib.store gc-files``, which reads the rows of the backend the settings name: under Google
Sheets the local log is not the store, and the files uploaded since are named only in the spreadsheet). Storing a file again marks it as wanted now, so a file picked
anew for an unsaved row is not swept from under it.

>>> import tempfile, pathlib
>>> blobs = Blobs(pathlib.Path(tempfile.mkdtemp()) / "files")
>>> digest = blobs.put(b"%PDF-1.4 ...")
>>> digest[:12], blobs.put(b"%PDF-1.4 ...") == digest, blobs.read(digest)
('73491aa2c82f', True, b'%PDF-1.4 ...')
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lib.core.errors import AppError
from lib.core.files import fsync_dir, private_dir, private_opener

_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
#: How long a file no row names is kept: an unsaved form is long closed by then.
DAY_SECONDS = 24 * 3600


class BlobMissing(AppError):
    """A stored file a row names is not in the folder (a data folder copied without its files)."""

    code = "blob_missing"


class Blobs:
    """The files of one data folder, by SHA-256."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)

    def path(self, digest: str) -> Path:
        """Where the file ``digest`` lives. Anything but 64 lowercase hex digits is refused with
        ValueError, so no value can reach outside the folder ("../x", an absolute path, a NUL)."""
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ValueError("not a SHA-256 hex digest")
        return self.folder / digest[:2] / digest

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def require(self, digest: str) -> None:
        """BlobMissing unless the file ``digest`` is in the folder (its bytes are not read)."""
        if not self.has(digest):
            raise BlobMissing(f"文件 {digest[:12]}… 不在数据目录中（可能复制数据时遗漏了 files 文件夹），请联系管理员")

    def put(self, data: bytes) -> str:
        """Store ``data`` (if not stored already) and return its SHA-256. Written to a temporary file
        in the same folder, flushed to disk, then renamed into place and the folder synced: a crash
        leaves the file whole or absent, never part of it under its hash."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file():
            with contextlib.suppress(FileNotFoundError):  # swept meanwhile: stored below
                os.utime(target)  # wanted now: ``sweep`` leaves it a day
                return digest
        shelf = private_dir(private_dir(self.folder) / digest[:2])
        temp = shelf / f".{digest}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        try:
            with open(temp, "xb", opener=private_opener) as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)  # two writers of one hash write the same bytes: either rename wins
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        fsync_dir(shelf)
        return digest

    def read(self, digest: str) -> bytes:
        """The bytes of the file ``digest``; BlobMissing when absent or no longer matching its hash."""
        self.require(digest)
        data = self.path(digest).read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:  # a disk error or a hand edit: never serve other bytes
            raise BlobMissing(f"文件 {digest[:12]}… 的内容与记录不符（已损坏），请联系管理员")
        return data

    def stored(self) -> Iterator[tuple[str, Path]]:
        """Every file in the folder (its hash and path), and the temporary files a crash left (as
        their path's name), in no order."""
        if not self.folder.is_dir():
            return
        for shelf in self.folder.iterdir():
            if shelf.is_dir() and len(shelf.name) == 2:
                for path in shelf.iterdir():
                    yield path.name, path

    def sweep(self, keep: Iterable[str], *, older_than: float = DAY_SECONDS, now: float | None = None,
              dry_run: bool = False) -> list[str]:
        """Delete the files whose hash is not in ``keep`` and that were last stored more than
        ``older_than`` seconds before ``now``, and the temporary files of an interrupted ``put`` as old;
        return their names. ``dry_run``: only say which.

        >>> import tempfile, pathlib
        >>> blobs = Blobs(pathlib.Path(tempfile.mkdtemp()) / "files")
        >>> kept, dropped = blobs.put(b"kept"), blobs.put(b"dropped")
        >>> blobs.sweep({kept}, now=time.time()), blobs.sweep({kept}, now=time.time() + DAY_SECONDS + 1) == [dropped]
        ([], True)
        >>> blobs.has(kept), blobs.has(dropped)
        (True, False)
        """
        keep = set(keep)
        cutoff = (time.time() if now is None else now) - older_than
        gone = []
        for name, path in self.stored():
            if name in keep:
                continue
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if not dry_run:
                    path.unlink()
            except FileNotFoundError:  # put's own temporary file, renamed or removed meanwhile
                continue
            gone.append(name)
        return sorted(gone)


def named_files(values: Any) -> set[str]:
    """The hashes a row's values (or any nesting of dicts and lists of them) name: every ``sha256`` of
    a dict, the shape of a ``file`` answer item.

    >>> sorted(named_files({"photos": [{"sha256": "a" * 64, "name": "x.jpg"}], "n": 3, "t": [[{"sha256": "b" * 64}]]}))[0][:3]
    'aaa'
    """
    found: set[str] = set()
    stack = [values]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            digest = value.get("sha256")
            if isinstance(digest, str) and _SHA256.fullmatch(digest):
                found.add(digest)
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return found
