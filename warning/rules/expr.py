"""The rule expression language: a lark grammar, a typed syntax tree and its static checks.

Expressions are parsed, never evaluated as Python. Example:

>>> tree = parse("sum(rain_mm, 3h) >= 50 and not level_m < sensor.warning_level_m")
>>> tree.items[0].left
Window(func='sum', field='rain_mm', duration_ms=10800000)
>>> unparse(tree)
'sum(rain_mm, 3h) >= 50 and not (level_m < sensor.warning_level_m)'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Union

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput
from lark.exceptions import VisitError

from warning.anomaly.faults import FAULTS
from warning.records import format_duration_ms, parse_duration_ms
from warning.rules.functions import (
    FORECAST_FUNCTIONS,
    FWI_FIELDS,
    FWI_FUNCTIONS,
    SERIES_FUNCTIONS,
    Function,
)

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr
        | or_expr "or" and_expr              -> or_
?and_expr: not_expr
         | and_expr "and" not_expr           -> and_
?not_expr: comparison
         | "not" not_expr                    -> not_
?comparison: sum
           | sum COMP sum                    -> compare
?sum: product
    | sum ADD_OP product                     -> arith
?product: unary
        | product MUL_OP unary               -> arith
?unary: atom
      | "-" unary                            -> neg
?atom: NUMBER                                -> number
     | DURATION                              -> duration
     | STRING                                -> string
     | "sensor" "." NAME                     -> sensor_attr
     | NAME "(" [arg ("," arg)*] ")"         -> call
     | NAME                                  -> field
     | "(" or_expr ")"
?arg: or_expr
COMP: ">=" | "<=" | "==" | "!=" | ">" | "<"
ADD_OP: "+" | "-"
MUL_OP: "*" | "/"
DURATION.3: /\d+(\.\d+)?[smhd](?![A-Za-z0-9_])/
STRING: /"[A-Za-z_][A-Za-z0-9_]*"/
NUMBER.2: /\d+(\.\d+)?([eE][+-]?\d+)?/
NAME: /(?!(and|or|not)\b)[A-Za-z_][A-Za-z0-9_]*/
%ignore /[ \t\r\n]+/
"""

#: Window functions: name -> whether the duration argument is required.
WINDOW_FUNCTIONS = {
    "sum": True,
    "mean": True,
    "min": True,
    "max": True,
    "count": True,
    "delta": True,
    "rate": True,
    "last": False,
}
#: Data-quality functions: ``anomaly(FIELD)`` (score in [0, 1]) and ``fault([NAME])``.
DIAGNOSIS_FUNCTIONS = ("anomaly", "fault")
#: Plain math functions: name -> number of arguments.
MATH_FUNCTIONS = {"abs": 1, "round": 2}


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal."""

    value: float


@dataclass(frozen=True, slots=True)
class Field:
    """The latest value of a reading field, e.g. ``level_m``."""

    name: str


@dataclass(frozen=True, slots=True)
class SensorAttr:
    """A value from the sensor registry, e.g. ``sensor.warning_level_m``."""

    name: str


@dataclass(frozen=True, slots=True)
class Window:
    """A window function over a field, e.g. ``sum(rain_mm, 3h)``."""

    func: str
    field: str
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Ahead:
    """A look ahead: ``forecast_sum(rain_mm, 6h)`` (forecast) or ``predicted(level_m, 3h)``."""

    func: str
    field: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Indicator:
    """An indicator function, e.g. ``time_to(level_m, sensor.warning_level_m)`` or ``fwi()``."""

    func: str
    field: str | None
    args: tuple[Node, ...]
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A data-quality function: ``anomaly(level_m)`` or ``fault()`` / ``fault("stuck")``."""

    func: str
    field: str | None = None
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class Str:
    """A quoted name; only valid as the argument of ``fault``."""

    value: str


@dataclass(frozen=True, slots=True)
class MathCall:
    """A plain function over numbers, e.g. ``abs(delta(level_m, 1h))``."""

    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Arith:
    """Arithmetic on two operands."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    item: Node


@dataclass(frozen=True, slots=True)
class Compare:
    """A comparison."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``and`` / ``or`` over two or more items."""

    op: str
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Logical negation."""

    item: Node


@dataclass(frozen=True, slots=True)
class DurationLit:
    """A duration literal; only valid as a window function's argument."""

    ms: int


Node = Union[  # noqa: UP007 (a runtime alias: the dataclasses' forward references need it)
    Num,
    Field,
    SensorAttr,
    Window,
    Indicator,
    MathCall,
    Arith,
    Neg,
    Compare,
    BoolOp,
    Not,
    DurationLit,
    Diagnosis,
    Str,
    Ahead,
]


