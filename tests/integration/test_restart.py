"""Readings published while the pipeline is down are delivered when it comes back.

The pipeline keeps a persistent MQTT session (fixed client id, no clean start), so the broker
queues its QoS 1 messages while it is away; with a recovery directory, bytewax restores the
windows and lifecycles, so the warnings are those of an uninterrupted run.
"""

from __future__ import annotations

import json
from pathlib import Path

import storm
import yaml
from live_helpers import metric, normal, region, start_pipeline, stop_pipeline, wait
from mqtt_helpers import Collector, publish_all

from warning.app import run_backtest, setup
from warning.config import Config
from warning.localserver import free_port

ROOT = Path(__file__).parents[2]


def test_restart_loses_nothing_and_repeats_nothing(tmp_path, broker):
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(storm.REGISTRY))
    metrics_port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "rules": [str(ROOT / "rules")], "sensors": "sensors.yaml",
        "mqtt": {"port": broker.port, "client_id": "restart-under-test"},
        "pipeline": {"idle_tick_after": "1h", "recovery_dir": "recovery",
                     "snapshot_interval": "1s"},
        "metrics": {"port": metrics_port}, "outputs": {"console": False}}))
    readings = storm.readings()
    storm.write_jsonl(tmp_path / "storm.jsonl", readings)
    cfg = Config(rules=[str(ROOT / "rules")], sensors=str(tmp_path / "sensors.yaml"))
    run_backtest(setup(cfg), tmp_path / "storm.jsonl", tmp_path / "expected.jsonl")
    expected = [json.loads(x) for x in (tmp_path / "expected.jsonl").read_text().splitlines()]

    messages = [(f"hazard/readings/{region(r['sensor_id'])}/rainfall/{r['sensor_id']}",
                 json.dumps(r).encode()) for r in readings]
    half = len(messages) // 2
    collector = Collector(broker.port, "hazard/warnings/#")

    proc, log = start_pipeline(tmp_path, config, "first")
    wait(lambda: metric(metrics_port, "hazard_mqtt_connected") == 1, 30, "subscription")
    publish_all(broker.port, messages[:half])
    wait(lambda: metric(metrics_port, "hazard_readings_received_total") == half, 30,
          "the first half")
    assert stop_pipeline(proc, log) == 0

    publish_all(broker.port, messages[half:])  # nobody is listening: the broker keeps them

    proc, log = start_pipeline(tmp_path, config, "second")
    try:
        wait(lambda: metric(metrics_port, "hazard_readings_received_total")
              == len(messages) - half, 30, "the second half, queued by the broker")
        warnings = collector.wait_for("hazard/warnings/", len(expected), 20)
    finally:
        assert stop_pipeline(proc, log) == 0
    assert normal(w for _, w in warnings) == normal(expected)
