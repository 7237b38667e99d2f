"""The default detector: ``surprise``'s anomaly score and a data-quality judge in one pass.

Two bands in one score. Below 0.5 the world is unusual: ``surprise``'s score (context
surprise, its likelihood, range novelty) times ``band`` (0.49). From 0.5 the reading shows a
fault sign. Each check measures against the series' own history, so it stays silent on clean
data (NAB, docs/QUALITY.md):

- **sentinel** (1.0): a non-finite value, or a logger's no-data code (-9999, ...) outside the
  range seen (a count of 9999 inside it is a value); never learned;
- **range** (0.8): outside ``low .. high``, only when given;
- **dropout** (0.7): the first value at or below 0 of a series that never was; with event times
  and ``gap_margin`` set, a reading after a gap ``gap_margin`` times the longest seen;
- **stuck** (0.6): a run of equal values ``stuck_margin`` times longer than the longest run seen
  (and at least ``stuck_min``); or (0.55) a value held for ``held`` repeats let go with a jump
  of more than ``held_k`` typical steps and more than any such release before;
- **spike** (0.5 up to 0.75): a step of more than ``spike_k`` typical steps (an EWMA of the
  absolute step) that comes back within half of it on the next reading, named on that reading,
  and ``spike_rare`` times larger than any spike the series showed before;
- **drift** (0.55): a fast EWMA departing from a slow one by ``drift_margin`` times the largest
  excursion that came back (crossed zero), on one side for ``drift_hold`` readings, after
  ``drift_warm``; named once per excursion.

A fault sign starts ``surprise``'s rest and the judge's (``fault_rest``): one event, one
alarm. State: ``surprise``'s and about 20 numbers, ~3.1 KiB pickled.
"""

from __future__ import annotations

import math
from typing import ClassVar

from mypy_extensions import mypyc_attr

from warning.anomaly.params import JudgeParams, Params, shared
from warning.anomaly.quality import SENTINELS
from warning.anomaly.surprise import Surprise

_JSTATE = (
    "prev",
    "step",
    "pend",
    "before",
    "spikes",
    "run",
    "longest",
    "nonpos",
    "last_ts",
    "gap",
    "fast",
    "slow",
    "dmax",
    "side",
    "hold",
    "flast",
    "hmax",
    "cur",
    "dsign",
    "drifted",
)


