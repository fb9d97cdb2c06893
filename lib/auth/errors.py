"""The errors of sign-in, accounts and authorisation; ``str(err)`` is a Chinese message fit for a page."""

from __future__ import annotations

from lib.store.base import StoreError


class Forbidden(StoreError):
    """The account may not do this (to this row). Raised by ``lib.auth.policy.authorize``, which
    also records the refusal in the audit trail (action 拒绝访问)."""

    code = "forbidden"

    def __init__(self, message: str, *, action: str = "", form_id: str = "", row_id: str = ""):
        super().__init__(message)
        self.action, self.form_id, self.row_id = action, form_id, row_id


class SignInError(Exception):
    """A refused sign-in: wrong account or password, locked, disabled, unknown single sign-on identity."""

    code = "sign_in"


class AccountLocked(SignInError):
    code = "locked"


class SessionInvalid(Exception):
    """A session token that is forged, expired, revoked or whose account can no longer sign in."""

    code = "session"


class AccountError(ValueError):
    """An account change that is refused (duplicate, bad role or city, weak password)."""

    code = "account"
