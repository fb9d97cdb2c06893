"""Files on disk: only the app's account may read them, and a rename or creation is made durable.

The log, the workbook, the lock and stamp files, the Sheets outbox and the accounts file hold
personal data and password hashes, so each is created 0600 in a 0700 folder, whatever the process
umask would allow (a umask can only take permissions away, so it cannot loosen these). Files and
folders made by an older version with looser modes are tightened when the app opens them.

>>> import tempfile, pathlib, stat
>>> folder = private_dir(pathlib.Path(tempfile.mkdtemp()) / "data")
>>> with open(folder / "x.json", "w", opener=private_opener) as f:
...     _ = f.write("{}")
>>> oct(stat.S_IMODE(folder.stat().st_mode)), oct(stat.S_IMODE((folder / "x.json").stat().st_mode))
('0o700', '0o600')
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path | str) -> Path:
    """Create ``path`` (and missing parents) if needed and make it 0700; return it as a Path.

    Only the last folder is made private: its parents may be shared places such as /srv.
    """
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_opener(path: str | os.PathLike[str], flags: int) -> int:
    """``os.open`` that creates a file 0600 and tightens an existing one to 0600.

    Works as the ``opener`` of built-in ``open``: ``open(p, "w", opener=private_opener)``.
    """
    fd = os.open(path, flags, FILE_MODE)
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & ~FILE_MODE:
            with contextlib.suppress(PermissionError):  # not our file (another account's): leave it
                os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _tighten(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) & ~mode:
        with contextlib.suppress(PermissionError):  # a folder owned by another account: leave it
            os.chmod(path, mode)


def fsync_dir(path: Path) -> None:
    """Make a rename or file creation in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
