"""The base of every error a person may be shown: a stable code for programs and tests, and a
Chinese message for the page.

Each area derives its own errors from ``AppError`` (the store's ``StoreError``, auth's ``AuthError``,
review's ``ReviewError``, the register's ``RegisterImportError``) and gives each a ``code``; pages show
``str(err)`` and tests assert on ``err.code``, so a reworded message never breaks a test and a
different failure with the same words cannot pass one.

>>> err = AppError("记录不存在", code="not_found")
>>> err.code, str(err)
('not_found', '记录不存在')
>>> class Refused(AppError):
...     code = "refused"
>>> Refused("无权操作").code
'refused'
"""

from __future__ import annotations


class AppError(Exception):
    """An error with a ``code`` (snake_case, stable) and a Chinese message (``str(err)``)."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)
