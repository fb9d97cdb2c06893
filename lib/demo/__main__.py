"""Seed a local store with demo data.

    python -m lib.demo --rows 2000 --data-dir data/demo [--seed 2020] [--forms forms]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lib.forms import load_catalog

from .campaign import seed_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.demo", description="生成演示数据并写入本地工作簿")
    parser.add_argument("--rows", type=int, default=2000, help="附件1 项目行数（附件3 约为其 40%%，附件2 约为其 3%%）")
    parser.add_argument("--data-dir", type=Path, required=True, help="本地存储目录")
    parser.add_argument("--seed", type=int, default=2020, help="随机种子，相同种子生成相同数据")
    parser.add_argument("--forms", type=Path, default=Path("forms"), help="表单定义目录")
    args = parser.parse_args(argv)

    catalog = load_catalog(args.forms)
    if catalog.problems():
        for name, problems in catalog.problems().items():
            for p in problems:
                print(f"{name}: {p}", file=sys.stderr)
        return 2
    from lib.store.factory import open_store  # imported late: opening a store is the slow part

    counts = seed_demo(
        lambda clock: open_store("local", data_dir=args.data_dir, clock=clock),
        catalog,
        rows=args.rows,
        seed=args.seed,
        progress=lambda fraction, text: print(f"\r{fraction:6.1%} {text}", end="", file=sys.stderr),
    )
    print(file=sys.stderr)
    for form_id, n in counts.items():
        print(f"{catalog.form(form_id).short_title}：{n} 行")
    return 0


if __name__ == "__main__":
    sys.exit(main())
