"""The demo command works on embedded defaults and shows the storm's warnings."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("broker", ["mosquitto", "amqtt"])
def test_demo_shows_the_storm(broker, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "warning", "demo", "--speed", "6000", "--broker", broker],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"{broker} broker" in text
    assert "InfluxDB not configured: storage skipped" in text
    red = [
        line
        for line in text.splitlines()
        if "RED" in line and "ESCALATED" in line and "rainstorm" in line
    ]
    assert len(red) == 1 and "rg-aj-01" in red[0], text
    assert "1080 readings received, 0 rejected" in text
    # Officers' phones: the gateway prints each message; anji's red warnings go to county duty.
    # (At this speed the storm passes within a few group intervals: fewer messages than at 900x.)
    sms = [line for line in text.splitlines() if "SMS → li_na" in line]
    assert any("红色预警" in line and "安吉县" in line and "确认:http" in line for line in sms), (
        text
    )
    assert "messages reached on-call officers' phones" in text
    assert "Traceback" not in out.stderr


def test_the_amqtt_broker_runs_in_its_own_process_and_stops():
    """Not in the pipeline's interpreter: its event loop would share the GIL with the engine."""
    import os
    import socket

    from warning.demo.broker import Broker

    with Broker(prefer="amqtt") as broker:
        assert broker.kind == "amqtt" and broker._proc is not None
        assert broker._proc.pid != os.getpid() and broker._proc.poll() is None
        socket.create_connection(("127.0.0.1", broker.port), timeout=2).close()
        proc = broker._proc
    assert proc.poll() is not None  # stopped with the context
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", broker.port), timeout=1):
        pass


def test_a_server_that_exits_before_listening_ends_the_wait_with_its_status():
    from warning.demo.broker import free_port, wait_for_port

    with pytest.raises(TimeoutError, match="exited with status 1 before listening"):
        wait_for_port(free_port(), timeout=30, alive=lambda: 1)


def test_a_broker_that_stops_taking_readings_ends_the_demo_with_the_reason():
    """The simulator's failure must end the demo with a message; before, the demo hung."""
    import io
    import threading
    from types import SimpleNamespace

    from rich.console import Console

    from sensors_sim.scenario import load_scenario
    from warning.demo.broker import free_port
    from warning.demo.run import _simulate
    from warning.metrics import Metrics

    metrics = Metrics()
    metrics.mqtt_connected.set(1)
    out, stop = io.StringIO(), threading.Event()
    console = Console(file=out, width=200)
    port = free_port()  # nothing listens
    _simulate(
        SimpleNamespace(metrics=metrics), load_scenario("storm"), port, 0, stop, None, console
    )
    assert stop.is_set()
    assert f"the simulator stopped: could not connect to MQTT broker 127.0.0.1:{port}" in (
        out.getvalue()
    )


def test_the_demo_replays_its_storm_ending_now_with_the_same_readings():
    """So its CAP feed, whose alerts expire by the wall clock, shows the storm's warnings."""
    import time

    from sensors_sim.generate import generate
    from sensors_sim.scenario import load_scenario
    from warning.demo.run import _ending_now

    sim = load_scenario("storm")
    moved = _ending_now(sim)
    end = (moved.start + moved.duration).timestamp()
    assert end % sim.interval.total_seconds() == 0 and 0 <= time.time() - end < 300
    before, after = list(generate(sim)), list(generate(moved))
    assert len(before) == len(after) == 1080

    # The same readings but for the weather stations' daily cycle of temperature and
    # humidity, which follows the new time of day.
    def same(readings):
        return [
            {k: v for k, v in r.items() if k != "ts"} for r in readings if r["kind"] != "weather"
        ]

    assert same(before) == same(after) and len(same(before)) > 800
