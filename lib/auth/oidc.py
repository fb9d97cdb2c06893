"""Single sign-on (OIDC through Streamlit's ``st.login``): map the identity the provider vouches
for to an account of the accounts file, which carries the role, city and organisation.

The claim used (``oidc_claim``, default ``email``) is matched, ignoring case, against the account's
``email`` field; any other claim name (e.g. ``sub`` or ``preferred_username``) is matched against
the account id. Pure: the Streamlit layer passes ``st.user`` as a dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .accounts import Account, AccountsFile
from .errors import SignInError


def map_identity(claims: Mapping[str, Any], accounts: AccountsFile, *, claim: str = "email") -> Account:
    """The enabled account the identity maps to; SignInError (Chinese) when there is none.

    An e-mail the provider marks unverified (``email_verified`` false) is refused.
    """
    value = str(claims.get(claim) or "").strip()
    if not value:
        raise SignInError(f"统一身份认证没有提供「{claim}」信息，无法确定您的账号，请联系管理员。",
                          code="sso_claim_missing")
    if claim == "email":
        if claims.get("email_verified") is False:
            raise SignInError("统一身份认证中的电子邮箱尚未验证，无法登录。", code="sso_email_unverified")
        found = accounts.find_by("email", value)
    else:
        found = [a for a in [accounts.get(value)] if a is not None]
    if not found:
        raise SignInError(f"{value} 尚未开通本系统账号，请联系管理员按角色和单位开通。", code="sso_no_account")
    if len(found) > 1:
        raise SignInError(f"{value} 对应多个账号（{'、'.join(a.account for a in found)}），请联系管理员处理。",
                          code="sso_ambiguous")
    account = found[0]
    if account.disabled:
        raise SignInError("该账号已停用，请联系管理员。", code="account_disabled")
    return account
