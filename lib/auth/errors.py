"""The errors of sign-in, accounts and authorisation: each an ``AppError`` with a stable ``code``
(tests and programs read it) and a Chinese ``str(err)`` fit for a page.

>>> err = SessionInvalid("登录已过期，请重新登录。", code="session_expired")
>>> isinstance(err, AuthError), err.code
(True, 'session_expired')
>>> AccountLocked("……").code
'locked'
"""

from __future__ import annotations

from lib.core.errors import AppError


class AuthError(AppError):
    """Any refusal of sign-in, accounts or authorisation."""

    code = "auth"


class Forbidden(AuthError):
    """The account may not do this (to this row). Raised by ``lib.auth.policy.authorize``, which
    also records the refusal in the audit trail (action 拒绝访问)."""

    code = "forbidden"

    def __init__(self, message: str, *, action: str = "", form_id: str = "", row_id: str = "", code: str | None = None):
        super().__init__(message, code=code)
        self.action, self.form_id, self.row_id = action, form_id, row_id


class SignInError(AuthError):
    """A refused sign-in: wrong account or password, locked, disabled, unknown single sign-on identity.

    A password refusal reads the same and has the same code whatever the reason (``signin.refusal``):
    the true reason is in the audit trail only."""

    code = "sign_in"


class AccountLocked(SignInError):
    code = "locked"


class SessionInvalid(AuthError):
    """A session token that is forged, expired, revoked or whose account can no longer sign in
    (codes ``session_invalid``, ``session_expired``, ``session_revoked``, ``account_disabled``,
    ``session_superseded``)."""

    code = "session"


class DataFileError(AuthError):
    """A file of sign-in's own (the accounts, the revocation list, the session secret, a lock beside
    them) that cannot be read, locked or trusted; the message names the file (codes ``file_damaged``,
    ``file_unreadable``, ``lock_failed``). Not a ValueError: a page must show it, not read it as a bad
    cookie and quietly sign everyone out."""

    code = "data_file"


class AccountError(AuthError, ValueError):
    """An account change that is refused (duplicate, bad role or city, weak password); still a
    ValueError, as it always was, for callers that catch bad input that way."""

    code = "account"
