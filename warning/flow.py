"""The one place where the dataflow is wired; ``run`` and ``backtest`` differ only in I/O.

ingest (parse, watermark ticks) ─┬─▶ rejected ─────────────────────────────▶ dead letters
├─▶ readings ─▶ key_by_sensor ─▶ evaluate_rules ─┬─▶ store
│                                   (late) ──────┴─▶ dead letters
└─▶ seen + ticks ─▶ watch_silence ───────────────┬─▶ warnings
rule events ────────┘
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from warning.anomaly.faults import HAZARD as FAULT_HAZARD
from warning.anomaly.faults import FaultSettings
from warning.anomaly.health import Monitor
from warning.anomaly.neighbours import Neighbours, RegionState, has_drift_field, is_wet
from warning.anomaly.trained import ModelScorer
from warning.engine import Evaluator, Outcome, SensorState, may_expire
from warning.kinds import BUILTIN_KINDS, Kind
from warning.metrics import Metrics
from warning.model import Forecast, IndicatorRecord, Reading, Rejected, Seen, Tick, WarningEvent
from warning.nowcast.model import Nowcaster
from warning.registry import Registry
from warning.rules.load import RuleSet
from warning.silence import SHARD_KEYS, Expire, ShardState, SilenceWatch, shard_of


@dataclass
class Outputs:
    """Where results go; any list may be empty."""

    warnings: list[Sink[WarningEvent]] = field(default_factory=list)
    store: list[Sink[Reading | WarningEvent | IndicatorRecord | Forecast]] = field(
        default_factory=list)
    dead_letters: list[Sink[Rejected]] = field(default_factory=list)
    indicators: list[Sink[IndicatorRecord]] = field(default_factory=list)


@dataclass
class Engine:
    """The pure logic a flow runs: rules, registry and settings, with metrics to count in."""

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

    def __post_init__(self) -> None:
        self.monitor = Monitor(self.faults) if self.faults is not None else None
        self.evaluator = Evaluator(self.rules, self.registry, self.lateness_ms, self.kinds,
                                   self.timezone, self.monitor)
        self._accepted: dict[str, Any] = {}  # labelled counter per kind: labels() is slow
        self._pending: tuple[RuleSet, Registry] | None = None
        self.silence = SilenceWatch(self.rules, self.registry, state_ttl_ms=self.state_ttl_ms)
        self.metrics.rules_loaded.set(len(self.rules.rules))
        self.metrics.init_hazards({r.hazard for r in self.rules.rules}
                                  | {r.no_data.hazard for r in self.rules.rules if r.no_data}
                                  | ({FAULT_HAZARD} if self.faults is not None else set()))

    def replace(self, rules: RuleSet, registry: Registry) -> None:
        """Take new rules and registry; they apply from the next reading (any thread)."""
        self._pending = (rules, registry)

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        self.rules, self.registry = pending
        self.evaluator = Evaluator(self.rules, self.registry, self.lateness_ms, self.kinds,
                                   self.timezone, self.monitor)
        self.silence = SilenceWatch(self.rules, self.registry, state_ttl_ms=self.state_ttl_ms)
        self.metrics.rules_loaded.set(len(self.rules.rules))

    def evaluate(self, state: SensorState | None, reading: Reading | Forecast | Expire
                 ) -> tuple[SensorState | None, Outcome]:
        """The ``evaluate_rules`` step: one reading (or forecast) into one sensor's state.

        An ``Expire`` drops the state (bytewax forgets a key whose state is None) when
        ``may_expire`` allows.
        """
        if self._pending is not None:
            self._apply_pending()
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
        outcome = self.evaluator.observe(state, reading)
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
            m.evaluations.inc(len(self.evaluator.applicable(reading.sensor_id, reading.kind,
                                                            reading.region)))
        return state, outcome

    def watch_silence(self, state: ShardState | None, value: tuple[str, list[Seen | Tick]]
                      ) -> tuple[ShardState, list[WarningEvent | Expire]]:
        """The ``watch_silence`` step: sightings and ticks, in order, into one shard's state."""
        if self._pending is not None:
            self._apply_pending()
        shard, items = value
        if state is None:
            state = self.silence.new_state(shard)
        observe = self.silence.observe
        events: list[WarningEvent | Expire] = []
        for item in items:
            events.extend(observe(state, item))
        return state, events

    def compare_neighbours(self, state: RegionState | None, readings: list[Reading]
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


def _warning_only(x: WarningEvent | Expire) -> WarningEvent | None:
    return x if isinstance(x, WarningEvent) else None


def _expire_only(x: WarningEvent | Expire) -> Expire | None:
    return x if isinstance(x, Expire) else None


def _to_silence(items: list[Reading | Forecast | Tick]
                ) -> list[tuple[str, tuple[str, list[Seen | Tick]]]]:
    # Sightings and ticks travel one path, so each shard sees them in source order. One item
    # per shard and batch, not one per reading: each bytewax step costs ~1-2 us per item.
    groups: dict[str, list[Seen | Tick]] = {}
    for item in items:
        if isinstance(item, Tick):
            for key in SHARD_KEYS:
                groups.setdefault(key, []).append(item)
        elif isinstance(item, Reading):
            groups.setdefault(shard_of(item.sensor_id), []).append(
                Seen(item.sensor_id, item.kind, item.region, item.ts))
    return [(key, (key, group)) for key, group in groups.items()]


def _to_regions(items: list[Reading | Tick]) -> list[tuple[str, list[Reading]]]:
    batch = [item for item in items
             if isinstance(item, Reading) and (has_drift_field(item) or is_wet(item))]
    return [("network", batch)] if batch else []


def _split_outcome(outcome: Outcome) -> list[Any]:
    out: list[Any] = [*outcome.events, *outcome.indicators]
    if outcome.reading is not None:
        out.append(outcome.reading)
    if outcome.forecast is not None:
        out.append(outcome.forecast)
    if outcome.rejected is not None:
        out.append(outcome.rejected)
    return out


def build_flow(source: Source[Any], engine: Engine, outputs: Outputs,
               name: str = "hazard_warning") -> Dataflow:
    """Wire ingest, rules, silence watch, lifecycle and sinks into one dataflow."""
    flow = Dataflow(name)
    items = op.input("ingest", flow, source)
    parsed = op.branch("split_rejected", items, lambda x: isinstance(x, Rejected))
    good = parsed.falses
    # Forecasts take the readings' path to their sensor's state, in source order.
    readings = op.filter("readings_only", good, lambda x: isinstance(x, Reading | Forecast))
    if engine.nowcast is not None:
        # Nowcasts need other sensors' readings (upstream, basin rain): one key for the
        # network; a station's nowcast goes just before its reading.
        rows = op.stateful_map("nowcast_features", op.key_on("key_for_nowcast", readings,
                                                             lambda _: "network"),
                               engine.nowcast.features)
        readings = op.flat_map_batch("nowcasts", op.key_rm("unkey_nowcast", rows),
                                     engine.nowcast.predict_batch)

    # stateful_map does not pass the key to the mapper; the shard rides in the value too.
    silence_in = op.flat_map_batch("to_silence", good, _to_silence)
    silence_states = op.stateful_map("watch_silence", silence_in, engine.watch_silence)
    silence_out = op.flat_map("silence_events", op.key_rm("unkey_silence", silence_states),
                              lambda events: events)
    silence_events = op.filter_map("silence_warnings", silence_out, _warning_only)
    # Sensors unheard for the state TTL: their states get the chance to drop themselves.
    expiries = op.filter_map("expiries", silence_out, _expire_only)

    keyed = op.key_on("key_by_sensor", op.merge("readings_and_expiries", readings, expiries),
                      lambda r: r.sensor_id)
    outcomes = op.stateful_map("evaluate_rules", keyed, engine.evaluate)
    results = op.flat_map("split_outcome", op.key_rm("unkey_outcome", outcomes),
                          _split_outcome)

    rule_events = op.filter("events_only", results, lambda x: isinstance(x, WarningEvent))
    events = op.merge("all_events", rule_events, silence_events)
    if engine.faults is not None:
        # Drift needs cross-sensor state: one key for the network, fed from before the keyed
        # step (whose output is grouped by key), so it sees readings in source order.
        by_region = op.flat_map_batch("to_regions", good, _to_regions)
        drift = op.stateful_map("compare_neighbours", by_region, engine.compare_neighbours)
        events = op.merge("with_drift", events, op.flat_map(
            "drift_events", op.key_rm("unkey_drift", drift), lambda events: events))
    events = op.inspect("count_events", events, lambda _s, e: engine.count_event(e))

    stored = op.filter("readings_accepted", results, lambda x: isinstance(x, Reading))
    held = op.filter("forecasts_accepted", results, lambda x: isinstance(x, Forecast))
    indicators = op.filter("indicators_only", results, lambda x: isinstance(x, IndicatorRecord))
    if engine.model is not None:  # scikit-learn: features per sensor, one call per batch
        rows = op.stateful_map("model_features", op.key_on(
            "key_for_model", stored, lambda r: r.sensor_id), engine.model.features)
        rows = op.filter_map("model_rows", op.key_rm("unkey_model", rows), lambda x: x)
        indicators = op.merge("with_model_scores", indicators, op.flat_map_batch(
            "score_models", rows, engine.model.score_batch))
    late = op.filter("late_only", results, lambda x: isinstance(x, Rejected))
    rejected = op.merge("all_rejected", parsed.trues, late)
    rejected = op.inspect("count_rejected", rejected,
                          lambda _s, r: engine.metrics.rejected.labels(r.reason).inc())

    for i, sink in enumerate(outputs.warnings):
        op.output(f"warnings_{i}", events, sink)
    for i, sink in enumerate(outputs.store):
        op.output(f"store_{i}", op.merge(f"to_store_{i}", stored, indicators, events, held),
                  sink)
    for i, sink in enumerate(outputs.indicators):
        op.output(f"indicators_{i}", indicators, sink)
    for i, sink in enumerate(outputs.dead_letters):
        op.output(f"dead_letters_{i}", rejected, sink)
    return flow
