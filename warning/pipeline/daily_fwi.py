"""Daily indicators carried in a weather station's state: the Canadian FWI System.

Computed once per local day from the reading nearest 12:00 local standard time (the first one
at or after noon, or the last one before it if that is nearer, within 3 h), with the rain of
the 24 h before that reading; the codes carry over from day to day in the sensor's state, so
they survive restarts with the rest of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from warning.indicators.fwi import FWICodes, daily
from warning.records import IndicatorRecord, Reading
from warning.rules.functions import danger_index
from warning.rules.windows import Series

NOON_TOLERANCE_MS = 3 * 3_600_000
DAY_MS = 86_400_000


@dataclass
class DailyFWI:
    """FWI state of one station: codes, the last day computed, a pre-noon candidate."""

    codes: FWICodes = field(default_factory=FWICodes)
    day: int | None = None
    pre_noon: tuple[int, int, float, float, float] | None = None  # day, ts, temp, rh, wind
    latest: dict[str, float] | None = None


def fwi_step(
    st: DailyFWI, r: Reading, rain: Series | None, attrs: Mapping[str, Any], tz: tzinfo
) -> IndicatorRecord | None:
    """Advance a station's FWI with one reading; return the day's record once computed."""
    temp, rh, wind = r.values.get("temp_c"), r.values.get("rh_pct"), r.values.get("wind_kmh")
    lat = attrs.get("lat")
    if temp is None or rh is None or wind is None or not isinstance(lat, int | float):
        return None
    local = datetime.fromtimestamp(r.ts / 1000, tz)
    day = local.toordinal()
    if st.day is not None and day <= st.day:
        return None
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    noon_ms = round(noon.timestamp() * 1000)
    if r.ts < noon_ms:
        st.pre_noon = (day, r.ts, temp, rh, wind)
        return None
    obs = (r.ts, temp, rh, wind)
    if (
        st.pre_noon is not None
        and st.pre_noon[0] == day
        and noon_ms - st.pre_noon[1] < r.ts - noon_ms
    ):
        obs = st.pre_noon[1:]
    st.day = day
    if abs(obs[0] - noon_ms) > NOON_TOLERANCE_MS:
        return None  # no reading near noon today: the codes wait for tomorrow
    rain24 = rain.aggregate("sum", DAY_MS, obs[0]) if rain is not None else 0.0
    codes, res = daily(st.codes, obs[1], obs[2], obs[3], rain24 or 0.0, float(lat), local.month)
    st.codes = codes
    st.latest = {
        "ffmc": res.ffmc,
        "dmc": res.dmc,
        "dc": res.dc,
        "isi": res.isi,
        "bui": res.bui,
        "fwi": res.fwi,
        "dsr": res.dsr,
    }
    values: dict[str, float | None] = {k: round(v, 4) for k, v in st.latest.items()}
    values["danger_class"] = float(danger_index(res.fwi))
    values["rain_24h_mm"] = rain24
    return IndicatorRecord(r.sensor_id, r.kind, r.region, obs[0], "fwi", values)
