"""Office files from the shell:

    python -m lib.office template FORM [-o FILE] [--forms DIR]   the blank import template of form FORM

FORM is a form's id (or its short title) in the forms folder (the settings' ``FORMS_DIR`` unless
``--forms`` names another); the template goes to FILE (default ``<short title>-导入模板.xlsx`` in the
current folder). Exit codes: 0 written; 2 nothing written (the reason on standard error, in Chinese).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lib.forms import FormDefinitionError
from lib.forms.loader import load_catalog
from lib.office.template import template_xlsx
from lib.settings import load_settings


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors say, in Chinese, how to call the command (exit code 2)."""

    def error(self, message: str):
        for english, chinese in (("the following arguments are required:", "缺少参数："), ("unrecognized arguments:", "无法识别的参数："),
                                 ("invalid choice:", "没有此命令：")):
            message = message.replace(english, chinese)
        sys.stderr.write(f"参数有误：{message}\n用法：python -m lib.office template 表单编号 [-o 文件] [--forms 目录]\n")
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="python -m lib.office", description="生成办公文件。")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    template = commands.add_parser("template", help="生成表单的空白导入模板（.xlsx）")
    template.add_argument("form", help="表单编号（YAML 中的 id）或简称")
    template.add_argument("-o", "--output", type=Path, help="输出文件（默认：<简称>-导入模板.xlsx）")
    template.add_argument("--forms", type=Path, help="表单定义目录（默认：设置 FORMS_DIR）")
    args = parser.parse_args(argv)
    folder = args.forms or load_settings(os.environ).forms_dir
    try:
        catalog = load_catalog(folder)
        forms = catalog.forms()
        campaign = catalog.campaign
    except (FormDefinitionError, OSError) as exc:
        sys.stderr.write(f"无法读取表单定义目录「{folder}」：{exc}\n")
        return 2
    form = next((f for f in forms if args.form in (f.id, f.short_title)), None)
    if form is None:
        names = "、".join(f"{f.id}（{f.short_title}）" for f in forms)
        sys.stderr.write(f"没有表单「{args.form}」。可用的表单：{names}\n")
        return 2
    output = args.output or Path(f"{form.short_title}-导入模板.xlsx")
    try:
        output.write_bytes(template_xlsx(form, campaign))
    except OSError as exc:
        sys.stderr.write(f"无法写入「{output}」：{exc.strerror or exc}\n")
        return 2
    print(f"已生成「{form.title}」的导入模板：{output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
