"""anomaly train --from-influx trains on what InfluxDB stored (a real server)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import storm
from warning.cli import app
from warning.config import Influx
from warning.pipeline.parse import default_settings, parse_message
from warning.records import RawMessage
from warning.sinks.lineproto import reading_line
from warning.sinks.writers import V1Writer

pytestmark = pytest.mark.integration


def test_train_from_influx(tmp_path: Path, influxdb) -> None:
    """Every stored reading is read back and the model's period is the stored one."""
    rows = storm.readings()
    settings = default_settings()
    readings = [parse_message(RawMessage("", r, time.time()), settings) for r in rows]
    V1Writer(Influx(url=influxdb.url, database=influxdb.db)).write(
        "\n".join(reading_line(r) for r in readings).encode()
    )
    res = CliRunner().invoke(
        app,
        [
            "anomaly",
            "train",
            "--from-influx",
            influxdb.url,
            "--influx-db",
            influxdb.db,
            "--start",
            "2026-07-05T00:00:00+08:00",
            "--end",
            "2026-07-06T00:00:00+08:00",
            "--model",
            str(tmp_path / "m"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert f"({len(rows)} rows)" in res.output
    meta = json.loads((tmp_path / "m" / "v1" / "meta.json").read_text())
    first, last = min(r.ts for r in readings), max(r.ts for r in readings)
    assert meta["start"] == time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(first / 1000))
    assert meta["end"] == time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(last / 1000))


def test_train_from_unreachable_influx_says_so(tmp_path: Path) -> None:
    """No server: exit 1 with the reason, no model folder."""
    res = CliRunner().invoke(
        app,
        [
            "anomaly",
            "train",
            "--from-influx",
            "http://127.0.0.1:9",
            "--start",
            "2026-07-05T00:00:00+08:00",
            "--end",
            "2026-07-06T00:00:00+08:00",
            "--model",
            str(tmp_path / "m"),
        ],
    )
    assert res.exit_code == 1
    assert "unreachable" in res.output
    assert not (tmp_path / "m").exists()
