"""Drift against neighbours: sensors of one kind in one region should move together.

Each sensor's change is its value minus its own slow baseline (an EWMA). A sensor drifts when
its change departs from the median change of its neighbours by ``drift_k`` field scales for
``drift_hold`` readings in a row while every neighbour held still: with two sensors, the one
that moved is the suspect, not both. Heavy rain anywhere in the network (``WET_MM`` in a day
at one gauge) suspends the comparison for a day: levels then answer to their own catchments.
The flow runs one such step for the whole network (one key) and it sees readings in source
order.

Limits: the neighbours' latest values are those that arrived before (as in silence watch, the
same input order gives the same result, live or backtest); readings refused later as late
still count here; a real local change (one catchment rising while the lake holds) looks like
drift.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from mypy_extensions import mypyc_attr

from warning.anomaly import faults
from warning.anomaly.faults import DRIFT_FIELDS, ActiveFault, FaultSettings
from warning.legacy import fields_state, restore_fields
from warning.records import Reading, WarningEvent

H = 3_600_000
#: A neighbour whose latest reading is older than this is not compared.
FRESH_MS = H
#: Readings a sensor needs before its baseline is trusted.
WARMUP = 24
#: Wet spell: ``WET_GAUGES`` gauges of the network had ``WET_MM`` each in the last ``WET_MS``
#: (two, so that one gauge's spike does not suspend drift for the whole network).
WET_MM = 5.0
WET_GAUGES = 2
WET_MS = 24 * H
WET_RECOUNT_MS = 300_000


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass
class Peer:
    """One sensor as its region sees it: latest values, slow baselines, drift counters."""

    group: str = ""  # region/kind
    ts: int = 0
    change: dict[str, float] = field(default_factory=dict)  # value - baseline, per field
    baseline: dict[str, float] = field(default_factory=dict)
    n: int = 0
    held: dict[str, int] = field(default_factory=dict)  # readings in a row beyond the limit
    active: ActiveFault | None = None

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass
class Gauge:
    """One rain gauge's wet reports of the last ``WET_MS``, with their running sum."""

    rain: deque[tuple[int, float]] = field(default_factory=deque)
    total: float = 0.0

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)

    def add(self, ts: int, mm: float) -> float:
        """Add a report (0 to only move on) and return the rain of the ``WET_MS`` to ``ts``."""
        if mm > 0:
            self.rain.append((ts, mm))
            self.total += mm
        while self.rain and self.rain[0][0] <= ts - WET_MS:
            self.total -= self.rain.popleft()[1]
        return self.total


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass
class RegionState:
    """The compared sensors of a network (grouped by region and kind), and its wet spells."""

    peers: dict[str, Peer] = field(default_factory=dict)
    gauges: dict[str, Gauge] = field(default_factory=dict)
    wet_until: int = 0
    counted_at: int = -(2**62)  # event time of the last count of wet gauges

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


def region_key(r: Reading) -> str:
    """Key a reading by region and kind: ``"wuxing/reservoir"``."""
    return f"{r.region}/{r.kind}"


def has_drift_field(r: Reading) -> bool:
    """Return True if the reading has a field compared for drift."""
    return not DRIFT_FIELDS.isdisjoint(r.values)


def is_wet(r: Reading) -> bool:
    """Return True for a report of rain (it may start a wet spell)."""
    return r.values.get("rain_mm", 0.0) > 0


class Neighbours:
    """The drift diagnosis; settings and registry only, state lives in ``RegionState``."""

    def __init__(
        self, settings: FaultSettings, attrs_for: Callable[[str, str, str], Mapping[str, Any]]
    ):
        self.settings = settings
        self.attrs_for = attrs_for

    def rain(self, state: RegionState, r: Reading) -> None:
        """Take a rain report: rain at several gauges suspends drift for ``WET_MS``."""
        g = state.gauges.get(r.sensor_id)
        if g is None:
            g = state.gauges[r.sensor_id] = Gauge()
        if (
            g.add(r.ts, r.values.get("rain_mm", 0.0)) < WET_MM
            or r.ts - state.counted_at < WET_RECOUNT_MS
        ):
            return
        state.counted_at = r.ts  # a count visits every gauge: at most once per 5 min
        wet = sum(1 for other in state.gauges.values() if other.add(r.ts, 0.0) >= WET_MM)
        if wet >= WET_GAUGES:
            state.wet_until = max(state.wet_until, r.ts + WET_MS)

    def observe(self, state: RegionState, r: Reading) -> list[WarningEvent]:
        """Take one reading into its region and return drift events of its sensor."""
        s = self.settings
        if is_wet(r):
            self.rain(state, r)
        if not has_drift_field(r):
            return []
        wet = r.ts < state.wet_until
        me = state.peers.get(r.sensor_id)
        if me is None:
            me = state.peers[r.sensor_id] = Peer(region_key(r))
        if r.ts <= me.ts:
            return []  # a duplicate, or reordered: the baselines only move forward
        me.ts = r.ts
        me.n += 1
        evidence: tuple[str, dict[str, float | None]] | None = None
        for name in sorted(DRIFT_FIELDS.intersection(r.values)):
            x = r.values[name]
            base = me.baseline.get(name)
            if base is None:
                me.baseline[name], me.change[name] = x, 0.0
                continue
            change = me.change[name] = x - base
            others = [
                p.change[name]
                for sid, p in state.peers.items()
                if p.group == me.group
                and sid != r.sensor_id
                and p.n >= WARMUP
                and name in p.change
                and r.ts - p.ts <= FRESH_MS
            ]
            limit = s.drift_k * faults.scale_of(name)
            off = 0.0
            if others and me.n >= WARMUP and not wet:
                off = change - median(others)
            beyond = abs(off) >= limit and all(abs(c) < limit / 2 for c in others)
            me.held[name] = me.held.get(name, 0) + 1 if beyond else 0
            if not beyond:  # the baseline follows a healthy sensor only
                a = max(s.drift_alpha, 1 / me.n)
                me.baseline[name] = base + a * (x - base)
            if me.held[name] >= s.drift_hold and evidence is None:
                evidence = (
                    f"{name} moved {change:+.3g} against its neighbours' "
                    f"{median(others):+.3g} for {me.held[name]} readings",
                    {"offset": round(off, 6), "neighbours": float(len(others))},
                )
                fld = name
        attrs = self.attrs_for(r.sensor_id, r.kind, r.region)
        if evidence is not None:
            if me.active is None:
                me.active, event = faults.raised(
                    "drift",
                    r.sensor_id,
                    r.region,
                    r.ts,
                    fld,
                    evidence[0],
                    evidence[1],
                    attrs,
                    r.received_at,
                )
                return [event]
            me.active.last = r.ts
            return []
        if me.active is not None and r.ts - me.active.last >= s.clear_after_ms:
            done, me.active = me.active, None
            return [
                faults.cleared("drift", done, r.sensor_id, r.region, r.ts, attrs, r.received_at)
            ]
        return []
