"""The registers in the store: a valid upload stored as one batch (``import_register``), and the
register in force (``current_register``).

The registers are the province's voucher register and its list of benchmark projects in scope, as
the campaign declares them (``kinds.register_kinds``); the reading and validation of an upload are in
``upload``. Stored columns are keyed by meaning (``voucher``, ``firm`` ... ``state``), never by a
campaign's headers, so a campaign that renames a header reads the same stored register.

Storage design (one import = one batch, committed by one record):

* ``register_vouchers`` / ``register_projects`` — one row per in-scope register entry, status 已导入,
  with the batch id (``import_id``) and the Excel row it came from.
* ``register_imports`` — one row per import: kind, batch id, file, counts; status 有效 for the batch
  in force, 已替换 for the ones a later import replaced.

Every row and the import record are checked before anything is written. An import writes its rows
and its import record as one change (``Store.append_batch``: all durable or none visible, after a
crash too), then marks the previous record 已替换. The current register is the batch of the newest
有效 record, so a crash before that mark still leaves exactly one register in force, and replacing
N rows costs one batch and one update, not N updates (Google Sheets allows about 60 writes a minute).
Batches are never deleted: the register in force at the end of a past day is the newest import made
on or before that day, whatever it is marked now (``current_register(..., as_of=day)``), so the board
of a past day is reproducible after a re-import; a day before the first import takes the first one.
An upload whose entries equal the register in force (``content_hash``) is refused: a second click
on 确认导入, or the same file imported from another tab, adds no second copy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from dataclasses import dataclass

import pandas as pd

from lib.auth.policy import IMPORT, authorize
from lib.campaign.register.kinds import (
    RegisterKind,
    RegisterProblem,
    excluded_text,
    problem,
)
from lib.campaign.register.upload import MAX_FILE_NAME, ParsedRegister
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.store.base import Column, InvalidValue, SheetSpec, Store
from lib.store.codec import validate_values
from lib.xlsx.bounds import name_problem, shown_name

ROW_STATUS = "已导入"
IMPORT_ACTIVE = "有效"
IMPORT_REPLACED = "已替换"

IMPORTS_SHEET = SheetSpec(
    "register_imports",
    "台账导入记录",
    (
        Column("kind", "台账类型"),
        Column("import_id", "导入批次"),
        Column("file_name", "文件名"),
        Column("sheet_name", "工作表"),
        Column("rows", "导入行数", "integer"),
        Column("excluded", "排除行数", "integer"),
        Column("excluded_detail", "排除说明"),
        Column("content_hash", "内容校验值"),
    ),
)


class RegisterImportError(AppError):
    """An import refused; nothing was written. ``problems`` lists what is wrong, by row where a row is
    at fault (each with its catalogue code); ``code`` says which refusal it is."""

    code = "register_invalid"

    def __init__(self, problems: list[RegisterProblem]):
        super().__init__(f"台账有 {len(problems)} 处问题，未导入任何数据。")
        self.problems = problems


class RegisterEmpty(RegisterImportError):
    """The upload has no entry in the inspection's scope: importing it would leave no register in force."""

    code = "register_empty"


class RegisterUnchanged(RegisterImportError):
    """The upload's entries are those of the register in force (a second click, another tab)."""

    code = "register_unchanged"


@dataclass(frozen=True)
class ImportSummary:
    import_id: str
    rows: int
    excluded: dict[str, int]
    replaced: int  # earlier imports of this kind marked 已替换


def ensure_register_sheets(store: Store, kind: RegisterKind) -> None:
    store.ensure_sheet(kind.sheet)
    store.ensure_sheet(IMPORTS_SHEET)


