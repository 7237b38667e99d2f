"""Per-sensor health: streaming detector scores and fault diagnosis on every reading.

``Monitor`` is the logic and ``Health`` the plain state kept in the sensor's state, so
bytewax snapshots it with the windows. The evaluation step calls ``observe`` for each
accepted reading (before rules, so rules and certainty see the current verdict) and ``late``
for each reading refused as late (a clock running hours behind is a fault, not lateness).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from copy import copy
from dataclasses import dataclass, field
from typing import Any

from mypy_extensions import mypyc_attr

from warning.anomaly import faults
from warning.anomaly.corroborate import UNHEARD
from warning.anomaly.detectors import RobustZ
from warning.anomaly.faults import ZERO_REST, ActiveFault, FaultSettings
from warning.anomaly.judge import Judge
from warning.legacy import fields_state, restore_fields
from warning.records import Reading, WarningEvent

#: A fault's evidence: (fault, field, detail, values for the event).
Evidence = tuple[str, str, str, dict[str, float | None]]
#: A spike's reading that fell back: (field, value, median, event time).
FellBack = tuple[str, float, float, int]


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True)
class FieldWatch:
    """Detectors and fault counters of one field of one sensor."""

    robust: RobustZ  # the spike and dropout evidence
    default: Judge  # the default detector (anomaly score and fault signs)
    prev_z: float = 0.0
    pending_spike: float | None = None  # value of a spike candidate awaiting the next one
    zeros: int = 0  # zeros in a row since the field dropped to zero from a non-zero baseline
    #: A rest-state field's burst that no neighbour could judge: the default detector's spike
    #: sign on the next reading decides (rain is bursty; its shape alone proves nothing).
    lone: float | None = None
    spike_ts: int = 0  # event time of the candidate (pending_spike or lone)
    #: The last reading learned was an extreme a neighbour bore out: real, no spike to name.
    real: bool = False
    #: The last reading learned was a jump the default detector may name a spike next, and
    #: no neighbour has borne it out yet (a neighbour's later reading still may).
    jumped: bool = False

    def score(self, x: float, ts: int) -> float:
        """Return the field's anomaly score (the default detector's)."""
        return self.default.score_one(x, ts)

    def learn(self, x: float, ts: int) -> None:
        """Take ``x`` into every detector."""
        self.robust.learn_one(x, ts)
        self.default.learn_one(x, ts)

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        """Restore a snapshot (0.2 pickled this class with a ``__dict__``)."""
        restore_fields(self, state)

    def __deepcopy__(self, memo: dict) -> FieldWatch:
        return FieldWatch(
            self.robust.__deepcopy__(memo),
            self.default.__deepcopy__(memo),
            self.prev_z,
            self.pending_spike,
            self.zeros,
            self.lone,
            self.spike_ts,
            self.real,
            self.jumped,
        )


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(slots=True)
class Health:
    """What is known about one sensor's data quality; plain data for snapshots."""

    fields: dict[str, FieldWatch] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)  # latest score per field
    previous: dict[str, float] | None = None
    run: int = 0  # readings in a row equal to the one before
    longest: int = 0  # the longest such run of the healthy sensor
    seen: int = 0
    changes: float = 0.0  # decayed count of readings that differed from the one before
    weight: float = 0.0  # decayed count of readings compared
    active: dict[str, ActiveFault] = field(default_factory=dict)
    suspect: str | None = None  # why the latest reading is suspect, if it is

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        """Restore a snapshot (0.2 pickled this class with a ``__dict__``)."""
        restore_fields(self, state)

    def __deepcopy__(self, memo: dict) -> Health:
        # bytewax deep-copies state at every snapshot; the generic deepcopy took ~260 us.
        return Health(
            {k: w.__deepcopy__(memo) for k, w in self.fields.items()},
            dict(self.scores),
            None if self.previous is None else dict(self.previous),
            self.run,
            self.longest,
            self.seen,
            self.changes,
            self.weight,
            {k: copy(f) for k, f in self.active.items()},
            self.suspect,
        )

    def has_fault(self, name: str | None = None) -> bool:
        """Return True if a fault (or the named one) is active."""
        return bool(self.active) if name is None else name in self.active


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass(frozen=True)
class Verdict:
    """What one reading told about its sensor: suspect or not (and why), and fault events.

    ``spike`` is the uncorroborated spike candidate that made it suspect, if one did:
    (field, value, median). ``fell_back`` holds the candidates of earlier readings that this
    one showed to be spikes (they came back): (field, value, median, event time) each.
    ``candidate`` says a spike candidate (suspect, or a lone rest-state burst) was made now.
    """

    suspect: str | None
    events: tuple[WarningEvent, ...] = ()
    spike: tuple[str, float, float] | None = None
    fell_back: tuple[FellBack, ...] = ()
    candidate: bool = False

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)