class ExprError(ValueError):
    """An expression that does not parse or does not check; the message says expected/found."""


class _Build(Transformer):
    def number(self, items: list[Token]) -> Num:
        return Num(float(items[0]))

    def duration(self, items: list[Token]) -> DurationLit:
        return DurationLit(parse_duration_ms(str(items[0])))

    def string(self, items: list[Token]) -> Str:
        return Str(str(items[0])[1:-1])

    def sensor_attr(self, items: list[Token]) -> SensorAttr:
        return SensorAttr(str(items[0]))

    def field(self, items: list[Token]) -> Field:
        return Field(str(items[0]))

    def neg(self, items: list[Node]) -> Node:
        return Num(-items[0].value) if isinstance(items[0], Num) else Neg(items[0])

    def not_(self, items: list[Node]) -> Not:
        return Not(items[0])

    def or_(self, items: list[Node]) -> BoolOp:
        return _flatten("or", items)

    def and_(self, items: list[Node]) -> BoolOp:
        return _flatten("and", items)

    def compare(self, items: list) -> Compare:
        return Compare(str(items[1]), items[0], items[2])

    def arith(self, items: list) -> Node:
        return Arith(str(items[1]), items[0], items[2])

    def call(self, items: list) -> Node:
        name = str(items[0])
        args = [a for a in items[1:] if a is not None]
        if name in WINDOW_FUNCTIONS:
            return _window(name, args)
        if name in SERIES_FUNCTIONS:
            return _indicator(SERIES_FUNCTIONS[name], args)
        if name in FORECAST_FUNCTIONS:
            return _ahead(name, args)
        if name in FWI_FUNCTIONS:
            if args:
                msg = f"expected {name}() without arguments, found {len(args)}"
                raise ExprError(msg)
            return Indicator(name, None, (), None)
        if name in DIAGNOSIS_FUNCTIONS:
            return _diagnosis(name, args)
        if name in MATH_FUNCTIONS:
            if len(args) != MATH_FUNCTIONS[name]:
                msg = (
                    f"expected {name}() with {MATH_FUNCTIONS[name]} argument(s), found {len(args)}"
                )
                raise ExprError(msg)
            return MathCall(name, tuple(args))
        known = ", ".join(
            sorted(
                [
                    *WINDOW_FUNCTIONS,
                    *MATH_FUNCTIONS,
                    *SERIES_FUNCTIONS,
                    *FWI_FUNCTIONS,
                    *DIAGNOSIS_FUNCTIONS,
                    *FORECAST_FUNCTIONS,
                ]
            )
        )
        msg = f"expected a function among {known}, found unknown function {name!r}"
        raise ExprError(msg)


def _flatten(op: str, items: list[Node]) -> BoolOp:
    left, right = items
    head = left.items if isinstance(left, BoolOp) and left.op == op else (left,)
    return BoolOp(op, (*head, right))


def _indicator(f: Function, args: list[Node]) -> Indicator:
    if not f.required <= len(args) <= len(f.params):
        msg = f"expected {f.usage()}, found {len(args)} argument(s)"
        raise ExprError(msg)
    field, numbers, duration = None, [], None
    for kind, arg in zip(f.params, args, strict=False):
        if kind == "field":
            if not isinstance(arg, Field):
                msg = f"expected {f.usage()} with a field name first, found {_show(arg)}"
                raise ExprError(msg)
            field = arg.name
        elif kind == "duration":
            if not isinstance(arg, DurationLit) or arg.ms <= 0:
                msg = (
                    f"expected {f.usage()} with a positive duration such as 3h, found {_show(arg)}"
                )
                raise ExprError(msg)
            duration = arg.ms
        else:
            if isinstance(arg, DurationLit) or is_boolean(arg):
                msg = f"expected {f.usage()} with a number, found {_show(arg)}"
                raise ExprError(msg)
            numbers.append(arg)
    if duration is None and "duration" in f.params:
        duration = f.defaults[-1]
    return Indicator(f.name, field, tuple(numbers), duration)


def _diagnosis(name: str, args: list[Node]) -> Diagnosis:
    if name == "anomaly":
        if len(args) != 1 or not isinstance(args[0], Field):
            found = _show(args[0]) if len(args) == 1 else f"{len(args)} argument(s)"
            msg = f"expected anomaly(FIELD) with one field name, found {found}"
            raise ExprError(msg)
        return Diagnosis(name, field=args[0].name)
    if not args:
        return Diagnosis(name)
    arg = args[0]
    fault = arg.value if isinstance(arg, Str) else arg.name if isinstance(arg, Field) else None
    if len(args) > 1 or fault not in FAULTS:
        found = f"{len(args)} arguments" if len(args) > 1 else _show(arg)
        msg = f"expected fault() or fault(NAME) with NAME among {', '.join(FAULTS)}, found {found}"
        raise ExprError(msg)
    return Diagnosis(name, fault=fault)