def import_register(
    store: Store, parsed: ParsedRegister, actor: Actor, *, file_name: str, now: dt.datetime | None = None
) -> ImportSummary:
    """Store ``parsed`` as the register in force for its kind, replacing the previous import.

    Raises Forbidden (audited) unless ``actor`` may import registers (the province); nothing is
    written when it raises RegisterImportError: RegisterEmpty (no entry in scope), RegisterUnchanged
    (the same entries as the register in force), or the base class (problems, listed by row).
    """
    authorize(store, actor, IMPORT)
    if not parsed.rows and all(p.code in ("no_rows", "none_in_scope") for p in parsed.problems):
        raise RegisterEmpty(parsed.problems or [problem("no_rows")])
    if parsed.problems:
        raise RegisterImportError(parsed.problems)
    kind = parsed.kind
    now = now or dt.datetime.now()
    taken = {str(r.values.get("import_id")) for r in store.records(IMPORTS_SHEET.form_id)}
    while (import_id := f"{kind.key}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}") in taken:
        pass  # two imports in one second never share an id, whatever the dice
    rows = [{**row, "import_id": import_id} for row in parsed.rows]
    content = content_hash(parsed)
    record = {
        "kind": kind.key,
        "import_id": import_id,
        "file_name": file_name,
        "sheet_name": parsed.sheet_name,
        "rows": len(rows),
        "excluded": sum(parsed.excluded.values()),
        "excluded_detail": excluded_text(parsed.excluded),
        "content_hash": content,
    }
    _check_before_writing(kind, rows, record)
    ensure_register_sheets(store, kind)
    previous = [r for r in store.records(IMPORTS_SHEET.form_id) if r.values.get("kind") == kind.key and r.status == IMPORT_ACTIVE]
    in_force = max(previous, key=lambda r: r.created_at, default=None)
    if in_force is not None and in_force.values.get("content_hash") == content:
        raise RegisterUnchanged([RegisterProblem(
            "same_as_current", f"上传的{kind.title}与现行台账（批次 {in_force.values.get('import_id')}，"
                               f"{in_force.created_at:%Y-%m-%d %H:%M} 导入）内容相同，未重复导入。")])
    store.append_batch([*((kind.sheet_id, row, ROW_STATUS) for row in rows),
                        (IMPORTS_SHEET.form_id, record, IMPORT_ACTIVE)], actor=actor)
    for rec in previous:
        store.update(IMPORTS_SHEET.form_id, rec.id, base_rev=rec.rev, actor=actor, status=IMPORT_REPLACED,
                     note=f"被导入批次 {import_id} 替换")
    return ImportSummary(import_id, len(rows), dict(parsed.excluded), len(previous))


