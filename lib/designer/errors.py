"""The designer's refusals: one coded error, nothing written when it is raised.

Codes (``err.code``): ``design_invalid`` (parse, form or binding problems: ``err.problems``, each with
its line and field), ``design_stale`` (another version was published since the edit began: ``err.current``
is it; the message says who published which version when), ``design_unchanged`` (the text is the version
served), ``design_unconfirmed`` (publishing changes stored rows and was not confirmed: ``err.impact``),
``design_rename_clash`` (a rename onto a key holding values), ``design_key_renamed`` (a new field takes a
key renamed away before), ``design_note`` (a publisher's note too long or with control characters),
``design_no_version`` (rollback to a version not published, or the one served), ``design_withdraw_campaign``,
``design_withdraw_bound``, ``design_withdraw_rows`` (a file that may not be withdrawn), ``design_based_on`` (no
version number), ``design_version_line`` (a ``version:`` written so that it cannot be set), and the
palette's ``palette_*`` codes (``lib.designer.palette``). A file name or a text too long is the versions'
``VersionError`` (``version_file_name``, ``version_text_too_long``); a role that may not, the policy's
``Forbidden``.
"""

from __future__ import annotations

from typing import Any

from lib.core.errors import AppError
from lib.forms.errors import FormProblem


class DesignError(AppError):
    """A draft, publish, rollback or palette insertion refused; ``str(err)`` says why in Chinese,
    naming the file, line or field."""

    code = "design"

    def __init__(self, message: str, *, code: str, problems: list[FormProblem] | None = None,
                 current: Any = None, impact: Any = None):
        super().__init__(message, code=code)
        self.problems = list(problems or ())
        self.current = current
        self.impact = impact
