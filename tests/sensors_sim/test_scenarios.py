"""Every shipped scenario: deterministic, physically bounded, and labelled truthfully."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from sensors_sim.__main__ import app
from sensors_sim.events import MALFORMED
from sensors_sim.generate import generate, simulate
from sensors_sim.labels import labels, rainstorm_levels
from sensors_sim.scenario import load_scenario, shipped_scenarios
from sensors_sim.wire import RawPayload, encode, parse_ts
from tests.sensors_sim.test_generate import BOUNDS

NEW = ["typhoon", "meiyu", "dry_windy_fire_season", "plant_gas_leak", "quiet_day", "sensor_faults"]


def test_all_scenarios_are_shipped() -> None:
    """The issue's scenarios and the older ones all load by name."""
    assert set(NEW) | {"storm", "quiet"} <= set(shipped_scenarios())


@pytest.mark.parametrize("name", sorted(set(NEW) | {"storm", "quiet"}))
def test_two_runs_give_identical_bytes_and_labels(name: str) -> None:
    """Readings (raw payloads included) and labels are byte-identical across runs."""
    sc = load_scenario(name)
    first = b"\n".join(encode(r) for r in generate(sc))
    second = b"\n".join(encode(r) for r in generate(load_scenario(name)))
    assert first == second
    assert json.dumps(labels(sc)) == json.dumps(labels(load_scenario(name)))


def _check_bounds(readings: list[Any]) -> None:
    for r in readings:
        if isinstance(r, RawPayload):
            continue
        for field, value in r["values"].items():
            low, high, digits = BOUNDS[field]
            assert low <= value <= high, (r["sensor_id"], field, value)
            assert value == round(value, digits)


@pytest.mark.parametrize("name", NEW)
def test_values_stay_within_physical_bounds(name: str) -> None:
    """No field leaves its physical range or gains decimals in any shipped scenario."""
    _check_bounds(list(generate(load_scenario(name))))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["typhoon", "meiyu", "dry_windy_fire_season"]),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_long_runs_stay_within_bounds_for_any_seed(name: str, seed: int) -> None:
    """Days-long scenarios with any seed stay physical: bounds, monotonic slope, rain >= 0."""
    from dataclasses import replace

    sc = replace(load_scenario(name), seed=seed)
    values = simulate(sc)
    for sid, fields in values.items():
        for field, series in fields.items():
            low, high, _ = BOUNDS[field]
            assert np.all(series >= low) and np.all(series <= high), (sid, field)
        if "displacement_mm" in fields:
            assert np.all(np.diff(fields["displacement_mm"]) >= 0)


def test_fire_season_station_reports_hourly_with_a_diurnal_cycle() -> None:
    """Hourly reports; afternoons warm and dry, nights cool and humid; no rain."""
    readings = list(generate(load_scenario("dry_windy_fire_season")))
    assert {r["sensor_id"] for r in readings} == {"ws-wx-01"}
    times = [parse_ts(r["ts"]) for r in readings]
    assert all((b - a).total_seconds() == 3600 for a, b in zip(times, times[1:], strict=False))
    noon = [r["values"] for r, t in zip(readings, times, strict=True) if t.hour == 14]
    night = [r["values"] for r, t in zip(readings, times, strict=True) if t.hour == 4]
    assert np.mean([v["temp_c"] for v in noon]) > np.mean([v["temp_c"] for v in night]) + 8
    assert np.mean([v["rh_pct"] for v in noon]) < 30 < np.mean([v["rh_pct"] for v in night])
    assert sum(r["values"]["rain_mm"] for r in readings) == 0


def test_rainstorm_labels_agree_with_the_rain_sums_in_the_file() -> None:
    """A label's peak level is what the CMA criteria give on the generated rain itself."""
    sc = load_scenario("typhoon")
    readings = list(generate(sc))
    step_h = sc.interval.total_seconds() / 3600
    for label in labels(sc):
        if label["hazard"] != "rainstorm":
            continue
        rain = np.array(
            [r["values"]["rain_mm"] for r in readings if r["sensor_id"] == label["subject"]]
        )
        level, _ = rainstorm_levels(rain, step_h)
        assert ["blue", "yellow", "orange", "red"][int(level.max()) - 1] == label["level"]
        sums3 = np.convolve(rain, np.ones(36))[: len(rain)]
        expected = "red" if sums3.max() >= 100 - 1e-9 else label["level"]
        assert label["level"] == expected


def test_labels_say_when_each_level_was_first_reached() -> None:
    """``reached`` runs blue .. peak level in time order, from onset to peak, per episode."""
    for name in ("typhoon", "meiyu"):
        for lb in labels(load_scenario(name)):
            if lb["type"] != "hazard":
                continue
            reached = lb["reached"]
            order = ["blue", "yellow", "orange", "red"]
            assert list(reached) == order[: order.index(lb["level"]) + 1]
            times = [datetime.fromisoformat(t) for t in reached.values()]
            assert times == sorted(times)
            assert times[0] == datetime.fromisoformat(lb["onset"])
            assert times[-1] == datetime.fromisoformat(lb["peak"])
            assert reached[lb["onset_level"]] == lb["onset"]


