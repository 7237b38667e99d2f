"""Area rules in the pipeline: what sensors send to their areas (the area step: area_watch.py).

Each accepted reading of a sensor that an area rule watches yields one ``AreaSample`` per area
(its per-sensor expressions, computed over the sensor's own windows); each sensor warning event
yields an ``AreaMark``. Both are re-keyed by area into ``evaluate_areas``, whose state holds the
area's latest values per sensor, the active warnings and the area rules' episodes.

Items of different sensors reach the area step in an order that depends on workers and
batches (a keyed step emits a batch grouped by key). Watermark ticks are therefore sent
through ``evaluate_rules`` too, once to each registered member of a watched area: the
``AreaProgress`` that comes out follows everything that sensor produced before the tick. An
area applies its held items, sorted by (time, marks before samples, sensor), up to the
slowest member's progress, evaluating once per distinct item time and once per tick. The same
readings thus give the same area warnings in ``run`` and ``backtest`` with any number of
workers; at the end of the input everything held is evaluated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from warning.anomaly.faults import HAZARD as FAULT_HAZARD
from warning.records import Level, Reading, Tick, WarningEvent, parse_duration_ms
from warning.registry import Registry
from warning.rules.area_load import AreaInput
from warning.rules.compile import Context
from warning.rules.load import RuleSet
from warning.yamlfile import ConfigError, Problem


@dataclass(frozen=True, slots=True)
class AreaSample:
    """A sensor's per-sensor values for one area, at the sensor's event time."""

    area: str
    sensor_id: str
    kind: str
    ts: int
    values: dict[str, Any]
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class AreaTick:
    """A batch's watermark ticks sent to one sensor's key, to come out behind its items."""

    sensor_id: str
    ticks: tuple[int, ...]
    source: str = ""
    received_at: float = 0.0  # arrival of the batch's newest reading (the delay metric)


@dataclass(frozen=True, slots=True)
class AreaProgress:
    """A member sensor of an area has told the area everything up to event time ``ts``."""

    area: str
    sensor_id: str
    ticks: tuple[int, ...]  # the tick times, the last the progress
    source: str = ""
    received_at: float = 0.0

    @property
    def ts(self) -> int:
        """The event time the member has told everything up to."""
        return self.ticks[-1]


@dataclass(frozen=True, slots=True)
class AreaMark:
    """A sensor warning's level (None once cleared), told to an area it lies in."""

    area: str
    rule_id: str
    hazard: str
    subject: str
    level: Level | None
    ts: int
    received_at: float = 0.0


