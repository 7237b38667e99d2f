"""The vectorised rule functions give the same answers as the reference indicator functions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warning.indicators import exposure, rainfall
from warning.rules.functions import ID_DRY_GAP_MS, H, id_exceedance, time_weighted_mean

M = 60_000


@st.composite
def series(draw, max_size=200):
    gaps = draw(st.lists(st.sampled_from([1, 5, 5, 5, 10, 60, 400]), min_size=1, max_size=max_size))
    ts, t = [], 0
    for g in gaps:
        t += g * M
        ts.append(t)
    values = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0, 50, allow_nan=False)),
            min_size=len(ts),
            max_size=len(ts),
        )
    )
    return ts, values


@settings(max_examples=300, deadline=None)
@given(series(), st.sampled_from([(14.82, -0.39), (2.20, -0.44)]), st.integers(0, 120))
def test_id_exceedance_matches_reference(data, ab, back_min):
    ts, mm = data
    now = ts[-1] - back_min * M
    want = rainfall.id_exceedance(ts, mm, now, *ab, ID_DRY_GAP_MS)
    got = id_exceedance(ts, mm, now, *ab)
    assert (got is None) == (want is None)
    if want is not None:
        assert got == pytest.approx(want, rel=1e-9)


@settings(max_examples=300, deadline=None)
@given(series(max_size=300), st.integers(1, 600), st.integers(-60, 60))
def test_time_weighted_mean_matches_reference(data, window_min, shift_min):
    ts, values = data
    end = ts[-1] + shift_min * M
    start = end - window_min * M
    want = exposure.time_weighted_mean(ts, values, start, end)
    got = time_weighted_mean(ts, values, start, end)
    assert (got is None) == (want is None)
    if want is not None:
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_id_exceedance_judges_only_the_latest_event():
    # 40 mm in an hour, then 7 h dry, then 1 mm: the old burst is another event.
    ts = [0, H, 8 * H, 9 * H]
    mm = [0.0, 40.0, 0.0, 1.0]
    assert id_exceedance(ts, mm, 9 * H, 14.82, -0.39) == pytest.approx(1 / 14.82)


def test_api_weights_days_back():
    from warning.rules.compile import Context, compile_node
    from warning.rules.expr import parse
    from warning.rules.windows import Series

    day = 24 * H
    now = 100 * day
    s = Series()
    for ts, mm in ((now - 2 * day - H, 10.0), (now - day, 5.0), (now - H, 20.0), (now, 0.0)):
        s.add(ts, mm)
    # By whole days old: 1 h old is day 0 (20 mm), exactly 1 d old is day 1 (5 mm),
    # 2 d 1 h old is day 2 (10 mm): 20 + 0.9 * 5 + 0.81 * 10.
    f = compile_node(parse("api(rain_mm, 0.9, 3d)"))
    assert f(Context({"rain_mm": s}, {}, now)) == pytest.approx(32.6)
