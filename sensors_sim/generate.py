"""Turn a scenario into wire-format readings, in event-time order, deterministically."""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from sensors_sim.events import MALFORMED, VALUE_FAULTS, Event, Fault
from sensors_sim.models import Context, model_for
from sensors_sim.models.rain import rain_intensity
from sensors_sim.network import Sensor
from sensors_sim.scenario import Scenario
from sensors_sim.wire import RawPayload, encode

Reading = dict[str, Any]
#: What the simulator sends: a reading of the wire format, or a deliberately broken payload.
SimMessage = Reading | RawPayload

# Separate random streams per stage, so that changing one model leaves the others' values alone.
_STAGE_RAIN = 0
_STAGE_MODEL = 1


def sensor_rng(seed: int, sensor_id: str, stage: int) -> np.random.Generator:
    """Return the random stream of one sensor and stage, independent of all other sensors."""
    # crc32 rather than hash(): Python salts str hashes per process, which would break replay.
    return np.random.default_rng([seed, zlib.crc32(sensor_id.encode("utf-8")), stage])


def _faults_for(sensor: Sensor, scenario: Scenario) -> tuple[Fault, ...]:
    return scenario.faults.get(sensor.id, ())


def _active(fault: Fault, at_h: float) -> bool:
    # Report i covers (t - step, t]; a fault acts on the reports stamped in [start, end).
    return fault.start_h <= at_h < fault.end_h


def apply_value_faults(
    sensor: Sensor, values: dict[str, np.ndarray], scenario: Scenario
) -> dict[str, np.ndarray]:
    """Return the values a faulty sensor reports: true values changed by its value faults."""
    faults = [f for f in _faults_for(sensor, scenario) if f.fault in VALUE_FAULTS]
    if not faults:
        return values
    step_h = scenario.interval.total_seconds() / 3600.0
    hours = (np.arange(scenario.steps) + 1) * step_h
    out = {k: v.copy() for k, v in values.items()}
    for fault in faults:
        fields = [fault.field] if fault.field else list(sensor.fields)
        mask = (hours >= fault.start_h - 1e-9) & (hours < fault.end_h - 1e-9)
        if not mask.any():
            continue
        first = int(np.argmax(mask))
        for name in fields:
            series = out[name]
            if fault.fault == "stuck":
                series[mask] = series[first - 1] if first > 0 else series[first]
            elif fault.fault == "spike":
                series[first] = round(series[first] + fault.magnitude, 2)
            elif fault.fault == "dropout":
                series[mask] = 0.0
            elif fault.fault == "drift":
                since = hours[mask] - hours[first] + step_h
                series[mask] = np.round(series[mask] + fault.magnitude * since, 2)
    return out


def _sensor_readings(
    sensor: Sensor, values: dict[str, np.ndarray], scenario: Scenario
) -> Iterator[tuple[float, str, int, SimMessage]]:
    """Yield ``(send epoch, sensor_id, n, message)`` for one sensor, in sending order."""
    tz = ZoneInfo(sensor.tz)
    start_epoch = scenario.start.timestamp()
    step_s = scenario.interval.total_seconds()
    faults = [f for f in _faults_for(sensor, scenario) if f.fault not in VALUE_FAULTS]
    held: tuple[float, SimMessage] | None = None  # a report kept back to send out of order
    n = 0
    malformed = sorted(MALFORMED)
    bad = 0
    for i in range(scenario.steps):
        at_h = (i + 1) * step_s / 3600.0
        active = {f.fault: f for f in faults if _active(f, at_h)}
        sent = start_epoch + (i + 1) * step_s
        if "silent" in active:
            continue
        when = scenario.start + (i + 1) * scenario.interval
        if "clock_skew" in active:
            when += timedelta(hours=active["clock_skew"].skew_h)
        stamp = when.astimezone(tz).isoformat(timespec="seconds")
        message: SimMessage = {
            "sensor_id": sensor.id,
            "kind": sensor.kind,
            "ts": stamp,
            "seq": i + 1,
            # Adding 0.0 turns a rounded -0.0 into 0.0, which would otherwise print as "-0.0".
            "values": {f: float(values[f][i]) + 0.0 for f in sensor.fields},
        }
        if "malformed" in active:
            text = encode(message).decode("utf-8")
            variant = malformed[bad % len(malformed)]
            message = RawPayload(sensor.id, sensor.kind, stamp, MALFORMED[variant](text))
            bad += 1
        copies = 2 if "duplicate" in active else 1
        if "out_of_order" in active and held is None:
            held = (sent, message)
            continue
        for _ in range(copies):
            n += 1
            yield sent, sensor.id, n, message
        if held is not None:
            # The held report goes out right after the later one: a swapped pair.
            n += 1
            yield sent, sensor.id, n, held[1]
            held = None
    if held is not None:
        n += 1
        yield held[0], sensor.id, n, held[1]


def simulate(scenario: Scenario) -> dict[str, dict[str, np.ndarray]]:
    """Return every sensor's true values, field by field, one array element per report."""
    steps = scenario.steps
    step_h = scenario.interval.total_seconds() / 3600.0
    hours = (np.arange(steps) + 1) * step_h
    # One pass to index events by sensor: scaled scenarios have thousands of both.
    mine: dict[str, list[Event]] = {s.id: [] for s in scenario.network}
    for event in scenario.events:
        for sid in event.sensors:
            if sid in mine:
                mine[sid].append(event)
    rain = {
        s.id: rain_intensity(
            s.id, mine[s.id], hours, step_h, sensor_rng(scenario.seed, s.id, _STAGE_RAIN)
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
            events=tuple(e for e in mine[sensor.id] if not isinstance(e, Fault)),
        )
        rng = sensor_rng(scenario.seed, sensor.id, _STAGE_MODEL)
        values[sensor.id] = model_for(sensor.kind)(sensor, ctx, rng)
    return values


def generate(scenario: Scenario) -> Iterator[SimMessage]:
    """Yield the scenario's messages in sending order, ties broken by sensor id.

    Without faults, sending order is timestamp order. A faulty sensor's messages may carry
    skewed timestamps, come twice or out of order, or be raw malformed payloads.
    """
    true = simulate(scenario)
    streams = [
        _sensor_readings(s, apply_value_faults(s, true[s.id], scenario), scenario)
        for s in scenario.network
    ]
    for *_, message in heapq.merge(*streams, key=lambda item: (item[0], item[1], item[2])):
        yield message
