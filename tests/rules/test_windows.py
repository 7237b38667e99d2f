"""The compact Series answers exactly as a plain list-and-float-prefix-sum series does."""

from __future__ import annotations

import copy
import math
import pickle
from bisect import bisect_left, bisect_right

from hypothesis import given, settings
from hypothesis import strategies as st

from warning.rules.timeline import Timeline
from warning.rules.windows import Series

M = 60_000
FUNCS = ("sum", "count", "last", "mean", "min", "max", "delta", "rate")


class Plain:
    """The series as it was stored before: sorted lists and float prefix sums."""

    def __init__(self) -> None:
        self.ts: list[int] = []
        self.vals: list[float] = []
        self.head = 0

    def add(self, ts: int, v: float) -> None:
        i = bisect_right(self.ts, ts, self.head)
        self.ts.insert(i, ts)
        self.vals.insert(i, v)

    def trim(self, before: int) -> None:
        self.head = bisect_left(self.ts, before, self.head)

    def replace(self, ts: int, v: float) -> float | None:
        i = bisect_left(self.ts, ts, self.head)
        if i == len(self.ts) or self.ts[i] != ts:
            return None
        old, self.vals[i] = self.vals[i], v
        return old

    def has(self, ts: int) -> bool:
        i = bisect_left(self.ts, ts, self.head)
        return i < len(self.ts) and self.ts[i] == ts

    def window(self, start: int, now: int) -> tuple[list[int], list[float]]:
        lo = bisect_left(self.ts, start, self.head)
        hi = bisect_right(self.ts, now, lo)
        return self.ts[lo:hi], self.vals[lo:hi]

    def aggregate(self, func: str, duration: int | None, now: int) -> float | None:
        hi = bisect_right(self.ts, now, self.head)
        if duration is None:
            return self.vals[hi - 1] if hi > self.head else None
        edge = bisect_left if func in ("delta", "rate") else bisect_right
        lo = edge(self.ts, now - duration, self.head, hi)
        v, n = self.vals[lo:hi], hi - lo
        if func == "count":
            return float(n)
        if func == "sum":
            return round(math.fsum(v), 9) if n else 0.0
        if n == 0:
            return None
        if func == "last":
            return v[-1]
        if func == "mean":
            return round(math.fsum(v) / n, 9)
        if func in ("min", "max"):
            return min(v) if func == "min" else max(v)
        if n < 2:
            return None
        change = round(v[-1] - v[0], 9)
        if func == "delta":
            return change
        span_h = (self.ts[hi - 1] - self.ts[lo]) / 3_600_000
        return round(change / span_h, 9) if span_h > 0 else None


def same(got: float | None, want: float | None, func: str, tol: float) -> bool:
    """Exact, except sums and means of floats: float prefix sums are exact to ``tol``."""
    if got is None or want is None:
        return got is want
    if func == "mean" or (func == "sum" and tol):
        return abs(got - want) <= max(tol, 1e-9)
    if func == "sum":  # 0.0 either way: prefix sums never gave -0.0, fsum may
        return got == want
    return got == want and math.copysign(1, got) == math.copysign(1, want)


values = st.one_of(
    st.sampled_from([0.0, 0.0, 0.1, 0.2, 0.5, 1.3, 12.7, 12.8, -0.1]),
    st.integers(-40_000, 40_000).map(lambda k: k / 100),
    st.integers(-(2**33), 2**33).map(float),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.just(-0.0),
    st.just(0.1 + 0.2),
)


@st.composite
def arrivals(draw, regular: bool):
    """Readings as they arrive: a step (with gaps) or irregular, some late, with trims."""
    n = draw(st.integers(0, 400))
    step = draw(st.sampled_from([M, 5 * M, 1_000]))
    if regular:
        gaps = draw(st.lists(st.sampled_from([1] * 20 + [2, 3, 0]), min_size=n, max_size=n))
    else:
        gaps = draw(st.lists(st.integers(0, 7), min_size=n, max_size=n))
    kind = draw(st.sampled_from(["tips", "hundredths", "any"]))
    if kind == "tips":
        pool = st.integers(0, 300).map(lambda k: k / 10)
    elif kind == "hundredths":
        pool = st.integers(-5_000, 5_000).map(lambda k: k / 100)
    else:
        pool = values
    vals = draw(st.lists(pool, min_size=n, max_size=n))
    ts, t = [], draw(st.integers(0, 10**12))
    for g in gaps:
        t += g * step + (0 if regular else draw(st.integers(0, 999)))
        ts.append(t)
    items = list(zip(ts, vals, strict=True))
    for i in range(1, n):  # a late reading swaps places with the one before it
        if draw(st.integers(0, 19)) == 0:
            items[i - 1], items[i] = items[i], items[i - 1]
    return items, step


