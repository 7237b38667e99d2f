"""Canadian Forest Fire Weather Index System (Van Wagner 1987), as the cffdrs package computes it.

Equations follow Van Wagner and Pickett (1985, Forestry Technical Report 33) with the cffdrs
alterations (equations 12, 15, 21 and 23 computed exactly; moisture content capped at 250 %;
relative humidity of 100 % or more taken as 99.9999 %). Inputs are noon local standard time
weather: temperature in C, relative humidity in %, 10 m wind in km/h, 24 h rain in mm.

Chain the codes day to day without rounding; round only for display.

>>> codes, day1 = daily(FWICodes(), temp=17, rh=42, wind=25, rain24=0, lat=40, month=4)
>>> [round(v, 1) for v in (codes.ffmc, codes.dmc, codes.dc, day1.isi, day1.bui, day1.fwi)]
[87.6, 8.5, 19.0, 10.8, 8.5, 10.0]
>>> day1.danger_class
'low'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Moisture content <-> FFMC conversion: 250 * 59.5 / 101 = 147.27723. The often quoted 147.2
# misses the reference table by more than 0.1 on ISI and FWI.
FFMC_COEFFICIENT = 250.0 * 59.5 / 101.0

# cffdrs treats rh >= 100 as 99.9999 (equations 4-7 and 16 assume rh < 100).
RH_MAX = 99.9999

# DMC effective day length (hours) by month, per latitude band (Lawson and Armitage 2008).
DMC_DAY_LENGTH_46N = (6.5, 7.5, 9.0, 12.8, 13.9, 13.9, 12.4, 10.9, 9.4, 8.0, 7.0, 6.0)
DMC_DAY_LENGTH_20N = (7.9, 8.4, 8.9, 9.5, 9.9, 10.2, 10.1, 9.7, 9.1, 8.6, 8.1, 7.8)
DMC_DAY_LENGTH_20S = (10.1, 9.6, 9.1, 8.5, 8.1, 7.8, 7.9, 8.3, 8.9, 9.4, 9.9, 10.2)
DMC_DAY_LENGTH_40S = (11.5, 10.5, 9.2, 7.9, 6.8, 6.2, 6.5, 7.4, 8.7, 10.0, 11.2, 11.8)
DMC_DAY_LENGTH_EQUATOR = 9.0

# DC day-length factor by month, per latitude band.
DC_DAY_LENGTH_NORTH = (-1.6, -1.6, -1.6, 0.9, 3.8, 5.8, 6.4, 5.0, 2.4, 0.4, -1.6, -1.6)
DC_DAY_LENGTH_SOUTH = (6.4, 5.0, 2.4, 0.4, -1.6, -1.6, -1.6, -1.6, -1.6, 0.9, 3.8, 5.8)
DC_DAY_LENGTH_EQUATOR = 1.4

# EFFIS fire danger classes: (lower bound of FWI, class name), highest first.
DANGER_CLASSES = (
    (50.0, "extreme"),
    (38.0, "very high"),
    (21.3, "high"),
    (11.2, "moderate"),
    (5.2, "low"),
)


@dataclass(frozen=True, slots=True)
class FWICodes:
    """The three moisture codes carried from one day to the next; defaults are start-up values."""

    ffmc: float = 85.0
    dmc: float = 6.0
    dc: float = 15.0


@dataclass(frozen=True, slots=True)
class FWIResult:
    """One day's codes and indices of the FWI System, unrounded."""

    ffmc: float
    dmc: float
    dc: float
    isi: float
    bui: float
    fwi: float
    dsr: float

    @property
    def danger_class(self) -> str:
        """Return the EFFIS danger class of this day's FWI."""
        return danger_class(self.fwi)


def _check_weather(rh: float, rain: float, wind: float = 0.0) -> float:
    """Reject impossible weather as cffdrs does and return rh capped below 100 %."""
    for name, value in (("rh", rh), ("rain", rain), ("wind", wind)):
        if not value >= 0:  # also catches NaN
            msg = f"{name} must be a finite value >= 0, got {value!r}"
            raise ValueError(msg)
    return min(rh, RH_MAX)


def _check_month(month: int) -> None:
    if not 1 <= month <= 12:
        msg = f"month must be 1-12, got {month!r}"
        raise ValueError(msg)


