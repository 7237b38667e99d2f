"""The latest rain event in a series' look-back window, kept up to date as readings arrive.

``id_exceedance`` judges the latest rain event of the window ``[now - window, now]``: its wet
reports' interval starts and the rain from each of them to the event's end. Recomputing that
from the whole window on every reading cost ~150 us (24 h of 5-minute reports); a
``RainEvent`` kept beside the series takes the readings added and dropped since the previous
call instead, and rebuilds from the window only when the series changed otherwise (a reading
inserted out of order, a jump in time) or the reporting step changed. Results equal the
vectorised pass it replaces to a relative 1e-12 (tests compare them on random series): the
rain sums are the same bit for bit, but an event of fewer than 24 wet reports takes ``D ** b``
from Python's ``pow`` and a longer one from numpy's, which may differ in the last bit. The same
readings always give the same result, live or backtest.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

import numpy as np

from warning.rules.windows import Series

H = 3_600_000
#: Below this many wet reports a plain loop beats numpy's per-call overhead.
_NUMPY_FROM = 24


def _round9(x: float) -> float:
    # numpy's ``np.round(x, 9)``: scale, round half to even, unscale (not Python's round()).
    return round(x * 1e9) / 1e9


class RainEvent:
    """The latest rain event of one series' window, updated in place by ``update``.

    >>> s = Series()
    >>> for i, mm in enumerate([0, 10, 10, 10]):
    ...     s.add(i * H, float(mm))
    >>> e = RainEvent(24 * H, 6 * H)
    >>> e.update(s, 3 * H), round(e.ratio(3 * H, 14.82, -0.39), 3)
    (True, 1.036)
    """

    __slots__ = (
        "window_ms",
        "dry_gap_ms",
        "first",
        "last",
        "count",
        "gaps",
        "npos",
        "step",
        "starts",
        "ends",
        "mm",
        "_rt",
    )

    def __init__(self, window_ms: int, dry_gap_ms: int):
        self.window_ms = window_ms
        self.dry_gap_ms = dry_gap_ms
        self.count = 0  # readings in the window last seen; 0: nothing cached
        self.first = self.last = 0  # their first and last timestamps
        self.gaps: dict[int, int] = {}  # positive gaps between consecutive readings -> count
        self.npos = 0
        self.step = 0
        # The event's wet reports, oldest first: interval starts, report times and rain (typed
        # arrays: a day of drizzle reported every minute is 1,440 of them per gauge).
        self.starts = array("q")
        self.ends = array("q")
        self.mm = array("d")
        self._rt: tuple[np.ndarray, np.ndarray] | list[tuple[int, float]] | None = None

    def update(self, s: Series, now: int) -> bool:
        """Bring the event up to the window ending ``now``; return False if there is none."""
        ts, head = s.ts, s.head
        lo = bisect_left(ts, now - self.window_ms, head)
        hi = bisect_right(ts, now, lo)
        if self.count:
            olo = bisect_left(ts, self.first, head)
            ohi = olo + self.count
            if (
                olo < len(ts)
                and ts[olo] == self.first
                and ohi <= hi
                and ts[ohi - 1] == self.last
                and olo <= lo < ohi
                and bisect_right(ts, self.last, olo) == ohi
            ):
                self._slide(ts, s.vals, olo, ohi, lo, hi)
                return bool(self.ends)
        self._rebuild(ts, s.vals, lo, hi)
        return bool(self.ends)

    def _slide(self, ts: array, vals: array, olo: int, ohi: int, lo: int, hi: int) -> None:
        gaps = self.gaps
        for j in range(ohi, hi):  # readings added at the end
            g = ts[j] - ts[j - 1]
            if g > 0:
                gaps[g] = gaps.get(g, 0) + 1
                self.npos += 1
        for j in range(olo, lo):  # readings that left the window
            g = ts[j + 1] - ts[j]
            if g > 0:
                left = gaps[g] - 1
                if left:
                    gaps[g] = left
                else:
                    del gaps[g]
                self.npos -= 1
        if self._median() != self.step:
            self._rebuild(ts, vals, lo, hi)
            return
        step, starts, ends, mm = self.step, self.starts, self.ends, self.mm
        for j in range(ohi, hi):
            v = vals[j]
            if v > 0:
                t = ts[j]
                start = t - min(t - ts[j - 1], step)
                if ends and start - ends[-1] >= self.dry_gap_ms:
                    del starts[:], ends[:], mm[:]
                starts.append(start)
                ends.append(t)
                mm.append(v)
                self._rt = None
        if lo > olo:
            first = ts[lo]
            drop = bisect_left(ends, first)
            if drop:
                del starts[:drop], ends[:drop], mm[:drop]
            if ends and ends[0] == first:  # now the window's first report: a full step
                starts[0] = first - step
            if drop or (ends and ends[0] == first):
                self._rt = None
        self.first, self.last, self.count = ts[lo], ts[hi - 1], hi - lo

    def _median(self) -> int:
        # Lower median of the positive gaps, as ``np.partition`` at (n - 1) // 2 picks it.
        if not self.npos:
            return 0
        want = (self.npos - 1) // 2
        seen = 0
        for g in sorted(self.gaps):
            seen += self.gaps[g]
            if seen > want:
                return g
        return 0  # unreachable: the counts add up to npos

    def _rebuild(self, ts: array, vals: array, lo: int, hi: int) -> None:
        gaps: dict[int, int] = {}
        for j in range(lo + 1, hi):
            g = ts[j] - ts[j - 1]
            if g > 0:
                gaps[g] = gaps.get(g, 0) + 1
        self.gaps, self.npos = gaps, sum(gaps.values())
        self.step = step = self._median()
        starts, ends, mm = array("q"), array("q"), array("d")
        later = None  # the interval start of the next (later) wet report
        for j in range(hi - 1, lo - 1, -1):
            v = vals[j]
            if v > 0:
                t = ts[j]
                if later is not None and later - t >= self.dry_gap_ms:
                    break
                later = t - (step if j == lo else min(t - ts[j - 1], step))
                starts.append(later)
                ends.append(t)
                mm.append(v)
        starts.reverse()
        ends.reverse()
        mm.reverse()
        self.starts, self.ends, self.mm, self._rt = starts, ends, mm, None
        self.count = hi - lo
        if self.count:
            self.first, self.last = ts[lo], ts[hi - 1]

    def _rain_to_now(self) -> tuple[np.ndarray, np.ndarray] | list[tuple[int, float]]:
        # The rain from each wet report to the event's end, summed from the end backwards.
        if self._rt is None:
            if len(self.mm) < _NUMPY_FROM:
                rain = 0.0
                pairs = []
                for start, v in zip(reversed(self.starts), reversed(self.mm), strict=True):
                    rain += v
                    pairs.append((start, _round9(rain)))
                self._rt = pairs
            else:
                mm = np.frombuffer(self.mm, dtype=np.float64)
                rt = np.round(np.cumsum(mm[::-1])[::-1], 9)
                self._rt = (np.array(self.starts, dtype=np.int64), rt)  # a copy: starts change
        return self._rt

    def ratio(self, now: int, a: float, b: float, min_duration_h: float = 1.0) -> float:
        """Return the most critical ratio of mean intensity to ``a D^b`` over the event."""
        rt = self._rain_to_now()
        if isinstance(rt, list):
            best = -np.inf
            for start, rain in rt:
                d = (now - start) / H
                if d < min_duration_h:
                    d = float(min_duration_h)
                x = (rain / d) / (a * d**b)
                if x > best:
                    best = x
            return float(best)
        starts, rain_to_now = rt
        duration_h = np.maximum((now - starts) / H, min_duration_h)
        return float(((rain_to_now / duration_h) / (a * duration_h**b)).max())
