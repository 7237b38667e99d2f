"""Rain: intensity from rain events, and the tipping-bucket gauge that reports it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from sensors_sim.events import Event, Rain
from sensors_sim.models import Context, lognormal_factor
from sensors_sim.network import Sensor

#: Depth of one tip of the bucket, in mm.
BUCKET_MM = 0.1
#: Spread of rain intensity between 5-minute intervals around the event profile.
INTENSITY_SIGMA = 0.25
_SUBSAMPLES = 10


def rain_intensity(
    sensor_id: str,
    events: Iterable[Event],
    hours: np.ndarray,
    step_h: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the true mean intensity (mm/h) over each report interval at ``sensor_id``."""
    # Midpoints of sub-intervals, so that a profile's short peak is not missed between reports.
    offsets = step_h * (np.arange(_SUBSAMPLES) + 0.5) / _SUBSAMPLES
    t = hours[:, None] - step_h + offsets[None, :]
    total = np.zeros(len(hours))
    for event in events:
        if isinstance(event, Rain) and sensor_id in event.sensors:
            xs, ys = zip(*event.profile, strict=True)
            curve = np.interp(t - event.lag_h, xs, ys, left=0.0, right=0.0)
            total += event.scale * curve.mean(axis=1)
    total = np.clip(total, 0.0, None)
    return total * lognormal_factor(rng, INTENSITY_SIGMA, len(hours))


def tipping_bucket(intensity_mm_h: np.ndarray, step_h: float) -> np.ndarray:
    """Return the rain reported per interval by a 0.1 mm bucket that carries part-filled tips.

    >>> tipping_bucket(np.full(4, 0.6), step_h=1 / 12).tolist()  # 0.05 mm per interval
    [0.0, 0.1, 0.0, 0.1]
    """
    cumulative = np.cumsum(intensity_mm_h * step_h)
    # Tips are counted on the running total, so what is not yet a full tip is carried over.
    tips = np.floor(cumulative / BUCKET_MM + 1e-9).astype(np.int64)
    per_interval = np.diff(tips, prepend=0)
    return np.round(per_interval * BUCKET_MM, 1)


def rainfall(sensor: Sensor, ctx: Context, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate a rain gauge: rain since the previous report."""
    return {"rain_mm": tipping_bucket(ctx.rain[sensor.id], ctx.step_h)}