def ffmc(prev: float, temp: float, rh: float, wind: float, rain: float) -> float:
    """Return today's Fine Fuel Moisture Code (0-101) from yesterday's and noon weather.

    >>> round(ffmc(85.0, temp=17, rh=42, wind=25, rain=0), 2)
    87.65
    """
    rh = _check_weather(rh, rain, wind)
    # Eq. 1: moisture content (%) of fine fuel from yesterday's code.
    mo = FFMC_COEFFICIENT * (101.0 - prev) / (59.5 + prev)
    if rain > 0.5:
        rf = rain - 0.5  # Eq. 2: the canopy intercepts 0.5 mm
        wetting = 42.5 * rf * math.exp(-100.0 / (251.0 - mo)) * (1.0 - math.exp(-6.93 / rf))
        if mo > 150.0:  # Eq. 3b
            mo += 0.0015 * (mo - 150.0) ** 2 * math.sqrt(rf) + wetting
        else:  # Eq. 3a
            mo += wetting
        mo = min(mo, 250.0)
    # Eqs. 4 and 5: equilibrium moisture contents for drying and wetting.
    cold = 0.18 * (21.1 - temp) * (1.0 - math.exp(-0.115 * rh))
    ed = 0.942 * rh**0.679 + 11.0 * math.exp((rh - 100.0) / 10.0) + cold
    ew = 0.618 * rh**0.753 + 10.0 * math.exp((rh - 100.0) / 10.0) + cold
    if mo > ed:  # drying, Eqs. 6a, 6b, 8
        k0 = 0.424 * (1.0 - (rh / 100.0) ** 1.7) + 0.0694 * math.sqrt(wind) * (
            1.0 - (rh / 100.0) ** 8
        )
        kd = k0 * 0.581 * math.exp(0.0365 * temp)
        m = ed + (mo - ed) / 10.0**kd
    elif mo < ew:  # wetting, Eqs. 7a, 7b, 9
        dry = (100.0 - rh) / 100.0
        k1 = 0.424 * (1.0 - dry**1.7) + 0.0694 * math.sqrt(wind) * (1.0 - dry**8)
        kw = k1 * 0.581 * math.exp(0.0365 * temp)
        m = ew - (ew - mo) / 10.0**kw
    else:
        m = mo
    # Eq. 10
    code = 59.5 * (250.0 - m) / (FFMC_COEFFICIENT + m)
    return min(max(code, 0.0), 101.0)


def _dmc_day_length(lat: float, month: int) -> float:
    """Return the DMC effective day length for a latitude band, as cffdrs ``lat.adjust``."""
    if lat > 30.0:
        return DMC_DAY_LENGTH_46N[month - 1]
    if lat > 10.0:
        return DMC_DAY_LENGTH_20N[month - 1]
    if lat > -10.0:
        return DMC_DAY_LENGTH_EQUATOR
    if lat > -30.0:
        return DMC_DAY_LENGTH_20S[month - 1]
    return DMC_DAY_LENGTH_40S[month - 1]


def _dc_day_length(lat: float, month: int) -> float:
    """Return the DC day-length factor for a latitude band, as cffdrs ``lat.adjust``."""
    if lat > 20.0:
        return DC_DAY_LENGTH_NORTH[month - 1]
    if lat > -20.0:
        return DC_DAY_LENGTH_EQUATOR
    return DC_DAY_LENGTH_SOUTH[month - 1]


def dmc(prev: float, temp: float, rh: float, rain: float, lat: float, month: int) -> float:
    """Return today's Duff Moisture Code (>= 0); latitude in degrees north (negative south).

    >>> round(dmc(6.0, temp=17, rh=42, rain=0, lat=40, month=4), 2)
    8.55
    """
    rh = _check_weather(rh, rain)
    _check_month(month)
    t = max(temp, -1.1)
    # Eq. 16: log drying rate.
    rk = 1.894 * (t + 1.1) * (100.0 - rh) * _dmc_day_length(lat, month) * 1e-4
    pr = prev
    if rain > 1.5:
        rw = 0.92 * rain - 1.27  # Eq. 11: effective rain
        wmi = 20.0 + 280.0 / math.exp(0.023 * prev)  # Eq. 12, exact form
        if prev <= 33.0:  # Eqs. 13a-c
            b = 100.0 / (0.5 + 0.3 * prev)
        elif prev <= 65.0:
            b = 14.0 - 1.3 * math.log(prev)
        else:
            b = 6.2 * math.log(prev) - 17.2
        wmr = wmi + 1000.0 * rw / (48.77 + b * rw)  # Eq. 14
        pr = 43.43 * (5.6348 - math.log(wmr - 20.0))  # Eq. 15, exact form
    return max(max(pr, 0.0) + rk, 0.0)


