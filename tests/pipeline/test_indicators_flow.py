"""Indicators computed in the stream: FWI from daily weather readings, indicator specs."""

from __future__ import annotations

import csv
import dataclasses
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from warning.app import run_backtest, setup
from warning.config import Config

ROOT = Path(__file__).parents[2]
REFERENCE = ROOT / "tests" / "data" / "fwi_reference_1985.csv"  # from shared/data
COLUMNS = {"FFMC": "ffmc", "DMC": "dmc", "DC": "dc", "ISI": "isi", "BUI": "bui", "FWI": "fwi"}


def _backtest(tmp_path, rules, registry, rows):
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(registry))
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = Config(rules=[str(r) for r in rules], sensors=str(tmp_path / "sensors.yaml"))
    run_backtest(
        setup(cfg), tmp_path / "in.jsonl", tmp_path / "out.jsonl", indicators=tmp_path / "ind.jsonl"
    )
    events = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    records = [json.loads(x) for x in (tmp_path / "ind.jsonl").read_text().splitlines()]
    return events, records


def test_fwi_reference_table_through_backtest(tmp_path):
    """The 1985 reference days, with their real dates, through ``backtest --indicators``."""
    table = list(csv.DictReader(REFERENCE.open()))
    rows = [
        {
            "sensor_id": "ws-ref",
            "kind": "weather",
            "seq": i + 1,
            "ts": f"{r['YR']}-{int(r['MON']):02d}-{int(r['DAY']):02d}T12:00:00-07:00",
            "values": {
                "temp_c": float(r["TEMP"]),
                "rh_pct": float(r["RH"]),
                "wind_kmh": float(r["WS"]),
                "rain_mm": float(r["PREC"]),
            },
        }
        for i, r in enumerate(table)
    ]
    registry = {
        "sensors": [
            {
                "id": "ws-ref",
                "kind": "weather",
                "name": "Reference",
                "region": "test",
                "lat": float(table[0]["LAT"]),
                "lon": float(table[0]["LONG"]),
                "tz": "Etc/GMT+7",
            }
        ]
    }
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(registry))
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "warning",
            "backtest",
            "--rules",
            str(ROOT / "rules"),
            "--sensors",
            str(tmp_path / "sensors.yaml"),
            "--input",
            str(tmp_path / "in.jsonl"),
            "--output",
            str(tmp_path / "out.jsonl"),
            "--rejected",
            str(tmp_path / "rej.jsonl"),
            "--indicators",
            str(tmp_path / "ind.jsonl"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "rej.jsonl").read_text() == ""
    records = [json.loads(x) for x in (tmp_path / "ind.jsonl").read_text().splitlines()]
    fwi = [r for r in records if r["indicator"] == "fwi"]
    assert len(fwi) == len(table)
    for got, want in zip(fwi, table, strict=True):
        noon = datetime(1985, int(want["MON"]), int(want["DAY"]), 19, tzinfo=UTC)
        assert datetime.fromisoformat(got["ts"]) == noon
        for column, key in COLUMNS.items():
            assert got["values"][key] == pytest.approx(float(want[column]), abs=0.1), (
                want["MON"],
                want["DAY"],
                column,
            )
        assert got["values"]["dsr"] == pytest.approx(float(want["DSR"]), abs=0.05)
        assert got["values"]["rain_24h_mm"] == float(want["PREC"])


def test_live_settings_still_refuse_unset_clocks_but_replay_takes_1900_on():
    from warning.pipeline.parse import (
        LIVE_MIN_TS_MS,
        REPLAY_MIN_TS_MS,
        default_settings,
        parse_message,
    )
    from warning.records import RawMessage

    msg = {
        "sensor_id": "rg-1",
        "kind": "rainfall",
        "ts": "1999-06-30T08:00:00+08:00",
        "values": {"rain_mm": 1.0},
    }
    live = dataclasses.replace(default_settings(), min_ts_ms=LIVE_MIN_TS_MS, max_future_ms=None)
    replay = dataclasses.replace(live, min_ts_ms=REPLAY_MIN_TS_MS)
    raw = RawMessage("hazard/readings/r/rainfall/rg-1", json.dumps(msg).encode(), 0.0)
    rejected = parse_message(raw, live)
    assert rejected.reason == "bad_timestamp" and "outside 2000..3000" in rejected.detail
    assert parse_message(raw, replay).ts == 930_700_800_000
    old = dict(msg, ts="1899-12-31T23:00:00+00:00")
    raw = RawMessage("hazard/readings/r/rainfall/rg-1", json.dumps(old).encode(), 0.0)
    assert "outside 1900..3000" in parse_message(raw, replay).detail


