"""Edits a person saved into the workbook (Excel, WPS, LibreOffice) while the app runs.

The store never overwrites such a file silently, and a file opened before the app's last rewrite
never undoes what the app changed since. Before the next rewrite the store:

1. waits until the file has stayed unchanged for :data:`SETTLE` seconds (an editor or script that saves
   in place truncates the file and rewrites it: a copy taken meanwhile is a fragment), copies it (0600),
   checks it did not change while copied, and reads the copy; a file that cannot be read is left in
   place and tried again while it changes, and is set aside only once it has stayed unchanged and
   unreadable for :data:`UNREADABLE_PATIENCE` seconds (a slow save that pauses is read once it ends);
2. finds, for each row (by 记录编号), the revision the person's file shows — its 版本 cell — and
   reads that version of the row from the log. Only field cells that differ from THAT version are
   the person's edits; a cell the person did not touch is never imported, however old it is;
3. applies each row's edits as one audited update by actor "外部编辑", except fields the app has
   changed since that revision (the app's value wins) and cells the store cannot take (a
   5,000-digit number, text in a date column, any edit of a table cell — it shows the table's
   rows as text, which cannot say a value's type, so a table is changed in the app: reported
   for that cell, the rest imported);
   with an :data:`EditCheck` (the app passes the form's rules; the store knows no form), also
   except the cells the check refuses (reported for that cell) and every cell of a row the check
   locks (a reviewed row: named in the audit, left as it is);
4. never imports a system column (状态, 版本, 填报单位 …): a status moves only through the review
   functions;
5. keeps the copy as ``campaign.external-YYYYmmdd-HHMMSS-ffffff.xlsx`` (the newest
   :data:`MAX_BACKUPS` are kept) and records one 外部编辑 event saying what was imported, what was
   ignored and why, and where the copy is — unless the file differs from the log in nothing (a
   re-save by LibreOffice), which leaves no trace at all.

Rows without a known 记录编号 (new rows typed in Excel) and deleted rows are not imported:
records are created and withdrawn in the app.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lib.core.files import private_opener
from lib.core.records import Actor, Record
from lib.store.base import SYSTEM_COLUMNS, ConflictError, InvalidValue
from lib.store.codec import from_cell, kind_of, same_cell, same_value, validate_values
from lib.store.local.log import LogFile
from lib.store.local.workbook import MAX_READ_BYTES, TEMP_SUFFIX, read_limits, read_sheets, read_stamp
from lib.store.state import State
from lib.xlsx.bounds import ExcelReadError

#: Who an edit made directly in the workbook is attributed to.
EXTERNAL_ACTOR = Actor(account="外部编辑", role="system")
_ACTION = "外部编辑"
#: How many copies of externally edited workbooks are kept (older ones are deleted).
MAX_BACKUPS = 20
_LISTED = 20  # cells named per kind of finding in the audit note; the rest are counted
_HEADER = dict(SYSTEM_COLUMNS)
#: Seconds a file that is not ours must have stayed unchanged (size, mtime, inode) before it is copied.
SETTLE = 1.0
#: Seconds a file that cannot be read must have stayed unchanged before it is set aside and written over.
UNREADABLE_PATIENCE = 30.0


class NotSettled(Exception):
    """The person's file is still being written, or could not be read and may still be: nothing was
    imported, backed up or written over; try again in ``retry_in`` seconds."""

    def __init__(self, retry_in: float):
        super().__init__(f"工作簿正被其他程序写入或尚不完整，{retry_in:.1f} 秒后再试")
        self.retry_in = retry_in


# Per workbook path, in this process: the file last seen and since when (monotonic), and the file that
# last could not be read (not read again until it changes or UNREADABLE_PATIENCE has passed).
_SEEN: dict[str, tuple[tuple[int, int, int], float]] = {}
_UNREADABLE: dict[str, tuple[int, int, int]] = {}


def _quiet(path: Path) -> tuple[float, tuple[int, int, int]]:
    """How long the file has stayed as it is now (s), and what identifies it now. Its own times say
    so at once; what this process saw covers a clock or file system whose times cannot be trusted."""
    st = os.stat(path)
    ident = (st.st_size, st.st_mtime_ns, st.st_ino)
    now = time.monotonic()
    seen = _SEEN.get(str(path))
    if seen is None or seen[0] != ident:
        seen = _SEEN[str(path)] = (ident, now)
    return max(now - seen[1], time.time() - max(st.st_mtime, st.st_ctime)), ident


@dataclass(frozen=True)
class EditRuling:
    """What the app's rules say about a person's edit of one row.

    ``locked``: when not empty, why no cell of the row may change (e.g. it was approved); else
    ``values`` are the fields to import, as the app would store them (parsed, and what they
    change, such as a calculated field), and ``refused`` maps each field not imported to why.
    """

    values: dict[str, Any] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    locked: str = ""


#: The app's rules for workbook edits: given a row as it is now and the person's changed fields
#: (as the store reads the cells), the ruling. It must pickle (the background writer process gets
#: a copy, see lib.store.local.materialiser) and must not raise for any values.
EditCheck = Callable[[Record, dict[str, Any]], EditRuling]


class EditableStore(Protocol):
    """What importing a person's edits needs of the local store (``LocalStore`` is one; it passes
    itself, so this module never imports the store)."""

    workbook_path: Path
    edit_check: EditCheck | None
    log: LogFile
    state: State

    def refresh(self) -> None: ...

    def reading(self) -> AbstractContextManager[State]: ...

    def get(self, form_id: str, row_id: str) -> Record: ...

    def update_as(self, form_id: str, row_id: str, *, action: str | None, base_rev: int, actor: Actor,
                  values: dict[str, Any] | None = None, status: str | None = None, note: str = "") -> Record: ...

    def log_event(self, actor: Actor, action: str, *, form_id: str = "", row_id: str = "", note: str = "") -> None: ...

    def replay(self, apply: Callable[[dict[str, Any]], None], upto: int) -> None: ...


@dataclass
class Edit:
    """The person's changed fields of one row, relative to ``base`` (the version their file shows)."""

    form_id: str
    base: Record
    values: dict[str, Any]


