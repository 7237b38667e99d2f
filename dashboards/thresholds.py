"""Panel thresholds taken from the rule files, so that dashboards draw what the rules test.

A value shown on a panel has an expression (an indicator spec's value, a reading's field);
every clause of a rule level that compares that same expression with a number, or with a
sum of numbers and ``sensor.KEY`` registry values, becomes a threshold of that level.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.models.dashboard import ThresholdsConfig

from dashboards.grafana import LEVEL_CODE, LEVEL_COLOUR, steps

ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = ROOT / "rules"
_CLAUSE = re.compile(r"^(?P<lhs>.+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<rhs>[^<>=!]+)$")
_OPS = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITH = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}

#: The daily FWI indicator is built in (no spec): its values and the rule functions for them.
FWI_VALUES = {
    "ffmc": "ffmc()",
    "dmc": "dmc()",
    "dc": "dc()",
    "isi": "isi()",
    "bui": "bui()",
    "fwi": "fwi()",
    "dsr": "dsr()",
    "danger_class": "fwi_class()",
}


@dataclass(frozen=True)
class Bound:
    """One rule clause ``expr OP value`` that raises ``level`` (1 blue .. 4 red)."""

    rule_id: str
    level: int
    op: str
    value: float


def _norm(expr: str) -> str:
    return re.sub(r"\s+", "", expr)


def load_rule_files(rules_dir: Path = RULES_DIR) -> tuple[list[dict], dict[str, dict]]:
    """Return the rules and the indicator specs (by id) of every rule file in a directory."""
    rules: list[dict] = []
    indicators: dict[str, dict] = {}
    for path in sorted(rules_dir.glob("*.yaml")):
        if path.name.endswith(".test.yaml"):
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rules += data.get("rules", [])
        indicators.update({spec["id"]: spec for spec in data.get("indicators", [])})
    return rules, indicators


def indicator_expression(indicators: Mapping[str, dict], indicator: str, value: str) -> str:
    """The expression behind one value of an indicator (spec or the built-in ``fwi``)."""
    if indicator == "fwi":
        return FWI_VALUES[value]
    return value_expression(indicators[indicator]["values"][value])


def value_expression(value: str | Mapping[str, Any]) -> str:
    """A rule's named value: its expression, whether written alone or with label and unit."""
    return str(value["expr"]) if isinstance(value, Mapping) else str(value)


def _number(node: ast.AST, sensor: Mapping[str, Any]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_number(node.operand, sensor)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _ARITH[type(node.op)](_number(node.left, sensor), _number(node.right, sensor))
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "sensor"
        and isinstance(sensor.get(node.attr), int | float)
    ):
        return float(sensor[node.attr])
    msg = f"not a constant: {ast.dump(node)}"
    raise ValueError(msg)


def _value(rhs: str, sensor: Mapping[str, Any]) -> float | None:
    try:
        return _number(ast.parse(rhs.strip(), mode="eval").body, sensor)
    except (SyntaxError, ValueError, ZeroDivisionError):
        return None


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def applies(rule: Mapping[str, Any], kind: str | None, sensor: Mapping[str, Any]) -> bool:
    """Whether a rule watches this kind (and, given a registry entry, this sensor)."""
    if kind is not None and kind not in _as_list(rule.get("for_kind", [])):
        return False
    if sensor.get("region") and rule.get("regions") and sensor["region"] not in rule["regions"]:
        return False
    return not (sensor.get("id") and rule.get("sensors") and sensor["id"] not in rule["sensors"])


def bounds(
    rules: Iterable[Mapping[str, Any]],
    expr: str,
    kind: str | None = None,
    sensor: Mapping[str, Any] | None = None,
) -> list[Bound]:
    """Every level clause of the rules that compares ``expr`` with a number.

    Where a level holds on ``expr`` alone (a top-level ``or`` term) and also on ``expr`` joined
    by ``and`` to other clauses (e.g. a lower landslide I-D ratio on wet ground), the bound
    alone is the level's line; the joined one is a second path, not the threshold.
    """
    sensor = sensor or {}
    want = _norm(expr)
    found = []
    for rule in rules:
        if not rule.get("levels") or not applies(rule, kind, sensor):
            continue
        for level, condition in rule["levels"].items():
            terms = re.split(r"\s+or\s+", str(condition))
            alone = any(_lhs(t) == want for t in terms if not re.search(r"\sand\s", t))
            for clause in re.split(r"\s+(?:and|or)\s+", str(condition)):
                m = _CLAUSE.match(clause.strip().strip("()"))
                if not m or _norm(m["lhs"]) != want:
                    continue
                if alone and not any(clause in t and not re.search(r"\sand\s", t) for t in terms):
                    continue
                value = _value(m["rhs"], sensor)
                if value is not None:
                    found.append(Bound(rule["id"], LEVEL_CODE[level], m["op"], value))
    return found


def _lhs(clause: str) -> str | None:
    m = _CLAUSE.match(clause.strip().strip("()"))
    return _norm(m["lhs"]) if m else None


def level_at(found: Iterable[Bound], x: float) -> int:
    """The highest level whose clause holds at ``x`` (0 if none)."""
    return max((b.level for b in found if _OPS[b.op](x, b.value)), default=0)


def threshold_steps(found: list[Bound]) -> ThresholdsConfig:
    """Grafana threshold steps that colour each value by the level it would raise.

    >>> [(s.value, s.color) for s in threshold_steps(
    ...     [Bound("rainstorm", 3, ">=", 50), Bound("rainstorm", 4, ">=", 100)]).steps]
    [(None, 'green'), (50, 'orange'), (100, 'red')]
    >>> [s.color for s in threshold_steps([Bound("o2", 3, "<", 19.5),
    ...                                    Bound("o2", 3, ">", 23.5)]).steps]
    ['orange', 'green', 'orange']
    """
    points = sorted({b.value for b in found})
    if not points:
        return steps((None, "green"))
    between = [(a + b) / 2 for a, b in zip(points, points[1:], strict=False)]
    probes = [points[0] - 1, *between, points[-1] + 1]
    levels = [level_at(found, p) for p in probes]
    pairs: list[tuple[float | None, str]] = [(None, LEVEL_COLOUR[levels[0]])]
    for bound, level, before in zip(points, levels[1:], levels[:-1], strict=True):
        if level != before:
            value = round(bound, 6)
            pairs.append((int(value) if value == int(value) else value, LEVEL_COLOUR[level]))
    return steps(*pairs)


def describe(found: Iterable[Bound]) -> str:
    """The thresholds in words, e.g. ``orange >= 50 (rainstorm), red >= 100 (rainstorm)``."""
    names = {code: name for name, code in LEVEL_CODE.items()}
    return ", ".join(
        f"{names[b.level]} {b.op} {b.value:g} ({b.rule_id})"
        for b in sorted(found, key=lambda b: (b.level, b.value))
    )
