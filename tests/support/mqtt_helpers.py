"""Small MQTT helpers for tests: a collecting subscriber and a QoS 1 publisher."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


class Collector:
    """Subscribe to topics and keep every message, with its topic.

    ``persistent`` keeps the broker session, so a broker restart (with persistence) loses
    nothing for the collector: paho reconnects and the broker sends what it queued.
    """

    def __init__(self, port: int, *topics: str, persistent: bool = False):
        self.messages: list[tuple[str, bytes]] = []
        self.lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"collector-{id(self)}",
            clean_session=not persistent,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in topics])
        assert subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, _c, _u, msg) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload))

    def json(self, prefix: str) -> list[tuple[str, dict]]:
        with self.lock:
            return [(t, json.loads(p)) for t, p in self.messages if t.startswith(prefix)]

    def wait_for(self, prefix: str, count: int, timeout: float = 60) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.json(prefix)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        return self.json(prefix)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_all(port: int, messages: list[tuple[str, bytes]]) -> None:
    """Publish with QoS 1 in order and wait until the broker acknowledged every message."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="test-publisher")
    client.max_inflight_messages_set(100)
    client.connect("127.0.0.1", port)
    client.loop_start()
    for start in range(0, len(messages), 10_000):  # paho has 65,535 message ids
        infos = [client.publish(t, p, qos=1) for t, p in messages[start : start + 10_000]]
        for info in infos:
            info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()
