"""Generated readings: deterministic, physically plausible, ordered, and shaped as designed."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import timedelta
from typing import Any

import pytest

from sensors_sim.generate import generate
from sensors_sim.scenario import load_scenario
from sensors_sim.wire import encode, parse_ts

SCENARIOS = ["storm", "quiet"]

#: Inclusive physical bounds and decimal places per field.
BOUNDS: dict[str, tuple[float, float, int]] = {
    "rain_mm": (0.0, 30.0, 1),  # 30 mm in 5 min would be far beyond any Chinese record
    "level_m": (-10.0, 2000.0, 2),
    "displacement_mm": (0.0, 10_000.0, 2),
    "temp_c": (-30.0, 45.0, 1),
    "rh_pct": (0.0, 100.0, 1),
    "wind_kmh": (0.0, 250.0, 1),
    "lel_pct": (0.0, 100.0, 1),
    "h2s_ppm": (0.0, 1000.0, 2),
}


def readings_of(name: str) -> list[dict[str, Any]]:
    """Return the readings of a shipped scenario."""
    return list(generate(load_scenario(name)))


def series(readings: list[dict[str, Any]], sensor_id: str, field: str) -> list[tuple[Any, float]]:
    """Return ``(time, value)`` pairs of one sensor's field."""
    mine = (r for r in readings if r["sensor_id"] == sensor_id)
    return [(parse_ts(r["ts"]), r["values"][field]) for r in mine]


def window_sums(points: list[tuple[Any, float]], hours: float) -> list[tuple[Any, float]]:
    """Return, at each report, the rain of the reports in the trailing ``hours`` window."""
    width = timedelta(hours=hours)
    return [(t, sum(v for u, v in points if t - width < u <= t)) for t, _ in points]


def first_time(points: list[tuple[Any, float]], threshold: float) -> Any:
    """Return the first time a value reaches ``threshold``, or None."""
    return next((t for t, v in points if v >= threshold - 1e-9), None)


@pytest.mark.parametrize("name", SCENARIOS)
def test_same_scenario_gives_same_bytes(name: str) -> None:
    """Two runs of one scenario produce byte-identical output."""
    first = b"\n".join(encode(r) for r in readings_of(name))
    second = b"\n".join(encode(r) for r in readings_of(name))
    assert first == second


@pytest.mark.parametrize("name", SCENARIOS)
def test_values_within_physical_bounds(name: str) -> None:
    """Every value is finite, in its physical range, and rounded to its resolution."""
    for r in readings_of(name):
        assert set(r) == {"sensor_id", "kind", "ts", "seq", "values"}
        for field, value in r["values"].items():
            low, high, digits = BOUNDS[field]
            assert isinstance(value, float), r
            assert math.isfinite(value), r
            assert low <= value <= high, r
            assert value == round(value, digits), r


@pytest.mark.parametrize("name", SCENARIOS)
def test_cumulative_displacement_never_decreases(name: str) -> None:
    """A cumulative displacement reading only grows."""
    points = [v for _, v in series(readings_of(name), "sl-aj-01", "displacement_mm")]
    assert points == sorted(points)


@pytest.mark.parametrize("name", SCENARIOS)
def test_seq_counts_up_by_one_per_sensor(name: str) -> None:
    """Each sensor numbers its readings 1, 2, 3, ... without gaps."""
    seqs: dict[str, list[int]] = defaultdict(list)
    for r in readings_of(name):
        seqs[r["sensor_id"]].append(r["seq"])
    scenario = load_scenario(name)
    assert set(seqs) == {s.id for s in scenario.network}
    for got in seqs.values():
        assert got == list(range(1, scenario.steps + 1))


@pytest.mark.parametrize("name", SCENARIOS)
def test_readings_ordered_by_time_then_sensor(name: str) -> None:
    """Readings come in event-time order with ties broken by sensor id, all at +08:00."""
    readings = readings_of(name)
    keys = [(parse_ts(r["ts"]), r["sensor_id"]) for r in readings]
    assert keys == sorted(keys)
    assert all(r["ts"].endswith("+08:00") for r in readings)
    scenario = load_scenario(name)
    assert keys[0][0] == scenario.start + scenario.interval
    assert keys[-1][0] == scenario.start + scenario.duration


