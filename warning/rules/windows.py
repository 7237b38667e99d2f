"""Event-time series of one field with the window functions rules use."""

from __future__ import annotations

from array import array
from math import copysign, isfinite
from typing import Any

import numpy as np
from mypy_extensions import mypyc_attr

from warning.rules.timeline import Timeline

#: Decimal places tried for an exact integer code (0.1 mm tips need one).
_MAX_DECIMALS = 6
#: Integer codes, smallest first; each value must also convert to a float exactly.
_CODES = (("b", 1 << 7), ("h", 1 << 15), ("i", 1 << 31))
_BOUND = dict(_CODES)
#: Types of the block prefix sums, smallest first.
_SUMS = (("h", 1 << 15), ("i", 1 << 31), ("q", 1 << 63))
#: Codes per block of the block prefix sums: a sum adds at most 2 * _BLOCK codes itself.
_BLOCK = 64


def _narrowest(totals: list[int]) -> array[Any]:
    """Return block prefix sums in the narrowest of int16, int32 and int64 they fit.

    A day of drizzle in 0.1 mm codes fits int16, a day of rain int32.
    """
    lo, hi = min(totals), max(totals)
    return array(next(t for t, bound in _SUMS if -bound <= lo and hi < bound), totals)


@mypyc_attr(allow_interpreted_subclasses=True)
class Series:
    """Timestamped values of one field, kept sorted by event time, trimmed to a horizon.

    A gauge reporting every minute keeps 1,440+ points for the 24 h rules, so the storage is
    compact: timestamps are implicit while reports are regular (``Timeline``), and values that
    are decimals of the sensor's resolution (0.1 mm tips) are small integers with a decimal
    scale, kept only when every value converts back to the very float it was (else plain
    float64). Sums are exact integer sums of the codes (block prefix sums), rounded to 1e-9;
    float series keep float prefix sums.

    >>> s = Series()
    >>> for minute, mm in enumerate([0.1] * 500):
    ...     s.add(minute * 60_000, mm)
    >>> s.aggregate("sum", 500 * 60_000, 499 * 60_000)
    50.0
    """

    __slots__ = ("times", "codes", "scale", "sums", "head", "memo")

    def __init__(self) -> None:
        self.times = Timeline()  # epoch ms
        self.codes: array[Any] = array(
            "b"
        )  # value * scale as integers, or the floats when scale is 0
        self.scale = 1  # 10 ** decimals; 0: codes are the float values themselves
        #: Integer codes: sums[k] = sum of codes[:k * _BLOCK] (int16 or int32 while the totals fit,
        #: else int64). Floats: sums[i] = sum of codes[:i] (float prefix sums, as before).
        self.sums: array[Any] = array("h", (0,))
        self.head = 0  # index of the first live item; older ones await compaction
        #: Work kept between evaluations by incremental rule functions (e.g. the latest rain
        #: event); a cache only: snapshots leave it out and it is rebuilt when missing.
        self.memo: dict | None = None

    def __len__(self) -> int:
        return len(self.codes) - self.head

    def __deepcopy__(self, memo: dict) -> Series:
        # bytewax deep-copies state at every snapshot: copying the arrays is a memcpy.
        out = Series.__new__(Series)
        out.__setstate__(self.__getstate__())
        return out

    def __getstate__(self) -> dict:
        """Return the live part in the compact form (the memo, a cache, is left out)."""
        h = self.head
        state = {"times": self.times.tail(h), "codes": self.codes[h:], "scale": self.scale}
        if not self.scale:
            state["sums"] = self.sums[h:]
        return state

    def __setstate__(self, state: object) -> None:
        """Restore a snapshot: this form, or the 0.2 one (``ts``/``vals``/``cum`` arrays)."""
        self.memo = None
        self.head = 0
        if isinstance(state, tuple):  # __slots__ without __getstate__: (None, {slot: value})
            state = state[1]
        if not isinstance(state, dict):
            msg = f"not a Series snapshot: {type(state).__name__}"
            raise TypeError(msg)
        if "times" in state:
            self.times, self.codes, self.scale = state["times"], state["codes"], state["scale"]
            self.sums = state["sums"] if "sums" in state else self._prefix()
            return
        self.__init__()  # type: ignore[misc]
        head = state.get("head", 0)
        for t, v in zip(state["ts"][head:], state["vals"][head:], strict=True):
            self.add(int(t), float(v))

    # -- storage -------------------------------------------------------------------------

    def _value(self, i: int) -> float:
        c = self.codes[i]
        return c / self.scale if self.scale else c

    def _prefix(self) -> array[Any]:
        codes = self.codes
        if not self.scale:
            out = array("d", (0.0,))
            total = 0.0
            for v in codes:
                total += v
                out.append(total)
            return out
        totals = [0]
        count = 0
        for k in range(0, len(codes) - _BLOCK + 1, _BLOCK):
            count += sum(codes[k : k + _BLOCK])
            totals.append(count)
        return _narrowest(totals)

    def _encode(self, value: float) -> int | None:
        """Return ``value``'s integer code, widening the scale or type if needed; None if none."""
        if not isfinite(value) or (value == 0 and copysign(1.0, value) < 0):
            return None
        scale = self.scale
        for _ in range(_MAX_DECIMALS + 1):
            c = round(value * scale)
            if c / scale == value:
                break
            scale *= 10
        else:
            return None
        if scale > 10**_MAX_DECIMALS:
            return None
        if scale != self.scale:
            factor = scale // self.scale
            if not self._recode([c * factor for c in self.codes], scale):
                return None
        bound = _BOUND[self.codes.typecode]
        if -bound <= c < bound:
            return c
        return c if self._recode(list(self.codes) + [c], scale, keep=True) else None

    def _recode(self, codes: list[int], scale: int, keep: bool = False) -> bool:
        """Hold ``codes`` in the narrowest type that fits; False if none does."""
        top = max(max(codes), -min(codes) - 1) if codes else 0
        for typecode, bound in _CODES:
            if top < bound:
                if keep:  # the caller appends the last code itself
                    codes = codes[:-1]
                self.codes, self.scale = array(typecode, codes), scale
                self.sums = self._prefix()
                return True
        return False

    def _to_floats(self) -> None:
        self.codes = array("d", (self._value(i) for i in range(len(self.codes))))
        self.scale = 0
        self.sums = self._prefix()

    def _compact(self) -> None:
        h = self.head
        self.times.drop(h)
        del self.codes[:h]
        self.head = 0
        if self.scale:
            self.sums = self._prefix()
        else:
            del self.sums[:h]  # float prefix sums keep their running totals, as ever

    def _sum(self, lo: int, hi: int) -> float:
        """Return the sum of values ``lo:hi`` (exact for integer codes), unrounded."""
        if not self.scale:
            return self.sums[hi] - self.sums[lo]
        codes = self.codes
        if hi - lo <= 2 * _BLOCK:
            total = sum(codes[lo:hi]) if hi - lo > 1 else (codes[lo] if hi > lo else 0)
        else:
            kl = -(-lo // _BLOCK)
            kh = hi // _BLOCK
            total = (
                sum(codes[lo : kl * _BLOCK])
                + self.sums[kh]
                - self.sums[kl]
                + sum(codes[kh * _BLOCK : hi])
            )
        return total / self.scale

    # -- public API ----------------------------------------------------------------------

    def has(self, ts: int) -> bool:
        """Return True if a value at exactly ``ts`` is held."""
        i = max(self.times.left(ts), self.head)
        return i < len(self.codes) and self.times.at(i) == ts

    def add(self, ts: int, value: float) -> None:
        """Insert a value; appending in time order is the cheap, common case."""
        scale = self.scale
        code = None
        if scale:
            try:
                c = round(value * scale)
            except (OverflowError, ValueError):  # inf, nan
                c = None
            if (
                c is not None
                and c / scale == value
                and -_BOUND[self.codes.typecode] <= c < _BOUND[self.codes.typecode]
                and (c or copysign(1.0, value) > 0)
            ):
                code = c
            else:
                code = self._encode(value)  # a finer scale or a wider type, if any fits
                if code is None:
                    self._to_floats()
        times, codes = self.times, self.codes
        n = len(codes)
        if not n or ts >= times.last():
            times.append(ts)
            if self.scale:
                codes.append(code)
                if (n + 1) % _BLOCK == 0:
                    total = self.sums[-1] + sum(codes[n + 1 - _BLOCK :])
                    try:
                        self.sums.append(total)
                    except OverflowError:  # past the type's range: widen the block sums
                        self.sums = _narrowest([*self.sums, total])
            else:
                codes.append(value)
                self.sums.append(self.sums[-1] + value)
            return
        i = max(times.right(ts), self.head)
        times.insert(i, ts)
        if self.scale:
            codes.insert(i, code)
            self.sums = self._prefix()
            return
        codes.insert(i, value)
        sums = self.sums
        sums.insert(i + 1, 0.0)
        for j in range(i, len(codes)):
            sums[j + 1] = sums[j] + codes[j]

    def replace(self, ts: int, value: float) -> float | None:
        """Put ``value`` in place of the value held at exactly ``ts``; return the old one.

        Returns None (and changes nothing) if no value at ``ts`` is held. For a reading
        named a sensor fault after it was taken (a spike): windows then sum the stand-in.
        """
        i = max(self.times.left(ts), self.head)
        if i >= len(self.codes) or self.times.at(i) != ts:
            return None
        old = self._value(i)
        if self.scale:
            code = self._encode(value)
            if code is None:
                self._to_floats()
            else:
                self.codes[i] = code
        if not self.scale:
            self.codes[i] = value
        self.sums = self._prefix()
        self.memo = None  # incremental rule functions start again from the series
        return old

    def trim(self, before: int) -> None:
        """Forget values older than ``before``; compact storage now and then."""
        self.head = max(self.times.left(before), self.head)
        if self.head > 64 and self.head * 16 > len(self.codes):  # at most 1/16 dead
            self._compact()

    def span(self, start: int, now: int, left: bool = True) -> tuple[int, int]:
        """Return the index range of ``[start, now]`` (``(start, now]`` if not ``left``)."""
        times, head = self.times, self.head
        hi = min(max(times.right(now), head), len(self.codes))
        lo = min(max(times.left(start) if left else times.right(start), head), hi)
        return lo, hi

    def time_at(self, i: int) -> int:
        """Return the timestamp at index ``i`` (indices as ``span`` gives them)."""
        return self.times.at(i)

    def value_at(self, i: int) -> float:
        """Return the value at index ``i``."""
        return self._value(i)

    def window(self, start: int, now: int) -> tuple[array, array]:
        """Return the timestamps and values in ``[start, now]``."""
        lo, hi = self.span(start, now)
        return self.times.slice(lo, hi), self.values(lo, hi)

    def values(self, lo: int, hi: int) -> array:
        """Return the values at indices ``lo:hi`` as float64."""
        if not self.scale:
            return self.codes[lo:hi]
        if hi - lo < 32:
            scale = self.scale
            return array("d", [c / scale for c in self.codes[lo:hi]])
        out = array("d")
        part = np.frombuffer(self.codes, self.codes.typecode)[lo:hi]
        out.frombytes((part / float(self.scale)).tobytes())
        return out

    def last(self) -> float | None:
        """Return the latest value, or None."""
        return self._value(len(self.codes) - 1) if len(self.codes) > self.head else None

    def aggregate(self, func: str, duration: int | None, now: int) -> float | None:
        """Apply a window function over ``(now - duration, now]``.

        ``delta`` and ``rate`` include a value at exactly ``now - duration`` as their baseline;
        ``rate`` is per hour. Empty windows give 0 for sum and count, None otherwise.
        """
        times, head = self.times, self.head
        hi = times.right(now)
        if hi < head:
            hi = head
        if duration is None:
            return self._value(hi - 1) if hi > head else None
        lo = (
            times.left(now - duration) if func in ("delta", "rate") else times.right(now - duration)
        )
        if lo < head:
            lo = head
        elif lo > hi:
            lo = hi
        n = hi - lo
        if func == "sum":
            return round(self._sum(lo, hi), 9) if n else 0.0
        if func == "count":
            return float(n)
        if n == 0:
            return None
        if func == "last":
            return self._value(hi - 1)
        if func == "mean":
            return round(self._sum(lo, hi) / n, 9)
        if func == "min" or func == "max":
            found = min(self.codes[lo:hi]) if func == "min" else max(self.codes[lo:hi])
            return found / self.scale if self.scale else found
        if n < 2:
            return None
        change = round(self._value(hi - 1) - self._value(lo), 9)
        if func == "delta":
            return change
        if func == "rate":
            span_h = (times.at(hi - 1) - times.at(lo)) / 3_600_000
            return round(change / span_h, 9) if span_h > 0 else None
        msg = f"unknown window function {func!r}"
        raise ValueError(msg)
