"""Move a local store's history into a Google spreadsheet.

    python -m lib.store.migrate --from-dir data --to-sheet SPREADSHEET_KEY
        [--workbook campaign.xlsx] [--secrets .streamlit/secrets.toml]

Every entry of the local log (sheets, rows, every version, events) is copied in order into the
spreadsheet's ``_log``, so records, revisions and the audit trail come across unchanged; the
readable sheets are then written from it. Each entry gets an id derived from its bytes, so a
migration that stopped half-way is simply run again: entries already copied are skipped.
The target must be empty of other data (a new spreadsheet shared with the service account).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from lib.store.base import StoreError
from lib.store.sheets.client import json_bytes, request_chunks
from lib.store.sheets.delivery import MAX_BATCH
from lib.store.sheets.log import encode_row, log_batch
from lib.store.sheets.store import SheetsStore, open_sheets_store


def read_local_log(path: Path) -> list[dict[str, Any]]:
    """Entries of a local log with their migration ids; a torn last line is left out."""
    entries = []
    data = path.read_bytes()
    for raw in data[: data.rfind(b"\n") + 1].splitlines():
        entry = json.loads(raw)
        if entry.get("op") == "log":
            continue
        digest = hashlib.sha1(raw).hexdigest()
        if entry["op"] != "batch":
            entries.append({**entry, "eid": "m" + digest[:15]})
            continue
        # A local batch line becomes the members and commit of one _log batch, with ids as stable as the line's.
        for i, member in enumerate(log_batch(entry["entries"], entry["at"], batch_id="m" + digest[:15])):
            entries.append({**member, "eid": f"m{digest[:12]}{i:x}"})
    return entries


def _units(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """``entries`` in runs a submission must not cut: a batch's members with their commit, else one entry."""
    units: list[list[dict[str, Any]]] = []
    for e in entries:
        if units and units[-1][-1].get("batch") and units[-1][-1]["op"] != "commit":
            units[-1].append(e)
        else:
            units.append([e])
    return units


def migrate(entries: list[dict[str, Any]], store: SheetsStore, *, progress=print) -> int:
    """Send ``entries`` not yet in the spreadsheet; return how many were sent."""
    sync = store.sync
    ours = {e["eid"] for e in entries}
    with sync.reading() as log:
        foreign = [eid for eid in log.outcome if eid not in ours]
        todo = [e for e in entries if e["eid"] not in log.outcome]
    if foreign:
        raise StoreError(f"目标表格的 _log 中已有 {len(foreign)} 条不属于本次迁移的记录；请迁移到一个新的空白表格。",
                         code="migrate_target_not_empty")
    sent = 0
    # Groups of one request each, so progress moves once per request sent.
    for units in request_chunks(_units(todo), lambda u: sum(json_bytes(encode_row(e)) for e in u), max_items=MAX_BATCH):
        group = [e for unit in units for e in unit]
        for job in sync.submit([dict(e) for e in group], wait=True, durable=False):
            if job.error is not None:
                raise job.error
        sent += len(group)
        progress(f"已写入 {sent}/{len(todo)} 条日志")
    progress("正在写入各表单工作表和 _audit …")
    if not store.wait_idle(timeout=600):
        progress("工作表尚未全部写完；日志已完整，应用启动后会继续补写。")
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.store.migrate", description="把本地存储迁移到 Google 表格")
    parser.add_argument("--from-dir", type=Path, required=True, help="本地存储目录（设置 data_dir）")
    parser.add_argument("--to-sheet", required=True, help="目标表格的 spreadsheet_key")
    parser.add_argument("--workbook", default="campaign.xlsx", help="本地工作簿文件名（设置 workbook_name）")
    parser.add_argument("--secrets", type=Path, default=Path(".streamlit/secrets.toml"),
                        help="含 [gsheets] 服务账号配置的 secrets.toml")
    args = parser.parse_args(argv)
    log_path = args.from_dir / f"{Path(args.workbook).stem}.log.jsonl"
    if not log_path.exists():
        print(f"找不到本地日志 {log_path}", file=sys.stderr)
        return 2
    table = dict(tomllib.loads(args.secrets.read_text(encoding="utf-8")).get("gsheets", {}))
    table["spreadsheet_key"] = args.to_sheet
    entries = read_local_log(log_path)
    started = time.monotonic()
    try:
        store = open_sheets_store(table, args.from_dir / "migrate")
    except StoreError as err:
        print(err, file=sys.stderr)
        return 1
    try:
        sent = migrate(entries, store)
        with store.sync.reading() as log:
            rows = sum(len(r) for r in log.state.rows.values())
    except StoreError as err:
        print(err, file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"完成：本地日志 {len(entries)} 条，本次写入 {sent} 条，表格中共 {rows} 条记录，用时 {time.monotonic() - started:.0f} 秒。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
