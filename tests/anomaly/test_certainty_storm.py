"""Certainty on a real storm: four USGS gauges of one region through the whole backtest.

The sample (tests/data/README.md) is two dry days and the storm of 10-11 Oct 2015 at Mukilteo,
rain scaled x4 as in docs/QUALITY.md. Without corroboration two of its genuine landslide
warnings were Possible and a spike fault was raised on a gauge that really saw rain.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from warning.app import run_backtest, setup
from warning.config import Config, Pipeline
from warning.metrics import Metrics

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "tests" / "data" / "mukilteo_2015-10-08_11.csv"
START, END = "2015-10-08T00:00:00-07:00", "2015-10-12T00:00:00-07:00"
TIP_MM = 0.254
SCALE = 4
SPIKE_AT = "2015-10-09T15:00:00-07:00"


def sample() -> tuple[list[str], dict[str, dict[str, int]]]:
    """Return the gauges and, per listed 15-min time, each gauge's tips."""
    lines = [x for x in SAMPLE.read_text().splitlines() if not x.startswith("#")]
    gauges = lines[0].split(",")[1:]
    tips = {}
    for line in lines[1:]:
        ts, *counts = line.split(",")
        tips[ts] = dict(zip(gauges, map(int, counts), strict=True))
    return gauges, tips


def readings(end: str = END, spike: tuple[str, str, float] | None = None) -> list[dict]:
    """Every gauge's report every 15 min from START to ``end``, scaled; ``spike`` replaces one."""
    gauges, tips = sample()
    out, t, stop, seq = [], datetime.fromisoformat(START), datetime.fromisoformat(end), 0
    while t < stop:
        ts = t.isoformat()
        seq += 1
        for g in gauges:
            mm = round(tips.get(ts, {}).get(g, 0) * TIP_MM * SCALE, 3)
            if spike is not None and (ts, g) == spike[:2]:
                mm = spike[2]
            out.append(
                {
                    "sensor_id": g,
                    "kind": "rainfall",
                    "ts": ts,
                    "seq": seq,
                    "values": {"rain_mm": mm},
                }
            )
        t += timedelta(minutes=15)
    return out


def backtest(tmp_path: Path, rows: list[dict], confirm: str) -> list[dict[str, Any]]:
    """Run the shipped rules over ``rows`` with the four gauges as neighbours in Anji."""
    gauges, _ = sample()
    registry = tmp_path / "sensors.yaml"
    registry.write_text(
        "sensors:\n"
        + "".join(
            f"  - {{id: {g}, kind: rainfall, name: {g}, region: anji, lat: 47.94, "
            f"lon: {-122.30 - i / 1000}, tz: America/Los_Angeles}}\n"
            for i, g in enumerate(gauges)
        )
    )
    source, output = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    s = setup(
        Config(
            rules=[str(ROOT / "rules")], sensors=str(registry), pipeline=Pipeline(confirm=confirm)
        ),
        Metrics(),
    )
    run_backtest(s, source, output)
    return [json.loads(x) for x in output.read_text().splitlines()]


def test_the_sample_is_the_storm_of_four_gauges() -> None:
    """Each gauge has rain in the sample, and all of it falls on 10-11 Oct."""
    gauges, tips = sample()
    assert len(gauges) == 4
    assert all(sum(row[g] for row in tips.values()) > 0 for g in gauges)
    assert all(ts.startswith(("2015-10-10", "2015-10-11")) for ts in tips)


@pytest.mark.parametrize("confirm", ["route", "wait"])
def test_no_genuine_warning_of_a_real_storm_is_possible(tmp_path: Path, confirm: str) -> None:
    """The storm raises landslide warnings on every gauge; its neighbours corroborate each."""
    events = backtest(tmp_path, readings(), confirm)
    warnings = [e for e in events if e["hazard"] != "sensor_fault" and e["event"] != "cleared"]
    assert {e["subject"] for e in warnings if e["hazard"] == "landslide"} == set(sample()[0])
    assert len(warnings) >= 30
    assert [e["message"] for e in warnings if e["certainty"] != "Observed"] == []
    assert [e for e in events if e["hazard"] == "sensor_fault"] == []


def test_a_lone_spike_routed_goes_out_possible_with_its_fault_then_is_withdrawn(
    tmp_path: Path,
) -> None:
    """route: 60 mm at one gauge, 0 at its neighbours: Possible warnings with the fault, then
    withdrawn on the next reading, which shows the spike (not left standing for hours)."""
    rows = readings("2015-10-10T00:00:00-07:00", (SPIKE_AT, "muk-mvd", 60.0))
    events = backtest(tmp_path, rows, "route")
    first = [e for e in events if e["event"] == "raised"]
    grave = [e for e in first if e["hazard"] in ("landslide", "rainstorm")]
    fault = [e for e in first if e["rule_id"] == "sensor_fault_spike"]
    assert sorted((e["hazard"], e["level"]) for e in grave) == [
        ("landslide", "red"),
        ("rainstorm", "orange"),
    ]
    assert all(e["certainty"] == "Possible" for e in grave)
    assert all("not corroborated by neighbours (muk-mlp rain_mm 0" in e["message"] for e in grave)
    assert len(fault) == 1 and fault[0]["subject"] == "muk-mvd"
    # The county's integrated risk stands on those two alone: Possible too, saying why.
    county = [e for e in first if e["hazard"] == "integrated_risk"]
    assert [(e["level"], e["certainty"]) for e in county] == [("red", "Possible")]
    assert "rests on warnings marked Possible (muk-mvd landslide red" in county[0]["message"]
    # The fault goes out with its warnings: next to them in the output, stamped with the spike.
    at = [events.index(e) for e in grave]
    assert events.index(fault[0]) in (min(at) - 1, max(at) + 1)
    assert fault[0]["ts"] == grave[0]["ts"]
    # The next reading (15 min) falls back: all three are withdrawn then, saying why.
    gone = [e for e in events if e["message"].startswith("Withdrawn: ")]
    assert sorted(e["warning_id"] for e in gone) == sorted(
        e["warning_id"] for e in [*grave, *county]
    )
    assert {e["event"] for e in gone} == {"cleared"}
    assert {_minutes(e["ts"]) - _minutes(grave[0]["ts"]) for e in gone} == {15}
    assert all(e["certainty"] == "Observed" for e in gone)
    why = "sensor fault (spike: rain_mm 60 at 15:00, back near 0 on the next reading"
    assert all(why in e["message"] for e in gone)
    # Nothing else is said of them afterwards, and nothing else is raised.
    ids = {e["warning_id"] for e in gone}
    assert [e["event"] for e in events if e["warning_id"] in ids].count("cleared") == 3
    assert len(first) == 4


def test_a_lone_spike_waited_for_is_withheld_and_its_fault_says_so(tmp_path: Path) -> None:
    """wait: the grave warnings are held one report; the next reading falls back, so they never
    go out: the spike fault goes out alone, naming what it withheld."""
    rows = readings("2015-10-10T00:00:00-07:00", (SPIKE_AT, "muk-mvd", 60.0))
    events = backtest(tmp_path, rows, "wait")
    assert [e for e in events if e["hazard"] != "sensor_fault"] == []
    fault = [e for e in events if e["rule_id"] == "sensor_fault_spike" and e["event"] == "raised"]
    assert len(fault) == 1 and fault[0]["subject"] == "muk-mvd"
    assert _minutes(fault[0]["ts"]) - _minutes(SPIKE_AT) == 15  # the latency "wait" costs
    note = fault[0]["message"]
    assert "withheld the" in note and "landslide red" in note and "rainstorm orange" in note


def _minutes(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) // 60
