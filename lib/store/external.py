"""Edits a person saved into the workbook (Excel, WPS) while the app runs.

The store never overwrites such a file silently. Before the next rewrite it:

1. keeps a copy of the edited file (``campaign.external-YYYYmmdd-HHMMSS.xlsx``);
2. reads it with calamine and compares every field cell, by 记录编号, with the version of the row
   that file was written from (the stamp says which log offset that was);
3. applies each changed row as an audited update by actor "外部编辑" (action 外部编辑); when the
   app changed the same field of that row in the meantime, the app's change wins and the cell
   is skipped;
4. records one 外部编辑 event saying what was imported, what was ignored and where the copy is.

Rows without a known 记录编号 (new rows typed in Excel) and deleted rows are not imported:
records are created and withdrawn in the app. Only field cells and 状态 are read back.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lib.store.base import ConflictError, InvalidValue, Record
from lib.store.codec import from_cell, kind_of, same_cell, same_value, validate_values
from lib.store.state import State
from lib.store.workbook import read_sheets, read_stamp

if TYPE_CHECKING:
    from lib.store.local import LocalStore


@dataclass
class Edit:
    """Changed cells of one row, relative to ``base`` (the version the file showed)."""

    form_id: str
    base: Record
    values: dict[str, Any]
    status: str | None


def import_external_edits(store: LocalStore, *, import_values: bool = True) -> Path:
    """Back up the edited workbook and (if ``import_values``) import its changes; return the backup.

    Caller holds the workbook lock.
    """
    from lib.store.local import EXTERNAL_ACTOR

    path = store.workbook_path
    backup = path.with_name(f"{path.stem}.external-{dt.datetime.now():%Y%m%d-%H%M%S-%f}.xlsx")
    shutil.copy2(path, backup)
    known = read_stamp(path)
    if not import_values:
        note = f"工作簿被外部修改，重建时未导入其内容；修改后的文件已备份为 {backup.name}。"
    elif not known:
        note = f"工作簿不是由本系统写入的（没有写入记录），未导入其内容；该文件已备份为 {backup.name}。"
    else:
        base = known[-1]
        try:
            sheets = read_sheets(path)
        except Exception as err:  # noqa: BLE001 - calamine raises several types for a damaged file
            note = f"工作簿被外部修改但无法读取（{err}），未导入；该文件已备份为 {backup.name}。"
        else:
            edits, notes = diff_workbook(sheets, base["layout"], store.state_at(base["offset"]))
            applied, skipped = apply_edits(store, edits)
            notes += skipped
            note = (f"检测到工作簿被外部修改，已导入 {applied} 行的修改"
                    f"{'；' + '；'.join(notes) if notes else ''}；修改后的文件已备份为 {backup.name}。")
    store.log_event(EXTERNAL_ACTOR, "外部编辑", note=note)
    return backup


def diff_workbook(sheets: dict[str, list[list[Any]]], layout: dict[str, Any], base: State) -> tuple[list[Edit], list[str]]:
    """Changed cells per row, by 记录编号, against the state the file was written from."""
    edits: list[Edit] = []
    notes: list[str] = []
    for form_id, info in layout.items():
        name = info["sheet"]
        grid = sheets.get(name)
        if grid is None:
            notes.append(f"工作表「{name}」已被删除，未作任何改动")
            continue
        if not grid:
            continue
        by_header = {header: (key, kind) for key, header, kind in info["columns"]}
        columns = {i: by_header[str(h).strip()] for i, h in enumerate(grid[0]) if str(h).strip() in by_header}
        id_col = next((i for i, (key, _) in columns.items() if key == "_id"), None)
        if id_col is None:
            notes.append(f"工作表「{name}」缺少“记录编号”列，未导入")
            continue
        rows = base.rows.get(form_id, {})
        unknown = 0
        for line in grid[1:]:
            rid = str(line[id_col]).strip() if id_col < len(line) else ""
            rec = rows.get(rid)
            if rec is None:
                unknown += any(str(c).strip() for c in line)
                continue
            edit = _row_edit(form_id, rec, line, columns)
            if edit:
                edits.append(edit)
        if unknown:
            notes.append(f"工作表「{name}」有 {unknown} 行的记录编号为空或不存在，未导入（新记录请在系统中填报）")
    return edits, notes


def _row_edit(form_id: str, rec: Record, line: list[Any], columns: dict[int, tuple[str, str]]) -> Edit | None:
    values: dict[str, Any] = {}
    status = None
    for i, (key, kind) in columns.items():
        cell = line[i] if i < len(line) else ""
        if key == "_status":
            if not same_cell(rec.status, cell) and str(cell).strip():
                status = str(cell).strip()
        elif not key.startswith("_"):
            old = rec.values.get(key)
            if not same_cell(old, cell):
                values[key] = from_cell(cell, kind_of(old) if old is not None else kind)
    return Edit(form_id, rec, values, status) if values or status else None


def apply_edits(store: LocalStore, edits: list[Edit]) -> tuple[int, list[str]]:
    """Apply edits as 外部编辑 updates; return how many rows changed and notes on skipped cells."""
    from lib.store.local import EXTERNAL_ACTOR

    applied, notes = 0, []
    labels_of = store.state.labels
    for edit in edits:
        for _ in range(3):  # an app write may slip in between our read and our update
            cur = store.get(edit.form_id, edit.base.id)
            values, status = dict(edit.values), edit.status
            if cur.rev != edit.base.rev:
                # The app changed the row after the file was written: its changes win per field.
                values = {k: v for k, v in values.items()
                          if same_value(cur.values.get(k), edit.base.values.get(k))}
                if cur.status != edit.base.status:
                    status = None
            labels = labels_of(edit.form_id)
            for key in list(values):
                try:
                    validate_values({key: values[key]}, labels)
                except InvalidValue as err:
                    notes.append(f"记录 {edit.base.id}：{err}（未导入）")
                    del values[key]
            try:
                new = store._update(edit.form_id, edit.base.id, base_rev=cur.rev, actor=EXTERNAL_ACTOR,
                                    values=values, status=status, note="从工作簿导入的外部修改", action="外部编辑")
            except ConflictError:
                continue
            applied += new.rev != cur.rev
            break
    return applied, notes
