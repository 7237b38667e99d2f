"""Canadian Fire Weather Index (Van Wagner 1987, as cffdrs computes it), for the labels.

The simulator computes it itself, so that fire labels do not depend on (and can check) the
warning service's own implementation.

Only the northern mid-latitude day-length tables (lat > 30 N for the DMC, > 20 N for the DC)
are included: the simulator's networks are in eastern China. Checked against
``shared/data/fwi_reference_1985.csv`` in the tests (every row within 0.1, chained).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: cffdrs' moisture constant; 147.2 misses the reference table's tolerance (DOMAIN.md).
K = 147.27723
DMC_DAY_LENGTH = (6.5, 7.5, 9.0, 12.8, 13.9, 13.9, 12.4, 10.9, 9.4, 8.0, 7.0, 6.0)
DC_DAY_FACTOR = (-1.6, -1.6, -1.6, 0.9, 3.8, 5.8, 6.4, 5.0, 2.4, 0.4, -1.6, -1.6)
#: EFFIS class lower bounds: moderate, high, very high, extreme.
CLASS_BOUNDS = (11.2, 21.3, 38.0, 50.0)


@dataclass(frozen=True)
class Codes:
    """The three moisture codes carried from day to day (start-up values by default)."""

    ffmc: float = 85.0
    dmc: float = 6.0
    dc: float = 15.0


def _ffmc(prev: float, temp: float, rh: float, wind: float, rain: float) -> float:
    rh = min(rh, 100.0)
    mo = K * (101.0 - prev) / (59.5 + prev)
    if rain > 0.5:
        rf = rain - 0.5
        wet = 42.5 * rf * math.exp(-100.0 / (251.0 - mo)) * (1.0 - math.exp(-6.93 / rf))
        if mo > 150.0:
            wet += 0.0015 * (mo - 150.0) ** 2 * math.sqrt(rf)
        mo = min(mo + wet, 250.0)
    common = 0.18 * (21.1 - temp) * (1.0 - math.exp(-0.115 * rh))
    ed = 0.942 * rh**0.679 + 11.0 * math.exp((rh - 100.0) / 10.0) + common
    ew = 0.618 * rh**0.753 + 10.0 * math.exp((rh - 100.0) / 10.0) + common
    if mo > ed:
        kl = 0.424 * (1 - (rh / 100) ** 1.7) + 0.0694 * math.sqrt(wind) * (1 - (rh / 100) ** 8)
        m = ed + (mo - ed) / 10.0 ** (kl * 0.581 * math.exp(0.0365 * temp))
    elif mo < ew:
        dry = (100.0 - rh) / 100.0
        kl = 0.424 * (1 - dry**1.7) + 0.0694 * math.sqrt(wind) * (1 - dry**8)
        m = ew - (ew - mo) / 10.0 ** (kl * 0.581 * math.exp(0.0365 * temp))
    else:
        m = mo
    return min(max(59.5 * (250.0 - m) / (K + m), 0.0), 101.0)


def _dmc(prev: float, temp: float, rh: float, rain: float, month: int) -> float:
    rk = 1.894 * (max(temp, -1.1) + 1.1) * (100.0 - min(rh, 100.0)) * DMC_DAY_LENGTH[month - 1]
    rk *= 1e-4
    pr = prev
    if rain > 1.5:
        rw = 0.92 * rain - 1.27
        wmi = 20.0 + 280.0 / math.exp(0.023 * prev)
        if prev <= 33.0:
            b = 100.0 / (0.5 + 0.3 * prev)
        elif prev <= 65.0:
            b = 14.0 - 1.3 * math.log(prev)
        else:
            b = 6.2 * math.log(prev) - 17.2
        wmr = wmi + 1000.0 * rw / (48.77 + b * rw)
        pr = 43.43 * (5.6348 - math.log(wmr - 20.0))
    return max(pr, 0.0) + rk


def _dc(prev: float, temp: float, rain: float, month: int) -> float:
    pe = max((0.36 * (max(temp, -2.8) + 2.8) + DC_DAY_FACTOR[month - 1]) / 2.0, 0.0)
    dr = prev
    if rain > 2.8:
        rw = 0.83 * rain - 1.27
        smi = 800.0 * math.exp(-prev / 400.0)
        dr = max(prev - 400.0 * math.log(1.0 + 3.937 * rw / smi), 0.0)
    return dr + pe


def isi(ffmc: float, wind: float) -> float:
    """Initial Spread Index."""
    fm = K * (101.0 - ffmc) / (59.5 + ffmc)
    sf = 19.115 * math.exp(-0.1386 * fm) * (1.0 + fm**5.31 / 4.93e7)
    return sf * math.exp(0.05039 * wind)


def bui(dmc: float, dc: float) -> float:
    """Buildup Index."""
    if dmc == 0 and dc == 0:
        return 0.0
    if dmc <= 0.4 * dc:
        value = 0.8 * dc * dmc / (dmc + 0.4 * dc)
    else:
        value = dmc - (1.0 - 0.8 * dc / (dmc + 0.4 * dc)) * (0.92 + (0.0114 * dmc) ** 1.7)
    return max(value, 0.0)


def fwi(isi_: float, bui_: float) -> float:
    """Fire Weather Index from ISI and BUI."""
    if bui_ <= 80.0:
        bb = 0.1 * isi_ * (0.626 * bui_**0.809 + 2.0)
    else:
        bb = 0.1 * isi_ * (1000.0 / (25.0 + 108.64 * math.exp(-0.023 * bui_)))
    return bb if bb <= 1.0 else math.exp(2.72 * (0.434 * math.log(bb)) ** 0.647)


def daily(
    codes: Codes, temp: float, rh: float, wind: float, rain24: float, month: int
) -> tuple[Codes, dict[str, float]]:
    """Advance the codes by one day of noon weather; return them and all six outputs."""
    new = Codes(
        _ffmc(codes.ffmc, temp, rh, wind, rain24),
        _dmc(codes.dmc, temp, rh, rain24, month),
        _dc(codes.dc, temp, rain24, month),
    )
    i, b = isi(new.ffmc, wind), bui(new.dmc, new.dc)
    out = {"ffmc": new.ffmc, "dmc": new.dmc, "dc": new.dc, "isi": i, "bui": b, "fwi": fwi(i, b)}
    return new, out


def danger_class(value: float) -> int:
    """EFFIS class: 0 very low / low, 1 moderate, 2 high, 3 very high, 4 extreme."""
    return sum(value >= bound for bound in CLASS_BOUNDS)
