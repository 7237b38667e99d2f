"""FWI System: the Van Wagner and Pickett (1985) table chained day to day, and range properties."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warning.indicators import fwi as fw


def reference_table() -> Path:
    """Van Wagner and Pickett (1985) inputs with cffdrs outputs, kept in tests/data."""
    return Path(__file__).parents[1] / "data" / "fwi_reference_1985.csv"


def test_reference_table_chained_day_to_day():
    with reference_table().open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 48
    codes = fw.FWICodes()
    worst = dict.fromkeys(("FFMC", "DMC", "DC", "ISI", "BUI", "FWI", "DSR"), 0.0)
    for row in rows:
        codes, day = fw.daily(
            codes,
            temp=float(row["TEMP"]),
            rh=float(row["RH"]),
            wind=float(row["WS"]),
            rain24=float(row["PREC"]),
            lat=float(row["LAT"]),
            month=int(row["MON"]),
        )
        for col in worst:
            got = getattr(day, col.lower())
            tolerance = 0.05 if col == "DSR" else 0.1
            assert got == pytest.approx(float(row[col]), abs=tolerance), (row, col, got)
            worst[col] = max(worst[col], abs(got - float(row[col])))
    # The table is rounded to 0.1 (DSR to 0.01): an exact implementation stays within rounding.
    assert max(worst.values()) <= 0.05, worst


def test_moisture_constant_is_cffdrs():
    assert fw.FFMC_COEFFICIENT == pytest.approx(147.27723, abs=1e-5)


def test_startup_values():
    assert fw.FWICodes() == fw.FWICodes(ffmc=85.0, dmc=6.0, dc=15.0)


def test_daily_chains_the_single_functions():
    codes, day = fw.daily(fw.FWICodes(), temp=20, rh=21, wind=25, rain24=2.4, lat=40, month=4)
    assert codes == fw.FWICodes(day.ffmc, day.dmc, day.dc)
    assert day.ffmc == fw.ffmc(85, 20, 21, 25, 2.4)
    assert day.dmc == fw.dmc(6, 20, 21, 2.4, 40, 4)
    assert day.dc == fw.dc(15, 20, 2.4, 40, 4)
    assert day.isi == fw.isi(day.ffmc, 25)
    assert day.bui == fw.bui(day.dmc, day.dc)
    assert day.fwi == fw.fwi(day.isi, day.bui)
    assert day.dsr == pytest.approx(0.0272 * day.fwi**1.77)


# (fwi, EFFIS class): boundaries belong to the class above them
DANGER = [
    (0.0, "very low"),
    (5.19, "very low"),
    (5.2, "low"),
    (11.2, "moderate"),
    (21.29, "moderate"),
    (21.3, "high"),
    (38.0, "very high"),
    (49.99, "very high"),
    (50.0, "extreme"),
    (120.0, "extreme"),
]


@pytest.mark.parametrize(("value", "name"), DANGER)
def test_danger_class(value, name):
    assert fw.danger_class(value) == name


def test_rh_at_or_above_100_is_capped_like_cffdrs():
    assert fw.ffmc(85, 20, 100, 10, 0) == fw.ffmc(85, 20, 99.9999, 10, 0)
    assert fw.ffmc(85, 20, 130, 10, 0) == fw.ffmc(85, 20, 99.9999, 10, 0)
    assert fw.dmc(6, 20, 100, 0, 40, 6) == fw.dmc(6, 20, 99.9999, 0, 40, 6)


def test_cold_days_do_not_dry():
    # DMC below -1.1 C and DC below -2.8 C: no drying; DC's evapotranspiration floors at 0.
    assert fw.dmc(20, -10, 30, 0, 40, 1) == 20
    assert fw.dc(100, -10, 0, 40, 1) == 100


@pytest.mark.parametrize(
    ("lat", "month", "dmc_day", "dc_day"),
    [
        (46.0, 7, 12.4, 6.4),  # north of 30 N: Canadian tables
        (30.0, 7, 10.1, 6.4),  # 10-30 N for DMC; DC still north of 20 N
        (20.0, 7, 10.1, 1.4),  # DC equatorial band is (-20, 20]
        (0.0, 7, 9.0, 1.4),  # equator
        (-10.0, 7, 7.9, 1.4),  # DMC 20 S band is (-30, -10]
        (-20.0, 7, 7.9, -1.6),  # DC southern table from -20 down
        (-40.0, 7, 6.5, -1.6),  # DMC 40 S band
    ],
)
def test_latitude_bands(lat, month, dmc_day, dc_day):
    # With no rain and DMC 0, the new DMC is exactly the drying term (Eq. 16).
    assert fw.dmc(0, 20, 50, 0, lat, month) == pytest.approx(1.894 * 21.1 * 50 * dmc_day * 1e-4)
    assert fw.dc(0, 20, 0, lat, month) == pytest.approx(max((0.36 * 22.8 + dc_day) / 2, 0))


def test_bui_edges():
    assert fw.bui(0, 0) == 0
    assert fw.bui(0, 300) == 0
    # Eq. 27b when DMC outweighs DC: slightly below the DMC itself.
    assert fw.bui(10, 0) == pytest.approx(10 - 0.92 - 0.114**1.7)
    assert fw.bui(30, 300) == pytest.approx(0.8 * 30 * 300 / (30 + 120))


def test_fwi_branches():
    assert fw.fwi(0, 50) == 0
    assert fw.fwi(1, 1) < 1  # Eq. 30b: B <= 1 is the FWI itself
    low, high = fw.fwi(10, 80), fw.fwi(10, 80.0001)
    assert high == pytest.approx(low, abs=0.05)  # Eqs. 28a and 28b nearly meet at BUI 80


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rh": -1}, "rh must be"),
        ({"rain": -0.1}, "rain must be"),
        ({"wind": -5}, "wind must be"),
        ({"rain": math.nan}, "rain must be"),
    ],
)
def test_impossible_weather_is_rejected(kwargs, message):
    args = {"prev": 85, "temp": 20, "rh": 40, "wind": 10, "rain": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        fw.ffmc(**args)


def test_month_is_checked():
    with pytest.raises(ValueError, match="month must be 1-12"):
        fw.dmc(6, 20, 40, 0, 40, 13)
    with pytest.raises(ValueError, match="month must be 1-12"):
        fw.dc(15, 20, 0, 40, 0)


weather = st.fixed_dictionaries(
    {
        "temp": st.floats(-30, 45),
        "rh": st.floats(0, 100),
        "wind": st.floats(0, 120),
        "rain24": st.floats(0, 200),
        "lat": st.floats(-90, 90),
        "month": st.integers(1, 12),
    }
)
codes = st.builds(
    fw.FWICodes,
    ffmc=st.floats(0, 101),
    dmc=st.floats(0, 1000),
    dc=st.floats(0, 2000),
)


def assert_in_range(day: fw.FWIResult) -> None:
    values = (day.ffmc, day.dmc, day.dc, day.isi, day.bui, day.fwi, day.dsr)
    assert all(math.isfinite(v) for v in values), day
    assert 0 <= day.ffmc <= 101
    assert day.dmc >= 0 and day.dc >= 0
    assert day.isi >= 0 and day.bui >= 0 and day.fwi >= 0 and day.dsr >= 0


@given(codes, weather)
def test_one_day_stays_in_range(prev, w):
    _, day = fw.daily(prev, **w)
    assert_in_range(day)


@given(codes, st.lists(weather, min_size=1, max_size=30))
def test_chained_days_stay_in_range(prev, days):
    for w in days:
        prev, day = fw.daily(prev, **w)
        assert_in_range(day)


@given(codes, weather)
def test_rain_never_dries(prev, w):
    # More rain never gives a higher (drier) code than less rain, other weather equal.
    dry = w | {"rain24": 0.0}
    _, wet_day = fw.daily(prev, **w)
    _, dry_day = fw.daily(prev, **dry)
    assert wet_day.ffmc <= dry_day.ffmc + 1e-9
    assert wet_day.dmc <= dry_day.dmc + 1e-9
    assert wet_day.dc <= dry_day.dc + 1e-9
