"""Gas exposure: step-wise time-weighted means, STEL and TWA windows, conversions, limits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warning.indicators.exposure import (
    LEL_VOL_PCT,
    MOLAR_MASS_G_MOL,
    TOXIC_LIMITS_MG_M3,
    lel_pct_from_vol_pct,
    mg_m3_from_ppm,
    ppm_from_mg_m3,
    stel,
    time_weighted_mean,
    twa8,
)

M = 60_000
T0 = 1_720_000_000_000


def test_irregular_sampling_is_weighted_by_time():
    # 100 held 1 min, then ten readings of 0 over 9 min: 10 by time, 100/11 by count.
    ts = [T0] + [T0 + M + i * 6_000 for i in range(9)] + [T0 + 10 * M]
    values = [100.0] + [0.0] * 10
    assert time_weighted_mean(ts, values, T0, T0 + 10 * M) == pytest.approx(10.0)
    assert time_weighted_mean(ts, values, T0, T0 + 2 * M) == pytest.approx(50.0)


def test_value_in_force_at_the_window_start_counts():
    # 40 from -10 min holds into the window until 5 min.
    ts, values = [T0 - 10 * M, T0 + 5 * M], [40.0, 10.0]
    assert time_weighted_mean(ts, values, T0, T0 + 15 * M) == pytest.approx(20.0)


def test_last_value_holds_to_the_end():
    assert time_weighted_mean([T0], [7.0], T0 - 5 * M, T0 + 5 * M) == 7.0


def test_time_before_the_first_reading_is_not_counted():
    ts, values = [T0 + 10 * M], [30.0]
    assert time_weighted_mean(ts, values, T0, T0 + 15 * M) == 30.0


@pytest.mark.parametrize(
    ("ts", "values"),
    [
        ([], []),  # nothing at all
        ([T0 + 15 * M], [5.0]),  # a reading at the end has no weight yet
        ([T0 + 20 * M], [5.0]),  # only after the window
    ],
)
def test_no_coverage_gives_none(ts, values):
    assert time_weighted_mean(ts, values, T0, T0 + 15 * M) is None


def test_out_of_order_readings():
    ts, values = [T0 + 5 * M, T0], [10.0, 40.0]
    assert time_weighted_mean(ts, values, T0, T0 + 15 * M) == pytest.approx(20.0)


def test_bad_windows():
    with pytest.raises(ValueError, match="end_ms must be after start_ms"):
        time_weighted_mean([T0], [1.0], T0, T0)
    with pytest.raises(ValueError, match="same length"):
        time_weighted_mean([T0], [1.0, 2.0], T0, T0 + M)


def test_stel_and_twa8_windows():
    # H2S: 5 mg/m3 all shift, 30 mg/m3 for the last 10 min.
    ts = [T0 + i * M for i in range(481)]
    values = [5.0] * 470 + [30.0] * 11
    now = ts[-1]
    assert stel(ts, values, now) == pytest.approx((5 * 5 + 30 * 10) / 15)
    assert twa8(ts, values, now) == pytest.approx((5 * 470 + 30 * 10) / 480)
    first, second = TOXIC_LIMITS_MG_M3["h2s"]
    assert first < stel(ts, values, now) and twa8(ts, values, now) < first < second


@given(
    st.lists(
        st.tuples(st.integers(0, 10_000_000), st.floats(0, 1000)),
        min_size=1,
        max_size=30,
    ),
)
def test_mean_is_within_the_readings(readings):
    ts = [t for t, _ in readings]
    values = [v for _, v in readings]
    mean = time_weighted_mean(ts, values, 0, 10_000_001)
    assert mean is not None
    assert min(values) - 1e-9 <= mean <= max(values) + 1e-9


# (mg/m3, gas, ppm) at 20 C: ppm = mg/m3 * 24.04 / M
CONVERSIONS = [
    (10.0, "h2s", 10 * 24.04 / 34.08),
    (20.0, "co", 20 * 24.04 / 28.01),
    (1.0, "cl2", 24.04 / 70.90),
    (20.0, "nh3", 20 * 24.04 / 17.03),
]


@pytest.mark.parametrize(("mg", "gas", "ppm"), CONVERSIONS)
def test_conversions(mg, gas, ppm):
    mass = MOLAR_MASS_G_MOL[gas]
    assert ppm_from_mg_m3(mg, mass) == pytest.approx(ppm)
    assert mg_m3_from_ppm(ppm_from_mg_m3(mg, mass), mass) == pytest.approx(mg)


def test_limits_table():
    assert TOXIC_LIMITS_MG_M3 == {"h2s": (10, 20), "co": (20, 40), "cl2": (1, 2), "nh3": (20, 40)}
    assert all(gas in MOLAR_MASS_G_MOL for gas in TOXIC_LIMITS_MG_M3)
    assert all(gas in MOLAR_MASS_G_MOL for gas in LEL_VOL_PCT)


# (% vol, gas name as sensors send it, % LEL)
LEL = [
    (4.4, "ch4", 100.0),
    (1.1, "methane", 25.0),
    (2.2, "CH4", 50.0),
    (0.425, "propane", 25.0),
    (1.7, "c3h8", 100.0),
    (1.0, "H2", 25.0),
    (0.0, "hydrogen", 0.0),
]


@pytest.mark.parametrize(("vol", "gas", "lel"), LEL)
def test_lel(vol, gas, lel):
    assert lel_pct_from_vol_pct(vol, gas) == pytest.approx(lel)


def test_unknown_gas():
    with pytest.raises(ValueError, match="expected a gas among"):
        lel_pct_from_vol_pct(1.0, "butane")
