"""Warning events and dead letters published to MQTT with QoS 1."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from warning.config import MQTT
from warning.mqtt import make_client, publish
from warning.records import Rejected, WarningEvent
from warning.sinks.local import rejection_record
from warning.sinks.outbox import Outbox

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def topic_part(text: str) -> str:
    """Make text safe as one topic level: no ``/``, wildcards or control characters.

    >>> topic_part("wu/xing#+")
    'wu_xing__'
    """
    return _UNSAFE.sub("_", text)[:64] or "_"


class Publisher:
    """One publishing client per process, connected in the background, shared by sinks.

    With ``outbox_dir``, durable sends are kept on disk until the broker acknowledges them and
    sent again by the next start (``warning.sinks.outbox``).
    """

    def __init__(self, cfg: MQTT, outbox_dir: str | Path | None = None):
        self.cfg = cfg
        self.client: paho.Client | None = None
        self.lock = threading.Lock()
        self.users = 0
        self.outbox_dir = outbox_dir
        self.outbox: Outbox | None = None
        self.mids = threading.Lock()
        self.waiting: dict[int, int | None] = {}  # paho mid -> outbox number
        self.early: set[int] = set()  # mids acknowledged before send() recorded them

    def acquire(self) -> paho.Client:
        """Return the connected client, starting it on first use."""
        with self.lock:
            if self.client is None:
                client_id = f"{self.cfg.client_id}-pub-{os.getpid()}"
                self.client = make_client(self.cfg, client_id, persistent=False)
                self.client.on_publish = self._on_publish
                if self.outbox_dir is not None and self.cfg.qos:  # QoS 0 has no PUBACK
                    self.outbox = Outbox(self.outbox_dir)
                    for n, (topic, payload) in list(self.outbox.pending.items()):
                        self._send(topic, payload, n)
                self.client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive)
                self.client.loop_start()
            self.users += 1
            return self.client

    def send(self, topic: str, payload: bytes, durable: bool = False) -> None:
        """Publish with QoS 1 (queued by paho while the broker is away).

        ``durable`` also keeps it in the outbox, if there is one, until the broker has it.
        """
        n = self.outbox.add(topic, payload) if durable and self.outbox is not None else None
        self._send(topic, payload, n)

    def sync(self) -> None:
        """Make the messages sent so far durable (before a batch returns to bytewax)."""
        if self.outbox is not None:
            self.outbox.sync()

    def _send(self, topic: str, payload: bytes, n: int | None) -> None:
        assert self.client is not None
        mid = publish(self.client, topic, payload, self.cfg.qos)
        if not self.cfg.qos:
            return  # nothing to wait for (and paho reports nothing for unsent QoS 0)
        with self.mids:
            acked = mid in self.early
            if acked:
                self.early.discard(mid)
            else:
                self.waiting[mid] = n
        if acked and n is not None and self.outbox is not None:
            self.outbox.done(n)

    def _on_publish(self, _c, _u, mid: int, _reason, _props) -> None:
        if not self.cfg.qos:
            return
        with self.mids:
            if mid in self.waiting:
                n = self.waiting.pop(mid)
            else:
                self.early.add(mid)  # PUBACK before send() recorded the mid
                return
        if n is not None and self.outbox is not None:
            self.outbox.done(n)

    def release(self, timeout: float = 10.0) -> None:
        """Stop when the last user leaves, after in-flight messages are acknowledged."""
        with self.lock:
            self.users -= 1
            if self.users or self.client is None:
                return
            deadline = time.monotonic() + timeout
            while self._inflight() and time.monotonic() < deadline:
                time.sleep(0.01)
            if self._inflight():
                log.error(
                    "stopping with %d MQTT messages unsent (broker away?): %s",
                    len(getattr(self.client, "_out_messages", ())),
                    "warnings stay in the outbox for the next start"
                    if self.outbox
                    else "they are lost",
                )
            self.client.disconnect()
            self.client.loop_stop()
            self.client = None
            with self.mids:  # message ids belong to that client
                self.waiting.clear()
                self.early.clear()
            if self.outbox is not None:
                self.outbox.close()
                self.outbox = None

    def _inflight(self) -> bool:
        assert self.client is not None
        return bool(getattr(self.client, "_out_messages", None))


class _PublishPartition(StatelessSinkPartition[Any]):
    def __init__(
        self,
        publisher: Publisher,
        render: Callable[[Any], tuple[str, bytes]],
        on_sent: Callable[[Any], None] | None,
        durable: bool = False,
    ):
        self.publisher = publisher
        self.render = render
        self.on_sent = on_sent
        self.durable = durable
        publisher.acquire()

    def write_batch(self, items: list[Any]) -> None:
        for item in items:
            topic, payload = self.render(item)
            self.publisher.send(topic, payload, self.durable)
            if self.on_sent is not None:
                self.on_sent(item)
        if self.durable and items:
            self.publisher.sync()  # durable before bytewax can snapshot this epoch

    def close(self) -> None:
        self.publisher.release()


class MQTTWarningSink(DynamicSink[WarningEvent]):
    """Publish each event to ``<prefix>/warnings/<region>/<hazard>``."""

    def __init__(self, publisher: Publisher, tz: tzinfo):
        self.publisher = publisher
        self.tz = tz

    def _render(self, event: WarningEvent) -> tuple[str, bytes]:
        topic = (
            f"{self.publisher.cfg.topic_prefix}/warnings/{topic_part(event.region)}/"
            f"{topic_part(event.hazard)}"
        )
        return topic, json.dumps(event.to_dict(self.tz), ensure_ascii=False).encode()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _PublishPartition:
        return _PublishPartition(self.publisher, self._render, None, durable=True)


class MQTTDeadLetterSink(DynamicSink[Rejected]):
    """Publish each rejected message to ``<prefix>/deadletter/<reason>`` with its reason."""

    def __init__(self, publisher: Publisher):
        self.publisher = publisher

    def _render(self, r: Rejected) -> tuple[str, bytes]:
        topic = f"{self.publisher.cfg.topic_prefix}/deadletter/{r.reason}"
        return topic, json.dumps(rejection_record(r), ensure_ascii=False).encode()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _PublishPartition:
        return _PublishPartition(self.publisher, self._render, None)
