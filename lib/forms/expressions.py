"""A small, safe expression language for `relevant`, `constraint` and `calculation`.

The syntax is a subset of Python expressions (so it reads naturally in YAML), parsed with
``ast.parse`` and evaluated by walking the tree here — never ``eval``. Only literals, field names,
arithmetic, comparisons, ``and/or/not``, ``x if c else y``, ``in`` and the functions in FUNCTIONS
are allowed; anything else is rejected when the form is loaded.

``today()`` is the campaign clock's day and ``city_code(city)`` the division code prefix the campaign
declares for a city: both come from the ``Context`` the caller passes to ``evaluate``.

Blank answers are ``None``. Arithmetic or a comparison with a blank gives blank, so a rule over an
unanswered field neither fires nor hides anything by accident: a constraint that evaluates to blank
passes (the `required` check speaks instead), a `relevant` that evaluates to blank hides.

Costs are bounded: an expression is at most MAX_EXPRESSION_CHARS long and MAX_DEPTH deep (checked at
load); every text or list it builds holds at most MAX_RESULT_ITEMS, counted through every level
(``_size``: a list of lists counts the items of its items, so ``[[x] * n] * n`` is n*n, not n), and
numbers stay finite and below 10**MAX_RESULT_DIGITS. A repetition is refused before it is built, one
whose size is known from the text alone (``[[x] * 10000] * 10000``) already at load, and ``%`` on
text (formatting, which can build any size) is not offered. A function given the wrong kind of value
(``abs`` of text) is refused at load when the kinds are known (``type_problems``) and raises
EvaluationError, with a Chinese message, at run time otherwise.

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
import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lib.core.errors import AppError
from lib.core.text import quotable

#: Longest expression text; the shipped forms' longest is under 100 characters.
MAX_EXPRESSION_CHARS = 500
#: Deepest expression tree (each operator or call is one level).
MAX_DEPTH = 30
#: Longest text or list an expression may produce.
MAX_RESULT_ITEMS = 10_000
#: Most digits of a number an expression may produce (answers have at most 15 before the point).
MAX_RESULT_DIGITS = 30


class ExpressionError(AppError, ValueError):
    """The text is not a valid expression of our language (message in Chinese)."""

    code = "bad_expression"


class EvaluationError(AppError, ValueError):
    """The expression cannot be computed for these answers (message in Chinese, names no field)."""

    code = "expression_failed"


def _blank(value: Any) -> bool:
    # By type, never by ``==``: a numpy scalar compared with ``[]`` gives an array with no truth value.
    return value is None or (isinstance(value, (str, list, tuple, dict)) and not value)


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


def parse_expression(text: str) -> ast.Expression:
    """``ast.parse`` of an expression's text (one thread at a time, as every ``ast.parse`` here: lib/core/ast_guard.py)."""
    return ast.parse(text.strip(), mode="eval")


@dataclass(frozen=True)
class Context:
    """What a rule may read besides the answers: the campaign clock's today (None: the real date)
    and each city's administrative division code prefix (``city_code``), as the campaign declares
    them. Passed in by whoever checks the answers, so the forms layer reads no setting itself."""

    today: dt.date | None = None
    city_codes: Mapping[str, str] = field(default_factory=dict)
    outside_scheme: frozenset[str] = frozenset()  # the campaign's ``outside_scheme`` cities


def _today(context: Context) -> dt.date:
    return context.today or dt.date.today()


def _city_code(context: Context, city: Any) -> str | None:
    """The division code prefix the campaign declares for ``city`` (广州 -> 4401); blank when it
    declares none, so a rule comparing with it stays silent."""
    return None if city is None else context.city_codes.get(str(city))


def _outside_scheme(context: Context, city: Any) -> bool | None:
    """Whether the campaign lists ``city`` outside its scheme (``outside_scheme``): the same list the
    register import excludes, so a form's rule and the import never disagree. Blank for a blank city."""
    return None if city is None else str(city) in context.outside_scheme


def _credit_area(code: Any) -> str | None:
    """Characters 3–8 of a 统一社会信用代码: the administrative division where it was registered.

    >>> _credit_area("91440101MA59ABCDEM")
    '440101'
    """
    if code is None:
        return None
    text = str(code)
    return text[2:8] if len(text) == 18 else None


