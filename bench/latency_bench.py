"""Publish-to-warning latency of the live pipeline at 25 %, 50 % and 90 % of its maximum rate.

    python bench/latency_bench.py [--gauges 1000] [--seconds 20] [--probes-per-s 5]
                                  [--fractions 0.25 0.5 0.9] [--linger-ms MS]

One Mosquitto broker (``warning.demo.broker.Broker``); ``run_live`` in this process with the
shipped rules and the MQTT warning sink (QoS 1 in, warnings out on ``hazard/warnings/...``).

1. max rate: a backlog of background readings is published at full speed while the pipeline
   drains it; the rate is readings over the time from the first to the last one evaluated (the
   publisher shares the cores, as it would on a one-machine deployment).
2. each fraction: background readings (rain gauges, light drizzle, event time = wall clock)
   at that fraction of the max rate, plus ``--probes-per-s`` probe readings: a water-level
   station, each probe a new one, reporting above its historical maximum, which raises a red
   flood warning on that very reading. Latency = when the warning reached a subscriber on the
   warnings topic - when the probe was handed to the publisher.

Prints p50 / p99 / max latency per fraction and the rates achieved. Target (issue): p99 <
100 ms at 50 % of the maximum rate.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))
sys.path.append(str(ROOT / "bench"))

from pipeline_bench import _total, pipeline_config, write_registry  # noqa: E402

from warning.app import run_live, setup  # noqa: E402
from warning.demo.broker import Broker  # noqa: E402
from warning.pipeline.flow import Outputs  # noqa: E402
from warning.records import zone  # noqa: E402
from warning.sinks.mqtt import MQTTWarningSink, Publisher  # noqa: E402

REGIONS = ("wuxing", "nanxun", "deqing", "changxing", "anji")
TARGET_P99_MS = 100.0


def _iso(ms: int) -> float:
    return ms / 1000  # epoch seconds: a valid ts, cheaper to build than RFC 3339


class Load:
    """A QoS 1 publisher of background readings and probes at a set rate."""

    def __init__(self, port: int, gauges: int):
        self.gauges = gauges
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id="latency-publisher", protocol=paho.MQTTv311
        )
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.k = 0
        self.last_ts: dict[str, int] = {}
        self.probe_k = 0
        self.sent_probes: dict[str, float] = {}

    def _publish(self, topic: str, payload: bytes) -> None:
        delay = 0.001
        while self.client.publish(topic, payload, qos=1).rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def background(self) -> None:
        """Publish the next gauge's reading (drizzle or dry), stamped with the wall clock."""
        i = self.k % self.gauges
        self.k += 1
        sid = f"rg-{i:04d}"
        ts = max(int(time.time() * 1000), self.last_ts.get(sid, 0) + 1)
        self.last_ts[sid] = ts
        mm = 0.1 if self.k % 7 == 0 else 0.0
        payload = json.dumps(
            {"sensor_id": sid, "kind": "rainfall", "ts": _iso(ts), "values": {"rain_mm": mm}},
            separators=(",", ":"),
        ).encode()
        self._publish(f"hazard/readings/{REGIONS[i % 5]}/rainfall/{sid}", payload)

    def probe(self) -> None:
        """Publish a reading that raises a red flood warning at once (a fresh station)."""
        sid = f"wl-probe-{self.probe_k:05d}"
        self.probe_k += 1
        payload = json.dumps(
            {
                "sensor_id": sid,
                "kind": "reservoir",
                "ts": _iso(int(time.time() * 1000)),
                "values": {"level_m": 9.0},
            },
            separators=(",", ":"),
        ).encode()
        self.sent_probes[sid] = time.time()
        self._publish(f"hazard/readings/wuxing/reservoir/{sid}", payload)

    def run(self, rate: float, seconds: float, probes_per_s: float) -> float:
        """Publish at ``rate`` readings/s (probes included) for ``seconds``; return the rate."""
        started = time.perf_counter()
        sent = 0
        next_probe = started
        while True:
            now = time.perf_counter()
            if now - started >= seconds:
                break
            if probes_per_s and now >= next_probe:
                self.probe()
                sent += 1
                next_probe += 1 / probes_per_s
            due = int((now - started) * rate)
            while sent < due:
                self.background()
                sent += 1
            time.sleep(0.002)
        return sent / (time.perf_counter() - started)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


