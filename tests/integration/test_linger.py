"""The MQTT source gathers bigger batches only while the flow is behind (``mqtt.linger_ms``).

A batch costs per sensor, not per reading (neighbours' readings ride together), so a flow
draining a backlog goes faster with fewer, bigger batches; a flow that keeps up must not wait.
The source runs against a real Mosquitto broker; its clock is the test's, so waits are exact.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

from tests.support.live_helpers import wait
from tests.support.mqtt_helpers import publish_all
from warning.app import setup
from warning.config import MQTT, Config, MetricsConfig, OutputsConfig, Pipeline
from warning.records import Reading, Rejected
from warning.sources.mqtt import BEHIND, LOOK_S, MQTTSource


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = self.start = time.time()  # readings are checked against it (not future)

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


def _source(broker, client_id: str, **mqtt):
    cfg = MQTT(port=broker.port, client_id=client_id, **mqtt)
    s = setup(
        Config(
            mqtt=cfg,
            pipeline=Pipeline(unknown_sensors="accept"),
            metrics=MetricsConfig(enabled=False),
            outputs=OutputsConfig(console=False),
        )
    )
    clock = Clock()
    source = MQTTSource(
        cfg, s.make_ingest, s.metrics, threading.Event(), 3_600_000, clock=clock, timer=clock
    )
    part = source.build_part("readings", cfg.client_id, None)
    wait(lambda: s.metrics.mqtt_connected._value.get() == 1, what="subscribed")
    return part, clock


def test_batches_gather_only_while_behind_and_growing(broker):
    part, clock = _source(broker, "linger-under-test", linger_ms=20)
    sent = 0

    def arrive(n: int) -> None:
        nonlocal sent
        before = part.inbox.qsize()
        publish_all(broker.port, _readings(n, sent))
        sent += n
        wait(lambda: part.inbox.qsize() == before + n, what=f"{n} more messages in the inbox")

    try:
        # keeping up: what waits is taken at once
        arrive(10)
        assert messages(part.next_batch()) == 10

        # a backlog: this batch finds BEHIND or more waiting, so the flow is behind
        arrive(BEHIND + 36)
        assert messages(part.next_batch()) == BEHIND + 36

        # behind: the next batch gathers while the inbox grows
        arrive(10)
        before = datetime.now(UTC)
        assert part.next_batch() == []
        awake = part.next_awake()
        assert awake is not None and before <= awake <= datetime.now(UTC) + timedelta(
            seconds=LOOK_S
        )  # bytewax looks again in LOOK_S
        arrive(5)
        clock.now += LOOK_S
        assert part.next_batch() == []  # it grew: gather on
        clock.now += LOOK_S
        got = part.next_batch()  # it stopped growing: the batch goes
        assert messages(got) == 15
        assert [i.received_at for i in got if isinstance(i, Reading)] == [clock.start] * 15

        # that batch was small at its first look: caught up, no more waiting
        arrive(10)
        assert messages(part.next_batch()) == 10

        # behind again, and the inbox keeps growing: the batch goes when linger_ms is up
        arrive(BEHIND)
        assert messages(part.next_batch()) == BEHIND
        arrive(3)
        assert part.next_batch() == []
        for _ in range(3):
            arrive(25)
            clock.now += 0.006
            assert part.next_batch() == []  # 6, 12, 18 ms: still growing, still gathering
        arrive(3)
        clock.now += 0.003  # 21 ms
        assert messages(part.next_batch()) == 81

        # 81 were taken, but 3 waited at its first look: the wait itself does not make the
        # flow behind, so the next batch goes at once
        arrive(10)
        assert messages(part.next_batch()) == 10
    finally:
        part.close()


def test_a_stepped_back_wall_clock_does_not_hold_a_batch(broker):
    # the wait is timed by the monotonic timer; a time before the start ends it
    part, clock = _source(broker, "linger-clock", linger_ms=20)
    try:
        publish_all(broker.port, _readings(BEHIND, 0))
        wait(lambda: part.inbox.qsize() == BEHIND, what="a backlog")
        assert messages(part.next_batch()) == BEHIND
        publish_all(broker.port, _readings(4, BEHIND))
        wait(lambda: part.inbox.qsize() == 4, what="4 messages")
        assert part.next_batch() == []
        publish_all(broker.port, _readings(4, BEHIND + 4))
        wait(lambda: part.inbox.qsize() == 8, what="8 messages")
        clock.now -= 3_600.0  # stepped back an hour
        assert messages(part.next_batch()) == 8
    finally:
        part.close()


def test_a_full_inbox_is_taken_without_waiting(broker):
    # paho stops reading while the inbox is full: waiting for more would only idle both
    part, _ = _source(broker, "linger-full", linger_ms=1_000, inbox_limit=BEHIND)
    try:
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