def _starts_with(text: Any, prefix: Any) -> bool | None:
    if text is None or prefix is None:
        return None
    if not isinstance(text, str) or not isinstance(prefix, str):
        raise TypeError("starts_with takes texts")
    return text.startswith(prefix)


def _null_safe(fn: Callable) -> Callable:
    def wrapper(*args):
        if any(a is None for a in args):
            return None
        return fn(*args)

    return wrapper


def _round(value: Any, places: Any = None) -> Any:
    # round(5, -10**9) would compute 10**(10**9): the places are bounded first.
    if places is not None and (not isinstance(places, int) or isinstance(places, bool) or abs(places) > MAX_RESULT_DIGITS):
        raise EvaluationError(f"round 的小数位数应为 -{MAX_RESULT_DIGITS} 到 {MAX_RESULT_DIGITS} 之间的整数")
    return round(value) if places is None else round(value, places)


#: name -> callable; blank-safe functions receive blanks, the others (``_null_safe``) return blank.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "blank": _blank,
    "filled": lambda v: not _blank(v),
    "len": lambda v: 0 if v is None else len(v),
    "count": lambda v: 0 if not v else len(v),
    "sum_of": _sum_of,
    "date": _null_safe(_to_date),
    "today": _today,
    "city_code": _city_code,
    "outside_scheme": _outside_scheme,
    "credit_area": _credit_area,
    "starts_with": _starts_with,
    "days_between": _days_between,
    "min": _null_safe(min),
    "max": _null_safe(max),
    "abs": _null_safe(abs),
    "round": _null_safe(_round),
    "coalesce": lambda *args: next((a for a in args if not _blank(a)), None),
}
#: Functions that read the Context (passed before their arguments).
READ_CONTEXT = frozenset({"today", "city_code", "outside_scheme"})


#: The kinds of value an expression handles (a field's kind, see types.FieldType.kind, maps onto them).
KINDS = ("number", "text", "date", "bool", "list", "table")
_NUMERIC = frozenset({"number"})
_SIZED = frozenset({"text", "list", "table"})
_ROWS = frozenset({"list", "table"})
_DATE_LIKE = frozenset({"date", "text"})
_ANY: frozenset[str] = frozenset()  # no constraint


@dataclass(frozen=True)
class Signature:
    """What a function takes and gives, for the load-time check: ``args`` constrains each position
    (the last one repeats when ``most`` is None); an empty set accepts anything."""

    least: int
    most: int | None
    args: tuple[frozenset[str], ...]
    result: str | None  # None: not known statically

    def arg(self, i: int) -> frozenset[str]:
        return self.args[min(i, len(self.args) - 1)] if self.args else _ANY


SIGNATURES: dict[str, Signature] = {
    "blank": Signature(1, 1, (_ANY,), "bool"),
    "filled": Signature(1, 1, (_ANY,), "bool"),
    "len": Signature(1, 1, (_SIZED,), "number"),
    "count": Signature(1, 1, (_ROWS,), "number"),
    "sum_of": Signature(2, 2, (frozenset({"table"}), frozenset({"text"})), "number"),
    "date": Signature(1, 1, (_DATE_LIKE,), "date"),
    "today": Signature(0, 0, (), "date"),
    "city_code": Signature(1, 1, (frozenset({"text"}),), "text"),
    "outside_scheme": Signature(1, 1, (frozenset({"text"}),), "bool"),
    "credit_area": Signature(1, 1, (frozenset({"text"}),), "text"),
    "starts_with": Signature(2, 2, (frozenset({"text"}),), "bool"),
    "days_between": Signature(2, 2, (_DATE_LIKE,), "number"),
    "min": Signature(1, None, (_ANY,), None),
    "max": Signature(1, None, (_ANY,), None),
    "abs": Signature(1, 1, (_NUMERIC,), "number"),
    "round": Signature(1, 2, (_NUMERIC,), "number"),
    "coalesce": Signature(1, None, (_ANY,), None),
}
KIND_WORDS = {"number": "数字", "text": "文字", "date": "日期", "bool": "是/否", "list": "多选列表", "table": "表格"}