class AreaSampler:
    """Computes, in a sensor's own state, what area rules need of it."""

    def __init__(self, rules: RuleSet, registry: Registry, shift_ms: int = 0):
        self.rules = rules.areas
        #: Ticks trail the newest reading by the lateness; area progress may trail it by
        #: less (``pipeline.area_hold``): tick times are moved forward by the difference.
        self.shift_ms = shift_ms
        self.registry = registry
        self.watched = frozenset(a for r in self.rules for a in r.areas)
        #: Registered sensors of the watched areas: each gets the ticks (``AreaTick``).
        self.members = tuple(sorted({m for a in self.watched for m in registry.members(a)}))
        self._areas_of: dict[tuple[str, str], tuple[str, ...]] = {}
        self._inputs: dict[tuple[str, str, str], tuple[tuple[str, tuple[AreaInput, ...]], ...]] = {}

    def areas_of(self, sensor_id: str, region: str) -> tuple[str, ...]:
        """Return the watched areas a sensor belongs to (cached)."""
        key = (sensor_id, region)
        found = self._areas_of.get(key)
        if found is None:
            found = self._areas_of[key] = tuple(
                a for a in self.registry.areas_of(sensor_id, region) if a in self.watched)
        return found

    def inputs(self, sensor_id: str, kind: str, region: str
               ) -> tuple[tuple[str, tuple[AreaInput, ...]], ...]:
        """Return, per watched area of a sensor, the per-sensor expressions for its kind."""
        key = (sensor_id, kind, region)
        found = self._inputs.get(key)
        if found is None:
            out = []
            for area in self.areas_of(sensor_id, region):
                seen: dict[str, AreaInput] = {}
                heard = False  # whether a rule of the area needs to hear this sensor at all
                for rule in self.rules:
                    if area in rule.areas and kind in rule.kinds and rule.counts_sensors:
                        heard = True
                        for i in rule.inputs:
                            if kind in i.kinds:
                                seen.setdefault(i.key, i)
                if heard:
                    out.append((area, tuple(seen.values())))
            found = self._inputs[key] = tuple(out)
        return found

    def progress(self, t: AreaTick) -> tuple[AreaProgress, ...]:
        """Return the progress of a member sensor for each watched area it belongs to."""
        attrs = self.registry.get(t.sensor_id) or {}
        return tuple(AreaProgress(a, t.sensor_id, t.ticks, t.source, t.received_at)
                     for a in self.areas_of(t.sensor_id, str(attrs.get("region", ""))))

    def ticks(self, items: list[Any]) -> list[AreaTick]:
        """A batch's watermark ticks, one item per member sensor of a watched area and source."""
        by_source: dict[str, list[int]] = {}
        received = 0.0
        for i in items:
            if isinstance(i, Tick):
                by_source.setdefault(i.source, []).append(i.ts)
            elif isinstance(i, Reading) and i.received_at > received:
                received = i.received_at
        shift = self.shift_ms
        return [AreaTick(m, tuple(t + shift for t in ts), src, received)
                for src, ts in by_source.items() for m in self.members]

    def items(self, state: Any, r: Reading, accepted: bool, events: Iterable[WarningEvent]
              ) -> tuple[AreaSample | AreaMark, ...]:
        """Return the samples of an accepted reading and the marks of its warning events."""
        if not self.rules:
            return ()
        out: list[AreaSample | AreaMark] = []
        if accepted:
            per_area = self.inputs(r.sensor_id, r.kind, r.region)
            if per_area:
                now = state.watermark
                attrs = self.registry.attrs_for(r.sensor_id, r.kind, r.region)
                ctx = Context(state.series, attrs, now,
                              state.fwi.latest if state.fwi else None, state.health)
                values: dict[str, Any] = {}
                for area, inputs in per_area:
                    for i in inputs:
                        if i.key not in values:
                            values[i.key] = i.test(ctx)
                    out.append(AreaSample(area, r.sensor_id, r.kind, now,
                                          {i.key: values[i.key] for i in inputs},
                                          r.received_at))
        for e in events:
            if e.hazard == FAULT_HAZARD:  # data quality is no hazard of the area
                continue
            for area in self.areas_of(e.subject, e.region):
                out.append(AreaMark(area, e.rule_id, e.hazard, e.subject, e.level, e.ts,
                                    e.received_at))
        return tuple(out)


def area_hold_ms(hold: str | None, lateness: str) -> int | None:
    """Return ``pipeline.area_hold`` in ms (None: the lateness); raise ConfigError if longer."""
    if hold is None:
        return None
    hold_ms, lateness_ms = parse_duration_ms(hold), parse_duration_ms(lateness)
    if not 0 <= hold_ms <= lateness_ms:
        raise ConfigError([Problem("config", 1, "", "pipeline.area_hold",
                                   f"expected a duration of at most the lateness ({lateness}), "
                                   f"found {hold!r}")])
    return hold_ms


def area_key(item: AreaSample | AreaMark | AreaProgress
             ) -> tuple[str, tuple[str, AreaSample | AreaMark | AreaProgress]]:
    """Key an area item by its area, carrying the area in the value too."""
    return item.area, (item.area, item)


def is_area_item(x: Any) -> bool:
    """Return whether an evaluation result is meant for an area."""
    return isinstance(x, AreaSample | AreaMark | AreaProgress)
