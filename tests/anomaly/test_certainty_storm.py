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


@pytest.mark.parametrize("confirm", ["route", "wait"])
def test_a_lone_spike_on_a_dry_afternoon_goes_out_possible_with_its_fault(
    tmp_path: Path, confirm: str
) -> None:
    """60 mm at one gauge, 0 at its neighbours: Possible warnings, and the fault goes with them."""
    rows = readings("2015-10-10T00:00:00-07:00", (SPIKE_AT, "muk-mvd", 60.0))
    events = backtest(tmp_path, rows, confirm)
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
    # The fault goes out with its warnings: next to them in the output, stamped with the spike
    # (route) or with the next reading that showed it (wait: the warnings were held until then).
    at = [events.index(e) for e in grave]
    assert events.index(fault[0]) in (min(at) - 1, max(at) + 1)
    lag = _minutes(fault[0]["ts"]) - _minutes(grave[0]["ts"])
    assert lag == (0 if confirm == "route" else 15)


def _minutes(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp()) // 60
