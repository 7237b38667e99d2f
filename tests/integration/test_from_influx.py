"""backtest --from-influx replays what InfluxDB stored and gives the same events as the file."""

from __future__ import annotations

import json
import time
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tests.support import storm
from warning.cli import app
from warning.config import Influx
from warning.pipeline.parse import default_settings, parse_message
from warning.records import RawMessage
from warning.sinks.lineproto import reading_line
from warning.sinks.writers import V1Writer

ROOT = Path(__file__).parents[2]


def test_backtest_from_influx_equals_backtest_from_file(tmp_path, influxdb):
    rows = storm.readings()
    settings = default_settings()
    readings = [parse_message(RawMessage("", r, time.time()), settings) for r in rows]
    lines = [reading_line(r) for r in readings]
    V1Writer(Influx(url=influxdb.url, database=influxdb.db)).write("\n".join(lines).encode())
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(storm.REGISTRY))
    storm.write_jsonl(tmp_path / "in.jsonl", rows)
    common = [
        "backtest",
        "--rules",
        str(ROOT / "rules"),
        "--sensors",
        str(tmp_path / "sensors.yaml"),
        "--no-progress",
    ]
    runner = CliRunner()
    from_file = runner.invoke(
        app,
        [*common, "--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "file.jsonl")],
    )
    assert from_file.exit_code == 0, from_file.output
    from_db = runner.invoke(
        app,
        [
            *common,
            "--from-influx",
            influxdb.url,
            "--influx-db",
            influxdb.db,
            "--start",
            "2026-07-05T00:00:00+08:00",
            "--end",
            "2026-07-06T00:00:00+08:00",
            "--output",
            str(tmp_path / "db.jsonl"),
        ],
    )
    assert from_db.exit_code == 0, from_db.output
    assert f"{len(rows)} readings read from {influxdb.url}" in from_db.output
    file_events = (tmp_path / "file.jsonl").read_text().splitlines()
    db_events = (tmp_path / "db.jsonl").read_text().splitlines()
    assert db_events == file_events
    assert len(file_events) >= len(storm.EXPECTED_RG1) + len(storm.EXPECTED_SILENCE)
    replayed = [json.loads(x) for x in (tmp_path / "db.readings.jsonl").read_text().splitlines()]
    assert len(replayed) == len(rows)


def test_from_influx_unreachable_says_so(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--rules",
            str(ROOT / "rules"),
            "--from-influx",
            "http://127.0.0.1:9",
            "--start",
            "2026-07-05T00:00:00+08:00",
            "--end",
            "2026-07-06T00:00:00+08:00",
            "--output",
            str(tmp_path / "o.jsonl"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 1
    assert "--from-influx: InfluxDB unreachable" in result.output
