"""Reading workbook bytes into rows of cell values, in this process or in a bounded subprocess.

``read_cells`` is the reader (python-calamine; .xlsx, .xls, .ods), for workbooks this app wrote.
``read_bounded`` is for uploads: it runs the bounds check and the reader in a fresh Python process
with an address-space limit (RLIMIT_AS) and a time limit, so a file that still costs too much — a
case the check cannot see, such as a .xls, or a reader bug — ends that process, never the
server: calamine allocates a sheet's whole rectangle at once, and a Rust allocation failure aborts
the process that made it. The subprocess imports no pandas or Streamlit (about 0.1 s to start)
and each upload is read once (the page keeps the result by the upload's hash).

The subprocess answers on stdout with JSON; values JSON lacks (dates, times) are tagged, and NaN and
infinities pass through so the caller can name the cell that holds them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, NamedTuple

from lib.xlsx.bounds import ExcelReadError, WorkbookLimits, check_size, check_workbook, unreadable

log = logging.getLogger(__name__)

_ROOT = str(Path(__file__).resolve().parents[2])
#: At most this many uploads are read at once per server process, so a burst of uploads costs at
#: most this many times the memory limit.
READ_SLOTS = 2
_slots = threading.BoundedSemaphore(READ_SLOTS)
#: Merged ranges kept per sheet: enough to name where they are, bounded like everything an upload controls.
_MAX_MERGES = 1_000
_CHILD = "import sys; sys.path.insert(0, sys.argv[1]); from lib.xlsx.reader import child_main; child_main()"


def cell_value(value: Any) -> Any:
    """A calamine cell as the value a person typed: blanks None, whole floats int.

    >>> cell_value(2019.0), cell_value(""), cell_value(1.5), cell_value(float("inf"))
    (2019, None, 1.5, inf)
    """
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)  # calamine reports every number as float; 2019.0 is the 2019 a person typed
    return value


class Sheet(NamedTuple):
    """One sheet read: its name, its rows (``rows[i]`` is Excel row ``i + 1``) and its merged ranges,
    each ``((first row, first column), (last row, last column))`` counted from 0 — a merge hides every
    cell but its first, which an import must say rather than read as blanks."""

    name: str
    rows: list[list[Any]]
    merged: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()
    #: Cells holding an error value (#N/A …), which read as blank, and hidden rows: 1-based, from the
    #: bounds check's scan of a .xlsx (``lib.xlsx.bounds.Noticed``); empty for a workbook read unchecked.
    errors: tuple[tuple[int, int], ...] = ()
    hidden: tuple[int, ...] = ()


def read_cells(data: bytes, limits: WorkbookLimits | None = None) -> list[Sheet]:
    """Every sheet, in workbook order, trailing blank rows dropped. With ``limits``, a sheet larger
    than they allow is refused before its cells become Python objects. Raises ExcelReadError when the
    bytes are not a workbook."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets, area = [], 0
        for name in book.sheet_names:
            sheet = book.get_sheet_by_name(name)
            if limits is not None and sheet.end is not None:
                rows, columns = sheet.end[0] + 1, sheet.end[1] + 1  # the rows below pad from A1
                area += rows * columns
                if rows > limits.max_rows or columns > limits.max_columns or area > limits.max_cells:
                    # a .xls (not checked cell by cell before) or a cell the check placed wrongly
                    raise ExcelReadError("sheet_too_large", sheet=name[:40], rows=rows, columns=columns,
                                         max_rows=limits.max_rows, max_columns=limits.max_columns, limit=limits.max_cells)
            rows = [[cell_value(v) for v in row] for row in sheet.to_python(skip_empty_area=False)]
            while rows and all(v is None for v in rows[-1]):
                rows.pop()
            merged = tuple((tuple(a), tuple(b)) for a, b in (sheet.merged_cell_ranges or ())[:_MAX_MERGES])
            sheets.append(Sheet(name, rows, merged))
    except ExcelReadError:
        raise
    except MemoryError:
        raise
    except BaseException as exc:  # calamine raises several unrelated types, a Rust panic a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise unreadable(exc) from None
    return sheets


