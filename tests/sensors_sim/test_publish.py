"""Publishing to a real Mosquitto: every reading arrives, on its topic, byte for byte."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from datetime import timedelta
from types import SimpleNamespace

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from sensors_sim.generate import generate
from sensors_sim.publish import Pacer, _Acks, _send, publish
from sensors_sim.scenario import load_scenario
from sensors_sim.wire import encode, parse_ts, topic


@pytest.mark.integration
def test_quiet_scenario_arrives_complete_and_unchanged(sim_broker: tuple[str, int]) -> None:
    """Each reading of the quiet scenario arrives once, on its topic, with an identical payload."""
    host, port = sim_broker
    scenario = load_scenario("quiet")
    readings = list(generate(scenario))
    regions = scenario.network.regions()
    expected: dict[str, list[bytes]] = defaultdict(list)
    for r in readings:
        sid = r["sensor_id"]
        expected[topic("hazard", regions[sid], r["kind"], sid)].append(encode(r))

    received: dict[str, list[bytes]] = defaultdict(list)
    count = 0
    lock = threading.Lock()
    subscribed, done = threading.Event(), threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        nonlocal count
        with lock:
            received[message.topic].append(bytes(message.payload))
            count += 1
            if count >= len(readings):
                done.set()

    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.on_subscribe = lambda *args: subscribed.set()
    sub.connect(host, port)
    sub.loop_start()
    try:
        sub.subscribe("hazard/readings/#", qos=1)
        assert subscribed.wait(10), "subscription was not acknowledged"
        sent = publish(readings, host, port, speed=0, qos=1, network=scenario.network)
        assert sent == len(readings)
        assert done.wait(30), f"received {count} of {len(readings)} messages"
        # A short grace period lets duplicates, if any, arrive before the comparison below.
        time.sleep(0.2)
    finally:
        sub.disconnect()
        sub.loop_stop()

    # Per topic the order must be kept too: one publisher, QoS 1, one session.
    assert dict(received) == dict(expected)


def test_pacer_spaces_readings_by_event_time_over_speed() -> None:
    """At speed 60, readings 5 min apart in event time go out 5 s apart."""
    now = [100.0]
    pacer = Pacer(60.0, threading.Event(), clock=lambda: now[0])
    start = parse_ts("2026-07-05T12:05:00+08:00")
    assert pacer.due_in(start) == 0.0
    assert pacer.due_in(start + timedelta(minutes=5)) == pytest.approx(5.0)
    now[0] = 103.0
    assert pacer.due_in(start + timedelta(minutes=5)) == pytest.approx(2.0)
    # Behind schedule: send at once rather than sleep a negative time.
    now[0] = 200.0
    assert pacer.due_in(start + timedelta(minutes=10)) == 0.0


@pytest.mark.parametrize("speed", [0.0, math.inf])
def test_pacer_without_pacing(speed: float) -> None:
    """Speed 0 or infinity sends as fast as possible."""
    pacer = Pacer(speed, threading.Event(), clock=lambda: 0.0)
    assert pacer.due_in(parse_ts("2026-07-05T18:00:00+08:00")) == 0.0


class _FakeClient:
    """Returns the given publish() result codes in turn."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.calls = 0

    def publish(self, topic: str, payload: bytes, qos: int) -> SimpleNamespace:
        self.calls += 1
        return SimpleNamespace(rc=self.codes.pop(0))


def test_send_retries_while_the_queue_is_full() -> None:
    """MQTT_ERR_QUEUE_SIZE means wait and publish again, not give up or drop."""
    full, ok = mqtt.MQTT_ERR_QUEUE_SIZE, mqtt.MQTT_ERR_SUCCESS
    client = _FakeClient([full, full, ok])
    _send(client, _Acks(), "hazard/readings/x/y/z", b"{}", 1, timeout=5.0)  # type: ignore[arg-type]
    assert client.calls == 3


def test_send_gives_up_after_timeout() -> None:
    """A queue that never drains raises instead of hanging."""
    client = _FakeClient([mqtt.MQTT_ERR_QUEUE_SIZE] * 1000)
    with pytest.raises(TimeoutError):
        _send(client, _Acks(), "hazard/readings/x/y/z", b"{}", 1, timeout=0.2)  # type: ignore[arg-type]


@pytest.mark.integration
def test_fault_scenario_publishes_raw_payloads_as_is(sim_broker: tuple[str, int]) -> None:
    """Malformed payloads go out byte for byte on their sensor's topic, among the readings."""
    from sensors_sim.wire import RawPayload

    host, port = sim_broker
    scenario = load_scenario("sensor_faults")
    messages = list(generate(scenario))
    regions = scenario.network.regions()
    expected: dict[str, list[bytes]] = defaultdict(list)
    for m in messages:
        sid = m.sensor_id if isinstance(m, RawPayload) else m["sensor_id"]
        kind = m.kind if isinstance(m, RawPayload) else m["kind"]
        expected[topic("hazard", regions[sid], kind, sid)].append(encode(m))
    received: dict[str, list[bytes]] = defaultdict(list)
    lock = threading.Lock()
    subscribed, done = threading.Event(), threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with lock:
            received[message.topic].append(bytes(message.payload))
            if sum(map(len, received.values())) >= len(messages):
                done.set()

    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.on_subscribe = lambda *args: subscribed.set()
    sub.connect(host, port)
    sub.loop_start()
    try:
        sub.subscribe("hazard/readings/#", qos=1)
        assert subscribed.wait(10), "subscription was not acknowledged"
        sent = publish(messages, host, port, speed=0, qos=1, network=scenario.network)
        assert sent == len(messages)
        assert done.wait(30)
        time.sleep(0.2)
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert dict(received) == dict(expected)
    raw = [
        p
        for p in received["hazard/readings/nanxun/rainfall/rg-nx-01"]
        if p[:1] != b"{" or b'"ts":' not in p
    ]
    assert raw


@pytest.mark.integration
def test_forecasts_go_to_the_forecasts_topic_at_their_issue_time(
    sim_broker: tuple[str, int],
) -> None:
    """A forecast among the readings is published on hazard/forecasts/REGION/KIND/ID."""
    host, port = sim_broker
    scenario = load_scenario("quiet")
    readings = list(generate(scenario))[:40]
    fc = {
        "sensor_id": "rg-wx-01",
        "kind": "rainfall",
        "issuer": "sim-qpf",
        "issued": readings[10]["ts"],
        "series": [{"valid": readings[30]["ts"], "values": {"rain_mm": 2.0}}],
    }
    got: list[tuple[str, bytes]] = []
    subscribed, done = threading.Event(), threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        got.append((message.topic, bytes(message.payload)))
        if len(got) >= 41:
            done.set()

    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.on_subscribe = lambda *args: subscribed.set()
    sub.connect(host, port)
    sub.loop_start()
    try:
        sub.subscribe("hazard/#", qos=1)
        assert subscribed.wait(10), "subscription was not acknowledged"
        sent = publish(
            [*readings[:10], fc, *readings[10:]],
            host,
            port,
            speed=0,
            qos=1,
            network=scenario.network,
        )
        assert sent == 41 and done.wait(30), f"received {len(got)} of 41"
    finally:
        sub.disconnect()
        sub.loop_stop()
    forecasts = [(t, p) for t, p in got if "/forecasts/" in t]
    assert forecasts == [("hazard/forecasts/wuxing/rainfall/rg-wx-01", encode(fc))]
