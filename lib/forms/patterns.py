"""Field patterns (``pattern:`` in a form file), matched by RE2 rather than Python's ``re``.

Python's ``re`` backtracks: a pattern such as ``(a+)+$`` takes exponential time on a thirty-character
answer, and a submit would hang the server thread. RE2 matches in time linear in the answer whatever
the pattern, and caps the memory a compiled pattern may take; the price is that backreferences
(``\\1``) and lookarounds (``(?=...)``) are refused at load, with a Chinese problem naming the field.
"""

from __future__ import annotations

from functools import lru_cache

import re2

from lib.core.errors import AppError

#: Longest pattern text a form may declare.
MAX_PATTERN_CHARS = 500

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is reported as a form problem, not on stderr


class PatternError(AppError, ValueError):
    """A pattern RE2 cannot use (message in Chinese)."""

    code = "bad_pattern"


@lru_cache(maxsize=1024)
def compile_pattern(text: str):
    """The compiled pattern; PatternError when it is too long or not RE2 syntax.

    >>> compile_pattern("[A-Z0-9][A-Z0-9-]{5,39}").fullmatch("SYQ-2019-01") is not None
    True
    >>> compile_pattern(r"(a)\\1")
    Traceback (most recent call last):
    lib.forms.patterns.PatternError: 不支持的正则写法（不能用回溯引用 \\1 或环视 (?=…)）：invalid escape sequence: \\1
    """
    if len(text) > MAX_PATTERN_CHARS:
        raise PatternError(f"正则表达式超过 {MAX_PATTERN_CHARS} 个字符")
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"不支持的正则写法（不能用回溯引用 \\1 或环视 (?=…)）：{detail}") from None


def fullmatch(pattern: str, value: str) -> bool:
    """Whether the whole of ``value`` matches ``pattern`` (compiled once per pattern)."""
    return compile_pattern(pattern).fullmatch(value) is not None
