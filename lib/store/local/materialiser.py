"""Keeping the workbook up to date: one materialise step, and the background process that runs it.

Writing a 20,000-row workbook takes seconds of CPU; in the app's process that would hold the GIL
and stall every append. So each store with ``background=True`` starts a child
(``python -m lib.store materialise <dir> --serve``). Children of all processes sharing a folder
compete for the workbook lock: the holder keeps the file current, the others wait on standby
(without loading anything) and take over if it dies. A child stops when its parent closes the
pipe to it, which also happens when the parent is killed.

The pipe also carries the store's :data:`~lib.store.local.external.EditCheck` (the app's rules for cells a
person edits), since the child imports those edits: its first line is the check, pickled and
base64-encoded (an empty line for none). Only the parent writes that pipe, so the child trusts it.
"""

from __future__ import annotations

import atexit
import base64
import os
import pickle
import subprocess
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from lib.store.local import checkpoint
from lib.store.local.external import EditableStore, EditCheck, NotSettled, import_external_edits
from lib.store.local.log import ProcessLock
from lib.store.local.workbook import (
    WorkbookParts,
    install,
    layout,
    matching_stamp,
    remove_stale_temps,
    save_index,
    write_workbook,
)

_PROJECT_ROOT = Path(__file__).resolve().parents[3]
_POLL = 0.2  # seconds between looks at the log's size; a stat, so cheap


class WorkbookStore(EditableStore, Protocol):
    """What writing the workbook needs of the local store (``LocalStore`` is one): importing edits,
    and the workbook's lock."""

    workbook_lock: ProcessLock

    def close(self) -> None: ...


#: Opens the store the background writer keeps current: ``(data_dir, workbook_name, *, background,
#: edit_check, workbook_lock)`` -> store (``LocalStore``; passed in by ``python -m lib.store``).
OpenStore = Callable[..., WorkbookStore]


@dataclass
class _Written:
    """What this process wrote last for one store: the parts it keeps (only changed blocks are built
    again), and each form's ``State.generation`` then (events do not bump it: a tail of events alone
    leaves it equal)."""

    parts: WorkbookParts = field(default_factory=WorkbookParts)
    generation: dict[str, int] | None = None


# Per open store, dropped with it: the background writer's store lives as long as the writer, a store
# without one (a command, a test) keeps its parts until closed and collected.
_WRITTEN: weakref.WeakKeyDictionary[Any, _Written] = weakref.WeakKeyDictionary()


def _written(store: WorkbookStore) -> _Written:
    memory = _WRITTEN.get(store)
    if memory is None:
        memory = _WRITTEN[store] = _Written()
    return memory


def materialise(store: WorkbookStore, *, not_imported: str | None = None,
                lock_timeout: float | None = None, wait: bool = True) -> dict[str, Any]:
    """Write the workbook from everything in the log now; return the stamp of the new file.

    A file on disk that we did not write (a person saved it in Excel/WPS) is first imported as
    audited "外部编辑" updates or, when ``not_imported`` gives the reason not to (a rebuild),
    only kept as a backup copy; a file still being written (a save in place) is waited for or, without
    ``wait``, left as it is: :class:`~lib.store.local.external.NotSettled` is raised and nothing
    written. The sheets' blocks of rows this process built for the store before, or, at its first write,
    those of the file on disk if we wrote it (its index says where they lie), and that did not change are
    copied, not built again.
    Raises TimeoutError if another process holds the workbook lock past ``lock_timeout``.
    """
    if not store.workbook_lock.acquire(lock_timeout):
        raise TimeoutError("workbook lock busy")
    try:
        path = store.workbook_path
        remove_stale_temps(path.parent)
        if path.exists() and matching_stamp(path) is None:
            import_external_edits(store, not_imported=not_imported, wait=wait)
        store.refresh()
        with store.reading() as state:  # a consistent cut; Records are immutable, so lists of them stay valid
            offset = store.log.offset
            sheets = layout(state.specs, state.columns)
            rows = {s.form_id: list(state.rows.get(s.form_id, {}).values()) for s in sheets}
            audit = list(state.audit)
            titles = {f: spec.title for f, spec in state.specs.items()}
            labels = {f: state.labels(f) for f in state.specs}
            displays = {f: state.displays(f) for f in state.specs}
            generation = dict(state.generation)
        memory = _written(store)
        memory.generation = None  # until installed: a failed write leaves nothing taken as written
        memory.parts.resume(path)  # a restarted writer: the blocks on disk, not all built again
        tmp = write_workbook(path, sheets, rows, audit, titles, labels, displays, memory.parts)
        try:
            save_index(path, tmp, memory.parts)
        except OSError:  # the index is a shortcut: without it the next writer to start builds every block
            traceback.print_exc(file=sys.stderr)
        stamp = install(path, tmp, offset, sheets)
        memory.generation = generation
        try:
            checkpoint.save_if_due(store)
        except Exception:  # noqa: BLE001 - a checkpoint is a shortcut: the log stays the truth, the workbook is written
            traceback.print_exc(file=sys.stderr)
        return stamp
    finally:
        store.workbook_lock.release()


