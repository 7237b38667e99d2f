"""Event-time series of one field with the window functions rules use."""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right


class Series:
    """Timestamped values of one field, kept sorted by event time, trimmed to a horizon.

    Sums use prefix sums, rounded to 1e-9 so that 0.1 mm tips add up to exactly 50 mm. Values
    live in typed arrays (8 bytes each, not a pointer to a 24-32 byte object): a gauge
    reporting every minute keeps 1,440+ points for the 24 h rules.

    >>> s = Series()
    >>> for minute, mm in enumerate([0.1] * 500):
    ...     s.add(minute * 60_000, mm)
    >>> s.aggregate("sum", 500 * 60_000, 499 * 60_000)
    50.0
    """

    __slots__ = ("ts", "vals", "cum", "head", "memo")

    def __init__(self) -> None:
        self.ts = array("q")  # epoch ms
        self.vals = array("d")
        self.cum = array("d", (0.0,))  # cum[i] = sum of vals[:i]
        self.head = 0  # index of the first live item; older ones await compaction
        #: Work kept between evaluations by incremental rule functions (e.g. the latest rain
        #: event); a cache only: snapshots leave it out and it is rebuilt when missing.
        self.memo: dict | None = None

    def __len__(self) -> int:
        return len(self.ts) - self.head

    def __deepcopy__(self, memo: dict) -> Series:
        # bytewax deep-copies state at every snapshot: copying the arrays is a memcpy.
        out = Series()
        out.ts, out.vals, out.cum, out.head = (
            self.ts[self.head :],
            self.vals[self.head :],
            self.cum[self.head :],
            0,
        )
        return out

    def has(self, ts: int) -> bool:
        """Return True if a value at exactly ``ts`` is held."""
        i = bisect_left(self.ts, ts, self.head)
        return i < len(self.ts) and self.ts[i] == ts

    def add(self, ts: int, value: float) -> None:
        """Insert a value; appending in time order is the cheap, common case."""
        if not self.ts or ts >= self.ts[-1]:
            self.ts.append(ts)
            self.vals.append(value)
            self.cum.append(self.cum[-1] + value)
            return
        i = bisect_right(self.ts, ts, self.head)
        self.ts.insert(i, ts)
        self.vals.insert(i, value)
        self.cum.insert(i + 1, 0.0)
        for j in range(i, len(self.vals)):
            self.cum[j + 1] = self.cum[j] + self.vals[j]

    def trim(self, before: int) -> None:
        """Forget values older than ``before``; compact storage now and then."""
        self.head = bisect_left(self.ts, before, self.head)
        if self.head > 64 and self.head * 2 > len(self.ts):
            h = self.head
            del self.ts[:h], self.vals[:h], self.cum[:h]
            self.head = 0

    def window(self, start: int, now: int) -> tuple[array, array]:
        """Return the timestamps and values in ``[start, now]``."""
        lo = bisect_left(self.ts, start, self.head)
        hi = bisect_right(self.ts, now, lo)
        return self.ts[lo:hi], self.vals[lo:hi]

    def last(self) -> float | None:
        """Return the latest value, or None."""
        return self.vals[-1] if len(self.ts) > self.head else None

    def aggregate(self, func: str, duration: int | None, now: int) -> float | None:
        """Apply a window function over ``(now - duration, now]``.

        ``delta`` and ``rate`` include a value at exactly ``now - duration`` as their baseline;
        ``rate`` is per hour. Empty windows give 0 for sum and count, None otherwise.
        """
        hi = bisect_right(self.ts, now, self.head)
        if duration is None:
            return self.vals[hi - 1] if hi > self.head else None
        start = now - duration
        if func in ("delta", "rate"):
            lo = bisect_left(self.ts, start, self.head, hi)
        else:
            lo = bisect_right(self.ts, start, self.head, hi)
        n = hi - lo
        if func == "sum":
            return round(self.cum[hi] - self.cum[lo], 9) if n else 0.0
        if func == "count":
            return float(n)
        if n == 0:
            return None
        if func == "last":
            return self.vals[hi - 1]
        if func == "mean":
            return round((self.cum[hi] - self.cum[lo]) / n, 9)
        if func == "min":
            return min(self.vals[lo:hi])
        if func == "max":
            return max(self.vals[lo:hi])
        if n < 2:
            return None
        change = round(self.vals[hi - 1] - self.vals[lo], 9)
        if func == "delta":
            return change
        if func == "rate":
            span_h = (self.ts[hi - 1] - self.ts[lo]) / 3_600_000
            return round(change / span_h, 9) if span_h > 0 else None
        msg = f"unknown window function {func!r}"
        raise ValueError(msg)
