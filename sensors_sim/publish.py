"""Publish readings to an MQTT broker, paced by their event time."""

from __future__ import annotations

import math
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from sensors_sim.network import Network, huzhou
from sensors_sim.wire import RawPayload, encode, parse_ts, topic

#: Messages paho may hold unsent before publish() pushes back; bounds memory at speed 0.
MAX_QUEUED = 1000
#: QoS 1 messages in flight at once; paho's default of 20 is slow over loopback.
MAX_INFLIGHT = 100


class Pacer:
    """Sleeps so that readings go out at their event-time spacing divided by ``speed``."""

    def __init__(
        self,
        speed: float,
        stop_event: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Pace at ``speed`` times real time; 0 or infinity means no pacing."""
        if speed < 0 or math.isnan(speed):
            msg = f"speed must be >= 0 (0 or inf: as fast as possible); got {speed!r}"
            raise ValueError(msg)
        self._speed = speed
        self._stop = stop_event
        self._clock = clock
        self._origin: tuple[datetime, float] | None = None

    def due_in(self, event_time: datetime) -> float:
        """Return the seconds to wait before sending a reading stamped ``event_time``."""
        if self._speed == 0 or math.isinf(self._speed):
            return 0.0
        if self._origin is None:
            self._origin = (event_time, self._clock())
        first_event, first_wall = self._origin
        target = first_wall + (event_time - first_event).total_seconds() / self._speed
        return max(0.0, target - self._clock())

    def wait(self, event_time: datetime) -> bool:
        """Wait until ``event_time`` is due; return False if stopped meanwhile."""
        delay = self.due_in(event_time)
        if delay > 0:
            return not self._stop.wait(delay)
        return not self._stop.is_set()


class _Acks:
    """Counts broker acknowledgements and connection state reported by paho's thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.acked = 0
        self.connected = threading.Event()
        self.connect_reason: Any = None

    def on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        with self.cond:
            self.connect_reason = reason
            if not reason.is_failure:
                self.connected.set()
            self.cond.notify_all()

    def on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self.connected.clear()

    def on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, props: Any
    ) -> None:
        with self.cond:
            self.acked += 1
            self.cond.notify_all()


def _connect(
    host: str,
    port: int,
    acks: _Acks,
    *,
    username: str | None,
    password: str | None,
    tls: ssl.SSLContext | None,
    timeout: float,
) -> mqtt.Client:
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.on_connect = acks.on_connect
    client.on_disconnect = acks.on_disconnect
    client.on_publish = acks.on_publish
    client.max_queued_messages_set(MAX_QUEUED)
    client.max_inflight_messages_set(MAX_INFLIGHT)
    if username is not None:
        client.username_pw_set(username, password)
    if tls is not None:
        client.tls_set_context(tls)
    try:
        client.connect(host, port, keepalive=60)
    except OSError as exc:
        msg = f"could not connect to MQTT broker {host}:{port}: {exc}"
        raise ConnectionError(msg) from exc
    client.loop_start()
    deadline = time.monotonic() + timeout
    with acks.cond:
        while not acks.connected.is_set() and acks.connect_reason is None:
            if not acks.cond.wait(max(0.0, deadline - time.monotonic())):
                break
    if not acks.connected.is_set():
        client.loop_stop()
        reason = acks.connect_reason or f"no CONNACK within {timeout} s"
        msg = f"could not connect to MQTT broker {host}:{port}: {reason}"
        raise ConnectionError(msg)
    return client


def _send(
    client: mqtt.Client, acks: _Acks, topic_: str, payload: bytes, qos: int, timeout: float
) -> None:
    """Publish one message, waiting out a full queue; raise if the broker never drains it."""
    deadline = time.monotonic() + timeout
    while True:
        rc = client.publish(topic_, payload, qos=qos).rc
        # With QoS > 0 paho keeps a message published while disconnected and sends it on
        # reconnect; with QoS 0 it is gone, so wait for the connection and send again.
        if rc == mqtt.MQTT_ERR_SUCCESS or (rc == mqtt.MQTT_ERR_NO_CONN and qos > 0):
            return
        if rc not in (mqtt.MQTT_ERR_QUEUE_SIZE, mqtt.MQTT_ERR_NO_CONN):
            msg = f"publish to {topic_} failed: {mqtt.error_string(rc)}"
            raise ConnectionError(msg)
        # A full queue (or all 65,535 message ids in flight) frees up as acks arrive.
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            msg = f"publish to {topic_}: {mqtt.error_string(rc)} for {timeout} s"
            raise TimeoutError(msg)
        with acks.cond:
            acks.cond.wait(min(0.05, remaining))


def publish(
    readings: Iterable[Mapping[str, Any] | RawPayload],
    host: str,
    port: int,
    *,
    topic_prefix: str = "hazard",
    speed: float = 60.0,
    qos: int = 1,
    username: str | None = None,
    password: str | None = None,
    stop_event: threading.Event | None = None,
    tls: ssl.SSLContext | None = None,
    network: Network | None = None,
    timeout: float = 30.0,
) -> int:
    """Publish readings to ``{prefix}/readings/{region}/{kind}/{id}``; return how many were sent.

    Forecasts among them (objects with ``issued`` and ``series``) go, at their issue time, to
    ``{prefix}/forecasts/{region}/{kind}/{id}``.
    """
    if qos not in (0, 1, 2):
        msg = f"qos must be 0, 1 or 2; got {qos!r}"
        raise ValueError(msg)
    stop = stop_event or threading.Event()
    pacer = Pacer(speed, stop)
    regions = (network or huzhou()).regions()
    acks = _Acks()
    client = _connect(
        host, port, acks, username=username, password=password, tls=tls, timeout=timeout
    )
    sent = 0
    try:
        for reading in readings:
            forecast = not isinstance(reading, RawPayload) and "series" in reading
            if isinstance(reading, RawPayload):  # a malformed payload: topic from its sender
                sensor_id, kind, ts = reading.sensor_id, reading.kind, reading.ts
            else:
                sensor_id, kind = reading["sensor_id"], reading["kind"]
                ts = reading["issued"] if forecast else reading["ts"]
            if sensor_id not in regions:
                msg = f"sensor {sensor_id!r} is not in the network, so its region is unknown"
                raise ValueError(msg)
            if not pacer.wait(parse_ts(ts)):
                break
            target = topic(topic_prefix, regions[sensor_id], kind, sensor_id)
            if forecast:
                target = target.replace(
                    f"{topic_prefix}/readings/", f"{topic_prefix}/forecasts/", 1
                )
            _send(client, acks, target, encode(reading), qos, timeout)
            sent += 1
        _wait_for_acks(acks, sent, timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    return sent


def _wait_for_acks(acks: _Acks, expected: int, timeout: float) -> None:
    """Block until the broker has acknowledged ``expected`` messages."""
    # The deadline restarts whenever an ack arrives: a slow broker that is draining is fine.
    with acks.cond:
        progress, deadline = acks.acked, time.monotonic() + timeout
        while acks.acked < expected:
            if acks.acked != progress:
                progress, deadline = acks.acked, time.monotonic() + timeout
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                msg = f"broker acked {acks.acked} of {expected} messages, then none for {timeout} s"
                raise TimeoutError(msg)
            acks.cond.wait(remaining)