def serve(data_dir: Path, workbook_name: str, debounce: float, control: BinaryIO, open_store: OpenStore) -> None:
    """The background writer's loop; returns when ``control`` reaches EOF. The first line read from
    ``control`` is the edit check (see the module docstring); after it, any byte asks for an
    immediate write (flush_workbook). ``open_store`` opens the store once this process holds the
    workbook lock.

    Audit events alone (sign-in, sign-out, a download) do not make it write: they reach the file with
    the next data change, an explicit ask, or the last write when it stops."""
    edit_check = _loads_check(control.readline(_MAX_CHECK_LINE))
    stop, wake = threading.Event(), threading.Event()

    def listen() -> None:
        while control.read(1):
            wake.set()
        stop.set()
        wake.set()

    threading.Thread(target=listen, daemon=True, name="materialiser-control").start()
    # Standby, without loading anything, until this process may write the workbook; the lock is
    # then held for the rest of its life.
    lock = ProcessLock(data_dir / f".{workbook_name}.lock")
    while not lock.acquire(timeout=0):
        if stop.is_set():
            lock.close()
            return
        wake.wait(0.5)
        wake.clear()
    # The lock already held, not a second one: a second flock of ours on the file would block on the first.
    store = open_store(data_dir, workbook_name, background=False, edit_check=edit_check, workbook_lock=lock)
    try:
        stamp = matching_stamp(store.workbook_path)
        written = stamp["offset"] if stamp else -1
        failures = 0  # consecutive failed writes
        while not stop.is_set():
            asked = wake.wait(_POLL)
            wake.clear()
            if not _out_of_date(store, written) or (not asked and not stop.is_set() and _events_only(store)):
                continue
            if not asked and not stop.is_set():
                _settle(store, debounce)
            written, failures = _write_surviving_errors(store, written, failures, stop)
        if _out_of_date(store, written):
            _write_surviving_errors(store, written, failures, stop)
    finally:
        store.close()


def _out_of_date(store: WorkbookStore, written: int) -> bool:
    store.refresh()
    return store.log.offset != written or matching_stamp(store.workbook_path) is None


def _events_only(store: WorkbookStore) -> bool:
    """Whether all the log holds beyond the file on disk, which we wrote, is audit events: no form's
    generation moved since this process last wrote it."""
    memory = _WRITTEN.get(store)
    if memory is None or memory.generation is None or matching_stamp(store.workbook_path) is None:
        return False
    with store.reading() as state:
        return state.generation == memory.generation


def _settle(store: WorkbookStore, debounce: float) -> None:
    """Coalesce a burst: wait until the log stops growing for ``debounce`` s (at most 5x that)."""
    deadline = time.monotonic() + 5 * debounce
    size = store.log.size()
    while time.monotonic() < deadline:
        time.sleep(debounce)
        new = store.log.size()
        if new == size:
            return
        size = new


