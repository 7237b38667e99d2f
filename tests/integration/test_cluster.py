"""Two pipeline processes as one bytewax cluster give the events one process gives.

Each process has its own MQTT session in one share group, so the broker hands each of them
about half of the readings, whatever the sensor; bytewax routes every reading to the worker
that keeps its sensor's state, and the silence watch advances only as far as the slower
partition's ticks. Readings are published one event-time step at a time, the next once the
previous one is through rule evaluation, so that each sensor's readings reach its worker in
event-time order, as live sensors reporting minutes apart do.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import yaml

from tests.support.live_helpers import metric_total, normal, stop_pipeline, storm_case, wait
from tests.support.mqtt_helpers import Collector, publish_all
from warning.demo.broker import free_port


def _start(tmp_path, config: dict, name: str, *args: str):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    log = (tmp_path / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "warning", "run", "-c", str(path), *args],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc, log


def _run(
    tmp_path, broker, base: dict, messages, expected_count: int, processes: int, name: str
) -> tuple[list[dict], list[float]]:
    """Run ``processes`` pipeline processes, publish step by step, return events seen."""
    ports = [free_port() for _ in range(processes)]
    peers = ";".join(f"127.0.0.1:{free_port()}" for _ in range(processes))
    collector = Collector(broker.port, "hazard/warnings/#")
    running = []
    try:
        for i, port in enumerate(ports):
            cfg = {
                **base,
                "mqtt": {"port": broker.port, "client_id": name},
                "metrics": {"port": port},
            }
            args = ("-i", str(i), "-a", peers) if processes > 1 else ()
            running.append(_start(tmp_path, cfg, f"{name}-{i}", *args))
        wait(
            lambda: all(metric_total(p, "hazard_mqtt_connected") == 1 for p in ports),
            60,
            "every process to subscribe",
        )

        def evaluated() -> float:
            return sum(
                metric_total(
                    p,
                    "hazard_readings_accepted_total",
                    "hazard_readings_duplicate_total",
                    "hazard_readings_rejected_total",
                )
                for p in ports
            )

        steps: dict[str, list] = {}
        for topic, payload in messages:
            steps.setdefault(json.loads(payload)["ts"], []).append((topic, payload))
        sent = 0
        for batch in steps.values():
            publish_all(broker.port, batch)
            sent += len(batch)
            wait(lambda n=sent: evaluated() >= n, 30, f"{sent} readings evaluated")
        events = collector.wait_for("hazard/warnings/", expected_count, 30)
        received = [metric_total(p, "hazard_readings_received_total") for p in ports]
    finally:
        for proc, _ in running:  # all at once: a cluster ends when every process has
            proc.send_signal(signal.SIGTERM)
        codes = [stop_pipeline(proc, log, signalled=True) for proc, log in running]
        collector.client.disconnect()
    for i in range(processes):
        output = (tmp_path / f"{name}-{i}.log").read_text()
        assert "Traceback" not in output, output
    assert codes == [0] * processes
    return [e for _, e in events], received


def test_two_processes_give_the_same_events_as_one(tmp_path, broker):
    _, messages, expected = storm_case(tmp_path, {})
    rules = yaml.safe_load((tmp_path / "config.yaml").read_text())["rules"]
    base = {
        "rules": rules,
        "sensors": "sensors.yaml",
        "pipeline": {"idle_tick_after": "1h"},
        "outputs": {"console": False},
    }

    one, _ = _run(tmp_path, broker, base, messages, len(expected), 1, "single")
    two, received = _run(tmp_path, broker, base, messages, len(expected), 2, "cluster")

    assert normal(one) == normal(expected)
    assert normal(two) == normal(one)
    # The share group split the readings: each process took part of every sensor's.
    assert sum(received) == len(messages)
    assert all(r >= len(messages) / 4 for r in received), received