@dataclass
class Findings:
    """What comparing the file with the log found: the edits, and every cell not imported and why."""

    edits: list[Edit] = field(default_factory=list)
    system: list[str] = field(default_factory=list)  # system cells the person changed (never imported)
    refused: list[str] = field(default_factory=list)  # cells whose value the store cannot take
    rejected: list[str] = field(default_factory=list)  # cells the app's rules refuse (EditCheck)
    locked: list[str] = field(default_factory=list)  # rows the app's rules keep as they are (EditCheck)
    overridden: list[str] = field(default_factory=list)  # fields the app changed since the file's revision
    problems: list[str] = field(default_factory=list)  # sheets or rows that could not be matched
    busy: list[str] = field(default_factory=list)  # rows the app kept changing while we applied the edit
    applied: int = 0  # rows changed

    def anything(self) -> bool:
        return bool(self.applied or self.system or self.refused or self.rejected or self.locked or self.overridden
                    or self.problems or self.busy)

    def note(self, backup: str) -> str:
        parts = [f"检测到工作簿被外部修改，已导入 {self.applied} 行的修改"]
        if self.system:
            parts.append(f"系统列不从工作簿导入（状态只能通过审核功能改变），已忽略：{_listed(self.system)}")
        if self.overridden:
            parts.append(f"这些字段在该文件写出后已在系统中修改，以系统为准，已忽略：{_listed(self.overridden)}")
        if self.refused:
            parts.append(f"这些单元格的修改未导入：{_listed(self.refused)}")
        if self.rejected:
            parts.append(f"这些单元格不符合表单的填报规则，未导入：{_listed(self.rejected)}")
        if self.locked:
            parts.append(f"这些记录不能在工作簿中修改，其修改均未导入，记录保持原样：{_listed(self.locked)}")
        if self.busy:
            parts.append(f"这些记录在导入时正被系统连续修改，未导入，请稍后重新编辑：{_listed(self.busy)}")
        parts += self.problems
        return "；".join(parts) + f"；修改后的文件已备份为 {backup}。"


