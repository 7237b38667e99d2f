"""Weather stations: diurnal temperature, humidity that follows rain, gusty wind, rain."""

from __future__ import annotations

import numpy as np

from sensors_sim.events import Weather
from sensors_sim.models import Context
from sensors_sim.models.rain import tipping_bucket
from sensors_sim.network import Sensor

#: Local hour of the daily temperature maximum.
WARMEST_HOUR = 14.5
#: Rain rate (mm/h) above which the air is taken as fully wet.
WET_RAIN_MM_H = 5.0


def _wetness(rain_mm_h: np.ndarray, step_h: float) -> np.ndarray:
    # Air cools and moistens over about half an hour of rain, not instantly.
    wet = np.clip(rain_mm_h / WET_RAIN_MM_H, 0.0, 1.0)
    n = max(1, round(0.5 / step_h))
    padded = np.concatenate([np.full(n - 1, wet[0]), wet])
    return np.convolve(padded, np.full(n, 1.0 / n), mode="valid")


def weather(sensor: Sensor, ctx: Context, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate an automatic weather station."""
    event = next((e for e in ctx.events if isinstance(e, Weather)), Weather(sensor=sensor.id))
    steps = len(ctx.hours)
    clock = (ctx.local_hour0 + ctx.hours) % 24.0
    diurnal = np.cos(2 * np.pi * (clock - WARMEST_HOUR) / 24.0)
    wet = _wetness(ctx.rain[sensor.id], ctx.step_h)
    temp = event.temp_mean_c + event.temp_amp_c * diurnal - 3.0 * wet
    temp = temp + 0.2 * rng.standard_normal(steps)
    rh = event.rh_mean_pct - event.rh_amp_pct * diurnal + 25.0 * wet
    rh = rh + 1.5 * rng.standard_normal(steps)
    # Gamma-distributed speeds are never negative and skew towards gusts, as winds do.
    shape = 9.0
    wind = rng.gamma(shape, event.wind_mean_kmh / shape, steps) * (1.0 + 0.5 * wet)
    wind = wind * (1.0 + event.wind_amp * diurnal)
    return {
        "temp_c": np.round(temp, 1),
        "rh_pct": np.round(np.clip(rh, 0.0, 100.0), 1),
        "wind_kmh": np.round(np.clip(wind, 0.0, 250.0), 1),
        "rain_mm": tipping_bucket(ctx.rain[sensor.id], ctx.step_h),
    }
