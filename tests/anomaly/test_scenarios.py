"""Fault diagnosis through the whole pipeline on simulated scenarios, against their labels.

Run with ``-s`` to see the figures (detection delays, false alarms per sensor-day).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sensors_sim.labels import labels
from sensors_sim.scenario import Scenario, load_scenario, parse_scenario
from tests.sensors_sim.pipeline import backtest

# Whole scenarios through the whole dataflow (and model training): the slow end of the suite.
pytestmark = pytest.mark.integration

#: The longest delay after a labelled onset at which each fault must be named.
#: spike: confirmed when the next reading is back near the median (one report, 5 min);
#: dropout: at once when every field reads zero; clock_skew: on the first skewed reading,
#: stamped at the sensor's latest good time (so up to one report *before* the onset);
#: drift (+0.02 m/h on a 1 cm gauge): once 3 scales (3 cm) off its neighbour for 6 reports;
#: stuck (a sensor whose readings change): 6 repeats or more, by how often its values change
#: (7 for the weather station of sensor_faults: 35 min).
MAX_DELAY = {
    "spike": timedelta(minutes=5),
    "dropout": timedelta(minutes=5),
    "clock_skew": timedelta(0),
    "drift": timedelta(hours=3),
    "stuck": timedelta(minutes=40),
}
EARLIEST = timedelta(minutes=-5)

#: Faults on sensors whose readings change, so that each one can be seen in the data.
VARYING_FAULTS = """
name: anomaly_faults
description: 12 h of quiet weather; stuck, dropout and spike on sensors whose readings move.
network: huzhou
start: "2026-06-10T00:00:00+08:00"
duration: 12h
interval: 5m
seed: 20260610
events:
  - {type: level, sensor: wl-wx-01, base_m: 3.70}
  - {type: level, sensor: wl-wx-02, base_m: 3.20}
  - {type: level, sensor: rs-aj-01, base_m: 125.90}
  - {type: creep, sensor: sl-aj-01, start_mm: 18.6, velocity_mm_h: 0.002}
  - {type: weather, sensor: ws-wx-01, temp_mean_c: 24, temp_amp_c: 3, rh_mean_pct: 70}
  - {type: fault, sensor: ws-wx-01, fault: stuck, start: 6h, end: 8h}
  - {type: fault, sensor: gs-cx-01, fault: stuck, start: 4h, end: 5h}
  - {type: fault, sensor: rs-aj-01, fault: dropout, start: 7h, end: 7h30m}
  - {type: fault, sensor: gs-cx-01, fault: spike, start: 9h, end: 9h5m, magnitude: 30,
     field: lel_pct}
"""


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _raised_faults(events: list[dict]) -> list[dict]:
    return [e for e in events if e["hazard"] == "sensor_fault" and e["event"] == "raised"]


def _delays(sc: Scenario, events: list[dict]) -> dict[tuple[str, str], timedelta | None]:
    """Delay from each value/clock fault label's onset to its fault warning (None: missed)."""
    out = {}
    for lb in labels(sc):
        if lb["type"] != "fault" or lb["fault"] not in MAX_DELAY:
            continue
        onset = _ts(lb["onset"])
        hits = [
            _ts(e["ts"]) - onset
            for e in _raised_faults(events)
            if e["subject"] == lb["subject"]
            and e["rule_id"] == f"sensor_fault_{lb['fault']}"
            and _ts(e["ts"]) - onset >= EARLIEST
        ]
        out[(lb["fault"], lb["subject"])] = min(hits) if hits else None
    return out


def _shown(delay: timedelta | None) -> str:
    return "missed" if delay is None else f"{delay.total_seconds() / 60:+.0f} min"


def _wrong(sc: Scenario, events: list[dict]) -> list[dict]:
    """Fault warnings that match no label (by subject and fault name)."""
    named = {
        (lb["subject"], f"sensor_fault_{lb['fault']}") for lb in labels(sc) if lb["type"] == "fault"
    }
    return [e for e in _raised_faults(events) if (e["subject"], e["rule_id"]) not in named]


def test_sensor_faults_scenario_names_each_visible_fault_in_time(tmp_path: Path) -> None:
    """spike, stuck, dropout, drift and clock_skew are each named, on the right sensor, in time.

    The stuck weather station starts repeating after 3 h: the diagnosis judges a sensor only
    after 24 readings (2 h at 5 min) have shown how often its values change.
    """
    sc = load_scenario("sensor_faults")
    result = backtest(sc, tmp_path)
    delays = _delays(sc, result.events)
    for (fault, subject), delay in sorted(delays.items()):
        print(f"sensor_faults {fault:>10} {subject}: delay {_shown(delay)}")
    assert {fault for fault, _ in delays} == {"spike", "stuck", "dropout", "drift", "clock_skew"}
    for (fault, subject), delay in delays.items():
        assert delay is not None, f"{fault} on {subject} not named"
        assert EARLIEST <= delay <= MAX_DELAY[fault], (fault, delay)
    assert _wrong(sc, result.events) == []
    for e in _raised_faults(result.events):
        assert e["level"] == "blue" and e["hazard"] == "sensor_fault"
        assert e["rule_id"].removeprefix("sensor_fault_") in e["message"]