@mypyc_attr(allow_interpreted_subclasses=True)
class Judge(Surprise):
    """``surprise`` below 0.5, data-quality fault signs (range, stuck, spike, dropout, drift) above."""

    name = "judge"
    __slots__ = (*_JSTATE, "_signs")
    _params: ClassVar[type[Params]] = JudgeParams

    def __init__(
        self,
        spike_k: float = 12.0,
        spike_rare: float = 1.5,
        stuck_min: int = 30,
        stuck_margin: float = 4.0,
        gap_margin: float = math.inf,
        drift_fast: float = 0.05,
        drift_slow: float = 0.0005,
        drift_margin: float = 6.0,
        drift_hold: int = 192,
        drift_warm: int = 2000,
        low: float = -math.inf,
        high: float = math.inf,
        band: float = 0.49,
        fault_rest: int = 75,
        held: int = 2,
        held_k: float = 6.0,
        held_rare: float = 1.0,
        **surprise: float,
    ):
        # Not super(): compiled, it would pass the dict as one argument (mypyc 2.4).
        Surprise.__init__(self, **surprise)  # type: ignore[arg-type]
        self.p = shared(
            JudgeParams,
            {
                **self.p.values(),
                "spike_k": spike_k,
                "spike_rare": spike_rare,
                "stuck_min": stuck_min,
                "stuck_margin": stuck_margin,
                "gap_margin": gap_margin,
                "drift_fast": drift_fast,
                "drift_slow": drift_slow,
                "drift_margin": drift_margin,
                "drift_hold": drift_hold,
                "drift_warm": drift_warm,
                "low": low,
                "high": high,
                "band": band,
                "fault_rest": fault_rest,
                "held": held,
                "held_k": held_k,
                "held_rare": held_rare,
            },
        )
        self.hmax = 0.0
        self.prev = self.step = self.pend = self.before = self.spikes = 0.0
        self.run = self.longest = 0
        self.nonpos = False
        self.last_ts = self.gap = 0
        self.fast = self.slow = self.dmax = 0.0
        self.side = self.hold = self.dsign = 0
        self.cur = 0.0
        self.drifted = False  # this excursion was named a drift already
        self.flast = -(1 << 30)
        self._signs: tuple | None = None

    def __getstate__(self) -> dict:
        out = super().__getstate__()
        out.update({k: getattr(self, k) for k in _JSTATE})
        return out

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)  # the parameters too (``_params``)
        for k in _JSTATE:
            setattr(self, k, state[k])
        self._signs = None

    def __deepcopy__(self, memo: dict) -> Judge:
        out = super().__deepcopy__(memo)
        assert isinstance(out, Judge)
        for k in _JSTATE:
            setattr(out, k, getattr(self, k))
        out._signs = None
        return out

    def checks(self, x: float, ts: int = 0) -> dict[str, float]:
        """Return the strongest fault sign of ``x`` as {check: score}, or {}; nothing is learned."""
        score, check = self._fault(float(x), ts)
        return {check: score} if check else {}

    def sign(self, x: float, ts: int = 0) -> str:
        """Return the fault sign the last ``score_one(x, ts)`` found ("" if none)."""
        c = self._signs
        if c and c[0] == float(x) and c[1] == self.n and c[2] == ts:
            return str(c[4])
        return self._fault(float(x), ts)[1]

    def jumps(self, x: float) -> bool:
        """Return True if learning ``x`` would make it a spike candidate.

        A step of more than ``spike_k`` typical steps; a spike if the next reading comes back.
        """
        return (
            self.n >= 50
            and self.step > 0
            and not self.pend
            and abs(float(x) - self.prev) > self.p.spike_k * self._typical()
        )

    def _typical(self) -> float:
        """Return the typical step, floored at ``min_scale`` (a field's resolution)."""
        return max(self.step, self.p.min_scale)

    def _stuck(self, x: float) -> bool:
        return x == self.prev and self.run + 1 >= max(
            self.p.stuck_min, self.p.stuck_margin * self.longest
        )

    def _fault(self, x: float, ts: int) -> tuple[float, str]:
        cfg = self.p
        if x != x or abs(x) == math.inf or (x in SENTINELS and not self.lo <= x <= self.hi):
            return 1.0, "sentinel"
        if not cfg.low <= x <= cfg.high:
            return 0.8, "range"
        n = self.n
        if n < 50:
            return 0.0, ""
        if (x <= 0 and not self.nonpos) or (
            ts and self.gap and ts - self.last_ts > cfg.gap_margin * self.gap
        ):
            return 0.7, "dropout"
        score, check = 0.0, ""
        pend = self.pend
        if pend and abs(x - self.before) < 0.5 * pend and pend > cfg.spike_rare * self.spikes:
            score = 0.5 + 0.25 * min(pend / (self._typical() * cfg.spike_k) - 1.0, 1.0)
            check = "spike"
        if self._stuck(x):
            return max(score, 0.6), "stuck"
        if self.run >= cfg.held and abs(x - self.prev) > max(
            cfg.held_k * self._typical(), cfg.held_rare * self.hmax
        ):
            return max(score, 0.55), "stuck"  # a held value let go with a jump
        if n >= cfg.drift_warm and self.hold + 1 >= cfg.drift_hold and not (check or self.drifted):
            side = self._side(self.fast + cfg.drift_fast * (x - self.fast) - self.slow)
            if side and side == self.side:
                return 0.55, "drift"
        return score, check

    def _side(self, d: float) -> int:
        if self.dmax <= 0 or abs(d) <= self.p.drift_margin * self.dmax:
            return 0
        return 1 if d > 0 else -1

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return ``surprise``'s score times ``band``, or the strongest fault sign if larger."""
        x = float(x)
        fault, check = self._fault(x, ts)
        self._signs = (x, self.n, ts, fault, check)
        if fault == 1.0:
            return 1.0
        step = self._step(x)
        self._cache = (x, self.n, step)
        if self.n - self.flast < self.p.fault_rest:
            fault = 0.0
        return max(fault, self.p.band * step[0])

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Take ``x`` into ``surprise`` and the judge's history (no-data codes are skipped)."""
        cfg = self.p
        x = float(x)
        c = self._signs
        fault, check = (
            c[3:] if c and c[0] == x and c[1] == self.n and c[2] == ts else self._fault(x, ts)
        )
        self._signs = None
        if fault == 1.0:
            return
        n = self.n
        stuck = x == self.prev and self._stuck(x)
        if fault and n - self.flast >= cfg.fault_rest:
            self.flast = n
            self.last = n  # surprise rests too: one event, one alarm
        super().learn_one(x, ts)
        if n == 0:
            self.prev = self.fast = self.slow = x
            self.nonpos = x <= 0
            self.last_ts = ts
            return
        # spikes: a big step is a candidate; the next reading tells if it came back
        dx = abs(x - self.prev)
        if self.run >= cfg.held and dx > cfg.held_k * self._typical():
            self.hmax = max(self.hmax, dx)
        if self.pend:
            if abs(x - self.before) < 0.5 * self.pend:
                self.spikes = max(self.spikes, self.pend)
            self.pend = 0.0
        elif n >= 50 and self.step > 0 and dx > cfg.spike_k * self._typical():
            self.pend, self.before = dx, self.prev
        if not self.pend:
            self.step += (0.02 if n >= 50 else 1.0 / n) * (dx - self.step)
        # stuck: the longest run of the healthy series, or of a run once flagged
        if x == self.prev:
            self.run += 1
            if stuck:
                self.longest = max(self.longest, self.run)
        else:
            if check != "stuck":  # a hold let go with a jump is not a run of the healthy series
                self.longest = max(self.longest, self.run)
            self.run = 0
        self.nonpos = self.nonpos or x <= 0
        if ts:
            self.gap = max(self.gap, ts - self.last_ts)
            self.last_ts = ts
        # drift: a fast EWMA against a slow one, beyond the largest excursion that came back
        self.fast += cfg.drift_fast * (x - self.fast)
        self.slow += cfg.drift_slow * (x - self.slow)
        d = self.fast - self.slow
        if d * self.dsign <= 0:  # the last excursion ended: it was the world's
            self.dmax, self.cur, self.dsign = max(self.dmax, self.cur), 0.0, 1 if d > 0 else -1
            self.drifted = False
        if check == "drift":
            self.drifted = True
        self.cur = max(self.cur, abs(d))
        side = self._side(d) if n >= cfg.drift_warm else 0
        self.hold = self.hold + 1 if side and side == self.side else (1 if side else 0)
        self.side = side
        self.prev = x
