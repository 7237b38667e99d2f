"""Scenario loading: shipped files via importlib.resources, strict errors for bad files."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from sensors_sim.network import huzhou, registry
from sensors_sim.scenario import ScenarioError, load_scenario, parse_scenario, shipped_scenarios

GOOD = """
name: tiny
network: huzhou
start: "2026-07-05T12:00:00+08:00"
duration: 1h
interval: 5m
seed: 1
events:
  - {type: level, sensor: wl-wx-01, base_m: 4.0}
  - {type: level, sensor: wl-wx-02, base_m: 3.4}
  - {type: level, sensor: rs-aj-01, base_m: 126.0}
"""
GAS_RAIN = "  - {type: rain, sensors: gs-cx-01, profile: [[0m, 1], [1h, 1]]}\n"


def test_shipped_scenarios_are_found_and_load() -> None:
    """Both shipped scenarios are found as package resources and parse."""
    assert {"storm", "quiet"} <= set(shipped_scenarios())
    storm = load_scenario("storm")
    assert storm.steps == 72
    assert storm.start.utcoffset() == timedelta(hours=8)


def test_scenario_loads_from_a_path(tmp_path: Path) -> None:
    """A scenario file outside the package loads by path."""
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_scenario(path).steps == 12
    assert load_scenario(str(path)).name == "tiny"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # A misspelt key must not be ignored silently.
        (("seed: 1", "seed: 1\nsede: 2"), "unknown key(s) ['sede']"),
        # Durations need units.
        (("duration: 1h", "duration: 60"), "duration: expected a duration"),
        # A step that does not divide the span would leave a ragged last report.
        (("duration: 1h", "duration: 62m"), "multiple of interval"),
        # Naive times are ambiguous across time zones.
        (('"2026-07-05T12:00:00+08:00"', '"2026-07-05T12:00:00"'), "with offset"),
        # An event for a sensor that does not exist.
        (("sensor: wl-wx-01", "sensor: wl-xx-99"), "'wl-xx-99' is not in network"),
        # A level station without its base level.
        (
            ("  - {type: level, sensor: rs-aj-01, base_m: 126.0}\n", ""),
            "'rs-aj-01' needs exactly one",
        ),
        # Rain cannot fall on a gas detector.
        (("events:\n", f"events:\n{GAS_RAIN}"), "expected kind ['rainfall', 'weather']"),
        # Unknown event type.
        (("events:\n", "events:\n  - {type: hail}\n"), "expected one of"),
        # Not YAML at all.
        (("events:\n", "events: [\n"), "not valid YAML"),
        # Unknown key inside an event.
        (("base_m: 4.0}", "base_m: 4.0, gian_m: 1}"), "unknown key(s) ['gian_m']"),
    ],
)
def test_bad_scenarios_are_rejected_with_the_key(change: tuple[str, str], expected: str) -> None:
    """Each broken scenario is refused with a message naming the problem."""
    old, new = change
    assert old in GOOD
    with pytest.raises(ScenarioError) as info:
        parse_scenario(GOOD.replace(old, new, 1), source="tiny.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("tiny.yaml")


def test_unknown_scenario_name_lists_the_shipped_ones() -> None:
    """An unknown name says which scenarios exist."""
    with pytest.raises(ScenarioError, match="storm"):
        load_scenario("no-such-scenario")


def test_registry_has_station_thresholds() -> None:
    """The registry carries each sensor's identity, place and thresholds."""
    sensors = {s["id"]: s for s in registry(huzhou())["sensors"]}
    assert sensors["wl-wx-01"]["warning_level_m"] == 4.50
    assert sensors["wl-wx-02"]["guaranteed_level_m"] == 4.30
    assert "flood_limit_m" in sensors["rs-aj-01"]
    assert sum(s["kind"] == "rainfall" for s in sensors.values()) == 8
    for s in sensors.values():
        assert 30.4 <= s["lat"] <= 31.1
        assert 119.4 <= s["lon"] <= 120.5
        assert s["tz"] == "Asia/Shanghai"
