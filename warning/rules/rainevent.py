"""The latest rain event in a series' look-back window, kept up to date as readings arrive.

``id_exceedance`` judges the latest rain event of the window ``[now - window, now]``: its wet
reports' interval starts and the rain from each of them to the event's end. Recomputing that
from the whole window on every reading cost ~150 us (24 h of 5-minute reports); a
``RainEvent`` kept beside the series takes the readings added and dropped since the previous
call instead, and rebuilds from the window only when the series changed otherwise (a reading
inserted out of order, a jump in time) or the reporting step changed. It keeps a few numbers
(the median step, where the event starts and ends), not the event's reports: those are in
the series, and ``rain`` reads them once per evaluation into a ``Rain`` that the evaluation
drops afterwards (a day of drizzle reported every minute is 1,440 wet reports per gauge,
40 bytes each when they were kept between readings). Results equal the
vectorised pass it replaces to a relative 1e-12 (tests compare them on random series): the
rain sums are the same bit for bit, but an event of fewer than 24 wet reports takes ``D ** b``
from Python's ``pow`` and a longer one from numpy's, which may differ in the last bit. The same
readings always give the same result, live or backtest.
"""

from __future__ import annotations

from array import array

import numpy as np
from mypy_extensions import mypyc_attr

from warning.rules.windows import Series

H = 3_600_000
#: Below this many wet reports a plain loop beats numpy's per-call overhead.
_NUMPY_FROM = 24
#: From this many reports in the event's span, its wet reports are picked out with numpy.
_NUMPY_SPAN = 32


def _round9(x: float) -> float:
    # numpy's ``np.round(x, 9)``: scale, round half to even, unscale (not Python's round()).
    return round(x * 1e9) / 1e9


