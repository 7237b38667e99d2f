"""Load area rules from rule files: a rule with ``area:`` judges an area, not one sensor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from warning.kinds import Kind
from warning.records import LEVEL_NAMES, Level
from warning.registry import Registry, is_id
from warning.rules.areas import Aggregate, area_unparse, check_area, parse_area
from warning.rules.compile import Compiled, compile_node
from warning.rules.expr import ExprError, Field, Indicator, Window, check, walk
from warning.rules.template import Template
from warning.rules.texts import Texts
from warning.yamlfile import Checker, LineDict, Problem

AREA_RULE_KEYS = (
    "id",
    "hazard",
    "area",
    "for_kind",
    "fresh",
    "description",
    "source",
    "levels",
    "for",
    "hold",
    "clear",
    "no_data",
    "values",
    "message",
    "instruction",
)
DEFAULT_FRESH = "1h"


@dataclass(frozen=True)
class AreaInput:
    """A per-sensor expression an area rule aggregates, computed where the sensor's data is."""

    key: str
    kinds: frozenset[str]
    fields: frozenset[str]
    test: Compiled
    horizons: Mapping[str, int]
    line: int = 0  # where it is first used, for `rules check`


@dataclass(frozen=True)
class AreaCondition:
    """A parsed area condition with its source text and line."""

    text: str
    node: Any
    line: int = 0


@dataclass(frozen=True)
class AreaRule:
    """One area rule: the subject of its warnings is the area."""

    id: str
    hazard: str
    areas: tuple[str, ...]
    kinds: frozenset[str]
    fresh_ms: int
    levels: tuple[tuple[Level, AreaCondition], ...]  # highest first
    inputs: tuple[AreaInput, ...] = ()
    for_ms: int = 0
    hold_ms: int = 0
    clear: AreaCondition | None = None
    no_data: Any = None  # warning.rules.load.NoData
    values: tuple[tuple[str, Any], ...] = ()
    message: Mapping[Level, Mapping[str, Template]] = field(default_factory=dict)  # per language
    instruction: Mapping[Level, Texts] = field(default_factory=dict)
    file: str = ""
    line: int = 0
    area_line: int = 0
    #: Whether the rule needs to hear its sensors (aggregates, ``reporting()``, ``no_data``).
    counts_sensors: bool = True

    @property
    def silence_id(self) -> str:
        """The rule id under which the area's own no-data warning is raised."""
        return f"{self.id}.no_data"

    def kinds_of(self) -> dict[str, frozenset[str]]:
        """Return, per per-sensor expression text, the kinds it is computed for."""
        return {i.key: i.kinds for i in self.inputs}


