"""Area rules: aggregates over an area's sensors and references to the warnings active in it.

An area is a region or a named group of sensors (``areas:`` in the registry). An area rule's
conditions use the same lark grammar as sensor rules, read by a transformer that adds:

- ``count(COND)``, ``fraction(COND)``: sensors where a per-sensor condition holds, and their
  share of the sensors reporting it;
- ``max(X)``, ``min(X)``, ``mean(X)``, ``quantile(X, Q)``: over a per-sensor number;
- ``reporting()``: sensors of the rule's kinds heard within ``fresh``;
- ``level("HAZARD")``: the highest active level of a hazard in the area (0 for none);
- ``warned("HAZARD", LEVEL)``: sensors with that hazard at or above a level;
- ``hazards(LEVEL)``: distinct hazards at or above a level; level names stand for 1 to 4.

>>> tree = parse_area('count(sum(rain_mm, 3h) >= 50) >= 2 and level("rainstorm") >= orange')
>>> area_unparse(tree)
'count(sum(rain_mm, 3h) >= 50) >= 2 and level("rainstorm") >= 3'
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, VisitError

from warning.records import LEVEL_NAMES, Level
from warning.rules.expr import (
    GRAMMAR,
    Arith,
    BoolOp,
    Compare,
    DurationLit,
    ExprError,
    MathCall,
    Neg,
    Node,
    Not,
    Num,
    Str,
    _Build,
    is_boolean,
    unparse,
)

#: Aggregates over the area's sensors: name -> whether the argument is a condition.
AGGREGATES = {
    "count": True,
    "fraction": True,
    "max": False,
    "min": False,
    "mean": False,
    "quantile": False,
}
#: References to the warnings active in the area.
WARNING_REFS = {"level": ("hazard",), "warned": ("hazard", "level"), "hazards": ("level",)}


@dataclass(frozen=True, slots=True)
class Aggregate:
    """An aggregate over the area's sensors of a per-sensor expression, e.g. ``count(...)``."""

    func: str
    item: Node
    q: float | None = None

    @property
    def key(self) -> str:
        """The per-sensor expression's text, under which sensors send its value."""
        return unparse(self.item)


@dataclass(frozen=True, slots=True)
class Reporting:
    """``reporting()``: the sensors of the rule's kinds heard within ``fresh``."""


@dataclass(frozen=True, slots=True)
class WarningRef:
    """A reference to active warnings: ``level``, ``warned`` or ``hazards``."""

    func: str
    hazard: str | None
    level: int | None


AreaNode = Node | Aggregate | Reporting | WarningRef


class _AreaBuild(_Build):
    """The expression transformer with area functions and level names added."""

    def field(self, items: list[Token]) -> Any:
        name = str(items[0])
        if name in LEVEL_NAMES:
            return Num(float(Level.parse(name).value))
        return super().field(items)

    def call(self, items: list) -> Any:
        name = str(items[0])
        args = [a for a in items[1:] if a is not None]
        if name in WARNING_REFS:
            return _warning_ref(name, args)
        if name == "reporting":
            if args:
                msg = f"expected reporting() without arguments, found {len(args)}"
                raise ExprError(msg)
            return Reporting()
        is_window = len(args) == 2 and isinstance(args[1], DurationLit)
        if name in AGGREGATES and not is_window and args:
            return _aggregate(name, args)
        return super().call(items)


def _warning_ref(name: str, args: list) -> WarningRef:
    want = WARNING_REFS[name]
    shown = ["LEVEL" if w == "level" else '"HAZARD"' for w in want]
    usage = f"{name}({', '.join(shown)})"
    if len(args) != len(want):
        msg = f"expected {usage}, found {len(args)} argument(s)"
        raise ExprError(msg)
    hazard, level = None, None
    for w, arg in zip(want, args, strict=True):
        if w == "hazard" and isinstance(arg, Str):
            hazard = arg.value
        elif w == "level" and isinstance(arg, Num) and arg.value in (1, 2, 3, 4):
            level = int(arg.value)
        else:
            msg = f"expected {usage} with LEVEL among {', '.join(LEVEL_NAMES)}, found {_show(arg)}"
            raise ExprError(msg)
    return WarningRef(name, hazard, level)


