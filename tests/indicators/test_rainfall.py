"""Rainfall indicators: I-D check values of DOMAIN.md, event splitting, critical windows, API."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warning.indicators.rainfall import (
    CAINE_1980,
    GUZZETTI_2008,
    HOUR_MS,
    RainSpell,
    antecedent_precipitation_index,
    critical_window,
    id_exceedance,
    id_threshold,
    rain_events,
    reporting_step_ms,
)

H = HOUR_MS
T0 = 1_720_000_000_000  # an epoch base, so that nothing depends on starting at zero

# (duration h, threshold mm/h): DOMAIN.md check values
CAINE = [(1, 14.82), (3, 9.655), (6, 7.368), (12, 5.623), (24, 4.291), (48, 3.275)]
GUZZETTI = [(1, 2.200), (6, 1.000), (24, 0.543)]


@pytest.mark.parametrize(("duration", "intensity"), CAINE)
def test_caine(duration, intensity):
    assert id_threshold(duration, *CAINE_1980) == pytest.approx(intensity, abs=5e-4)


@pytest.mark.parametrize(("duration", "intensity"), GUZZETTI)
def test_guzzetti(duration, intensity):
    assert id_threshold(duration, *GUZZETTI_2008) == pytest.approx(intensity, abs=5e-4)


@pytest.mark.parametrize("duration", [0, -1, math.nan])
def test_threshold_needs_positive_duration(duration):
    with pytest.raises(ValueError, match="duration_h must be > 0"):
        id_threshold(duration, *CAINE_1980)


def hourly(*mm: float, start: int = T0) -> tuple[list[int], list[float]]:
    return [start + i * H for i in range(len(mm))], list(mm)


def test_no_reports_no_events():
    assert rain_events([], [], H) == []
    assert id_exceedance([], [], T0, *CAINE_1980, 6 * H) is None
    assert critical_window([], [], T0, *CAINE_1980, 6 * H) is None


def test_dry_reports_no_events():
    ts, mm = hourly(0, 0, 0)
    assert rain_events(ts, mm, H) == []
    assert id_exceedance(ts, mm, ts[-1], *CAINE_1980, 6 * H) is None


def test_one_report_with_a_known_step():
    [event] = rain_events([T0], [5.0], H, step_ms=30 * 60_000)
    assert event == RainSpell(T0 - 30 * 60_000, T0, 5.0, 0.5, 10.0)


def test_one_report_without_a_step_has_no_duration():
    [event] = rain_events([T0], [5.0], H)
    assert event.duration_h == 0 and event.mean_intensity_mm_h == math.inf
    # The critical window still has a duration: the minimum one.
    window = critical_window([T0], [5.0], T0, *CAINE_1980, H)
    assert window.duration_h == 1.0 and window.rain_mm == 5.0


def test_each_report_covers_the_interval_since_the_previous_one():
    # Reports at 0, 1, 2, 3 h: rain at 1 h and 2 h fell during (0, 2 h].
    ts, mm = hourly(0, 3, 5, 0)
    [event] = rain_events(ts, mm, 3 * H)
    assert (event.start_ms, event.end_ms) == (T0, T0 + 2 * H)
    assert event.total_mm == 8.0 and event.duration_h == 2.0 and event.mean_intensity_mm_h == 4.0


def test_first_report_covers_one_step():
    ts, mm = hourly(2, 2)
    [event] = rain_events(ts, mm, H)
    assert event.start_ms == T0 - H and event.duration_h == 2.0


def test_report_after_a_silence_covers_one_step():
    # Hourly gauge, silent for 5 h: its 10 mm is put in the last hour, a new event.
    ts = [T0, T0 + H, T0 + 6 * H]
    events = rain_events(ts, [1.0, 0.0, 10.0], 3 * H)
    assert [(e.start_ms, e.end_ms, e.total_mm) for e in events] == [
        (T0 - H, T0, 1.0),
        (T0 + 5 * H, T0 + 6 * H, 10.0),
    ]


# (hourly rain, dry gap in hours, event totals): a dry spell as long as the gap splits
SPLITS = [
    ([1, 0, 1], 1, [1, 1]),  # one dry hour, 1 h gap: split
    ([1, 0, 1], 2, [2]),  # one dry hour, 2 h gap: same event
    ([1, 0, 0, 1], 2, [1, 1]),  # two dry hours: split
    ([1, 1, 1], 1, [3]),  # no dry time at all
    ([0, 0.2, 0, 0, 0, 0.2, 0.2], 3, [0.2, 0.4]),
]


@pytest.mark.parametrize(("mm", "gap_h", "totals"), SPLITS)
def test_dry_gap_splits_events(mm, gap_h, totals):
    ts, mm = hourly(*mm)
    assert [e.total_mm for e in rain_events(ts, mm, gap_h * H)] == totals


def test_tips_add_up_exactly():
    ts = [T0 + i * 60_000 for i in range(500)]
    [event] = rain_events(ts, [0.1] * 500, H)
    assert event.total_mm == 50.0


def test_out_of_order_reports_are_sorted():
    ts, mm = hourly(0, 3, 5, 0)
    assert rain_events(ts[::-1], mm[::-1], H) == rain_events(ts, mm, H)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: rain_events([T0], [1.0, 2.0], H), "same length"),
        (lambda: rain_events([T0], [-1.0], H), "rain must be >= 0"),
        (lambda: rain_events([T0], [1.0], 0), "dry_gap_ms must be > 0"),
        (lambda: rain_events([T0], [1.0], H, step_ms=0), "step_ms must be > 0"),
        (lambda: id_exceedance([T0, T0 + H], [1.0], T0, 1, -0.5, H), "same length"),
        (lambda: id_exceedance([T0], [1.0], T0, 1, -0.5, H, 0), "min_duration_h"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_reporting_step():
    assert reporting_step_ms([]) == 0
    assert reporting_step_ms([T0]) == 0
    assert reporting_step_ms([T0, T0]) == 0
    assert reporting_step_ms([0, 10, 20, 30, 1000]) == 10


def test_exceedance_finds_the_critical_duration():
    # 40 mm in 6 h, 20 of them in the last hour: 1 h is the critical duration.
    ts, mm = hourly(0, 4, 4, 4, 4, 4, 20)
    window = critical_window(ts, mm, ts[-1], *CAINE_1980, 6 * H)
    assert window.duration_h == 1.0 and window.rain_mm == 20.0
    assert window.ratio == pytest.approx(20 / 14.82)
    assert id_exceedance(ts, mm, ts[-1], *CAINE_1980, 6 * H) == window.ratio


def test_exceedance_of_a_long_steady_rain():
    # 24 h at 5 mm/h: every window has 5 mm/h, the 24 h threshold (4.291) is the lowest.
    ts, mm = hourly(0, *[5] * 24)
    window = critical_window(ts, mm, ts[-1], *CAINE_1980, 6 * H)
    assert window.duration_h == 24.0
    assert window.ratio == pytest.approx(5 / 4.291, abs=1e-3)


def test_exceedance_decays_after_the_rain_stops():
    ts, mm = hourly(0, 10, 10, 10)
    during = id_exceedance(ts, mm, ts[-1], *CAINE_1980, 6 * H)
    after = id_exceedance(ts, mm, ts[-1] + 2 * H, *CAINE_1980, 6 * H)
    assert during == pytest.approx(30 / 3 / 9.655, abs=1e-3)
    assert after < during


def test_exceedance_ignores_reports_after_now():
    ts, mm = hourly(0, 1, 1, 50)
    assert id_exceedance(ts, mm, ts[2], *CAINE_1980, 6 * H) == pytest.approx(
        id_exceedance(ts[:3], mm[:3], ts[2], *CAINE_1980, 6 * H)
    )


def test_exceedance_judges_only_the_latest_event():
    # A big storm two days ago, then a drizzle: only the drizzle counts.
    ts, mm = hourly(0, 40, 40, *[0] * 48, 1)
    window = critical_window(ts, mm, ts[-1], *CAINE_1980, 6 * H)
    assert window.rain_mm == 1.0


def test_short_windows_are_judged_at_the_minimum_duration():
    # 10-minute data; 5 mm in 10 min judged over 1 h by default, over 10 min when allowed.
    ts = [T0 + i * 600_000 for i in range(4)]
    mm = [0.0, 0.0, 0.0, 5.0]
    default = critical_window(ts, mm, ts[-1], *CAINE_1980, H)
    assert default.duration_h == 1.0 and default.intensity_mm_h == 5.0
    short = critical_window(ts, mm, ts[-1], *CAINE_1980, H, min_duration_h=1 / 6)
    assert short.duration_h == pytest.approx(1 / 6) and short.intensity_mm_h == pytest.approx(30)


@given(
    st.lists(st.floats(0, 100), min_size=1, max_size=48),
    st.integers(1, 12),
)
def test_events_conserve_rain(mm, gap_h):
    ts, mm = hourly(*mm)
    events = rain_events(ts, mm, gap_h * H)
    assert sum(e.total_mm for e in events) == pytest.approx(sum(mm), abs=1e-6)
    for a, b in zip(events, events[1:], strict=False):
        assert b.start_ms - a.end_ms >= gap_h * H
    ratio = id_exceedance(ts, mm, ts[-1], *GUZZETTI_2008, gap_h * H)
    assert (ratio is None) == (sum(mm) == 0)
    assert ratio is None or (ratio >= 0 and math.isfinite(ratio))


# (daily rain oldest first, k, API)
API = [
    ([], 0.9, 0.0),
    ([12.0], 0.9, 12.0),  # today only
    ([10.0, 0.0, 20.0], 0.9, 20 + 0.81 * 10),
    ([10.0, 10.0, 10.0], 1.0, 30.0),  # k = 1 is a plain sum
    ([100.0] + [0.0] * 10, 0.8, 100 * 0.8**10),
]


@pytest.mark.parametrize(("rain", "k", "api"), API)
def test_antecedent_precipitation_index(rain, k, api):
    assert antecedent_precipitation_index(rain, k) == pytest.approx(api)


@pytest.mark.parametrize(("rain", "k"), [([1.0], 0.0), ([1.0], 1.5), ([-1.0], 0.9)])
def test_api_bad_input(rain, k):
    with pytest.raises(ValueError, match="must be"):
        antecedent_precipitation_index(rain, k)
