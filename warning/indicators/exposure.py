"""Gas exposure indicators: time-weighted means (STEL, 8 h TWA), unit conversions, limits.

Concentrations are step-wise: each reading holds from its timestamp until the next reading,
so irregular sampling is weighted by time, not by count. Timestamps are epoch milliseconds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

MINUTE_MS = 60_000
STEL_MS = 15 * MINUTE_MS
TWA8_MS = 8 * 60 * MINUTE_MS

# Molar volume of an ideal gas at 20 C and 101.325 kPa, L/mol (GB/T 50493 conversion).
MOLAR_VOLUME_20C = 24.04

MOLAR_MASS_G_MOL = {
    "h2s": 34.08,
    "co": 28.01,
    "cl2": 70.90,
    "nh3": 17.03,
    "ch4": 16.04,
    "c3h8": 44.10,
    "h2": 2.016,
    "o2": 32.00,
}

# GB/T 50493-2019 s.5.5.2, toxic gases: (first alarm, second alarm) in mg/m3; the per-gas
# figures are partly verified (DOMAIN.md): rule files may override them.
TOXIC_LIMITS_MG_M3 = {"h2s": (10, 20), "co": (20, 40), "cl2": (1, 2), "nh3": (20, 40)}

# GB/T 50493-2019: combustible gas alarms in % LEL, oxygen alarms in % vol.
COMBUSTIBLE_ALARMS_PCT_LEL = (25.0, 50.0)
OXYGEN_LOW_HIGH_VOL_PCT = (19.5, 23.5)

# Lower explosive limits in % vol (EN 60079-20-1).
LEL_VOL_PCT = {"ch4": 4.4, "c3h8": 1.7, "h2": 4.0}
GAS_ALIASES = {"methane": "ch4", "propane": "c3h8", "hydrogen": "h2"}


def time_weighted_mean(
    ts_ms: Sequence[int], values: Sequence[float], start_ms: int, end_ms: int
) -> float | None:
    """Return the time-weighted mean over ``[start_ms, end_ms)``, each value held until the next.

    Only covered time counts: before the first reading nothing is known, so a window that
    starts earlier is averaged from the first reading; a reading at ``end_ms`` has no weight
    yet. None when no reading covers any of the window.

    >>> m = 60_000  # 10 for 10 min, then 40 for 5 min
    >>> time_weighted_mean([0, 10 * m], [10.0, 40.0], 0, 15 * m)
    20.0
    """
    if len(ts_ms) != len(values):
        msg = f"ts_ms and values must have the same length, got {len(ts_ms)} and {len(values)}"
        raise ValueError(msg)
    if end_ms <= start_ms:
        msg = f"end_ms must be after start_ms, got {start_ms}..{end_ms}"
        raise ValueError(msg)
    pairs = list(zip(ts_ms, values, strict=True))
    if any(b[0] < a[0] for a, b in zip(pairs, pairs[1:], strict=False)):
        pairs.sort(key=lambda p: p[0])
    times = [t for t, _ in pairs]
    i = max(bisect_right(times, start_ms) - 1, 0)  # the reading in force at start_ms
    area = 0.0
    covered = 0
    for j in range(i, len(pairs)):
        t, value = pairs[j]
        if t >= end_ms:
            break
        seg_end = min(pairs[j + 1][0], end_ms) if j + 1 < len(pairs) else end_ms
        width = seg_end - max(t, start_ms)
        if width > 0:
            area += value * width
            covered += width
    return area / covered if covered else None


def stel(ts_ms: Sequence[int], values: Sequence[float], now_ms: int) -> float | None:
    """Return the short-term exposure level: the time-weighted mean over the last 15 min."""
    return time_weighted_mean(ts_ms, values, now_ms - STEL_MS, now_ms)


def twa8(ts_ms: Sequence[int], values: Sequence[float], now_ms: int) -> float | None:
    """Return the 8 h time-weighted average over the last 8 h of covered time."""
    return time_weighted_mean(ts_ms, values, now_ms - TWA8_MS, now_ms)


def ppm_from_mg_m3(
    mg_m3: float, molar_mass: float, molar_volume: float = MOLAR_VOLUME_20C
) -> float:
    """Convert mg/m3 to ppm (by volume) at 20 C: ppm = mg/m3 * 24.04 / M.

    >>> round(ppm_from_mg_m3(10, MOLAR_MASS_G_MOL["h2s"]), 2)
    7.05
    """
    return mg_m3 * molar_volume / molar_mass


def mg_m3_from_ppm(ppm: float, molar_mass: float, molar_volume: float = MOLAR_VOLUME_20C) -> float:
    """Convert ppm (by volume) to mg/m3 at 20 C: mg/m3 = ppm * M / 24.04.

    >>> round(mg_m3_from_ppm(35, MOLAR_MASS_G_MOL["co"]), 1)
    40.8
    """
    return ppm * molar_mass / molar_volume


def lel_pct_from_vol_pct(vol_pct: float, gas: str) -> float:
    """Convert a combustible gas concentration in % vol to % LEL.

    >>> lel_pct_from_vol_pct(1.1, "CH4"), lel_pct_from_vol_pct(0.85, "propane")
    (25.0, 50.0)
    """
    key = GAS_ALIASES.get(gas.lower(), gas.lower())
    if key not in LEL_VOL_PCT:
        msg = f"expected a gas among {sorted(LEL_VOL_PCT)}, got {gas!r}"
        raise ValueError(msg)
    return round(vol_pct / LEL_VOL_PCT[key] * 100.0, 9)
