"""A broker restart loses no reading and no warning event.

Mosquitto runs with persistence, so on restart it still holds the pipeline's persistent
session: the readings queued for it and those sent but not yet acknowledged. The pipeline
reconnects with backoff; the warnings publisher keeps its QoS 1 messages in paho's queue
while the broker is away and sends them after the reconnect.
"""

from __future__ import annotations

import json
import time

from tests.support.live_helpers import (
    metric,
    normal,
    recoverable_case,
    start_pipeline,
    stop_pipeline,
    stored_readings,
    wait,
)
from tests.support.mqtt_helpers import Collector, publish_all
from warning.config import MQTT
from warning.sinks.mqtt import Publisher


def test_publisher_keeps_warnings_while_the_broker_is_down(broker):
    collector = Collector(broker.port, "hazard/warnings/#", persistent=True)
    publisher = Publisher(MQTT(port=broker.port, client_id="outage-publisher"))
    client = publisher.acquire()
    wait(client.is_connected, 10, "the publisher to connect")
    broker.pause()
    wait(lambda: not client.is_connected(), 10, "the publisher to see the broker gone")
    for i in range(200):  # what the flow emits while the broker is down
        publisher.send("hazard/warnings/wuxing/rainstorm", json.dumps({"n": i}).encode())
    broker.start()
    got = collector.wait_for("hazard/warnings/", 200, 60)
    publisher.release()
    collector.close()
    assert sorted({w["n"] for _, w in got}) == list(range(200)), (
        f"expected the 200 events sent during the outage, found {len(got)}"
    )


def test_broker_restart_loses_nothing(tmp_path, broker, influxdb):
    config, messages, expected, port = recoverable_case(
        tmp_path, broker, "outage-under-test", influxdb
    )
    third = len(messages) // 3
    collector = Collector(broker.port, "hazard/warnings/#", persistent=True)
    proc, log = start_pipeline(tmp_path, config)
    try:
        wait(lambda: metric(port, "hazard_mqtt_connected") == 1, 30, "subscription")
        publish_all(broker.port, messages[:third])
        wait(lambda: metric(port, "hazard_readings_received_total") == third, 30, "a third")
        # The second third reaches the broker; part of it is still queued or unacknowledged
        # for the pipeline's session when the broker goes down.
        publish_all(broker.port, messages[third : 2 * third])
        broker.pause()
        wait(lambda: metric(port, "hazard_mqtt_connected") == 0, 30, "connected = 0")
        time.sleep(2.0)  # the pipeline retries with backoff meanwhile
        broker.start()
        wait(lambda: metric(port, "hazard_mqtt_connected") == 1, 60, "connected = 1 again")
        assert metric(port, "hazard_mqtt_connects_total") >= 2
        publish_all(broker.port, messages[2 * third :])
        wait(lambda: stored_readings(influxdb) == len(messages), 60, "every reading in InfluxDB")
        got = collector.wait_for("hazard/warnings/", len(expected), 30)
        time.sleep(1.0)  # late duplicates, if any, arrive before counting
        duplicates_dropped = metric(port, "hazard_readings_duplicate_total")
    finally:
        assert stop_pipeline(proc, log) == 0
        collector.close()
    events = [w for _, w in collector.json("hazard/warnings/")]
    assert sorted(set(normal(events))) == sorted(set(normal(expected))), (
        f"expected the backtest's {len(expected)} events, found {len(set(normal(events)))}"
    )
    print(
        f"{len(got)} warning messages for {len(expected)} events; "
        f"{duplicates_dropped:.0f} redelivered readings recognised as duplicates"
    )
    assert stored_readings(influxdb) == len(messages)
    rows = influxdb.query("SELECT count(warning_id) FROM warning", db=influxdb.db)
    assert int(rows[0]["count"]) == len(expected)


def test_publisher_says_what_it_drops_when_stopping_without_a_broker(broker, caplog):
    publisher = Publisher(MQTT(port=broker.port, client_id="outage-publisher"))
    client = publisher.acquire()
    wait(client.is_connected, 10, "the publisher to connect")
    broker.pause()
    wait(lambda: not client.is_connected(), 10, "the publisher to see the broker gone")
    for i in range(3):
        publisher.send("hazard/warnings/wuxing/rainstorm", json.dumps({"n": i}).encode())
    publisher.release(timeout=0.5)
    assert "stopping with 3 MQTT messages unsent" in caplog.text


_CRASHING_PUBLISHER = """
import json, sys, time
from warning.config import MQTT
from warning.sinks.mqtt import Publisher
publisher = Publisher(MQTT(port=int(sys.argv[1]), client_id="crashing"), sys.argv[2])
client = publisher.acquire()
while not client.is_connected():
    time.sleep(0.05)
print("connected", flush=True)
sys.stdin.readline()  # the broker is down now
for i in range(50):
    publisher.send("hazard/warnings/wuxing/rainstorm", json.dumps({"n": i}).encode(), True)
publisher.sync()
print("synced", flush=True)
time.sleep(60)
"""


def test_outbox_keeps_warnings_through_a_crash_while_the_broker_is_down(tmp_path, broker):
    import subprocess
    import sys

    collector = Collector(broker.port, "hazard/warnings/#", persistent=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_PUBLISHER, str(broker.port), str(tmp_path / "outbox")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "connected"
        broker.pause()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "synced"
    finally:
        proc.kill()  # SIGKILL: paho's in-memory queue dies with it
        proc.wait(10)
    broker.start()
    publisher = Publisher(MQTT(port=broker.port, client_id="restarted"), tmp_path / "outbox")
    publisher.acquire()  # sends what the outbox kept
    got = collector.wait_for("hazard/warnings/", 50, 30)
    publisher.release()
    collector.close()
    assert sorted({w["n"] for _, w in got}) == list(range(50)), (
        f"expected the 50 events sent before the crash, found {len(got)}"
    )
    from warning.sinks.outbox import Outbox

    assert Outbox(tmp_path / "outbox").pending == {}, "expected every PUBACK recorded"
