"""What each step of the flow does, bound to the rules, registry and metrics it runs with.

``flow.build_flow`` only wires these; the logic itself is pure (``evaluate``, ``nodata``,
``lifecycle``) and the functions here adapt it to bytewax's shapes (keyed batches, states).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr

from warning.anomaly.corroborate import Peer, peer_map, remember
from warning.anomaly.faults import HAZARD as FAULT_HAZARD
from warning.anomaly.faults import FaultSettings
from warning.anomaly.health import Monitor
from warning.anomaly.neighbours import Neighbours, RegionState, has_drift_field, is_wet
from warning.anomaly.trained import ModelScorer
from warning.kinds import BUILTIN_KINDS, Kind
from warning.legacy import fields_state, restore_fields
from warning.metrics import Metrics
from warning.nowcast.model import Nowcaster
from warning.pipeline.areas import AreaSampler, AreaTick, AreaWatch
from warning.pipeline.evaluate import Evaluator, Outcome, SensorState, may_expire
from warning.pipeline.nodata import SHARD_KEYS, Expire, NoDataWatch, ShardState, shard_of
from warning.records import Forecast, Reading, Seen, Tick, WarningEvent
from warning.registry import Registry
from warning.rules.load import RuleSet

#: What the keyed step takes for a sensor: its readings and forecasts, the no-data watch's
#: expiries, and the area rules' ticks.
Keyed = Reading | Forecast | Expire | AreaTick


@dataclass
class Steps:
    """The logic of each stateful step: rules, registry and settings, with metrics to count in."""

    rules: RuleSet
    registry: Registry
    lateness_ms: int
    metrics: Metrics
    kinds: Mapping[str, Kind] = field(default_factory=lambda: dict(BUILTIN_KINDS))
    timezone: str = "Asia/Shanghai"
    state_ttl_ms: int | None = None  # drop a quiet sensor's state after this much event time
    #: Streaming detectors and fault diagnosis (warning/anomaly); None turns them off.
    faults: FaultSettings | None = field(default_factory=FaultSettings)
    #: Trained models scored per batch (warning/anomaly/trained.py), if any.
    model: ModelScorer | None = None
    #: Learned nowcasts of water levels (warning/nowcast), if any.
    nowcast: Nowcaster | None = None
    #: How long area rules wait for out-of-order readings (None: the lateness).
    area_hold_ms: int | None = None

    def __post_init__(self) -> None:
        self.monitor = Monitor(self.faults) if self.faults is not None else None
        self.evaluator = Evaluator(
            self.rules, self.registry, self.lateness_ms, self.kinds, self.timezone, self.monitor
        )
        self._accepted: dict[str, Any] = {}  # labelled counter per kind: labels() is slow
        self._pending: tuple[RuleSet, Registry] | None = None
        self.no_data = NoDataWatch(self.rules, self.registry, state_ttl_ms=self.state_ttl_ms)
        self.peers = peer_map(self.registry.sensors) if self.faults is not None else {}
        self._areas()
        self.metrics.rules_loaded.set(len(self.rules.rules))
        self.metrics.init_hazards(
            {r.hazard for r in self.rules.rules}
            | {r.no_data.hazard for r in self.rules.rules if r.no_data}
            | {r.hazard for r in self.rules.areas}
            | {r.no_data.hazard for r in self.rules.areas if r.no_data}
            | ({FAULT_HAZARD} if self.faults is not None else set())
        )

    def replace(self, rules: RuleSet, registry: Registry) -> None:
        """Take new rules and registry; they apply from the next reading (any thread)."""
        self._pending = (rules, registry)

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        self.rules, self.registry = pending
        self.evaluator = Evaluator(
            self.rules, self.registry, self.lateness_ms, self.kinds, self.timezone, self.monitor
        )
        self.no_data = NoDataWatch(self.rules, self.registry, state_ttl_ms=self.state_ttl_ms)
        self.peers = peer_map(self.registry.sensors) if self.faults is not None else {}
        self._areas()
        self.metrics.rules_loaded.set(len(self.rules.rules))

    def _areas(self) -> None:
        shift = 0 if self.area_hold_ms is None else self.lateness_ms - self.area_hold_ms
        self.area_sampler = AreaSampler(self.rules, self.registry, max(0, shift))
        self.area_watch = AreaWatch(self.rules, self.registry)

    def area_watch_now(self) -> AreaWatch:
        """The area rules' logic, after any pending reload (the ``evaluate_areas`` step)."""
        if self._pending is not None:
            self._apply_pending()
        return self.area_watch

    def area_ticks(self, items: list[Reading | Tick]) -> list[AreaTick]:
        """Watermark ticks, one for each registered member of an area an area rule watches."""
        return self.area_sampler.ticks(items)

    def to_sensors(self, items: list[Keyed]) -> list[tuple[str, tuple[str, list[Keyed]]]]:
        """Group a batch by sensor in source order, neighbours' readings included (corroboration).

        One item per sensor and batch, not one per reading and neighbour: each bytewax step
        costs a few us per item, and a reading has up to eight neighbours. The sensor rides in
        the value too: a reading of another sensor in its list is a neighbour's.
        """
        groups: dict[str, list[Keyed]] = {}
        peers = self.peers
        for item in items:
            group = groups.get(item.sensor_id)
            if group is None:
                group = groups[item.sensor_id] = []
            group.append(item)
            if peers and isinstance(item, Reading):
                for sid in peers.get(item.sensor_id, ()):
                    group = groups.get(sid)
                    if group is None:
                        group = groups[sid] = []
                    group.append(item)
        return [(sid, (sid, group)) for sid, group in groups.items()]

    def evaluate_batch(
        self, state: SensorState | None, value: tuple[str, list[Keyed]], kept: Kept | None = None
    ) -> tuple[SensorState | None, list[Any]]:
        """The ``evaluate_rules`` step: one sensor's items of a batch, in order, as results.

        ``kept`` says which kinds of results go on (all by default; see ``Kept``).
        """
        kept = kept or _ALL
        sid, items = value
        out: list[Any] = []
        if self._pending is not None:
            self._apply_pending()
        for item in items:
            one: Keyed | Peer = item
            if item.sensor_id != sid and isinstance(item, Reading):  # a neighbour's reading
                if state is not None and not state.held and not _pending_spike(state):
                    remember(state.peers, item)  # what Evaluator.peer does, in short
                    continue
                one = Peer(sid, item)
            state, outcome = self.evaluate(state, one, kept.indicators)
            if outcome is not _NOTHING:
                out.extend(split_outcome(outcome, kept))
        return state, out

    def evaluate(
        self, state: SensorState | None, reading: Keyed | Peer, indicators: bool = True
    ) -> tuple[SensorState | None, Outcome]:
        """One reading (or forecast) into one sensor's state (indicator records if asked).

        An ``Expire`` drops the state (bytewax forgets a key whose state is None) when
        ``may_expire`` allows; a ``Peer`` (a neighbour's reading) may confirm a held warning.
        """
        if self._pending is not None:
            self._apply_pending()
        if isinstance(reading, AreaTick):  # behind this sensor's items, to its areas
            return state, Outcome(None, None, (), areas=self.area_sampler.progress(reading))
        if isinstance(reading, Peer):
            state = state or SensorState()
            outcome = self.evaluator.peer(state, reading)
            if outcome.events and self.area_sampler.rules:  # released or confirmed warnings
                items = self.area_sampler.items(state, reading.reading, False, outcome.events)
                outcome = outcome.with_areas(items)
            return state, outcome
        if isinstance(reading, Expire):
            if state is not None and not may_expire(state, reading):
                return state, _NOTHING
            self.evaluator.forget(reading)
            if state is not None:
                self.metrics.states_expired.inc()
            return None, _NOTHING
        if state is None:
            state = SensorState()
        if isinstance(reading, Forecast):
            outcome = self.evaluator.take_forecast(state, reading)
            if outcome.forecast is not None:
                self.metrics.forecasts.labels(reading.kind).inc()
            return state, outcome
        outcome = self.evaluator.observe(state, reading, indicators)
        if self.area_sampler.rules and (outcome.reading is not None or outcome.events):
            items = self.area_sampler.items(
                state, reading, outcome.reading is not None, outcome.events
            )
            if items:
                outcome = outcome.with_areas(items)
        m = self.metrics
        if outcome.duplicate:
            m.duplicates.inc()
        if outcome.seq_gap:
            m.seq_gaps.inc(outcome.seq_gap)
        if outcome.reading is not None:
            accepted = self._accepted.get(reading.kind)
            if accepted is None:
                accepted = self._accepted[reading.kind] = m.accepted.labels(reading.kind)
            accepted.inc()
            m.evaluations.inc(
                len(self.evaluator.applicable(reading.sensor_id, reading.kind, reading.region))
            )
        return state, outcome

    def watch_no_data(
        self, state: ShardState | None, value: tuple[str, list[Seen | Tick]]
    ) -> tuple[ShardState, list[WarningEvent | Expire]]:
        """The ``watch_silence`` step (id kept for snapshots): sightings and ticks into a shard."""
        if self._pending is not None:
            self._apply_pending()
        shard, items = value
        if state is None:
            state = self.no_data.new_state(shard)
        observe = self.no_data.observe
        events: list[WarningEvent | Expire] = []
        for item in items:
            events.extend(observe(state, item))
        return state, events

    def compare_neighbours(
        self, state: RegionState | None, readings: list[Reading]
    ) -> tuple[RegionState, list[WarningEvent]]:
        """The ``compare_neighbours`` step: drift against sensors of the same region and kind."""
        assert self.faults is not None
        state = state or RegionState()
        watch = Neighbours(self.faults, self.registry.attrs_for)
        return state, [e for r in readings for e in watch.observe(state, r)]

    def count_event(self, event: WarningEvent) -> None:
        """Count an event and keep the active-warnings gauge right."""
        m = self.metrics
        level = event.level.colour if event.level else ""
        m.warning_events.labels(event.hazard, level, event.event).inc()
        if event.previous_level is not None:
            m.active.labels(event.hazard, event.previous_level.colour).dec()
        if event.level is not None:
            m.active.labels(event.hazard, event.level.colour).inc()
        if event.received_at:
            m.delay.observe(max(0.0, time.time() - event.received_at))


