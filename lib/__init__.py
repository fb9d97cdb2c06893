"""The application's code (see docs/architecture.md for its layers)."""

from lib.core.ast_guard import install as _guard_ast

_guard_ast()  # before any thread parses: a CPython 3.11 bug (lib/core/ast_guard.py)
