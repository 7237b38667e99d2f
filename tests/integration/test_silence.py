"""A sensor that sends nothing at all raises a silence warning by the wall clock, live."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import yaml

from tests.support.live_helpers import metric, start_pipeline, stop_pipeline, wait
from tests.support.mqtt_helpers import Collector, publish_all
from warning.demo.broker import free_port


def test_silence_when_all_input_stops(tmp_path, broker):
    rules = tmp_path / "rules"
    rules.mkdir()
    # Seconds instead of minutes, so that the wall clock can be waited for in a test.
    (rules / "silence.yaml").write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "id": "silent_gauge",
                        "hazard": "sensor_silence",
                        "for_kind": "rainfall",
                        "no_data": {"after": "3s", "level": "yellow"},
                    }
                ]
            }
        )
    )
    (tmp_path / "sensors.yaml").write_text(
        yaml.safe_dump(
            {
                "sensors": [
                    {"id": "rg-1", "kind": "rainfall", "name": "One", "region": "wuxing"},
                    {"id": "rg-2", "kind": "rainfall", "name": "Two", "region": "wuxing"},
                ]
            }
        )
    )
    port = free_port()
    (tmp_path / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "rules": ["rules"],
                "sensors": "sensors.yaml",
                "mqtt": {"port": broker.port, "client_id": "silence-under-test"},
                "pipeline": {"lateness": "0s", "tick": "1s", "idle_tick_after": "1s"},
                "metrics": {"port": port},
                "outputs": {"console": False},
            }
        )
    )
    collector = Collector(broker.port, "hazard/warnings/#")
    proc, log = start_pipeline(tmp_path, tmp_path / "config.yaml")
    try:
        wait(lambda: metric(port, "hazard_mqtt_connected") == 1, 30, "subscription")
        now = int(time.time())
        for i in range(3):  # rg-1 reports for two seconds, rg-2 never
            ts = datetime.fromtimestamp(now + i, UTC).isoformat()
            publish_all(
                broker.port,
                [
                    (
                        "hazard/readings/wuxing/rainfall/rg-1",
                        json.dumps(
                            {
                                "sensor_id": "rg-1",
                                "kind": "rainfall",
                                "ts": ts,
                                "values": {"rain_mm": 0.0},
                            }
                        ).encode(),
                    )
                ],
            )
            time.sleep(1)
        got = collector.wait_for("hazard/warnings/", 2, 20)
    finally:
        assert stop_pipeline(proc, log) == 0
    raised = {w["subject"]: w for _, w in got if w["event"] == "raised"}
    assert set(raised) == {"rg-1", "rg-2"}
    # Stamped in event time: the last reading plus the 3 s allowed; rg-2, never heard from,
    # counts from the first tick (the first reading's time, lateness being 0).
    assert datetime.fromisoformat(raised["rg-1"]["ts"]).timestamp() == now + 2 + 3
    assert datetime.fromisoformat(raised["rg-2"]["ts"]).timestamp() == now + 3
    assert raised["rg-1"]["level"] == "yellow"
    assert raised["rg-1"]["hazard"] == "sensor_silence"
