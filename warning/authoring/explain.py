"""Why a rule stands where it does: replay one sensor's readings and show every term.

Uses the engine's own code: readings are parsed with the pipeline's parser and taken one by
one into a ``SensorState`` by ``Evaluator.observe``, so windows, the daily FWI and the
lifecycle are exactly what the flow computed; the conditions are then evaluated in the
``Context`` of the last evaluation at or before the time asked about.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from warning.authoring.ruletest import format_offset
from warning.pipeline import lifecycle
from warning.pipeline.evaluate import Evaluator, SensorState
from warning.pipeline.lifecycle import Episode
from warning.pipeline.parse import ParseSettings, parse_message
from warning.records import Level, RawMessage, Reading, format_duration_ms
from warning.rules.compile import Context, compile_node
from warning.rules.expr import BoolOp, DurationLit, Node, Not, Num, unparse, walk
from warning.rules.load import Condition, Rule
from warning.sources.files import csv_row_to_object


@dataclass(frozen=True)
class Term:
    """A sub-expression of a condition and its value (a number, True/False, or None)."""

    text: str
    value: Any


@dataclass(frozen=True)
class ConditionReport:
    """One condition (a level's, or ``clear``) with its result and the values of its terms."""

    name: str
    text: str
    result: bool | None
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Explanation:
    """Where one rule stands for one sensor at a moment, and why."""

    rule: Rule
    sensor_id: str
    attrs: Mapping[str, Any]
    at: int
    readings: int  # accepted readings of the sensor at or before ``at``
    evaluated_at: int | None  # the sensor's event time then: the last evaluation
    levels: tuple[ConditionReport, ...]
    clear: ConditionReport | None
    target: Level | None
    episode: Episode


def read_readings(path: Path, settings: ParseSettings) -> Iterator[Reading]:
    """Yield the valid readings of a JSON Lines or CSV file, parsed as the pipeline parses."""
    now = time.time()
    text = path.read_bytes()
    if path.suffix.lower() == ".csv":
        rows = csv.DictReader(io.StringIO(text.decode("utf-8", "replace")))
        messages: Iterable[bytes | dict[str, Any]] = (csv_row_to_object(r) for r in rows)
    else:
        messages = (line for line in text.splitlines() if line.strip())
    for payload in messages:
        item = parse_message(RawMessage("", payload, now), settings)
        if isinstance(item, Reading):
            yield item


def explain(
    rule: Rule, sensor_id: str, at: int, readings: Iterable[Reading], evaluator: Evaluator
) -> Explanation:
    """Replay ``sensor_id``'s readings up to ``at`` and report ``rule``'s conditions and state."""
    state = SensorState()
    count = 0
    kind = region = None
    for r in readings:
        if r.sensor_id != sensor_id or r.ts > at:
            continue
        if evaluator.observe(state, r).reading is not None:
            count += 1
            kind, region = r.kind, r.region
    registered = evaluator.registry.get(sensor_id) or {}
    if not count and not registered:
        msg = f"no sensor {sensor_id!r}: neither in the registry nor in the readings up to then"
        raise ValueError(msg)
    kind = kind or str(registered.get("kind", ""))
    region = region or str(registered.get("region", "unknown"))
    if not rule.applies_to(sensor_id, kind, region):
        msg = (
            f"rule {rule.id!r} does not watch sensor {sensor_id!r} (kind {kind or '?'}, "
            f"region {region}): it is for {', '.join(rule.kinds)}"
            + (f" in {', '.join(sorted(rule.regions))}" if rule.regions else "")
            + (f", sensors {', '.join(sorted(rule.sensors))}" if rule.sensors else "")
        )
        raise ValueError(msg)
    attrs = evaluator.registry.attrs_for(sensor_id, kind, region)
    now = state.watermark if state.watermark is not None else at
    ctx = Context(state.series, attrs, now, state.fwi.latest if state.fwi else None)
    levels = tuple(report(level.colour, cond, ctx) for level, cond in rule.levels)
    target = next(
        (level for (level, _), rep in zip(rule.levels, levels, strict=True) if rep.result is True),
        None,
    )
    clear = report("clear", rule.clear, ctx) if rule.clear else None
    return Explanation(
        rule,
        sensor_id,
        attrs,
        at,
        count,
        state.watermark,
        levels,
        clear,
        target,
        state.episodes.get(rule.id, lifecycle.QUIET),
    )


def report(name: str, cond: Condition, ctx: Context) -> ConditionReport:
    """Evaluate a condition and each of its sub-expressions (numbers and comparisons)."""
    terms: dict[str, Any] = {}
    for node in walk(cond.node):
        if node is cond.node or isinstance(node, Num | DurationLit | BoolOp | Not):
            continue
        text = unparse(node)
        if text not in terms:
            terms[text] = _value(node, ctx)
    return ConditionReport(
        name, cond.text, cond.test(ctx), tuple(Term(t, v) for t, v in terms.items())
    )


def _value(node: Node, ctx: Context) -> Any:
    return compile_node(node)(ctx)


def render(e: Explanation, tz: tzinfo) -> list[str]:
    """Return the lines ``rules explain`` prints."""

    def when(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz).isoformat()

    rule = e.rule
    name = e.attrs.get("name", e.sensor_id)
    out = [
        f"{rule.id} ({rule.hazard}) for {e.sensor_id} {name} "
        f"({e.attrs.get('kind', '?')}, {e.attrs.get('region', 'unknown')}) at {when(e.at)}"
    ]
    if e.evaluated_at is None:
        out.append(f"no reading of {e.sensor_id} at or before then: every window is empty")
    elif rule.levels:
        out.append(
            f"{e.readings} readings up to then; the rule was last evaluated at "
            f"{when(e.evaluated_at)}, with these values:"
        )
    else:
        out.append(f"{e.readings} readings up to then, the last at {when(e.evaluated_at)}")
    width = max([len(r.name) for r in e.levels] + [5])
    for rep in (*e.levels, *([e.clear] if e.clear else [])):
        out.append(f"  {rep.name:<{width}}  {_verdict(rep.result):<9} {rep.text}")
        out.extend(f"  {'':<{width}}    {t.text} = {_shown(t.value)}" for t in rep.terms)
    if rule.levels and e.clear is None:
        out.append(
            f"  {'clear':<{width}}  -         (no clear condition: the warning clears "
            f"when no level holds)"
        )
    if rule.levels:
        out.append(
            f"target: {e.target.colour if e.target else 'none'} (the highest level that holds)"
        )
    out.extend(_lifecycle(e, when))
    if rule.no_data is not None:
        nd = rule.no_data
        line = (
            f"no data: after {format_duration_ms(nd.after_ms)} the silence warning "
            f"{rule.silence_id} ({nd.level.colour}) is raised"
        )
        if e.evaluated_at is not None:
            silent = e.at - e.evaluated_at
            due = e.evaluated_at + nd.after_ms
            line += f"; silent {format_offset(silent)[1:]} at {when(e.at)}: " + (
                f"due at {when(due)}, raised once event time passes it"
                if silent >= nd.after_ms
                else f"not yet (due at {when(due)} if nothing comes)"
            )
        out.append(line)
    return out


def _lifecycle(e: Explanation, when: Any) -> list[str]:
    rule, ep, target = e.rule, e.episode, e.target
    if not rule.levels:
        return []
    for_, hold = format_offset(rule.for_ms)[1:], format_offset(rule.hold_ms)[1:]
    own = {level for level, _ in rule.levels}
    held = [
        f"{Level(i + 1).colour} since {when(s)}"
        for i, s in enumerate(ep.since)
        if s is not None and Level(i + 1) in own
    ]
    out = [
        f"state: {ep.level.colour} since {when(ep.level_since)}, warning {ep.warning_id}"
        if ep.level
        else "state: quiet, no warning"
    ]
    now = e.evaluated_at if e.evaluated_at is not None else e.at
    if target is not None and (ep.level is None or target > ep.level):
        since = ep.since[target - 1]
        if since is not None:
            due = since + rule.for_ms
            out.append(
                f"  {target.colour} has held since {when(since)}; for {for_}: "
                f"{'raised' if ep.level is None else 'escalated'} at the first "
                f"evaluation from {when(due)} if it still holds"
            )
    elif ep.level is not None and (target is None or target < ep.level):
        until = ep.level_since + rule.hold_ms
        if now < until:
            out.append(f"  hold {hold}: stays {ep.level.colour} until {when(until)}")
        elif target is None and e.clear is not None and e.clear.result is not True:
            out.append(
                f"  nothing holds, but the clear condition does not: stays "
                f"{ep.level.colour} until it does"
            )
    if held:
        out.append(f"  held without a break: {', '.join(reversed(held))}")
    return out


def _verdict(result: Any) -> str:
    return "holds" if result is True else "no" if result is False else "unknown"


def _shown(value: Any) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.6g}"