def test_storm_main_gauge_reaches_red_in_turn() -> None:
    """rg-aj-01 reaches the CMA signals blue, yellow, orange, red in that order."""
    rain = series(readings_of("storm"), "rg-aj-01", "rain_mm")
    blue = first_time(window_sums(rain, 12), 50)
    yellow = first_time(window_sums(rain, 6), 50)
    orange = first_time(window_sums(rain, 3), 50)
    red = first_time(window_sums(rain, 3), 100)
    assert max(v for _, v in window_sums(rain, 3)) >= 100
    # Within a 6 h record a 12 h sum equals the 6 h sum, so blue and yellow coincide.
    assert blue is not None
    assert blue == yellow
    assert yellow < orange < red
    assert orange - yellow >= timedelta(minutes=20)
    assert red - orange >= timedelta(minutes=30)
    # The storm eases off: the last hour is much lighter than the peak hour.
    hourly = [v for _, v in window_sums(rain, 1)]
    assert hourly[-1] < max(hourly) / 3


def test_storm_other_gauges_stay_below_blue() -> None:
    """Only the main gauge should warn; the rest get lighter rain."""
    readings = readings_of("storm")
    for sensor_id in {r["sensor_id"] for r in readings if r["kind"] == "rainfall"} - {"rg-aj-01"}:
        total = sum(v for _, v in series(readings, sensor_id, "rain_mm"))
        assert 0 < total < 50, sensor_id


def test_storm_river_passes_warning_then_guaranteed_after_the_rain() -> None:
    """Hangchangqiao passes warning, then guaranteed level, after the rain, below its record."""
    readings = readings_of("storm")
    sensor = load_scenario("storm").network.get("wl-wx-01")
    level = series(readings, "wl-wx-01", "level_m")
    warning = first_time(level, sensor.threshold("warning_level_m"))
    guaranteed = first_time(level, sensor.threshold("guaranteed_level_m"))
    assert level[0][1] < sensor.threshold("warning_level_m")
    assert warning is not None
    assert guaranteed is not None
    assert warning < guaranteed
    assert max(v for _, v in level) < sensor.threshold("historical_max_m")
    # Once above warning the stage stays there: no flapping for the rule engine to absorb.
    assert all(v >= sensor.threshold("warning_level_m") for t, v in level if t >= warning)
    # The lag: warning comes after the main gauge turns orange, and the stage peaks well after
    # the middle of the wettest hour.
    rain = series(readings, "rg-aj-01", "rain_mm")
    assert warning > first_time(window_sums(rain, 3), 50)
    wettest_end = max(window_sums(rain, 1), key=lambda p: p[1])[0]
    crest = max(level, key=lambda p: p[1])[0]
    assert crest - (wettest_end - timedelta(minutes=30)) >= timedelta(minutes=30)


def test_storm_gas_leak_passes_both_alarms_then_disperses() -> None:
    """The leak rises from about 1 %LEL past 25 and 50 %LEL, then decays below 25."""
    lel = series(readings_of("storm"), "gs-cx-01", "lel_pct")
    first_alarm, second_alarm = first_time(lel, 25), first_time(lel, 50)
    assert lel[0][1] < 2
    assert first_alarm is not None
    assert second_alarm is not None
    assert first_alarm < second_alarm
    assert lel[-1][1] < 25
    assert first_alarm - lel[0][0] > timedelta(hours=4)


def test_quiet_scenario_crosses_no_threshold() -> None:
    """Nothing in the quiet scenario reaches any warning threshold."""
    readings = readings_of("quiet")
    network = load_scenario("quiet").network
    for sensor in network:
        if sensor.kind == "rainfall":
            assert max(v for _, v in window_sums(series(readings, sensor.id, "rain_mm"), 12)) < 50
        elif sensor.kind == "reservoir":
            level = max(v for _, v in series(readings, sensor.id, "level_m"))
            limits = dict(sensor.thresholds)
            lowest = min(limits.get(k, math.inf) for k in ("warning_level_m", "flood_limit_m"))
            assert level < lowest, sensor.id
        elif sensor.kind == "gas":
            assert max(v for _, v in series(readings, sensor.id, "lel_pct")) < 25
            assert max(v for _, v in series(readings, sensor.id, "h2s_ppm")) < 7  # 10 mg/m3