@mypyc_attr(allow_interpreted_subclasses=True)
class RainEvent:
    """Where the latest rain event of one series' window lies, updated in place by ``update``.

    >>> s = Series()
    >>> for i, mm in enumerate([0, 10, 10, 10]):
    ...     s.add(i * H, float(mm))
    >>> e = RainEvent(24 * H, 6 * H)
    >>> e.update(s, 3 * H), round(e.rain(s, 3 * H).ratio(3 * H, 14.82, -0.39), 3)
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
        "ev_first",
        "ev_last",
    )

    def __init__(self, window_ms: int, dry_gap_ms: int):
        self.window_ms = window_ms
        self.dry_gap_ms = dry_gap_ms
        self.count = 0  # readings in the window last seen; 0: nothing cached
        self.first = self.last = 0  # their first and last timestamps
        #: The positive gaps between consecutive readings and how many there are of each, in
        #: one array of (gap, count) pairs by gap (one pair, 80 bytes, for regular reports;
        #: a dict was 224).
        self.gaps = array("q")
        self.npos = 0
        self.step = 0
        # The event's first and latest wet report (None: no event). Reports that left the
        # window are left out when the event is read, so ``ev_first`` may be older than it.
        self.ev_first: int | None = None
        self.ev_last: int | None = None

    def __getstate__(self) -> tuple[int, int]:
        return self.window_ms, self.dry_gap_ms

    def __setstate__(self, state: object) -> None:
        # Any older form (0.2 kept the event's reports) restores as "rebuild from the series".
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict | None):
            state = state[1]  # (None, {slot: value}) of __slots__ without __getstate__
        if isinstance(state, dict):
            state = (state["window_ms"], state["dry_gap_ms"])
        self.__init__(*state)  # type: ignore[misc]

    def update(self, s: Series, now: int) -> bool:
        """Bring the event up to the window ending ``now``; return False if there is none."""
        lo, hi = s.span(now - self.window_ms, now)
        if self.count:
            at = s.time_at
            olo = max(s.times.left(self.first), s.head)
            ohi = olo + self.count
            if (
                olo < hi
                and at(olo) == self.first
                and ohi <= hi
                and at(ohi - 1) == self.last
                and olo <= lo < ohi
                and max(s.times.right(self.last), olo) == ohi
            ):
                self._slide(s, olo, ohi, lo, hi)
                return self._found(s, lo, hi)
        self._rebuild(s, lo, hi)
        return self._found(s, lo, hi)

    def _found(self, s: Series, lo: int, hi: int) -> bool:
        return self.ev_last is not None and hi > lo and self.ev_last >= s.time_at(lo)

    def _count(self, g: int, d: int) -> None:
        # Add d to the count of gap g; a gap counted 0 times is dropped.
        gaps = self.gaps
        lo, hi = 0, len(gaps) // 2
        while lo < hi:
            mid = (lo + hi) // 2
            if gaps[2 * mid] < g:
                lo = mid + 1
            else:
                hi = mid
        k = 2 * lo
        if k < len(gaps) and gaps[k] == g:
            c = gaps[k + 1] + d
            if c:
                gaps[k + 1] = c
            else:
                del gaps[k : k + 2]
        else:
            gaps[k:k] = array("q", (g, d))

    def _slide(self, s: Series, olo: int, ohi: int, lo: int, hi: int) -> None:
        ts = s.time_at
        for j in range(ohi, hi):  # readings added at the end
            g = ts(j) - ts(j - 1)
            if g > 0:
                self._count(g, 1)
                self.npos += 1
        for j in range(olo, lo):  # readings that left the window
            g = ts(j + 1) - ts(j)
            if g > 0:
                self._count(g, -1)
                self.npos -= 1
        if self._median() != self.step:
            self._rebuild(s, lo, hi)
            return
        step = self.step
        for j in range(ohi, hi):
            if s.value_at(j) > 0:
                t = ts(j)
                start = t - min(t - ts(j - 1), step)
                last = self.ev_last
                if last is None or last < self.first or start - last >= self.dry_gap_ms:
                    self.ev_first = t  # a new event (the old one ended or left the window)
                self.ev_last = t
        self.first, self.last, self.count = ts(lo), ts(hi - 1), hi - lo

    def _median(self) -> int:
        # Lower median of the positive gaps, as ``np.partition`` at (n - 1) // 2 picks it.
        if not self.npos:
            return 0
        want = (self.npos - 1) // 2
        seen = 0
        gaps = self.gaps
        for k in range(0, len(gaps), 2):
            seen += gaps[k + 1]
            if seen > want:
                return gaps[k]
        return 0  # unreachable: the counts add up to npos

    def _rebuild(self, s: Series, lo: int, hi: int) -> None:
        ts, vals = s.times.slice(lo, hi), s.values(lo, hi)
        n = hi - lo
        gaps: dict[int, int] = {}
        for j in range(1, n):
            g = ts[j] - ts[j - 1]
            if g > 0:
                gaps[g] = gaps.get(g, 0) + 1
        self.gaps = array("q", [v for g in sorted(gaps) for v in (g, gaps[g])])
        self.npos = sum(gaps.values())
        self.step = step = self._median()
        self.ev_first = self.ev_last = None
        later = None  # the interval start of the next (later) wet report
        for j in range(n - 1, -1, -1):
            if vals[j] > 0:
                t = ts[j]
                if later is not None and later - t >= self.dry_gap_ms:
                    break
                later = t - (step if j == 0 else min(t - ts[j - 1], step))
                if self.ev_last is None:
                    self.ev_last = t
                self.ev_first = t
        self.count = n
        if n:
            self.first, self.last = ts[0], ts[n - 1]

    def rain(self, s: Series, now: int) -> Rain | None:
        """Return the event's wet reports as of the last ``update`` (None if there is none)."""
        lo, hi = s.span(now - self.window_ms, now)
        if not self._found(s, lo, hi):
            return None
        assert self.ev_first is not None
        e = max(s.times.left(self.ev_first), lo)
        base = e - 1 if e > lo else e  # the report before the first, for its interval
        ts, vals = s.times.slice(base, hi), s.values(e, hi)
        off = e - base
        step = self.step
        starts, mm = array("q"), array("d")
        if hi - e >= _NUMPY_SPAN:  # the same integers and floats, in a few array operations
            tn = np.frombuffer(ts, dtype=np.int64)
            vn = np.frombuffer(vals, dtype=np.float64)
            # each report's gap to the one before (the first of the window: one step), capped
            gaps = np.empty(hi - e, dtype=np.int64)
            np.subtract(tn[1:], tn[:-1], out=gaps[1 - off :])
            if not off:
                gaps[0] = step
            np.minimum(gaps, step, out=gaps)
            wet = vn > 0
            starts.frombytes((tn[off:] - gaps)[wet].tobytes())
            mm.frombytes(vn[wet].tobytes())
            return Rain(starts, mm)
        for j, v in enumerate(vals):
            if v > 0:
                t = ts[j + off]
                starts.append(t - (step if j + e == lo else min(t - ts[j + off - 1], step)))
                mm.append(v)
        return Rain(starts, mm)


class Rain:
    """One evaluation's view of a rain event: each wet report's interval start and rain."""

    __slots__ = ("starts", "mm", "_rt")

    def __init__(self, starts: array, mm: array):
        self.starts = starts
        self.mm = mm
        self._rt: tuple[np.ndarray, np.ndarray] | list[tuple[int, float]] | None = None

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
                rt = np.cumsum(mm[::-1])[::-1].round(9)  # np.round(x, 9), without its wrapper
                self._rt = (np.frombuffer(self.starts, dtype=np.int64), rt)
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
