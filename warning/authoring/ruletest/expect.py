"""The expected events of a rule test case, checked key by key with file and line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from warning.authoring.ruletest.notation import checked_duration, parse_time
from warning.records import LEVEL_NAMES
from warning.yamlfile import Checker, LineDict, LineList, describe

EXPECT_KEYS = ("at", "rule", "event", "level", "previous", "subject", "within", "values")
EVENTS = ("raised", "escalated", "deescalated", "confirmed", "cleared")


@dataclass(frozen=True)
class Expected:
    """One warning event a case must produce."""

    at_ms: int
    rule: str
    event: str
    level: str | None
    previous: str | None
    subject: str
    within_ms: int
    values: Mapping[str, float] = field(default_factory=dict)


def expected_events(
    node: LineDict,
    where: str,
    c: Checker,
    event_ids: Mapping[str, tuple[str, ...]],
    registry: Mapping[str, Any],
    sole: str | None,
    start: int,
    within: int,
) -> list[Expected]:
    """The case's ``expect`` list; problems are reported and their events left out."""
    raw = node.get("expect")
    if raw is None:
        return []
    if not isinstance(raw, LineList):
        c.expect(node, "expect", where, "a list of expected events ([] for none)", raw)
        return []
    out = []
    for i, item in enumerate(raw):
        key = f"expect.{i + 1}"
        item = c.mapping(item, where, key, raw.item_lines[i])
        if item is not None:
            found = _expected(item, key, _Where(where, c), event_ids, registry, sole, start, within)
            if found is not None:
                out.append(found)
    return out


@dataclass(frozen=True)
class _Where:
    """Where problems of one expected event are reported: its case and the checker."""

    case: str
    c: Checker


def _expected(
    item: LineDict,
    key: str,
    w: _Where,
    event_ids: Mapping[str, tuple[str, ...]],
    registry: Mapping[str, Any],
    sole: str | None,
    start: int,
    within: int,
) -> Expected | None:
    """One expected event, checked key by key; None (problems reported) if any is wrong."""
    where, c = w.case, w.c
    before = len(c.problems)

    def bad(k: str, expected: str) -> None:
        c.add(
            item.line_of(k),
            where,
            f"{key}.{k}",
            f"expected {expected}, found {describe(item.get(k))}",
        )

    for k in item:
        if k not in EXPECT_KEYS:
            c.add(
                item.line_of(str(k)),
                where,
                f"{key}.{k}",
                f"expected one of {', '.join(EXPECT_KEYS)}, found unknown key {k!r}",
            )
    for k in ("at", "rule", "event"):
        if k not in item:
            c.add(item.line, where, f"{key}.{k}", "expected this key, found it missing")
    at = 0
    if "at" in item:
        try:
            at = parse_time(item["at"], start)
        except ValueError as exc:
            c.add(item.line_of("at"), where, f"{key}.at", f"expected {exc}")
    rule, event = item.get("rule"), item.get("event")
    _check_event(item, bad, event_ids)
    subject = item.get("subject", sole)
    if subject not in registry:
        if "subject" in item:
            bad("subject", f"a sensor or area of the case ({', '.join(registry)})")
        else:
            c.add(
                item.line,
                where,
                f"{key}.subject",
                "expected this key when the case has several sensors, found it missing",
            )
    tolerance = checked_duration(item, "within", where, c, within, f"{key}.within")
    values = _expected_values(item, key, w, event_ids, bad)
    if len(c.problems) > before:
        return None
    return Expected(
        at,
        str(rule),
        str(event),
        item.get("level"),
        item.get("previous"),
        str(subject),
        tolerance or 0,
        values,
    )


def _check_event(
    item: LineDict, bad: Callable[[str, str], None], event_ids: Mapping[str, tuple[str, ...]]
) -> None:
    """The rule, the event and its levels: known names, and a level only where one belongs."""
    rule, event = item.get("rule"), item.get("event")
    if "rule" in item and rule not in event_ids:
        bad("rule", f"a rule id among {', '.join(sorted(event_ids))}")
    if "event" in item and event not in EVENTS:
        bad("event", f"an event among {', '.join(EVENTS)}")
    if event == "cleared" and "level" in item:
        bad("level", "no level on a cleared event (the cleared level is 'previous')")
    elif event in EVENTS and event != "cleared" and item.get("level") not in LEVEL_NAMES:
        bad("level", f"a level among {', '.join(LEVEL_NAMES)}")
    if "previous" in item and item.get("previous") not in LEVEL_NAMES:
        bad("previous", f"a level among {', '.join(LEVEL_NAMES)}")


def _expected_values(
    item: LineDict,
    key: str,
    w: _Where,
    event_ids: Mapping[str, tuple[str, ...]],
    bad: Callable[[str, str], None],
) -> dict[str, float]:
    """The event's values to compare: numbers, each a value the rule computes."""
    values = item.get("values", {})
    if not isinstance(values, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values.values()
    ):
        bad("values", "a mapping of value name to number")
        return {}
    rule = item.get("rule")
    names = event_ids.get(str(rule), ())
    for name in values if rule in event_ids else ():
        if name not in names:
            line = values.line_of(str(name)) if isinstance(values, LineDict) else item.line
            w.c.add(
                line,
                w.case,
                f"{key}.values.{name}",
                f"expected a value of rule {rule!r} ({', '.join(names)}), found {name!r}",
            )
    return {str(k): float(v) for k, v in values.items()}