def test_faults_on_varying_sensors_are_named_in_time(tmp_path: Path) -> None:
    """Stuck weather station and gas detector, reservoir dropout, gas spike: all in time."""
    sc = parse_scenario(VARYING_FAULTS)
    result = backtest(sc, tmp_path)
    delays = _delays(sc, result.events)
    for (fault, subject), delay in sorted(delays.items()):
        print(f"anomaly_faults {fault:>10} {subject}: delay {_shown(delay)}")
    assert len(delays) == 4
    for (fault, subject), delay in delays.items():
        assert delay is not None, f"{fault} on {subject} not named"
        assert EARLIEST <= delay <= MAX_DELAY[fault], (fault, delay)
    assert _wrong(sc, result.events) == []


def test_warning_on_a_spike_reading_is_possible_not_observed(tmp_path: Path) -> None:
    """The gas spike raises gas_combustible with certainty Possible, and says why.

    The county's integrated risk, resting on that warning alone, is Possible too; every other
    warning is Observed.
    """
    sc = parse_scenario(VARYING_FAULTS)
    result = backtest(sc, tmp_path)
    gas = [e for e in result.events if e["rule_id"] == "gas_combustible"]
    assert gas and gas[0]["event"] == "raised"
    assert gas[0]["certainty"] == "Possible"
    assert "certainty Possible: suspect reading, lel_pct" in gas[0]["message"]
    county = [e for e in result.events if e["certainty"] == "Possible" and e.get("area")]
    assert [(e["area"], e["event"], e["ts"]) for e in county] == [
        ("changxing", "raised", gas[0]["ts"])
    ]
    assert "rests on warnings marked Possible (gs-cx-01 gas_leak orange)" in county[0]["message"]
    others = [
        e
        for e in result.events
        if e["hazard"] != "sensor_fault" and e not in gas and e not in county
    ]
    assert others and all(e["certainty"] == "Observed" for e in others)


def _quiet_days(days: int) -> Scenario:
    """The quiet day's settings run for ``days`` days (rain only on the first afternoon)."""
    base = Path(__file__).parents[2] / "sensors_sim" / "scenarios" / "quiet_day.yaml"
    text = base.read_text(encoding="utf-8")
    assert "duration: 24h" in text and "name: quiet_day" in text
    text = text.replace("duration: 24h", f"duration: {24 * days}h")
    return parse_scenario(text.replace("name: quiet_day", f"name: quiet_{days}d"))


@pytest.mark.parametrize(
    "name",
    [
        "quiet_day",
        "quiet",
        "quiet_3d",
        "typhoon",
        "meiyu",
        "storm",
        "plant_gas_leak",
        "dry_windy_fire_season",
    ],
)
def test_no_fault_warning_on_healthy_sensors(tmp_path: Path, name: str) -> None:
    """Scenarios without injected faults raise no sensor_fault warning at all."""
    sc = _quiet_days(3) if name == "quiet_3d" else load_scenario(name)
    result = backtest(sc, tmp_path)
    sensor_days = len(list(sc.network)) * sc.duration.total_seconds() / 86_400
    faults = _raised_faults(result.events)
    print(f"{name}: {len(faults)} fault warnings in {sensor_days:.1f} sensor-days")
    assert faults == []


def test_same_fault_warnings_with_two_workers_and_another_batch_size(tmp_path: Path) -> None:
    """Fault warnings do not depend on how the flow is spread or batched (determinism)."""
    from bytewax.run import cli_main

    from sensors_sim.files import write_readings, write_registry
    from sensors_sim.generate import generate
    from warning.app import setup
    from warning.config import Config
    from warning.metrics import Metrics
    from warning.pipeline.flow import Outputs, build_flow
    from warning.records import zone
    from warning.sinks.local import JsonLinesSink
    from warning.sources.files import ReadingsFileSource

    sc = load_scenario("sensor_faults")
    readings, registry = tmp_path / "r.jsonl", tmp_path / "s.yaml"
    write_readings(generate(sc), readings)
    with registry.open("w", encoding="utf-8") as out:
        write_registry(sc.network, out)
    rules = Path(__file__).parents[2] / "rules"
    runs = []
    for workers, batch in ((1, 2000), (2, 2000), (1, 7)):
        s = setup(Config(rules=[str(rules)], sensors=str(registry)), Metrics())
        out = tmp_path / f"e{workers}_{batch}.jsonl"
        sink = JsonLinesSink(out, zone("Asia/Shanghai"), in_order=True)
        source = ReadingsFileSource(readings, s.make_ingest, batch=batch)
        cli_main(build_flow(source, s.steps, Outputs(warnings=[sink])), workers_per_process=workers)
        events = [
            e
            for e in map(json.loads, out.read_text().splitlines())
            if e["hazard"] == "sensor_fault"
        ]
        runs.append(sorted((e["ts"], e["rule_id"], e["subject"], e["event"]) for e in events))
    assert len(runs[0]) == 9  # 5 raised (spike, stuck, dropout, drift, clock_skew), 4 cleared
    assert runs[0] == runs[1] == runs[2]
