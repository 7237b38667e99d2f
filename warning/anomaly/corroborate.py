"""Certainty by corroboration: an extreme reading is suspect only if its neighbours disagree.

A sensor's neighbours are the registered sensors of its kind in its region (at most
``MAX_PEERS``, nearest first when positions are known) and the sensors named in its registry
entry under ``linked`` (physically linked: an upstream gauge, the reservoir's inflow). Each
reading is also delivered, as a ``Peer`` item, to the keyed state of every sensor it can
corroborate, so a sensor's step sees its neighbours' readings in source order, like its own.

A spike candidate (``warning/anomaly/health.py``) is **corroborated** when a neighbour's reading
within ``corroborate_ms`` (event time) moved the same way: for a neighbour of the same field, by
at least ``corroborate_share`` of the candidate's departure from its median (from zero for a
rest-state field such as rain, else from the neighbour's previous reading); for a linked
sensor of another kind, by ``spike_z / 2`` field scales on any field. A corroborated extreme is
a real event: it is learned, no spike is named, and warnings made on it stay ``Observed``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr

from warning.anomaly.faults import ZERO_REST, FaultSettings, scale_of
from warning.legacy import fields_state, restore_fields
from warning.records import Reading, WarningEvent

MAX_PEERS = 8
#: ``Held.before`` of a warning held before the episode was kept with it.
NOT_KEPT = "not kept"
#: How ``support`` says that no neighbour could be asked (none read within the time).
UNHEARD = "no neighbour reading within"


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(frozen=True)
class Peer:
    """A neighbour's reading delivered to the keyed state of a sensor it may corroborate."""

    sensor_id: str  # the receiving sensor (the key)
    reading: Reading

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass
class PeerSeen:
    """The latest reading of one neighbour, and its values before that."""

    ts: int
    kind: str
    values: dict[str, float]
    before: dict[str, float] = field(default_factory=dict)

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass
class Held:
    """A warning event awaiting confirmation: held one report interval, or routed as Possible."""

    event: WarningEvent
    why: str
    field: str
    value: float
    median: float
    ts: int
    deadline: int
    kind: str
    #: Sent at once as Possible ("route"), not held: a neighbour's or the next reading's
    #: confirmation then goes out as a ``confirmed`` event.
    routed: bool = False
    #: The warning's lifecycle episode before this event ("wait"): restored if it is withheld
    #: (None: there was none; ``NOT_KEPT``: held by a release that did not keep it).
    before: Any = NOT_KEPT

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


def peer_map(sensors: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Map each sensor to the sensors whose readings its own readings can corroborate.

    >>> reg = {"a": {"kind": "rainfall", "region": "r"}, "b": {"kind": "rainfall", "region": "r"},
    ...        "c": {"kind": "water_level", "region": "r", "linked": ["a"]}}
    >>> peer_map(reg)
    {'a': ('b', 'c'), 'b': ('a',)}
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for sid, attrs in sensors.items():
        groups.setdefault((str(attrs.get("kind")), str(attrs.get("region"))), []).append(sid)
    out: dict[str, list[str]] = {}
    for members in groups.values():
        for receiver in members:
            here = sensors[receiver]
            others = sorted(
                (m for m in members if m != receiver),
                key=lambda m: (_distance(here, sensors[m]), m),
            )
            for sender in others[:MAX_PEERS]:
                out.setdefault(sender, []).append(receiver)
    for receiver, attrs in sensors.items():
        for sender in attrs.get("linked") or ():
            if sender != receiver and receiver not in out.get(str(sender), []):
                out.setdefault(str(sender), []).append(receiver)
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}


def _distance(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    try:
        return math.hypot(float(a["lat"]) - float(b["lat"]), float(a["lon"]) - float(b["lon"]))
    except (KeyError, TypeError, ValueError):
        return math.inf


def remember(peers: dict[str, PeerSeen], r: Reading) -> None:
    """Keep a neighbour's latest reading (and the values before it) in the receiver's state.

    Values dicts are shared with the reading, never changed in place: one is replaced by the next.
    """
    seen = peers.get(r.sensor_id)
    if seen is None:
        peers[r.sensor_id] = PeerSeen(r.ts, r.kind, r.values, {})
    elif r.ts > seen.ts:
        seen.ts, seen.kind, seen.values, seen.before = r.ts, r.kind, r.values, seen.values
    elif r.ts == seen.ts:  # the same reading again (redelivered): keep what came before
        seen.kind, seen.values = r.kind, r.values
    # an older reading arriving late says nothing newer


def support(
    peers: Mapping[str, PeerSeen],
    kind: str,
    name: str,
    x: float,
    median: float,
    ts: int,
    s: FaultSettings,
) -> tuple[str | None, str]:
    """Return (who corroborates, what the neighbours read) for a spike candidate of ``name``.

    >>> s = FaultSettings()
    >>> peers = {"b": PeerSeen(0, "rainfall", {"rain_mm": 18.0}, {"rain_mm": 1.0})}
    >>> support(peers, "rainfall", "rain_mm", 27.7, 0.0, 0, s)
    ('b rain_mm 18', 'b rain_mm 18')
    >>> support({"b": PeerSeen(0, "rainfall", {"rain_mm": 0.0})}, "rainfall", "rain_mm", 60.0,
    ...         0.0, 0, s)
    (None, 'b rain_mm 0')
    """
    departure = x - median
    seen: list[str] = []
    for sid in sorted(peers):
        p = peers[sid]
        if abs(p.ts - ts) > s.corroborate_ms:
            continue
        if p.kind == kind and name in p.values:
            v = p.values[name]
            seen.append(f"{sid} {name} {v:g}")
            base = 0.0 if name in ZERO_REST else p.before.get(name, median)
            moved = v - base
            if moved * departure > 0 and abs(moved) >= s.corroborate_share * abs(departure):
                return seen[-1], ", ".join(seen)
        elif p.kind != kind:
            for f, v in sorted(p.values.items()):
                moved = v - (0.0 if f in ZERO_REST else p.before.get(f, v))
                if moved * departure > 0 and abs(moved) >= s.spike_z / 2 * scale_of(f):
                    return f"{sid} {f} {v:g} (linked)", f"{sid} {f} {v:g}"
    return None, ", ".join(seen) if seen else f"{UNHEARD} {s.corroborate_ms // 60_000} min"
