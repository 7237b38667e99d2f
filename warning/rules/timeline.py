"""Sorted timestamps of a series, implicit while reports come at a regular step."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right

import numpy as np


class Timeline:
    """Sorted epoch-ms timestamps held as runs ``t0 + k * step`` or, if irregular, explicitly.

    A gauge reporting every minute is one run (three numbers) instead of 8 bytes a point; a
    missed report starts a new run. Equal or out-of-order timestamps, or runs averaging under
    four points, switch to an explicit array; compaction (``drop``) goes back to runs when the
    remaining points allow it. ``left`` and ``right`` are ``bisect_left`` and ``bisect_right``.

    >>> t = Timeline()
    >>> for ts in (0, 60, 120, 240, 300):
    ...     t.append(ts)
    >>> len(t.first), t.left(200), t.right(240), t.at(4)
    (2, 3, 4, 300)
    """

    __slots__ = ("first", "t0", "step", "ts", "n")

    def __init__(self) -> None:
        self.first = array("q")  # index of each run's first point
        self.t0 = array("q")  # its timestamp
        self.step = array("q")  # ms between its points (0 while it has only one)
        self.ts: array | None = None  # the timestamps themselves once irregular
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def __getstate__(self) -> tuple:
        return (self.ts,) if self.ts is not None else (self.first, self.t0, self.step, self.n)

    def __setstate__(self, state: tuple) -> None:
        if len(state) == 1:
            self.__init__()  # type: ignore[misc]
            self.ts = state[0]
            self.n = len(state[0])
        else:
            self.ts = None
            self.first, self.t0, self.step, self.n = state

    def tail(self, h: int) -> Timeline:
        """Return a new timeline of the points from index ``h`` on."""
        out = Timeline()
        if self.ts is not None:
            out.ts, out.n = self.ts[h:], self.n - h
            out._regularise()
            return out
        out.first, out.t0, out.step, out.n = self.first[:], self.t0[:], self.step[:], self.n
        if h:
            out.drop(h)
        return out

    def _run_of(self, i: int) -> int:
        return bisect_right(self.first, i) - 1

    def at(self, i: int) -> int:
        """Return the timestamp at index ``i``."""
        if self.ts is not None:
            return self.ts[i]
        if len(self.first) == 1:
            return self.t0[0] + i * self.step[0]
        r = bisect_right(self.first, i) - 1
        return self.t0[r] + (i - self.first[r]) * self.step[r]

    def last(self) -> int:
        """Return the latest timestamp (the timeline must not be empty)."""
        if self.ts is not None:
            return self.ts[-1]
        return self.t0[-1] + (self.n - 1 - self.first[-1]) * self.step[-1]

    def _locate(self, t: int) -> tuple[int, int, int, int]:
        # The run holding or preceding t: (its first index, its length, t - t0, step).
        r = bisect_right(self.t0, t) - 1
        first = self.first[r]
        end = self.first[r + 1] if r + 1 < len(self.first) else self.n
        return first, end - first, t - self.t0[r], self.step[r]

    def left(self, t: int) -> int:
        """Return the first index whose timestamp is >= ``t``."""
        if self.ts is not None:
            return bisect_left(self.ts, t)
        t0 = self.t0
        if len(t0) == 1:  # one run, the common case: arithmetic only
            d = t - t0[0]
            if d <= 0:
                return 0
            step = self.step[0]
            return min(-(-d // step), self.n) if step else 1
        if not self.n or t <= t0[0]:
            return 0
        first, length, d, step = self._locate(t)
        if d == 0:
            return first
        return first + (min(-(-d // step), length) if step else 1)

    def right(self, t: int) -> int:
        """Return the first index whose timestamp is > ``t``."""
        if self.ts is not None:
            return bisect_right(self.ts, t)
        t0 = self.t0
        if len(t0) == 1:
            d = t - t0[0]
            if d < 0:
                return 0
            step = self.step[0]
            return min(d // step + 1, self.n) if step else 1
        if not self.n or t < t0[0]:
            return 0
        first, length, d, step = self._locate(t)
        return first + (min(d // step + 1, length) if step else 1)

    def append(self, t: int) -> None:
        """Add ``t`` at the end; it must not be earlier than the last timestamp."""
        if self.ts is not None:
            self.ts.append(t)
            self.n += 1
            return
        n = self.n
        if n:
            step = self.step[-1]
            if step and t - self.t0[-1] == (n - self.first[-1]) * step:  # the run goes on
                self.n = n + 1
                return
        else:
            self.first.append(0)
            self.t0.append(t)
            self.step.append(0)
            self.n = 1
            return
        gap = t - self.last()
        if gap <= 0:
            self._explicit()
            self.append(t)
            return
        step = self.step[-1]
        if step == 0 and n - self.first[-1] == 1:
            self.step[-1] = gap
        elif gap != step:
            if 4 * (len(self.first) + 1) > n + 16:  # irregular: a run per few points
                self._explicit()
                self.append(t)
                return
            self.first.append(n)
            self.t0.append(t)
            self.step.append(0)
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
        r = bisect_right(self.first, h) - 1
        t = self.t0[r] + (h - self.first[r]) * self.step[r]
        del self.first[:r], self.t0[:r], self.step[:r]
        self.t0[0] = t
        self.first[0] = h
        for k in range(len(self.first)):
            self.first[k] -= h
        self.n -= h
        if len(self.first) == 1 and self.n == 1:
            self.step[0] = 0  # a lone point: the next one sets the step

    def slice(self, lo: int, hi: int) -> array:
        """Return the timestamps at indices ``lo:hi``."""
        if self.ts is not None:
            return self.ts[lo:hi]
        out = array("q")
        if lo >= hi:
            return out
        r = bisect_right(self.first, lo) - 1
        i = lo
        while i < hi:
            first, t0, step = self.first[r], self.t0[r], self.step[r]
            end = min(self.first[r + 1] if r + 1 < len(self.first) else self.n, hi)
            if step and end - i > 16:
                a = t0 + (i - first) * step
                out.frombytes(np.arange(a, a + (end - i) * step, step, dtype=np.int64).tobytes())
            elif step:
                out.extend(range(t0 + (i - first) * step, t0 + (end - first) * step, step))
            else:
                out.append(t0)
            i = end
            r += 1
        return out

    def _explicit(self) -> None:
        if self.ts is None:
            self.ts = self.slice(0, self.n)
            self.first, self.t0, self.step = array("q"), array("q"), array("q")

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
        self.first, self.t0, self.step, self.ts = runs.first, runs.t0, runs.step, None
