"""Live readings from an MQTT broker as a bytewax source; ``next_batch`` never blocks.

One partition is one MQTT session (keyed by its client id). Messages are acknowledged by hand
(paho's ``manual_ack``), never on receipt: with ``ack: snapshot`` only once the epoch after
the one that read them has been snapshotted, so a crash at any moment leaves every reading
either in a committed bytewax snapshot or unacknowledged at the broker, which sends it again
to our persistent session. With ``ack: batch`` (no recovery), once bytewax has taken the batch.

The inbox between paho's network thread and the flow is bounded (``mqtt.inbox_limit``): when
it is full the network thread waits, so paho stops reading the socket and the broker keeps the
rest in our session's queue. A burst or a backlog slows intake instead of growing memory.

Batches are what the inbox holds when bytewax asks, so a flow that keeps up takes each reading
within milliseconds. A flow that is behind (the last batch found ``BEHIND`` or more messages
waiting at its first look: a backlog, or a rate near the flow's maximum) lets a batch gather
while the inbox grows, for up to ``mqtt.linger_ms``, unless a full batch or a full inbox is
already waiting: fewer, bigger batches cost less per reading (``bench/pipeline_bench.py
--linger-ms 0 --linger-ms 20``). A gathered batch is dated, and judged behind or not, by its
first look, so waiting does not keep itself going.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as paho
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from warning.config import MQTT
from warning.metrics import Metrics
from warning.mqtt import make_client
from warning.pipeline.ingest import Ingest, Watermark
from warning.records import Forecast, RawMessage, Reading, Rejected, Tick

log = logging.getLogger(__name__)
Item = Reading | Forecast | Rejected | Tick
#: Messages waiting for a batch that mean the flow is behind. A flow that keeps up finds a
#: few (it takes them every few ms); one that is draining a backlog or near its maximum rate
#: finds hundreds, and then gathers bigger batches (``mqtt.linger_ms``): each batch costs
#: per sensor, not per reading (neighbours' readings ride together), so a batch of 2,000
#: readings costs ~20 % less CPU per reading than one of 130.
BEHIND = 64
#: While a batch gathers, the inbox is looked at this often; once it stops growing the batch
#: goes (a broker that holds messages until earlier ones are acknowledged stops it early).
LOOK_S = 0.002


class _MQTTPartition(StatefulSourcePartition[Item, Watermark]):
    def __init__(
        self,
        cfg: MQTT,
        client_id: str,
        ingest: Ingest,
        metrics: Metrics,
        stop: threading.Event,
        idle_after_ms: int,
        batch: int,
        clock: Callable[[], float],
        ack_on_snapshot: bool,
        timer: Callable[[], float] = time.monotonic,
    ):
        self.cfg = cfg
        self.ack_on_snapshot = ack_on_snapshot
        self.read_this_epoch: list[tuple[int, int]] = []
        self.read_last_epoch: list[tuple[int, int]] = []
        self.ingest = ingest
        self.metrics = metrics
        self.stop = stop
        self.idle_after_ms = idle_after_ms
        self.batch = batch
        self.clock = clock
        # SimpleQueue (C) with a size check costs ~0.8 us per message; queue.Queue ~4.9 us.
        self.inbox: queue.SimpleQueue[paho.MQTTMessage] = queue.SimpleQueue()
        self.inbox_limit = max(1, cfg.inbox_limit)
        self.linger_s = cfg.linger_ms / 1000
        self.timer = timer  # monotonic: a wall clock stepped back must not stall intake
        self.gathering: float | None = None  # timer() when the batch being gathered began
        self.arrived = 0.0  # clock() then: the gathered batch's arrival time
        self.first_seen = self.last_seen = 0  # messages waiting then, and at the last look
        self.behind = False  # the last batch found BEHIND messages or more at its first look
        self.enough = min(batch, self.inbox_limit)  # a full batch, or a full inbox: no wait
        self.closing = threading.Event()
        self.to_ack: list[tuple[int, int]] = []
        self.last_arrival = clock()
        self.topics = [f"{cfg.topic_prefix}/readings/#", f"{cfg.topic_prefix}/forecasts/#"]
        if cfg.share_group:
            self.topics = [f"$share/{cfg.share_group}/{t}" for t in self.topics]
        self.client = make_client(cfg, client_id, persistent=not cfg.clean_start, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive)
        self.client.loop_start()

    def _on_connect(self, client: paho.Client, _u, _flags, reason, _props) -> None:
        if reason.is_failure:
            log.error("MQTT %s:%s refused the connection: %s", self.cfg.host, self.cfg.port, reason)
            return
        log.info("connected to MQTT %s:%s", self.cfg.host, self.cfg.port)
        self.metrics.mqtt_reconnects.inc()
        client.subscribe([(t, self.cfg.qos) for t in self.topics])

    def _on_subscribe(self, _c, _u, _mid, reasons, _props) -> None:
        if any(r.is_failure for r in reasons):
            log.error("MQTT broker refused the subscription to %s: %s", self.topics, reasons)
            return
        # Ready only once subscribed: from here on the broker keeps our messages.
        self.metrics.mqtt_connected.set(1)

    def _on_message(self, _c, _u, msg: paho.MQTTMessage) -> None:
        inbox = self.inbox
        inbox.put(msg)
        if inbox.qsize() < self.inbox_limit:
            return
        # Full: waiting here stops paho reading the socket, so the broker holds the rest
        # for us. The next message comes only once there is room: at most inbox_limit wait.
        self.metrics.inbox_full.inc()
        while inbox.qsize() >= self.inbox_limit and not self.closing.is_set():
            time.sleep(0.002)

    def _on_disconnect(self, _c, _u, _flags, reason, _props) -> None:
        self.metrics.mqtt_connected.set(0)
        if not self.stop.is_set():
            log.warning("MQTT connection lost (%s); reconnecting with backoff", reason)

    def _ack(self, msgs: list[tuple[int, int]]) -> None:
        for mid, qos in msgs:
            self.client.ack(mid, qos)
        msgs.clear()

    def snapshot(self) -> Watermark:
        if self.ack_on_snapshot:
            # The previous epoch's snapshot is committed by now: what it read is safe.
            self._ack(self.read_last_epoch)
            self.read_last_epoch, self.read_this_epoch = self.read_this_epoch, []
        return dataclasses.replace(self.ingest.watermark)

    def next_batch(self) -> list[Item]:
        if not self.ack_on_snapshot:
            self._ack(self.to_ack)  # bytewax took the previous batch
        if self.stop.is_set():
            raise StopIteration
        waiting = self.inbox.qsize()
        now = self.clock()  # one arrival time per batch: the queue keeps no earlier one
        if (
            self.behind
            and 0 < waiting < self.enough
            and self.linger_s
            and self._gather(waiting, now)
        ):
            return []
        seen = waiting
        if self.gathering is not None:  # the batch waited: judge it, and date it, by its start
            now, seen = self.arrived, self.first_seen
            self.gathering = None
        self.behind = seen >= BEHIND
        msgs: list[RawMessage] = []
        self.metrics.inbox.set(waiting)  # what waited for this batch
        get = self.inbox.get_nowait
        pending = self.read_this_epoch if self.ack_on_snapshot else self.to_ack
        try:
            while len(msgs) < self.batch:
                m = get()
                # paho's payload is bytes (bytes() of bytes is the same object, no copy).
                msgs.append(RawMessage(m.topic, bytes(m.payload), now, m.mid))
                if m.qos:
                    pending.append((m.mid, m.qos))
        except queue.Empty:
            pass
        if not msgs:
            idle_ms = int((now - self.last_arrival) * 1000)
            if idle_ms >= self.idle_after_ms:
                tick = self.ingest.watermark.idle(idle_ms)
                return [tick] if tick is not None else []
            return []
        self.last_arrival = now
        return self.ingest.take(msgs)

    def _gather(self, waiting: int, now: float) -> bool:
        """Return True while a batch of a flow that is behind should gather.

        It gathers while the inbox still grows (a broker's in-flight limit stops it) and
        linger_s has not passed since its first look.
        """
        t = self.timer()
        if self.gathering is None:
            self.gathering, self.arrived, self.first_seen = t, now, waiting
        elif not (0 <= t - self.gathering < self.linger_s and waiting > self.last_seen):
            return False
        self.last_seen = waiting
        return True

    def next_awake(self) -> datetime | None:
        if self.inbox.empty():
            return datetime.now(UTC) + timedelta(milliseconds=5)
        if self.gathering is not None and self.inbox.qsize() < self.enough:
            # look again in LOOK_S, or when linger_s is up (a time in the past means now)
            left = self.gathering + self.linger_s - self.timer()
            return datetime.now(UTC) + timedelta(seconds=min(max(left, 0.0), LOOK_S))
        return None

    def close(self) -> None:
        # A clean end (the flow completed): everything read has been processed.
        self._ack(self.to_ack)
        self._ack(self.read_last_epoch)
        self._ack(self.read_this_epoch)
        self.closing.set()
        self.client.disconnect()
        self.client.loop_stop()


class MQTTSource(FixedPartitionedSource[Item, Watermark]):
    """Subscribe to ``<prefix>/readings/#`` with QoS 1 on a persistent session.

    The one partition is keyed by the client id; with a share group, several processes with
    different client ids split the topic between them.
    """

    def __init__(
        self,
        cfg: MQTT,
        make_ingest: Callable[[], Ingest],
        metrics: Metrics,
        stop: threading.Event,
        idle_after_ms: int,
        batch: int = 5000,
        clock: Callable[[], float] = time.time,
        ack_on_snapshot: bool = False,
        timer: Callable[[], float] = time.monotonic,
    ):
        self.cfg = cfg
        self.make_ingest = make_ingest
        self.metrics = metrics
        self.stop = stop
        self.idle_after_ms = idle_after_ms
        self.batch = batch
        self.clock = clock
        self.timer = timer
        self.ack_on_snapshot = ack_on_snapshot

    def list_parts(self) -> list[str]:
        return [self.cfg.client_id]

    def build_part(
        self, step_id: str, for_part: str, resume_state: Watermark | None
    ) -> _MQTTPartition:
        ingest = self.make_ingest()
        if resume_state is not None:
            ingest.watermark = resume_state
        ingest.watermark.source = for_part
        return _MQTTPartition(
            self.cfg,
            for_part,
            ingest,
            self.metrics,
            self.stop,
            self.idle_after_ms,
            self.batch,
            self.clock,
            self.ack_on_snapshot,
            self.timer,
        )
