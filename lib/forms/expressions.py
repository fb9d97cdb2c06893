"""A small, safe expression language for `relevant`, `constraint` and `calculation`.

The syntax is a subset of Python expressions (so it reads naturally in YAML), parsed with
``ast.parse`` and evaluated by walking the tree here — never ``eval``. Only literals, field names,
arithmetic, comparisons, ``and/or/not``, ``x if c else y``, ``in`` and the functions in FUNCTIONS
are allowed; anything else is rejected when the form is loaded.

Blank answers are ``None``. Arithmetic or a comparison with a blank gives blank, so a rule over an
unanswered field neither fires nor hides anything by accident: a constraint that evaluates to blank
passes (the `required` check speaks instead), a `relevant` that evaluates to blank hides.

>>> Expression("paid >= contract * 0.9").evaluate({"paid": 95, "contract": 100})
True
>>> Expression("status != '正常使用'").evaluate({"status": None}) is None
True
>>> Expression("a <= b and c").evaluate({"a": 1, "b": None, "c": True}) is None
True
>>> Expression("a > 5 and b > 5").evaluate({"a": 1, "b": None})
False
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ExpressionError(ValueError):
    """The text is not a valid expression of our language (message in Chinese)."""


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _to_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _sum_of(rows: Any, key: str) -> float | None:
    if not rows:
        return 0
    total = 0
    for row in rows:
        value = row.get(key) if isinstance(row, dict) else None
        if isinstance(value, (int, float)):
            total += value
    return total


def _days_between(a: Any, b: Any) -> int | None:
    a, b = _to_date(a), _to_date(b)
    if a is None or b is None:
        return None
    return (b - a).days


def _null_safe(fn: Callable) -> Callable:
    def wrapper(*args):
        if any(a is None for a in args):
            return None
        return fn(*args)

    return wrapper


#: name -> (callable, blank-safe?) ; blank-safe functions receive blanks, others return blank.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "blank": _blank,
    "filled": lambda v: not _blank(v),
    "len": lambda v: 0 if v is None else len(v),
    "count": lambda v: 0 if not v else len(v),
    "sum_of": _sum_of,
    "date": _null_safe(_to_date),
    "today": lambda: dt.date.today(),
    "days_between": _days_between,
    "min": _null_safe(min),
    "max": _null_safe(max),
    "abs": _null_safe(abs),
    "round": _null_safe(round),
    "coalesce": lambda *args: next((a for a in args if not _blank(a)), None),
}

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
}
_CMPOPS = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


@dataclass
class Expression:
    """A parsed expression: its text, the field names and functions it uses."""

    text: str
    names: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        try:
            tree = ast.parse(self.text.strip(), mode="eval")
        except SyntaxError as exc:
            where = f"（第 {exc.offset} 个字符附近）" if exc.offset else ""
            raise ExpressionError(f"语法错误{where}") from None
        self._tree = tree.body
        self._check(self._tree)

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (str, int, float, bool, type(None))):
                raise ExpressionError(f"不支持的常量 {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id in ("True", "False", "None"):
                return
            self.names.add(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise ExpressionError("不支持的运算符")
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
                raise ExpressionError("不支持的运算符")
            self._check(node.operand)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value)
        elif isinstance(node, ast.Compare):
            if any(type(op) not in _CMPOPS for op in node.ops):
                raise ExpressionError("不支持的比较运算")
            self._check(node.left)
            for comp in node.comparators:
                self._check(comp)
        elif isinstance(node, ast.IfExp):
            for part in (node.test, node.body, node.orelse):
                self._check(part)
        elif isinstance(node, (ast.List, ast.Tuple)):
            for elt in node.elts:
                self._check(elt)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ExpressionError("只能调用内置函数，且不支持关键字参数")
            self.functions.add(node.func.id)
            for arg in node.args:
                self._check(arg)
        else:
            raise ExpressionError(f"不支持的语法「{type(node).__name__}」")

    def evaluate(self, env: dict[str, Any]) -> Any:
        """Evaluate against ``env`` (field key -> value). Unknown names evaluate to blank."""
        return self._eval(self._tree, env)

    def _eval(self, node: ast.AST, env: dict[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return {"True": True, "False": False, "None": None}.get(node.id, env.get(node.id))
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, env), self._eval(node.right, env)
            if left is None or right is None:
                return None
            try:
                return _BINOPS[type(node.op)](left, right)
            except ZeroDivisionError:
                return None
            except TypeError:
                return None
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, env)
            if isinstance(node.op, ast.Not):
                # `not blank` is true: "not exempt" holds until someone says they are exempt.
                return not value
            if value is None:
                return None
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            # Three-valued: in `and` a false operand decides, in `or` a true one; otherwise a
            # blank operand leaves the result blank (so `a <= b and c` over a blank b stays silent).
            decisive = not isinstance(node.op, ast.And)
            blank = False
            for operand in node.values:
                value = self._eval(operand, env)
                if value is None:
                    blank = True
                elif bool(value) == decisive:
                    return decisive
            return None if blank else not decisive
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env)
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, env)
                if left is None or right is None:
                    return None
                left, right = _align(left, right)
                try:
                    if not _CMPOPS[type(op)](left, right):
                        return False
                except TypeError:
                    return None
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self._eval(node.body if self._eval(node.test, env) else node.orelse, env)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._eval(e, env) for e in node.elts]
        if isinstance(node, ast.Call):
            fn = FUNCTIONS[node.func.id]
            return fn(*(self._eval(a, env) for a in node.args))
        raise ExpressionError(f"不支持的语法「{type(node).__name__}」")  # unreachable after _check


def _align(left: Any, right: Any) -> tuple[Any, Any]:
    """Let a date be compared with an ISO date string, as form authors naturally write."""
    if isinstance(left, dt.date) and isinstance(right, str):
        return left, _to_date(right)
    if isinstance(right, dt.date) and isinstance(left, str):
        return _to_date(left), right
    return left, right
