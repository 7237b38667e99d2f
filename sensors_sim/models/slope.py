"""Slope displacement: steady creep that may accelerate, as a cumulative reading."""

from __future__ import annotations

import numpy as np

from sensors_sim.events import Creep
from sensors_sim.models import Context, lognormal_factor
from sensors_sim.network import Sensor

#: Creep of a slope with no creep event, in mm/h.
BACKGROUND_VELOCITY_MM_H = 0.002
#: Creep moves in small jerks; the spread of each interval's increment around the trend.
INCREMENT_SIGMA = 0.3


def slope(sensor: Sensor, ctx: Context, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate a displacement sensor whose cumulative reading never goes backwards."""
    event = next((e for e in ctx.events if isinstance(e, Creep)), None)
    if event is None:
        event = Creep(sensor=sensor.id, velocity_mm_h=BACKGROUND_VELOCITY_MM_H)
    mid = ctx.hours - ctx.step_h / 2
    velocity = np.full(len(mid), event.velocity_mm_h)
    if event.accelerate_h is not None:
        excess = np.clip(mid - event.accelerate_h, 0.0, None)
        velocity = velocity * np.exp(excess / event.e_folding_h)
    steps = velocity * ctx.step_h * lognormal_factor(rng, INCREMENT_SIGMA, len(mid))
    # Rounding the running total (not each step) keeps the reading monotonic and unbiased.
    return {"displacement_mm": np.round(event.start_mm + np.cumsum(steps), 2)}