def _ahead(name: str, args: list[Node]) -> Ahead:
    usage = f"{name}(FIELD, DURATION)"
    if len(args) != 2 or not isinstance(args[0], Field):
        found = _show(args[0]) if len(args) == 2 else f"{len(args)} argument(s)"
        msg = f"expected {usage} with a field name first, found {found}"
        raise ExprError(msg)
    if not isinstance(args[1], DurationLit) or args[1].ms <= 0:
        msg = f"expected {usage} with a positive duration such as 3h, found {_show(args[1])}"
        raise ExprError(msg)
    return Ahead(name, args[0].name, args[1].ms)


def _window(name: str, args: list[Node]) -> Window:
    required = WINDOW_FUNCTIONS[name]
    usage = f"{name}(FIELD, DURATION)" if required else f"{name}(FIELD[, DURATION])"
    if not args or not isinstance(args[0], Field):
        found = _show(args[0]) if args else "no arguments"
        msg = f"expected {usage} with a field name first, found {found}"
        raise ExprError(msg)
    if len(args) > 2 or (required and len(args) != 2):
        msg = f"expected {usage}, found {len(args)} argument(s)"
        raise ExprError(msg)
    duration = None
    if len(args) == 2:
        if not isinstance(args[1], DurationLit) or args[1].ms <= 0:
            msg = f"expected {usage} with a positive duration such as 3h, found {_show(args[1])}"
            raise ExprError(msg)
        duration = args[1].ms
    return Window(name, args[0].name, duration)


_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


@lru_cache(maxsize=4096)
def parse(text: str) -> Node:
    """Parse an expression into a syntax tree, raising ExprError with expected/found."""
    if not isinstance(text, str):
        msg = f"expected an expression string, found {type(text).__name__}"
        raise ExprError(msg)
    if len(text) > 2000:
        msg = f"expected an expression of at most 2000 characters, found {len(text)}"
        raise ExprError(msg)
    try:
        tree = _PARSER.parse(text)
        node = _Build().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ExprError | ValueError):
            raise ExprError(str(exc.orig_exc)) from None
        raise
    except UnexpectedEOF:
        msg = f"expected more after {text.strip()!r}, found the end of the expression"
        raise ExprError(msg) from None
    except UnexpectedCharacters as exc:
        at = exc.pos_in_stream or 0
        found = text[at : at + 10]
        msg = f"expected a valid expression at column {exc.column}, found {found!r}"
        raise ExprError(msg + _hint(text, at)) from None
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        column = getattr(exc, "column", "?")
        found = (
            "the end of the expression"
            if token is None or token.type == "$END"
            else repr(str(token))
        )
        msg = f"expected a valid expression at column {column}, found {found}"
        pos = getattr(token, "start_pos", None)
        raise ExprError(msg + (_hint(text, pos) if isinstance(pos, int) else "")) from None
    except RecursionError:
        msg = "expected an expression nested less deeply, found too many parentheses"
        raise ExprError(msg) from None
    if isinstance(node, DurationLit):
        msg = f"expected a number or condition, found the bare duration {_show(node)}"
        raise ExprError(msg)
    return node


#: What a rule author most likely meant by a token the grammar refuses.
_HINTS = (
    (
        re.compile(r"\d+(\.\d+)?[smhd]?\s*[A-Za-z]"),
        "; a duration is one number and one unit (s, m, h, d): 3h, 90m, 1d",
    ),
    (re.compile(r"=>|=<|(?<![<>=!])=(?!=)"), "; comparisons are >=, <=, ==, !=, >, <"),
    (re.compile(r"&&|\|\||\b(AND|OR|NOT)\b"), "; the logic words are and, or, not (lower case)"),
)


def _hint(text: str, at: int) -> str:
    """A hint for the mistake at (or just before) ``at``, or ""."""
    start = at
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
        start -= 1  # back to the start of the number or word the error cut into
    for pattern, hint in _HINTS:
        if pattern.match(text, start) or pattern.match(text, at):
            return hint
    return ""