def _aggregate(name: str, args: list) -> Aggregate:
    want = 2 if name == "quantile" else 1
    usage = "quantile(X, Q)" if name == "quantile" else f"{name}(X)"
    if len(args) != want:
        msg = f"expected {usage}, found {len(args)} argument(s)"
        raise ExprError(msg)
    item = args[0]
    for sub in area_walk(item):
        if isinstance(sub, Aggregate | Reporting | WarningRef):
            msg = f"expected a per-sensor expression inside {name}(), found {_show(sub)}"
            raise ExprError(msg)
    if AGGREGATES[name] != is_boolean(item):
        what = "a condition" if AGGREGATES[name] else "a number expression"
        msg = f"expected {name}() over {what}, found {_show(item)}"
        raise ExprError(msg)
    q = None
    if name == "quantile":
        if not isinstance(args[1], Num) or not 0 <= args[1].value <= 1:
            msg = f"expected quantile(X, Q) with Q a number from 0 to 1, found {_show(args[1])}"
            raise ExprError(msg)
        q = args[1].value
    return Aggregate(name, item, q)


_PARSER = Lark(GRAMMAR, parser="lalr", maybe_placeholders=False)


@lru_cache(maxsize=1024)
def parse_area(text: str) -> AreaNode:
    """Parse an area expression, raising ExprError with expected/found."""
    if not isinstance(text, str):
        msg = f"expected an expression string, found {type(text).__name__}"
        raise ExprError(msg)
    try:
        return _AreaBuild().transform(_PARSER.parse(text))
    except VisitError as exc:
        if isinstance(exc.orig_exc, ExprError | ValueError):
            raise ExprError(str(exc.orig_exc)) from None
        raise
    except UnexpectedInput as exc:
        msg = (
            f"expected a valid expression at column {getattr(exc, 'column', '?')}, found "
            f"{text[getattr(exc, 'pos_in_stream', 0) or 0 :][:10]!r}"
        )
        raise ExprError(msg) from None


def area_walk(node: Any) -> Iterator[Any]:
    """Yield an area expression's nodes, not descending into aggregates."""
    yield node
    if isinstance(node, Arith | Compare):
        yield from area_walk(node.left)
        yield from area_walk(node.right)
    elif isinstance(node, BoolOp | MathCall):
        for item in node.items if isinstance(node, BoolOp) else node.args:
            yield from area_walk(item)
    elif isinstance(node, Neg | Not):
        yield from area_walk(node.item)
    elif hasattr(node, "args"):  # a per-sensor indicator call
        for item in node.args:
            yield from area_walk(item)


def check_area(node: AreaNode, boolean: bool) -> list[Aggregate]:
    """Check an area expression's shape and return its aggregates; raise ExprError."""
    aggregates = []
    for sub in area_walk(node):
        if isinstance(sub, Aggregate):
            aggregates.append(sub)
        elif isinstance(sub, Str | DurationLit) or not isinstance(
            sub, Num | Arith | Compare | BoolOp | MathCall | Neg | Not | Reporting | WarningRef
        ):
            msg = (
                f"expected per-sensor values inside an aggregate such as count(...) or "
                f"max(...), found {_show(sub)} on its own"
            )
            raise ExprError(msg)
    if boolean != is_boolean(node):  # type: ignore[arg-type]
        what = "a condition (a comparison)" if boolean else "a number expression"
        msg = f"expected {what}, found {_show(node)}"
        raise ExprError(msg)
    return aggregates


def area_unparse(node: Any) -> str:
    """Render an area expression back to text."""
    if isinstance(node, Aggregate):
        q = f", {node.q:g}" if node.q is not None else ""
        return f"{node.func}({unparse(node.item)}{q})"
    if isinstance(node, Reporting):
        return "reporting()"
    if isinstance(node, WarningRef):
        args = ([f'"{node.hazard}"'] if node.hazard else []) + (
            [Level(node.level).colour] if node.level else []
        )
        return f"{node.func}({', '.join(args)})"
    if isinstance(node, Arith):
        return f"({area_unparse(node.left)} {node.op} {area_unparse(node.right)})"
    if isinstance(node, Compare):
        return f"{area_unparse(node.left)} {node.op} {area_unparse(node.right)}"
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(
            f"({area_unparse(i)})" if isinstance(i, BoolOp) else area_unparse(i) for i in node.items
        )
    if isinstance(node, Not):
        return f"not ({area_unparse(node.item)})"
    if isinstance(node, Neg):
        return f"-{area_unparse(node.item)}"
    if isinstance(node, MathCall):
        return f"{node.func}({', '.join(area_unparse(a) for a in node.args)})"
    return unparse(node)


