"""``ast.parse`` is serialised process-wide once ``lib`` is imported (lib/core/ast_guard.py: CPython 3.11's
gh-106905, seen here as a Sheets delivery thread dying while two threads formatted tracebacks)."""

from __future__ import annotations

import ast
import threading

import lib  # noqa: F401 - importing the package installs the guard
from lib.core import ast_guard


def test_importing_lib_serialises_ast_parse_and_it_still_parses():
    assert getattr(ast.parse, "__wrapped_by_lib__", False)
    ast_guard.install()  # idempotent: not wrapped twice
    assert getattr(ast.parse.__wrapped__, "__wrapped_by_lib__", False) is False
    assert isinstance(ast.parse("a + 1", mode="eval"), ast.Expression)


def test_a_thread_waits_while_another_parses():
    held, done = threading.Event(), threading.Event()
    with ast_guard._LOCK:  # what a parse in another thread holds
        worker = threading.Thread(target=lambda: (held.set(), ast.parse("x"), done.set()))
        worker.start()
        held.wait(10)
        assert not done.wait(0.2)  # blocked on the lock, not parsing beside us
    worker.join(10)
    assert done.is_set()