def content_hash(parsed: ParsedRegister) -> str:
    """What identifies an upload's register: its kind and its entries' values in file order (not the
    Excel row numbers, nor the file's name), as a SHA-256 hex digest."""
    entries = [{k: v for k, v in row.items() if k != "source_row"} for row in parsed.rows]
    text = json.dumps([parsed.kind.key, entries], ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_before_writing(kind: RegisterKind, rows: list[dict], record: dict) -> None:
    """Refuse (RegisterImportError, nothing written) any value the store would refuse part-way:
    every row and the import record (file and sheet names included) are checked first."""
    labels = {c.key: c.header for c in kind.columns} | {c.key: c.label for c in IMPORTS_SHEET.columns}
    why = name_problem(record["file_name"], MAX_FILE_NAME) if record["file_name"] else None
    if why:
        raise RegisterImportError([problem("bad_file_name", name=shown_name(record["file_name"]), why=why)])
    why = name_problem(record["sheet_name"])
    if why:
        raise RegisterImportError([problem("bad_sheet_name", name=shown_name(record["sheet_name"]), why=why)])
    for values in [*rows, record]:
        try:
            validate_values(values, labels)
        except InvalidValue as bad:
            row = values.get("source_row") if values is not record else None
            raise RegisterImportError([problem("bad_value", row, labels.get(bad.field, ""), detail=str(bad))]) from None


def import_in_force(imports: pd.DataFrame, kind: RegisterKind, as_of: dt.date | None = None) -> pd.Series | None:
    """The import record of the batch in force for ``kind`` (``import_id``, ``file_name``, ``_created_at``
    ...): the newest record with status 有效; ``as_of``: the batch in force at the end of that day, the
    newest import made on or before it (a later import has marked it 已替换 since, which says nothing
    about that day). A day before the first import takes the first import: a register lists subsidies
    already granted, and its import date is only when the office typed it in (a campaign clock set in
    the past, a register imported today, must not leave the board with no register). None when ``kind``
    was never imported.

    >>> imports = pd.DataFrame({"_status": ["已替换", "有效"], "kind": ["vouchers"] * 2, "import_id": ["a", "b"],
    ...                         "_created_at": pd.to_datetime(["2020-09-01 10:00", "2020-09-02 10:00"])})
    >>> from types import SimpleNamespace
    >>> vouchers = SimpleNamespace(key="vouchers")
    >>> [import_in_force(imports, vouchers, day)["import_id"] for day in (None, dt.date(2020, 9, 1), dt.date(2020, 8, 31))]
    ['b', 'a', 'a']
    >>> import_in_force(imports, SimpleNamespace(key="projects")) is None
    True
    """
    if imports is None or imports.empty or "kind" not in imports:
        return None
    mine = imports[imports["kind"] == kind.key]
    if as_of is None:
        live = mine[mine["_status"] == IMPORT_ACTIVE]
    else:
        made = pd.to_datetime(mine["_created_at"])
        if made.dt.tz is not None:  # a stamp with an offset: its own wall-clock time, as the day is read
            made = made.dt.tz_localize(None)
        live = mine[made < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
        if live.empty:
            return None if mine.empty else mine.sort_values("_created_at").iloc[0]
    if live.empty:
        return None
    return live.sort_values("_created_at").iloc[-1]


def current_import_id(imports: pd.DataFrame, kind: RegisterKind, as_of: dt.date | None = None) -> str | None:
    """The batch id of ``import_in_force``; None when ``kind`` has none."""
    record = import_in_force(imports, kind, as_of)
    return None if record is None else str(record["import_id"])


def batch_note(imports: pd.DataFrame, kind: RegisterKind, as_of: dt.date | None = None) -> str:
    """Which batch of ``kind`` a board of ``as_of`` counts (``import_in_force``), as the board says it.

    >>> imports = pd.DataFrame({"_status": ["有效"], "kind": ["vouchers"], "import_id": ["a"], "file_name": ["台账.xlsx"],
    ...                         "_created_at": pd.to_datetime(["2020-09-05 10:30"])})
    >>> from types import SimpleNamespace
    >>> vouchers = SimpleNamespace(key="vouchers", title="服务券兑现清单")
    >>> batch_note(imports, vouchers, dt.date(2020, 9, 6))
    '服务券兑现清单：2020-09-05 10:30 导入（台账.xlsx）'
    >>> batch_note(imports, vouchers, dt.date(2020, 9, 1))
    '服务券兑现清单：2020-09-05 10:30 导入（台账.xlsx），截至日期早于首次导入，按首次导入的批次计'
    >>> batch_note(imports.iloc[0:0], vouchers)
    '服务券兑现清单：尚未导入'
    """
    record = import_in_force(imports, kind, as_of)
    if record is None:
        return f"{kind.title}：尚未导入"
    made = pd.Timestamp(record["_created_at"])
    made = made.tz_localize(None) if made.tz is not None else made
    file = record.get("file_name")
    text = f"{kind.title}：{made:%Y-%m-%d %H:%M} 导入" + (f"（{file}）" if isinstance(file, str) and file else "")
    return text + ("，截至日期早于首次导入，按首次导入的批次计" if as_of is not None and made.date() > as_of else "")


def register_columns(kind: RegisterKind) -> list[str]:
    return [c.key for c in kind.columns] + ["import_id", "source_row"]


def _batch_in_force(rows: pd.DataFrame, imports: pd.DataFrame, kind: RegisterKind,
                    as_of: dt.date | None = None) -> pd.DataFrame | None:
    """The stored rows of the batch in force (at the end of ``as_of``), all columns; None when there is none."""
    batch = current_import_id(imports, kind, as_of)
    if batch is None or rows is None or rows.empty or "import_id" not in rows:
        return None
    return rows[rows["import_id"] == batch]


def outdated(rows: pd.DataFrame, imports: pd.DataFrame, kind: RegisterKind) -> bool:
    """The batch in force was stored under other column keys (an import made before the registers
    were keyed by meaning): its entries cannot be read, so it counts as no register until re-imported.

    >>> from types import SimpleNamespace
    >>> kind = SimpleNamespace(key="vouchers", unique=("voucher",))
    >>> imports = pd.DataFrame({"_status": ["有效"], "kind": ["vouchers"], "import_id": ["a"], "_created_at": [pd.Timestamp(0)]})
    >>> outdated(pd.DataFrame({"import_id": ["a"], "old_key": ["V-1"]}), imports, kind)
    True
    >>> outdated(pd.DataFrame({"import_id": ["a"], "voucher": ["V-1"]}), imports, kind)
    False
    """
    picked = _batch_in_force(rows, imports, kind)
    return picked is not None and _unreadable(picked, kind)


def _unreadable(picked: pd.DataFrame, kind: RegisterKind) -> bool:
    key = kind.unique[0]
    return not picked.empty and (key not in picked or bool(picked[key].isna().all()))


def current_register(rows: pd.DataFrame, imports: pd.DataFrame, kind: RegisterKind, as_of: dt.date | None = None) -> pd.DataFrame:
    """The entries of the batch in force (meaning columns, ``import_id``, ``source_row``); empty with
    the right columns if none, or if it is ``outdated``. ``as_of``: the batch in force at the end of
    that day (``current_import_id``), for the board of a past day.

    The cities outside the scheme are those of ``kind`` (the campaign as served now), not those of the
    import: a city added to ``outside_scheme`` after the import has its entries left out here, as 附件1
    refuses it at once (a city taken out of the list gets entries only from the next import, since the
    import did not store them)."""
    cols = register_columns(kind)
    picked = _batch_in_force(rows, imports, kind, as_of)
    if picked is None or _unreadable(picked, kind):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    if kind.outside and "city" in picked:
        picked = picked[~picked["city"].isin(kind.outside)]
    return picked.reindex(columns=cols).reset_index(drop=True)
