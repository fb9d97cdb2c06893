"""The log entries both backends write: one shape, built in one place.

The local log and the Google Sheets ``_log`` sheet hold the same JSON entries and are replayed by
the same ``State``; these pure functions decide what an ensure_sheet, an append or an update writes
(or that it writes nothing), so the backends differ only in how an entry is made durable.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Container, Iterable
from typing import Any

from lib.core.records import Actor, Record
from lib.core.values import is_missing
from lib.store.base import Column, ConflictError, InvalidValue, NotFound, RowChange, SheetSpec, StoreError
from lib.store.codec import encode_values, same_value, validate_values
from lib.store.state import State

_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_row_id(form_id: str, now: dt.datetime, taken: Callable[[str], bool]) -> str:
    """Readable, time-sortable id: form prefix, date, seconds of the day and randomness.

    >>> new_row_id("site_check", dt.datetime(2020, 9, 10, 10, 0), lambda r: False)[:20]
    'sitech-20200910-1350'
    """
    stem = _id_stem(form_id, now)
    while True:
        rid = stem + _random_part()
        if not taken(rid):
            return rid


def _id_stem(form_id: str, now: dt.datetime) -> str:
    """What the ids of one form's rows made at ``now`` share: prefix, date and seconds of the day."""
    prefix = re.sub(r"[^0-9a-zA-Z]", "", form_id).lower()[:6] or "r"
    seconds = now.hour * 3600 + now.minute * 60 + now.second
    return f"{prefix}-{now:%Y%m%d}-" + "".join(_ID_ALPHABET[(seconds >> shift) & 31] for shift in (15, 10, 5, 0))


def _random_part() -> str:
    bits = secrets.randbits(20)  # four base32 characters from one draw: a batch of 20,000 ids stays cheap
    return _ID_ALPHABET[bits >> 15] + _ID_ALPHABET[(bits >> 10) & 31] + _ID_ALPHABET[(bits >> 5) & 31] + _ID_ALPHABET[bits & 31]


def actor_json(actor: Actor) -> dict[str, str]:
    return {"account": actor.account, "role": actor.role, "org": actor.org, "city": actor.city}


def check_status(status: Any) -> None:
    """A status is non-empty text a cell can hold (InvalidValue otherwise)."""
    if not isinstance(status, str) or not status.strip():
        raise InvalidValue("记录状态必须是非空的文字。", field="_status", code="bad_status")
    validate_values({"status": status}, {"status": "状态"})


def check_spec(spec: SheetSpec) -> None:
    """Headers and the sheet title are text a cell can hold (InvalidValue otherwise)."""
    for col in spec.columns:
        validate_values({col.key: col.label}, {col.key: col.label})
    validate_values({"title": spec.title})


def check_appends(items: Iterable[tuple[str, dict[str, Any], str]], labels: Callable[[str], dict[str, str]]) -> None:
    """Every row's values and status are ones the store can hold (InvalidValue for the first that
    is not), checked before any of them is written."""
    known: dict[str, dict[str, str]] = {}
    statuses: set[str] = set()
    for form_id, values, status in items:
        if form_id not in known:
            known[form_id] = labels(form_id)
        validate_values(values, known[form_id])
        if type(status) is not str or status not in statuses:  # 20,000 rows share a status or two
            check_status(status)
            statuses.add(status)


def check_changes(changes: Iterable[RowChange], labels: Callable[[str], dict[str, str]]) -> None:
    """Every change's values, note and status are ones the store can hold, and no row is changed twice
    in one batch (which of the two would win?): InvalidValue for the first that is not."""
    seen: set[tuple[str, str]] = set()
    for change in changes:
        key = (change.form_id, change.row_id)
        if key in seen:
            raise InvalidValue(f"记录 {change.row_id} 在同一批修改中出现了两次。", field="_id", code="row_twice")
        seen.add(key)
        validate_values(change.values, labels(change.form_id))
        validate_values({"note": change.note})
        if change.status is not None:
            check_status(change.status)


def change_entries(
    changes: Iterable[RowChange],
    current: Callable[[str, str], Record | None],
    conflict: Callable[[str, str, int], str],
    *,
    renamed: Callable[[str, dict[str, Any]], dict[str, Any]],
    actor: Actor,
    at: str,
) -> list[dict[str, Any] | None]:
    """The update entry of each change (None: it changes nothing), after every row is found at the
    revision its change was read from: NotFound or ConflictError (``conflict(form, id, base_rev)``: the
    message) for the first that is not, before any entry is made. ``renamed(form, values)`` (``State.renamed``)
    puts a key renamed away under its new key, so a page on the old version changes what it means to."""
    found = []
    for change in changes:
        cur = current(change.form_id, change.row_id)
        if cur is None:
            raise NotFound(f"表单「{change.form_id}」中找不到记录 {change.row_id}。")
        if cur.rev != change.base_rev:
            raise ConflictError(conflict(change.form_id, change.row_id, change.base_rev), current=cur)
        found.append(cur)
    return [update_entry(cur, values=renamed(c.form_id, c.values), status=c.status, actor=actor, note=c.note, at=at)
            for c, cur in zip(changes, found)]


def column_json(col: Column) -> list[str]:
    """A column as a sheet entry writes it: ``[key, label, kind]``, plus its display when it has one
    (a money column's two decimals must survive a replay). ``Column(*item)`` reads either shape, so
    logs written before display existed still load.

    >>> column_json(Column("m", "金额", "number", "money")), column_json(Column("n", "人数", "integer"))
    (['m', '金额', 'number', 'money'], ['n', '人数', 'integer'])
    """
    return [col.key, col.label, col.kind, col.display] if col.display else [col.key, col.label, col.kind]