def _show(node: Any) -> str:
    return repr(area_unparse(node))


@dataclass
class AreaView:
    """What an area expression sees at one moment: fresh sensors' values and active warnings."""

    #: sensor id -> (kind, its latest per-sensor values by expression text), fresh ones only
    sensors: Mapping[str, tuple[str, Mapping[str, Any]]]
    #: (hazard, subject) -> level of the warnings active in the area
    warnings: Mapping[tuple[str, str], Level]
    #: expression text -> the kinds it is computed for
    kinds: Mapping[str, frozenset[str]]
    #: the rule's kinds, for ``reporting()``
    rule_kinds: frozenset[str] = frozenset()

    def values(self, key: str) -> list[tuple[str, Any]]:
        """Return (sensor, value) for each fresh sensor the expression is computed for."""
        kinds = self.kinds.get(key, frozenset())
        return [
            (sid, vals.get(key))
            for sid, (kind, vals) in sorted(self.sensors.items())
            if kind in kinds
        ]


def quantile(values: Sequence[float], q: float) -> float:
    """Return the q-quantile with linear interpolation between order statistics.

    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5), quantile([5.0], 0.9)
    (2.5, 5.0)
    """
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def aggregate(node: Aggregate, view: AreaView) -> float | None:
    """Return an aggregate's value; None when no sensor gives a known value."""
    known = [v for _, v in view.values(node.key) if v is not None]
    if node.func == "count":
        return float(sum(1 for v in known if v is True))
    if not known:
        return None
    if node.func == "fraction":
        return sum(1 for v in known if v is True) / len(known)
    numbers = [float(v) for v in known]
    if node.func == "max":
        return max(numbers)
    if node.func == "min":
        return min(numbers)
    if node.func == "mean":
        return sum(numbers) / len(numbers)
    assert node.q is not None
    return quantile(numbers, node.q)


def warning_ref(node: WarningRef, view: AreaView) -> float:
    """Return a warning reference's value (0 when nothing is active)."""
    if node.func == "level":
        return float(
            max((lv.value for (h, _), lv in view.warnings.items() if h == node.hazard), default=0)
        )
    floor = node.level or 0
    if node.func == "warned":
        return float(
            sum(1 for (h, _), lv in view.warnings.items() if h == node.hazard and lv.value >= floor)
        )
    return float(len({h for (h, _), lv in view.warnings.items() if lv.value >= floor}))


_COMPARE = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def evaluate(node: Any, view: AreaView) -> Any:
    """Evaluate an area expression; unknown values are None and make conditions false."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Aggregate):
        return aggregate(node, view)
    if isinstance(node, WarningRef):
        return warning_ref(node, view)
    if isinstance(node, Reporting):
        return float(sum(1 for kind, _ in view.sensors.values() if kind in view.rule_kinds))
    if isinstance(node, Compare | Arith):
        a = evaluate(node.left, view)
        b = None if a is None else evaluate(node.right, view)
        if b is None:
            return None
        if isinstance(node, Compare):
            return _COMPARE[node.op](a, b)
        if node.op == "/":
            return a / b if b else None
        return a + b if node.op == "+" else a - b if node.op == "-" else a * b
    if isinstance(node, Neg | Not):
        v = evaluate(node.item, view)
        return None if v is None else (-v if isinstance(node, Neg) else not v)
    if isinstance(node, BoolOp):
        unknown = False
        for item in node.items:
            v = evaluate(item, view)
            if v is None:
                unknown = True
            elif bool(v) is (node.op == "or"):
                return node.op == "or"
        return None if unknown else node.op != "or"
    if isinstance(node, MathCall):
        args = [evaluate(a, view) for a in node.args]
        if any(a is None for a in args):
            return None
        return abs(args[0]) if node.func == "abs" else round(args[0], int(args[1]))
    raise TypeError(node)
