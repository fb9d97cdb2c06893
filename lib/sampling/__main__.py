"""Sampling from the office's shell, on the local store (docs/sampling.md):

    python -m lib.sampling verify DRAW_ID [--data-dir data] [--forms-dir forms]   一致 (exit 0) or what differs (exit 1)
    python -m lib.sampling verify ASSIGNMENT_ID …   the same for an inspector draw (its id I-…)
    python -m lib.sampling freeze [--data-dir data] [--forms-dir forms]
    python -m lib.sampling draw FRAME_ID (--seed N | --generate-seed) [--reason 原因] [--data-dir data] [--forms-dir forms]

Exit codes (``EXIT_CODES``, in every command's help): 0 done (verify: 一致), 1 verify found differences,
2 nothing done (a usage error, in Chinese; a record not found; a refusal). The store is opened with the
app's rules for workbook edits (``lib.external_edits.FormEditRules`` on ``--forms-dir``), so a cell a
person edited is imported as the app would import it, and nothing in a sampling sheet.

``freeze`` and ``draw`` act as the province (whoever can run this shell holds the data folder) and are
recorded under the account ``命令行:<system user>``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
from pathlib import Path
from typing import NoReturn

from lib.core import roles
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.external_edits import FormEditRules
from lib.forms.loader import load_catalog
from lib.sampling.draw import SELECTION_WORDS
from lib.sampling.record import frame_record, freeze, generate_seed, record_draw
from lib.sampling.verify import verify_record
from lib.settings import load_settings
from lib.store.factory import open_store

EXIT_CODES = "退出码：0 完成（核验：一致）；1 核验不一致；2 未执行（参数有误、找不到记录、被拒绝，原因见错误输出）。"

#: argparse's own messages, in Chinese (pattern -> template); another one is shown after a Chinese lead.
_MESSAGES = (
    (re.compile(r"the following arguments are required: (.+)"), "缺少参数：{0}"),
    (re.compile(r"one of the arguments (.+) is required"), "须给出以下参数之一：{0}"),
    (re.compile(r"unrecognized arguments: (.+)"), "无法识别的参数：{0}"),
    (re.compile(r"argument (\S+): not allowed with argument (\S+)"), "参数 {0} 与 {1} 不能同时使用"),
    (re.compile(r"argument (\S+): expected one argument"), "参数 {0} 后须跟一个值"),
    (re.compile(r"argument (\S+): invalid choice: '?([^' ]*)'? .*"), "没有命令「{1}」：可用的命令为 verify、freeze、draw"),
)


class ChineseParser(argparse.ArgumentParser):
    """argparse with its usage errors in Chinese (exit code 2, as argparse's own)."""

    def error(self, message: str) -> NoReturn:
        for pattern, template in _MESSAGES:
            found = pattern.fullmatch(message)
            if found:
                message = template.format(*found.groups())
                break
        else:
            message = f"命令行参数有误（{message}）"
        self.exit(2, f"{message}。用法见 {self.prog} -h\n")


def main(argv: list[str] | None = None) -> int:
    common = ChineseParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=Path("data"))
    common.add_argument("--workbook", default="campaign.xlsx")
    common.add_argument("--forms-dir", type=Path, default=Path("forms"))
    parser = ChineseParser(prog="python -m lib.sampling", description="随机抽查：冻结抽样框、抽样、核验", epilog=EXIT_CODES)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="按记录重新抽样（抽样编号 D-…）或重新抽取检查员（检查员抽取编号 I-…），核对结果",
                           parents=[common], epilog=EXIT_CODES)
    check.add_argument("draw_id", metavar="编号")
    sub.add_parser("freeze", help="冻结抽样框", parents=[common], epilog=EXIT_CODES)
    drawing = sub.add_parser("draw", help="在已冻结的抽样框上抽样", parents=[common], epilog=EXIT_CODES)
    drawing.add_argument("frame_id")
    seed = drawing.add_mutually_exclusive_group(required=True)
    seed.add_argument("--seed", help="公布的随机数（非负整数）")
    seed.add_argument("--generate-seed", action="store_true", help="由系统生成随机数种子（会显示并记录）")
    drawing.add_argument("--reason", default="", help="重新抽样的原因（已有有效抽样结果时必填）")
    args = parser.parse_args(argv)

    if not (args.data_dir / f"{Path(args.workbook).stem}.log.jsonl").exists():
        print(f"{args.data_dir} 中没有数据日志 {Path(args.workbook).stem}.log.jsonl", file=sys.stderr)
        return 2
    actor = Actor(f"命令行:{getpass.getuser()}", roles.PROVINCE)
    try:
        today = load_settings(os.environ).campaign_today
    except AppError as err:  # a bad APP_CAMPAIGN_TODAY
        print(str(err), file=sys.stderr)
        return 2
    # Cells a person edited in the workbook are imported as the app imports them: the form's rules,
    # and nothing in a sheet that is no form (the sampling records among them).
    store = open_store("local", data_dir=args.data_dir, workbook_name=args.workbook, background=False,
                       edit_check=FormEditRules(args.forms_dir, today=today))
    try:
        if args.command == "verify":
            report = verify_record(store, args.draw_id)
            print("\n".join(report.lines()))
            return 0 if report.ok else 1
        catalog = load_catalog(args.forms_dir)
        if args.command == "freeze":
            info, _ = freeze(store, catalog, actor)
            print(f"已冻结抽样框 {info.frame_id}：{info.rows} 个项目，指纹 {info.fingerprint}")
            return 0
        typed = args.seed
        if args.generate_seed:  # audited against the frame, as the page's 系统生成随机数 is
            typed = str(generate_seed(store, actor, frame_record(store, args.frame_id), f"为抽样框 {args.frame_id} 生成（命令行）"))
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
