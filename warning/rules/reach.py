"""Static analysis of level conditions: find levels that can never be the highest that holds."""

from __future__ import annotations

import math
from dataclasses import dataclass

from warning.rules.expr import BoolOp, Compare, Node, Num, unparse

_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}


@dataclass(frozen=True)
class Interval:
    """A set of reals ``lo..hi`` with open or closed ends."""

    lo: float = -math.inf
    lo_closed: bool = False
    hi: float = math.inf
    hi_closed: bool = False

    def empty(self) -> bool:
        """Return True if no number lies in the interval."""
        if self.lo > self.hi:
            return True
        return self.lo == self.hi and not (self.lo_closed and self.hi_closed)

    def meet(self, other: Interval) -> Interval:
        """Return the intersection."""
        if (self.lo, not self.lo_closed) >= (other.lo, not other.lo_closed):
            lo, lo_closed = self.lo, self.lo_closed
        else:
            lo, lo_closed = other.lo, other.lo_closed
        if (self.hi, self.hi_closed) <= (other.hi, other.hi_closed):
            hi, hi_closed = self.hi, self.hi_closed
        else:
            hi, hi_closed = other.hi, other.hi_closed
        return Interval(lo, lo_closed, hi, hi_closed)

    def within(self, other: Interval) -> bool:
        """Return True if every number in self lies in other."""
        return self.meet(other) == self or self.empty()


def _atom(node: Node) -> tuple[str, Interval] | None:
    if not isinstance(node, Compare) or node.op == "!=":
        return None
    op, left, right = node.op, node.left, node.right
    if isinstance(left, Num) and not isinstance(right, Num):
        op, left, right = _FLIP[op], right, left
    if not isinstance(right, Num) or isinstance(left, Num):
        return None
    c = right.value
    interval = {
        ">=": Interval(c, True),
        ">": Interval(c, False),
        "<=": Interval(hi=c, hi_closed=True),
        "<": Interval(hi=c, hi_closed=False),
        "==": Interval(c, True, c, True),
    }[op]
    return unparse(left), interval


def constraints(node: Node) -> dict[str, Interval] | None:
    """Return ``{expression: interval}`` if the condition is a conjunction of such bounds.

    >>> from warning.rules.expr import parse
    >>> constraints(parse("sum(rain_mm, 3h) >= 50 and 100 > sum(rain_mm, 3h)"))
    {'sum(rain_mm, 3h)': Interval(lo=50.0, lo_closed=True, hi=100.0, hi_closed=False)}
    """
    atoms = node.items if isinstance(node, BoolOp) and node.op == "and" else (node,)
    out: dict[str, Interval] = {}
    for atom in atoms:
        found = _atom(atom)
        if found is None:
            return None
        key, interval = found
        out[key] = out[key].meet(interval) if key in out else interval
    return out


def _disjuncts(node: Node) -> tuple[Node, ...]:
    return node.items if isinstance(node, BoolOp) and node.op == "or" else (node,)


def _bounds(node: Node) -> dict[str, Interval] | None:
    """The bounds among a conjunction's terms, the others left aside (None: there are none).

    A condition implies the bounds it is made with: ``x >= 60 and anomaly(...)`` holds only
    where ``x >= 60`` does.
    """
    atoms = node.items if isinstance(node, BoolOp) and node.op == "and" else (node,)
    out: dict[str, Interval] = {}
    for atom in atoms:
        found = _atom(atom)
        if found is not None:
            key, interval = found
            out[key] = out[key].meet(interval) if key in out else interval
    return out or None


def _implies(mine: dict[str, Interval], theirs: dict[str, Interval]) -> bool:
    return all(k in mine and mine[k].within(v) for k, v in theirs.items())


def unreachable_reason(lower: Node, higher: dict[str, Node]) -> str | None:
    """Say why level condition ``lower`` can never win over the ``higher`` levels, if so.

    It cannot when each of its alternatives (``or``) is bounded so that one alternative of a
    higher level, made of bounds alone, holds whenever it does: ``yellow: x >= 60`` under
    ``orange: x >= 50 or forecast_sum(...) >= 50``.
    """
    mine = [_bounds(d) for d in _disjuncts(lower)]
    if any(b is None for b in mine):
        return None  # an alternative with no bound: it may hold anywhere
    bounds = [b for b in mine if b is not None]
    empty = [next((k for k, v in b.items() if v.empty()), None) for b in bounds]
    if len(bounds) == 1 and empty[0] is not None:
        return f"the bounds on {empty[0]} exclude every value"
    for name, node in higher.items():
        theirs = [c for d in _disjuncts(node) if (c := constraints(d)) is not None]
        if theirs and all(
            e is not None or any(_implies(b, t) for t in theirs)
            for b, e in zip(bounds, empty, strict=True)
        ):
            return f"whenever it holds, the higher level {name} holds too"
    return None