def _listed(items: list[str]) -> str:
    shown = "、".join(items[:_LISTED])
    return shown if len(items) <= _LISTED else f"{shown} 等共 {len(items)} 处"


def import_external_edits(store: EditableStore, *, not_imported: str | None = None, wait: bool = True) -> Path | None:
    """Import the person-edited workbook (unless ``not_imported`` says why not) and back it up;
    return the backup, or None when the file differed from the log in nothing (then nothing is
    written).

    A file still being written (or unreadable, and changed less than UNREADABLE_PATIENCE ago) raises
    :class:`NotSettled` at once without ``wait``; with it, this waits for it (and raises if it keeps
    changing that long). Caller holds the workbook lock.
    """
    deadline = time.monotonic() + UNREADABLE_PATIENCE + 2 * SETTLE + 1.0  # a file that stops changing is done by then
    while True:
        try:
            return _import_settled(store, not_imported)
        except NotSettled as err:
            if not wait or time.monotonic() > deadline:
                raise
            time.sleep(min(max(err.retry_in, 0.01), 1.0))


def _import_settled(store: EditableStore, not_imported: str | None) -> Path | None:
    path = store.workbook_path
    quiet, ident = _quiet(path)
    if quiet < SETTLE:
        raise NotSettled(SETTLE - quiet)
    if _UNREADABLE.get(str(path)) == ident and quiet < UNREADABLE_PATIENCE:
        raise NotSettled(UNREADABLE_PATIENCE - quiet)
    backup = path.with_name(f"{path.stem}.external-{dt.datetime.now():%Y%m%d-%H%M%S-%f}.xlsx")
    if ident[0] > MAX_READ_BYTES:
        # Too big to copy or read: moved aside whole (costs no disk), then rewritten from the log.
        os.replace(path, backup)
        note = (f"工作簿被外部修改，但文件超过 {MAX_READ_BYTES >> 20} MB，未读取也未导入；"
                f"该文件已移作备份 {backup.name}。")
    else:
        note = _import_copy(store, path, backup, not_imported, ident, quiet)
    _SEEN.pop(str(path), None)
    _UNREADABLE.pop(str(path), None)
    if note is None:
        return None
    _prune_backups(path)
    store.log_event(EXTERNAL_ACTOR, _ACTION, note=note)
    return backup


def _import_copy(store: EditableStore, path: Path, backup: Path, not_imported: str | None,
                 ident: tuple[int, int, int], quiet: float) -> str | None:
    """Import from a private copy of ``path`` (which was ``ident``, unchanged for ``quiet`` s), keep the
    copy as ``backup``; return the audit note, or None (and no backup) when the file differed from the
    log in nothing."""
    copy = _private_copy(path)
    try:
        if _quiet(path)[1] != ident:  # written to while we copied: the copy may be a mix
            raise NotSettled(SETTLE)
        known = read_stamp(path)
        if not_imported:
            note = f"工作簿被外部修改，因{not_imported}未导入其内容；修改后的文件已备份为 {backup.name}。"
        elif not known:
            note = f"工作簿不是由本系统写入的（没有写入记录），未导入其内容；该文件已备份为 {backup.name}。"
        else:
            try:
                store.refresh()
                with store.reading() as state:
                    limits = read_limits(state)
                sheets = read_sheets(copy, limits)
            except Exception as err:  # noqa: BLE001 - calamine raises several types for a damaged file
                if quiet < UNREADABLE_PATIENCE:  # perhaps a save that paused: left in place, read again later
                    _UNREADABLE[str(path)] = ident
                    raise NotSettled(UNREADABLE_PATIENCE - quiet) from err
                if isinstance(err, ExcelReadError):
                    note = f"工作簿被外部修改，但未通过读取前的检查，未导入（{err}）；该文件已备份为 {backup.name}。"
                else:
                    note = f"工作簿被外部修改但无法读取（{err}），未导入；该文件已备份为 {backup.name}。"
            else:
                found = diff_workbook(sheets, known[-1]["layout"], store)
                apply_edits(store, found)
                if not found.anything():
                    return None
                note = found.note(backup.name)
        os.replace(copy, backup)
        return note
    finally:
        copy.unlink(missing_ok=True)