#: Seconds to wait after the 1st, 2nd, 3rd … consecutive failed write (disk full, a hostile file).
_RETRY_DELAYS = (2.0, 10.0, 30.0, 60.0)
#: Failed writes after which a person's edited file is set aside unread (backed up, not imported),
#: so that no file, whatever it holds, can stop the workbook from being written.
_IMPORT_ATTEMPTS = 2


def _write_surviving_errors(store: WorkbookStore, written: int, failures: int,
                            stop: threading.Event) -> tuple[int, int]:
    """One write; returns the offset the workbook now reflects and the count of consecutive failures.
    A person's file still being written is no failure: the next round looks again."""
    reason = "多次尝试导入都失败" if failures >= _IMPORT_ATTEMPTS else None
    try:
        return materialise(store, not_imported=reason, wait=False)["offset"], 0
    except NotSettled:
        return written, failures
    except Exception:  # noqa: BLE001 - a daemon loop: report, wait (longer each time), retry
        traceback.print_exc(file=sys.stderr)
        stop.wait(_RETRY_DELAYS[min(failures, len(_RETRY_DELAYS) - 1)])
        return written, failures + 1


_MAX_CHECK_LINE = 1 << 20  # the first line of the control pipe; a check is a few hundred bytes


def _dumps_check(edit_check: EditCheck | None) -> bytes:
    """The first line of the control pipe (see the module docstring)."""
    if edit_check is None:
        return b"\n"
    try:
        return base64.b64encode(pickle.dumps(edit_check)) + b"\n"
    except (pickle.PicklingError, TypeError, AttributeError) as err:  # the app's mistake: say so at open
        raise TypeError(f"edit_check must pickle: the background writer process gets a copy ({err})") from err


def _loads_check(line: bytes) -> EditCheck | None:
    line = line.strip()
    return pickle.loads(base64.b64decode(line)) if line else None  # only our parent writes this pipe


#: Seconds a stopping writer is given for its last write before it is killed. A command that exits (the
#: demo, migrate) must leave a workbook verify calls 一致: a writer restarted with empty caches writes
#: 100,000 rows whole in seconds on a busy machine, and a kill mid-write leaves the older file behind.
_LAST_WRITE = 120.0


class MaterialiserProcess:
    """Parent-side handle of the background writer child."""

    def __init__(self, data_dir: Path, workbook_name: str, debounce: float, edit_check: EditCheck | None = None):
        self._args = [sys.executable, "-m", "lib.store", "materialise", str(data_dir), "--workbook",
                      workbook_name, "--debounce", str(debounce), "--serve"]
        self._check_line = _dumps_check(edit_check)
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self.ensure_running()
        _LIVE.add(self)

    def ensure_running(self) -> None:
        """Start the child, or restart it if it died."""
        with self._lock:
            if self.proc is not None and self.proc.poll() is None:
                return
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
            proc = subprocess.Popen(self._args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                    cwd=_PROJECT_ROOT, env=env)
            try:  # before any nudge can reach the pipe: the check is its first line
                proc.stdin.write(self._check_line)
                proc.stdin.flush()
            except OSError:
                pass  # the child died at once; the next ensure_running starts another
            self.proc = proc

    def nudge(self) -> None:
        """Ask for a write now instead of after the debounce."""
        proc = self.proc
        if proc is None or proc.stdin is None:
            return
        try:
            proc.stdin.write(b"f")
            proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass

    def stop(self, timeout: float = _LAST_WRITE) -> None:
        """Close the pipe (the child makes a last write if behind, then exits); kill if it hangs."""
        _LIVE.discard(self)
        with self._lock:
            proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_LIVE: weakref.WeakSet[MaterialiserProcess] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for handle in list(_LIVE):
        handle.stop()