def _kind_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, list):
        return "table" if value and all(isinstance(v, dict) for v in value) else "list"
    return None


_TOO_BIG = f"计算结果超过 {MAX_RESULT_ITEMS} 个字或项"


def _size(value: Any, budget: int = MAX_RESULT_ITEMS) -> int:
    """What a value holds, counted through every level: a text its characters, any other item one,
    a list or table row the sizes of its items (an empty one counts one). Counting stops past
    ``budget`` (the result is then some number above it), so measuring costs at most ``budget`` steps
    however much the value shares: ``[[0] * 100] * 100`` is 10,000 by content, 100 by length.

    >>> _size([[0] * 100] * 100), _size(["ab", [], None]), _size([[0] * 10_000] * 10_000) > MAX_RESULT_ITEMS
    (10000, 4, True)
    """
    total, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple, dict)) and item:
            items = list(item.values()) if isinstance(item, dict) else item
            if total + len(items) > budget:  # each item counts at least one
                return budget + 1
            stack.extend(items)
        else:
            total += max(len(item), 1) if isinstance(item, str) else 1
            if total > budget:
                return total
    return total


def _bounded(value: Any, *, built: bool = True) -> Any:
    """``value`` when it is within the result bounds; EvaluationError otherwise. ``built=False`` for
    what a function returns: one of its arguments (an answer, or a result already measured) or a
    number, so only numbers are checked."""
    if isinstance(value, float) and not math.isfinite(value):
        raise EvaluationError("计算结果超出数值范围")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) >= 10**MAX_RESULT_DIGITS:
        raise EvaluationError("计算结果超出数值范围")
    if built and isinstance(value, (str, list)) and _size(value) > MAX_RESULT_ITEMS:
        raise EvaluationError(_TOO_BIG)
    return value


def _size_of_product(left: Any, right: Any) -> int:
    """The size (``_size``) a repetition (``'ab' * n``, ``[[x] * n] * n``) would have, before it is
    built; 0 for numbers."""
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, (str, list)) and isinstance(times, int) and not isinstance(times, bool):
            return _size(seq) * max(times, 0)
    return 0


