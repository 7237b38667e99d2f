"""The MQTT source gathers bigger batches only while the flow is behind (``mqtt.linger_ms``).

A batch costs per sensor, not per reading (neighbours' readings ride together), so a flow
draining a backlog goes faster with fewer, bigger batches; a flow that keeps up must not wait.
The source runs against a real Mosquitto broker; its clock is the test's, so waits are exact.
"""

from __future__ import annotations

import json
import threading
import time

from tests.support.live_helpers import wait
from tests.support.mqtt_helpers import publish_all
from warning.app import setup
from warning.config import MQTT, Config, MetricsConfig, OutputsConfig, Pipeline
from warning.records import Reading, Rejected
from warning.sources.mqtt import BEHIND, MQTTSource


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def messages(batch: list) -> int:
    """How many messages a batch took (a watermark tick may ride along)."""
    return sum(isinstance(item, Reading | Rejected) for item in batch)


def _readings(n: int, start: int) -> list[tuple[str, bytes]]:
    ts = int(time.time()) - 3_600
    return [
        (
            f"hazard/readings/anji/rainfall/rg-{k}",
            json.dumps(
                {
                    "sensor_id": f"rg-{k}",
                    "kind": "rainfall",
                    "ts": ts + k,
                    "seq": 1,
                    "values": {"rain_mm": 0.0},
                }
            ).encode(),
        )
        for k in range(start, start + n)
    ]


def test_batches_gather_only_while_behind(broker):
    cfg = MQTT(port=broker.port, client_id="linger-under-test", linger_ms=20)
    s = setup(
        Config(
            mqtt=cfg,
            pipeline=Pipeline(unknown_sensors="accept"),
            metrics=MetricsConfig(enabled=False),
            outputs=OutputsConfig(console=False),
        )
    )
    clock = Clock()
    source = MQTTSource(cfg, s.make_ingest, s.metrics, threading.Event(), 3_600_000, clock=clock)
    part = source.build_part("readings", cfg.client_id, None)
    try:
        wait(lambda: s.metrics.mqtt_connected._value.get() == 1, what="subscribed")
        sent = 0

        def arrive(n: int) -> None:
            nonlocal sent
            publish_all(broker.port, _readings(n, sent))
            sent += n
            wait(lambda: part.inbox.qsize() == n, what=f"{n} messages in the inbox")

        # keeping up: what waits is taken at once
        arrive(10)
        assert messages(part.next_batch()) == 10
        assert part.next_awake() is not None  # nothing waits: polled again in 5 ms

        # a backlog: this batch finds BEHIND or more waiting, so the flow is behind
        arrive(BEHIND + 36)
        assert messages(part.next_batch()) == BEHIND + 36

        # behind: the next batch gathers for 20 ms from its first message
        arrive(10)
        assert part.next_batch() == []
        awake = part.next_awake()
        assert awake is not None  # bytewax comes back when the 20 ms are up
        clock.now += 0.019
        assert part.next_batch() == []
        clock.now += 0.002
        assert messages(part.next_batch()) == 10  # the 20 ms are up: everything that came

        # that batch was small: caught up, no more waiting
        arrive(10)
        assert messages(part.next_batch()) == 10
    finally:
        part.close()


def test_a_full_inbox_is_taken_without_waiting(broker):
    # paho stops reading while the inbox is full: waiting for more would only idle both
    cfg = MQTT(port=broker.port, client_id="linger-full", linger_ms=1_000, inbox_limit=BEHIND)
    s = setup(
        Config(
            mqtt=cfg,
            pipeline=Pipeline(unknown_sensors="accept"),
            metrics=MetricsConfig(enabled=False),
            outputs=OutputsConfig(console=False),
        )
    )
    source = MQTTSource(cfg, s.make_ingest, s.metrics, threading.Event(), 3_600_000, clock=Clock())
    part = source.build_part("readings", cfg.client_id, None)
    try:
        wait(lambda: s.metrics.mqtt_connected._value.get() == 1, what="subscribed")
        publish_all(broker.port, _readings(3 * BEHIND, 0))
        taken = 0
        deadline = time.monotonic() + 20
        while taken < 3 * BEHIND and time.monotonic() < deadline:
            wait(lambda: part.inbox.qsize() >= BEHIND, what="a full inbox")
            got = part.next_batch()  # never [] with a full inbox, though the flow is behind
            assert messages(got) >= BEHIND
            taken += messages(got)
        assert taken == 3 * BEHIND
    finally:
        part.close()
