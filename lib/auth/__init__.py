"""Sign-in, accounts, sessions and the one authorisation function.

* ``accounts`` — the accounts file (role, city, organisation; bcrypt hashes; lockout counters)
* ``signin`` — password sign-in with lockout; ``oidc`` — map a single sign-on identity to an account
* ``sessions`` — signed, expiring, revocable session tokens
* ``policy`` — ``can(user, action, form, row)`` and ``authorize`` (refusals are audited as 拒绝访问)
* ``scope`` — the rows an account may see, edit or review
* ``admin`` — account management, admin only
"""

from .errors import AccountError, AccountLocked, AuthError, DataFileError, Forbidden, SessionInvalid, SignInError

__all__ = ["AccountError", "AccountLocked", "AuthError", "DataFileError", "Forbidden", "SessionInvalid", "SignInError"]
