"""Does the workbook on disk agree with the log, and does the checkpoint? (``python -m lib.store verify <dir>``)"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib.store.base import Unavailable
from lib.store.codec import same_cell
from lib.store.entries import unbatched
from lib.store.local import checkpoint
from lib.store.local.log import LogFile
from lib.store.local.workbook import AUDIT_HEADERS, AUDIT_SHEET, layout, matching_stamp, read_limits, read_sheets
from lib.store.state import State

if TYPE_CHECKING:
    from lib.store.local.store import LocalStore

_SHOWN = 10  # mismatches described per sheet; the rest are counted


@dataclass
class SheetReport:
    """What the log says about one form, and where the workbook disagrees."""

    form_id: str
    sheet: str
    rows: int
    latest_rev: int
    statuses: Counter[str]
    mismatches: int = 0
    details: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.mismatches += 1
        if len(self.details) < _SHOWN:
            self.details.append(text)


@dataclass
class Report:
    log_lines: int
    sheets: list[SheetReport]
    problems: list[str]  # whole-workbook problems: missing, unreadable, edited outside; a checkpoint that disagrees
    checkpoint: str = ""  # what the checkpoint is (a line for people)
    notes: list[str] = field(default_factory=list)  # what is as the writer means it to be, said for people

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.mismatches == 0 for s in self.sheets)

    def lines(self) -> list[str]:
        out = [f"日志：{self.log_lines} 行"]
        if self.checkpoint:
            out.append(f"检查点：{self.checkpoint}")
        out += [f"问题：{p}" for p in self.problems]
        out += [f"说明：{n}" for n in self.notes]
        for s in self.sheets:
            statuses = " / ".join(f"{k} {v}" for k, v in s.statuses.most_common()) or "无"
            out.append(f"表单 {s.form_id}（工作表「{s.sheet}」）：记录 {s.rows}，最高版本 {s.latest_rev}，"
                       f"状态 {statuses}，不一致 {s.mismatches}")
            out += [f"  - {d}" for d in s.details]
        out.append("结论：一致" if self.ok else "结论：不一致，可运行 `python -m lib.store rebuild <目录>` 从日志重建工作簿")
        return out


def verify(store: LocalStore) -> Report:
    """Compare every row, cell and audit entry of the workbook with the log."""
    store.refresh()
    state = store.state
    sheets = layout(state.specs, state.columns)
    reports = []
    for s in sheets:
        recs = list(state.rows.get(s.form_id, {}).values())
        reports.append(SheetReport(s.form_id, s.name, len(recs), max((r.rev for r in recs), default=0),
                                   Counter(r.status for r in recs)))
    report = Report(store.log.lines_read, reports, [])
    report.checkpoint = check_checkpoint(store, report.problems)
    path = store.workbook_path
    if not path.exists():
        report.problems.append(f"工作簿 {path.name} 不存在")
        return report
    stamp = matching_stamp(path)
    if stamp is None:
        report.problems.append(f"工作簿 {path.name} 在系统最后一次写入后被修改过（或不是本系统写入的）")
    try:
        grids = read_sheets(path, read_limits(state))
    except Exception as err:  # noqa: BLE001 - any reader error means the file is not usable
        report.problems.append(f"工作簿无法读取：{err}")
        return report
    for s, rep in zip(sheets, reports, strict=True):
        _compare_sheet(s.columns, list(state.rows.get(s.form_id, {}).values()), grids.get(s.name), rep)
    audit_grid = grids.get(AUDIT_SHEET)
    if audit_grid is None or tuple(audit_grid[0][: len(AUDIT_HEADERS)]) != AUDIT_HEADERS:
        report.problems.append("缺少 _audit 工作表或其表头不对")
    else:
        waiting = deferred_events(store, stamp)
        if len(audit_grid) - 1 != len(state.audit) - waiting:
            report.problems.append(f"_audit 工作表有 {len(audit_grid) - 1} 条，日志有 {len(state.audit)} 条"
                                   + (f"（其中 {waiting} 条事件待写入）" if waiting else ""))
        elif waiting:
            report.notes.append(f"{waiting} 条登录等事件待下次写入工作簿（只有事件时后台不重写工作簿）")
    return report


def deferred_events(store: LocalStore, stamp: dict[str, Any] | None) -> int:
    """How many audit events the log holds past the workbook on disk (``stamp``: the one we wrote) when that
    is all it holds past it: the background writer does not rewrite the file for events alone
    (``materialiser._events_only``), they reach it with the next data change. 0 when anything else follows
    (a change the file lacks is a disagreement) or the stamp's offset is not one of the log's."""
    start, end = (stamp or {}).get("offset"), store.log.offset
    if not isinstance(start, int) or not 0 < start <= end:
        return 0
    events = 0

    def count(entry: dict[str, Any]) -> None:
        nonlocal events
        for member in unbatched(entry):
            if member["op"] != "event":
                raise _DataChange
            events += 1

    reader = LogFile(store.log_path, store.log.lock.path)
    try:
        reader.start_at(start, 0)
        reader.read_new(count, upto=end)
    except _DataChange:
        return 0
    except (Unavailable, KeyError, TypeError):  # not a line's start of this log: the file is not what it says
        return 0
    finally:
        reader.close()
    return events


class _DataChange(Exception):
    """Stops the reading of the log past the workbook at its first entry that is not an event."""


def _compare_sheet(columns: tuple[tuple[str, str, str], ...], recs: list[Any], grid: list[list[Any]] | None,
                   rep: SheetReport) -> None:
    if grid is None:
        rep.add("工作表不存在")
        return
    headers = [str(h) for h in grid[0]] if grid else []
    expected = [h for _, h, _ in columns]
    if headers[: len(expected)] != expected:
        rep.add(f"表头不一致：{headers[:len(expected)]} ≠ {expected}")
        return
    by_id = {}
    for line in grid[1:]:
        rid = str(line[0])
        if rid in by_id:
            rep.add(f"记录 {rid} 出现多次")
        by_id[rid] = line
    for rec in recs:
        line = by_id.pop(rec.id, None)
        if line is None:
            rep.add(f"缺少记录 {rec.id}")
            continue
        row = rec.as_row()
        for i, (key, header, _) in enumerate(columns):
            cell = line[i] if i < len(line) else ""
            if not same_cell(row.get(key), cell):
                rep.add(f"记录 {rec.id} 的「{header}」：工作簿为 {cell!r}，日志为 {row.get(key)!r}")
    for rid in by_id:
        rep.add(f"工作簿多出记录 {rid or '（无编号）'}")


def check_checkpoint(store: LocalStore, problems: list[str]) -> str:
    """Load the checkpoint and compare it with a replay of the log bytes it covers; a difference goes to
    ``problems``. Returns what the checkpoint is, for the report. One that cannot be used (damaged, stale)
    is said but is no disagreement: no store opens from it, and the next workbook write replaces it."""
    path = store.checkpoint.path
    try:
        loaded = checkpoint.read(path, store.log)
    except FileNotFoundError:
        return f"无（日志增长 {checkpoint.EVERY_BYTES // 2**20} MiB 后由后台写入）"
    except checkpoint.Unusable as err:
        return f"不可用（{err}）；打开存储时从日志重放，下次写入工作簿时重写"
    replayed = State()
    store.replay(replayed.apply, upto=loaded.offset)
    found = differences(loaded.state, replayed)
    if found:
        shown = "；".join(found[:_SHOWN]) + (f"；另有 {len(found) - _SHOWN} 处" if len(found) > _SHOWN else "")
        problems.append(f"检查点与日志不一致：{shown}。`python -m lib.store rebuild <目录>` 会按日志重写检查点（或删除检查点文件 {path.name}：存储将从日志重放打开）")
        return f"覆盖日志前 {loaded.offset} 字节（{loaded.lines} 行），与日志不一致"
    return f"覆盖日志前 {loaded.offset} 字节（{loaded.lines} 行），与日志一致"


def differences(state: State, replayed: State) -> list[str]:
    """Where ``state`` (a checkpoint's) differs from ``replayed`` (the log's), in Chinese; types count
    (1, 1.0 and True differ, as do Decimal("1.50") and Decimal("1.5"))."""
    out = []
    for name, label in (("specs", "表单定义"), ("renames", "字段改名"), ("extra_keys", "未声明的字段"),
                        ("generation", "变更计数")):
        if repr(getattr(state, name)) != repr(getattr(replayed, name)):
            out.append(f"{label}不同")
    if state.known_keys() != replayed.known_keys():
        out.append("已知字段（声明过或用过的键）不同")
    for form in dict.fromkeys([*replayed.rows, *state.rows]):
        mine, theirs = state.rows.get(form, {}), replayed.rows.get(form, {})
        for rid in dict.fromkeys([*theirs, *mine]):
            a, b = mine.get(rid), theirs.get(rid)
            if a is None or b is None:
                out.append(f"表单 {form} 的记录 {rid} {'只在日志中' if a is None else '只在检查点中'}")
                continue
            row = a.as_row()
            for key, value in b.as_row().items():
                if repr(row.get(key)) != repr(value):
                    out.append(f"表单 {form} 的记录 {rid} 的 {key}：检查点为 {row.get(key)!r}，日志为 {value!r}")
            if list(a.values) != list(b.values):
                out.append(f"表单 {form} 的记录 {rid} 的字段：检查点为 {list(a.values)}，日志为 {list(b.values)}")
    if len(state.audit) != len(replayed.audit):
        out.append(f"审计：检查点 {len(state.audit)} 条，日志 {len(replayed.audit)} 条")
    for i, (a, b) in enumerate(zip(state.audit, replayed.audit)):
        if repr(a) != repr(b):
            out.append(f"第 {i + 1} 条审计（{b.action} {b.form_id} {b.row_id}）不同")
    return out
