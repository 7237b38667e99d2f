"""A backlog far beyond the normal rate slows intake; it never crashes or grows memory unbounded.

The pipeline's MQTT inbox holds at most ``mqtt.inbox_limit`` messages; when it is full, paho's
network thread waits and the broker keeps the rest in the session queue. The test publishes
100,000 readings as fast as one publisher can (more than ten times the normal rate of a city
network, ~200 readings/s) while the pipeline is stopped, so the broker holds them for its
persistent session; on start, the whole backlog arrives at once, faster than the flow can take
it. The test samples the process's RSS throughout and checks every reading was taken, the inbox
filled and stayed within its bound, and RSS stayed within an explicit bound over an idle run.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import yaml

from tests.support.live_helpers import metric, start_pipeline, stop_pipeline, wait
from tests.support.mqtt_helpers import publish_all
from warning.demo.broker import free_port

BACKLOG = 100_000
SENSORS = 20
INBOX_LIMIT = 200  # small, so that this machine fills it (2 cores; paho shares the GIL)
#: RSS growth allowed over the burst; windows of 20 sensors take a few MB of it.
RSS_BOUND_MB = 40


def rss_mb(pid: int) -> float:
    """Resident set size of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    msg = f"expected VmRSS in /proc/{pid}/status, found none"
    raise AssertionError(msg)


def test_backlog_is_absorbed_within_bounded_memory(tmp_path, broker):
    port = free_port()
    rules = str(Path(__file__).parents[2] / "rules")
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "rules": [rules],
                "mqtt": {
                    "port": broker.port,
                    "client_id": "burst-under-test",
                    "inbox_limit": INBOX_LIMIT,
                    "publish_warnings": False,
                },
                "pipeline": {"idle_tick_after": "1h", "unknown_sensors": "accept"},
                "metrics": {"port": port},
                "outputs": {"console": False},
            }
        )
    )
    start = int(time.time()) - 7 * 86_400
    messages = []
    for i in range(BACKLOG):
        sid = f"rg-{i % SENSORS}"
        body = {
            "sensor_id": sid,
            "kind": "rainfall",
            "ts": start + 60 * (i // SENSORS),
            "seq": i // SENSORS + 1,
            "values": {"rain_mm": 0.5},
        }
        messages.append((f"hazard/readings/r1/rainfall/{sid}", json.dumps(body).encode()))

    proc, log = start_pipeline(tmp_path, config)
    samples: list[float] = []  # of the second run
    inbox: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(rss_mb(proc.pid) if proc.poll() is None else 0.0)
            inbox.append(metric(port, "hazard_mqtt_inbox_messages") or 0)
            time.sleep(0.2)

    wait(lambda: metric(port, "hazard_mqtt_connected") == 1, 30, "subscription")
    time.sleep(1.0)
    baseline = rss_mb(proc.pid)  # the same program, idle, subscribed
    assert stop_pipeline(proc, log) == 0
    started = time.monotonic()
    publish_all(broker.port, messages)
    published = time.monotonic() - started

    proc, log = start_pipeline(tmp_path, config, "second")
    started = time.monotonic()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        wait(
            lambda: metric(port, "hazard_readings_received_total") == BACKLOG,
            240,
            "the whole backlog taken",
        )
        took = time.monotonic() - started
        done.set()
        sampler.join()
        full = metric(port, "hazard_mqtt_inbox_full_total")
        accepted = metric(port, 'hazard_readings_accepted_total{kind="rainfall"}')
    finally:
        done.set()
        assert stop_pipeline(proc, log) == 0
    peak = max(samples)
    print(
        f"\n{BACKLOG} readings published in {published:.1f} s ({BACKLOG / published:.0f}/s), "
        f"taken in {took:.1f} s ({BACKLOG / took:.0f}/s); RSS {baseline:.1f} MB at start, "
        f"peak {peak:.1f} MB (+{peak - baseline:.1f}); inbox peak {max(inbox):.0f} of "
        f"{INBOX_LIMIT}, full {full:.0f} times"
    )
    assert full and full > 0, "expected the burst to fill the inbox (else it proves nothing)"
    assert max(inbox) <= INBOX_LIMIT
    assert peak - baseline <= RSS_BOUND_MB, (
        f"expected RSS growth within {RSS_BOUND_MB} MB, found {peak - baseline:.1f} MB"
    )
    assert accepted == BACKLOG
