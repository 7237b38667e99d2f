"""The incremental rain event gives the I-D ratios of a pass over the window (to 1e-12 relative)."""

from __future__ import annotations

import copy
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from warning.rules.functions import ID_DRY_GAP_MS, H, id_exceedance
from warning.rules.rainevent import RainEvent
from warning.rules.windows import Series

M = 60_000
THRESHOLDS = ((14.82, -0.39), (2.20, -0.44))


def window_ratio(ts, vals, now, a, b, dry_gap_ms=ID_DRY_GAP_MS, min_duration_h=1.0):
    """The vectorised pass this replaced (commit e647a99), kept as the reference."""
    if not any(vals):
        return None
    t = np.asarray(ts, dtype=np.int64)
    mm = np.asarray(vals, dtype=np.float64)
    keep = t <= now
    t, mm = t[keep], mm[keep]
    if t.size == 0:
        return None
    gaps = np.diff(t)
    gaps = gaps[gaps > 0]
    step = int(np.partition(gaps, (gaps.size - 1) // 2)[(gaps.size - 1) // 2]) if gaps.size else 0
    span = np.minimum(np.diff(t, prepend=t[0] - step), step)
    wet = mm > 0
    if not wet.any():
        return None
    ends = t[wet]
    starts = ends - span[wet]
    rain = mm[wet]
    breaks = np.flatnonzero(starts[1:] - ends[:-1] >= dry_gap_ms)
    first = int(breaks[-1]) + 1 if breaks.size else 0
    starts, rain = starts[first:], rain[first:]
    rain_to_now = np.round(np.cumsum(rain[::-1])[::-1], 9)
    duration_h = np.maximum((now - starts) / H, min_duration_h)
    return float(((rain_to_now / duration_h) / (a * duration_h**b)).max())


def same_ratio(got, want):
    """Equal, or both floats within 1e-12 relative: Python's and numpy's pow may differ by 1 ulp."""
    if got is None or want is None:
        return got is want
    return math.isclose(got, want, rel_tol=1e-12)


def test_pow_paths_may_differ_by_one_ulp_and_still_compare_equal():
    # The case that made an exact comparison fail by chance (0.014874980644458365 vs ...366).
    assert same_ratio(0.014874980644458365, 0.014874980644458366)
    assert not same_ratio(0.0148749806444, 0.0148749806445)
    assert not same_ratio(None, 0.0)


@st.composite
def arrivals(draw):
    """Readings as they arrive: mostly in order, some late, with long dry spells and bursts."""
    n = draw(st.integers(1, 150))
    gaps = draw(st.lists(st.sampled_from([1, 5, 5, 5, 5, 10, 60, 400]), min_size=n, max_size=n))
    rain = draw(
        st.lists(
            st.one_of(
                st.just(0.0),
                st.just(0.0),
                st.sampled_from([0.1, 0.2]),
                st.floats(0, 50, allow_nan=False),
            ),
            min_size=n,
            max_size=n,
        )
    )
    late = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    ts, t = [], 0
    for g in gaps:
        t += g * M
        ts.append(t)
    items = list(zip(ts, rain, strict=True))
    for i in range(1, n):  # a late reading swaps places with the one before it
        if late[i] and draw(st.integers(0, 9)) == 0:
            items[i - 1], items[i] = items[i], items[i - 1]
    return items


@settings(max_examples=200, deadline=None)
@given(arrivals(), st.sampled_from([3 * H, 24 * H]), st.booleans())
def test_incremental_event_matches_a_pass_over_the_window(items, window_ms, snapshot):
    s = Series()
    event = RainEvent(window_ms, ID_DRY_GAP_MS)
    now = None
    for ts, mm in items:
        s.add(ts, mm)
        now = ts if now is None else max(now, ts)
        s.trim(now - window_ms - 3_600_000)
        if snapshot:  # a restored snapshot has no cached event: it is rebuilt
            s = copy.deepcopy(s)
        found = event.update(s, now)
        rain = event.rain(s, now)
        assert found == (rain is not None)
        wts, wvals = s.window(now - window_ms, now)
        for a, b in THRESHOLDS:
            want = window_ratio(wts, wvals, now, a, b)
            got = rain.ratio(now, a, b) if rain is not None else None
            assert same_ratio(got, want), (ts, a, b, got, want)


@settings(max_examples=150, deadline=None)
@given(arrivals(), st.integers(0, 120))
def test_id_exceedance_matches_the_window_pass(items, back_min):
    items.sort()
    ts, mm = [t for t, _ in items], [v for _, v in items]
    now = ts[-1] - back_min * M
    for a, b in THRESHOLDS:
        got, want = id_exceedance(ts, mm, now, a, b), window_ratio(ts, mm, now, a, b)
        assert same_ratio(got, want), (got, want)


def test_a_dry_gap_starts_a_new_event_and_the_old_one_leaves_the_window():
    s = Series()
    event = RainEvent(24 * H, ID_DRY_GAP_MS)
    for i, mm in enumerate([5.0, 5.0] + [0.0] * 80 + [1.0]):  # 7 h dry, then 1 mm
        s.add(i * 5 * M, mm)
        event.update(s, i * 5 * M)
    rain = event.rain(s, 82 * 5 * M)
    assert rain is not None and list(rain.mm) == [1.0]
    for i in range(83, 83 + 300):  # a day without rain: the event leaves the window
        s.add(i * 5 * M, 0.0)
        found = event.update(s, i * 5 * M)
    assert not found


@settings(max_examples=150, deadline=None)
@given(arrivals(), st.sampled_from([3 * H, 24 * H]))
def test_long_events_are_picked_out_as_the_loop_does(items, window_ms):
    # An event spanning _NUMPY_SPAN reports or more is read with numpy: the same interval
    # starts and rain, bit for bit, as the loop gives for every span.
    from warning.rules import rainevent

    s = Series()
    fast, slow = RainEvent(window_ms, ID_DRY_GAP_MS), RainEvent(window_ms, ID_DRY_GAP_MS)
    now = None
    span = rainevent._NUMPY_SPAN
    try:
        for ts, mm in items:
            s.add(ts, mm)
            now = ts if now is None else max(now, ts)
            fast.update(s, now)
            slow.update(s, now)
            rainevent._NUMPY_SPAN = span
            got = fast.rain(s, now)
            rainevent._NUMPY_SPAN = 10**9  # the loop only
            want = slow.rain(s, now)
            assert (got is None) == (want is None)
            if got is not None and want is not None:
                assert got.starts.tobytes() == want.starts.tobytes()
                assert got.mm.tobytes() == want.mm.tobytes()
    finally:
        rainevent._NUMPY_SPAN = span


def test_an_event_longer_than_the_window_is_read_alike_both_ways():
    # Drizzle every 5 min for 30 h, some reports late by a minute: the event starts before the
    # 24 h window, so its first report in the window takes one step as its interval.
    from warning.rules import rainevent

    s = Series()
    fast, slow = RainEvent(24 * H, ID_DRY_GAP_MS), RainEvent(24 * H, ID_DRY_GAP_MS)
    span = rainevent._NUMPY_SPAN
    compared = 0
    try:
        for k in range(360):
            now = k * 5 * M + (M if k % 7 == 3 else 0)
            s.add(now, 0.2 if k % 5 else 0.0)
            fast.update(s, now)
            slow.update(s, now)
            got = fast.rain(s, now)
            rainevent._NUMPY_SPAN = 10**9
            want = slow.rain(s, now)
            rainevent._NUMPY_SPAN = span
            assert (got is None) == (want is None) == (k == 0)  # the first report is dry
            if got is not None and want is not None:
                assert got.starts.tobytes() == want.starts.tobytes()
                assert got.mm.tobytes() == want.mm.tobytes()
                compared += len(got.mm) >= span
    finally:
        rainevent._NUMPY_SPAN = span
    assert compared > 300  # the numpy path was taken
