"""Indicator functions usable in rule expressions, with their signatures and look-back.

Each takes a field first (or nothing, for the daily FWI family), then numbers or a duration.
They wrap the pure functions of ``warning.indicators``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from warning.indicators import exposure, rainfall, slope, trend
from warning.indicators.fwi import DANGER_CLASSES
from warning.rules.rainevent import Rain, RainEvent
from warning.rules.windows import Series

H = 3_600_000
DAY_MS = 24 * H

#: Fields the daily FWI needs from a weather station, and how far back each is kept.
FWI_FIELDS = {"temp_c": 6 * H, "rh_pct": 6 * H, "wind_kmh": 6 * H, "rain_mm": 24 * H}
#: Rain events for I-D exceedance are separated by this long without rain.
ID_DRY_GAP_MS = 6 * H


@dataclass(frozen=True)
class Function:
    """A rule function: parameter kinds (``field``, ``number``, ``duration``) and defaults."""

    name: str
    params: tuple[str, ...]
    defaults: tuple[Any, ...]  # for the trailing optional parameters
    horizon_ms: int  # look-back when the function has no duration parameter
    doc: str
    run: Callable[..., float | None]
    #: Work shared by functions over the same series (e.g. one rain event for two I-D
    #: thresholds): ``prepare(series_or_None, now, window_ms)``, computed once per evaluation
    #: and handed to ``run`` in place of ``ts, vals``; it may keep work in ``series.memo``.
    prepare: Callable[..., Any] | None = None

    @property
    def required(self) -> int:
        """How many parameters must be given."""
        return len(self.params) - len(self.defaults)

    def usage(self) -> str:
        """Return the call as documented, e.g. ``time_to(FIELD, NUMBER[, DURATION])``."""
        shown = [p.upper() for p in self.params]
        head = ", ".join(shown[: self.required])
        tail = "".join(f"[, {p}" for p in shown[self.required :]) + "]" * len(self.defaults)
        return f"{self.name}({head}{tail})"


def time_weighted_mean(
    ts: Sequence[int], vals: Sequence[float], start: int, end: int
) -> float | None:
    """Vectorised ``exposure.time_weighted_mean`` for sorted input (tested equal to it).

    >>> time_weighted_mean([0, 600_000], [10.0, 40.0], 0, 900_000)
    20.0
    """
    if len(ts) < 64:  # below this, numpy's per-call overhead costs more than it saves
        return exposure.time_weighted_mean(ts, vals, start, end) if ts else None
    t = np.asarray(ts, dtype=np.int64)
    v = np.asarray(vals, dtype=np.float64)
    i = max(int(np.searchsorted(t, start, "right")) - 1, 0)
    j = int(np.searchsorted(t, end, "left"))
    if j <= i:
        return None
    seg_start = np.maximum(t[i:j], start)
    seg_end = np.minimum(np.append(t[i + 1 : j], end), end)
    width = np.clip(seg_end - seg_start, 0, None)
    covered = int(width.sum())
    return float(np.dot(v[i:j], width) / covered) if covered else None


def _stel(ts: Sequence[int], vals: Sequence[float], now: int) -> float | None:
    return time_weighted_mean(ts, vals, now - exposure.STEL_MS, now)


def _twa(ts: Sequence[int], vals: Sequence[float], now: int) -> float | None:
    return time_weighted_mean(ts, vals, now - exposure.TWA8_MS, now)


def _time_to(ts, vals, now, threshold, window_ms) -> float | None:
    return trend.time_to_threshold(ts, vals, threshold, now, window_ms)


def _forecast(s: Series | None, now, window_ms) -> slope.Forecast | None:
    ts, vals = s.window(now - window_ms, now) if s is not None else ([], [])
    return slope.forecast_failure(list(zip(ts, vals, strict=True)), window_ms / H, now)


def _failure_in(forecast: slope.Forecast | None, now, window_ms) -> float | None:
    return None if forecast is None else forecast.hours_to_failure


def _failure_fit(forecast: slope.Forecast | None, now, window_ms) -> float | None:
    return None if forecast is None else forecast.r2


def _tangent(ts, vals, now, v_uniform, window_ms) -> float | None:
    if not ts or v_uniform <= 0:
        return None
    return slope.tangent_angle(list(zip(ts, vals, strict=True)), v_uniform, now, window_ms / H)


def id_exceedance(
    ts: Sequence[int],
    vals: Sequence[float],
    now: int,
    a: float,
    b: float,
    dry_gap_ms: int = ID_DRY_GAP_MS,
    min_duration_h: float = 1.0,
) -> float | None:
    """Return ``rainfall.id_exceedance`` for sorted input (tested equal to it).

    >>> h = H  # 30 mm in 3 hourly reports: 10 mm/h against Caine's 9.655 mm/h at 3 h
    >>> round(id_exceedance([0, h, 2 * h, 3 * h], [0, 10, 10, 10], 3 * h, 14.82, -0.39), 3)
    1.036
    """
    if not ts:
        return None
    s = Series()
    for t, v in zip(ts, vals, strict=True):
        s.add(t, v)
    event = RainEvent(now - ts[0], dry_gap_ms)
    rain = event.rain(s, now) if event.update(s, now) else None
    return None if rain is None else rain.ratio(now, a, b, min_duration_h)


def _api(ts, vals, now, k, window_ms) -> float | None:
    if not ts or not 0 < k <= 1:
        return None
    days = max(1, round(window_ms / DAY_MS))
    t = np.asarray(ts, dtype=np.int64)
    # Day i holds readings i to i + 1 whole days old; the reference takes the oldest first.
    day_of = (now - t) // DAY_MS
    daily = np.bincount(np.clip(day_of, 0, days - 1), weights=np.asarray(vals), minlength=days)
    return rainfall.antecedent_precipitation_index(list(np.round(daily[::-1], 9)), k)


_EVENT_KEYS: dict[int, tuple[str, int]] = {}


def _id_event(s: Series | None, now: int, window_ms: int) -> Rain | None:
    # The event is kept on the series between readings and brought up to date here.
    if s is None:
        return None
    memo = getattr(s, "memo", None)
    if memo is None:  # also a series restored from an older snapshot
        memo = s.memo = {}
    key = _EVENT_KEYS.get(window_ms)
    if key is None:  # one key per window, not a tuple per series
        key = _EVENT_KEYS[window_ms] = ("id_event", window_ms)
    event = memo.get(key)
    if event is None:
        event = memo[key] = RainEvent(window_ms, ID_DRY_GAP_MS)
    return event.rain(s, now) if event.update(s, now) else None


def _id(event: Rain | None, now, a, b, window_ms) -> float | None:
    return None if event is None else event.ratio(now, a, b)


SERIES_FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function(
            "stel",
            ("field",),
            (),
            15 * 60_000,
            "15 min time-weighted mean (short-term exposure level)",
            _stel,
        ),
        Function("twa", ("field",), (), 8 * H, "8 h time-weighted average", _twa),
        Function(
            "time_to",
            ("field", "number", "duration"),
            (H,),
            0,
            "hours until the trend over the duration (default 1h) reaches the number",
            _time_to,
        ),
        Function(
            "failure_in",
            ("field", "duration"),
            (24 * H,),
            0,
            "hours to failure by Fukuzono inverse velocity over the duration (default 24h)",
            _failure_in,
            _forecast,
        ),
        Function(
            "failure_fit",
            ("field", "duration"),
            (24 * H,),
            0,
            "R² of that inverse-velocity fit",
            _failure_fit,
            _forecast,
        ),
        Function(
            "tangent_angle",
            ("field", "number", "duration"),
            (24 * H,),
            0,
            "improved tangent angle (degrees) against the uniform velocity (mm/h)",
            _tangent,
        ),
        Function(
            "api",
            ("field", "number", "duration"),
            (10 * DAY_MS,),
            0,
            "antecedent precipitation index: sum of k^i x rain of the i-th day back (mm)",
            _api,
        ),
        Function(
            "id_exceedance",
            ("field", "number", "number", "duration"),
            (72 * H,),
            0,
            "rain intensity over the I = a D^b threshold for the latest event (>= 1: reached)",
            _id,
            _id_event,
        ),
    )
}

#: Functions over what is expected rather than observed (warning/rules/forecasts.py): a received
#: forecast's sum, maximum or value ahead, and a learned nowcast's value ahead.
FORECAST_FUNCTIONS = {
    "forecast_sum": "amount forecast in the next DURATION (pro-rated by period)",
    "forecast_max": "largest value forecast in the next DURATION",
    "forecast_at": "value forecast DURATION ahead (interpolated)",
    "predicted": "value a learned nowcast expects DURATION ahead (hazard-warning forecast train)",
}

#: The daily Fire Weather Index family: no arguments; values of the station's latest day.
FWI_FUNCTIONS = ("fwi", "ffmc", "dmc", "dc", "isi", "bui", "dsr", "fwi_class")


def fwi_value(name: str, daily: Mapping[str, float] | None) -> float | None:
    """Return one FWI value of the station's latest day (``fwi_class``: 0 very low .. 5 extreme).

    >>> fwi_value("fwi_class", {"fwi": 25.0})
    3.0
    """
    if daily is None:
        return None
    if name == "fwi_class":
        return float(danger_index(daily["fwi"]))
    return daily.get(name)


def danger_index(fwi: float) -> int:
    """Return the EFFIS class index of an FWI value: 0 very low, ..., 5 extreme.

    >>> [danger_index(v) for v in (0, 5.2, 11.2, 21.3, 38.0, 50.0)]
    [0, 1, 2, 3, 4, 5]
    """
    return sum(1 for lower, _ in DANGER_CLASSES if fwi >= lower)
