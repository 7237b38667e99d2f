"""Certainty by corroboration through the whole pipeline: storms stay Observed, lone spikes not.

Run with ``-s`` to see the share of genuine warnings marked Possible.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sensors_sim.scenario import parse_scenario
from tests.notify.cap_helpers import assert_valid, settings
from tests.sensors_sim.pipeline import backtest
from warning.anomaly.corroborate import peer_map
from warning.config import Pipeline
from warning.notify.cap.alert import render
from warning.notify.service import event_from_wire

QUIET = """
  - {type: level, sensor: wl-wx-01, base_m: 3.95}
  - {type: level, sensor: wl-wx-02, base_m: 3.46}
  - {type: level, sensor: rs-aj-01, base_m: 126.40}
  - {type: creep, sensor: sl-aj-01, start_mm: 18.6, velocity_mm_h: 0.002}
  - {type: weather, sensor: ws-wx-01, temp_mean_c: 28.5, temp_amp_c: 3.0, rh_mean_pct: 82}
"""
#: Convective bursts after dry spells over both Anji and both Deqing gauges (mm/h).
BURSTS = (
    "[[0m, 0], [5m, 0], [6m, 360], [30m, 360], [31m, 10], [150m, 2], [151m, 400], "
    "[170m, 300], [200m, 10], [360m, 0]]"
)
STORM = f"""
name: burst_storm
description: convective bursts after dry spells over four gauges of two regions.
network: huzhou
start: "2026-07-05T12:00:00+08:00"
duration: 6h
interval: 5m
seed: 20260705
events:
  - {{type: rain, sensors: [rg-aj-01], profile: {BURSTS}}}
  - {{type: rain, sensors: [rg-aj-02], profile: {BURSTS}, scale: 0.8, lag: 5m}}
  - {{type: rain, sensors: [rg-dq-01], profile: {BURSTS}, scale: 0.9, lag: 10m}}
  - {{type: rain, sensors: [rg-dq-02], profile: {BURSTS}, scale: 0.7, lag: 15m}}
{QUIET}"""
SPIKE = f"""
name: lone_spike
description: a dry afternoon; rg-wx-01 sends one 60 mm spike while rg-wx-02 reads 0.
network: huzhou
start: "2026-07-05T12:00:00+08:00"
duration: 4h
interval: 5m
seed: 20260705
events:
  - {{type: fault, sensor: rg-wx-01, fault: spike, start: 2h, end: 2h5m, magnitude: 60,
     field: rain_mm}}
{QUIET}"""


def test_neighbours_are_same_kind_same_region_and_linked() -> None:
    """Rain gauges of a region corroborate each other; a linked sensor is heard too."""
    reg = {
        "a": {"kind": "rainfall", "region": "r"},
        "b": {"kind": "rainfall", "region": "r"},
        "c": {"kind": "rainfall", "region": "q"},
        "w": {"kind": "water_level", "region": "r", "linked": ["a", "up"]},
    }
    assert peer_map(reg) == {"a": ("b", "w"), "b": ("a",), "up": ("w",)}


@pytest.mark.parametrize("confirm", ["route", "wait"])
def test_a_storm_seen_by_neighbours_stays_observed(tmp_path: Path, confirm: str) -> None:
    """Bursts that look like spikes at one gauge are corroborated by its neighbours."""
    result = backtest(parse_scenario(STORM), tmp_path, Pipeline(confirm=confirm))
    warnings = [e for e in result.events if e["hazard"] != "sensor_fault"]
    possible = [e for e in warnings if e["certainty"] == "Possible"]
    print(f"burst_storm ({confirm}): {len(possible)} of {len(warnings)} warnings Possible")
    assert len(warnings) >= 15
    # One yellow stays Possible: rg-dq-01's first burst, 5 min before rg-dq-02 saw rain; and
    # Deqing's integrated risk, which rests on it alone at that moment.
    assert sorted((e["subject"], e["level"]) for e in possible) == [
        ("deqing", "yellow"),
        ("rg-dq-01", "yellow"),
    ]
    gauge, county = sorted(possible, key=lambda e: e["subject"] != "rg-dq-01")
    assert "not corroborated by neighbours (rg-dq-02 rain_mm 0)" in gauge["message"]
    assert "rests on warnings marked Possible (rg-dq-01 landslide yellow)" in county["message"]
    grave = [e for e in warnings if e.get("level") in ("orange", "red")]
    assert grave and all(e["certainty"] == "Observed" for e in grave)
    assert not [e for e in result.events if e["hazard"] == "sensor_fault"]


def test_a_lone_spike_routes_its_warning_as_possible_with_its_fault(tmp_path: Path) -> None:
    """route: the orange warning goes out at once as Possible, its spike fault with it."""
    result = backtest(parse_scenario(SPIKE), tmp_path, Pipeline(confirm="route"))
    orange = [e for e in result.events if e["hazard"] == "rainstorm" and e["event"] != "cleared"]
    fault = [
        e for e in result.events if e["rule_id"] == "sensor_fault_spike" and e["event"] == "raised"
    ]
    assert [e["level"] for e in orange] == ["orange"] and len(fault) == 1
    assert orange[0]["certainty"] == "Possible"
    # The next reading shows the spike: the warning is withdrawn then, not left standing.
    gone = [e for e in result.events if e["warning_id"] == orange[0]["warning_id"]][1:]
    assert [(e["event"], _minutes(e["ts"]) - _minutes(orange[0]["ts"])) for e in gone] == [
        ("cleared", 5)
    ]
    assert gone[0]["message"].startswith("Withdrawn: ")
    assert "sensor fault (spike: rain_mm 60 at 14:00" in gone[0]["message"]
    assert fault[0]["ts"] == orange[0]["ts"]  # together, not one report later
    why = (
        "rain_mm 60 is a spike candidate (robust z 60), not corroborated by neighbours "
        "(rg-wx-02 rain_mm 0); routed for confirmation"
    )
    assert why in orange[0]["message"]
    xml = render(event_from_wire(orange[0]), {"name": "Huzhou city"}, [], settings())
    doc = assert_valid(xml)
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert doc.find(".//cap:certainty", ns).text == "Possible"
    assert any(why in d.text for d in doc.findall(".//cap:description", ns))
    cancel = assert_valid(render(event_from_wire(gone[0]), {"name": "Huzhou city"}, [], settings()))
    assert cancel.find(".//cap:msgType", ns).text == "Cancel"
    desc = " ".join(d.text for d in cancel.findall(".//cap:description", ns))
    assert "withdrawn at" in desc and "sensor fault (spike: rain_mm 60" in desc
    assert "预警撤销" in desc


def test_a_lone_spike_waited_for_is_withheld(tmp_path: Path) -> None:
    """wait: the orange warning is held until the next reading; it fell back, so it is
    withheld (never sent) and the spike fault, sent then, names it."""
    result = backtest(parse_scenario(SPIKE), tmp_path, Pipeline(confirm="wait"))
    assert [e for e in result.events if e["hazard"] != "sensor_fault"] == []
    fault = [
        e for e in result.events if e["rule_id"] == "sensor_fault_spike" and e["event"] == "raised"
    ]
    assert len(fault) == 1
    assert "withheld the rainstorm orange warning(s) that rested on it" in fault[0]["message"]
    assert _minutes(fault[0]["ts"]) == _minutes("2026-07-05T14:05:00+08:00")  # one report late


def _minutes(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text).timestamp()) // 60


CELL = f"""
name: lagging_cell
description: a cloudburst at rg-wx-01 that reaches rg-wx-02 one report later.
network: huzhou
start: "2026-07-05T12:00:00+08:00"
duration: 4h
interval: 5m
seed: 20260705
events:
  - {{type: rain, sensors: [rg-wx-01], profile: &cell [[0m, 0], [116m, 0], [117m, 900],
     [135m, 900], [136m, 0], [240m, 0]]}}
  - {{type: rain, sensors: [rg-wx-02], profile: *cell, scale: 0.9, lag: 5m}}
{QUIET}"""


def test_wait_holds_a_lone_extreme_until_the_neighbour_confirms_it(tmp_path: Path) -> None:
    """wait: the first orange is held one report; confirmed, it goes out Observed, no fault."""
    result = backtest(parse_scenario(CELL), tmp_path, Pipeline(confirm="wait"))
    first = next(
        e for e in result.events if e["subject"] == "rg-wx-01" and e["hazard"] == "rainstorm"
    )
    assert first["level"] in ("orange", "red") and first["certainty"] == "Observed"
    assert "held up to 5 min for confirmation; confirmed by" in first["message"]
    assert not [e for e in result.events if e["hazard"] == "sensor_fault"]


def test_route_takes_back_an_early_spike_fault_when_the_value_lasts(tmp_path: Path) -> None:
    """route: Possible at once with its fault; the next reading stays high, the fault clears."""
    result = backtest(parse_scenario(CELL), tmp_path, Pipeline(confirm="route"))
    first = next(
        e for e in result.events if e["subject"] == "rg-wx-01" and e["hazard"] == "rainstorm"
    )
    assert first["certainty"] == "Possible" and "routed for confirmation" in first["message"]
    faults = [
        (e["event"], _minutes(e["ts"]))
        for e in result.events
        if e["rule_id"] == "sensor_fault_spike"
    ]
    assert faults == [("raised", _minutes(first["ts"])), ("cleared", _minutes(first["ts"]) + 5)]
    later = [e for e in result.events if e["hazard"] == "rainstorm" and e is not first]
    assert later and all(e["certainty"] == "Observed" for e in later)


def test_support_needs_a_fresh_neighbour_moving_the_same_way() -> None:
    """Too old, too small or the wrong way does not corroborate; a linked sensor can."""
    from warning.anomaly.corroborate import PeerSeen, remember, support
    from warning.anomaly.faults import FaultSettings
    from warning.records import Reading

    s = FaultSettings()
    t = 1_780_000_000_000
    old = {"b": PeerSeen(t - 20 * 60_000, "rainfall", {"rain_mm": 40.0})}
    assert support(old, "rainfall", "rain_mm", 40.0, 0.0, t, s) == (
        None,
        "no neighbour reading within 15 min",
    )
    small = {"b": PeerSeen(t, "rainfall", {"rain_mm": 5.0})}
    assert support(small, "rainfall", "rain_mm", 40.0, 0.0, t, s)[0] is None
    level = {"w": PeerSeen(t, "water_level", {"level_m": 3.10}, {"level_m": 3.20})}
    assert support(level, "water_level", "level_m", 4.0, 3.2, t, s)[0] is None  # it fell
    linked = {"up": PeerSeen(t, "water_level", {"level_m": 3.30}, {"level_m": 3.20})}
    assert (
        support(linked, "reservoir", "level_m", 130.0, 126.0, t, s)[0] == "up level_m 3.3 (linked)"
    )
    peers: dict[str, PeerSeen] = {}
    for ts, v in ((t, 3.2), (t + 300_000, 3.3), (t + 300_000, 3.3), (t, 9.9)):
        remember(peers, Reading("w", "water_level", "r", ts, {"level_m": v}))
    assert peers["w"].values == {"level_m": 3.3} and peers["w"].before == {"level_m": 3.2}


SAME_TIME = CELL.replace("name: lagging_cell", "name: same_time_cell").replace(
    "scale: 0.9, lag: 5m", "scale: 0.9"
)


def test_route_confirms_a_warning_when_a_neighbour_reports_the_same_rain(tmp_path: Path) -> None:
    """route: Possible at once; the neighbour's reading of the same time confirms it at once."""
    result = backtest(parse_scenario(SAME_TIME), tmp_path, Pipeline(confirm="route"))
    mine = [e for e in result.events if e["subject"] == "rg-wx-01"]
    first = next(e for e in mine if e["hazard"] == "rainstorm")
    assert first["certainty"] == "Possible" and "routed for confirmation" in first["message"]
    confirmed = [e for e in mine if e["event"] == "confirmed"]
    assert len(confirmed) == 1 and confirmed[0]["warning_id"] == first["warning_id"]
    assert confirmed[0]["certainty"] == "Observed" and confirmed[0]["level"] == first["level"]
    assert "confirmed by neighbour rg-wx-02 rain_mm" in confirmed[0]["message"]
    assert _minutes(confirmed[0]["ts"]) == _minutes(first["ts"])
    fault = [(e["event"], e["ts"]) for e in mine if e["rule_id"] == "sensor_fault_spike"]
    assert fault == [("raised", first["ts"]), ("cleared", first["ts"])]  # taken back at once


