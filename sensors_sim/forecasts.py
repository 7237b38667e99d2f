"""Forecasts with realistic errors, made from a scenario's true future (docs/FORECASTS.md).

Every ``every`` a forecaster issues, per sensor, hourly values up to ``horizon`` ahead:

- rain gauges and weather stations: a quantitative precipitation forecast (``rain_mm`` per
  hour), issuer ``sim-qpf``;
- water-level stations: a level forecast (``level_m`` at each hour), issuer ``sim-hydro``.

Errors, drawn per issue from a generator seeded by the scenario's seed and the sensor:

- timing: the whole forecast is shifted by ``N(0, timing)`` (a storm forecast too early or late);
- amount: rain is scaled by ``lognormal(0, amount)`` per issue and ``lognormal(0, amount / 2)``
  per hour; a level gets a random-walk error of ``N(0, level_error)`` per hour of lead.

So skill decays with lead time, as real forecasts' does. With errors set to 0 the forecast is
the truth (a perfect forecast, an upper bound for lead time).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from sensors_sim.generate import simulate
from sensors_sim.scenario import Scenario

_STAGE_FORECAST = 7
LEVEL_KINDS = ("reservoir", "river")
RAIN_KINDS = ("rainfall", "weather")


@dataclass(frozen=True)
class ForecastErrors:
    """How wrong the forecasts are; zeros give the truth."""

    timing: timedelta = timedelta(minutes=45)
    amount: float = 0.3  # sigma of the log of the rain factor per issue
    level_error: float = 0.03  # metres of random walk per hour of lead
    every: timedelta = timedelta(hours=1)
    horizon: timedelta = timedelta(hours=12)


def _rng(seed: int, sensor_id: str) -> np.random.Generator:
    digest = sum((i + 1) * ord(c) for i, c in enumerate(sensor_id))
    return np.random.default_rng([seed, _STAGE_FORECAST, digest])


def _cumulative(values: np.ndarray, step_h: float, hours: np.ndarray) -> np.ndarray:
    """Rain fallen from the start up to each of ``hours`` (0 before, the total after)."""
    t = np.concatenate([[0.0], (np.arange(len(values)) + 1) * step_h])
    c = np.concatenate([[0.0], np.cumsum(values)])
    return np.interp(hours, t, c)


def _level_at(values: np.ndarray, step_h: float, hours: np.ndarray) -> np.ndarray:
    t = (np.arange(len(values)) + 1) * step_h
    return np.interp(hours, t, values)


def forecasts(scenario: Scenario, errors: ForecastErrors | None = None) -> Iterator[dict[str, Any]]:
    """Yield the scenario's forecasts as wire objects, by issue time, then sensor id."""
    errors = errors or ForecastErrors()
    true = simulate(scenario)
    step_h = scenario.interval.total_seconds() / 3600.0
    end_h = scenario.steps * step_h
    every_h = errors.every.total_seconds() / 3600.0
    lead_h = np.arange(1, int(errors.horizon.total_seconds() // 3600) + 1, dtype=float)
    shift_sigma = errors.timing.total_seconds() / 3600.0
    issues = np.arange(every_h, end_h, every_h)
    per_sensor = []
    for sensor in scenario.network:
        values = true[sensor.id]
        rng = _rng(scenario.seed, sensor.id)
        if sensor.kind in RAIN_KINDS and "rain_mm" in values:
            field, issuer = "rain_mm", "sim-qpf"
        elif sensor.kind in LEVEL_KINDS and "level_m" in values:
            field, issuer = "level_m", "sim-hydro"
        else:
            continue
        series = values[field]
        out = []
        for issued_h in issues:
            valid_h = issued_h + lead_h
            valid_h = valid_h[valid_h <= end_h]
            if not len(valid_h):
                continue
            shift = rng.normal(0.0, shift_sigma) if shift_sigma else 0.0
            if field == "rain_mm":
                edges = np.concatenate([[issued_h], valid_h]) - shift
                amounts = np.diff(_cumulative(series, step_h, np.clip(edges, 0, end_h)))
                factor = np.exp(rng.normal(0.0, errors.amount)) if errors.amount else 1.0
                noise = (
                    np.exp(rng.normal(0.0, errors.amount / 2, len(amounts)))
                    if errors.amount
                    else 1.0
                )
                shown = np.round(np.maximum(amounts * factor * noise, 0.0), 1)
            else:
                level = _level_at(series, step_h, np.clip(valid_h - shift, step_h, end_h))
                walk = (
                    np.cumsum(rng.normal(0.0, errors.level_error, len(valid_h)))
                    if errors.level_error
                    else 0.0
                )
                shown = np.round(level + walk, 3)
            out.append(
                (
                    issued_h,
                    sensor.id,
                    _wire(scenario, sensor, issuer, issued_h, valid_h, field, shown),
                )
            )
        per_sensor.extend(out)
    for *_, obj in sorted(per_sensor, key=lambda x: (x[0], x[1])):
        yield obj


def _stamp(scenario: Scenario, tz: str, hours: float) -> str:
    when = scenario.start + timedelta(hours=float(hours))
    return when.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")


def _wire(
    scenario: Scenario,
    sensor: Any,
    issuer: str,
    issued_h: float,
    valid_h: np.ndarray,
    field: str,
    values: np.ndarray,
) -> dict[str, Any]:
    return {
        "sensor_id": sensor.id,
        "kind": sensor.kind,
        "issuer": issuer,
        "issued": _stamp(scenario, sensor.tz, issued_h),
        "series": [
            {"valid": _stamp(scenario, sensor.tz, v), "values": {field: float(x)}}
            for v, x in zip(valid_h, values, strict=True)
        ],
    }


def forecast_topic(prefix: str, region: str, kind: str, sensor_id: str) -> str:
    """Return the forecasts topic ``{prefix}/forecasts/{region}/{kind}/{sensor_id}``."""
    return f"{prefix}/forecasts/{region}/{kind}/{sensor_id}"