def _private_copy(path: Path) -> Path:
    """Copy ``path`` to a 0600 temp file beside it (removed by the next writer if we die)."""
    copy = path.with_name(f".{path.stem}.external-{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")
    with open(path, "rb") as src, open(copy, "wb", opener=private_opener) as dst:
        shutil.copyfileobj(src, dst)
    return copy


def _prune_backups(path: Path) -> None:
    """Keep the newest MAX_BACKUPS copies: a person saving every minute must not fill the disk."""
    backups = sorted(path.parent.glob(f"{path.stem}.external-*.xlsx"))  # the name sorts by time
    for old in backups[:-MAX_BACKUPS]:
        old.unlink(missing_ok=True)


def diff_workbook(sheets: dict[str, list[list[Any]]], layout: dict[str, Any], store: EditableStore) -> Findings:
    """The person's edits, each row compared with the version of it the file shows (its 版本)."""
    found = Findings()
    store.refresh()
    wanted: dict[tuple[str, str], int] = {}
    lines: list[tuple[str, str, list[Any], dict[int, tuple[str, str, str]]]] = []
    for form_id, info in layout.items():
        name = info["sheet"]
        grid = sheets.get(name)
        if grid is None:
            found.problems.append(f"工作表「{name}」已被删除，未作任何改动")
            continue
        if not grid:
            continue
        # A file written before a field was renamed shows its cells under the old key: they are read as the new one's.
        moves = store.state.renames.get(form_id, {})
        by_header = {header: (moves.get(key, key), header, kind) for key, header, kind in info["columns"]}
        columns = {i: by_header[str(h).strip()] for i, h in enumerate(grid[0]) if str(h).strip() in by_header}
        where = {key: i for i, (key, _, _) in columns.items()}
        missing = [_HEADER[k] for k in ("_id", "_rev") if k not in where]
        if missing:
            found.problems.append(f"工作表「{name}」缺少“{'”“'.join(missing)}”列，未导入")
            continue
        rows = store.state.rows.get(form_id, {})
        unknown, bad_rev, repeated, seen = 0, [], [], set()
        for line in grid[1:]:
            rid = str(_cell(line, where["_id"])).strip()
            cur = rows.get(rid)
            if cur is None:
                unknown += any(str(c).strip() for c in line)
                continue
            if rid in seen:
                repeated.append(rid)
                continue
            seen.add(rid)
            rev = _revision(_cell(line, where["_rev"]), cur.rev)
            if rev is None:
                bad_rev.append(rid)
                continue
            wanted[(form_id, rid)] = rev
            lines.append((form_id, rid, line, columns))
        if unknown:
            found.problems.append(f"工作表「{name}」有 {unknown} 行的记录编号为空或不存在，未导入（新记录请在系统中填报）")
        if repeated:
            found.problems.append(f"工作表「{name}」中这些记录出现多次，只读取了第一行：{_listed(repeated)}")
        if bad_rev:
            found.problems.append(f"工作表「{name}」中这些记录的“版本”不是系统写出的版本号，未导入：{_listed(bad_rev)}")
    bases = versions_at(store, wanted)
    for form_id, rid, line, columns in lines:
        edit = _row_edit(form_id, bases[(form_id, rid)], line, columns, store.state.labels(form_id), found)
        if edit:
            found.edits.append(edit)
    return found


