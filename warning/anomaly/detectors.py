"""Streaming anomaly detectors, one per sensor and field, cheap enough for every reading.

The contract (river's): ``learn_one(x, ts)`` takes a value into the state; ``score_one(x, ts)``
returns how anomalous ``x`` is against the state so far, in [0, 1], higher is more anomalous,
without learning it. ``ts`` is event time in epoch milliseconds (only seasonal detectors use
it). State is plain Python (lists, floats), picklable and bounded, so bytewax snapshots it.

Scores map a standardised deviation ``z`` to ``z / (z + z_half)``: 0.5 at ``z_half``.

>>> d = RobustZ(window=8, min_scale=0.1)
>>> for v in [1.0, 1.1, 0.9, 1.0, 1.05, 0.95, 1.0, 1.02]:
...     d.learn_one(v)
>>> d.score_one(1.0) < 0.1 < 0.5 < d.score_one(5.0)
True
"""

from __future__ import annotations

import math
from array import array
from math import copysign, isfinite

from mypy_extensions import mypyc_attr

from warning.anomaly.base import Detector, squash
from warning.anomaly.surprise import Surprise

__all__ = ["Detector", "squash", "Surprise", "make"]

H = 3_600_000
#: Integer codes of ``RobustZ``'s window, smallest first.
_CODES = (("b", 1 << 7), ("h", 1 << 15), ("i", 1 << 31))
_BOUND = dict(_CODES)


def _code(x: float, scale: int) -> int | None:
    """Return ``x * scale`` as an integer if it converts back to the very float ``x``."""
    if not isfinite(x) or (x == 0 and copysign(1.0, x) < 0):
        return None
    c = round(x * scale)
    return c if c / scale == x else None


@mypyc_attr(allow_interpreted_subclasses=True)
class RobustZ(Detector):
    """Robust z-score against the median and MAD of the last ``window`` values.

    ``min_scale`` floors the scale (MAD x 1.4826): a dry rain gauge has a MAD of zero, and
    0.1 mm of drizzle must not look infinitely anomalous.
    """

    name = "robust_z"
    __slots__ = ("window", "min_scale", "z_half", "codes", "scale", "_stats")

    def __init__(self, window: int = 24, min_scale: float = 1e-3, z_half: float = 5.0):
        self.window = window
        self.min_scale = min_scale
        self.z_half = z_half
        #: The last ``window`` values, oldest first: ``value * scale`` as small integers while
        #: every value converts back to the very float it was (0.1 mm tips: a byte each), else
        #: the float64 values themselves (``scale`` 0).
        self.codes: array = array("b")
        self.scale = 1
        self._stats: tuple[float, float] | None = None  # cached (median, scale)

    @property
    def values(self) -> array:
        """Return the last ``window`` values, oldest first, as float64."""
        if not self.scale:
            return self.codes
        scale = self.scale
        return array("d", [c / scale for c in self.codes])

    def __getstate__(self) -> dict:
        return {
            "window": self.window,
            "min_scale": self.min_scale,
            "z_half": self.z_half,
            "values": list(self.values),
        }

    def __setstate__(self, state: dict) -> None:
        self.window, self.min_scale = state["window"], state["min_scale"]
        self.z_half, self._stats = state["z_half"], None
        self.codes, self.scale = array("b"), 1
        for v in list(state["values"])[-self.window :] if self.window else []:
            self._append(float(v))

    def __deepcopy__(self, memo: dict) -> RobustZ:
        # bytewax deep-copies state at every snapshot: floats are immutable, copy containers.
        out = RobustZ.__new__(RobustZ)
        out.window, out.min_scale, out.z_half = self.window, self.min_scale, self.z_half
        out.codes, out.scale, out._stats = self.codes[:], self.scale, self._stats
        return out

    def _append(self, x: float) -> None:
        scale, codes = self.scale, self.codes
        if scale:
            c = _code(x, scale)
            if c is None or not -_BOUND[codes.typecode] <= c < _BOUND[codes.typecode]:
                self._recode(x)  # a finer scale, a wider type, or floats
                return
            codes.append(c)
        else:
            codes.append(x)

    def _recode(self, x: float) -> None:
        values = [*self.values, x]
        for scale in (10**k for k in range(7)):
            if scale < self.scale:
                continue
            found = [_code(v, scale) for v in values]
            ints = [c for c in found if c is not None]
            if len(ints) < len(found):
                continue
            top = max(max(ints), -min(ints) - 1)
            for typecode, bound in _CODES:
                if top < bound:
                    self.codes, self.scale = array(typecode, ints), scale
                    return
            break
        self.codes, self.scale = array("d", values), 0

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Append ``x`` to the rolling window."""
        self._stats = None
        if self.window < 1:
            return
        if len(self.codes) >= self.window:  # make room first: the array keeps its size
            del self.codes[: len(self.codes) - self.window + 1]
        self._append(float(x))

    def stats(self) -> tuple[float, float] | None:
        """Return the window's median and floored scale, or None before 3 values."""
        if self._stats is None and len(self.codes) >= 3:
            scale = self.scale  # the codes sort as their values do (scale > 0)
            ordered = [c / scale for c in sorted(self.codes)] if scale else sorted(self.codes)
            med = _median(ordered)
            mad = _median(sorted([abs(v - med) for v in ordered]))
            self._stats = (med, max(1.4826 * mad, self.min_scale))
        return self._stats

    def z(self, x: float) -> float:
        """Return the signed robust z of ``x`` (0 before 3 values)."""
        st = self.stats()
        return 0.0 if st is None else (x - st[0]) / st[1]

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return ``squash(|z|)`` against the window's median and MAD."""
        return squash(self.z(x), self.z_half)