def check(node: Node, fields: frozenset[str] | None, boolean: bool) -> None:
    """Check names against the kind's ``fields`` and the result type; raise ExprError."""
    for sub in walk(node):
        name = (
            sub.name
            if isinstance(sub, Field)
            else sub.field
            if isinstance(sub, Window | Indicator | Diagnosis | Ahead)
            else None
        )
        if isinstance(sub, Str):
            msg = f"expected a number, found the string {_show(sub)} outside fault()"
            raise ExprError(msg)
        if (
            isinstance(sub, Indicator)
            and sub.func in FWI_FUNCTIONS
            and fields is not None
            and not set(FWI_FIELDS) <= fields
        ):
            msg = (
                f"expected {sub.func}() on a kind with {', '.join(FWI_FIELDS)}, found one "
                f"with {', '.join(sorted(fields))}"
            )
            raise ExprError(msg)
        if name is not None and fields is not None and name not in fields:
            msg = (
                f"expected a field among {', '.join(sorted(fields))}, found unknown field {name!r}"
            )
            raise ExprError(msg)
        if isinstance(sub, DurationLit):
            msg = f"expected a number, found the duration {_show(sub)} outside a window function"
            raise ExprError(msg)
    if boolean and not is_boolean(node):
        msg = f"expected a condition (a comparison), found the number expression {_show(node)}"
        raise ExprError(msg)
    if not boolean and is_boolean(node):
        msg = f"expected a number expression, found the condition {_show(node)}"
        raise ExprError(msg)


def looks_ahead(node: Node) -> bool:
    """Return True when the expression reads a forecast or a nowcast.

    >>> looks_ahead(parse("sum(rain_mm, 6h) + forecast_sum(rain_mm, 6h) >= 50"))
    True
    """
    return any(isinstance(sub, Ahead) for sub in walk(node))


def is_boolean(node: Node) -> bool:
    """Return True when the node yields a condition rather than a number."""
    return (
        isinstance(node, Compare | BoolOp | Not)
        or isinstance(node, Diagnosis)
        and node.func == "fault"
    )


def sensor_keys(nodes: Iterable[Node]) -> set[str]:
    """Return the registry keys (``sensor.KEY``) the expressions read."""
    return {n.name for node in nodes for n in walk(node) if isinstance(n, SensorAttr)}


def walk(node: Node):
    """Yield the node and all nodes below it."""
    yield node
    if isinstance(node, Arith | Compare):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, BoolOp | MathCall | Indicator):
        for item in node.items if isinstance(node, BoolOp) else node.args:
            yield from walk(item)
    elif isinstance(node, Neg | Not):
        yield from walk(node.item)


def _show(node: Node) -> str:
    return repr(unparse(node))


def unparse(node: Node) -> str:
    """Render a node back to canonical expression text.

    >>> unparse(parse("sum( rain_mm,180m )>=50"))
    'sum(rain_mm, 3h) >= 50'
    """
    if isinstance(node, Num):
        return f"{node.value:g}"
    if isinstance(node, Field):
        return node.name
    if isinstance(node, SensorAttr):
        return f"sensor.{node.name}"
    if isinstance(node, DurationLit):
        return format_duration_ms(node.ms)
    if isinstance(node, Str):
        return f'"{node.value}"'
    if isinstance(node, Diagnosis):
        arg = node.field or (f'"{node.fault}"' if node.fault else "")
        return f"{node.func}({arg})"
    if isinstance(node, Window):
        dur = f", {format_duration_ms(node.duration_ms)}" if node.duration_ms else ""
        return f"{node.func}({node.field}{dur})"
    if isinstance(node, Ahead):
        return f"{node.func}({node.field}, {format_duration_ms(node.duration_ms)})"
    if isinstance(node, MathCall):
        return f"{node.func}({', '.join(unparse(a) for a in node.args)})"
    if isinstance(node, Indicator):
        parts = ([node.field] if node.field else []) + [unparse(a) for a in node.args]
        if node.duration_ms:
            parts.append(format_duration_ms(node.duration_ms))
        return f"{node.func}({', '.join(parts)})"
    if isinstance(node, Arith):
        return f"({unparse(node.left)} {node.op} {unparse(node.right)})"
    if isinstance(node, Neg):
        return f"-{unparse(node.item)}"
    if isinstance(node, Compare):
        return f"{unparse(node.left)} {node.op} {unparse(node.right)}"
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(
            f"({unparse(i)})" if isinstance(i, BoolOp) else unparse(i) for i in node.items
        )
    if isinstance(node, Not):
        return f"not ({unparse(node.item)})"
    raise TypeError(node)


def value_name(node: Node) -> str:
    """Name a number expression for a warning's ``values`` map.

    >>> value_name(Window("sum", "rain_mm", 10_800_000))
    'sum_rain_mm_3h'
    """
    if isinstance(node, Window | Ahead):
        dur = f"_{format_duration_ms(node.duration_ms)}" if node.duration_ms else ""
        return f"{node.func}_{node.field}{dur}"
    if isinstance(node, Field):
        return node.name
    if isinstance(node, SensorAttr):
        return node.name
    if isinstance(node, Indicator) and not node.args:
        return f"{node.func}_{node.field}" if node.field else node.func
    return unparse(node)
