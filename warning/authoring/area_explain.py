"""Why an area rule stands where it does: which sensors counted, with their values.

Replays the readings in time order through the engine's own code: each sensor's
``Evaluator.observe`` (its windows and sensor warnings), the ``AreaSampler`` that computes the
per-sensor values, and the ``AreaWatch`` that judges the area, evaluated at every reading's
time up to the moment asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from warning.pipeline.areas import AreaMark, AreaSample, AreaSampler, AreaState, AreaWatch
from warning.pipeline.evaluate import Evaluator, SensorState
from warning.records import Reading
from warning.registry import Registry
from warning.rules.area_load import AreaRule
from warning.rules.areas import (
    Aggregate,
    AreaView,
    Reporting,
    WarningRef,
    area_unparse,
    area_walk,
    evaluate,
)
from warning.rules.load import RuleSet


@dataclass(frozen=True)
class AreaExplanation:
    """Where one area rule stands for one area at a moment, and the sensors behind it."""

    rule: AreaRule
    area: str
    at: int
    evaluated_at: int | None
    levels: tuple[tuple[str, str, Any], ...]  # (level, condition text, result)
    terms: tuple[tuple[str, Any], ...]  # (aggregate or reference, value)
    counted: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]  # (expression, (sensor, v))
    warnings: tuple[tuple[str, str, str], ...]  # (hazard, subject, level) active in the area
    level: str | None  # the rule's level then, per its lifecycle


def explain_area(
    rule: AreaRule,
    area: str,
    at: int,
    readings: Iterable[Reading],
    rules: RuleSet,
    registry: Registry,
    evaluator: Evaluator,
) -> AreaExplanation:
    """Replay readings up to ``at`` and explain ``rule`` for ``area``; ValueError if unknown."""
    if area not in rule.areas:
        msg = f"{area}: expected an area of rule {rule.id} ({', '.join(rule.areas)})"
        raise ValueError(msg)
    sampler = AreaSampler(rules, registry)
    watch = AreaWatch(rules, registry)
    sensors: dict[str, SensorState] = {}
    state = AreaState(area=area)
    last = None
    for r in sorted((r for r in readings if r.ts <= at), key=lambda r: (r.ts, r.sensor_id)):
        s = sensors.setdefault(r.sensor_id, SensorState())
        outcome = evaluator.observe(s, r)
        items = sampler.items(s, r, outcome.reading is not None, outcome.events)
        for item in items:
            if isinstance(item, AreaSample | AreaMark) and item.area == area:
                watch.apply(state, item)
        if last is not None and r.ts != last:
            watch.evaluate(state, area, last)
        last = r.ts
    if last is not None:
        watch.evaluate(state, area, last)
    view = watch.last_view.get((area, rule.id), (None, AreaView({}, {}, rule.kinds_of())))[1]
    levels = tuple((lv.colour, c.text, evaluate(c.node, view)) for lv, c in rule.levels)
    terms: dict[str, Any] = {}
    for _, c in rule.levels:
        for sub in area_walk(c.node):
            if isinstance(sub, Aggregate | Reporting | WarningRef):
                terms.setdefault(area_unparse(sub), evaluate(sub, view))
    counted = tuple((i.key, tuple(view.values(i.key))) for i in rule.inputs)
    warned = tuple(sorted((h, subj, lv.colour) for (h, subj), lv in view.warnings.items()))
    ep = state.episodes.get(rule.id)
    return AreaExplanation(
        rule,
        area,
        at,
        last,
        levels,
        tuple(terms.items()),
        counted,
        warned,
        ep.level.colour if ep is not None and ep.level else None,
    )


def render_area(e: AreaExplanation, tz: tzinfo) -> list[str]:
    """Render an area explanation as text lines."""

    def when(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz).isoformat()

    out = [
        f"rule {e.rule.id} ({e.rule.hazard}) for area {e.area} at {when(e.at)}",
        f"  evaluated at {when(e.evaluated_at)}"
        if e.evaluated_at is not None
        else "  no reading at or before this time",
        f"  level: {e.level or 'none'}  (sensors count if heard within "
        f"{e.rule.fresh_ms // 60_000} min)",
    ]
    for level, text, result in e.levels:
        out.append(f"  {level}: {text}  -> {_shown(result)}")
    for text, value in e.terms:
        out.append(f"    {text} = {_shown(value)}")
    for key, rows in e.counted:
        out.append(f"  {key}:")
        if not rows:
            out.append("    (no sensor of these kinds reporting)")
        for sid, value in rows:
            out.append(f"    {sid}: {_shown(value)}")
    if e.warnings:
        out.append("  active warnings in the area:")
        out.extend(f"    {h} {lv} at {subj}" for h, subj, lv in e.warnings)
    return out


def _shown(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
