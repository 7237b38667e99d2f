"""Trends: time to a threshold from a least-squares line, and the words for it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from warning.indicators.trend import format_eta, time_to_threshold

H = 3_600_000
T0 = 1_720_000_000_000


def series(*values: float, step: int = H) -> tuple[list[int], list[float]]:
    return [T0 + i * step for i in range(len(values))], list(values)


def test_rising_water_level():
    # 菱湖 warning level 3.70 m; 3.10 m now, rising 0.2 m/h: 3 h.
    ts, lv = series(2.5, 2.7, 2.9, 3.1)
    assert time_to_threshold(ts, lv, 3.70, ts[-1], 6 * H) == pytest.approx(3.0)


def test_noisy_rise_uses_the_fitted_line():
    ts, lv = series(1.0, 1.3, 1.1, 1.4, 1.2, 1.5)
    slope, level_at_first = np.polyfit(range(6), lv, 1)
    level_now = level_at_first + 5 * slope
    eta = time_to_threshold(ts, lv, 2.0, ts[-1], 6 * H)
    assert eta == pytest.approx((2.0 - level_now) / slope)
    assert eta > (2.0 - lv[-1]) / slope  # the last reading is a high one: the line is lower


def test_already_above_and_rising_is_zero():
    ts, lv = series(4.0, 4.4, 4.6)
    assert time_to_threshold(ts, lv, 4.5, ts[-1], 6 * H) == 0.0


def test_above_but_falling_is_not_approaching():
    ts, lv = series(4.8, 4.7, 4.6)
    assert time_to_threshold(ts, lv, 4.5, ts[-1], 6 * H) is None


@pytest.mark.parametrize(
    "values",
    [
        (),  # empty
        (3.0,),  # one point
        (3.0, 3.0, 3.0),  # flat
        (3.0, 2.8, 2.6),  # falling: moving away
    ],
)
def test_not_approaching(values):
    ts, lv = series(*values)
    assert time_to_threshold(ts, lv, 4.0, T0 + 3 * H, 6 * H) is None


def test_falling_towards_a_low_threshold():
    # Oxygen 20.7 % falling 0.2 %/h: the 19.5 % low alarm in 6 h.
    ts, o2 = series(21.3, 21.1, 20.9, 20.7)
    assert time_to_threshold(ts, o2, 19.5, ts[-1], 6 * H, rising=False) == pytest.approx(6.0)
    assert time_to_threshold(ts, o2, 21.5, ts[-1], 6 * H, rising=False) == 0.0
    assert time_to_threshold(ts, o2, 19.5, ts[-1], 6 * H) is None  # wrong way for a rise


def test_window_and_now_bound_the_fit():
    # An old fall, then a rise: only the last 3 h count; a reading after now is ignored.
    ts, lv = series(5.0, 4.0, 3.0, 3.1, 3.2, 3.3, 9.9)
    now = ts[5]
    assert time_to_threshold(ts, lv, 3.5, now, 3 * H) == pytest.approx(2.0)
    assert time_to_threshold(ts, lv, 3.5, now, 3 * H, min_points=4) is None


def test_same_timestamp_has_no_trend():
    assert time_to_threshold([T0, T0], [1.0, 2.0], 3.0, T0, H) is None


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="same length"):
        time_to_threshold([T0], [1.0, 2.0], 3.0, T0, H)


@given(
    st.lists(st.floats(-1e3, 1e3), min_size=0, max_size=20),
    st.floats(-1e3, 1e3),
    st.booleans(),
)
def test_eta_is_none_or_non_negative(values, threshold, rising):
    ts, lv = series(*values, step=60_000)
    eta = time_to_threshold(ts, lv, threshold, T0 + 20 * 60_000, 30 * 60_000, rising=rising)
    assert eta is None or (eta >= 0 and math.isfinite(eta))


# (hours, text)
ETAS = [
    (None, "not approaching"),
    (math.inf, "not approaching"),
    (math.nan, "not approaching"),
    (-1.0, "now"),
    (0.0, "now"),
    (0.005, "under 1 min"),
    (1 / 60, "about 1 min"),
    (0.25, "about 15 min"),
    (59.6 / 60, "about 1 h"),  # rounds up to the hour
    (1.0, "about 1 h"),
    (2 + 10 / 60, "about 2 h 10 min"),
    (2 + 12 / 60, "about 2 h 10 min"),  # 5-minute steps past the first hour
    (47.9, "about 47 h 55 min"),
    (47.99, "about 2 d"),  # 5-minute rounding reaches 48 h
    (48.0, "about 2 d"),
    (50.4, "about 2 d 2 h"),
    (24 * 10 + 5, "about 10 d 5 h"),
]


@pytest.mark.parametrize(("hours", "text"), ETAS)
def test_format_eta(hours, text):
    assert format_eta(hours) == text