def dc(prev: float, temp: float, rain: float, lat: float, month: int) -> float:
    """Return today's Drought Code (>= 0); latitude in degrees north (negative south).

    >>> round(dc(15.0, temp=17, rain=0, lat=40, month=4), 2)
    19.01
    """
    _check_weather(0.0, rain)
    _check_month(month)
    t = max(temp, -2.8)
    # Eq. 22: potential evapotranspiration, never negative.
    pe = max((0.36 * (t + 2.8) + _dc_day_length(lat, month)) / 2.0, 0.0)
    dr = prev
    if rain > 2.8:
        rw = 0.83 * rain - 1.27  # Eq. 18: effective rain
        smi = 800.0 * math.exp(-prev / 400.0)  # Eq. 19
        dr = max(prev - 400.0 * math.log(1.0 + 3.937 * rw / smi), 0.0)  # Eqs. 20-21
    return max(dr + pe, 0.0)


def isi(ffmc: float, wind: float) -> float:
    """Return the Initial Spread Index from today's FFMC and wind (km/h).

    >>> round(isi(87.65, 25), 2)
    10.78
    """
    fm = FFMC_COEFFICIENT * (101.0 - ffmc) / (59.5 + ffmc)  # Eq. 1
    fw = math.exp(0.05039 * wind)  # Eq. 24
    ff = 91.9 * math.exp(-0.1386 * fm) * (1.0 + fm**5.31 / 4.93e7)  # Eq. 25
    return 0.208 * fw * ff  # Eq. 26


def bui(dmc: float, dc: float) -> float:
    """Return the Buildup Index from today's DMC and DC.

    >>> round(bui(8.545, 19.014), 2)
    8.49
    >>> bui(0.0, 0.0)
    0.0
    """
    if dmc <= 0.0:
        return 0.0
    u = 0.8 * dc * dmc / (dmc + 0.4 * dc)  # Eq. 27a
    if u >= dmc:
        return u
    p = (dmc - u) / dmc
    cc = 0.92 + (0.0114 * dmc) ** 1.7
    return max(dmc - cc * p, 0.0)  # Eq. 27b


def fwi(isi: float, bui: float) -> float:
    """Return the Fire Weather Index from ISI and BUI.

    >>> round(fwi(10.78, 8.49), 2)
    10.04
    """
    if bui > 80.0:  # Eq. 28b
        fd = 1000.0 / (25.0 + 108.64 / math.exp(0.023 * bui))
    else:  # Eq. 28a
        fd = 0.626 * bui**0.809 + 2.0
    b = 0.1 * isi * fd  # Eq. 29
    if b <= 1.0:  # Eq. 30b
        return b
    return math.exp(2.72 * (0.434 * math.log(b)) ** 0.647)  # Eq. 30a


def dsr(fwi: float) -> float:
    """Return the Daily Severity Rating, 0.0272 * FWI ** 1.77.

    >>> round(dsr(10.04), 2)
    1.61
    """
    return 0.0272 * fwi**1.77


def danger_class(fwi: float) -> str:
    """Return the EFFIS fire danger class of an FWI value.

    >>> [danger_class(v) for v in (0, 5.2, 11.19, 21.3, 38.0, 49.9, 50)]
    ['very low', 'low', 'low', 'high', 'very high', 'very high', 'extreme']
    """
    for lower, name in DANGER_CLASSES:
        if fwi >= lower:
            return name
    return "very low"


def daily(
    codes: FWICodes,
    temp: float,
    rh: float,
    wind: float,
    rain24: float,
    lat: float,
    month: int,
) -> tuple[FWICodes, FWIResult]:
    """Advance the codes by one day of noon weather; return the new codes and the day's indices."""
    f = ffmc(codes.ffmc, temp, rh, wind, rain24)
    p = dmc(codes.dmc, temp, rh, rain24, lat, month)
    d = dc(codes.dc, temp, rain24, lat, month)
    i = isi(f, wind)
    u = bui(p, d)
    w = fwi(i, u)
    return FWICodes(f, p, d), FWIResult(f, p, d, i, u, w, dsr(w))
