"""Water levels: river stages and lake or reservoir levels driven by basin rain."""

from __future__ import annotations

import math

import numpy as np

from sensors_sim.events import Level
from sensors_sim.models import Context
from sensors_sim.network import Sensor

#: Shape of the gamma unit hydrograph (a cascade of three linear reservoirs, after Nash).
NASH_SHAPE = 3
#: Gauge reading noise, in metres.
LEVEL_NOISE_M = 0.003


def unit_hydrograph(lag_h: float, step_h: float, length: int) -> np.ndarray:
    """Return a gamma unit hydrograph peaking at ``lag_h`` sampled per step, summing to 1."""
    scale = max(lag_h, step_h) / (NASH_SHAPE - 1)
    # Sample far past the horizon before normalising, so truncation does not inflate the gain.
    n = max(length, math.ceil(20 * scale * NASH_SHAPE / step_h))
    t = (np.arange(n) + 0.5) * step_h
    pdf = t ** (NASH_SHAPE - 1) * np.exp(-t / scale)
    return (pdf / pdf.sum())[:length]


def level(sensor: Sensor, ctx: Context, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate a level gauge: base level plus the routed response to its basin's rain."""
    event = next(e for e in ctx.events if isinstance(e, Level))
    steps = len(ctx.hours)
    if event.driven_by:
        basin = np.mean([ctx.rain[sid] for sid in event.driven_by], axis=0)
    else:
        basin = np.zeros(steps)
    routed = np.convolve(basin, unit_hydrograph(event.lag_h, ctx.step_h, steps))[:steps]
    if event.mode == "storage" and event.recession_h:
        from scipy.signal import lfilter

        keep = 1.0 - ctx.step_h / max(event.recession_h, ctx.step_h)
        rise = lfilter([event.gain_m * ctx.step_h], [1.0, -keep], routed)
    elif event.mode == "storage":
        rise = event.gain_m * np.cumsum(routed * ctx.step_h)
    else:
        rise = event.gain_m * routed
    noise = LEVEL_NOISE_M * rng.standard_normal(steps)
    return {"level_m": np.round(event.base_m + rise + noise, 2)}