def check(s: Series, p: Plain, now: int, step: int, durations: list[int]) -> None:
    # Decimal codes sum exactly; float prefix sums carry the error of the running total.
    tol = 0.0 if s.scale else 1e-9 * max(1.0, sum(abs(v) for v in p.vals))
    assert len(s) == len(p.ts) - p.head
    wts, wv = s.window(now - durations[0], now)
    pts, pv = p.window(now - durations[0], now)
    assert list(wts) == pts and list(wv) == pv
    for d in [*durations, None]:
        for f in FUNCS:
            got, want = s.aggregate(f, d, now), p.aggregate(f, d, now)
            assert same(got, want, f, tol), (f, d, got, want)
    for t in (now, now - step, now - step // 2):
        assert s.has(t) == p.has(t)


@settings(max_examples=150, deadline=None)
def arrive(pair: list, items: list[tuple[int, float]], step: int):
    """Add each item to both series of ``pair`` (trimming every third); yield index and now.

    ``pair`` is ``[Series, Plain]``; the caller may put another Series in ``pair[0]``.
    """
    now = None
    for k, (ts, v) in enumerate(items):
        for series in pair:
            series.add(ts, v)
        now = ts if now is None else max(now, ts)
        if k % 3 == 0:
            for series in pair:
                series.trim(now - 100 * step)
        yield k, now


@given(st.booleans().flatmap(arrivals), st.booleans(), st.lists(st.integers(1, 600), min_size=1))
def test_series_answers_as_the_plain_reference(arrival, snapshot, minutes):
    items, step = arrival
    pair = [Series(), Plain()]
    durations = [m * step // 10 for m in minutes[:4]]
    now = None
    for k, now in arrive(pair, items, step):
        if snapshot and k % 50 == 49:
            s = pair[0]
            pair[0] = copy.deepcopy(s) if k % 100 == 49 else pickle.loads(pickle.dumps(s))
        check(*pair, now, step, durations)
        check(*pair, now - 7 * step, step, durations)
    if now is not None:
        assert pair[0].last() == pair[1].aggregate("last", None, now)


@settings(max_examples=100, deadline=None)
@given(
    st.booleans().flatmap(arrivals),
    st.lists(st.tuples(st.integers(0, 10**6), values), min_size=1, max_size=6),
)
def test_a_value_put_in_place_of_another_answers_as_the_plain_reference(arrival, swaps):
    """A reading named a fault afterwards gets a stand-in: every window sees it exactly."""
    items, step = arrival
    s, p = Series(), Plain()
    now = max((t for _, t in arrive([s, p], items, step)), default=None)
    if now is None:
        assert s.replace(0, 1.0) is None
        return
    held = p.ts[p.head :]
    s.memo = {"kept": True}
    for pick, v in swaps:
        ts = held[pick % len(held)] if held else now
        assert s.replace(ts, v) == p.replace(ts, v)
        assert s.replace(ts + 1, v) == p.replace(ts + 1, v)  # no value at that time: None
        check(s, p, now, step, [step, 10 * step, 100 * step])
    assert s.memo is None  # incremental rule functions start again from the series


def test_regular_tips_take_a_byte_a_point_and_no_timestamps():
    s = Series()
    for m in range(1_446):
        s.add(1_780_000_000_000 + m * M, (m % 7) / 10)
    assert s.codes.typecode == "b" and s.scale == 10
    assert len(s.times.runs) == 3 and s.times.ts is None
    tenths = sum(m % 7 for m in range(1_386, 1_446))  # the last hour, in 0.1 mm
    assert s.aggregate("sum", 60 * M, 1_780_000_000_000 + 1_445 * M) == tenths / 10


def test_a_missed_report_starts_a_run_and_jitter_falls_back_to_explicit_times():
    s = Series()
    for m in (0, 1, 2, 4, 5, 6):
        s.add(m * M, 1.0)
    assert list(s.times.runs[1::3]) == [0, 4 * M] and s.times.ts is None
    jitter = [k * M + (k * k * 7919) % 1000 for k in range(100)]
    j = Series()
    for t in jitter:
        j.add(t, 1.0)
    assert j.times.ts is not None
    assert list(j.window(0, 200 * M)[0]) == jitter


def test_values_that_are_not_exact_decimals_stay_float64():
    s = Series()
    s.add(0, 0.1)
    s.add(M, 0.1 + 0.2)
    assert s.scale == 0 and s.codes.typecode == "d"
    assert s.aggregate("max", 10 * M, M) == 0.1 + 0.2
    n = Series()
    n.add(0, -0.0)
    last = n.last()
    assert last is not None and math.copysign(1, last) == -1.0


def test_a_series_pickled_by_the_float_array_layout_restores():
    old = {"ts": [0, M, 2 * M, 3 * M], "vals": [0.5, 0.1, 0.2, 0.3], "cum": [], "head": 1}
    s = Series.__new__(Series)
    s.__setstate__((None, {**old, "memo": {"cached": object()}}))
    assert len(s) == 3 and s.memo is None
    assert s.aggregate("sum", 10 * M, 3 * M) == 0.6
    assert s.times.ts is None and s.scale == 10


def test_timeline_bisects_as_the_explicit_timestamps_do():
    t = Timeline()
    stamps = [0, 60, 120, 180, 500, 560, 620, 1_000, 1_060]
    for x in stamps:
        t.append(x)
    for probe in range(-10, 1_100, 7):
        assert t.left(probe) == bisect_left(stamps, probe)
        assert t.right(probe) == bisect_right(stamps, probe)
    t.drop(5)
    assert list(t.slice(0, len(t))) == stamps[5:]