_EWMA_FIELDS = ("alpha", "min_scale", "z_half", "warmup", "offset_ms", "mean", "var", "n")


@mypyc_attr(allow_interpreted_subclasses=True)
class SeasonalEWMA(Detector):
    """EWMA mean and variance per local hour of day (a diurnal baseline).

    Until an hour has ``warmup`` values its score uses the all-hours EWMA instead.
    """

    name = "seasonal_ewma"
    __slots__ = _EWMA_FIELDS

    def __init__(
        self,
        alpha: float = 0.1,
        min_scale: float = 1e-3,
        z_half: float = 5.0,
        warmup: int = 3,
        utc_offset_h: float = 8.0,
    ):
        self.alpha = alpha
        self.min_scale = min_scale
        self.z_half = z_half
        self.warmup = warmup
        self.offset_ms = int(utc_offset_h * H)
        # Slot 24 is the all-hours baseline.
        self.mean = [0.0] * 25
        self.var = [0.0] * 25
        self.n = [0] * 25

    def __getstate__(self) -> dict:
        return {k: getattr(self, k) for k in _EWMA_FIELDS}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, list(v) if isinstance(v, list) else v)

    def __deepcopy__(self, memo: dict) -> SeasonalEWMA:
        out = SeasonalEWMA.__new__(SeasonalEWMA)
        out.alpha, out.min_scale, out.z_half = self.alpha, self.min_scale, self.z_half
        out.warmup, out.offset_ms = self.warmup, self.offset_ms
        out.mean, out.var, out.n = self.mean[:], self.var[:], self.n[:]
        return out

    def _hour(self, ts: int) -> int:
        return (ts + self.offset_ms) // H % 24

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Update the hour's and the all-hours EWMA with ``x``."""
        for i in (self._hour(ts), 24):
            if self.n[i] == 0:
                self.mean[i], self.var[i] = float(x), 0.0
            else:
                a = self.alpha if self.n[i] >= 1 / self.alpha else 1 / (self.n[i] + 1)
                d = x - self.mean[i]
                self.mean[i] += a * d
                self.var[i] = (1 - a) * (self.var[i] + a * d * d)
            self.n[i] += 1

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return ``squash(|z|)`` against the hour's baseline (or the all-hours one)."""
        i = self._hour(ts)
        if self.n[i] < self.warmup:
            i = 24
        if self.n[i] < self.warmup:
            return 0.0
        scale = max(math.sqrt(self.var[i]), self.min_scale)
        return squash((x - self.mean[i]) / scale, self.z_half)


_CUSUM_FIELDS = ("alpha", "min_scale", "k", "h", "mean", "var", "n", "pos", "neg")


@mypyc_attr(allow_interpreted_subclasses=True)
class Cusum(Detector):
    """Two-sided CUSUM change-point detector on values standardised by a slow EWMA.

    ``k`` is the allowance and ``h`` the decision interval, in standard deviations (classic
    0.5 and 5). The score is ``g / (g + h)``: 0.5 when a change is declared, after which the
    sums restart and the baseline jumps to the new level.
    """

    name = "cusum"
    __slots__ = _CUSUM_FIELDS

    def __init__(
        self, alpha: float = 0.02, min_scale: float = 1e-3, k: float = 0.5, h: float = 5.0
    ):
        self.alpha = alpha
        self.min_scale = min_scale
        self.k = k
        self.h = h
        self.mean = 0.0
        self.var = 0.0
        self.n = 0
        self.pos = 0.0
        self.neg = 0.0

    def __getstate__(self) -> dict:
        return {k: getattr(self, k) for k in _CUSUM_FIELDS}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def __deepcopy__(self, memo: dict) -> Cusum:
        out = Cusum.__new__(Cusum)
        out.alpha, out.min_scale, out.k, out.h = self.alpha, self.min_scale, self.k, self.h
        out.mean, out.var, out.n, out.pos, out.neg = (
            self.mean,
            self.var,
            self.n,
            self.pos,
            self.neg,
        )
        return out

    def _sums(self, x: float) -> tuple[float, float]:
        if self.n < 2:
            return 0.0, 0.0
        z = (x - self.mean) / max(math.sqrt(self.var), self.min_scale)
        z = max(-50.0, min(50.0, z))  # one wild value must not stand for a lasting change
        return max(0.0, self.pos + z - self.k), max(0.0, self.neg - z - self.k)

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Advance the sums with ``x``; restart them at the new level on a change."""
        self.pos, self.neg = self._sums(x)
        if max(self.pos, self.neg) > self.h:
            self.pos = self.neg = 0.0
            self.mean, self.var = float(x), self.var
            return
        if self.n == 0:
            self.mean = float(x)
        else:
            a = self.alpha if self.n >= 1 / self.alpha else 1 / (self.n + 1)
            d = x - self.mean
            self.mean += a * d
            self.var = (1 - a) * (self.var + a * d * d)
        self.n += 1

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return ``g / (g + h)`` for the larger of the two sums after ``x``."""
        g = max(self._sums(x))
        return g / (g + self.h)