def test_indicator_specs_and_functions_in_rules(tmp_path):
    (tmp_path / "r.yaml").write_text("""
indicators:
  - id: level_trend
    for_kind: reservoir
    values:
      rise_m_per_h: "rate(level_m, 1h)"
      hours_to_warning: "time_to(level_m, sensor.warning_level_m)"
rules:
  - id: level_soon
    hazard: flood
    for_kind: reservoir
    levels:
      yellow: "time_to(level_m, sensor.warning_level_m) <= 2"
    message: "{sensor.name}: warning level in {time_to(level_m, sensor.warning_level_m):.1f} h"
""")
    registry = {
        "sensors": [
            {
                "id": "wl-1",
                "kind": "reservoir",
                "name": "Station",
                "region": "wuxing",
                "warning_level_m": 4.5,
            }
        ]
    }
    # 3.0 m rising 0.25 m/h, every 15 min: 4.5 m is 6 h away at 0:00, 2 h away at 4:00.
    rows = [
        {
            "sensor_id": "wl-1",
            "kind": "reservoir",
            "ts": 1783180800 + 900 * i,
            "values": {"level_m": round(3.0 + 0.0625 * i, 4)},
        }
        for i in range(20)
    ]
    events, records = _backtest(tmp_path, [tmp_path / "r.yaml"], registry, rows)
    assert len(records) == 20
    last = records[-1]["values"]
    assert last["rise_m_per_h"] == pytest.approx(0.25)
    assert last["hours_to_warning"] == pytest.approx((4.5 - (3.0 + 0.0625 * 19)) / 0.25)
    assert [(e["event"], e["level"], e["ts"]) for e in events] == [
        ("raised", "yellow", "2026-07-05T04:00:00+08:00")
    ]
    assert events[0]["message"] == "Station: warning level in 2.0 h"


def test_shipped_slope_rules_forecast_the_synthetic_failure(tmp_path):
    # DOMAIN.md's synthetic slope: x(t) = (1/k) ln(t_f / (t_f - t)), k = 0.1 /mm, t_f = 100 h.
    import math

    start = 1783180800  # 2026-07-05T00:00+08:00
    rows = [
        {
            "sensor_id": "sl-1",
            "kind": "slope",
            "ts": start + 600 * i,
            "values": {"displacement_mm": round(10 * math.log(100 / (100 - i / 6)), 4)},
        }
        for i in range(0, 6 * 99)
    ]  # every 10 min up to 99 h
    registry = {
        "sensors": [
            {
                "id": "sl-1",
                "kind": "slope",
                "name": "Slope",
                "region": "anji",
                "uniform_velocity_mm_h": 0.1,
            }
        ]
    }
    events, records = _backtest(tmp_path, [ROOT / "rules" / "slope.yaml"], registry, rows)
    forecast = [
        (e["event"], e.get("level"), (datetime.fromisoformat(e["ts"]).timestamp() - start) / 3600)
        for e in events
        if e["rule_id"] == "slope_failure_forecast"
    ]
    assert [f[:2] for f in forecast] == [
        ("raised", "yellow"),
        ("escalated", "orange"),
        ("escalated", "red"),
    ]
    # Orange when failure is 72 h away (t = 28 h), red at 24 h (t = 76 h), to within 20 min.
    assert forecast[1][2] == pytest.approx(28, abs=0.34)
    assert forecast[2][2] == pytest.approx(76, abs=0.34)
    last = [r for r in records if r["indicator"] == "slope_motion"][-1]["values"]
    assert last["hours_to_failure"] == pytest.approx(100 - 98.833, abs=0.1)
    assert last["failure_fit_r2"] > 0.99
    tangent = [e["level"] for e in events if e["rule_id"] == "slope_tangent"]
    assert tangent and tangent[-1] == "red"
