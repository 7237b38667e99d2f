"""Turn a scenario into wire-format readings, in event-time order, deterministically."""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from sensors_sim.events import Event
from sensors_sim.models import Context, model_for
from sensors_sim.models.rain import rain_intensity
from sensors_sim.network import Sensor
from sensors_sim.scenario import Scenario

Reading = dict[str, Any]

# Separate random streams per stage, so that changing one model leaves the others' values alone.
_STAGE_RAIN = 0
_STAGE_MODEL = 1


def sensor_rng(seed: int, sensor_id: str, stage: int) -> np.random.Generator:
    """Return the random stream of one sensor and stage, independent of all other sensors."""
    # crc32 rather than hash(): Python salts str hashes per process, which would break replay.
    return np.random.default_rng([seed, zlib.crc32(sensor_id.encode("utf-8")), stage])


def _events_for(sensor: Sensor, events: tuple[Event, ...]) -> tuple[Event, ...]:
    return tuple(e for e in events if sensor.id in e.sensors)


def _sensor_readings(
    sensor: Sensor, values: dict[str, np.ndarray], scenario: Scenario
) -> Iterator[tuple[float, str, Reading]]:
    """Yield ``(epoch, sensor_id, reading)`` for one sensor, in time order."""
    tz = ZoneInfo(sensor.tz)
    start_epoch = scenario.start.timestamp()
    for i in range(scenario.steps):
        when = scenario.start + (i + 1) * scenario.interval
        reading: Reading = {
            "sensor_id": sensor.id,
            "kind": sensor.kind,
            "ts": when.astimezone(tz).isoformat(timespec="seconds"),
            "seq": i + 1,
            # Adding 0.0 turns a rounded -0.0 into 0.0, which would otherwise print as "-0.0".
            "values": {f: float(values[f][i]) + 0.0 for f in sensor.fields},
        }
        yield start_epoch + (i + 1) * scenario.interval.total_seconds(), sensor.id, reading


def simulate(scenario: Scenario) -> dict[str, dict[str, np.ndarray]]:
    """Return every sensor's values, field by field, one array element per report."""
    steps = scenario.steps
    step_h = scenario.interval.total_seconds() / 3600.0
    hours = (np.arange(steps) + 1) * step_h
    rain = {
        s.id: rain_intensity(
            s.id, scenario.events, hours, step_h, sensor_rng(scenario.seed, s.id, _STAGE_RAIN)
        )
        for s in scenario.network
    }
    values: dict[str, dict[str, np.ndarray]] = {}
    for sensor in scenario.network:
        start_local = scenario.start.astimezone(ZoneInfo(sensor.tz))
        ctx = Context(
            hours=hours,
            step_h=step_h,
            local_hour0=start_local.hour + start_local.minute / 60 + start_local.second / 3600,
            rain=rain,
            events=_events_for(sensor, scenario.events),
        )
        rng = sensor_rng(scenario.seed, sensor.id, _STAGE_MODEL)
        values[sensor.id] = model_for(sensor.kind)(sensor, ctx, rng)
    return values


def generate(scenario: Scenario) -> Iterator[Reading]:
    """Yield the scenario's readings ordered by timestamp, ties broken by sensor id."""
    values = simulate(scenario)
    streams = [_sensor_readings(s, values[s.id], scenario) for s in scenario.network]
    for _, _, reading in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        yield reading
