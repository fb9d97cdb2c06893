"""Manage accounts from the shell (first administrator, a forgotten admin password):

    python -m lib.auth add ACCOUNT --role admin [--org 单位] [--org-code 信用代码] [--city 广州] [--email a@b.cn] [--data-dir data]
    python -m lib.auth password ACCOUNT [--data-dir data]
    python -m lib.auth list [--data-dir data]

The password is asked for twice without echo; it is never printed or logged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from pathlib import Path

from lib.core import roles

from .accounts import Account, AccountsFile
from .errors import AccountError


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
        else:
            for a in sorted(accounts.all(), key=lambda a: a.account):
                print(f"{a.account}\t{a.role}\t{a.city}\t{a.org}\t{'停用' if a.disabled else '启用'}")
    except AccountError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
