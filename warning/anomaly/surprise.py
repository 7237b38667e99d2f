"""The default streaming anomaly detector: context surprise, its likelihood, and range novelty.

Written for this project from published ideas, tuned and scored on NAB (see docs/QUALITY.md):

- **Context prediction** (the idea of CAD OSE and HTM: learn the sequence, flag what it did not
  predict). The value is quantised at two resolutions (8 and 16 bins over the range seen); the
  last ``order`` bins form a context, hashed into a fixed table of ``slots`` float32 cells that
  hold an EWMA of the value that followed the context. The raw surprise is the mean of
  ``|x - predicted| / range`` over the resolutions (1 for a context never seen).
- **Anomaly likelihood** (Numenta's): the mean of the last ``short`` raw surprises against the
  EWMA mean and variance of that mean (``alpha``); the Gaussian tail probability ``q`` becomes
  the score ``log(q) / log(1e-10)`` (0 ordinary, 1 for ``q <= 1e-10``).
- **Range novelty** (the "spatial anomaly" of Numenta's NAB detector): a value beyond the range
  seen by more than ``tol`` of it scores from ``floor`` (0.5) up, ``floor + (1 - floor) e /
  (e + half)`` for an excess ``e`` in range widths; so does an EWMA of the value (``smooth``)
  beyond the range of that EWMA by ``smooth_tol`` (a lasting shift that noise hides).
- **Rest**: after a score of at least ``base``, the next ``rest`` scores are 0 (one alarm per
  event, as CAD OSE and KNN-CAD do).

State: a few floats, short lists and the table, about 2.5 KiB pickled. In memory the table
is sparse (the cells a context has reached: a rain gauge reaches a few dozen of 512) until
two thirds of it are used (6 bytes a cell against 4 a slot). The first ``warm`` values only learn.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from typing import ClassVar

from mypy_extensions import mypyc_attr

from warning.anomaly.base import Detector
from warning.anomaly.params import Params, SurpriseParams, shared

_LOG_FLOOR = math.log(1e-10)
_NAN = float("nan")
_SQRT2 = math.sqrt(2.0)
_STATE = ("lo", "hi", "sm", "smlo", "smhi", "hist", "keys", "buf", "m", "v", "n", "last")


@mypyc_attr(allow_interpreted_subclasses=True)
class Surprise(Detector):
    """Context surprise with an anomaly likelihood, range novelty and a rest after an alarm."""

    name = "surprise"
    __slots__ = (*_STATE, "table", "cells", "_cache", "p")
    #: The parameters' class (its ``__slots__`` name them), read through ``p``.
    _params: ClassVar[type[Params]] = SurpriseParams

    def __init__(
        self,
        bins: tuple[int, ...] = (16,),
        order: int = 3,
        slots: int = 512,
        rate: float = 0.3,
        short: int = 10,
        alpha: float = 0.0003,
        warm: int = 150,
        tol: float = 0.02,
        smooth: float = 0.1,
        smooth_tol: float = 0.01,
        rest: int = 75,
        base: float = 0.3,
        min_scale: float = 1e-9,
        floor: float = 0.5,
        half: float = 0.05,
    ):
        self.p = shared(
            SurpriseParams,
            {
                "bins": tuple(bins),
                "order": order,
                "slots": slots,
                "rate": rate,
                "short": short,
                "alpha": alpha,
                "warm": warm,
                "tol": tol,
                "smooth": smooth,
                "smooth_tol": smooth_tol,
                "rest": rest,
                "base": base,
                "min_scale": min_scale,
                "floor": floor,
                "half": half,
            },
        )
        self.lo = self.hi = self.sm = self.smlo = self.smhi = 0.0
        # Tuples, not lists: ~100 bytes less a detector (pickled as lists, as before).
        self.hist: tuple[tuple[int, ...], ...] = tuple(() for _ in self.p.bins)
        self.keys = tuple(self._slot(j, ()) for j in range(len(self.p.bins)))  # contexts' cells
        self.buf = array("d")  # the last ``short`` raw surprises
        self.m = self.v = 0.0
        self.n = 0
        self.last = -(1 << 30)
        # The table's cells: ``table[slot]`` when dense (``cells`` None), else ``table[i]`` for
        # ``cells[i] == slot`` with the slots in ``cells`` sorted; an absent cell is NaN.
        self.table = array("f")
        self.cells: array | None = array("H") if slots <= 1 << 16 else None
        if self.cells is None:
            self.table = array("f", [_NAN]) * slots
        self._cache: tuple | None = None

    def __getstate__(self) -> dict:
        out = {**self.p.values(), **{k: getattr(self, k) for k in _STATE}}
        out["table"] = self.dense().tobytes()  # the form every release has pickled
        out["buf"] = list(self.buf)
        out["hist"] = [list(h) for h in self.hist]
        out["keys"] = list(self.keys)
        return out

    def __setstate__(self, state: dict) -> None:
        self.p = shared(self._params, {k: state[k] for k in self._params.__slots__})
        for k in _STATE:
            if k not in ("buf", "hist", "keys"):  # pickled as lists: converted below
                setattr(self, k, state[k])
        self.buf = array("d", state["buf"])
        self.hist = tuple(tuple(h) for h in state["hist"])
        self.keys = tuple(state["keys"])
        dense = array("f")
        dense.frombytes(state["table"])
        self.table, self.cells = dense, None
        used = [i for i, p in enumerate(dense) if p == p]
        if self.p.slots <= 1 << 16 and 3 * len(used) <= 2 * self.p.slots:
            self.table, self.cells = array("f", [dense[i] for i in used]), array("H", used)
        self._cache = None

    def __deepcopy__(self, memo: dict) -> Surprise:
        out = type(self).__new__(type(self))
        out.p = self.p
        for k in _STATE:
            setattr(out, k, getattr(self, k))
        out.buf = self.buf[:]
        out.table = array("f", self.table)
        out.cells = None if self.cells is None else array("H", self.cells)
        out._cache = None
        return out

    def dense(self) -> array:
        """Return the table with a cell per slot (NaN where no context has been)."""
        if self.cells is None:
            return self.table
        out = array("f", [_NAN]) * self.p.slots
        for slot, p in zip(self.cells, self.table, strict=True):
            out[slot] = p
        return out

    def _put(self, slot: int, value: float) -> None:
        cells = self.cells
        if cells is None:
            self.table[slot] = value
            return
        i = bisect_left(cells, slot)
        if i < len(cells) and cells[i] == slot:
            self.table[i] = value
            return
        cells.insert(i, slot)
        self.table.insert(i, value)
        if 3 * len(cells) > 2 * self.p.slots:  # 6 bytes a cell: the dense 4 a slot is smaller
            self.table, self.cells = self.dense(), None

    def _slot(self, j: int, hist: tuple[int, ...]) -> int:
        h = j + 1
        for b in hist:
            h = h * 97 + b + 1
        return (h * 2654435761) % self.p.slots

    def _step(self, x: float) -> tuple:
        """Return the score of ``x`` and what learning it needs, without changing the state."""
        cfg = self.p
        if self.n == 0:
            return (0.0, 0.0, 0.0, x, x, x)
        lo, hi = min(self.lo, x), max(self.hi, x)
        width = max(hi - lo, cfg.min_scale)
        errs, cells, table = 0.0, self.cells, self.table
        for slot in self.keys:
            if cells is None:
                p = table[slot]
            else:
                i = bisect_left(cells, slot)
                p = table[i] if i < len(cells) and cells[i] == slot else _NAN
            errs += 1.0 if p != p else min(abs(x - p) / width, 1.0)
        raw = errs / len(self.keys)
        recent = self.buf[-(cfg.short - 1) :] if cfg.short > 1 else []
        mean = (sum(recent) + raw) / (len(recent) + 1)
        sm = self.sm + cfg.smooth * (x - self.sm)
        if self.n - self.last < cfg.rest:
            return (0.0, raw, mean, lo, hi, sm)
        score = 0.0
        if self.n >= cfg.warm:
            z = (mean - self.m) / (math.sqrt(self.v) + 1e-6)
            q = 0.5 * math.erfc(z / _SQRT2)
            score = math.log(max(q, 1e-10)) / _LOG_FLOOR
        if self.n >= 50:
            span, sspan = self.hi - self.lo, self.smhi - self.smlo
            if span > 0:
                e = max(x - self.hi, self.lo - x) / span - cfg.tol
                if e > 0:
                    score = max(score, cfg.floor + (1 - cfg.floor) * e / (e + cfg.half))
            if sspan > 0:
                e = max(sm - self.smhi, self.smlo - sm) / sspan - cfg.smooth_tol
                if e > 0:
                    score = max(score, cfg.floor + (1 - cfg.floor) * e / (e + cfg.half))
        return (score, raw, mean, lo, hi, sm)

    def score_one(self, x: float, ts: int = 0) -> float:
        """Return how surprising ``x`` is, in [0, 1] (0 while resting after an alarm)."""
        x = float(x)
        step = self._step(x)
        self._cache = (x, self.n, step)
        return step[0]

    def learn_one(self, x: float, ts: int = 0) -> None:
        """Take ``x`` into the range, the context table, the likelihood and the rest."""
        cfg = self.p
        x = float(x)
        c = self._cache
        score, raw, mean, lo, hi, sm = c[2] if c and c[0] == x and c[1] == self.n else self._step(x)
        self._cache = None
        if score >= cfg.base:
            self.last = self.n
        width = max(hi - lo, cfg.min_scale)
        if self.n:
            for slot in self.keys:
                cells, table = self.cells, self.table
                if cells is None:
                    p = table[slot]
                    table[slot] = x if p != p else p + cfg.rate * (x - p)
                    continue
                i = bisect_left(cells, slot)
                if i < len(cells) and cells[i] == slot:
                    p = table[i]
                    table[i] = x if p != p else p + cfg.rate * (x - p)
                else:
                    self._put(slot, x)  # a context seen for the first time
        bins = cfg.bins
        if len(bins) == 1:  # one resolution (the default): no loop
            k = bins[0]
            h = self.hist[0] + (min(int(k * (x - lo) / width), k - 1),)
            if len(h) > cfg.order:
                h = h[1:]
            self.hist = (h,)
            self.keys = (self._slot(0, h),)
        else:
            hist = []
            for k, h in zip(bins, self.hist, strict=True):
                h = (*h, min(int(k * (x - lo) / width), k - 1))
                hist.append(h[1:] if len(h) > cfg.order else h)
            self.hist = tuple(hist)
            self.keys = tuple(self._slot(j, h) for j, h in enumerate(hist))
        if self.n:
            buf = self.buf
            if 1 <= cfg.short <= len(buf):  # make room first: the array keeps its size
                del buf[0]
                buf.append(raw)
            else:
                buf.append(raw)
                if len(buf) > cfg.short:
                    del buf[0]
                elif len(buf) == cfg.short:
                    self.buf = buf[:]  # full: an exact copy (appends over-allocate)
            a = max(cfg.alpha, 1.0 / self.n)
            d = mean - self.m
            self.m += a * d
            self.v = (1 - a) * (self.v + a * d * d)
            self.smlo, self.smhi = min(self.smlo, sm), max(self.smhi, sm)
        else:
            self.smlo = self.smhi = x
        self.lo, self.hi, self.sm = lo, hi, sm
        self.n += 1
