"""Sorted timestamps of a series, implicit while reports come at a regular step."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

import numpy as np
from mypy_extensions import mypyc_attr


@mypyc_attr(allow_interpreted_subclasses=True)
class Timeline:
    """Sorted epoch-ms timestamps held as runs ``t0 + k * step`` or, if irregular, explicitly.

    A gauge reporting every minute is one run (three numbers) instead of 8 bytes a point; a
    missed report starts a new run. Equal or out-of-order timestamps, or runs averaging under
    four points, switch to an explicit array; compaction (``drop``) goes back to runs when the
    remaining points allow it. ``left`` and ``right`` are ``bisect_left`` and ``bisect_right``.

    >>> t = Timeline()
    >>> for ts in (0, 60, 120, 240, 300):
    ...     t.append(ts)
    >>> len(t.runs) // 3, t.left(200), t.right(240), t.at(4)
    (2, 3, 4, 300)
    """

    __slots__ = ("runs", "ts", "n")

    def __init__(self) -> None:
        #: The runs, three numbers each in one array (one array, not three: ~200 bytes less
        #: a series): the index of the run's first point, its timestamp, and the ms between
        #: its points (0 while it has only one).
        self.runs = array("q")
        self.ts: array | None = None  # the timestamps themselves once irregular
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def __getstate__(self) -> tuple:
        # The form every release has pickled: three arrays (first indices, t0s, steps).
        if self.ts is not None:
            return (self.ts,)
        runs = self.runs
        return (runs[0::3], runs[1::3], runs[2::3], self.n)

    def __setstate__(self, state: tuple) -> None:
        if len(state) == 1:
            self.__init__()  # type: ignore[misc]
            self.ts = state[0]
            self.n = len(state[0])
        else:
            first, t0, step, self.n = state
            self.ts = None
            self.runs = array("q", [v for run in zip(first, t0, step, strict=True) for v in run])

    def tail(self, h: int) -> Timeline:
        """Return a new timeline of the points from index ``h`` on."""
        out = Timeline()
        if self.ts is not None:
            out.ts, out.n = self.ts[h:], self.n - h
            out._regularise()
            return out
        out.runs, out.n = self.runs[:], self.n
        if h:
            out.drop(h)
        return out

    def _run(self, field: int, x: int) -> int:
        """Return the last run whose ``field`` (0: first index, 1: timestamp) is <= ``x``."""
        runs = self.runs
        lo, hi = 0, len(runs) // 3
        while lo < hi:
            mid = (lo + hi) // 2
            if x < runs[3 * mid + field]:
                hi = mid
            else:
                lo = mid + 1
        return lo - 1

    def at(self, i: int) -> int:
        """Return the timestamp at index ``i``."""
        if self.ts is not None:
            return self.ts[i]
        runs = self.runs
        if len(runs) == 3:
            return runs[1] + i * runs[2]
        r = 3 * self._run(0, i)
        return runs[r + 1] + (i - runs[r]) * runs[r + 2]

    def last(self) -> int:
        """Return the latest timestamp (the timeline must not be empty)."""
        if self.ts is not None:
            return self.ts[-1]
        runs = self.runs
        return runs[-2] + (self.n - 1 - runs[-3]) * runs[-1]

    def _locate(self, t: int) -> tuple[int, int, int, int]:
        # The run holding or preceding t: (its first index, its length, t - t0, step).
        runs = self.runs
        r = 3 * self._run(1, t)
        first = runs[r]
        end = runs[r + 3] if r + 3 < len(runs) else self.n
        return first, end - first, t - runs[r + 1], runs[r + 2]

    def left(self, t: int) -> int:
        """Return the first index whose timestamp is >= ``t``."""
        if self.ts is not None:
            return bisect_left(self.ts, t)
        runs = self.runs
        if len(runs) == 3:  # one run, the common case: arithmetic only
            d = t - runs[1]
            if d <= 0:
                return 0
            step = runs[2]
            return min(-(-d // step), self.n) if step else 1
        if not self.n or t <= runs[1]:
            return 0
        first, length, d, step = self._locate(t)
        if d == 0:
            return first
        return first + (min(-(-d // step), length) if step else 1)

    def right(self, t: int) -> int:
        """Return the first index whose timestamp is > ``t``."""
        if self.ts is not None:
            return bisect_right(self.ts, t)
        runs = self.runs
        if len(runs) == 3:
            d = t - runs[1]
            if d < 0:
                return 0
            step = runs[2]
            return min(d // step + 1, self.n) if step else 1
        if not self.n or t < runs[1]:
            return 0
        if t >= runs[-2] + (self.n - 1 - runs[-3]) * runs[-1]:
            return self.n  # at or after the last timestamp: a window ending at the newest reading
        first, length, d, step = self._locate(t)
        return first + (min(d // step + 1, length) if step else 1)

    def append(self, t: int) -> None:
        """Add ``t`` at the end; it must not be earlier than the last timestamp."""
        if self.ts is not None:
            self.ts.append(t)
            self.n += 1
            return
        n = self.n
        runs = self.runs
        if n:
            step = runs[-1]
            if step and t - runs[-2] == (n - runs[-3]) * step:  # the run goes on
                self.n = n + 1
                return
        else:
            self.runs = array("q", (0, t, 0))
            self.n = 1
            return
        gap = t - self.last()
        if gap <= 0:
            self._explicit()
            self.append(t)
            return
        step = runs[-1]
        if step == 0 and n - runs[-3] == 1:
            runs[-1] = gap
        elif gap != step:
            if 4 * (len(runs) // 3 + 1) > n + 16:  # irregular: a run per few points
                self._explicit()
                self.append(t)
                return
            runs.extend((n, t, 0))
        self.n = n + 1

    def insert(self, i: int, t: int) -> None:
        """Insert ``t`` at index ``i`` (keeping the order is the caller's business)."""
        self._explicit()
        assert self.ts is not None
        self.ts.insert(i, t)
        self.n += 1

    def drop(self, h: int) -> None:
        """Forget the first ``h`` points."""
        if self.ts is not None:
            del self.ts[:h]
            self.n -= h
            self._regularise()
            return
        if h >= self.n:
            self.__init__()  # type: ignore[misc]
            return
        runs = self.runs
        r = 3 * self._run(0, h)
        t = runs[r + 1] + (h - runs[r]) * runs[r + 2]
        del runs[:r]
        runs[1] = t
        runs[0] = h
        for k in range(0, len(runs), 3):
            runs[k] -= h
        self.n -= h
        if len(runs) == 3 and self.n == 1:
            runs[2] = 0  # a lone point: the next one sets the step

    def slice(self, lo: int, hi: int) -> array:
        """Return the timestamps at indices ``lo:hi``."""
        if self.ts is not None:
            return self.ts[lo:hi]
        out = array("q")
        if lo >= hi:
            return out
        runs = self.runs
        r = 3 * self._run(0, lo)
        i = lo
        while i < hi:
            first, t0, step = runs[r], runs[r + 1], runs[r + 2]
            end = min(runs[r + 3] if r + 3 < len(runs) else self.n, hi)
            if step and end - i > 16:
                a = t0 + (i - first) * step
                out.frombytes(np.arange(a, a + (end - i) * step, step, dtype=np.int64).tobytes())
            elif step:
                out.extend(range(t0 + (i - first) * step, t0 + (end - first) * step, step))
            else:
                out.append(t0)
            i = end
            r += 3
        return out

    def _explicit(self) -> None:
        if self.ts is None:
            self.ts = self.slice(0, self.n)
            self.runs = array("q")

    def _regularise(self) -> None:
        # Back to runs if the explicit timestamps are strictly increasing and few runs hold them.
        ts = self.ts
        assert ts is not None
        runs = Timeline()
        for t in ts:
            if runs.ts is not None or (runs.n and t <= runs.last()):
                return
            runs.append(t)
        if runs.ts is not None:
            return
        self.runs, self.ts = runs.runs, None
