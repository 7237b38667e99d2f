"""Delivery throughput through apprise json://, against a plain HTTP POST in the same run.

    python bench/channels_bench.py [--seconds 3] [--threads 1]

Rows (notifications per second to a loopback HTTP receiver that answers 200 at once):

1. post:      ``requests.post`` of the same JSON body, a new connection each time as apprise
              makes: what the receiver and the HTTP stack allow (the baseline).
2. render:    ``render`` of a 40-gauge group as push text, no delivery.
3. dispatch:  ``Dispatcher.deliver`` of a one-event notification over json:// (render, a fresh
              apprise object, URL parsing, one new HTTP connection, metrics, Delivery record).
4. group:     the same with a 40-gauge group rendered as email.

With ``--threads N`` the dispatch rows run N delivering threads (the router's delivery loop
could do the same).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from prometheus_client import CollectorRegistry

sys.path.append(str(Path(__file__).resolve().parent.parent))

from warning.notify.channels import ChannelMetrics, Dispatcher  # noqa: E402
from warning.notify.records import ChannelSpec, Notification  # noqa: E402
from warning.notify.templates import render  # noqa: E402
from warning.records import Level, WarningEvent, zone  # noqa: E402

TZ = zone("Asia/Shanghai")
T0 = 1783231200000


class Handler(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Handler.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format, *args):  # noqa: A002
        pass


def events(n: int) -> tuple[WarningEvent, ...]:
    return tuple(
        WarningEvent(
            f"w-{i}",
            "raised",
            "rainstorm",
            "rainstorm",
            Level.ORANGE,
            None,
            f"rg-{i:04d}",
            "wuxing",
            T0 + i,
            {"rain_3h_mm": 50.0 + i},
            f"gauge {i}: {50 + i} mm in 3 h",
            "Level-II response.",
        )
        for i in range(n)
    )


def rate(fn, seconds: float, threads: int = 1) -> float:
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def loop(k: int) -> None:
        while time.perf_counter() < stop:
            fn()
            done[k] += 1

    workers = [threading.Thread(target=loop, args=(k,)) for k in range(threads)]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(done) / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # one INFO line per delivery would be the bottleneck
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"json://127.0.0.1:{server.server_address[1]}/hook"
    one = Notification(
        "n-1",
        "duty",
        "li",
        (ChannelSpec("push", url, retries=1),),
        "firing",
        "hazard=rainstorm",
        events(1),
        ack_url="https://hw.example/a/x",
    )
    group = Notification(
        "n-2",
        "duty",
        "li",
        (ChannelSpec("mail", url, style="email", retries=1),),
        "firing",
        "hazard=rainstorm",
        events(40),
    )
    dispatcher = Dispatcher(TZ, ChannelMetrics(CollectorRegistry()))
    body = json.dumps({"title": "t", "message": render(one, "push", "zh", TZ).body})
    post_url = url.replace("json://", "http://")

    def post() -> None:
        requests.post(
            post_url, data=body, headers={"Content-Type": "application/json"}, timeout=5
        ).raise_for_status()

    def deliver(n: Notification):
        def go() -> None:
            if not dispatcher.deliver(n).ok:
                raise RuntimeError("delivery failed")

        return go

    print(
        f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"{args.seconds:g} s per row, {args.threads} delivering thread(s)"
    )
    base = rate(post, args.seconds)
    rows = [
        ("post", base),
        ("render", rate(lambda: render(group, "push", "zh", TZ), args.seconds)),
        ("dispatch", rate(deliver(one), args.seconds, args.threads)),
        ("group", rate(deliver(group), args.seconds, args.threads)),
    ]
    print(f"{'row':10} {'per s':>10} {'vs post':>8}")
    for name, r in rows:
        print(f"{name:10} {r:10.0f} {r / base:8.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
