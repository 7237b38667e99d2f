"""Hot reload: a changed threshold applies mid-stream, state kept; a broken file is refused."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from tests.support import storm
from tests.support.live_helpers import metric, region, start_pipeline, stop_pipeline, wait
from tests.support.mqtt_helpers import Collector, publish_all
from warning.demo.broker import free_port

ROOT = Path(__file__).parents[2]


def _post(port: int) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/-/reload", data=b"", method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_reload_changes_a_threshold_and_keeps_state(tmp_path, broker):
    rules = tmp_path / "rules"
    rules.mkdir()
    rule_file = rules / "rainstorm.yaml"
    shutil.copy(ROOT / "rules" / "rainstorm.yaml", rule_file)
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(storm.REGISTRY))
    port = free_port()
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "rules": ["rules"],
                "sensors": "sensors.yaml",
                "mqtt": {"port": broker.port, "client_id": "reload-under-test"},
                "pipeline": {"idle_tick_after": "1h", "watch_rules": False},
                "metrics": {"port": port},
                "outputs": {"console": False},
            }
        )
    )
    rg1 = [r for r in storm.readings() if r["sensor_id"] == "rg-1"]
    messages = [
        (f"hazard/readings/{region('rg-1')}/rainfall/rg-1", json.dumps(r).encode()) for r in rg1
    ]
    collector = Collector(broker.port, "hazard/warnings/#")
    proc, log = start_pipeline(tmp_path, tmp_path / "config.yaml")
    try:
        wait(lambda: metric(port, "hazard_mqtt_connected") == 1, 30, "subscription")
        publish_all(broker.port, messages[:73])  # to 06:00: yellow since 05:05, 36 mm in 3 h
        first = collector.wait_for("hazard/warnings/", 1, 20)
        assert [(w["event"], w["level"]) for _, w in first] == [("raised", "yellow")]

        # Orange at 30 mm in 3 h instead of 50: the next reading (37 mm) escalates.
        rule_file.write_text(
            rule_file.read_text().replace(
                'orange: "sum(rain_mm, 3h) >= 50 or', 'orange: "sum(rain_mm, 3h) >= 30 or'
            )
        )
        assert _post(port) == 200
        publish_all(broker.port, messages[73:74])
        got = collector.wait_for("hazard/warnings/", 2, 20)
        _, escalated = got[1]
        assert (escalated["event"], escalated["level"], escalated["ts"]) == (
            "escalated",
            "orange",
            "2026-07-05T06:05:00+08:00",
        )
        # The same episode: the rule's lifecycle survived the reload.
        assert escalated["warning_id"] == first[0][1]["warning_id"]

        # A broken file is refused; the running rules stay and the gauge says so.
        rule_file.write_text(rule_file.read_text().replace("levels:", "levles:"))
        assert _post(port) == 400
        assert metric(port, "hazard_rules_last_reload_success") == 0
        publish_all(broker.port, messages[74:76])
        wait(lambda: metric(port, "hazard_readings_received_total") == 76, 20, "two more")
        assert metric(port, "hazard_rules_loaded") == 1
    finally:
        assert stop_pipeline(proc, log) == 0
    text = (tmp_path / "pipeline.log").read_text()
    assert "reload refused:" in text and "levles" in text
    assert len(collector.json("hazard/warnings/")) == 2  # nothing spurious after the refusal
