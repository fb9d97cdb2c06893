"""Seed a local store with demo data.

    python -m lib.demo --rows 2000 --data-dir data/demo [--seed 2020] [--forms DIR]

The forms are those the app serves (setting ``forms_dir``: APP_FORMS_DIR or the embedded default)
unless ``--forms`` names a folder; the folder used is printed. A campaign the demo was not written
for is refused with one message and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

from lib.core.errors import AppError
from lib.forms import load_catalog
from lib.settings import load_settings

from .campaign import seed_demo


def _secrets(path: Path = Path(".streamlit") / "secrets.toml") -> dict:
    """The app's secrets.toml, read as Streamlit reads it from the working folder (its [app] table may
    set forms_dir); none when there is no such file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise AppError(f"{path} 无法读取：{exc}", code="secrets_unreadable") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.demo", description="生成演示数据并写入本地工作簿")
    parser.add_argument("--rows", type=int, default=2000, help="附件1 项目行数（附件3 约为其 40%%，附件2 约为其 3%%）")
    parser.add_argument("--data-dir", type=Path, required=True, help="本地存储目录")
    parser.add_argument("--seed", type=int, default=2020, help="随机种子，相同种子生成相同数据")
    parser.add_argument("--forms", type=Path, help="表单定义目录（默认：应用设置 forms_dir，即 APP_FORMS_DIR 或内置默认值）")
    args = parser.parse_args(argv)

    try:
        forms = args.forms or load_settings(os.environ, _secrets()).forms_dir
    except AppError as exc:  # a setting that cannot be used, named
        print(exc, file=sys.stderr)
        return 2
    print(f"表单定义目录：{forms}", file=sys.stderr)
    catalog = load_catalog(forms)
    if catalog.problems():
        for name, problems in catalog.problems().items():
            for p in problems:
                print(f"{name}: {p}", file=sys.stderr)
        return 2
    from lib.store.factory import open_store  # imported late: opening a store is the slow part

    try:
        # No background writer: the workbook is written once, below, and the command returns only when it
        # is whole (a writer stopped at exit could leave it half-written, at 20,000 rows and more).
        counts = seed_demo(
            lambda clock: open_store("local", data_dir=args.data_dir, clock=clock, background=False),
            catalog,
            rows=args.rows,
            seed=args.seed,
            progress=lambda fraction, text: print(f"\r{fraction:6.1%} {text}", end="", file=sys.stderr),
        )
    except AppError as exc:  # another campaign than the demo's, a register the import refuses: one line, no traceback
        print(exc, file=sys.stderr)
        return 2
    print(file=sys.stderr)
    with open_store("local", data_dir=args.data_dir, background=False) as store:
        store.flush_workbook()  # `python -m lib.store verify` calls it 一致 from here on
    for form_id, n in counts.items():
        print(f"{catalog.form(form_id).short_title}：{n} 行")
    return 0


if __name__ == "__main__":
    sys.exit(main())
