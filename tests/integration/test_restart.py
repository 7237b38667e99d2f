"""Readings published while the pipeline is down are delivered when it comes back.

The pipeline keeps a persistent MQTT session (fixed client id, no clean start), so the broker
queues its QoS 1 messages while it is away; with a recovery directory, bytewax restores the
windows and lifecycles, so the warnings are those of an uninterrupted run.
"""

from __future__ import annotations

from tests.support.live_helpers import (
    metric,
    normal,
    recoverable_case,
    start_pipeline,
    stop_pipeline,
    wait,
)
from tests.support.mqtt_helpers import Collector, publish_all


def test_restart_loses_nothing_and_repeats_nothing(tmp_path, broker):
    config, messages, expected, metrics_port = recoverable_case(
        tmp_path, broker, "restart-under-test", snapshot_interval="1s"
    )
    half = len(messages) // 2
    collector = Collector(broker.port, "hazard/warnings/#")

    proc, log = start_pipeline(tmp_path, config, "first")
    wait(lambda: metric(metrics_port, "hazard_mqtt_connected") == 1, 30, "subscription")
    publish_all(broker.port, messages[:half])
    wait(
        lambda: metric(metrics_port, "hazard_readings_received_total") == half, 30, "the first half"
    )
    assert stop_pipeline(proc, log) == 0

    publish_all(broker.port, messages[half:])  # nobody is listening: the broker keeps them

    proc, log = start_pipeline(tmp_path, config, "second")
    try:
        wait(
            lambda: metric(metrics_port, "hazard_readings_received_total") == len(messages) - half,
            30,
            "the second half, queued by the broker",
        )
        warnings = collector.wait_for("hazard/warnings/", len(expected), 20)
    finally:
        assert stop_pipeline(proc, log) == 0
    assert normal(w for _, w in warnings) == normal(expected)
