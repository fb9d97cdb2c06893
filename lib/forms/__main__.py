"""Command line for the form definitions the store keeps.

    python -m lib.forms export DIR [--secrets .streamlit/secrets.toml]

``export`` writes the version the app serves of every file (``lib.forms.versions.served``) into DIR, one
``<file>`` each, exactly as stored; files of DIR the store does not have are left alone. It reads the
store the app's settings name (``APP_<NAME>`` variables, then the ``[app]`` table of the secrets file):
the local store in ``data_dir``, or the Google spreadsheet of the ``[gsheets]`` table. Exported into the
app's ``forms_dir``, the files are the versions served, so nothing is published again. Every file is
written to a temporary name first and all are renamed only when all were written: a failure leaves DIR
as it was.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from lib.core.errors import AppError
from lib.settings import load_settings, read_secrets
from lib.store.factory import open_store

from .versions import check_file_name, served, versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.forms", description="数据存储中的表单定义版本")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="把应用当前使用的每个表单定义版本写回到目录中的 .yaml 文件")
    export.add_argument("folder", type=Path, help="写入的目录（例如 forms）")
    export.add_argument("--secrets", type=Path, default=Path(".streamlit/secrets.toml"),
                        help="应用的 secrets.toml（其 [app] 表决定读哪个存储，[gsheets] 表为 Google 表格的配置）")
    args = parser.parse_args(argv)
    try:
        texts = served_texts(args.secrets)
        if not texts:
            print("数据存储中还没有已发布的表单定义（应用首次启动时会从 forms 目录导入），未写入任何文件。", file=sys.stderr)
            return 2
        written = write_files(args.folder, texts)
    except AppError as exc:
        print(f"{exc}\n未写入任何文件。", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"无法写入目录 {args.folder}：{exc.strerror or exc}。未写入任何文件。", file=sys.stderr)
        return 2
    for file, (version, changed) in sorted(written.items()):
        print(f"  {file}：第 {version} 版{'（已更新）' if changed else '（与文件相同）'}")
    print(f"完成：{len(written)} 个文件写入 {args.folder}，其中 {sum(c for _, c in written.values())} 个有变化。")
    return 0


def served_texts(secrets_path: Path) -> dict[str, tuple[int, str]]:
    """File name -> (version, text) of every version the app serves, from the store its settings name."""
    secrets = read_secrets(secrets_path)
    cfg = load_settings(os.environ, secrets)
    with tempfile.TemporaryDirectory() as scratch:
        # The Sheets backend keeps an outbox in its data folder: a scratch one, so the app's is only read.
        folder = cfg.data_dir if cfg.store_backend == "local" else Path(scratch)
        options: dict[str, Any] = {"background": False} if cfg.store_backend == "local" else {}
        store = open_store(cfg.store_backend, data_dir=folder, workbook_name=cfg.workbook_name,
                           gsheets=secrets.get("gsheets"), **options)
        try:
            store.refresh()
            rows = served(versions(store))
        finally:
            store.close()
    return {file: (int(row.values["version"]), row.values["text"]) for file, row in rows.items()}


def write_files(folder: Path, texts: dict[str, tuple[int, str]]) -> dict[str, tuple[int, bool]]:
    """Write each text to ``folder/<file>``, all or none: every target is checked first (a folder of that
    name is refused before anything is written), every text goes to a temporary file, and each file
    replaced keeps a copy of what it held; a rename that fails puts back the files replaced before it.
    No temporary file stays. Returns file -> (version, whether the file's text changed)."""
    for file in texts:
        check_file_name(file)  # a name from the store never leaves the folder
    folder.mkdir(parents=True, exist_ok=True)
    for file in texts:
        target = folder / file
        if target.exists() and not target.is_file():
            raise OSError(errno.EISDIR, f"{file} 已存在且不是文件", str(target))
    temps: dict[str, Path] = {}
    backups: dict[str, Path | None] = {}  # file replaced -> the copy of what it held (None: it did not exist)
    try:
        for file, (_, text) in texts.items():
            temps[file] = _written(folder, file, text.encode("utf-8"))
        written = {}
        for file, (version, text) in texts.items():
            target = folder / file
            try:
                old = target.read_bytes()
            except FileNotFoundError:
                old = None
            backups[file] = _written(folder, file, old) if old is not None else None
            os.replace(temps[file], target)
            del temps[file]
            written[file] = (version, old is None or old != text.encode("utf-8"))
        done, backups = backups, {}
        for copy in done.values():
            if copy is not None:
                copy.unlink(missing_ok=True)
        return written
    except BaseException:
        for file, copy in backups.items():  # put back what was replaced (the last one may not have been yet)
            target = folder / file
            if copy is not None:
                os.replace(copy, target)
            elif file not in temps:
                target.unlink(missing_ok=True)
        raise
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def _written(folder: Path, file: str, body: bytes) -> Path:
    """A temporary file in ``folder`` holding ``body``, on disk before it is renamed anywhere."""
    fd, temp = tempfile.mkstemp(prefix=f".{file}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


if __name__ == "__main__":
    sys.exit(main())
