"""Nowcast features, computed the same way offline (training) and online (the flow).

For a water-level station at the time of one of its readings: its level (the base the predicted
change is added to, not a model input: a station's base level moves between seasons), its rise
over the last 1 h and 3 h and its height above its lowest level of the last 24 h, the same rise
and height of each upstream station, and the mean rain of its basin's gauges over the last 1, 3,
6, 12 and 24 h. Upstream stations and gauges are the registry's
``upstream`` and ``rain_gauges`` links. Values are taken "as of" a time: the latest reading at or
before it, within ``STALE_MS``; a feature that cannot be computed makes no row.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

H = 3_600_000
#: A reading older than this is no value "as of" a time.
STALE_MS = H
RAIN_WINDOWS_H = (1, 3, 6, 12, 24)
#: Raise when the feature definitions change; models of another version are refused.
FEATURE_VERSION = 2
#: How much history the online state keeps.
KEEP_MS = 25 * H


@dataclass(frozen=True)
class Station:
    """A water-level station a nowcast can be made for, and the sensors it reads."""

    sensor_id: str
    upstream: tuple[str, ...]
    rain_gauges: tuple[str, ...]

    @property
    def feature_names(self) -> list[str]:
        """The names of its features, in order."""
        names = ["level", "rise_1h", "rise_3h", "above_min_24h"]
        for u in self.upstream:
            names += [f"up:{u}:rise_1h", f"up:{u}:above_min_24h"]
        if self.rain_gauges:
            names += [f"rain_{w}h" for w in RAIN_WINDOWS_H]
        return names

    @property
    def sensors(self) -> tuple[str, ...]:
        """Every sensor whose readings its features need."""
        return (self.sensor_id, *self.upstream, *self.rain_gauges)


LEVEL_KINDS = ("reservoir", "river")


def stations(registry: Mapping[str, Mapping[str, Any]]) -> dict[str, Station]:
    """The water-level stations of a registry (``sensors`` mapping), with their links."""
    out = {}
    for sid, attrs in registry.items():
        if attrs.get("kind") in LEVEL_KINDS:
            out[sid] = Station(
                sid, tuple(attrs.get("upstream") or ()), tuple(attrs.get("rain_gauges") or ())
            )
    return out


@dataclass
class History:
    """Per sensor, increasing times and values (levels as read, rain as a running total)."""

    ts: dict[str, list[int]] = field(default_factory=dict)
    vals: dict[str, list[float]] = field(default_factory=dict)

    def add(self, sensor_id: str, ts: int, value: float, cumulative: bool) -> None:
        """Append a reading (ignored unless newer than the sensor's last)."""
        times = self.ts.setdefault(sensor_id, [])
        vals = self.vals.setdefault(sensor_id, [])
        if times and ts <= times[-1]:
            return
        times.append(ts)
        vals.append(vals[-1] + value if cumulative and vals else value)

    def trim(self, before: int) -> None:
        """Forget readings older than ``before`` (keeping one, for "as of" lookups)."""
        for sid, times in self.ts.items():
            cut = bisect_right(times, before) - 1
            if cut > 0:
                del times[:cut]
                del self.vals[sid][:cut]

    def low(self, sensor_id: str, start: int, end: int) -> float | None:
        """The lowest value read in ``[start, end]`` (None if none)."""
        times = self.ts.get(sensor_id) or []
        i, j = bisect_right(times, start - 1), bisect_right(times, end)
        return min(self.vals[sensor_id][i:j]) if j > i else None

    def asof(self, sensor_id: str, t: int, stale_ms: int = STALE_MS) -> float | None:
        """The value of the latest reading at or before ``t`` (None if none or too old)."""
        times = self.ts.get(sensor_id)
        if not times:
            return None
        i = bisect_right(times, t) - 1
        if i < 0 or t - times[i] > stale_ms:
            return None
        return self.vals[sensor_id][i]


def features_at(h: History, st: Station, t: int) -> list[float] | None:
    """The station's feature row at ``t``, or None when one is missing."""
    level, l1, l3 = (
        h.asof(st.sensor_id, t),
        h.asof(st.sensor_id, t - H),
        h.asof(st.sensor_id, t - 3 * H),
    )
    low = h.low(st.sensor_id, t - 24 * H, t)
    if level is None or l1 is None or l3 is None or low is None:
        return None
    row = [level, level - l1, level - l3, level - low]
    for u in st.upstream:
        now, before, ulow = h.asof(u, t), h.asof(u, t - H), h.low(u, t - 24 * H, t)
        if now is None or before is None or ulow is None:
            return None
        row += [now - before, now - ulow]
    if st.rain_gauges:
        sums = []
        for w in RAIN_WINDOWS_H:
            per_gauge = []
            for g in st.rain_gauges:
                # A gauge's running total (0 before its first report) at both ends.
                now, before = h.asof(g, t, 2 * H), h.asof(g, t - w * H, KEEP_MS * 1000)
                if now is None:
                    return None
                per_gauge.append(now - (before or 0.0))
            sums.append(sum(per_gauge) / len(per_gauge))
        row += sums
    return row


def history_of(readings: Sequence[Mapping[str, Any]]) -> History:
    """Build a history from wire readings ``{sensor_id, ts (ms), values}`` in any order."""
    h = History()
    for r in sorted(readings, key=lambda r: (r["sensor_id"], r["ts"])):
        v = r["values"]
        if "level_m" in v:
            h.add(r["sensor_id"], r["ts"], float(v["level_m"]), cumulative=False)
        elif "rain_mm" in v:
            h.add(r["sensor_id"], r["ts"], float(v["rain_mm"]), cumulative=True)
    return h
