"""The one place where the dataflow is wired; ``run`` and ``backtest`` differ only in I/O.

Step ids (quoted) are the names bytewax snapshots state under; what each step does is in
``steps.py``, over the pure modules (``evaluate``, ``nodata``, ``lifecycle``, ``anomaly``)::

  "ingest" (parse, watermark ticks)
   ├─▶ "split_rejected" ──────────────────────────────────────────────▶ dead letters
   ├─▶ readings + expiries ─▶ "key_by_sensor" ─▶ "evaluate_rules"
   │     (per sensor: windows, detectors, rules, lifecycle, daily FWI)
   │        ├─▶ rule events ─────────────────────────────────────────▶ warnings, store
   │        ├─▶ accepted readings ─┬─────────────────────────────────▶ store
   │        │                      └─▶ "model_features" ─▶ "score_models" ─┐
   │        ├─▶ indicators ─────────────────────────────────────────────────┴▶ store, indicators
   │        └─▶ late readings ───────────────────────────────────────▶ dead letters
   ├─▶ sightings + ticks ─▶ "watch_silence" (16 no-data shards)
   │        ├─▶ no-data warnings ────────────────────────────────────▶ warnings, store
   │        └─▶ expiries (quiet sensors) ─▶ back to "key_by_sensor"
   ├─▶ wet and level readings ─▶ "compare_neighbours" (one key) ─▶ drift ─▶ warnings, store
   └─▶ ticks, once per member of a watched area ─▶ "key_by_sensor" (behind its readings)
         "evaluate_rules" ─▶ per-sensor values, sensor warnings, member progress
            ─▶ "key_by_area" ─▶ "evaluate_areas" (area rules, in event-time order) ─▶ warnings
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink

from warning.pipeline.areas import AreaLogic, area_key, is_area_item
from warning.pipeline.steps import (
    Kept,
    Steps,
    expire_only,
    model_row,
    to_no_data_shards,
    to_regions,
    warning_only,
)
from warning.records import Forecast, IndicatorRecord, Reading, Rejected, WarningEvent
from warning.sinks.influx import Stored


@dataclass
class Outputs:
    """Where results go; any list may be empty."""

    warnings: list[Sink[WarningEvent]] = field(default_factory=list)
    store: list[Sink[Stored]] = field(default_factory=list)
    dead_letters: list[Sink[Rejected]] = field(default_factory=list)
    indicators: list[Sink[IndicatorRecord]] = field(default_factory=list)


def build_flow(
    source: Source[Any], steps: Steps, outputs: Outputs, name: str = "hazard_warning"
) -> Dataflow:
    """Wire ingest, rules, silence watch, lifecycle and sinks into one dataflow."""
    flow = Dataflow(name)
    items = op.input("ingest", flow, source)
    parsed = op.branch("split_rejected", items, lambda x: isinstance(x, Rejected))
    good = parsed.falses
    # Forecasts take the readings' path to their sensor's state, in source order.
    readings = op.filter("readings_only", good, lambda x: isinstance(x, Reading | Forecast))
    if steps.nowcast is not None:
        # Nowcasts need other sensors' readings (upstream, basin rain): one key for the
        # network; a station's nowcast goes just before its reading.
        nowcast_rows = op.stateful_map(
            "nowcast_features",
            op.key_on("key_for_nowcast", readings, lambda _: "network"),
            steps.nowcast.features,
        )
        readings = op.flat_map_batch(
            "nowcasts", op.key_rm("unkey_nowcast", nowcast_rows), steps.nowcast.predict_batch
        )

    # stateful_map does not pass the key to the mapper; the shard rides in the value too.
    silence_in = op.flat_map_batch("to_no_data_shards", good, to_no_data_shards)
    silence_states = op.stateful_map("watch_silence", silence_in, steps.watch_no_data)
    silence_out = op.flat_map(
        "silence_events", op.key_rm("unkey_silence", silence_states), lambda events: events
    )
    silence_events = op.filter_map("silence_warnings", silence_out, warning_only)
    # Sensors unheard for the state TTL: their states get the chance to drop themselves.
    expiries = op.filter_map("expiries", silence_out, expire_only)

    # Ticks for area rules pass each member sensor's key, behind its items (pipeline/areas.py).
    area_ticks = op.flat_map_batch("to_area_members", good, steps.area_ticks)
    # Each reading also reaches the sensors it may corroborate (warning/anomaly/corroborate.py).
    # One item per sensor and batch: the sensor's items, in source order.
    keyed = op.flat_map_batch(
        "key_by_sensor",
        op.merge("readings_and_expiries", readings, expiries, area_ticks),
        steps.to_sensors,
    )
    # Accepted readings and indicator records go on only if a sink (or the model) takes them.
    kept = Kept(
        readings=bool(outputs.store) or steps.model is not None,
        indicators=bool(outputs.store or outputs.indicators),
    )
    outcomes = op.stateful_map(
        "evaluate_rules", keyed, lambda state, value: steps.evaluate_batch(state, value, kept)
    )
    results = op.flat_map("split_outcome", op.key_rm("unkey_outcome", outcomes), _each)

    rule_events = op.filter("events_only", results, lambda x: isinstance(x, WarningEvent))
    events = op.merge("all_events", rule_events, silence_events)
    if steps.faults is not None:
        # Drift needs cross-sensor state: one key for the network, fed from before the keyed
        # step (whose output is grouped by key), so it sees readings in source order.
        by_region = op.flat_map_batch("to_regions", good, to_regions)
        drift = op.stateful_map("compare_neighbours", by_region, steps.compare_neighbours)
        events = op.merge(
            "with_drift",
            events,
            op.flat_map("drift_events", op.key_rm("unkey_drift", drift), lambda events: events),
        )
    # Area rules: per-sensor values, sensor warnings and member progress re-keyed by area.
    area_items = op.map("key_by_area", op.filter("area_items", results, is_area_item), area_key)
    area_events = op.stateful("evaluate_areas", area_items, lambda resume: AreaLogic(steps, resume))
    events = op.merge("with_areas", events, op.key_rm("unkey_areas", area_events))
    events = op.inspect("count_events", events, lambda _s, e: steps.count_event(e))

    stored = op.filter("readings_accepted", results, lambda x: isinstance(x, Reading))
    held = op.filter("forecasts_accepted", results, lambda x: isinstance(x, Forecast))
    indicators = op.filter("indicators_only", results, lambda x: isinstance(x, IndicatorRecord))
    if steps.model is not None:  # scikit-learn: features per sensor, one call per batch
        features = op.stateful_map(
            "model_features",
            op.key_on("key_for_model", stored, lambda r: r.sensor_id),
            steps.model.features,
        )
        rows = op.filter_map("model_rows", op.key_rm("unkey_model", features), model_row)
        indicators = op.merge(
            "with_model_scores",
            indicators,
            op.flat_map_batch("score_models", rows, steps.model.score_batch),
        )
    late = op.filter("late_only", results, lambda x: isinstance(x, Rejected))
    rejected = op.merge("all_rejected", parsed.trues, late)
    rejected = op.inspect(
        "count_rejected", rejected, lambda _s, r: steps.metrics.rejected.labels(r.reason).inc()
    )

    for i, warning_sink in enumerate(outputs.warnings):
        op.output(f"warnings_{i}", events, warning_sink)
    for i, store_sink in enumerate(outputs.store):
        op.output(
            f"store_{i}", op.merge(f"to_store_{i}", stored, indicators, events, held), store_sink
        )
    for i, indicator_sink in enumerate(outputs.indicators):
        op.output(f"indicators_{i}", indicators, indicator_sink)
    for i, dead_letter_sink in enumerate(outputs.dead_letters):
        op.output(f"dead_letters_{i}", rejected, dead_letter_sink)
    return flow


def _each(results: list[Any]) -> list[Any]:
    return results
