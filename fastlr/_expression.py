"""A schedule written as one Python call expression (the command line's composites).

:func:`parse_schedule` builds the schedule that a text such as
``"Sequential([Warmup(CosineDecay(1e-3, 9000), 1000), Constant(1e-5)], [10000])"`` spells, as
Python would, but never with ``eval``: the text is parsed with :func:`ast.parse` and a walker
accepts only this grammar, refusing every other node with a one-line :class:`ExpressionError`
that names what it found and where (1-based column)::

    expr    := NAME "(" [value, ...] [KEY "=" value, ...] ")"   NAME in fastlr.REGISTRY
             | expr "*" number | number "*" expr                 fastlr.Scale
    value   := expr | number | True | False | None | string
             | "[" value, ... "]" | "(" value, ... ")"
    number  := int | float | "-" int | "-" float

So no attribute access, other names, subscripts, lambdas, comprehensions, f-strings, starred or
``**`` arguments, and no operator but unary minus on a number and ``*`` between a schedule and a
number. A constructor's own ``ValueError``/``TypeError`` (Keras-style, naming the argument) comes
out as an :class:`ExpressionError` too, prefixed with the schedule's name and column.

Example:
    >>> from fastlr._expression import parse_schedule
    >>> s = parse_schedule("Sequential([Warmup(CosineDecay(1.0, 100), 10), Constant(0.01)], [110])")
    >>> s.evaluate([0, 5, 10, 60, 110, 10**9], dtype="float64").round(6).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.01, 0.01]
    >>> parse_schedule("0.5 * Constant(1e-3)")
    Scale(schedule=Constant(learning_rate=0.001), factor=0.5)
    >>> parse_schedule("Constant(1e-3).__class__")
    Traceback (most recent call last):
    fastlr._expression.ExpressionError: attribute access `Constant(1e-3).__class__` at column 1 \
is not allowed in a schedule expression (only schedules from `fastlr list`, called, and literals)
"""

from __future__ import annotations

import ast
import numbers
import re
from typing import Any

_OPERATORS = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
    ast.Pow: "**", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
    ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~", ast.UAdd: "+",
    ast.USub: "-",
}  # fmt: skip
_KINDS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.ListComp: "list comprehension", ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension", ast.GeneratorExp: "generator expression",
    ast.JoinedStr: "f-string", ast.Starred: "starred argument", ast.Dict: "dict", ast.Set: "set",
    ast.Compare: "comparison", ast.BoolOp: "boolean operator", ast.IfExp: "conditional",
    ast.NamedExpr: "assignment expression",
}  # fmt: skip
_LITERALS = (bool, int, float, str, type(None))
_LINES = re.compile(r"\r\n?|\n")  # the line breaks ast counts


class ExpressionError(ValueError):
    """A schedule expression that is not in the grammar, or that a constructor refused."""


def parse_schedule(text: str) -> Any:
    """Build the schedule that one call expression over ``fastlr.REGISTRY`` spells.

    Args:
        text: e.g. ``"Warmup(CosineDecay(1e-3, 9000), 1000)"``; the grammar is in the module
            docstring. Leading and trailing whitespace is ignored.

    Returns:
        The schedule (a fastlr ``Schedule``).

    Raises:
        ExpressionError: one line naming what was refused and its column, or a constructor's
            Keras-style error prefixed with the schedule's name and column.
    """
    body = text.strip()
    lead = _LINES.split(text[: len(text) - len(text.lstrip())])
    origin = (len(lead) - 1, len(lead[-1]))  # where the stripped text starts: lines, columns
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as err:
        where = f" at {_at(origin, err.lineno or 1, err.offset)}" if err.offset else ""
        raise ExpressionError(f"invalid schedule expression: {err.msg}{where}") from None
    except ValueError as err:  # null bytes, before Python 3.12
        raise ExpressionError(f"invalid schedule expression: {err}") from None
    except (RecursionError, MemoryError):  # nesting too deep for the parser
        raise ExpressionError("invalid schedule expression: nested too deeply") from None
    try:
        return _Walker(body, origin).schedule(tree.body)
    except RecursionError:
        raise ExpressionError("invalid schedule expression: nested too deeply") from None