class Arrivals:
    """Subscribe to the warnings topic and note when each probe's warning arrives."""

    def __init__(self, port: int):
        self.at: dict[str, float] = {}
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="latency-watch")
        self.client.on_message = self._on_message
        ready = threading.Event()
        self.client.on_subscribe = lambda *_a: ready.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe("hazard/warnings/#", qos=1)
        ready.wait(10)

    def _on_message(self, _c, _u, msg) -> None:
        now = time.time()
        event = json.loads(msg.payload)
        subject = event.get("subject", "")
        if subject.startswith("wl-probe-") and event.get("event") == "raised":
            self.at.setdefault(subject, now)


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main(argv: list[str] | None = None) -> None:
    """Measure the max rate, then latency at each fraction of it."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gauges", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=20.0, help="per fraction")
    ap.add_argument("--probes-per-s", type=float, default=5.0)
    ap.add_argument("--backlog", type=int, default=30_000, help="readings for the max rate")
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.9])
    ap.add_argument(
        "--linger-ms", type=int, default=None, help="mqtt.linger_ms (default: the shipped one)"
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    keep = tempfile.TemporaryDirectory(prefix="hazard-latency-")  # removed when main returns
    tmp = Path(keep.name)
    probes = int(args.probes_per_s * args.seconds * len(args.fractions)) + 100
    sensors = [
        {"id": f"rg-{i:04d}", "kind": "rainfall", "name": f"Gauge {i}", "region": REGIONS[i % 5]}
        for i in range(args.gauges)
    ]
    sensors += [
        {
            "id": f"wl-probe-{k:05d}",
            "kind": "reservoir",
            "name": f"Probe {k}",
            "region": "wuxing",
            "warning_level_m": 3.0,
            "guaranteed_level_m": 3.5,
            "historical_max_m": 4.2,
        }
        for k in range(probes)
    ]
    write_registry(sensors, tmp / "sensors.yaml")

    with Broker(prefer="mosquitto") as broker:
        cfg = pipeline_config(broker.port, "latency-pipeline", tmp / "sensors.yaml", args.linger_ms)
        s = setup(cfg)
        sink = MQTTWarningSink(Publisher(cfg.mqtt), zone(cfg.pipeline.timezone))
        stop = threading.Event()
        thread = threading.Thread(
            target=run_live,
            args=(s, stop),
            kwargs={"outputs": Outputs(warnings=[sink]), "serve_metrics": False},
            daemon=True,
        )
        thread.start()
        m = s.metrics
        deadline = time.monotonic() + 30
        while m.mqtt_connected._value.get() != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        arrivals = Arrivals(broker.port)
        load = Load(broker.port, args.gauges)

        def evaluated() -> int:
            return _total(m.accepted) + int(m.duplicates._value.get()) + _total(m.rejected)

        # 1. The maximum rate: publish a backlog at full speed while the pipeline drains it.
        base = evaluated()
        for _ in range(args.backlog):
            load.background()
        first = None
        while evaluated() - base < args.backlog:
            if first is None and evaluated() > base:
                first = time.perf_counter()
            time.sleep(0.005)
            if time.monotonic() > deadline + 600:
                raise RuntimeError("the pipeline did not drain the backlog")
        took = time.perf_counter() - (first or time.perf_counter())
        max_rate = args.backlog / took if took > 0 else 0.0
        print(
            f"max rate: {args.backlog:,} readings drained in {took:.1f} s = "
            f"{max_rate:,.0f} readings/s (publisher on the same cores)",
            flush=True,
        )

        # 2. Latency at each fraction of it.
        print(
            f"\n{'fraction':>8} {'target/s':>9} {'sent/s':>8} {'probes':>7} {'seen':>5} "
            f"{'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        )
        for frac in args.fractions:
            before = set(load.sent_probes)
            sent_rate = load.run(max_rate * frac, args.seconds, args.probes_per_s)
            time.sleep(2.0)  # the last probes' warnings
            mine = [sid for sid in load.sent_probes if sid not in before]
            lat = [
                (arrivals.at[sid] - load.sent_probes[sid]) * 1000
                for sid in mine
                if sid in arrivals.at
            ]
            row = (
                f"{frac:>8.2f} {max_rate * frac:>9,.0f} {sent_rate:>8,.0f} {len(mine):>7} "
                f"{len(lat):>5}"
            )
            if lat:
                row += f" {statistics.median(lat):>8.1f} {_pct(lat, 0.99):>8.1f} {max(lat):>8.1f}"
            print(row, flush=True)
        print(f"\ntarget: p99 < {TARGET_P99_MS:.0f} ms at 0.5 of the max rate")
        load.close()
        stop.set()
        thread.join(30)


if __name__ == "__main__":
    main()