def test_typhoon_labels_cover_the_cascade() -> None:
    """Rain first, then the river and reservoir, then the slope; in that order of onset."""
    by = {(lb["what"], lb["subject"]): lb for lb in labels(load_scenario("typhoon"))}
    onset = {k: datetime.fromisoformat(v["onset"]) for k, v in by.items()}
    assert by["rainstorm", "rg-aj-01"]["level"] == "red"
    assert by["water_level", "wl-wx-01"]["level"] == "orange"
    # Hazard names are the shipped rules' ones, so that backtest --labels can score them.
    assert by["flood_limit", "rs-aj-01"]["hazard"] == "flood"
    assert by["slope_acceleration", "sl-aj-01"]["hazard"] == "landslide"
    assert ("flood_limit", "rs-aj-01") in by
    assert by["slope_acceleration", "sl-aj-01"]["level"] == "red"
    assert (
        onset["rainstorm", "rg-aj-01"]
        < onset["water_level", "wl-wx-01"]
        < onset["flood_limit", "rs-aj-01"]
        < onset["slope_acceleration", "sl-aj-01"]
    )


def test_quiet_day_has_no_labels() -> None:
    """Nothing is injected on a quiet day."""
    assert labels(load_scenario("quiet_day")) == []


def test_fault_scenario_labels_every_fault_once() -> None:
    """Each kind of fault appears once, with the messages it affected."""
    found = labels(load_scenario("sensor_faults"))
    faults = Counter(lb["fault"] for lb in found if lb["type"] == "fault")
    assert faults == Counter(
        {
            f: 1
            for f in (
                "stuck",
                "spike",
                "dropout",
                "drift",
                "silent",
                "clock_skew",
                "duplicate",
                "out_of_order",
                "malformed",
            )
        }
    )
    assert [lb for lb in found if lb["type"] == "hazard"] == []


def test_fault_scenario_stream_shows_each_fault() -> None:
    """Duplicates, swaps, skew, silence and raw payloads are really in the stream."""
    sc = load_scenario("sensor_faults")
    out = list(generate(sc))
    raw = [r for r in out if isinstance(r, RawPayload)]
    assert len(raw) == len(MALFORMED) and {r.sensor_id for r in raw} == {"rg-nx-01"}
    for r in raw:
        with pytest.raises((ValueError, KeyError, TypeError, AttributeError)):
            parsed = json.loads(r.text)
            parse_ts(parsed["ts"]) and parsed["values"].items()  # noqa: B018
    seqs = [r["seq"] for r in out if not isinstance(r, RawPayload) and r["sensor_id"] == "rg-aj-02"]
    assert seqs != sorted(seqs) and sorted(seqs) == list(range(1, sc.steps + 1))
    dup = Counter(
        r["seq"] for r in out if not isinstance(r, RawPayload) and r["sensor_id"] == "rg-wx-02"
    )
    assert sum(1 for c in dup.values() if c == 2) == 12
    cx = [r for r in out if not isinstance(r, RawPayload) and r["sensor_id"] == "rg-cx-01"]
    assert len(cx) == sc.steps - 18


def test_cli_writes_labels(tmp_path) -> None:
    """``generate --labels FILE`` writes the labels as JSON Lines."""
    out, lab = tmp_path / "r.jsonl", tmp_path / "l.jsonl"
    result = CliRunner().invoke(
        app, ["generate", "-s", "plant_gas_leak", "-o", str(out), "--labels", str(lab)]
    )
    assert result.exit_code == 0, result.output
    got = [json.loads(line) for line in lab.read_text().splitlines()]
    assert got == labels(load_scenario("plant_gas_leak"))
    assert {(g["hazard"], g["level"]) for g in got} == {("gas_leak", "red"), ("gas_toxic", "red")}


def test_fwi_matches_the_reference_table_chained_day_to_day() -> None:
    """The labels' own FWI meets every row of the 1985 reference table within 0.1."""
    import csv
    from pathlib import Path

    from sensors_sim.fwi import Codes, daily

    # The table of DOMAIN.md (shared/data), kept with the tests.
    table = Path(__file__).parents[1] / "data" / "fwi_reference_1985.csv"
    codes = Codes()
    with table.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codes, out = daily(
                codes,
                float(row["TEMP"]),
                float(row["RH"]),
                float(row["WS"]),
                float(row["PREC"]),
                int(row["MON"]),
            )
            for key, value in out.items():
                assert abs(value - float(row[key.upper()])) <= 0.1, (row, key, value)


def test_fault_events_are_checked_strictly() -> None:
    """Unknown fault types, reversed times and foreign fields are refused with the place."""
    from sensors_sim.scenario import ScenarioError, parse_scenario

    head = (
        'name: t\nnetwork: huzhou\nstart: "2026-06-03T08:00:00+08:00"\nduration: 1h\n'
        "interval: 5m\nseed: 1\nevents:\n"
        "  - {type: level, sensor: wl-wx-01, base_m: 3}\n"
        "  - {type: level, sensor: wl-wx-02, base_m: 3}\n"
        "  - {type: level, sensor: rs-aj-01, base_m: 120}\n"
    )
    bad = {
        "{type: fault, sensor: rg-wx-01, fault: gremlin, start: 0m, end: 5m}": "gremlin",
        "{type: fault, sensor: rg-wx-01, fault: stuck, start: 10m, end: 5m}": "'end'",
        "{type: fault, sensor: rg-wx-01, fault: stuck, start: 0m, end: 5m, field: level_m}": "level_m",
    }
    for line, needle in bad.items():
        with pytest.raises(ScenarioError, match=needle):
            parse_scenario(head + "  - " + line + "\n", source="t.yaml")
