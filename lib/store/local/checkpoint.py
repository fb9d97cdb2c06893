"""Checkpoints of the local store's state, so a store opens without replaying the whole log (issue 17).

Replaying the log costs ~60 µs a row (parse the JSON line, decode every value): 6 s at 100,000 rows, paid
by every app server, every ``python -m lib.store`` command and the background workbook writer when they
open the store. A checkpoint is the state as columns (``lib.store.local.columnar``) with the log offset it
covers; a store loads it and reads only the log after that offset.

The file (``.campaign.checkpoint`` beside the log, 0600) is a run of Arrow IPC streams, one per table,
then a JSON footer, then a trailer (the footer's length, its SHA-256, a magic). The footer holds the
format version, the SHA-256 of everything before it, the facts that are not tables (specs, renames …),
and what identifies the log prefix it covers (``LogFile.prefix_identity``: the offset, the count of
lines, the SHA-256 of every byte before the offset, hashed again at each load: ~0.1 s of CPU at 100,000
rows, in a thread beside the decoding). So a log that was replaced, truncated or rewritten anywhere before the offset (a hand "repair" of
one value, of the same length, included) is never read with a stale checkpoint, and a truncated, damaged
or foreign file is never read at all: the store replays the log instead, and the next save writes a good
checkpoint.
Nothing is unpickled: JSON and Arrow only.

Only the holder of the workbook lock writes one (the background writer, after each workbook write:
:func:`save_if_due`), to a temp file that is fsync'ed and renamed over the old one, so a reader sees the
old checkpoint or the new one, whole.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import os
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from lib.core.files import fsync_dir, private_opener
from lib.store.local.columnar import Cut, state_from, state_tables
from lib.store.local.log import LogFile, NoPrefix
from lib.store.local.workbook import TEMP_SUFFIX
from lib.store.state import FREEZE_AFTER_ENTRIES, State

log = logging.getLogger(__name__)

FORMAT = 2  # 2: the whole log prefix hashed, the known keys kept
MAGIC = b"LSCKPT\x00\x01"
_TRAILER = struct.Struct("<Q32s8s")  # footer length, SHA-256 of the footer, magic
#: A checkpoint is written once the log has grown this much past the last one: about 3,000 rows of a
#: 25-field form, a tail that replays in ~0.2 s, while a checkpoint of 100,000 rows costs the writer ~1-2 s.
EVERY_BYTES = 4 * 2**20
_MAX_FOOTER = 256 * 2**20


class Unusable(Exception):
    """A checkpoint that must not be read; ``str()`` says why, in Chinese, for ``verify``."""


@dataclass
class Loaded:
    state: State
    offset: int  # the log bytes the state covers
    lines: int  # the log lines in them


class Checkpoint:
    """The checkpoint file of one store. ``covers``: the log offset of the checkpoint this process loaded or
    wrote (0 when it did neither: none, unusable, or not asked for); ``problem``: why the last load failed."""

    def __init__(self, path: Path):
        self.path = path
        self.covers = 0
        self.problem = ""

    def load(self, log_file: LogFile) -> Loaded | None:
        """The state the checkpoint holds, when it is usable with ``log_file`` as it is now; else None (and
        ``problem`` says why unless there is no file), so the caller replays the log."""
        self.problem = ""
        try:
            loaded = read(self.path, log_file, freeze=True)
        except FileNotFoundError:
            return None
        except (Unusable, OSError) as err:  # OSError: a file this account may not read, a folder in its place …
            self.problem = str(err)
            log.warning("checkpoint %s not used, replaying the log: %s", self.path, err)
            return None
        self.covers = loaded.offset
        return loaded

    def due(self, offset: int) -> bool:
        """Whether a store whose log reached ``offset`` should write a new checkpoint: the log grew by
        :data:`EVERY_BYTES` past the one it knows, or the file on disk is not one it could use."""
        if offset - self.covers >= EVERY_BYTES:
            return True
        return self.covers == 0 and offset > 0 and self.path.exists()

    def save(self, store: Any) -> int:
        """Write the state of ``store`` (a ``LocalStore``) now; returns the offset it covers. Caller holds
        the workbook lock."""
        with store.reading() as state:  # a consistent cut, taken at once: nothing is copied but lists
            offset, lines = store.log.offset, store.log.lines_read
            cut = Cut.of(state)
        try:  # one pass over the log prefix, outside the state's lock: those bytes never change
            identity = store.log.prefix_identity(offset)
        except NoPrefix as err:  # replaced under us: write nothing
            raise RuntimeError(f"the log no longer holds what the store read: {err}") from None
        meta, tables = state_tables(cut)
        del cut
        write(self.path, {**identity, "lines": lines}, meta, tables)
        self.covers = offset
        return offset


def save_if_due(store: Any) -> None:
    """Write a checkpoint of ``store``'s state when enough of the log is not covered by the last one
    (:meth:`Checkpoint.due`). Called by the workbook writer (``materialiser.materialise``) while it holds
    the workbook lock; a store without a checkpoint (another kind) is left alone."""
    checkpoint = getattr(store, "checkpoint", None)
    if isinstance(checkpoint, Checkpoint) and checkpoint.due(store.log.offset):
        checkpoint.save(store)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while a store loads (from a checkpoint or the log): 100,000 rows are millions of
    new objects, none of them garbage, and the collector's passes over them took 40 % of the load (the
    store freezes what it loaded afterwards: ``state.freeze_loaded``)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


# --- the file ---------------------------------------------------------------------------------------


def write(path: Path, identity: dict[str, Any], meta: dict[str, Any], tables: dict[str, pa.Table]) -> None:
    """Write a checkpoint file: a temp file beside ``path``, fsync'ed, renamed over it."""
    tmp = path.with_name(path.name + TEMP_SUFFIX)
    digest = hashlib.sha256()
    sections: dict[str, list[int]] = {}
    fd = private_opener(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        with os.fdopen(fd, "wb") as out:
            fd = -1
            pos = 0
            for name, table in tables.items():
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table)
                data = sink.getvalue()
                out.write(data)
                digest.update(data)
                sections[name] = [pos, data.size]
                pos += data.size
                del data, sink
            footer = json.dumps({"format": FORMAT, "log": identity, "payload": digest.hexdigest(),
                                 "sections": sections, "state": meta}, ensure_ascii=False).encode("utf-8")
            out.write(footer)
            out.write(_TRAILER.pack(len(footer), hashlib.sha256(footer).digest(), MAGIC))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def read_footer(path: Path) -> tuple[dict[str, Any], int]:
    """The footer of the checkpoint at ``path`` and where it starts. Raises Unusable for a file that is
    truncated, damaged or of another format; FileNotFoundError when there is none."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < _TRAILER.size:
            raise Unusable(f"检查点文件 {path.name} 不完整（{size} 字节）")
        f.seek(size - _TRAILER.size)
        length, footer_hash, magic = _TRAILER.unpack(f.read(_TRAILER.size))
        if magic != MAGIC:
            raise Unusable(f"检查点文件 {path.name} 格式不对或已损坏（结尾标记不符）")
        start = size - _TRAILER.size - length
        if length > _MAX_FOOTER or start < 0:
            raise Unusable(f"检查点文件 {path.name} 已损坏（目录长度 {length} 不合理）")
        f.seek(start)
        raw = f.read(length)
    if hashlib.sha256(raw).digest() != footer_hash:
        raise Unusable(f"检查点文件 {path.name} 已损坏（目录校验不符）")
    try:
        footer = json.loads(raw)
        version = footer["format"]
    except (ValueError, TypeError, KeyError) as err:
        raise Unusable(f"检查点文件 {path.name} 已损坏（目录无法读取：{err}）") from None
    if version != FORMAT:
        raise Unusable(f"检查点文件 {path.name} 的格式版本为 {version!r}，本程序读取版本 {FORMAT}")
    return footer, start


def read(path: Path, log_file: LogFile, *, freeze: bool = False) -> Loaded:
    """The state in the checkpoint at ``path``, after checking it is whole and covers a prefix of
    ``log_file`` as it is now. Raises Unusable (FileNotFoundError when there is none).

    ``freeze`` (a store's load): a state of :data:`FREEZE_AFTER_ENTRIES` entries or more is moved out of the
    cyclic collector's reach as soon as it is made, as ``state.freeze_loaded`` does after the store's catch-up,
    but with the collection before the decoding, while the heap holds only what the process had: 0.02 s
    instead of 0.1 s at 100,000 rows (the load makes no cyclic garbage); the catch-up's collection then
    walks only what the log's tail added."""
    footer, start = read_footer(path)
    try:
        identity = footer["log"]
        offset, lines = int(identity["offset"]), int(identity["lines"])
    except (ValueError, TypeError, KeyError) as err:
        raise Unusable(f"检查点文件 {path.name} 已损坏（日志位置无法读取：{err}）") from None
    # The log prefix is hashed while the tables are read (hashing and reading release the GIL: on a machine
    # with a core to spare its 0.1 s of 100,000 rows is off the load's path); the state is used only if it matches.
    with _Background(log_file.prefix_identity, offset) as prefix:
        source = pa.memory_map(str(path))
        try:
            payload = source.read_buffer(start)
            # Checked before a table is read: Arrow is never asked to parse damaged bytes.
            if hashlib.sha256(memoryview(payload)).hexdigest() != footer.get("payload"):
                raise Unusable(f"检查点文件 {path.name} 已损坏（内容校验不符）")
            try:
                tables = {name: pa.ipc.open_stream(payload.slice(pos, length)).read_all()
                          for name, (pos, length) in footer["sections"].items()}
                many = freeze and tables["audit"].num_rows >= FREEZE_AFTER_ENTRIES
                if many:
                    gc.collect()
                with collector_paused():
                    state = state_from(footer["state"], tables)
                if many:
                    gc.freeze()
            except Exception as err:  # noqa: BLE001 - whatever a whole file of the right version fails on: replay instead
                raise Unusable(f"检查点文件 {path.name} 内容无法读取（{type(err).__name__}: {err}）") from None
            del tables, payload
        finally:
            source.close()
    try:
        expected = prefix.result()
    except NoPrefix as err:
        raise Unusable(f"检查点不能用于当前日志：{err}") from None
    if any(identity.get(k) != v for k, v in expected.items()):
        raise Unusable(f"检查点与日志 {log_file.path.name} 的前 {offset} 字节不符：日志被替换或改写过（包括手工改动某一行）")
    return Loaded(state, offset, lines)


class _Background:
    """``fn(*args)`` run in a thread of its own for the span of a ``with`` block, which waits for it on
    leaving; ``result()`` is its return value, or raises what it raised."""

    def __init__(self, fn: Callable[..., Any], *args: Any):
        self._outcome: list[Any] = []

        def run() -> None:
            try:
                self._outcome.append((fn(*args), None))
            except BaseException as err:  # noqa: BLE001 - handed to the caller of result()
                self._outcome.append((None, err))

        self._thread = threading.Thread(target=run, name="checkpoint-log-hash", daemon=True)

    def __enter__(self) -> _Background:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join()

    def result(self) -> Any:
        value, err = self._outcome[0]
        if err is not None:
            raise err
        return value
