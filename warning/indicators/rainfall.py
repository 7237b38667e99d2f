"""Rainfall indicators for landslides and debris flows: I-D thresholds, rain events, API.

Rain comes as increments: each report's amount fell during the interval since the previous
report, so report ``i`` covers ``(ts[i-1], ts[i]]``. The first report, and a report after a
silence longer than the reporting step, are taken to cover one step only: when the rain fell
within a silence is unknown, and the shorter interval (higher intensity) errs on the side of
warning. The step is ``step_ms`` when given, else the median spacing of the reports.
Durations are in hours, intensities in mm/h, timestamps in epoch milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

HOUR_MS = 3_600_000

# Coefficients (a, b) of I = a * D**b with I in mm/h, D in h; regional thresholds belong in
# the rule file, these are the published global ones.
CAINE_1980 = (14.82, -0.39)
GUZZETTI_2008 = (2.20, -0.44)  # valid for 0.1 < D < 1000 h


@dataclass(frozen=True, slots=True)
class RainSpell:
    """A spell of rain: from the start of its first wet interval to its last wet report."""

    start_ms: int
    end_ms: int
    total_mm: float
    duration_h: float
    mean_intensity_mm_h: float  # inf for a lone report whose interval is unknown


@dataclass(frozen=True, slots=True)
class Exceedance:
    """The most critical window ending now: its rain, duration and ratio to the threshold."""

    ratio: float
    duration_h: float
    rain_mm: float
    intensity_mm_h: float
    threshold_mm_h: float


def id_threshold(duration_h: float, a: float, b: float) -> float:
    """Return the threshold intensity I = a * D**b in mm/h for a duration D in hours.

    >>> round(id_threshold(6, *CAINE_1980), 3), round(id_threshold(24, *GUZZETTI_2008), 3)
    (7.368, 0.543)
    """
    if not duration_h > 0:
        msg = f"duration_h must be > 0, got {duration_h!r}"
        raise ValueError(msg)
    return a * duration_h**b


def reporting_step_ms(ts_ms: Sequence[int]) -> int:
    """Return the median spacing of sorted timestamps, or 0 when there is none.

    >>> reporting_step_ms([0, 600_000, 1_200_000, 9_000_000])
    600000
    """
    gaps = sorted(b - a for a, b in zip(ts_ms, ts_ms[1:], strict=False) if b > a)
    return gaps[(len(gaps) - 1) // 2] if gaps else 0


def _check_lengths(ts_ms: Sequence[int], rain_mm: Sequence[float]) -> None:
    if len(ts_ms) != len(rain_mm):
        msg = f"ts_ms and rain_mm must have the same length, got {len(ts_ms)} and {len(rain_mm)}"
        raise ValueError(msg)


def _wet_intervals(
    ts_ms: Sequence[int], rain_mm: Sequence[float], step_ms: int | None
) -> list[tuple[int, int, float]]:
    """Return ``(start_ms, end_ms, mm)`` for every report with rain, in time order."""
    _check_lengths(ts_ms, rain_mm)
    if step_ms is not None and not step_ms > 0:
        msg = f"step_ms must be > 0 when given, got {step_ms!r}"
        raise ValueError(msg)
    pairs = list(zip(ts_ms, rain_mm, strict=True))
    if any(b[0] < a[0] for a, b in zip(pairs, pairs[1:], strict=False)):
        pairs.sort(key=lambda p: p[0])
    for ts, mm in pairs:
        if not mm >= 0:
            msg = f"rain must be >= 0 mm, got {mm!r} at {ts}"
            raise ValueError(msg)
    ts_sorted = [p[0] for p in pairs]
    step = reporting_step_ms(ts_sorted) if step_ms is None else step_ms
    out = []
    prev: int | None = None
    for ts, mm in pairs:
        span = step if prev is None else min(ts - prev, step)
        if mm > 0:
            out.append((ts - span, ts, mm))
        prev = ts
    return out


def _events(
    ts_ms: Sequence[int], rain_mm: Sequence[float], dry_gap_ms: int, step_ms: int | None
) -> list[list[tuple[int, int, float]]]:
    """Group wet intervals into events split by at least ``dry_gap_ms`` without rain."""
    if not dry_gap_ms > 0:
        msg = f"dry_gap_ms must be > 0, got {dry_gap_ms!r}"
        raise ValueError(msg)
    groups: list[list[tuple[int, int, float]]] = []
    for interval in _wet_intervals(ts_ms, rain_mm, step_ms):
        if groups and interval[0] - groups[-1][-1][1] < dry_gap_ms:
            groups[-1].append(interval)
        else:
            groups.append([interval])
    return groups


def rain_events(
    ts_ms: Sequence[int],
    rain_mm: Sequence[float],
    dry_gap_ms: int,
    *,
    step_ms: int | None = None,
) -> list[RainSpell]:
    """Split rain increments into events separated by at least ``dry_gap_ms`` without rain.

    An event starts where its first wet report's interval starts (the previous report) and
    ends at its last wet report; hourly reports of 2, 0, 4 mm make one 3 h event when the
    dry gap is 2 h and two 1 h events when it is 1 h.

    >>> h = HOUR_MS
    >>> [e.total_mm for e in rain_events([0, h, 2 * h, 3 * h], [0, 2, 0, 4], 2 * h)]
    [6.0]
    >>> [e.duration_h for e in rain_events([0, h, 2 * h, 3 * h], [0, 2, 0, 4], h)]
    [1.0, 1.0]
    """
    events = []
    for group in _events(ts_ms, rain_mm, dry_gap_ms, step_ms):
        start, end = group[0][0], group[-1][1]
        total = round(math.fsum(mm for _, _, mm in group), 9)
        duration_h = (end - start) / HOUR_MS
        intensity = total / duration_h if duration_h > 0 else math.inf
        events.append(RainSpell(start, end, total, duration_h, intensity))
    return events


def critical_window(
    ts_ms: Sequence[int],
    rain_mm: Sequence[float],
    now_ms: int,
    a: float,
    b: float,
    dry_gap_ms: int,
    min_duration_h: float = 1.0,
    *,
    step_ms: int | None = None,
) -> Exceedance | None:
    """Return the window ending at ``now_ms`` whose mean intensity is closest to (or over) I-D.

    Windows start where a wet report's interval of the most recent event starts (the data's
    resolution) and end at ``now_ms``; a window shorter than ``min_duration_h`` is judged as
    if it lasted ``min_duration_h``, since thresholds are not defined for very short rain.
    Reports after ``now_ms`` are ignored; None when no rain has fallen.
    """
    if not min_duration_h > 0:
        msg = f"min_duration_h must be > 0, got {min_duration_h!r}"
        raise ValueError(msg)
    _check_lengths(ts_ms, rain_mm)
    kept = [(t, mm) for t, mm in zip(ts_ms, rain_mm, strict=True) if t <= now_ms]
    groups = _events([t for t, _ in kept], [mm for _, mm in kept], dry_gap_ms, step_ms)
    if not groups:
        return None
    best: Exceedance | None = None
    rain = 0.0
    for start, _, mm in reversed(groups[-1]):
        rain += mm
        duration_h = max((now_ms - start) / HOUR_MS, min_duration_h)
        threshold = a * duration_h**b
        intensity = round(rain, 9) / duration_h
        ratio = intensity / threshold
        if best is None or ratio > best.ratio:
            best = Exceedance(ratio, duration_h, round(rain, 9), intensity, threshold)
    return best


def id_exceedance(
    ts_ms: Sequence[int],
    rain_mm: Sequence[float],
    now_ms: int,
    a: float,
    b: float,
    dry_gap_ms: int,
    min_duration_h: float = 1.0,
    *,
    step_ms: int | None = None,
) -> float | None:
    """Return the largest ratio of mean intensity to the I-D threshold over windows ending now.

    1.0 or more means the threshold is reached; see ``critical_window`` for the windows judged.

    >>> h = HOUR_MS  # 30 mm in 3 hourly reports: 10 mm/h against Caine's 9.655 mm/h at 3 h
    >>> round(id_exceedance([0, h, 2 * h, 3 * h], [0, 10, 10, 10], 3 * h, *CAINE_1980, 6 * h), 3)
    1.036
    """
    window = critical_window(
        ts_ms, rain_mm, now_ms, a, b, dry_gap_ms, min_duration_h, step_ms=step_ms
    )
    return None if window is None else window.ratio


def antecedent_precipitation_index(daily_rain_mm: Sequence[float], k: float = 0.9) -> float:
    """Return API = sum of k**i * P_i in mm, where P_i fell i days ago.

    ``daily_rain_mm`` is in time order, oldest first: the last value is today's (i = 0).

    >>> round(antecedent_precipitation_index([10.0, 0.0, 20.0]), 6)
    28.1
    """
    if not 0 < k <= 1:
        msg = f"k must be in (0, 1], got {k!r}"
        raise ValueError(msg)
    total = 0.0
    for mm in daily_rain_mm:  # Horner's scheme: each older day decays once more
        if not mm >= 0:
            msg = f"daily rain must be >= 0 mm, got {mm!r}"
            raise ValueError(msg)
        total = total * k + mm
    return total
