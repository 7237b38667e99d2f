"""Simulator publishing rate: 10,000 sensors, against the real-time need of one report a minute.

    python bench/simulator_bench.py [--sensors 10000] [--minutes 30] [--speed 30]

Publishes the first ``--minutes`` of event time of the typhoon scenario scaled to ``--sensors``
sensors (5-minute reports) to a local Mosquitto with QoS 1 at ``--speed`` x real time, and
prints the achieved rate against the rate needed for every sensor reporting once a minute in
real time (sensors / 60 messages per second).
"""

from __future__ import annotations

import argparse
import itertools
import time
from datetime import timedelta

from sensors_sim.generate import generate
from sensors_sim.publish import publish
from sensors_sim.scale import scaled
from sensors_sim.scenario import load_scenario
from warning.demo.broker import Broker


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sensors", type=int, default=10_000)
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--speed", type=float, default=30.0)
    a = ap.parse_args()
    sim = scaled(load_scenario("typhoon"), a.sensors)
    end = sim.start + timedelta(minutes=a.minutes)
    readings = list(itertools.takewhile(lambda r: r["ts"] < end.isoformat(), generate(sim)))
    with Broker() as broker:
        started = time.monotonic()
        sent = publish(readings, "127.0.0.1", broker.port, speed=a.speed, network=sim.network)
        took = time.monotonic() - started
    need = a.sensors / 60
    print(
        f"{sent:,} messages for {a.sensors:,} sensors ({a.minutes} min of event time at "
        f"{a.speed:g}x) in {took:.1f} s: {sent / took:,.0f} msg/s published; real time at "
        f"one report a minute needs {need:,.0f} msg/s: {sent / took / need:.1f}x that"
    )


if __name__ == "__main__":
    main()