SHOWER = f"""
name: shower
description: one short shower over both Wuxing gauges, the same report at each.
network: huzhou
start: "2026-07-05T12:00:00+08:00"
duration: 4h
interval: 5m
seed: 20260705
events:
  - {{type: rain, sensors: [rg-wx-01], profile: &shower [[0m, 0], [116m, 0], [117m, 180],
     [120m, 180], [121m, 0], [240m, 0]]}}
  - {{type: rain, sensors: [rg-wx-02], profile: *shower, scale: 0.9}}
{QUIET}"""


@pytest.mark.parametrize("confirm", ["route", "wait"])
def test_a_neighbour_reading_just_after_forgives_a_spike_candidate(
    tmp_path: Path, confirm: str
) -> None:
    """One report of rain at both gauges: the neighbour's arrives second; no spike is named."""
    result = backtest(parse_scenario(SHOWER), tmp_path, Pipeline(confirm=confirm))
    rows = [json.loads(x) for x in (tmp_path / "shower.jsonl").read_text().splitlines()]
    wet = [
        (r["ts"], r["sensor_id"], r["values"]["rain_mm"])
        for r in rows
        if r["values"].get("rain_mm")
    ]
    # 14:00: rg-wx-01 12.9 mm (a spike candidate) then rg-wx-02 6.1 mm; 14:05 both fall back.
    (t1, first, mm), (t2, second, _) = wet[:2]
    assert (first, second) == ("rg-wx-01", "rg-wx-02") and t1 == t2 and mm >= 10
    assert len(wet) == 4 and all(v < 2 for _, _, v in wet[2:])
    assert [e for e in result.events if e["hazard"] == "sensor_fault"] == []
