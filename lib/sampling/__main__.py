"""Sampling from the office's shell, on the local store (docs/sampling.md):

    python -m lib.sampling verify DRAW_ID [--data-dir data]      一致 (exit 0) or what differs (exit 1)
    python -m lib.sampling freeze [--data-dir data] [--forms-dir forms]
    python -m lib.sampling draw FRAME_ID (--seed N | --generate-seed) [--reason 原因] [--data-dir data] [--forms-dir forms]

``freeze`` and ``draw`` act as the province (whoever can run this shell holds the data folder) and are
recorded under the account ``命令行:<system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from lib.core import roles
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.forms.loader import load_catalog
from lib.sampling.draw import SELECTION_WORDS, new_seed
from lib.sampling.record import freeze, record_draw, verify
from lib.store.factory import open_store


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=Path("data"))
    common.add_argument("--workbook", default="campaign.xlsx")
    parser = argparse.ArgumentParser(prog="python -m lib.sampling", description="随机抽查：冻结抽样框、抽样、核验")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="按记录的抽样框和随机数种子重新抽样，核对结果", parents=[common])
    check.add_argument("draw_id")
    frozen = sub.add_parser("freeze", help="冻结抽样框", parents=[common])
    frozen.add_argument("--forms-dir", type=Path, default=Path("forms"))
    drawing = sub.add_parser("draw", help="在已冻结的抽样框上抽样", parents=[common])
    drawing.add_argument("frame_id")
    drawing.add_argument("--forms-dir", type=Path, default=Path("forms"))
    seed = drawing.add_mutually_exclusive_group(required=True)
    seed.add_argument("--seed", help="公布的随机数（非负整数）")
    seed.add_argument("--generate-seed", action="store_true", help="由系统生成随机数种子（会显示并记录）")
    drawing.add_argument("--reason", default="", help="重新抽样的原因（已有有效抽样结果时必填）")
    args = parser.parse_args(argv)

    if not (args.data_dir / f"{Path(args.workbook).stem}.log.jsonl").exists():
        print(f"{args.data_dir} 中没有数据日志 {Path(args.workbook).stem}.log.jsonl", file=sys.stderr)
        return 2
    actor = Actor(f"命令行:{getpass.getuser()}", roles.PROVINCE)
    store = open_store("local", data_dir=args.data_dir, workbook_name=args.workbook, background=False)
    try:
        if args.command == "verify":
            report = verify(store, args.draw_id)
            print("\n".join(report.lines()))
            return 0 if report.ok else 1
        catalog = load_catalog(args.forms_dir)
        if args.command == "freeze":
            info, _ = freeze(store, catalog, actor)
            print(f"已冻结抽样框 {info.frame_id}：{info.rows} 个项目，指纹 {info.fingerprint}")
            return 0
        typed = str(new_seed()) if args.generate_seed else args.seed
        if args.generate_seed:
            print(f"系统生成的随机数种子：{typed}")
        done = record_draw(store, catalog, args.frame_id, typed, actor, reason=args.reason, generated=args.generate_seed)
        drawn = done.sample.drawn
        print(f"抽样 {done.draw_id}：种子 {done.sample.seed}，抽中 {len(drawn)} 个项目"
              + (f"；已替换 {'、'.join(done.superseded)}" if done.superseded else ""))
        for row in drawn.itertuples():
            print(f"  {row.city}\t{row.voucher}\t入样概率 {row.probability:.4f}\t{SELECTION_WORDS[row.selection]}")
        return 0
    except AppError as err:
        print(str(err), file=sys.stderr)
        return 2
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