#: Given (field, value, median) of a spike candidate: who corroborates it (or None) and
#: what the neighbours read.
Support = Callable[[str, float, float], tuple[str | None, str]]


_DECAY = 0.995  # about 200 readings of memory for the change rate


class Monitor:
    """Runs the detectors and the fault diagnosis; holds settings only, no sensor state."""

    def __init__(self, settings: FaultSettings | None = None):
        self.settings = settings or FaultSettings()

    def new_watch(self, name: str) -> FieldWatch:
        """Return fresh detectors for a field, floored at its scale.

        The default detector with ``band`` 1: ``anomaly(field)`` keeps ``surprise``'s full scale
        (rules compare it with 0.7 and the like), raised to a fault sign when one is larger.
        """
        floor = faults.scale_of(name)
        return FieldWatch(RobustZ(self.settings.window, floor), Judge(min_scale=floor, band=1.0))

    def observe(
        self, h: Health, r: Reading, attrs: Mapping[str, Any], support: Support | None = None
    ) -> Verdict:
        """Score an accepted reading, diagnose faults, and return the verdict.

        With ``support``, a spike candidate that a neighbour corroborates is a real event:
        learned, not suspect, never named a spike.
        """
        s = self.settings
        evidence: list[Evidence] = []
        suspect: str | None = None
        spike: tuple[str, float, float] | None = None
        unsaid: set[str] = set()  # early-named faults the next reading took back
        fell_back: list[FellBack] = []
        candidate = False
        values = r.values
        all_zero = bool(values) and all(v == 0 for k, v in values.items() if k not in ZERO_REST)
        for name, x in values.items():
            w = h.fields.get(name)
            if w is None:
                w = h.fields[name] = self.new_watch(name)
            score = w.score(x, r.ts)
            h.scores[name] = score
            st = w.robust.stats()
            z = 0.0 if st is None else (x - st[0]) / st[1]  # RobustZ.z, its stats in hand
            if w.pending_spike is not None:
                early = h.active.get("spike")
                if abs(z) < s.spike_z / 2:
                    spiked, back = _spike(name, w.pending_spike, st, w.spike_ts)
                    evidence.append(spiked)
                    fell_back.append(back)
                    if early is not None:
                        early.early = False  # confirmed
                elif early is not None and early.early and early.field == name:
                    unsaid.add("spike")  # named early, but the value lasted: not a spike
                w.pending_spike = None
            sign = w.default.sign(x, r.ts)  # the default detector's fault sign ("" if none)
            if w.lone is not None:
                if sign == "spike":  # the default detector's own verdict
                    spiked, back = _spike(name, w.lone, st, w.spike_ts, ", no neighbour to ask")
                    evidence.append(spiked)
                    fell_back.append(back)
                w.lone = None
            learn, real, jumped = True, False, False
            extreme = st is not None and abs(z) >= s.spike_z and abs(w.prev_z) < s.spike_z / 2
            if sign and name not in ZERO_REST:  # a rest-state field's zeros and repeats are normal
                # a lone no-data code is a spike candidate below (named, and quarantined, when
                # the next reading comes back); a run of them, or one among wild values, is not
                found = (
                    None
                    if extreme and sign == "sentinel"
                    else self._judged(h, w, name, x, sign, values, st)
                )
                if found is not None:
                    evidence.append(found[0])
                    if found[1] is not None:  # a spike: the reading before, back in place
                        fell_back.append(found[1])
                    else:
                        suspect = suspect or f"{name} {found[0][2]}"
                learn = sign != "sentinel"  # a no-data code must not move the baselines
            if learn and "dropout" in h.active:
                lapse = h.active["dropout"]
                if lapse.nodata and lapse.field == name:
                    unsaid.add("dropout")  # the field carries data again
            if extreme and st is not None:
                who, seen = support(name, x, st[0]) if support is not None else (None, "")
                real = who is not None
                if who is None and name in ZERO_REST and seen.startswith(UNHEARD):
                    w.lone, w.spike_ts = x, r.ts  # no neighbour to ask: judged on the next reading
                    candidate = True
                elif who is None:
                    w.pending_spike, w.spike_ts = x, r.ts
                    candidate = True
                    learn = False  # a spike must not move the baselines
                    why = f"{name} {x:g} is a spike candidate (robust z {z:.0f})"
                    if support is not None:
                        why += f", not corroborated by neighbours ({seen})"
                    suspect = suspect or why
                    spike = spike or (name, x, st[0])
            elif st and name not in ZERO_REST and w.default.jumps(x):
                # the default detector's spike candidate, too small for the robust check:
                # a neighbour that bears it out makes it real (not named a spike next reading)
                real = support is not None and support(name, x, st[0])[0] is not None
                jumped = not real
                candidate = candidate or jumped
            if (
                x == 0
                and name not in ZERO_REST
                # a run of zeros goes on, or starts on a window of readings all above zero
                and (w.zeros or (st is not None and st[0] > 0 and min(w.robust.codes) > 0))
            ):
                w.zeros += 1
                learn = False  # keep the baseline of the healthy sensor
                suspect = suspect or f"{name} dropped to zero"
                if st is not None and w.zeros >= (
                    1 if all_zero and len(values) > 1 else s.dropout_min_zeros
                ):
                    evidence.append(
                        (
                            "dropout",
                            name,
                            f"reads 0 against a median of {st[0]:g}",
                            {"baseline": st[0]},
                        )
                    )
            else:
                w.zeros = 0
            if s.suspect_score is not None and score >= s.suspect_score:
                suspect = suspect or f"{name} anomaly score {score:.2f}"
            w.prev_z = z
            if learn:  # what the default detector will judge next is the reading it learned
                w.real, w.jumped = real, jumped
                w.learn(x, r.ts)
        self._stuck(h, values, all_zero, evidence)
        events: list[WarningEvent] = []
        for name, fld, detail, extra in evidence:
            raised = self._evidence(h, name, r, fld, detail, extra, attrs)
            if raised and "no_data" in extra:
                h.active[name].nodata = True
            events.extend(raised)
        events.extend(self._clear(h, r, attrs, {e[0] for e in evidence}, unsaid))
        if suspect is None and h.active:
            suspect = "active fault " + ", ".join(sorted(h.active))
        h.suspect = suspect
        return Verdict(
            suspect,
            tuple(events),
            spike if suspect and spike else None,
            tuple(fell_back),
            candidate,
        )

    def _judged(
        self,
        h: Health,
        w: FieldWatch,
        name: str,
        x: float,
        sign: str,
        values: Mapping[str, float],
        st: tuple[float, float] | None,
    ) -> tuple[Evidence, FellBack | None] | None:
        """Return the fault the default detector's sign names on a field not at rest, if any.

        For a spike also what fell back: the reading before, whose time the judge holds.
        ``sentinel`` (a logger's no-data code) is a dropout; the sign ``dropout`` names nothing
        (a first zero is clean air, a frost, a slope at rest: the Monitor's own zero check
        judges zeros); ``stuck`` only for a run, of a sensor whose readings change in
        ``stuck_min_change`` of reports, and only when every field not at rest repeats (a
        humidity held at 100 % while the temperature moves is no fault; a held value let go
        with a jump is a flood's onset as often as a fault); ``spike`` (named on the reading
        after it, as the robust check's) unless a neighbour bore that reading out. ``drift`` is
        left to the neighbours' comparison (warning/anomaly/neighbours.py). A robust spike candidate is not learned, so the
        default detector never sees it: the two spike checks never name one spike twice.
        """
        s = self.settings
        if sign == "sentinel":
            shown = x if math.isfinite(x) else None
            return ("dropout", name, f"reads {x:g}, a no-data code", {"no_data": shown}), None
        if sign == "stuck":
            if h.seen < s.stuck_min_seen or h.changes < s.stuck_min_change * h.weight:
                return None
            j = w.default
            if x != j.prev:  # a held value let go with a jump: a flood's onset looks so too
                return None
            if j.step == 0:  # a field that never changed (a gas cell's constant offset in
                return None  # clean air) has no healthy variation to be stuck against
            if h.previous != {k: v for k, v in values.items() if k not in ZERO_REST}:
                return None
            return (
                "stuck",
                name,
                f"{x:g} repeated {j.run + 1} times",
                {"repeats": j.run + 1.0},
            ), None
        if sign == "spike" and not w.real:
            return _spike(name, w.default.prev, st, w.default.last_ts)
        return None

    def name_spike(
        self,
        h: Health,
        r: Reading,
        spike: tuple[str, float, float],
        why: str,
        attrs: Mapping[str, Any],
    ) -> list[WarningEvent]:
        """Raise the spike fault of an uncorroborated candidate now, with its warning."""
        name, x, median = spike
        out = self._evidence(
            h,
            "spike",
            r,
            name,
            f"{x:g} against readings near {median:g}, not yet confirmed: {why}",
            {"spike_value": x},
            attrs,
        )
        if out:
            h.active["spike"].early = True
        return out

    def forgive_spike(self, h: Health, name: str) -> None:
        """Drop a spike candidate (lone burst, jump) that a neighbour has since corroborated."""
        w = h.fields.get(name)
        if w is not None:
            w.pending_spike = w.lone = None
            if w.jumped:
                w.real, w.jumped = True, False

    def late(self, h: Health, r: Reading, watermark: int, attrs: Mapping[str, Any]) -> Verdict:
        """Diagnose a reading refused as late: hours behind its own sensor is clock skew."""
        behind = watermark - r.ts
        if behind < self.settings.skew_ms:
            return Verdict(None)
        hours = behind / 3_600_000
        at = Reading(r.sensor_id, r.kind, r.region, watermark, r.values, r.seq, r.received_at)
        events = self._evidence(
            h,
            "clock_skew",
            at,
            "ts",
            f"stamped {hours:.1f} h behind the sensor's own latest reading",
            {"skew_h": round(-hours, 3)},
            attrs,
        )
        return Verdict("clock_skew", tuple(events))

    def _stuck(
        self, h: Health, values: Mapping[str, float], all_zero: bool, evidence: list
    ) -> None:
        s = self.settings
        prev, h.previous = h.previous, {k: v for k, v in values.items() if k not in ZERO_REST}
        if not h.previous:
            return
        if prev is None:
            return
        changed = prev != h.previous
        if changed and "stuck" not in h.active:
            h.longest = max(h.longest, h.run)
        h.run = 0 if changed else h.run + 1
        if h.run < s.stuck_min_run:  # the rate is learned from healthy stretches only
            h.changes = h.changes * _DECAY + changed
            h.weight = h.weight * _DECAY + 1
            h.seen += 1
        if changed or all_zero or h.seen < s.stuck_min_seen:
            return  # zeros are a rest state (dry gauge, clean air); dropout covers them
        rate = h.changes / h.weight
        needed = s.stuck_run(rate, h.longest)
        if h.run >= needed:
            shown = ", ".join(f"{k} {v:g}" for k, v in h.previous.items())
            evidence.append(
                (
                    "stuck",
                    ",".join(h.previous),
                    f"{shown} repeated {h.run} times (changes {rate:.0%} of readings)",
                    {"repeats": float(h.run), "change_rate": round(rate, 4)},
                )
            )

    def _evidence(
        self,
        h: Health,
        name: str,
        r: Reading,
        fld: str,
        detail: str,
        extra: Mapping[str, float | None],
        attrs: Mapping[str, Any],
    ) -> list[WarningEvent]:
        found = h.active.get(name)
        if found is not None:
            found.last = max(found.last, r.ts)
            return []
        fault, event = faults.raised(
            name, r.sensor_id, r.region, r.ts, fld, detail, extra, attrs, r.received_at
        )
        h.active[name] = fault
        return [event]

    def _clear(
        self,
        h: Health,
        r: Reading,
        attrs: Mapping[str, Any],
        fresh: set[str],
        unsaid: frozenset[str] | set[str] = frozenset(),
    ) -> list[WarningEvent]:
        out = []
        for name in sorted(h.active):
            if name in fresh:
                continue
            fault = h.active[name]
            if name in unsaid or r.ts - fault.last >= self.settings.clear_after_ms:
                del h.active[name]
                out.append(
                    faults.cleared(name, fault, r.sensor_id, r.region, r.ts, attrs, r.received_at)
                )
        return out


def _spike(
    name: str, value: float, st: tuple[float, float] | None, ts: int, note: str = ""
) -> tuple[Evidence, FellBack]:
    """Return a spike's evidence and what fell back: ``value`` at ``ts``, the median ``st[0]``."""
    median = st[0] if st else 0.0
    detail = f"{value:g} between readings near {median:g}{note}"
    return ("spike", name, detail, {"spike_value": value}), (name, value, median, ts)
