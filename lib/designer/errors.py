"""The designer's refusals: one coded error, nothing written when it is raised.

Codes (``err.code``): ``design_text_too_long`` (a paste beyond ``versions.MAX_TEXT_CHARS``),
``design_bad_file`` (a file name that is no ``<name>.yaml`` of the forms), ``design_invalid`` (parse,
form or binding problems: ``err.problems``, each with its line and field), ``design_stale`` (another
version was published since the edit began: ``err.current`` is it), ``design_unconfirmed`` (publishing
changes stored rows and was not confirmed: ``err.impact``), ``design_no_version`` (rollback to a version
that is not published), ``design_note`` (a publisher's note too long or with control characters),
``design_no_draft`` (no live draft to discard), and the palette's ``palette_*`` codes (``lib.designer.palette``).
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
