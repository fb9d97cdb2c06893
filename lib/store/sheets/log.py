"""The ``_log`` sheet: the Google Sheets backend's append-only log of row versions.

One log row is one entry of the local log's format (see ``lib.store.state``) plus an entry id
``eid``: column A holds the eid, columns B.. hold the entry's JSON text cut into pieces that
fit a cell. Written with ``valueInputOption=RAW``, so every cell is text exactly as sent.

Sheets has no transactions, so the log is read with two deterministic rules that every app
process applies in the same order and therefore agrees on:

* an eid seen before is a resend (a retry whose first answer was lost): ignored;
* the first version wins: an update whose ``rev`` is not the row's current rev + 1, or an
  append whose row id already exists, is ignored.

A writer learns the fate of its own entries the same way, which turns a lost race into a
ConflictError instead of a silent overwrite.

Several rows written as one change (``Store.append_batch``, ``Store.write_batch``) may need more rows of ``_log`` than one
request can carry, so no single write makes them all-or-nothing. They are written as members —
append (and update) entries carrying a ``batch`` id — followed, last, by a commit entry
``{"op": "commit", "batch", "n"}`` (``log_batch``). A third rule, applied at the commit's place:

* members are held back until their batch's commit; the commit applies them all if all ``n``
  are there and each would apply, otherwise none ("torn" or the refusing member's verdict).
  Members without a commit (a writer stopped between requests) are never applied.

A field rename (``Store.rename_field``) is one entry, applied where it stands unless the rows read
before it refuse it (``State.rename_problem``: a row holds an answer under the new key, so two
servers racing to rename onto one key cannot mix its columns): "exists", and its writer is told.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

from lib.core.records import Record
from lib.store.base import ConflictError, InvalidValue, SheetSpec, StoreError, Unavailable
from lib.store.codec import decode_values
from lib.store.entries import column_json, rename_refused
from lib.store.sheets.client import MAX_CELL_CHARS, a1, cell_chars, col_letters, cut_text
from lib.store.state import State

LOG_SHEET = "_log"
AUDIT_SHEET = "_audit"
RESERVED_TITLES = (LOG_SHEET, AUDIT_SHEET)
LOG_COLUMNS = 8  # A = eid, B..H = JSON pieces
PIECE_CHARS = 40_000  # per cell, counted as the cell limit counts (MAX_CELL_CHARS, 50,000)
MAX_ENTRY_CHARS = PIECE_CHARS * (LOG_COLUMNS - 1)
assert PIECE_CHARS < MAX_CELL_CHARS
# Why a batch's commit applied none of its rows (the verdicts above), for its caller: code, reason.
_BATCH_REFUSED = {"torn": ("batch_torn", "部分记录在提交标记之前缺失"), "exists": ("batch_id_taken", "记录编号已被占用")}

#: What the caller of a written entry is told: the record it made, or the error.
Fate = tuple[Record | None, StoreError | None]


def log_range(first_row: int = 1) -> str:
    """The ``_log`` columns from ``first_row`` down, as an A1 range.

    >>> log_range(5)
    "'_log'!A5:H"
    """
    return a1(LOG_SHEET, f"A{first_row}:{col_letters(LOG_COLUMNS - 1)}")


def encode_row(entry: dict[str, Any], labels: dict[str, str] | None = None) -> list[str]:
    """Cells of one log row: the whole entry, cut across cells so that none exceeds the cell limit.

    An entry too long for one row is refused with a message naming its longest field (its label
    from ``labels`` when known).

    >>> encode_row({"eid": "e1", "op": "event", "note": "=1+1"})
    ['e1', '{"op":"event","note":"=1+1"}']
    """
    body = {k: v for k, v in entry.items() if k != "eid"}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    size = cell_chars(text)
    if size > MAX_ENTRY_CHARS:
        values = entry.get("values") or {"_values": ""}
        key = max(values, key=lambda k: len(json.dumps(values[k], ensure_ascii=False)))
        name = (labels or {}).get(key) or key
        raise InvalidValue(f"本条记录合计 {size} 个字符，超过 Google 表格单条记录上限 {MAX_ENTRY_CHARS}；"
                           f"其中字段「{name}」最长，请精简后再提交。", field=key, code="entry_too_long")
    return [entry["eid"]] + cut_text(text, PIECE_CHARS)


def decode_row(row: list[Any]) -> tuple[str, dict[str, Any] | None]:
    """The eid and entry of a log row; ``None`` for a row that is not a valid entry."""
    if not row:
        return "", None
    eid = str(row[0])
    try:
        entry = json.loads("".join(str(c) for c in row[1:]))
    except ValueError:
        return eid, None
    return eid, entry if isinstance(entry, dict) and "op" in entry else None


def log_batch(entries: list[dict[str, Any]], at: str, batch_id: str | None = None) -> list[dict[str, Any]]:
    """The ``_log`` entries of rows written as one change: the members, then their commit (a
    single entry needs neither). ``batch_id``: a stable one (migration), else a random one."""
    if len(entries) == 1:
        return entries
    bid = batch_id or secrets.token_hex(8)
    return [{**e, "batch": bid} for e in entries] + [{"op": "commit", "at": at, "batch": bid, "n": len(entries)}]


class Replay:
    """A :class:`State` built from log rows by the rules above, plus what the views need."""

    def __init__(self) -> None:
        self.state = State()
        self.rows_read = 0  # log rows 1..rows_read are applied
        self.last_eid = ""
        self.outcome: dict[str, str] = {}  # eid -> "ok" | "stale" | "exists" | "bad" | "torn"
        self.ordinal: dict[str, dict[str, int]] = {}  # form -> row id -> 0-based creation index
        self.titles: dict[str, str] = {}  # form -> view sheet title (first sheet entry's title)
        self.layout: dict[str, list[str]] = {}  # form -> field keys in view column order (a rename keeps a key's place)
        self.widest: dict[str, int] = {}  # form -> most field columns its view has had (header cells to blank)
        self.held: dict[str, dict[str, dict[str, Any]]] = {}  # batch id -> eid -> member, until its commit
        self.batch_fate: dict[str, str] = {}  # batch id -> its commit's verdict

    def apply_rows(self, first_row: int, rows: list[list[Any]]) -> list[tuple[str, str, str]]:
        """Apply rows numbered from ``first_row``; rows already applied are skipped.

        Returns ``(eid, form, row_id)`` of each entry that changed a row or the audit trail.
        """
        changed = []
        for offset, row in enumerate(rows):
            number = first_row + offset
            if number <= self.rows_read:
                continue
            if number != self.rows_read + 1:
                raise ValueError(f"log rows must be applied in order: got {number} after {self.rows_read}")
            eid, entry = decode_row(row)
            self.rows_read, self.last_eid = number, eid
            if eid in self.outcome:
                continue
            if entry is not None and entry.get("batch") and entry["op"] != "commit":
                self._hold(eid, entry)
                continue
            if entry is not None and entry["op"] == "commit":
                changed.extend(self._commit(eid, entry))
                continue
            if entry is not None and entry["op"] == "rename":
                changed.extend((eid, form, rid) for form, rid in self._rename(eid, entry))
                continue
            result = self._apply(entry)
            self.outcome[eid] = result
            if result == "ok" and entry["op"] in ("append", "update", "event"):
                changed.append((eid, entry.get("form", ""), entry.get("id", "")))
        return changed

    def _hold(self, eid: str, entry: dict[str, Any]) -> None:
        """Keep a batch member until its commit (a resent copy is the same eid, kept once)."""
        fate = self.batch_fate.get(entry["batch"])
        if fate is None:
            self.held.setdefault(entry["batch"], {})[eid] = entry
        else:  # after its batch was decided: never applied (a batch is whole at its commit or never)
            self.outcome[eid] = fate if fate != "ok" else "bad"

    def _commit(self, eid: str, entry: dict[str, Any]) -> list[tuple[str, str, str]]:
        """Apply a batch's members at its commit, all or none; their verdicts become the batch's."""
        bid = entry.get("batch", "")
        members = self.held.pop(bid, {})
        fate = self.batch_fate.get(bid) or self._batch_verdict(list(members.values()), entry.get("n"))
        changed = []
        for member_eid, member in members.items():
            self.outcome[member_eid] = self._apply(member) if fate == "ok" else fate
            if fate == "ok":
                changed.append((member_eid, member.get("form", ""), member.get("id", "")))
        self.batch_fate.setdefault(bid, fate)
        self.outcome[eid] = fate
        return changed

    def _batch_verdict(self, members: list[dict[str, Any]], n: Any) -> str:
        if len(members) != n:
            return "torn"
        ids: set[tuple[str, str]] = set()
        for member in members:
            if member.get("op") not in ("append", "update"):  # updates: Store.write_batch
                return "bad"
            key = (member.get("form", ""), member["id"])
            verdict = "exists" if key in ids else self.verdict(member)
            if verdict != "ok":
                return verdict
            ids.add(key)
        return "ok"

    def _rename(self, eid: str, entry: dict[str, Any]) -> list[tuple[str, str]]:
        """Apply a rename where the rows read so far allow it; the (form, row id) pairs whose view row must be
        written again: every row of the form when a column moved (the new key's own column, empty, leaves
        its place to join the old key's)."""
        verdict = self.verdict(entry)
        self.outcome[eid] = verdict
        if verdict != "ok":
            return []
        form, old, new = entry["form"], entry["from"], entry["to"]
        self.state.apply(entry)
        layout = self.layout.setdefault(form, [])
        shifted = False
        if old in layout:
            if new in layout:
                shifted = layout.index(new) < len(layout) - 1
                layout.remove(new)
            layout[layout.index(old)] = new
        return [(form, rid) for rid in self.state.rows.get(form, {})] if shifted else []

    def verdict(self, entry: dict[str, Any]) -> str:
        """What applying ``entry`` now would do (without applying it)."""
        op = entry.get("op")
        if op == "rename":
            if not all(isinstance(entry.get(k), str) for k in ("at", "form", "from", "to")):
                return "bad"
            problem = self.state.rename_problem(entry["form"], entry["from"], entry["to"])
            return "ok" if not problem else "exists" if problem == "rename_target_has_values" else "bad"
        rows = self.state.rows.get(entry.get("form", ""), {})
        if op == "append":
            return "exists" if entry["id"] in rows else "ok"
        if op == "update":
            cur = rows.get(entry["id"])
            return "ok" if cur is not None and entry["rev"] == cur.rev + 1 else "stale"
        return "ok"

    def fates(self, entries: list[dict[str, Any]], *, precheck: bool) -> list[Fate | None]:
        """The answer for each of ``entries`` whose fate the log already decides, else None.

        With ``precheck`` (before sending) an update already stale against the rows read so far,
        or against an earlier entry of ``entries``, is answered with a conflict; without it
        (after sending) every entry is in the log and is decided.
        """
        answers: list[Fate | None] = []
        expected: dict[tuple[str, str], int] = {}
        for e in entries:
            verdict = self.outcome.get(e["eid"])
            if verdict is None and precheck and e["op"] == "update":
                key = (e["form"], e["id"])
                cur = self.state.rows.get(e["form"], {}).get(e["id"])
                if e["rev"] != expected.get(key, cur.rev if cur else 0) + 1:
                    verdict = "stale"
                expected[key] = e["rev"]
            elif verdict is None and e["op"] == "append":
                expected[(e["form"], e["id"])] = 1  # an update later in this batch builds on it
            answers.append(None if verdict is None else self._answer(e, verdict))
        return answers

    def _answer(self, e: dict[str, Any], verdict: str) -> Fate:
        rows = self.state.rows.get(e.get("form", ""), {})
        if e["op"] == "rename" and verdict != "ok":  # another server's write got in first: checked again on the log
            problem = self.state.rename_problem(e["form"], e["from"], e["to"]) or "rename_target_has_values"
            return None, rename_refused(self.state, e["form"], e["from"], e["to"], problem)
        if e["op"] not in ("append", "update"):
            return None, None
        if e.get("batch") and verdict == "stale":  # a member changed a row changed since it was read
            return None, ConflictError("这批记录中有记录在读取之后已被他人修改，整批未保存：请重新读取后再提交。",
                                       current=rows.get(e["id"]))
        if e.get("batch") and verdict != "ok":
            code, why = _BATCH_REFUSED.get(verdict, ("batch_invalid", "内容无效"))
            return None, Unavailable(f"这批记录未能完整写入 Google 表格（{why}），整批未保存，请重新提交。", code=code)
        cur = rows.get(e["id"])
        if verdict == "stale":
            base = e["rev"] - 1
            return None, ConflictError(self.state.conflict_message(e["form"], e["id"], base), current=cur)
        if e["op"] == "update" and cur is not None and cur.rev > e["rev"]:
            # Later versions already landed; answer with the version this entry made.
            return _version(cur, e), None
        return cur, None

    def _apply(self, entry: dict[str, Any] | None) -> str:
        if entry is None:
            return "bad"
        verdict = self.verdict(entry)
        if verdict != "ok":
            return verdict
        op, form = entry["op"], entry.get("form", "")
        if op == "sheet":
            entry = {**entry, "columns": merged_columns(self.state.specs.get(form), entry["columns"])}
            if form not in self.titles:
                taken = set(self.titles.values()) | set(RESERVED_TITLES)
                title = entry["title"] if entry["title"] not in taken else f"{entry['title']}（{form}）"
                self.titles[form] = title
            self._extend_layout(form, [c[0] for c in entry["columns"] if c[0] not in self.state.renames.get(form, {})])
        elif op == "append":
            index = self.ordinal.setdefault(form, {})
            index[entry["id"]] = len(index)
        self.state.apply(entry)
        if op in ("append", "update"):
            self._extend_layout(form, list(self.state.renamed(form, entry.get("values", {}))))
        return "ok"

    def _extend_layout(self, form: str, keys: list[str]) -> None:
        layout = self.layout.setdefault(form, [])
        known = set(layout)
        layout.extend(k for k in keys if k not in known and not known.add(k))
        self.widest[form] = max(self.widest.get(form, 0), len(layout))


def merged_columns(old: SheetSpec | None, columns: list[list[str]]) -> list[list[str]]:
    """Columns of a new sheet entry merged over the old spec: new labels win, old columns stay."""
    merged = {c.key: column_json(c) for c in (old.columns if old else ())}
    merged.update({c[0]: list(c) for c in columns})
    return list(merged.values())


def _version(cur: Record, e: dict[str, Any]) -> Record:
    """The record as entry ``e`` left it, when later versions have already been applied."""
    return Record(cur.form_id, cur.id, e["rev"], e.get("status", cur.status), cur.form_version, cur.owner, cur.org,
                  cur.city, cur.created_at, dt.datetime.fromisoformat(e["at"]), e["actor"]["account"],
                  {**cur.values, **decode_values(e.get("values", {}))})
