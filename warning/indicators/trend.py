"""Linear trends: when a rising (or falling) value will reach a threshold, and how to say so."""

from __future__ import annotations

import math
from collections.abc import Sequence

HOUR_MS = 3_600_000


def time_to_threshold(
    ts_ms: Sequence[int],
    values: Sequence[float],
    threshold: float,
    now_ms: int,
    window_ms: int,
    *,
    rising: bool = True,
    min_points: int = 2,
) -> float | None:
    """Return hours until the least-squares trend over ``(now - window, now]`` reaches threshold.

    ``rising`` says which side is the danger: True for a level crossed upwards (water level,
    gas), False for one crossed downwards (oxygen low). 0 when the last reading is already at
    or past the threshold and the trend still heads that way; None when the trend does not
    head towards it (flat or away) or fewer than ``min_points`` readings at distinct times.

    >>> h = 3_600_000  # 3.0 m rising 0.25 m/h: 4.50 m is 6 h away
    >>> time_to_threshold([0, h, 2 * h], [2.5, 2.75, 3.0], 4.5, 2 * h, 3 * h)
    6.0
    """
    if len(ts_ms) != len(values):
        msg = f"ts_ms and values must have the same length, got {len(ts_ms)} and {len(values)}"
        raise ValueError(msg)
    start = now_ms - window_ms
    pts = sorted((t, v) for t, v in zip(ts_ms, values, strict=True) if start < t <= now_ms)
    if len(pts) < max(min_points, 2):
        return None
    # Hours relative to now keep the sums precise with epoch timestamps.
    xs = [(t - now_ms) / HOUR_MS for t, _ in pts]
    ys = [v for _, v in pts]
    n = len(xs)
    mx = math.fsum(xs) / n
    my = math.fsum(ys) / n
    sxx = math.fsum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = math.fsum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    level_now = my - slope * mx  # the trend's value at now (x = 0)
    sign = 1.0 if rising else -1.0
    speed = sign * slope  # per hour, towards the danger side when positive
    if speed <= 0:
        return None
    if sign * (ys[-1] - threshold) >= 0:
        return 0.0
    return max(sign * (threshold - level_now) / speed, 0.0)


def format_eta(hours: float | None, language: str = "en") -> str:
    """Say how long until a threshold is reached, for a warning text in ``language``.

    Under 1 h to the minute, under 48 h to 5 min, beyond that in days and hours.

    >>> [format_eta(x) for x in (None, 0, 0.01, 0.5)]
    ['not approaching', 'now', 'under 1 min', 'about 30 min']
    >>> [format_eta(x) for x in (2.1667, 3.0, 50.4)]
    ['about 2 h 10 min', 'about 3 h', 'about 2 d 2 h']
    >>> [format_eta(x, "zh-CN") for x in (None, 0.5, 2.1667, 50.4)]
    ['不会达到', '约30分钟', '约2小时10分钟', '约2天2小时']
    """
    w = _ETA_ZH if language.lower().startswith("zh") else _ETA_EN
    if hours is None or math.isnan(hours) or math.isinf(hours):
        return w["never"]
    if hours <= 0:
        return w["now"]
    minutes = hours * 60
    if minutes < 1:
        return w["under"]
    total = round(minutes) if minutes < 60 else 5 * round(minutes / 5)
    if total < 60:
        return w["about"] + w["min"].format(total)
    if total < 48 * 60:
        h, m = divmod(total, 60)
        return w["about"] + w["h"].format(h) + (w["min"].format(m) if m else "")
    d, h = divmod(round(hours), 24)
    return w["about"] + w["d"].format(d) + (w["h"].format(h) if h else "")


_ETA_EN = {
    "never": "not approaching",
    "now": "now",
    "under": "under 1 min",
    "about": "about",
    "min": " {} min",
    "h": " {} h",
    "d": " {} d",
}
_ETA_ZH = {
    "never": "不会达到",
    "now": "已达到",
    "under": "不到1分钟",
    "about": "约",
    "min": "{}分钟",
    "h": "{}小时",
    "d": "{}天",
}
