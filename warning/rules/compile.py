"""Turn checked syntax trees into fast closures over an evaluation context."""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable, Mapping
from typing import Any

from warning.rules.expr import (
    Ahead,
    Arith,
    BoolOp,
    Compare,
    Diagnosis,
    DurationLit,
    Field,
    Indicator,
    MathCall,
    Neg,
    Node,
    Not,
    Num,
    SensorAttr,
    Window,
)
from warning.rules.forecasts import Track
from warning.rules.forecasts import value as ahead_value
from warning.rules.functions import SERIES_FUNCTIONS, fwi_value
from warning.rules.windows import Series


class Context:
    """What an expression can see: one sensor's series and registry entry at time ``now``."""

    __slots__ = ("series", "sensor", "now", "cache", "daily", "health", "forecasts", "nowcasts")

    def __init__(
        self,
        series: Mapping[str, Series],
        sensor: Mapping[str, Any],
        now: int,
        daily: Mapping[str, float] | None = None,
        health: Any = None,
        forecasts: Mapping[str, Track] | None = None,
        nowcasts: Mapping[str, Track] | None = None,
    ):
        self.forecasts = forecasts  # received forecasts in force, per field
        self.nowcasts = nowcasts  # the learned nowcast's latest prediction, per field
        self.series = series
        self.sensor = sensor
        self.now = now
        self.daily = daily  # the station's latest daily indices (FWI), if any
        self.cache: dict[Any, Any] = {}
        self.health = health  # the sensor's anomaly.health.Health, None without detectors

    def window(self, node: Window) -> float | None:
        """Return a window function's value, computed once per evaluation."""
        return _window(node)(self)

    def indicator(
        self, node: Indicator, args: tuple[float, ...], name: str | None = None
    ) -> float | None:
        """Return an indicator function's value, computed once per evaluation.

        ``name`` stands for the node in the cache key (a node hashes all its fields each time).
        """
        key = (name or repr(node), args)
        try:
            return self.cache[key]
        except KeyError:
            pass
        if node.field is None:
            value = fwi_value(node.func, self.daily)
        else:
            f = SERIES_FUNCTIONS[node.func]
            s = self.series.get(node.field)
            back = node.duration_ms or f.horizon_ms
            extra = (node.duration_ms,) if node.duration_ms else ()
            if f.prepare is None:
                ts, vals = s.window(self.now - back, self.now) if s is not None else ([], [])
                value = f.run(ts, vals, self.now, *args, *extra)
            else:
                shared_key = (f.prepare, node.field, back)
                if shared_key in self.cache:
                    data = self.cache[shared_key]
                else:
                    data = self.cache[shared_key] = f.prepare(s, self.now, back)
                value = f.run(data, self.now, *args, *extra)
        self.cache[key] = value
        return value


Compiled = Callable[[Context], Any]

_COMPARE = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def compile_node(node: Node) -> Compiled:
    """Compile a node; unknown values are None and make conditions false, never an error.

    >>> from warning.rules.expr import parse
    >>> f = compile_node(parse("level_m >= sensor.warning_level_m"))
    >>> s = Series(); s.add(0, 4.6)
    >>> f(Context({"level_m": s}, {"warning_level_m": 4.5}, 0)), f(Context({}, {}, 0))
    (True, None)
    """
    if isinstance(node, Num):
        value = node.value
        return lambda ctx: value
    if isinstance(node, Field):
        name = node.name

        def field(ctx: Context) -> float | None:
            s = ctx.series.get(name)
            return s.aggregate("last", None, ctx.now) if s is not None else None

        return field
    if isinstance(node, SensorAttr):
        key = node.name

        def attr(ctx: Context) -> float | None:
            value = ctx.sensor.get(key)
            return value if isinstance(value, int | float) and not isinstance(value, bool) else None

        return attr
    if isinstance(node, Window):
        return _window(node)
    if isinstance(node, Ahead):
        return _ahead(node)
    if isinstance(node, Indicator):
        arg_fns = [compile_node(a) for a in node.args]
        name = sys.intern(repr(node))
        if all(isinstance(a, Num) for a in node.args):  # e.g. the I-D curve's a and b
            const = tuple(a.value for a in node.args if isinstance(a, Num))
            cached = (name, const)

            def constant(ctx: Context) -> float | None:
                cache = ctx.cache
                if cached in cache:
                    return cache[cached]
                return ctx.indicator(node, const, name)

            return constant

        def indicator(ctx: Context) -> float | None:
            args = tuple(f(ctx) for f in arg_fns)
            if any(a is None for a in args):
                return None
            return ctx.indicator(node, args, name)

        return indicator
    if isinstance(node, Diagnosis):
        return _diagnosis(node)
    if isinstance(node, Compare):
        if isinstance(node.right, Num):  # the usual threshold: a constant on the right
            return _against(_COMPARE[node.op], compile_node(node.left), node.right.value)
        return _binary(_COMPARE[node.op], compile_node(node.left), compile_node(node.right))
    if isinstance(node, Arith):
        op = _ARITH.get(node.op, _divide)
        return _binary(op, compile_node(node.left), compile_node(node.right))
    if isinstance(node, Neg):
        inner = compile_node(node.item)
        return lambda ctx: None if (v := inner(ctx)) is None else -v
    if isinstance(node, Not):
        inner = compile_node(node.item)
        return lambda ctx: None if (v := inner(ctx)) is None else not v
    if isinstance(node, BoolOp):
        return _bool(node.op, [compile_node(i) for i in node.items])
    if isinstance(node, MathCall):
        args = [compile_node(a) for a in node.args]
        if node.func == "abs":
            return lambda ctx: None if (v := args[0](ctx)) is None else abs(v)
        return lambda ctx: (
            None if (v := args[0](ctx)) is None or (n := args[1](ctx)) is None else round(v, int(n))
        )
    if isinstance(node, DurationLit):
        msg = "a duration is only valid inside a window function"
        raise TypeError(msg)
    raise TypeError(node)


