"""Helpers for tests that run the pipeline as a subprocess and watch its metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from tests.support import storm


def metric(port: int, name: str) -> float | None:
    """Read one unlabelled sample from the pipeline's /metrics, or None if unreachable."""
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
    except OSError:
        return None
    for line in text.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def metric_total(port: int, *names: str) -> float:
    """Sum every sample (all labels) of these metrics on a /metrics page; 0 if unreachable."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
    except OSError:
        return 0.0
    return sum(
        sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if sample.name in names
    )


def wait(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll until ``predicate()`` is true, or fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def normal(events) -> list[str]:
    """Events in a canonical, order-free form for comparison."""
    return sorted(json.dumps(e, sort_keys=True) for e in events)


def region(sensor_id: str) -> str:
    """The storm registry's region of a sensor (quiet gauges stand in anji)."""
    return next((s["region"] for s in storm.REGISTRY["sensors"] if s["id"] == sensor_id), "anji")


def start_pipeline(tmp_path, config, name: str = "pipeline"):
    """Start ``hazard-warning run`` as a subprocess logging to ``<name>.log``."""
    log = (tmp_path / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "warning", "run", "--config", str(config)],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    return proc, log


def stop_pipeline(proc, log, signalled: bool = False) -> int:
    """Stop it as an operator would (SIGTERM, unless ``signalled`` already) and return its
    exit code. One signal only: a second one during shutdown meets the default handler."""
    if not signalled:
        proc.send_signal(signal.SIGTERM)
    code = proc.wait(30)
    log.close()
    return code


def storm_case(tmp_path, config: dict, quiet_gauges: int = 0) -> tuple:
    """Write the storm's registry and a pipeline config; return (config path, the storm's
    MQTT messages, the events its backtest gives): what a live run must reproduce.

    ``quiet_gauges`` more registered gauges report 0.1 mm every 5 minutes beside the storm
    (``storm.with_quiet_gauges``).
    """
    from pathlib import Path

    import yaml

    from warning.app import run_backtest, setup
    from warning.config import Config

    rules = str(Path(__file__).parents[2] / "rules")
    registry, readings = storm.REGISTRY, storm.readings()
    if quiet_gauges:
        registry, readings = storm.with_quiet_gauges(quiet_gauges, readings)
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(registry))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"rules": [rules], "sensors": "sensors.yaml", **config}))
    storm.write_jsonl(tmp_path / "storm.jsonl", readings)
    cfg = Config(rules=[rules], sensors=str(tmp_path / "sensors.yaml"))
    run_backtest(setup(cfg), tmp_path / "storm.jsonl", tmp_path / "expected.jsonl")
    expected = [json.loads(x) for x in (tmp_path / "expected.jsonl").read_text().splitlines()]
    messages = [
        (
            f"hazard/readings/{region(r['sensor_id'])}/rainfall/{r['sensor_id']}",
            json.dumps(r).encode(),
        )
        for r in readings
    ]
    return path, messages, expected


def recoverable_case(
    tmp_path, broker, client_id: str, influxdb=None, snapshot_interval: str = "200ms"
) -> tuple:
    """The storm case for a pipeline that must survive a crash or restart.

    A persistent MQTT session (``client_id``), a recovery directory, InfluxDB if given, and
    metrics on a free port. Returns (config path, messages, expected events, metrics port).
    """
    from warning.demo.broker import free_port

    port = free_port()
    config = {
        "mqtt": {"port": broker.port, "client_id": client_id},
        "pipeline": {
            "idle_tick_after": "1h",
            "recovery_dir": "recovery",
            "snapshot_interval": snapshot_interval,
        },
        "metrics": {"port": port},
        "outputs": {"console": False},
    }
    if influxdb is not None:
        config["influx"] = {"url": influxdb.url, "database": influxdb.db, "batch_size": 50}
    path, messages, expected = storm_case(tmp_path, config)
    return path, messages, expected, port


def stored_readings(influxdb) -> int:
    """How many rain readings the test database holds."""
    rows = influxdb.query("SELECT count(rain_mm) FROM reading", db=influxdb.db)
    return int(rows[0]["count"]) if rows else 0
