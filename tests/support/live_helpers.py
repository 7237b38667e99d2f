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
    return next((s["region"] for s in storm.REGISTRY["sensors"] if s["id"] == sensor_id),
                "anji")


def start_pipeline(tmp_path, config, name: str = "pipeline"):
    """Start ``hazard-warning run`` as a subprocess logging to ``<name>.log``."""
    log = (tmp_path / f"{name}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "warning", "run", "--config", str(config)],
                            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return proc, log


def stop_pipeline(proc, log) -> int:
    """Stop it as an operator would (SIGTERM) and return its exit code."""
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
    messages = [(f"hazard/readings/{region(r['sensor_id'])}/rainfall/{r['sensor_id']}",
                 json.dumps(r).encode()) for r in readings]
    return path, messages, expected
