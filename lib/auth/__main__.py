"""Manage accounts from the shell (first administrator, a forgotten admin password):

    python -m lib.auth add ACCOUNT --role admin [--org 单位] [--org-code 信用代码] [--city 广州] [--email a@b.cn] [--data-dir data]
    python -m lib.auth password ACCOUNT [--data-dir data]
    python -m lib.auth list [--data-dir data]
    python -m lib.auth inspector ACCOUNT [--city 常住地市] [--org 单位] [--org-city 单位所在地市]
        [--conflict-provider 名称 ...] [--conflict-firm 名称 ...] [--conflict-lead-unit 名称 ...]
        [--health-date 2020-09-20] [--data-dir data]

The password is asked for twice without echo; it is never printed or logged. ``inspector`` changes
only the facts it is given (a conflict option replaces that kind's list; ``--conflict-firm ""``
empties it) and prints what the account then holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from pathlib import Path

from lib.core import roles

from .accounts import CONFLICT_FIELDS, CONFLICT_HELP, Account, AccountsFile
from .admin import INSPECTOR_LABELS, conflicts_text
from .errors import AccountError

#: The ``inspector`` command's options -> the facts they set.
_INSPECTOR_OPTIONS = {"city": "city", "org": "org", "org_city": "org_city", "conflict_provider": "conflict_providers",
                      "conflict_firm": "conflict_firms", "conflict_lead_unit": "conflict_lead_units", "health_date": "health_declared_on"}


def _password() -> str:
    first = getpass.getpass("新密码：")
    if first != getpass.getpass("再次输入："):
        raise AccountError("两次输入的密码不一致。", code="passwords_differ")
    return first


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, default=Path("data"))
    common.add_argument("--accounts-file", type=Path, help="默认为 DATA_DIR/accounts.json")
    parser = argparse.ArgumentParser(prog="python -m lib.auth", description="管理登录账号")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="新建账号", parents=[common])
    add.add_argument("account")
    add.add_argument("--role", required=True, choices=roles.ALL)
    add.add_argument("--org", default="")
    add.add_argument("--org-code", default="", help=f"单位统一社会信用代码（{'、'.join(roles.ORG_ROLES)} 账号）")
    add.add_argument("--city", default="")
    add.add_argument("--name", default="")
    add.add_argument("--email", default="")
    add.add_argument("--sso-only", action="store_true", help="仅统一身份认证登录，不设密码")
    pw = sub.add_parser("password", help="重置密码（同时解除锁定、使已登录会话失效）", parents=[common])
    pw.add_argument("account")
    sub.add_parser("list", help="列出账号（不含密码）", parents=[common])
    ins = sub.add_parser("inspector", help="设置检查人员的常住地市、单位、回避对象和健康申报日期", parents=[common])
    ins.add_argument("account")
    ins.add_argument("--city", help=INSPECTOR_LABELS["city"])
    ins.add_argument("--org", help=INSPECTOR_LABELS["org"])
    ins.add_argument("--org-city", help=INSPECTOR_LABELS["org_city"])
    for option, key in (("--conflict-provider", "conflict_providers"), ("--conflict-firm", "conflict_firms"),
                        ("--conflict-lead-unit", "conflict_lead_units")):
        ins.add_argument(option, action="append", help=f"{CONFLICT_FIELDS[key]}（可重复；给出即替换原名单）。{CONFLICT_HELP}")
    ins.add_argument("--health-date", help=f"{INSPECTOR_LABELS['health_declared_on']}（YYYY-MM-DD）")
    args = parser.parse_args(argv)

    accounts = AccountsFile(args.accounts_file or args.data_dir / "accounts.json")
    now = dt.datetime.now()
    try:
        if args.command == "add":
            new = Account(args.account, args.role, org=args.org, city=args.city, name=args.name, email=args.email,
                          org_code=args.org_code)
            accounts.create(new, None if args.sso_only else _password(), now=now)
            print(f"已创建账号 {args.account}")
        elif args.command == "password":
            if accounts.get(args.account) is None:
                raise AccountError(f"账号 {args.account} 不存在。", code="no_such_account")
            accounts.set_password(args.account, _password(), now=now)
            print(f"已重置账号 {args.account} 的密码")
        elif args.command == "inspector":
            facts = {key: getattr(args, option) for option, key in _INSPECTOR_OPTIONS.items() if getattr(args, option) is not None}
            if not facts:
                raise AccountError("请至少给出一项要设置的检查人员信息（例如 --health-date 2020-09-20）。", code="nothing_to_set")
            changed = accounts.set_inspector(args.account, **facts)
            print(f"已设置检查人员 {changed.account}：{INSPECTOR_LABELS['city']} {changed.city or '（空）'}，"
                  f"{INSPECTOR_LABELS['org']} {changed.org or '（空）'}，{INSPECTOR_LABELS['org_city']} {changed.org_city or '（空）'}，"
                  f"{INSPECTOR_LABELS['health_declared_on']} {changed.health_declared_on or '（空）'}；"
                  f"回避对象 {conflicts_text(changed) or '（无）'}")
        else:
            for a in sorted(accounts.all(), key=lambda a: a.account):
                print(f"{a.account}\t{a.role}\t{a.city}\t{a.org}\t{'停用' if a.disabled else '启用'}")
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
