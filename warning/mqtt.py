"""paho-mqtt 2.x clients built from the MQTT config: credentials, TLS, reconnect with backoff."""

from __future__ import annotations

import logging
import ssl
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from warning.config import MQTT, secret

log = logging.getLogger(__name__)


def make_client(
    cfg: MQTT, client_id: str, *, persistent: bool, manual_ack: bool = False
) -> paho.Client:
    """Return a configured, not yet connected client.

    ``persistent`` keeps the broker session (QoS 1 messages queue for us while we are away).
    """
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        manual_ack=manual_ack,
        protocol=paho.MQTTv311,
    )
    password = secret(cfg.password_env, cfg.password_file, "mqtt.password")
    if cfg.username or password:
        client.username_pw_set(cfg.username, password)
    if cfg.tls is not None:
        client.tls_set(
            ca_certs=cfg.tls.ca_file,
            certfile=cfg.tls.cert_file,
            keyfile=cfg.tls.key_file,
            cert_reqs=ssl.CERT_REQUIRED,
        )
        client.tls_insecure_set(cfg.tls.insecure)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_queued_messages_set(0)
    client.max_inflight_messages_set(1000)
    return client


def publish(
    client: paho.Client, topic: str, payload: bytes, qos: int, stop: threading.Event | None = None
) -> int:
    """Publish, waiting while paho's in-flight id space is full instead of dropping.

    Return the message id (-1 if ``stop`` was set before paho took the message).
    """
    delay = 0.001
    while True:
        info = client.publish(topic, payload, qos=qos)
        if info.rc != MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            return info.mid  # MQTT_ERR_NO_CONN still queues the message for the reconnect
        if stop is not None and stop.is_set():
            return -1
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