def _constant_int(node: ast.AST) -> int | None:
    """The integer a constant part of an expression (``10000``, ``100 * 100``) always has, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
        left, right = _constant_int(node.left), _constant_int(node.right)
        if left is not None and right is not None:
            return left + right if isinstance(node.op, ast.Add) else left * right
    return None


def _least_size(node: ast.AST) -> int:
    """The least size (``_size``) the text or list ``node`` builds can have, known from the text alone
    (0 when it depends on answers): a text constant its length, a list literal its items, a
    repetition by a constant the product. The loader refuses an expression any part of which is known
    to exceed MAX_RESULT_ITEMS: it could only ever give blank or fail."""
    if isinstance(node, ast.Constant):
        return len(node.value) if isinstance(node.value, str) else 0
    if isinstance(node, (ast.List, ast.Tuple)):
        return sum(max(_least_size(e), 1) for e in node.elts)
    if isinstance(node, ast.IfExp):
        return min(_least_size(node.body), _least_size(node.orelse))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _least_size(node.left) + _least_size(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for seq, times in ((node.left, node.right), (node.right, node.left)):
            count = _constant_int(times)
            if count is not None:
                return min(_least_size(seq) * max(count, 0), MAX_RESULT_ITEMS + 1)
    return 0


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
        if len(self.text) > MAX_EXPRESSION_CHARS:
            raise ExpressionError(f"表达式超过 {MAX_EXPRESSION_CHARS} 个字符")
        try:
            tree = parse_expression(self.text)
        except SyntaxError as exc:
            where = f"（第 {exc.offset} 个字符附近）" if exc.offset else ""
            raise ExpressionError(f"语法错误{where}") from None
        except (ValueError, RecursionError, MemoryError):  # a NUL byte; nesting the parser refuses
            raise ExpressionError("语法错误") from None
        self._tree = tree.body
        self._check(self._tree)

    def _check(self, node: ast.AST, depth: int = 0) -> None:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"表达式嵌套超过 {MAX_DEPTH} 层")
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr) and not (isinstance(node, ast.Call) and child is node.func):
                self._check(child, depth + 1)
        self._check_node(node)

    def _check_node(self, node: ast.AST) -> None:
        """The node itself (its children were checked by ``_check``)."""
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (str, int, float, bool, type(None))):
                raise ExpressionError(f"不支持的常量 {node.value!r}")
            number = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
            if number and not (math.isfinite(node.value) and abs(node.value) < 10**MAX_RESULT_DIGITS):
                raise ExpressionError(f"数字 {str(node.value)[:20]}… 超出范围")
        elif isinstance(node, ast.Name):
            if node.id not in ("True", "False", "None"):
                self.names.add(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise ExpressionError("不支持的运算符")
            if _least_size(node) > MAX_RESULT_ITEMS:
                raise ExpressionError(f"表达式生成的文字或列表会超过 {MAX_RESULT_ITEMS} 个字或项")
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.Not, ast.USub, ast.UAdd)):
                raise ExpressionError("不支持的运算符")
        elif isinstance(node, ast.Compare):
            if any(type(op) not in _CMPOPS for op in node.ops):
                raise ExpressionError("不支持的比较运算")
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ExpressionError("只能调用内置函数，且不支持关键字参数")
            self.functions.add(node.func.id)
            signature = SIGNATURES.get(node.func.id)
            if signature and not signature.least <= len(node.args) <= (signature.most if signature.most is not None else len(node.args)):
                raise ExpressionError(f"函数 {node.func.id} 的参数个数不对")
        elif isinstance(node, (ast.List, ast.Tuple)):
            if _least_size(node) > MAX_RESULT_ITEMS:
                raise ExpressionError(f"表达式生成的文字或列表会超过 {MAX_RESULT_ITEMS} 个字或项")
        elif not isinstance(node, (ast.BoolOp, ast.IfExp, ast.Load, ast.And, ast.Or)):
            raise ExpressionError(f"不支持的语法「{type(node).__name__}」")

    def type_problems(self, kinds: dict[str, str]) -> list[str]:
        """Kind mistakes knowable before any answer (``abs`` of a text field, ``len`` of a number, text
        in arithmetic), in Chinese; ``kinds`` maps field keys to their kind (see KINDS).

        >>> Expression("abs(name) > 1").type_problems({"name": "text"})
        ['函数 abs 的第 1 个参数应为数字，这里是文字']
        """
        found: list[str] = []
        self._infer(self._tree, kinds, found)
        return found

    def kind(self, kinds: dict[str, str]) -> str | None:
        """The kind of value the expression gives (None: not known before the answers).

        >>> Expression("days_between(start, end)").kind({"start": "date", "end": "date"})
        'number'
        """
        return self._infer(self._tree, kinds, [])

    def result_kinds(self, kinds: dict[str, str]) -> frozenset[str | None]:
        """Every kind the expression's value may take: one per branch of each ``a if c else b`` it ends
        in (``kind`` says None, "not known", when the branches differ; a check of the result needs each).

        >>> sorted(Expression("n if n > 0 else True").result_kinds({"n": "number"}))
        ['bool', 'number']
        """
        def ends(node: ast.AST) -> frozenset[str | None]:
            if isinstance(node, ast.IfExp):
                return ends(node.body) | ends(node.orelse)
            return frozenset({self._infer(node, kinds, [])})
        return ends(self._tree)

    def _infer(self, node: ast.AST, kinds: dict[str, str], found: list[str]) -> str | None:
        """The kind ``node`` evaluates to (None: not known), appending the mistakes met on the way."""
        if isinstance(node, ast.Constant):
            return None if node.value is None else _kind_of(node.value)
        if isinstance(node, ast.Name):
            return {"True": "bool", "False": "bool"}.get(node.id, kinds.get(node.id))
        if isinstance(node, ast.BinOp):
            left, right = self._infer(node.left, kinds, found), self._infer(node.right, kinds, found)
            return _binop_kind(node.op, left, right, found)
        if isinstance(node, ast.UnaryOp):
            operand = self._infer(node.operand, kinds, found)
            if isinstance(node.op, ast.Not):
                return "bool"
            if operand not in (None, "number"):
                found.append(f"正负号只能用于数字，这里是{KIND_WORDS[operand]}")
            return "number"
        if isinstance(node, ast.Compare):
            left = self._infer(node.left, kinds, found)
            for op, comp in zip(node.ops, node.comparators):
                right = self._infer(comp, kinds, found)
                if isinstance(op, (ast.In, ast.NotIn)):
                    if right not in (None, "text", "list", "table"):
                        found.append(f"in 的右边应为文字或列表，这里是{KIND_WORDS[right]}")
                elif isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) and None not in (left, right) and left != right \
                        and {left, right} != {"date", "text"}:
                    found.append(f"不能比较{KIND_WORDS[left]}和{KIND_WORDS[right]}的大小")
                left = right
            return "bool"
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self._infer(value, kinds, found)
            return "bool"
        if isinstance(node, ast.IfExp):
            self._infer(node.test, kinds, found)
            body, orelse = self._infer(node.body, kinds, found), self._infer(node.orelse, kinds, found)
            return body if body == orelse else None
        if isinstance(node, (ast.List, ast.Tuple)):
            for elt in node.elts:
                self._infer(elt, kinds, found)
            return "list"
        if isinstance(node, ast.Call):
            args = [self._infer(a, kinds, found) for a in node.args]
            signature = SIGNATURES.get(node.func.id)
            if signature is None:
                return None  # an unknown function is reported by the loader
            for i, kind in enumerate(args):
                allowed = signature.arg(i)
                if allowed and kind is not None and kind not in allowed:
                    wanted = "或".join(KIND_WORDS[k] for k in KINDS if k in allowed)
                    found.append(f"函数 {node.func.id} 的第 {i + 1} 个参数应为{wanted}，这里是{KIND_WORDS[kind]}")
            return signature.result
        return None

    def evaluate(self, env: dict[str, Any], context: Context | None = None) -> Any:
        """Evaluate against ``env`` (field key -> value) and ``context`` (today, city codes; the real
        date and no codes when None). Unknown names evaluate to blank.

        Raises EvaluationError (Chinese message) when the result cannot be computed within the bounds
        or a function is given a value it cannot take.

        >>> Expression("signed <= today()").evaluate({"signed": dt.date(2020, 9, 16)}, Context(today=dt.date(2020, 9, 15)))
        False
        """
        try:
            return self._eval(self._tree, env, context or Context())
        except EvaluationError:
            raise
        except (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError) as exc:
            raise EvaluationError(f"无法计算（{type(exc).__name__}）") from None

    def _eval(self, node: ast.AST, env: dict[str, Any], context: Context) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return {"True": True, "False": False, "None": None}.get(node.id, env.get(node.id))
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, env, context), self._eval(node.right, env, context)
            if left is None or right is None:
                return None
            if isinstance(node.op, ast.Mult) and _size_of_product(left, right) > MAX_RESULT_ITEMS:
                raise EvaluationError(_TOO_BIG)
            if isinstance(node.op, ast.Mod) and isinstance(left, str):
                raise EvaluationError("不支持用 % 格式化文字")
            try:
                return _bounded(_BINOPS[type(node.op)](left, right))
            except ZeroDivisionError:
                return None
            except TypeError:
                return None
            except OverflowError:
                raise EvaluationError("计算结果超出数值范围") from None
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, env, context)
            if isinstance(node.op, ast.Not):
                # `not blank` is true: "not exempt" holds until someone says they are exempt.
                return not value
            if value is None or not isinstance(value, (int, float)):
                return None  # like a binary operator's type error: blank, not a crash
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            # Three-valued: in `and` a false operand decides, in `or` a true one; otherwise a
            # blank operand leaves the result blank (so `a <= b and c` over a blank b stays silent).
            decisive = not isinstance(node.op, ast.And)
            blank = False
            for operand in node.values:
                value = self._eval(operand, env, context)
                if value is None:
                    blank = True
                elif bool(value) == decisive:
                    return decisive
            return None if blank else not decisive
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env, context)
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, env, context)
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
            return self._eval(node.body if self._eval(node.test, env, context) else node.orelse, env, context)
        if isinstance(node, (ast.List, ast.Tuple)):
            return _bounded([self._eval(e, env, context) for e in node.elts])
        if isinstance(node, ast.Call):
            name = node.func.id
            args = [self._eval(a, env, context) for a in node.args]
            try:
                call_args = [context, *args] if name in READ_CONTEXT else args
                return _bounded(FUNCTIONS[name](*call_args), built=False)
            except EvaluationError:
                raise
            except (TypeError, ValueError, ArithmeticError, AttributeError):
                given = "、".join(KIND_WORDS.get(_kind_of(a) or "", "空白" if a is None else "其他") for a in args)
                raise EvaluationError(f"函数 {name} 不能用于{given}") from None
        raise ExpressionError(f"不支持的语法「{type(node).__name__}」")  # unreachable after _check


def _binop_kind(op: ast.operator, left: str | None, right: str | None, found: list[str]) -> str | None:
    """The kind of ``left op right``, noting a combination that cannot work."""
    if isinstance(op, ast.Mod) and left == "text":
        found.append("不支持用 % 格式化文字")
        return None
    if left is None or right is None:
        return None
    pair = (left, right)
    if pair == ("number", "number"):
        return "number"
    if isinstance(op, ast.Add) and left == right and left in ("text", "list"):
        return left
    if isinstance(op, ast.Mult) and "number" in pair and ({"text", "list"} & set(pair)):
        return left if left != "number" else right
    symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%", ast.FloorDiv: "//"}[type(op)]
    found.append(f"不能对{KIND_WORDS[left]}和{KIND_WORDS[right]}做 {symbol} 运算")
    return None


def _align(left: Any, right: Any) -> tuple[Any, Any]:
    """Let a date be compared with an ISO date string, as form authors naturally write."""
    try:
        if isinstance(left, dt.date) and isinstance(right, str):
            return left, _to_date(right)
        if isinstance(right, dt.date) and isinstance(left, str):
            return _to_date(left), right
    except ValueError:
        raise EvaluationError("与日期比较的文字不是 YYYY-MM-DD 格式的日期") from None
    return left, right


class ConditionFailed(EvaluationError):
    """A yes/no condition (a priority rule's, a rectification rule's, an outcome list's ``when``) that could not
    be computed for one tuple of values, or gave something other than 是/否: ``detail`` says what, ``values``
    which values (each caller names its rule around them)."""

    code = "condition_failed"

    def __init__(self, detail: str, values: Mapping[str, Any]):
        shown = "，".join(f"{k}={'空' if v is None else quotable(v)}" for k, v in values.items()) or "无"
        super().__init__(f"{detail}（变量：{shown}）")
        self.detail, self.values = detail, dict(values)


def holds_for_rows(expr: Expression, names: list[str], rows: Any, context: Context | None = None) -> list[bool]:
    """Whether the condition ``expr`` holds for each of ``rows`` (tuples of the values of ``names``, in that
    order; a blank is None), evaluated once per distinct tuple — a campaign's rows repeat a few choice words,
    so 100,000 rows cost a few thousand evaluations. A blank result does not hold; an error or a result that is
    not 是/否 raises ConditionFailed.

    >>> holds_for_rows(Expression("n > 1"), ["n"], [(2,), (0,), (None,), (2,)])
    [True, False, False, True]
    >>> holds_for_rows(Expression("n * 2"), ["n"], [(2,)])
    Traceback (most recent call last):
    lib.forms.expressions.ConditionFailed: 应得出“是”或“否”，这里得出 4（变量：n=2）
    """
    results: dict[tuple, bool] = {}
    out = []
    for row in rows:
        key = tuple(cache_key(v) for v in row)
        if key not in results:
            env = dict(zip(names, row, strict=True))
            try:
                value = expr.evaluate(env, context)
            except EvaluationError as err:
                raise ConditionFailed(f"无法计算：{err}", env) from None
            if value is not None and not isinstance(value, bool):
                raise ConditionFailed(f"应得出“是”或“否”，这里得出 {value!r}", env)
            results[key] = value is True
        out.append(results[key])
    return out


def cache_key(value: Any) -> Any:
    """``value`` as a key of a once-per-value cache: a table or a list by its canonical JSON."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return value
