"""The live pipeline as a subprocess against real Mosquitto and InfluxDB.

A storm published over MQTT, with the malformed corpus mixed in, must give exactly the events
that ``backtest`` gives for the same readings: on the MQTT warnings topic, in the JSON Lines
output and as points in InfluxDB; every malformed message must reach the dead-letter topic
with the right reason, and every valid reading must be stored.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.support import storm
from tests.support.corpus import MALFORMED
from tests.support.corpus import REGISTRY as CORPUS_REGISTRY
from tests.support.live_helpers import metric, normal, region, start_pipeline, stop_pipeline, wait
from tests.support.mqtt_helpers import Collector, publish_all
from warning.app import run_backtest, setup
from warning.config import Config
from warning.demo.broker import free_port

ROOT = Path(__file__).parents[2]


def _registry() -> dict:
    sensors = list(storm.REGISTRY["sensors"])
    sensors += [s for s in CORPUS_REGISTRY["sensors"] if s["id"] == "ws-1"]
    return {"sensors": sensors}


@pytest.fixture
def pipeline_config(tmp_path, broker, influxdb):
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(_registry()))
    metrics_port = free_port()
    cfg = {
        "rules": [str(ROOT / "rules")],
        "sensors": "sensors.yaml",
        "mqtt": {"port": broker.port, "client_id": "pipeline-under-test"},
        "influx": {
            "url": influxdb.url,
            "database": influxdb.db,
            "batch_size": 100,
            "spool_dir": "spool",
        },
        "pipeline": {"idle_tick_after": "1h"},
        "metrics": {"port": metrics_port},
        "outputs": {"console": True, "jsonl": "events.jsonl"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path, metrics_port


def test_live_storm_matches_backtest_on_every_output(tmp_path, broker, influxdb, pipeline_config):
    config_path, metrics_port = pipeline_config
    readings = storm.readings()

    # What the live system must do: the backtest of the same readings.
    storm.write_jsonl(tmp_path / "storm.jsonl", readings)
    cfg = Config(rules=[str(ROOT / "rules")], sensors=str(tmp_path / "sensors.yaml"))
    run_backtest(setup(cfg), tmp_path / "storm.jsonl", tmp_path / "expected.jsonl")
    expected = [json.loads(line) for line in (tmp_path / "expected.jsonl").read_text().splitlines()]
    # The hand-checked storm is among them (with silence of the registered, mute ws-1).
    assert [
        (e["ts"], e["event"], e.get("level"), e.get("previous_level"))
        for e in expected
        if e["rule_id"] == "rainstorm"
    ] == storm.EXPECTED_RG1
    assert {e["subject"] for e in expected if e["hazard"] == "sensor_silence"} == {
        "rg-2",
        "rg-3",
        "ws-1",
    }

    collector = Collector(broker.port, "hazard/warnings/#", "hazard/deadletter/#")
    proc, log = start_pipeline(tmp_path, config_path)
    try:
        wait(
            lambda: metric(metrics_port, "hazard_mqtt_connected") == 1,
            30,
            "the pipeline to subscribe",
        )
        messages = []
        for i, r in enumerate(readings):
            messages.append(
                (
                    f"hazard/readings/{region(r['sensor_id'])}/rainfall/{r['sensor_id']}",
                    json.dumps(r).encode(),
                )
            )
            if i % 8 == 0 and i // 8 < len(MALFORMED):
                topic, payload, _ = MALFORMED[i // 8]
                messages.append((topic, payload))
        assert sum(1 for m in messages if m not in MALFORMED) >= len(readings)
        publish_all(broker.port, messages)

        wait(
            lambda: metric(metrics_port, "hazard_readings_received_total") == len(messages),
            60,
            "every message to be received",
        )
        warnings = collector.wait_for("hazard/warnings/", len(expected), 30)
        letters = collector.wait_for("hazard/deadletter/", len(MALFORMED), 30)
        wait(
            lambda: _count(influxdb, "SELECT count(rain_mm) FROM reading") == len(readings),
            30,
            "every reading in InfluxDB",
        )
    finally:
        code = stop_pipeline(proc, log)
    output = (tmp_path / "pipeline.log").read_text()
    assert code == 0, output
    assert "Traceback" not in output

    # MQTT: the same events, each once, on <prefix>/warnings/<region>/<hazard>.
    assert normal(w for _, w in warnings) == normal(expected)
    assert all(t == f"hazard/warnings/{w['region']}/{w['hazard']}" for t, w in warnings)
    # JSON Lines output of the live run: the same again.
    live_file = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert normal(live_file) == normal(expected)
    # Console: one line per event.
    assert output.count("RAISED") == sum(e["event"] == "raised" for e in expected)

    # Dead letters: every malformed message, with its reason, none of the valid ones.
    assert Counter(d["reason"] for _, d in letters) == Counter(m[2] for m in MALFORMED)
    assert all(t == f"hazard/deadletter/{d['reason']}" for t, d in letters)
    big = next(d for _, d in letters if d["reason"] == "too_large")
    assert big["payload_truncated"] and big["payload_bytes"] == 10 * 1024 * 1024
    binary = next(d for _, d in letters if d["reason"] == "not_utf8")
    assert binary["payload_encoding"] == "base64"

    # InfluxDB: every valid reading once, every event once.
    assert _count(influxdb, "SELECT count(rain_mm) FROM reading") == len(readings)
    assert _count(influxdb, "SELECT count(level_code) FROM warning") == len(expected)
    red = influxdb.query(
        "SELECT * FROM warning WHERE level = 'red' AND hazard = 'rainstorm'", db=influxdb.db
    )
    assert len(red) == 1 and red[0]["subject"] == "rg-1" and red[0]["v_rain_3h_mm"] == 100.0
    # The county's integrated risk (rules/compound.yaml) is stored with its area as a tag.
    area = influxdb.query(
        "SELECT * FROM warning WHERE area = 'wuxing' AND level = 'red'", db=influxdb.db
    )
    assert (
        len(area) == 1 and area[0]["hazard"] == "integrated_risk" and area[0]["subject"] == "wuxing"
    )
    assert red[0]["warning_id"] == "rainstorm/rg-1/20260704T210500Z"
    # Indicators: the shipped rain_accumulation spec, once per accepted rainfall reading.
    assert _count(
        influxdb, "SELECT count(rain_3h_mm) FROM indicator WHERE indicator = 'rain_accumulation'"
    ) == len(readings)
    at_red = influxdb.query(
        "SELECT rain_3h_mm FROM indicator WHERE sensor_id = 'rg-1' "
        "AND time = '2026-07-05T00:15:00Z'",
        db=influxdb.db,
    )
    assert at_red[0]["rain_3h_mm"] == 100.0


def _count(influxdb, q: str) -> int:
    rows = influxdb.query(q, db=influxdb.db)
    return int(rows[0]["count"]) if rows else 0
