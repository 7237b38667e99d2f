"""Live readings from an MQTT broker as a bytewax source; ``next_batch`` never blocks."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
from bytewax.inputs import DynamicSource, StatelessSourcePartition

from warning.config import MQTT
from warning.ingest import Ingest
from warning.metrics import Metrics
from warning.model import RawMessage, Reading, Rejected, Tick
from warning.mqtt import make_client

log = logging.getLogger(__name__)
Item = Reading | Rejected | Tick


class _MQTTPartition(StatelessSourcePartition[Item]):
    def __init__(self, cfg: MQTT, client_id: str, subscribe: bool, ingest: Ingest,
                 metrics: Metrics, stop: threading.Event, idle_after_ms: int, batch: int,
                 clock: Callable[[], float]):
        self.cfg = cfg
        self.ingest = ingest
        self.metrics = metrics
        self.stop = stop
        self.idle_after_ms = idle_after_ms
        self.batch = batch
        self.clock = clock
        self.inbox: queue.SimpleQueue[paho.MQTTMessage] = queue.SimpleQueue()
        self.to_ack: list[tuple[int, int]] = []
        self.last_arrival = clock()
        self.topic = f"{cfg.topic_prefix}/readings/#"
        if cfg.share_group:
            self.topic = f"$share/{cfg.share_group}/{self.topic}"
        self.client = make_client(cfg, client_id, persistent=not cfg.clean_start,
                                  manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, m: self.inbox.put(m)
        self.subscribe = subscribe
        self.client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive)
        self.client.loop_start()

    def _on_connect(self, client: paho.Client, _u, _flags, reason, _props) -> None:
        if reason.is_failure:
            log.error("MQTT %s:%s refused the connection: %s", self.cfg.host, self.cfg.port,
                      reason)
            return
        log.info("connected to MQTT %s:%s", self.cfg.host, self.cfg.port)
        self.metrics.mqtt_reconnects.inc()
        if self.subscribe:
            client.subscribe(self.topic, qos=self.cfg.qos)
        else:
            self.metrics.mqtt_connected.set(1)

    def _on_subscribe(self, _c, _u, _mid, reasons, _props) -> None:
        if any(r.is_failure for r in reasons):
            log.error("MQTT broker refused the subscription to %s: %s", self.topic, reasons)
            return
        # Ready only once subscribed: from here on the broker keeps our messages.
        self.metrics.mqtt_connected.set(1)

    def _on_disconnect(self, _c, _u, _flags, reason, _props) -> None:
        self.metrics.mqtt_connected.set(0)
        if not self.stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason)

    def next_batch(self) -> list[Item]:
        # Acknowledge what bytewax took in the previous call (manual ack, see DOMAIN.md).
        for mid, qos in self.to_ack:
            self.client.ack(mid, qos)
        self.to_ack.clear()
        if self.stop.is_set():
            raise StopIteration
        msgs: list[RawMessage] = []
        get = self.inbox.get_nowait
        try:
            while len(msgs) < self.batch:
                m = get()
                msgs.append(RawMessage(m.topic, m.payload, self.clock(), m.mid))
                if m.qos:
                    self.to_ack.append((m.mid, m.qos))
        except queue.Empty:
            pass
        now = self.clock()
        if not msgs:
            idle_ms = int((now - self.last_arrival) * 1000)
            if idle_ms >= self.idle_after_ms:
                tick = self.ingest.watermark.idle(idle_ms)
                return [tick] if tick is not None else []
            return []
        self.last_arrival = now
        return self.ingest.take(msgs)

    def next_awake(self) -> datetime | None:
        if self.inbox.empty():
            return datetime.now(UTC) + timedelta(milliseconds=5)
        return None

    def close(self) -> None:
        for mid, qos in self.to_ack:
            self.client.ack(mid, qos)
        self.client.disconnect()
        self.client.loop_stop()


class MQTTSource(DynamicSource[Item]):
    """Subscribe to ``<prefix>/readings/#`` with QoS 1 on a persistent session.

    Each worker runs its own client; with a share group they split the topic between them,
    without one only worker 0 subscribes so that nothing is read twice.
    """

    def __init__(self, cfg: MQTT, make_ingest: Callable[[], Ingest], metrics: Metrics,
                 stop: threading.Event, idle_after_ms: int, batch: int = 5000,
                 clock: Callable[[], float] = time.time):
        self.cfg = cfg
        self.make_ingest = make_ingest
        self.metrics = metrics
        self.stop = stop
        self.idle_after_ms = idle_after_ms
        self.batch = batch
        self.clock = clock

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _MQTTPartition:
        client_id = self.cfg.client_id if worker_count == 1 else \
            f"{self.cfg.client_id}-{worker_index}"
        subscribe = bool(self.cfg.share_group) or worker_index == 0
        return _MQTTPartition(self.cfg, client_id, subscribe, self.make_ingest(), self.metrics,
                              self.stop, self.idle_after_ms, self.batch, self.clock)
