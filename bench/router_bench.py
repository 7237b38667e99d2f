"""Throughput of the notification router, against decoding the same events in the same run.

    python bench/router_bench.py [--events N] [--sensors S] [--regions R] [--no-service]

Rows:

1. decode:   ``json.loads`` + ``event_from_wire`` of every wire-format warning event: the least
             any consumer of the warnings topic does (the baseline).
2. router:   the router state machine alone (routing, dedup, grouping, inhibition, mutes), one
             tick per 100 events on a clock that advances 1 s per tick, with the state saved
             as JSON at every tick as the service does.
3. service:  the whole service with its durable SQLite inbox and outbox, events put straight
             into the inbox (as the MQTT intake does), delivered through apprise to a loopback
             HTTP receiver; done when every notification left the outbox. Events per second.

The events: S gauges in R regions, each episode raised yellow, escalated orange, cleared;
repeated deliveries of 10 % of events (at-least-once upstream) must be recognised.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))

from tests.notify.helpers import ROUTING, T0, TZ, event  # noqa: E402
from warning.config import Notify  # noqa: E402
from warning.notify.router import Router  # noqa: E402
from warning.notify.routing_file import load_routing  # noqa: E402
from warning.notify.service import event_from_wire  # noqa: E402

FAST = {"group_wait: 30s": "group_wait: 1s", "group_interval: 5m": "group_interval: 1s"}


def make_events(n: int, sensors: int, regions: int) -> list[dict]:
    rng = random.Random(7)
    out, t = [], T0
    steps = [("raised", "yellow", None), ("escalated", "orange", "yellow"), ("cleared", None, None)]
    episode = 0
    while len(out) < n:
        s = rng.randrange(sensors)
        for kind, level, prev in steps:
            t += 0.5
            e = event(
                f"w{episode}",
                kind,
                level,
                subject=f"rg-{s:05d}",
                region=f"r{s % regions}",
                ts_s=t,
                previous=prev,
            )
            out.append(e.to_dict(TZ))
            if rng.random() < 0.1:
                out.append(e.to_dict(TZ))  # redelivered
        episode += 1
    return out[:n]


def routing_path(tmp: Path, port: int) -> Path:
    body = ROUTING.replace("{port}", str(port))
    for old, new in FAST.items():
        body = body.replace(old, new)
    path = tmp / "routing.yaml"
    path.write_text(body)
    return path


def bench_decode(payloads: list[bytes]) -> float:
    start = time.perf_counter()
    for p in payloads:
        event_from_wire(json.loads(p))
    return len(payloads) / (time.perf_counter() - start)


def bench_router(payloads: list[bytes], path: Path) -> tuple[float, int]:
    router = Router(load_routing(path))
    now, sent = T0, 0
    start = time.perf_counter()
    for i, p in enumerate(payloads):
        router.ingest(event_from_wire(json.loads(p)), {}, now)
        if i % 100 == 99:
            now += 1
            notes, _ = router.tick(now)
            sent += len(notes)
            json.dumps(router.to_state())
    for _ in range(40):
        now += 1
        sent += len(router.tick(now)[0])
    return len(payloads) / (time.perf_counter() - start), sent


class _Sink(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Sink.count += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a: object) -> None:
        pass


def bench_service(payloads: list[bytes], tmp: Path) -> tuple[float, int]:
    from warning.notify.serve import build_service

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = routing_path(tmp, server.server_port)
    cfg = Notify(routing=str(path), state_dir=str(tmp / "state"), tick="100ms")
    service, _ = build_service(cfg, load_routing(path))
    stop = threading.Event()
    start = time.perf_counter()
    for p in payloads:
        service.store.put("event", json.loads(p))
    service.start(stop)
    time.sleep(2.5)  # the last groups wait group_wait, then one interval
    while service.store.inbox_size() or service.store.outbox_size():
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    stop.set()
    service.join()
    server.shutdown()
    return len(payloads) / elapsed, _Sink.count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=30_000)
    ap.add_argument("--sensors", type=int, default=1000)
    ap.add_argument("--regions", type=int, default=5)
    ap.add_argument("--no-service", action="store_true")
    args = ap.parse_args()
    payloads = [
        json.dumps(e).encode() for e in make_events(args.events, args.sensors, args.regions)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = bench_decode(payloads)
        print(f"{'row':<10}{'events/s':>12}{'x decode':>10}  notes")
        print(f"{'decode':<10}{base:>12,.0f}{1.0:>10.2f}")
        rate, sent = bench_router(payloads, routing_path(Path(tmp), 9))
        print(f"{'router':<10}{rate:>12,.0f}{rate / base:>10.2f}  {sent} notifications")
        if not args.no_service:
            rate, got = bench_service(payloads, Path(tmp))
            print(
                f"{'service':<10}{rate:>12,.0f}{rate / base:>10.2f}  {got} requests "
                f"received by the loopback gateway"
            )


if __name__ == "__main__":
    main()
