"""Readings written as JSON Lines and CSV, and the command line that writes them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from sensors_sim.__main__ import app
from sensors_sim.files import write_readings

READINGS = [
    {
        "sensor_id": "rg-wx-01",
        "kind": "rainfall",
        "ts": "2026-07-05T12:05:00+08:00",
        "seq": 1,
        "values": {"rain_mm": 1.2},
    },
    {
        "sensor_id": "gs-cx-01",
        "kind": "gas",
        "ts": "2026-07-05T12:05:00+08:00",
        "seq": 1,
        "values": {"lel_pct": 0.8, "h2s_ppm": 0.2},
    },
]


def test_jsonl_round_trips(tmp_path: Path) -> None:
    """Each line of the JSON Lines file is one reading."""
    path = tmp_path / "r.jsonl"
    assert write_readings(READINGS, path) == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == READINGS


def test_csv_has_union_of_fields_and_empty_cells(tmp_path: Path) -> None:
    """CSV columns are the base columns then every field; absent fields are empty."""
    path = tmp_path / "r.csv"
    assert write_readings(READINGS, path) == 2
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["sensor_id", "kind", "ts", "seq", "h2s_ppm", "lel_pct", "rain_mm"]
    assert rows[1] == ["rg-wx-01", "rainfall", "2026-07-05T12:05:00+08:00", "1", "", "", "1.2"]
    assert rows[2][4:] == ["0.2", "0.8", ""]


def test_cli_generate_and_registry(tmp_path: Path) -> None:
    """``generate`` writes readings and the registry; ``registry`` writes the same YAML."""
    runner = CliRunner()
    out, reg, reg2 = tmp_path / "quiet.jsonl", tmp_path / "sensors.yaml", tmp_path / "s2.yaml"
    result = runner.invoke(
        app, ["generate", "--scenario", "quiet", "--output", str(out), "--registry", str(reg)]
    )
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 15 * 72
    result = runner.invoke(app, ["registry", "--scenario", "quiet", "--output", str(reg2)])
    assert result.exit_code == 0, result.output
    assert reg.read_text(encoding="utf-8") == reg2.read_text(encoding="utf-8")
    doc = yaml.safe_load(reg.read_text(encoding="utf-8"))
    assert len(doc["sensors"]) == 15
    assert {a["id"] for a in doc["areas"]} >= {"cx_etdz_unit1", "xitiaoxi_upper"}


def test_cli_unknown_scenario_exits_2(tmp_path: Path) -> None:
    """An unknown scenario is a usage error with a message, not a traceback."""
    result = CliRunner().invoke(app, ["generate", "-s", "nope", "-o", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 2
