"""Scenarios through the shipped rules (the pipeline's file backtest), checked against labels."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest

from sensors_sim.events import MALFORMED
from sensors_sim.labels import LEVELS, labels
from sensors_sim.scenario import load_scenario
from tests.sensors_sim.pipeline import backtest

# Whole scenarios through the whole dataflow (and model training): the slow end of the suite.
pytestmark = pytest.mark.integration

#: Which shipped rules answer each labelled criterion (a label's "what").
RULES_FOR = {
    "rainstorm": {"rainstorm"},
    "water_level": {"water_level"},
    "flood_limit": {"reservoir_flood_limit"},
    "slope_acceleration": {"slope_tangent"},
    "gas_leak": {"gas_combustible"},
    "gas_toxic": {"gas_h2s"},
    "forest_fire": {"fire_danger"},
}
#: Allowed delay after the labelled onset (and peak). Threshold rules on every report: 0;
#: slope_tangent has ``for: 1h`` and a fitted tangent, so one hour plus two reports.
TOLERANCE = {"slope_acceleration": timedelta(hours=1, minutes=10)}


def _rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level else 0


def _check_against_labels(scenario_name: str, tmp_path) -> None:
    sc = load_scenario(scenario_name)
    result = backtest(sc, tmp_path)
    assert result.rejected == []
    hazards = [lb for lb in labels(sc) if lb["type"] == "hazard"]
    assert hazards
    for label in hazards:
        tolerance = TOLERANCE.get(label["what"], timedelta(0))
        mine = [
            e
            for e in result.events
            if e["rule_id"] in RULES_FOR[label["what"]]
            and e["subject"] == label["subject"]
            and e["hazard"] == label["hazard"]
            and e["event"] in ("raised", "escalated")
        ]
        onset = datetime.fromisoformat(label["onset"])
        peak = datetime.fromisoformat(label["peak"])
        raised = [e for e in mine if datetime.fromisoformat(e["ts"]) <= onset + tolerance]
        assert raised, f"no warning for {label} by onset + {tolerance}"
        reached = [
            e
            for e in mine
            if datetime.fromisoformat(e["ts"]) <= peak + tolerance
            and _rank(e["level"]) >= _rank(label["level"])
        ]
        assert reached, f"level {label['level']} not reached for {label} by peak + {tolerance}"


def test_typhoon_warns_for_every_labelled_hazard_in_time(tmp_path) -> None:
    """Every rainstorm, flood, flood-limit and slope label is warned by onset (+ tolerance)."""
    _check_against_labels("typhoon", tmp_path)


def test_meiyu_warns_for_every_labelled_hazard_in_time(tmp_path) -> None:
    """Days of moderate rain: each labelled rainstorm episode and Taihu's rise are warned."""
    _check_against_labels("meiyu", tmp_path)


def test_plant_gas_leak_warns_for_both_gases_in_time(tmp_path) -> None:
    """LEL and H2S alarms are raised at their labelled onsets and reach red at the peaks."""
    _check_against_labels("plant_gas_leak", tmp_path)


@pytest.mark.parametrize("name", ["quiet_day"])
def test_quiet_day_raises_no_warning_at_all(tmp_path, name: str) -> None:
    """Not a single event through the shipped rules, sensor silence included."""
    result = backtest(load_scenario(name), tmp_path)
    assert result.events == []
    assert result.rejected == []


def test_fire_season_warns_as_labelled(tmp_path) -> None:
    """The fire-danger rule reaches the labelled FWI class on the labelled days."""
    _check_against_labels("dry_windy_fire_season", tmp_path)


def test_fire_season_fwi_climbs_to_high_and_very_high(tmp_path) -> None:
    """The daily FWI from hourly readings passes high (yellow) and very high (orange)."""
    (label,) = labels(load_scenario("dry_windy_fire_season"))
    assert label["level"] in ("orange", "red")
    result = backtest(load_scenario("dry_windy_fire_season"), tmp_path)
    fire = [e for e in result.events if e["rule_id"] == "fire_danger"]
    reached = {e["level"] for e in fire if e["event"] in ("raised", "escalated")}
    assert {"yellow", "orange"} <= reached
    # One FWI a day, from the noon reading.
    assert {datetime.fromisoformat(e["ts"]).hour for e in fire} == {12}


def test_malformed_payloads_are_all_rejected_and_counted(tmp_path) -> None:
    """Each raw payload of the fault scenario is a dead letter with a reason, and counted."""
    sc = load_scenario("sensor_faults")
    result = backtest(sc, tmp_path)
    (label,) = [lb for lb in labels(sc) if lb.get("fault") == "malformed"]
    bad = [r for r in result.rejected if r.get("reason") != "late"]
    assert len(bad) == label["count"] == len(MALFORMED)
    assert all(r["reason"] and "rg-nx-01" in r["payload"] or r["reason"] == "bad_json" for r in bad)
    counted = Counter({r["reason"]: 0 for r in bad})
    for reason in counted:
        counted[reason] = (
            result.metrics.registry.get_sample_value(
                "hazard_readings_rejected_total", {"reason": reason}
            )
            or 0
        )
    assert sum(counted.values()) == len(bad)


def test_fault_scenario_silent_gauge_raises_a_silence_warning(tmp_path) -> None:
    """The gauge that goes silent gets a sensor_silence warning within its no_data time."""
    sc = load_scenario("sensor_faults")
    result = backtest(sc, tmp_path)
    (label,) = [lb for lb in labels(sc) if lb.get("fault") == "silent"]
    silence = [
        e
        for e in result.events
        if e["hazard"] == "sensor_silence"
        and e["subject"] == label["subject"]
        and e["event"] == "raised"
    ]
    assert silence
    assert datetime.fromisoformat(silence[0]["ts"]) <= datetime.fromisoformat(
        label["onset"]
    ) + timedelta(minutes=30)
