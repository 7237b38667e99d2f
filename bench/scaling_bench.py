"""Draining a backlog with 1, 2 and 4 pipeline processes (a bytewax cluster) or workers.

    python bench/scaling_bench.py [--messages N] [--processes 1 2 4] [--workers 2 4]

For each row a fresh Mosquitto broker (``warning.demo.broker.Broker``) gets one persistent
QoS 1 session per process in one share group (``$share/bench/hazard/readings/#``, client ids
``bench-<i>`` as ``run --process-id i`` names them), then the whole backlog of the
``pipeline_bench`` workload (rain gauges with a storm, level stations, shipped rules) is
published, before any pipeline starts: the broker spreads it over the sessions. Then the
processes start (``python -m warning run -c ... -i I -a "127.0.0.1:P0;..."``) and drain it.

"--workers W" rows run one process with ``--workers W`` instead, on a plain subscription.
The rate is readings over the time from the first reading evaluated to the last (summed
over the processes' /metrics), so start-up is left out; "x 1 process" divides by the first
row's rate. Target (issue): 2 processes >= 1.3 x one process. The machine has 2 cores; the
broker shares them.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))
sys.path.append(str(ROOT / "bench"))

from pipeline_bench import (  # noqa: E402
    create_session,
    make_workload,
    publish_backlog,
    write_registry,
)

from tests.support.live_helpers import metric_total  # noqa: E402
from warning.demo.broker import Broker, free_port  # noqa: E402

TOPIC = "hazard/readings/#"
EVALUATED = (
    "hazard_readings_accepted_total",
    "hazard_readings_duplicate_total",
    "hazard_readings_rejected_total",
)


def _evaluated(port: int) -> float:
    return metric_total(port, *EVALUATED)


def drain(
    messages, registry: Path, tmp: Path, processes: int, workers: int, timeout: float
) -> tuple[float, float]:
    """Return (seconds from first to last reading evaluated, seconds from start)."""
    n = len(messages)
    with Broker(prefer="mosquitto") as broker:
        if processes > 1:
            for i in range(processes):
                create_session(broker.port, f"bench-{i}", f"$share/bench/{TOPIC}")
        else:
            create_session(broker.port, "bench", TOPIC)
        publish_backlog(broker.port, messages)
        ports = [free_port() for _ in range(processes)]
        peers = ";".join(f"127.0.0.1:{free_port()}" for _ in range(processes))
        procs = []
        started = time.perf_counter()
        for i, port in enumerate(ports):
            cfg = {
                "rules": [str(ROOT / "rules")],
                "sensors": str(registry),
                "mqtt": {"port": broker.port, "client_id": "bench"},
                "metrics": {"port": port},
                "outputs": {"console": False},
                "pipeline": {"watch_rules": False},
            }
            path = tmp / f"p{processes}w{workers}-{i}.yaml"
            path.write_text(yaml.safe_dump(cfg))
            args = ["-i", str(i), "-a", peers] if processes > 1 else []
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "warning",
                        "run",
                        "-c",
                        str(path),
                        "--workers",
                        str(workers),
                        *args,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=dict(os.environ),
                )
            )
        first = None
        try:
            while True:
                done = sum(_evaluated(p) for p in ports)
                now = time.perf_counter()
                if first is None and done > 0:
                    first = now
                if done >= n:
                    break
                if now - started > timeout:
                    raise RuntimeError(f"only {done:.0f} of {n} evaluated in {timeout:.0f} s")
                time.sleep(0.05)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
        return now - (first or started), now - started


def main(argv: list[str] | None = None) -> None:
    """Run each row and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", "-n", type=int, default=60_000)
    ap.add_argument("--sensors", type=int, default=1000, help="rain gauges")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument(
        "--workers",
        type=int,
        nargs="*",
        default=[2, 4],
        help="rows of one process with this many workers",
    )
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args(argv)
    work = make_workload(args.messages, args.sensors, max(1, args.sensors // 20))
    keep = tempfile.TemporaryDirectory(prefix="hazard-scaling-")  # removed when main returns
    tmp = Path(keep.name)
    registry = tmp / "sensors.yaml"
    write_registry(work.registry, registry)
    n = len(work.messages)
    print(f"{n:,} QoS 1 readings, {args.sensors:,} gauges; load average {os.getloadavg()[0]:.2f}")
    print(f"{'row':<22} {'drain s':>8} {'readings/s':>11} {'x 1 process':>12} {'wall s':>7}")
    base = None
    rows = [(p, 1) for p in args.processes] + [(1, w) for w in args.workers]
    for processes, workers in rows:
        took, wall = drain(work.messages, registry, tmp, processes, workers, args.timeout)
        rate = n / took
        base = base or rate
        name = f"{processes} process{'es' if processes > 1 else ''}" + (
            f", {workers} workers" if workers > 1 else ""
        )
        print(
            f"{name:<22} {took:>8.1f} {rate:>11,.0f} {rate / base:>12.2f} {wall:>7.1f}", flush=True
        )
    print("target: 2 processes >= 1.3 x one process")


if __name__ == "__main__":
    main()
