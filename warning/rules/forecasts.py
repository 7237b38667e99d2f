"""Forecasts held per sensor and field, and the values rules read from them.

A sensor's state keeps, per field, the newest issue received (``Track``); an older issue
arriving later is refused as superseded, one past its expiry as stale. At event time ``now`` a
track is in force while ``issued <= now < expires`` (docs/FORECASTS.md).

Values, over the valid times after ``now``:

- ``forecast_sum(field, d)``: the amount expected in ``(now, now + d]``; each value is the amount
  of the period since the previous valid time (the issue, for the first), pro-rated where the
  window cuts a period. Unknown (None) unless the forecast reaches ``now + d``.
- ``forecast_max(field, d)``: the largest value at a valid time in ``(now, now + d]``, or the
  value interpolated at ``now + d`` if larger.
- ``forecast_at(field, d)``: the value linearly interpolated at ``now + d``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

from warning.records import Forecast


@dataclass(frozen=True, slots=True)
class Track:
    """One field of the newest forecast issue held for a sensor."""

    issuer: str
    issued: int
    expires: int
    valid: tuple[int, ...]
    values: tuple[float, ...]

    def in_force(self, now: int) -> bool:
        """Return True while issued and not expired at ``now``."""
        return self.issued <= now < self.expires


def take(held: dict[str, Track], f: Forecast, now: int | None) -> str | None:
    """Hold a forecast's fields in ``held``; return why it was refused, or None.

    The newest issue of each field wins (an equal issue time replaces: a correction).

    >>> f = Forecast("rg-1", "rainfall", "wx", "qpf", 0, 10, (5,), {"rain_mm": (1.0,)})
    >>> held = {}; take(held, f, None), take(held, f, 12), held["rain_mm"].values
    (None, 'stale_forecast', (1.0,))
    """
    if now is not None and f.expires <= now:
        return "stale_forecast"
    newer = [name for name in f.values if name not in held or held[name].issued <= f.issued]
    if not newer:
        return "superseded_forecast"
    for name in newer:
        held[name] = Track(f.issuer, f.issued, f.expires, f.valid, f.values[name])
    return None


def expire(held: dict[str, Track], now: int) -> None:
    """Drop the tracks past their expiry."""
    for name in [n for n, t in held.items() if t.expires <= now]:
        del held[name]


def _at(t: Track, when: int) -> float | None:
    """The value interpolated at ``when`` (None outside the valid times)."""
    i = bisect_right(t.valid, when)
    if i == len(t.valid):
        return t.values[-1] if t.valid and when == t.valid[-1] else None
    if i == 0:
        return None
    t0, t1 = t.valid[i - 1], t.valid[i]
    v0, v1 = t.values[i - 1], t.values[i]
    return v0 + (v1 - v0) * (when - t0) / (t1 - t0)


def forecast_sum(t: Track, now: int, window_ms: int) -> float | None:
    """The amount expected in ``(now, now + window]``, pro-rated by period.

    >>> t = Track("qpf", 0, 100, (10, 20, 30), (5.0, 10.0, 20.0))
    >>> forecast_sum(t, 5, 20), forecast_sum(t, 5, 40)
    (22.5, None)
    """
    end = now + window_ms
    if not t.in_force(now) or not t.valid or t.valid[-1] < end:
        return None
    total, start = 0.0, t.issued
    for when, value in zip(t.valid, t.values, strict=True):
        lo, hi = max(start, now), min(when, end)
        if hi > lo:
            total += value * (hi - lo) / (when - start)
        if when >= end:
            break
        start = when
    return round(total, 6)


def forecast_max(t: Track, now: int, window_ms: int) -> float | None:
    """The largest value expected in ``(now, now + window]``.

    >>> forecast_max(Track("h", 0, 100, (10, 20, 30), (4.0, 4.6, 4.2)), 0, 15)
    4.3
    """
    if not t.in_force(now):
        return None
    end = now + window_ms
    inside = [v for when, v in zip(t.valid, t.values, strict=True) if now < when <= end]
    edge = _at(t, end)
    if edge is not None:
        inside.append(edge)
    return round(max(inside), 6) if inside else None


def forecast_at(t: Track, now: int, window_ms: int) -> float | None:
    """The value expected at ``now + window`` (interpolated), None outside the forecast."""
    if not t.in_force(now):
        return None
    v = _at(t, now + window_ms)
    return None if v is None else round(v, 6)


FORECAST_VALUES = {
    "forecast_sum": forecast_sum,
    "forecast_max": forecast_max,
    "forecast_at": forecast_at,
}


def value(
    func: str, held: Mapping[str, Track] | None, field: str, now: int, window_ms: int
) -> float | None:
    """One forecast function's value at ``now``; None without a forecast in force."""
    t = held.get(field) if held else None
    return None if t is None else FORECAST_VALUES[func](t, now, window_ms)
