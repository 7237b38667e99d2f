"""The data-quality judge: signs that a reading is a sensor or logger fault, not the world.

Scores one value in [0, 1]; 0.5 and above is a fault sign:

- **sentinel**: a logger's no-data code (-9999, -999, 9999, ...) or a non-finite value: 1;
- **spike**: the value before was at a robust z of at least ``spike_z`` against the median
  and MAD of the last ``window`` values, and this one is back within half of it: 0.5 up to 1
  (named on the reading after the spike, as the pipeline's diagnosis does; a lasting step is
  not a spike);
- **stuck**: the value repeats for a run that a sensor changing as often as this one would
  repeat with chance ``stuck_chance`` (at least ``stuck_min`` readings): 0.6;
- **dropout**: an exact 0 (or a negative value) where the window was all positive: 0.7;
- **range**: outside the physical range ``low .. high``, when given: 0.8.

No-data codes are never learned. Fixed rules: on NAB they fired on most ordinary spikes (its
largest with ``surprise`` scored 2.2); the default detector (``judge.py``) measures each check
against the series' own history instead.
"""

from __future__ import annotations

import math

from warning.anomaly.base import Detector

#: Logger no-data codes (Campbell's -9999, and the usual others).
SENTINELS = frozenset({-9999.0, -99999.0, -999.0, -6999.0, 6999.0, 9999.0, 99999.0})


def is_sentinel(x: float) -> bool:
    """Return True for a no-data code or a non-finite value.

    >>> is_sentinel(-9999), is_sentinel(float("nan")), is_sentinel(12.5)
    (True, True, False)
    """
    return not math.isfinite(x) or x in SENTINELS


class Quality(Detector):
    """Sentinel, spike, stuck and dropout signs of a sensor fault, per value."""

    name = "quality"
    __slots__ = (
        "spike_z",
        "stuck_min",
        "stuck_chance",
        "low",
        "high",
        "robust",
        "last",
        "run",
        "changes",
        "weight",
        "pending",
    )

    def __init__(
        self,
        window: int = 32,
        spike_z: float = 15.0,
        stuck_min: int = 30,
        stuck_chance: float = 1e-4,
        min_scale: float = 1e-3,
        low: float = -math.inf,
        high: float = math.inf,
    ):
        from warning.anomaly.detectors import RobustZ  # detectors registers this class

        self.spike_z, self.stuck_min, self.stuck_chance = spike_z, stuck_min, stuck_chance
        self.low, self.high = low, high
        self.robust = RobustZ(window, min_scale)
        self.last: float | None = None
        self.run = 0
        self.changes = self.weight = 0.0
        self.pending = 0.0  # robust z of the previous value, if it was a spike candidate

    def __getstate__(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def __deepcopy__(self, memo: dict) -> Quality:
        out = Quality.__new__(Quality)
        for k in self.__slots__:
            setattr(out, k, getattr(self, k))
        out.robust = self.robust.__deepcopy__(memo)
        return out

    def stuck_after(self) -> float:
        """Return the run of repeats that is a stuck sign, given how often values change."""
        if self.weight < 24:
            return math.inf
        rate = self.changes / self.weight
        if rate <= 0.5:
            return math.inf  # a sensor that often repeats (a dry gauge) is not judged stuck
        if rate >= 1:
            return self.stuck_min
        return max(self.stuck_min, math.ceil(math.log(self.stuck_chance) / math.log(1 - rate)))

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return the strongest fault sign of ``x``, in [0, 1]."""
        x = float(x)
        if is_sentinel(x):
            return 1.0
        score = 0.8 if not self.low <= x <= self.high else 0.0
        st = self.robust.stats()
        if st is not None:
            z = abs(x - st[0]) / st[1]
            if self.pending and z < self.spike_z / 2:
                score = 0.5 + 0.5 * (self.pending - self.spike_z) / self.pending
            if x <= 0 < min(self.robust.values):
                score = max(score, 0.7)
        if x == self.last and self.run + 1 >= self.stuck_after():
            score = max(score, 0.6)
        return score

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Take ``x`` into the window and the change rate (no-data codes are skipped)."""
        x = float(x)
        if is_sentinel(x):
            return
        st = self.robust.stats()
        z = abs(x - st[0]) / st[1] if st is not None else 0.0
        self.pending = z if z >= self.spike_z and not self.pending else 0.0
        if self.pending:
            self.last = x
            return  # a spike candidate must not move the baseline
        if self.last is not None:
            same = x == self.last
            self.run = self.run + 1 if same else 0
            if self.run < self.stuck_min:  # learn the change rate from healthy stretches
                self.changes = self.changes * 0.995 + (not same)
                self.weight = self.weight * 0.995 + 1
        self.last = x
        self.robust.learn_one(x)
