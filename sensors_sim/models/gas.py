"""Gas detectors: background readings plus the plume of any leak events."""

from __future__ import annotations

import numpy as np

from sensors_sim.events import Leak
from sensors_sim.models import Context, lognormal_factor
from sensors_sim.network import Sensor

#: Clean-air reading and its noise per field (a detector's zero drifts a little).
BACKGROUND: dict[str, tuple[float, float]] = {"lel_pct": (1.0, 0.2), "h2s_ppm": (0.2, 0.05)}
#: Physical upper bounds per field.
UPPER: dict[str, float] = {"lel_pct": 100.0, "h2s_ppm": 1000.0}
#: Decimal places per field.
DIGITS: dict[str, int] = {"lel_pct": 1, "h2s_ppm": 2}


def plume(leak: Leak, hours: np.ndarray) -> np.ndarray:
    """Return the leak's shape in [0, 1]: a quadratic build-up, then exponential dispersal."""
    build = np.clip((hours - leak.start_h) / (leak.peak_h - leak.start_h), 0.0, 1.0) ** 2
    decay = np.exp(-np.clip(hours - leak.peak_h, 0.0, None) / leak.decay_h)
    return np.where(hours <= leak.peak_h, build, decay)


def gas(sensor: Sensor, ctx: Context, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate a multi-gas detector reporting each of its fields."""
    steps = len(ctx.hours)
    out: dict[str, np.ndarray] = {}
    for field in sensor.fields:
        mean, sd = BACKGROUND[field]
        value = mean + sd * rng.standard_normal(steps)
        for leak in (e for e in ctx.events if isinstance(e, Leak)):
            peak = dict(leak.peak).get(field)
            if peak is not None:
                excess = max(peak - mean, 0.0) * plume(leak, ctx.hours)
                value = value + excess * lognormal_factor(rng, 0.05, steps)
        out[field] = np.round(np.clip(value, 0.0, UPPER[field]), DIGITS[field])
    return out