def area_rule(node: LineDict, c: Checker, kinds: Mapping[str, Kind], index: int) -> AreaRule | None:
    """Read one area rule; record every problem with its line."""
    from warning.rules.load import _duration, _names, _no_data
    from warning.rules.texts import per_level

    rid = node.get("id")
    where = f"rule {rid!r}" if isinstance(rid, str) else f"rule #{index + 1}"
    before = len(c.problems)
    c.known_keys(node, AREA_RULE_KEYS, where, required=("id", "hazard", "area"))
    if not isinstance(rid, str) or not rid.replace("_", "").replace("-", "").isalnum():
        c.expect(node, "id", where, "an id of letters, digits, - and _", rid)
    hazard = node.get("hazard")
    if not is_id(hazard):
        c.expect(node, "hazard", where, "a hazard name of 1-64 of A-Z a-z 0-9 - _ .", hazard)
    areas = _names(node, "area", where, c) or ()
    for a in areas:
        if not is_id(a):
            c.expect(node, "area", where, "area ids (regions or registry groups)", a)
    kind_names = _names(node, "for_kind", where, c) or tuple(sorted(kinds))
    for k in kind_names:
        if k not in kinds:
            c.add(
                node.line_of("for_kind"),
                where,
                "for_kind",
                f"expected a kind among {', '.join(sorted(kinds))}, found {k!r}",
            )
    known = {k: kinds[k] for k in kind_names if k in kinds}
    inputs: dict[str, AreaInput] = {}

    def condition(text: Any, key: str, line: int, boolean: bool = True) -> AreaCondition | None:
        try:
            if not isinstance(text, str):
                raise ExprError(f"expected an expression string, found {type(text).__name__}")
            tree = parse_area(text)
            for agg in check_area(tree, boolean):
                _input(agg, known, inputs, line)
        except ExprError as exc:
            c.add(line, where, key, str(exc))
            return None
        return AreaCondition(text, tree, line)

    levels: list[tuple[Level, AreaCondition]] = []
    raw = node.get("levels")
    if not isinstance(raw, LineDict) or not raw:
        if "no_data" not in node or raw is not None:
            c.expect(node, "levels", where, "a mapping of level to condition", raw)
    else:
        for name, text in raw.items():
            if name not in LEVEL_NAMES:
                c.add(
                    raw.line_of(str(name)),
                    where,
                    f"levels.{name}",
                    f"expected a level among {', '.join(LEVEL_NAMES)}, found {name!r}",
                )
                continue
            cond = condition(text, f"levels.{name}", raw.line_of(str(name)))
            if cond is not None:
                levels.append((Level.parse(name), cond))
    levels.sort(key=lambda lc: lc[0], reverse=True)
    clear = condition(node["clear"], "clear", node.line_of("clear")) if "clear" in node else None
    values: list[tuple[str, Any]] = []
    raw_values = node.get("values")
    if isinstance(raw_values, LineDict):
        for name, text in raw_values.items():
            cond = condition(text, f"values.{name}", raw_values.line_of(str(name)), False)
            if cond is not None:
                values.append((str(name), cond.node))
    elif raw_values is not None:
        c.expect(node, "values", where, "a mapping of name to expression", raw_values)
    else:
        seen: set[str] = set()
        for _, cond in levels:
            for agg in _aggregates_of(cond.node):
                text = area_unparse(agg)
                if text not in seen:
                    seen.add(text)
                    values.append((text, agg))
    names = {n for n, _ in values}
    messages: dict[Level, dict[str, Template]] = {}
    for level, texts in per_level(node, "message", where, c).items():
        for lang, text in texts.items():
            try:
                template = Template.parse(text, frozenset(), names)
            except ExprError as exc:
                c.add(node.line_of("message"), where, "message", str(exc))
                continue
            for lv in [level] if level else list(Level):
                messages.setdefault(lv, {})[lang] = template
    instructions: dict[Level, Texts] = {}
    for level, texts in per_level(node, "instruction", where, c).items():
        for lv in [level] if level else list(Level):
            instructions.setdefault(lv, {}).update(texts)
    from warning.rules.areas import Reporting, area_walk

    trees = (
        [cond.node for _, cond in levels] + [n for _, n in values] + ([clear.node] if clear else [])
    )
    counts = (
        bool(inputs)
        or "no_data" in node
        or any(isinstance(sub, Reporting) for t in trees for sub in area_walk(t))
    )
    fresh_ms = _duration(node, "fresh", where, c, default=3_600_000)
    no_data = _no_data(node, where, c, hazard)
    if len(c.problems) > before:
        return None
    return AreaRule(
        str(rid),
        str(hazard),
        tuple(areas),
        frozenset(known),
        fresh_ms,
        tuple(levels),
        tuple(inputs.values()),
        _duration(node, "for", where, c),
        _duration(node, "hold", where, c),
        clear,
        no_data,
        tuple(values),
        messages,
        instructions,
        c.file,
        node.line,
        node.line_of("area"),
        counts,
    )


def _aggregates_of(tree: Any) -> list[Aggregate]:
    from warning.rules.areas import area_walk

    return [s for s in area_walk(tree) if isinstance(s, Aggregate)]


def _input(agg: Aggregate, kinds: Mapping[str, Kind], out: dict[str, AreaInput], line: int) -> None:
    """Record the per-sensor expression of an aggregate with the kinds that have its fields."""
    from warning.rules.load import horizons_of

    used = frozenset(
        s.name if isinstance(s, Field) else str(s.field)
        for s in walk(agg.item)
        if isinstance(s, Field | Window | Indicator)
        and (isinstance(s, Field) or s.field is not None)
    )
    fit = frozenset(k for k, spec in kinds.items() if used <= spec.field_names)
    if not fit:
        fields = sorted({f for spec in kinds.values() for f in spec.field_names})
        msg = (
            f"expected fields of the rule's kinds ({', '.join(sorted(kinds))}: "
            f"{', '.join(fields)}) in {agg.func}(), found {', '.join(sorted(used))}"
        )
        raise ExprError(msg)
    union = frozenset(f for k in fit for f in kinds[k].field_names)
    check(agg.item, union, boolean=agg.func in ("count", "fraction"))
    if agg.key not in out:
        out[agg.key] = AreaInput(
            agg.key, fit, used, compile_node(agg.item), horizons_of(agg.item), line
        )


def check_areas(rules: Sequence[AreaRule], registry: Registry) -> list[Problem]:
    """Return the problems of area rules against a registry: unknown areas, absent kinds."""
    problems = []
    regions = registry.regions()
    known = sorted(set(registry.groups) | regions)
    for rule in rules:
        where = f"rule {rule.id!r}"
        for area in rule.areas:
            if area not in registry.groups and area not in regions:
                problems.append(
                    Problem(
                        rule.file,
                        rule.area_line,
                        where,
                        "area",
                        f"expected an area among {', '.join(known)} (regions "
                        f"and registry areas), found unknown area {area!r}",
                    )
                )
                continue
            has = {str((registry.get(m) or {}).get("kind")) for m in registry.members(area)}
            for i in rule.inputs:
                if not i.kinds & has:
                    problems.append(
                        Problem(
                            rule.file,
                            i.line,
                            where,
                            "area",
                            f"expected sensors of {', '.join(sorted(i.kinds))} in area {area!r} "
                            f"for {i.key!r}, found only {', '.join(sorted(has)) or 'none'}",
                        )
                    )
    return problems