def _window(node: Window) -> Compiled:
    """Compile a window function, its value cached per evaluation under a string key.

    Equal windows of different rules share the key; a string keeps its hash, a node does not.
    """
    func, name, ms = node.func, node.field, node.duration_ms
    key = sys.intern(f"{func}({name}, {ms})")
    empty = 0.0 if func in ("sum", "count") else None

    def window(ctx: Context) -> float | None:
        cache = ctx.cache
        if key in cache:
            return cache[key]
        s = ctx.series.get(name)
        value = None if s is None else s.aggregate(func, ms, ctx.now)
        if value is None:
            value = empty
        cache[key] = value
        return value

    return window


def _ahead(node: Ahead) -> Compiled:
    """Compile ``forecast_sum/max/at`` (received forecasts) and ``predicted`` (nowcasts).

    >>> fc = {"rain_mm": Track("qpf", 0, 10**9, (3_600_000,), (12.0,))}
    >>> compile_node(Ahead("forecast_sum", "rain_mm", 3_600_000))(Context({}, {}, 0, forecasts=fc))
    12.0
    """
    func, name, ms = node.func, node.field, node.duration_ms
    if func == "predicted":
        return lambda ctx: ahead_value("forecast_at", ctx.nowcasts, name, ctx.now, ms)
    return lambda ctx: ahead_value(func, ctx.forecasts, name, ctx.now, ms)


def _diagnosis(node: Diagnosis) -> Compiled:
    """Compile ``anomaly(FIELD)`` and ``fault([NAME])``; unknown (None) without detectors.

    >>> from warning.anomaly.health import Health
    >>> h = Health(scores={"level_m": 0.25})
    >>> compile_node(Diagnosis("anomaly", "level_m"))(Context({}, {}, 0, health=h))
    0.25
    >>> compile_node(Diagnosis("fault", fault="stuck"))(Context({}, {}, 0, health=h))
    False
    """
    if node.func == "anomaly":
        name = node.field
        return lambda ctx: None if ctx.health is None else ctx.health.scores.get(name)
    fault = node.fault
    return lambda ctx: None if ctx.health is None else ctx.health.has_fault(fault)


def _divide(a: float, b: float) -> float | None:
    return a / b if b else None


def _binary(op: Callable[[Any, Any], Any], left: Compiled, right: Compiled) -> Compiled:
    def binary(ctx: Context) -> Any:
        a = left(ctx)
        if a is None:
            return None
        b = right(ctx)
        return None if b is None else op(a, b)

    return binary


def _against(op: Callable[[Any, Any], Any], left: Compiled, threshold: float) -> Compiled:
    def against(ctx: Context) -> Any:
        a = left(ctx)
        return None if a is None else op(a, threshold)

    return against


def _bool(op: str, items: list[Compiled]) -> Compiled:
    # Three-valued logic: an unknown operand is only decisive when nothing else is.
    decisive = op == "or"

    def boolean(ctx: Context) -> bool | None:
        unknown = False
        for item in items:
            v = item(ctx)
            if v is None:
                unknown = True
            elif bool(v) is decisive:
                return decisive
        return None if unknown else not decisive

    return boolean