def _cell(line: list[Any], i: int) -> Any:
    return line[i] if i < len(line) else ""


def _revision(cell: Any, latest: int) -> int | None:
    """The 版本 a row of the file shows, if it is one the row has had (1 … its latest)."""
    if isinstance(cell, float) and cell.is_integer():
        rev = int(cell)
    elif isinstance(cell, str) and cell.strip().isdecimal() and len(cell.strip()) <= 9:
        rev = int(cell.strip())
    else:
        return None
    return rev if 1 <= rev <= latest else None


def versions_at(store: EditableStore, wanted: dict[tuple[str, str], int]) -> dict[tuple[str, str], Record]:
    """Each wanted (form, row id) as it was at the wanted revision, replayed from the log."""
    state, found = State(), {}

    def apply(entry: dict[str, Any]) -> None:
        state.apply(entry)
        if entry["op"] in ("append", "update"):
            key = (entry["form"], entry["id"])
            if wanted.get(key) == entry["rev"]:
                found[key] = state.rows[entry["form"]][entry["id"]]

    store.replay(apply, upto=store.log.offset)
    # A version from before a rename, with its values under the keys they live under now (as the file's columns are read).
    return {key: dataclasses.replace(rec, values=state.renamed(key[0], rec.values)) for key, rec in found.items()}


def _row_edit(form_id: str, base: Record, line: list[Any], columns: dict[int, tuple[str, str, str]],
              labels: dict[str, str], found: Findings) -> Edit | None:
    values: dict[str, Any] = {}
    system = base.system()
    for i, (key, header, kind) in columns.items():
        cell = _cell(line, i)
        if key in system:
            if not same_cell(system[key], cell):
                found.system.append(f"记录 {base.id}「{header}」")
            continue
        old = base.values.get(key)
        if same_cell(old, cell):
            continue  # not touched by the person: the app's value stands, whatever it is now
        try:
            value = from_cell(cell, kind_of(old) if old is not None else kind)
            validate_values({key: value}, labels)
        except (InvalidValue, ValueError) as err:  # ValueError: from_cell, the cell does not fit the column
            found.refused.append(f"记录 {base.id}「{header}」（{err}）")
            continue
        values[key] = value
    return Edit(form_id, base, values) if values else None


def apply_edits(store: EditableStore, found: Findings) -> None:
    """Apply the edits as 外部编辑 updates; a field the app changed since the file's revision keeps
    the app's value and is listed in ``found.overridden``; with ``store.edit_check``, what it
    refuses is listed in ``found.rejected`` and a row it locks in ``found.locked``."""
    for edit in found.edits:
        labels = store.state.labels(edit.form_id)
        for _ in range(3):  # an app write may slip in between our read and our update
            cur = store.get(edit.form_id, edit.base.id)
            values, lost = {}, []
            for key, value in edit.values.items():
                now = cur.values.get(key)
                if same_value(now, edit.base.values.get(key)):
                    values[key] = value
                elif not same_value(now, value):
                    lost.append(f"记录 {cur.id}「{labels.get(key, key)}」")
            rejected: list[str] = []
            if values and store.edit_check is not None:
                # Judged on the row as it is now (its status, the app's latest values), not as the file shows it.
                ruling = store.edit_check(cur, values)
                if ruling.locked:
                    found.locked.append(f"记录 {cur.id}（{ruling.locked}）")
                    found.overridden += lost
                    break
                rejected = [f"记录 {cur.id}「{labels.get(key, key)}」（{why}）" for key, why in ruling.refused.items()]
                values = ruling.values
            try:
                new = store.update_as(edit.form_id, cur.id, action=_ACTION, base_rev=cur.rev, actor=EXTERNAL_ACTOR,
                                      values=values, note=f"从工作簿导入的外部修改（文件中的版本 {edit.base.rev}）")
            except ConflictError:
                continue
            found.applied += new.rev != cur.rev
            found.overridden += lost
            found.rejected += rejected
            break
        else:
            found.busy.append(edit.base.id)