def read_bounded(data: bytes, limits: WorkbookLimits) -> list[Sheet]:
    """``read_cells`` of an upload, checked against ``limits`` and run in a subprocess bounded by
    them. Raises ExcelReadError (a coded, Chinese refusal) for anything but a readable workbook."""
    check_size(data, limits)  # before copying the bytes into a pipe
    if not _slots.acquire(timeout=limits.seconds):
        raise ExcelReadError("busy")
    try:
        header = json.dumps({"limits": limits.__dict__}).encode() + b"\n"
        done = subprocess.run([sys.executable, "-I", "-B", "-c", _CHILD, _ROOT], input=header + data,
                              capture_output=True, timeout=limits.seconds, check=False)
    except subprocess.TimeoutExpired:
        raise ExcelReadError("read_timeout", limit=f"{limits.seconds:g}") from None
    finally:
        _slots.release()
    try:
        answer = json.loads(done.stdout, object_hook=_untag)
    except ValueError:
        answer = None
    if done.returncode != 0 or not isinstance(answer, dict):
        # ended by a signal: SIGXCPU at the CPU limit, else an allocation over the address-space
        # limit that aborted (Rust) or crashed
        log.warning("upload reader exited %s: %s", done.returncode, done.stderr[:500].decode(errors="replace"))
        if done.returncode == -signal.SIGXCPU:
            raise ExcelReadError("read_timeout", limit=f"{limits.seconds:g}")
        raise ExcelReadError("read_memory", limit=limits.memory_bytes >> 20)
    if "error" in answer:
        if "cause" in answer["params"]:
            log.info("upload unreadable: %s", answer["params"]["cause"])
        raise ExcelReadError(answer["error"], **answer["params"])
    noticed = answer.get("noticed", {})
    return [Sheet(name, rows, tuple((tuple(a), tuple(b)) for a, b in merged),
                  tuple(tuple(e) for e in noticed.get(name, {}).get("errors", ())), tuple(noticed.get(name, {}).get("hidden", ())))
            for name, rows, merged, *_ in answer["sheets"]]


def child_main() -> None:
    """The subprocess: limit itself, check, read, answer with JSON on stdout."""
    header = sys.stdin.buffer.readline()
    limits = WorkbookLimits(**json.loads(header)["limits"])
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    cpu = int(limits.seconds) + 1  # the parent's timeout also covers time spent waiting
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    data = sys.stdin.buffer.read()
    try:
        noticed = check_workbook(data, limits)
        answer: dict[str, Any] = {"sheets": read_cells(data, limits),
                                  "noticed": {name: {"errors": n.errors, "hidden": n.hidden} for name, n in noticed.items()}}
        del data
        text = json.dumps(answer, default=_tag, ensure_ascii=False)
        if len(text) > limits.max_unzipped_bytes:  # text repeated by many cells, read back here
            raise ExcelReadError("unzipped_too_big", size=f"{len(text) / (1 << 20):.1f}",
                                 limit=f"{limits.max_unzipped_bytes / (1 << 20):.1f}")
    except ExcelReadError as exc:
        text = json.dumps({"error": exc.code, "params": exc.params}, ensure_ascii=False)
    except MemoryError:
        text = json.dumps({"error": "read_memory", "params": {"limit": limits.memory_bytes >> 20}})
    except Exception as exc:  # anything else hostile bytes provoke is a refusal, never a crash
        refused = unreadable(exc)
        text = json.dumps({"error": refused.code, "params": refused.params}, ensure_ascii=False)
    sys.stdout.buffer.write(text.encode())


def _tag(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$t": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": value.total_seconds()}
    return str(value)


def _untag(obj: dict) -> Any:
    if len(obj) == 1:
        (key, value), = obj.items()
        if key == "$dt":
            return dt.datetime.fromisoformat(value)
        if key == "$d":
            return dt.date.fromisoformat(value)
        if key == "$t":
            return dt.time.fromisoformat(value)
        if key == "$td":
            return dt.timedelta(seconds=value)
    return obj