@mypyc_attr(allow_interpreted_subclasses=True)
class Combined(Detector):
    """The largest score of the three streaming detectors: what ``anomaly(FIELD)`` gives."""

    name = "combined"
    __slots__ = ("parts",)

    def __init__(self, min_scale: float = 1e-3):
        self.parts = (
            RobustZ(min_scale=min_scale),
            SeasonalEWMA(min_scale=min_scale),
            Cusum(min_scale=min_scale),
        )

    def __getstate__(self) -> dict:
        return {"parts": self.parts}

    def __setstate__(self, state: dict) -> None:
        self.parts = state["parts"]

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Take ``x`` into every part."""
        for d in self.parts:
            d.learn_one(x, ts)

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return the largest part score."""
        return max(d.score_one(x, ts) for d in self.parts)


@mypyc_attr(allow_interpreted_subclasses=True)
class RandomScore(Detector):
    """The NAB "random" baseline: a seeded uniform score, whatever the value.

    A splitmix64 counter keeps the state to one integer (``random.Random`` pickles to 3 kB).
    """

    name = "random"
    __slots__ = ("state",)

    def __init__(self, seed: int = 0):
        self.state = seed & _MASK

    def __getstate__(self) -> dict:
        return {"state": self.state}

    def __setstate__(self, state: dict) -> None:
        self.state = state["state"]

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Advance to the next draw (once per value)."""
        self.state = (self.state + _GOLDEN) & _MASK

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return the current draw in [0, 1)."""
        z = (self.state + _GOLDEN) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return (z ^ (z >> 31)) / 2.0**64


_MASK = 2**64 - 1
_GOLDEN = 0x9E3779B97F4A7C15


_THRESHOLD_FIELDS = ("learn", "n", "low", "high")


@mypyc_attr(allow_interpreted_subclasses=True)
class Threshold(Detector):
    """A fixed-band baseline: the min..max of the first ``learn`` values is normal.

    Outside it the score grows with the distance ``d`` past the band as ``squash(d / width)``
    (0.5 one band width out), so a score threshold is a static value threshold.
    """

    name = "threshold"
    __slots__ = _THRESHOLD_FIELDS

    def __init__(self, learn: int = 200):
        self.learn = learn
        self.n = 0
        self.low = math.inf
        self.high = -math.inf

    def __getstate__(self) -> dict:
        return {k: getattr(self, k) for k in _THRESHOLD_FIELDS}

    def __setstate__(self, state: dict) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Widen the band with ``x`` during the learning period."""
        if self.n < self.learn:
            self.low, self.high = min(self.low, x), max(self.high, x)
        self.n += 1

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return 0 inside the learned band (and while learning), more the further out."""
        if self.n < self.learn or self.low <= x <= self.high:
            return 0.0
        past = self.low - x if x < self.low else x - self.high
        return squash(past / max(self.high - self.low, 1e-9), 1.0)


from warning.anomaly.judge import Judge  # noqa: E402
from warning.anomaly.quality import Quality  # noqa: E402  (it uses RobustZ)

#: The streaming detectors run on every reading, by name.
STREAMING: dict[str, type[Detector]] = {c.name: c for c in (RobustZ, SeasonalEWMA, Cusum, Surprise)}
#: Every detector, baselines included (for ``anomaly score`` and the evaluation); ``default``
#: is ``judge``: ``surprise``'s anomaly score below 0.5 and data-quality fault signs above.
DETECTORS: dict[str, type[Detector]] = {
    **STREAMING,
    Combined.name: Combined,
    RandomScore.name: RandomScore,
    Threshold.name: Threshold,
    Quality.name: Quality,
    Judge.name: Judge,
    "default": Judge,
}


def make(name: str, **params: float) -> Detector:
    """Return a new detector by name; raise ValueError naming the known ones.

    >>> make("cusum").name
    'cusum'
    """
    cls = DETECTORS.get(name)
    if cls is None:
        msg = f"expected a detector among {', '.join(sorted(DETECTORS))}, found {name!r}"
        raise ValueError(msg)
    return cls(**params)


def _median(ordered: list[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
