"""Scale a scenario to many sensors, and write its readings fast for load tests.

``scaled(scenario, n)`` keeps the scenario's sensors and adds replicas until there are ``n``:
replica ``k`` of sensor ``X`` is ``X~k`` (same kind, place and thresholds) and gets copies of
``X``'s events, a level replica being driven by replica ``k`` of its gauges where they exist.
``write_jsonl_fast`` writes exactly the bytes ``files.write_jsonl(generate(...))`` writes, from
whole arrays at once; it needs a scenario without stream faults (which reorder messages).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from typing import TextIO
from zoneinfo import ZoneInfo

import numpy as np

from sensors_sim.events import VALUE_FAULTS, Event, Level
from sensors_sim.generate import apply_value_faults, simulate
from sensors_sim.network import Network, Sensor
from sensors_sim.scenario import Scenario


def scaled(scenario: Scenario, sensors: int) -> Scenario:
    """Return ``scenario`` with replicas added until it has ``sensors`` sensors."""
    base = scenario.network.sensors
    if sensors <= len(base):
        return scenario
    by_sensor: dict[str, list[Event]] = defaultdict(list)
    for event in scenario.events:
        for sid in event.sensors:
            by_sensor[sid].append(event)
    new_sensors: list[Sensor] = list(base)
    new_events: list[Event] = list(scenario.events)
    ids = {s.id for s in base}
    k = 0
    while len(new_sensors) < sensors:
        k += 1
        # The replicas this round will make, so that level replicas find their gauges' copies.
        ids |= {f"{t.id}~{k}" for t in base[: sensors - len(new_sensors)]}
        for template in base:
            if len(new_sensors) >= sensors:
                break
            rid = f"{template.id}~{k}"
            new_sensors.append(replace(template, id=rid))
            for event in by_sensor[template.id]:
                if isinstance(event, Level):
                    driven = tuple(f"{g}~{k}" if f"{g}~{k}" in ids else g for g in event.driven_by)
                    new_events.append(replace(event, sensor=rid, driven_by=driven))
                elif hasattr(event, "sensor"):
                    new_events.append(replace(event, sensor=rid))  # type: ignore[arg-type]
                else:
                    new_events.append(replace(event, sensors=(rid,)))
    # In a last, partial round a level replica whose gauges got no copy uses the originals.
    network = Network(f"{scenario.network.name}x{sensors}", tuple(new_sensors))
    return replace(scenario, network=network, events=tuple(new_events))


def _stamps(scenario: Scenario, tz: str) -> list[str]:
    zone = ZoneInfo(tz)
    return [
        (scenario.start + (i + 1) * scenario.interval)
        .astimezone(zone)
        .isoformat(timespec="seconds")
        for i in range(scenario.steps)
    ]


def write_jsonl_fast(scenario: Scenario, out: TextIO) -> int:
    """Write the scenario's readings as JSON Lines; return how many were written."""
    faults = (f for fs in scenario.faults.values() for f in fs)
    if any(f.fault not in VALUE_FAULTS for f in faults):
        msg = "write_jsonl_fast cannot reorder messages: use files.write_jsonl(generate(...))"
        raise ValueError(msg)
    true = simulate(scenario)
    # Every sensor reports at the same instants, so time order is step by step, ids sorted.
    sensors = sorted(scenario.network, key=lambda s: s.id)
    stamps = {tz: _stamps(scenario, tz) for tz in {s.tz for s in sensors}}
    heads: list[str] = []
    columns: list[list[list[str]]] = []
    for s in sensors:
        values = apply_value_faults(s, true[s.id], scenario)
        heads.append(
            f'{{"sensor_id":{json.dumps(s.id, ensure_ascii=False)},'
            f'"kind":{json.dumps(s.kind, ensure_ascii=False)},"ts":"'
        )
        # repr() of a Python float is what json.dumps writes; + 0.0 turns -0.0 into 0.0.
        columns.append(
            [
                [f'"{f}":{v!r}' for v in (np.asarray(values[f], dtype=float) + 0.0).tolist()]
                for f in s.fields
            ]
        )
    tzs = [stamps[s.tz] for s in sensors]
    count = 0
    for i in range(scenario.steps):
        seq = f'","seq":{i + 1},"values":{{'
        lines = [
            head + ts[i] + seq + ",".join(col[i] for col in cols) + "}}\n"
            for head, ts, cols in zip(heads, tzs, columns, strict=True)
        ]
        out.write("".join(lines))
        count += len(lines)
    return count