def sheet_entry(spec: SheetSpec, old: SheetSpec | None, at: str) -> dict[str, Any] | None:
    """The entry declaring ``spec`` over the sheet as it was (``old``), or None when nothing changes.

    New labels, kinds and displays win; columns are never dropped (a removed field keeps its column).
    """
    merged = {c.key: c for c in (old.columns if old else ())}
    merged.update({c.key: c for c in spec.columns})
    columns = [column_json(c) for c in merged.values()]
    if old and old.title == spec.title and columns == [column_json(c) for c in old.columns]:
        return None
    return {"op": "sheet", "at": at, "form": spec.form_id, "title": spec.title, "columns": columns}


def append_entries(
    items: Iterable[tuple[str, dict[str, Any], str]],
    *,
    actor: Actor,
    form_version: int,
    now: dt.datetime,
    taken: Callable[[str], Container[str]],
) -> list[dict[str, Any]]:
    """One append entry per ``(form_id, values, status)``, each with a new id unused among its form's
    rows (``taken(form_id)``) and the other rows of this call."""
    ids: set[str] = set()
    entries = []
    who, at = actor_json(actor), now.isoformat()
    forms: dict[str, tuple[str, Container[str]]] = {}
    for form_id, values, status in items:
        if form_id not in forms:
            forms[form_id] = (_id_stem(form_id, now), taken(form_id))
        stem, rows = forms[form_id]
        rid = stem + _random_part()
        while rid in rows or rid in ids:
            rid = stem + _random_part()
        ids.add(rid)
        entries.append({"op": "append", "at": at, "form": form_id, "id": rid, "rev": 1, "actor": who,
                        "status": status, "fv": form_version, "values": encode_values(values)})
    return entries


def batch_entry(entries: list[dict[str, Any]], at: str) -> dict[str, Any]:
    """The local log's entry holding ``entries`` whole: one line, so a reader sees all or none of
    them (a line cut short by a crash is never read). A single entry needs no wrapper."""
    if len(entries) == 1:
        return entries[0]
    return {"op": "batch", "at": at, "entries": entries}


def unbatched(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries a log entry stands for: the members of a batch, else the entry itself."""
    return entry["entries"] if entry.get("op") == "batch" else [entry]


def update_entry(
    cur: Record,
    *,
    values: dict[str, Any],
    status: str | None,
    actor: Actor,
    note: str,
    at: str,
    action: str | None = None,
) -> dict[str, Any] | None:
    """The entry changing ``cur``: only changed values, the status if it changes; None when nothing does."""
    changed = {k: v for k, v in values.items() if k not in cur.values or not same_value(cur.values[k], v)}
    new_status = status if status is not None and status != cur.status else None
    if not changed and new_status is None:
        return None
    entry: dict[str, Any] = {"op": "update", "at": at, "form": cur.form_id, "id": cur.id, "rev": cur.rev + 1,
                             "actor": actor_json(actor), "action": action or ("修改" if changed else "状态变更"),
                             "note": note}
    if changed:
        entry["values"] = encode_values(changed)
    if new_status is not None:
        entry["status"] = new_status
    return entry


def rename_entry(state: State, form_id: str, old_key: str, new_key: str, *, actor: Actor,
                 at: str) -> dict[str, Any] | None:
    """The entry renaming ``old_key`` to ``new_key`` in ``form_id`` over ``state`` (the log as read now), or
    None when that rename is in force already (a publish that declares it again writes nothing). NotFound
    for a form without a sheet; InvalidValue (with its ``code``) for a rename that may not be written."""
    validate_values({"from": old_key, "to": new_key})
    problem = state.rename_problem(form_id, old_key, new_key)
    if problem:
        raise rename_refused(state, form_id, old_key, new_key, problem)
    if state.rename_in_force(form_id, old_key, new_key):
        return None
    return {"op": "rename", "at": at, "form": form_id, "from": old_key, "to": new_key, "actor": actor_json(actor)}


def rename_refused(state: State, form_id: str, old_key: str, new_key: str, problem: str) -> StoreError:
    """The error saying why a rename may not be written (``State.rename_problem``'s code), in Chinese."""
    spec = state.specs.get(form_id)
    if problem == "unknown_form" or spec is None:
        return NotFound(f"表单「{form_id}」还没有建立工作表，无法给字段改名。")
    labels = state.labels(form_id)
    title = spec.title or form_id

    def name(key: str) -> str:
        return f"「{labels[key]}」（{key}）" if key in labels else f" {key} "

    if problem == "rename_same":
        message = f"表单「{title}」的字段{name(old_key)}改名前后的键相同，无需改名。"
    elif problem == "rename_system_key":
        message = f"表单「{title}」的字段改名 {old_key or '（空）'} → {new_key or '（空）'} 涉及系统列或空键，系统列不能改名。"
    else:
        held = sum(not is_missing(r.values.get(new_key)) for r in state.rows.get(form_id, {}).values())
        message = (f"表单「{title}」的字段{name(new_key)}已有 {held} 条记录填写了值，不能把{name(old_key)}改名为它"
                   f"（两列的值会混在一起）：请另起一个字段键。")
    return InvalidValue(message, field=new_key if problem == "rename_target_has_values" else old_key, code=problem)


def event_entry(actor: Actor, action: str, *, form_id: str, row_id: str, note: str, at: str) -> dict[str, Any]:
    """An audited event that changes no row (a sign-in, a refused access)."""
    validate_values({"action": action, "note": note})
    return {"op": "event", "at": at, "actor": actor_json(actor), "action": action, "form": form_id, "id": row_id,
            "note": note}
