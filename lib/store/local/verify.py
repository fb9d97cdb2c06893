"""Does the workbook on disk agree with the log? (``python -m lib.store verify <dir>``)"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib.store.codec import same_cell
from lib.store.local.workbook import AUDIT_HEADERS, AUDIT_SHEET, layout, matching_stamp, read_limits, read_sheets

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
    problems: list[str]  # whole-workbook problems: missing, unreadable, edited outside

    @property
    def ok(self) -> bool:
        return not self.problems and all(s.mismatches == 0 for s in self.sheets)

    def lines(self) -> list[str]:
        out = [f"日志：{self.log_lines} 行"]
        out += [f"问题：{p}" for p in self.problems]
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
    path = store.workbook_path
    if not path.exists():
        report.problems.append(f"工作簿 {path.name} 不存在")
        return report
    if matching_stamp(path) is None:
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
    elif len(audit_grid) - 1 != len(state.audit):
        report.problems.append(f"_audit 工作表有 {len(audit_grid) - 1} 条，日志有 {len(state.audit)} 条")
    return report


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
