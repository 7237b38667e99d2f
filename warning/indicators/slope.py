"""Slope displacement indicators: inverse-velocity failure forecast and improved tangent angle.

Samples are ``(ts_ms, displacement_mm)`` pairs of cumulative displacement (inclinometer, GNSS,
crack meter), timestamps in epoch milliseconds. A velocity is the mean over an interval, so it
is stamped at the interval's midpoint: stamping it at the interval's end shifts the fitted
failure time by half a sampling interval (DOMAIN.md: 99.99 h against 100.49 h for t_f = 100 h).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HOUR_MS = 3_600_000

# Improved tangent angle stages (Xu Qiang): lower bounds in degrees.
TANGENT_YELLOW_DEG = 45.0  # above: acceleration has begun
TANGENT_ORANGE_DEG = 80.0
TANGENT_RED_DEG = 85.0


@dataclass(frozen=True, slots=True)
class Fit:
    """A least-squares line of inverse velocity (h/mm) against time (h)."""

    slope: float
    intercept: float
    r2: float
    failure_time_h: float | None  # where the line reaches 1/v = 0; None unless it falls


@dataclass(frozen=True, slots=True)
class Forecast:
    """A failure time forecast by the inverse-velocity method (Fukuzono 1985)."""

    failure_ms: int
    hours_to_failure: float  # negative when the fitted failure time is already past
    r2: float
    n: int  # velocities used in the fit


def _sorted(samples: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    out = list(samples)
    if any(b[0] < a[0] for a, b in zip(out, out[1:], strict=False)):
        out.sort(key=lambda s: s[0])
    return out


def _window(
    samples: Sequence[tuple[int, float]], now_ms: int, window_h: float
) -> list[tuple[int, float]]:
    """Return the samples in ``[now_ms - window_h, now_ms]``, in time order."""
    if not window_h > 0:
        msg = f"window_h must be > 0, got {window_h!r}"
        raise ValueError(msg)
    start = now_ms - window_h * HOUR_MS
    return [s for s in _sorted(samples) if start <= s[0] <= now_ms]


def velocities(samples: Sequence[tuple[int, float]]) -> list[tuple[float, float]]:
    """Return ``(midpoint_ms, mm_per_h)`` for each interval between consecutive samples.

    Samples sharing a timestamp give no interval.

    >>> velocities([(0, 0.0), (3_600_000, 2.0), (10_800_000, 3.0)])
    [(1800000.0, 2.0), (7200000.0, 0.5)]
    """
    out = []
    ordered = _sorted(samples)
    for (t0, x0), (t1, x1) in zip(ordered, ordered[1:], strict=False):
        if t1 > t0:
            out.append(((t0 + t1) / 2, (x1 - x0) / ((t1 - t0) / HOUR_MS)))
    return out


def inverse_velocity_fit(ts_h: Sequence[float], inv_v: Sequence[float]) -> Fit | None:
    """Fit inverse velocity against time by least squares; None for fewer than 2 distinct times.

    R² is 1.0 for a flat series fitted exactly.

    >>> fit = inverse_velocity_fit([0.0, 1.0, 2.0], [10.0, 8.0, 6.0])
    >>> fit.slope, fit.intercept, fit.r2, fit.failure_time_h
    (-2.0, 10.0, 1.0, 5.0)
    """
    n = len(ts_h)
    if n != len(inv_v):
        msg = f"ts_h and inv_v must have the same length, got {n} and {len(inv_v)}"
        raise ValueError(msg)
    if n < 2:
        return None
    mt = math.fsum(ts_h) / n
    my = math.fsum(inv_v) / n
    sxx = math.fsum((t - mt) ** 2 for t in ts_h)
    if sxx == 0:
        return None
    sxy = math.fsum((t - mt) * (y - my) for t, y in zip(ts_h, inv_v, strict=True))
    syy = math.fsum((y - my) ** 2 for y in inv_v)
    slope = sxy / sxx
    intercept = my - slope * mt
    ss_res = max(syy - slope * sxy, 0.0)
    r2 = 1.0 - ss_res / syy if syy > 0 else 1.0
    failure = -intercept / slope if slope < 0 else None
    return Fit(slope, intercept, r2, failure)


def forecast_failure(
    samples: Sequence[tuple[int, float]],
    window_h: float,
    now_ms: int,
    *,
    min_points: int = 3,
) -> Forecast | None:
    """Forecast failure from the velocities of the samples in ``[now - window_h, now]``.

    Intervals that did not move forward (v <= 0) have no inverse velocity and are left out;
    None when fewer than ``min_points`` velocities remain or 1/v is not falling.
    """
    points = [
        ((mid - now_ms) / HOUR_MS, 1.0 / v)  # hours relative to now keep the sums precise
        for mid, v in velocities(_window(samples, now_ms, window_h))
        if v > 0
    ]
    if len(points) < max(min_points, 2):
        return None
    fit = inverse_velocity_fit([t for t, _ in points], [y for _, y in points])
    if fit is None or fit.failure_time_h is None:
        return None
    hours = fit.failure_time_h
    return Forecast(now_ms + round(hours * HOUR_MS), hours, fit.r2, len(points))


def tangent_angle(
    samples: Sequence[tuple[int, float]],
    uniform_velocity_mm_h: float,
    now_ms: int,
    window_h: float,
) -> float | None:
    """Return the improved tangent angle in degrees over ``[now - window_h, now]``.

    The displacement is divided by the uniform-stage velocity so that both axes are in hours
    (Xu Qiang); the angle is then arctan(v / v_uniform), v being the mean velocity between the
    first and last samples of the window: 45 degrees at the uniform velocity, towards 90 as the
    slope accelerates, below 45 as it slows. None for fewer than two samples in the window.

    >>> h = 3_600_000
    >>> round(tangent_angle([(0, 0.0), (h, 1.0), (2 * h, 2.0)], 1.0, 2 * h, 2), 6)
    45.0
    """
    if not uniform_velocity_mm_h > 0:
        msg = f"uniform_velocity_mm_h must be > 0, got {uniform_velocity_mm_h!r}"
        raise ValueError(msg)
    window = _window(samples, now_ms, window_h)
    if len(window) < 2 or window[-1][0] == window[0][0]:
        return None
    span_h = (window[-1][0] - window[0][0]) / HOUR_MS
    v = (window[-1][1] - window[0][1]) / span_h
    return math.degrees(math.atan(v / uniform_velocity_mm_h))


def tangent_stage(
    angle: float,
    yellow: float = TANGENT_YELLOW_DEG,
    orange: float = TANGENT_ORANGE_DEG,
    red: float = TANGENT_RED_DEG,
) -> str:
    """Return the warning colour of a tangent angle; "blue" is uniform (or slowing) deformation.

    >>> [tangent_stage(a) for a in (30, 45, 60, 80, 84.9, 85, 89)]
    ['blue', 'blue', 'yellow', 'orange', 'orange', 'red', 'red']
    """
    if angle >= red:
        return "red"
    if angle >= orange:
        return "orange"
    if angle > yellow:
        return "yellow"
    return "blue"
