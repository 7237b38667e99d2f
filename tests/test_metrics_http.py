"""HTTP servers listen on loopback unless configured: ``/metrics`` with ``POST /-/reload``, and
the notification router's ack links and CAP feed."""

from __future__ import annotations

import socket
import urllib.request

import pytest

from tests.support.sockets import LOOPBACK, listening
from warning.config import load_config
from warning.demo.broker import free_port
from warning.metrics import Metrics


def test_default_config_binds_loopback_only(tmp_path):
    (tmp_path / "c.yaml").write_text("metrics:\n  port: 0\n")
    host = load_config(tmp_path / "c.yaml").metrics.host
    port = free_port()
    server = Metrics().serve(host, port, reload=lambda: True)
    try:
        assert listening(port) == {LOOPBACK}, f"expected {LOOPBACK} only, found {listening(port)}"
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        assert b"hazard_mqtt_connected" in body
        req = urllib.request.Request(f"http://127.0.0.1:{port}/-/reload", method="POST")
        assert urllib.request.urlopen(req, timeout=5).read() == b"reloaded\n"
    finally:
        server.shutdown()
        server.server_close()


def test_configured_host_is_honoured():
    port = free_port()
    server = Metrics().serve("0.0.0.0", port)  # noqa: S104 - what an operator may configure
    try:
        assert listening(port) == {"00000000"}, f"expected all addresses, found {listening(port)}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_non_loopback_address_is_refused():
    # The host's address on its default route, if it has one: loopback binding must refuse it.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for UDP connect
            address = s.getsockname()[0]
        except OSError:
            pytest.skip("no non-loopback address on this machine")
    if address.startswith("127."):
        pytest.skip("no non-loopback address on this machine")
    port = free_port()
    server = Metrics().serve("127.0.0.1", port)
    try:
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()
    finally:
        server.shutdown()
        server.server_close()


def test_notify_endpoint_binds_loopback_by_default(tmp_path, broker):
    import threading

    from tests.notify.helpers import routing_file
    from warning.config import MQTT, Config, Notify
    from warning.notify.serve import start as start_router

    port = free_port()
    notify = Notify(
        routing=str(routing_file(tmp_path)),
        state_dir=str(tmp_path / "notify"),
        port=port,
        client_id="bind-test",
    )
    assert notify.host == "127.0.0.1"
    stop = threading.Event()
    service = start_router(Config(mqtt=MQTT(port=broker.port), notify=notify), stop, Metrics())
    try:
        assert listening(port) == {LOOPBACK}, f"expected {LOOPBACK} only, found {listening(port)}"
    finally:
        stop.set()
        service.join()
        service.store.close()