_NOTHING = Outcome(None, None, ())


def warning_only(x: WarningEvent | Expire) -> WarningEvent | None:
    """The warnings among a no-data shard's output."""
    return x if isinstance(x, WarningEvent) else None


def expire_only(x: WarningEvent | Expire) -> Expire | None:
    """The expiries among a no-data shard's output."""
    return x if isinstance(x, Expire) else None


def to_no_data_shards(
    items: list[Reading | Forecast | Tick],
) -> list[tuple[str, tuple[str, list[Seen | Tick]]]]:
    """Sightings and ticks grouped by no-data shard, one item per shard and batch."""
    # Sightings and ticks travel one path, so each shard sees them in source order. One item
    # per shard and batch, not one per reading: each bytewax step costs ~1-2 us per item.
    groups: dict[str, list[Seen | Tick]] = {}
    for item in items:
        if isinstance(item, Tick):
            for key in SHARD_KEYS:
                groups.setdefault(key, []).append(item)
        elif isinstance(item, Reading):
            groups.setdefault(shard_of(item.sensor_id), []).append(
                Seen(item.sensor_id, item.kind, item.region, item.ts)
            )
    return [(key, (key, group)) for key, group in groups.items()]


def to_regions(items: list[Reading | Forecast | Tick]) -> list[tuple[str, list[Reading]]]:
    """The readings the drift comparison needs, as one item for the whole network."""
    batch = [
        item
        for item in items
        if isinstance(item, Reading) and (has_drift_field(item) or is_wet(item))
    ]
    return [("network", batch)] if batch else []


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(frozen=True)
class Kept:
    """Which results of ``evaluate_rules`` go on: events, area items and rejections always."""

    readings: bool = True  # accepted readings and forecasts (to the store, the model)
    indicators: bool = True  # indicator records (to the store, the indicators sinks)

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


_ALL = Kept()


def split_outcome(outcome: Outcome, kept: Kept = _ALL) -> list[Any]:
    """An evaluation's events, indicators, accepted reading and rejection as items."""
    out: list[Any] = [*outcome.events, *outcome.areas]
    if kept.indicators:
        out.extend(outcome.indicators)
    if kept.readings:
        if outcome.reading is not None:
            out.append(outcome.reading)
        if outcome.forecast is not None:
            out.append(outcome.forecast)
    if outcome.rejected is not None:
        out.append(outcome.rejected)
    return out


def model_row(
    row: tuple[str, list[float], Reading] | None,
) -> tuple[str, list[float], Reading] | None:
    """A reading's feature row, or None while its sensor's history is too short."""
    return row


def _pending_spike(state: SensorState) -> bool:
    """Return True if a spike candidate awaits judgement (a neighbour's reading may forgive it)."""
    h = state.health
    return h is not None and any(
        w.pending_spike is not None or w.lone is not None or w.jumped for w in h.fields.values()
    )