def _at(origin: tuple[int, int], lineno: int, column: int) -> str:
    """The 1-based position in the text as given of ``column`` (1-based) of the stripped text."""
    line = lineno + origin[0]
    column += origin[1] if lineno == 1 else 0
    return f"line {line}, column {column}" if line > 1 else f"column {column}"


class _Walker:
    def __init__(self, text: str, origin: tuple[int, int]) -> None:
        from fastlr.schedules import REGISTRY, Schedule

        self.text, self.origin, self.registry, self.base = text, origin, REGISTRY, Schedule

    def where(self, node: ast.AST) -> str:
        line = _LINES.split(self.text)[node.lineno - 1]  # ast's offsets are in UTF-8 bytes
        column = len(line.encode()[: node.col_offset].decode(errors="replace")) + 1
        return _at(self.origin, node.lineno, column)

    def snippet(self, node: ast.AST) -> str:
        text = " ".join((ast.get_source_segment(self.text, node) or "").split())
        return text if len(text) <= 40 else text[:37] + "..."

    def refuse(self, node: ast.AST, what: str | None = None) -> ExpressionError:
        if what is None:
            if isinstance(node, (ast.BinOp, ast.UnaryOp)):
                what = f"operator `{_OPERATORS.get(type(node.op), '?')}` in"
            elif isinstance(node, ast.Name):
                what = "name"
            elif isinstance(node, ast.Constant):
                what = f"{type(node.value).__name__} literal"
            else:
                what = _KINDS.get(type(node), type(node).__name__)
        return ExpressionError(
            f"{what} `{self.snippet(node)}` at {self.where(node)} is not allowed in a schedule "
            "expression (only schedules from `fastlr list`, called, and literals)"
        )

    def schedule(self, node: ast.expr) -> Any:
        value = self.value(node)
        if not isinstance(value, self.base):
            raise ExpressionError(
                f"a schedule expression must build a schedule. Received: {self.snippet(node)}"
            )
        return value

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, _LITERALS):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = node.operand
            if isinstance(operand, ast.Constant) and _is_number(operand.value):
                return -operand.value
        elif isinstance(node, (ast.List, ast.Tuple)):
            items = [self.value(item) for item in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        elif isinstance(node, ast.Call):
            return self.call(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return self.scale(node)
        raise self.refuse(node)

    def call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Call):
            raise self.refuse(node, "call of a call's result")
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node.func)
        name = node.func.id
        cls = self.registry.get(name)
        if cls is None:
            raise ExpressionError(
                f"unknown schedule {name!r} at {self.where(node)}; "
                "`fastlr list` shows the catalogue"
            )
        args = [self.value(arg) for arg in node.args]  # a Starred argument is refused here
        kwargs: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise self.refuse(keyword, "`**` argument")
            if keyword.arg in kwargs:
                raise self.refuse(keyword, "repeated keyword argument")
            kwargs[keyword.arg] = self.value(keyword.value)
        return self.build(node, name, cls, args, kwargs)

    def build(self, node: ast.expr, name: str, cls: type, args: list, kwargs: dict) -> Any:
        import inspect

        signature = inspect.signature(cls.__init__)
        params = list(signature.parameters.values())[1:]
        try:
            signature.replace(parameters=params).bind(*args, **kwargs)
        except TypeError as err:
            accepted = ", ".join(p.name for p in params)
            raise ExpressionError(
                f"{name} at {self.where(node)}: {err} (it takes {accepted})"
            ) from None
        try:
            return cls(*args, **kwargs)
        except (ValueError, TypeError, OverflowError) as err:
            raise ExpressionError(
                f"{name} at {self.where(node)}: {str(err).splitlines()[0]}"
            ) from None

    def scale(self, node: ast.BinOp) -> Any:
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(right, self.base) and _is_number(left):
            left, right = right, left
        if not (isinstance(left, self.base) and _is_number(right)):
            raise self.refuse(node, "operator `*` (a schedule times a number only) in")
        return self.build(node, "Scale", self.registry["Scale"], [left, right], {})


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)
