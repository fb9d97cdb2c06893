"""One thread at a time in ``ast.parse``, process-wide: a guard against a CPython 3.11 bug.

CPython 3.11 before 3.11.8 (Debian 12 ships 3.11.2; this machine 3.11.7) keeps the recursion count of
``ast.parse``'s tree building in state shared by all threads, so two threads parsing at once can fail with
``SystemError: AST constructor recursion depth mismatch`` (gh-106905). Parsing happens in threads more than
one would think: the form expressions a session compiles, and Python 3.11's own traceback formatting, which
parses the failing line to place its ``^^^`` carets — so two worker threads logging an exception at once
(the Sheets delivery during an outage) could kill each other. ``install`` wraps ``ast.parse`` in a
re-entrant lock; it is called when ``lib`` is imported, once.
"""

from __future__ import annotations

import ast
import functools
import threading
from typing import Any

_LOCK = threading.RLock()


def install() -> None:
    """Make ``ast.parse`` take ``_LOCK`` (idempotent)."""
    if getattr(ast.parse, "__wrapped_by_lib__", False):
        return
    parse = ast.parse

    @functools.wraps(parse)
    def locked_parse(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return parse(*args, **kwargs)

    locked_parse.__wrapped_by_lib__ = True  # type: ignore[attr-defined]
    ast.parse = locked_parse
