"""Command line for the local store.

    python -m lib.store verify <dir> [--workbook campaign.xlsx]    exit 1 when workbook and log disagree
    python -m lib.store rebuild <dir> [--workbook campaign.xlsx]   rewrite the workbook from the log
    python -m lib.store materialise <dir> [--serve]                write it once (or keep it current)
    python -m lib.store gc-files <dir> [--hours 24] [--dry-run]    delete uploaded files no row names
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lib.core.blobs import DAY_SECONDS, Blobs, named_files
from lib.store.local.materialiser import materialise, serve
from lib.store.local.store import LocalStore
from lib.store.local.verify import verify


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.store", description="本地工作簿存储的维护工具")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("verify", "核对工作簿与日志是否一致"), ("rebuild", "按日志重建工作簿"),
                            ("materialise", "把日志写入工作簿（--serve 持续运行，供应用内部使用）"),
                            ("gc-files", "删除没有任何记录（含草稿、历次修改）引用、且超过时限未再上传的文件（上传后未保存的表单留下的）")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("data_dir", type=Path)
        cmd.add_argument("--workbook", default="campaign.xlsx")
        if name == "rebuild":
            cmd.add_argument("--wait", type=float, default=30.0, help="等待其他写入者释放工作簿的秒数")
        if name == "materialise":
            cmd.add_argument("--serve", action="store_true")
            cmd.add_argument("--debounce", type=float, default=0.3)
        if name == "gc-files":
            cmd.add_argument("--hours", type=float, default=DAY_SECONDS / 3600, help="只删除这么多小时内未再上传的文件（默认 24）")
            cmd.add_argument("--dry-run", action="store_true", help="只列出将删除的文件，不删除")
    args = parser.parse_args(argv)

    if args.command == "materialise" and args.serve:
        serve(args.data_dir, args.workbook, args.debounce, sys.stdin.buffer, LocalStore)
        return 0
    if not (args.data_dir / f"{Path(args.workbook).stem}.log.jsonl").exists():
        print(f"{args.data_dir} 中没有数据日志 {Path(args.workbook).stem}.log.jsonl", file=sys.stderr)
        return 2
    with LocalStore(args.data_dir, args.workbook, background=False) as store:
        if args.command == "verify":
            report = verify(store)
            print("\n".join(report.lines()))
            return 0 if report.ok else 1
        if args.command == "gc-files":
            return collect_files(store, args.data_dir / "files", args.hours, args.dry_run)
        started = time.monotonic()
        print(f"正在从日志{'重建' if args.command == 'rebuild' else '写入'}工作簿 {store.workbook_path} …", flush=True)
        try:
            # The command line knows no form rules, so it never imports a person's edits (they would skip the
            # form's checks and the review lock): it keeps the edited file as a backup, and the app imports it.
            why = "按日志重建" if args.command == "rebuild" else "命令行写入时不加载表单规则，请在应用中保存修改后的工作簿以导入"
            stamp = materialise(store, not_imported=why, lock_timeout=getattr(args, "wait", None))
        except TimeoutError:
            print("工作簿正由运行中的应用维护（它会自动按日志重写）。如需强制重建，请先停止应用再运行本命令。",
                  file=sys.stderr)
            return 2
        rows = sum(len(r) for r in store.state.rows.values())
        print(f"完成：{len(stamp['layout'])} 个表单，{rows} 条记录，{len(store.state.audit)} 条审计，"
              f"用时 {time.monotonic() - started:.1f} 秒。")
        return 0


def collect_files(store: LocalStore, folder: Path, hours: float, dry_run: bool) -> int:
    """``gc-files``: keep every file a row names now or named in any revision (the audit holds each
    revision's values, drafts included), and any file stored within ``hours``; delete the rest."""
    keep = set()
    for rows in store.state.rows.values():
        for record in rows.values():
            keep |= named_files(record.values)
    for entry in store.state.audit:
        keep |= named_files(entry.changes)
    gone = Blobs(folder).sweep(keep, older_than=hours * 3600, dry_run=dry_run)
    print(f"{'将删除' if dry_run else '已删除'} {len(gone)} 个没有记录引用、{hours:g} 小时内未再上传的文件；保留记录引用的 {len(keep)} 个。")
    for name in gone:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
