"""Command line for the local store, and for the uploaded files of whichever store the app uses.

    python -m lib.store verify <dir> [--workbook campaign.xlsx]    exit 1 when the workbook or the checkpoint and the log disagree
    python -m lib.store rebuild <dir> [--workbook campaign.xlsx]   rewrite the workbook from the log
    python -m lib.store materialise <dir> [--serve]                write it once (or keep it current)
    python -m lib.store gc-files <dir> [--hours 24] [--dry-run] [--secrets .streamlit/secrets.toml]
                                                                   delete uploaded files no row names

``gc-files`` reads the rows of the store the app is configured with (the ``store_backend`` setting, from
``APP_STORE_BACKEND`` or the ``[app]`` table of the secrets): after a move to Google Sheets the local log
left in ``<dir>`` names none of the files uploaded since, so judging by it would delete them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from lib.core.blobs import DAY_SECONDS, Blobs, named_files
from lib.core.errors import AppError
from lib.settings import load_settings
from lib.store.local.external import NotSettled
from lib.store.local.materialiser import materialise, serve
from lib.store.local.store import LocalStore
from lib.store.local.verify import verify
from lib.store.sheets.outbox import read_pending
from lib.store.state import State


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.store", description="本地工作簿存储的维护工具")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("verify", "核对工作簿、检查点与日志是否一致"), ("rebuild", "按日志重建工作簿"),
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
            cmd.add_argument("--secrets", type=Path, default=Path(".streamlit/secrets.toml"),
                             help="应用的 secrets.toml（其 [app] 表的 store_backend 决定读哪个存储，[gsheets] 表为 Google 表格的配置）")
    args = parser.parse_args(argv)

    if args.command == "materialise" and args.serve:
        serve(args.data_dir, args.workbook, args.debounce, sys.stdin.buffer, LocalStore)
        return 0
    if args.command == "gc-files":
        return gc_files(args)
    if not (args.data_dir / f"{Path(args.workbook).stem}.log.jsonl").exists():
        print(f"{args.data_dir} 中没有数据日志 {Path(args.workbook).stem}.log.jsonl", file=sys.stderr)
        return 2
    # verify and rebuild read the whole log, not a checkpoint: the log is what they judge and rebuild from.
    with LocalStore(args.data_dir, args.workbook, background=False, use_checkpoint=False) as store:
        if args.command == "verify":
            report = verify(store)
            print("\n".join(report.lines()))
            return 0 if report.ok else 1
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
        except NotSettled as err:  # someone's program is still saving the workbook: never written over half-saved
            print(f"{err}（请关闭正在保存该工作簿的程序后再运行本命令）。", file=sys.stderr)
            return 2
        rows = sum(len(r) for r in store.state.rows.values())
        print(f"完成：{len(stamp['layout'])} 个表单，{rows} 条记录，{len(store.state.audit)} 条审计，"
              f"用时 {time.monotonic() - started:.1f} 秒。")
        return 0


def gc_files(args: argparse.Namespace) -> int:
    """``gc-files`` on the store the app's settings name: every row and revision of the local log, or of
    the spreadsheet (its ``_log``) plus what every Sheets outbox in the folder still holds. Whatever cannot
    be read (a setting, the secrets, the spreadsheet) is said and nothing is deleted (exit 2)."""
    try:
        secrets = _secrets(args.secrets)
        backend = load_settings(os.environ, secrets).store_backend
        if backend == "local":
            if not (args.data_dir / f"{Path(args.workbook).stem}.log.jsonl").exists():
                print(f"{args.data_dir} 中没有数据日志 {Path(args.workbook).stem}.log.jsonl，未删除任何文件", file=sys.stderr)
                return 2
            with LocalStore(args.data_dir, args.workbook, background=False) as store:
                keep = named_in(store.state)
        elif backend == "gsheets":
            keep = _named_in_sheets(secrets.get("gsheets") or {}, args.data_dir)
        else:
            print(f"设置 store_backend 的值「{backend}」不是可用的存储后端（local 或 gsheets），未删除任何文件", file=sys.stderr)
            return 2
    except AppError as exc:  # a setting, the secrets or the spreadsheet: named in the message
        print(f"{exc}\n无法读取应用的全部记录，未删除任何文件。", file=sys.stderr)
        return 2
    return collect_files(keep, args.data_dir / "files", args.hours, args.dry_run, backend)


def _secrets(path: Path) -> dict[str, Any]:
    """The app's secrets.toml as Streamlit reads it; none when there is no such file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AppError(f"{path} 无法读取：{exc}", code="secrets_unreadable") from None


def named_in(state: State) -> set[str]:
    """The files a row of ``state`` names now or named in any revision (the audit holds each
    revision's values, drafts included)."""
    keep: set[str] = set()
    for rows in state.rows.values():
        for record in rows.values():
            keep |= named_files(record.values)
    for entry in state.audit:
        keep |= named_files(entry.changes)
    return keep


def _named_in_sheets(table: dict[str, Any], data_dir: Path) -> set[str]:
    """The files the spreadsheet's rows and revisions name, and those of changes still waiting in any
    outbox under ``data_dir`` (accepted by a running or stopped app, not yet in the spreadsheet). The
    store is opened with an outbox of its own in a temporary folder, so the app's are only read."""
    from lib.store.sheets.store import open_sheets_store  # imported late: only this backend needs gspread

    with tempfile.TemporaryDirectory() as scratch:
        store = open_sheets_store(table, Path(scratch))
        try:
            store.refresh()
            with store.sync.reading() as log:
                keep = named_in(log.state)
        finally:
            store.close()
    for outbox in sorted((data_dir / "sheets_outbox").glob("*/*.jsonl")):
        keep |= named_files(read_pending(outbox))
    return keep


def collect_files(keep: set[str], folder: Path, hours: float, dry_run: bool, backend: str = "local") -> int:
    """Delete the files of ``folder`` not in ``keep`` and not stored again within ``hours``; say which."""
    gone = Blobs(folder).sweep(keep, older_than=hours * 3600, dry_run=dry_run)
    where = "Google 表格" if backend == "gsheets" else "本地日志"
    print(f"按{where}中的记录：{'将删除' if dry_run else '已删除'} {len(gone)} 个没有记录引用、{hours:g} 小时内未再上传的文件；"
          f"保留记录引用的 {len(keep)} 个。")
    for name in gone:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
