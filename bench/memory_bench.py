"""Resident memory per active sensor with the shipped rules, at 1,000 / 10,000 / 100,000 sensors.

    python bench/memory_bench.py [--sensors 1000 10000 100000] [--hours 25] [--every 60]
                                 [--evaluate-hours 1] [--check] [--no-detectors]
                                 [--compare CHECKOUT ...]

Rain gauges (3 of 5 regions hilly, so the landslide I-D rule and both indicator sets watch
them; 30 % in a storm, the rest drizzle or dry) report every ``--every`` seconds. Each size
runs in a fresh child process: load the rules and a registry of N gauges, measure RSS, then
build the per-sensor state the pipeline keeps (``Steps.evaluate``, the silence shards):

- ``--hours`` of event time in all, of which the last ``--evaluate-hours`` go through
  ``Steps.evaluate`` reading by reading (rules, lifecycle, I-D rain event, indicators);
  the hours before are put straight into each sensor's series (``Series.add`` + ``trim``, what
  ``evaluate`` does to them), since evaluating 100,000 sensors x 25 h x 60 readings would take
  hours here. ``--check`` measures the 1,000-sensor case both ways to show they agree.

Prints RSS delta / N (the state, the registry's share excluded: it is measured before) and
the points each sensor holds. The streaming detectors and fault diagnosis are on, as shipped
(``--no-detectors`` turns them off). ``--compare`` runs every size again with each other
checkout's ``warning`` package (``PYTHONPATH``), alternating, and prints its bytes per sensor
over this checkout's. Target (issue 19): <= 8 KiB per sensor reporting once a minute.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))

REGIONS = ("anji", "deqing", "changxing", "wuxing", "nanxun")
T0 = 1_780_000_000_000 - 1_780_000_000_000 % 3_600_000
TARGET = 8192


def rss() -> int:
    """Resident set size of this process in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(
    n: int, hours: float, every_s: int, evaluate_hours: float, detectors: bool = True
) -> dict:
    """Build the state of ``n`` gauges in this process and return what it measured."""
    out, _ = build(n, hours, every_s, evaluate_hours, detectors)
    return out


def build(
    n: int, hours: float, every_s: int, evaluate_hours: float, detectors: bool = True
) -> tuple[dict, dict]:
    """Build the state of ``n`` gauges; return what was measured and the states."""
    from warning.app import setup
    from warning.config import Config, MetricsConfig, Pipeline
    from warning.pipeline.nodata import SHARD_KEYS, shard_of
    from warning.records import Reading, Seen
    from warning.rules.windows import Series

    ids = [f"rg-{i:06d}" for i in range(n)]
    regions = {sid: REGIONS[i % len(REGIONS)] for i, sid in enumerate(ids)}
    # No registry file (100,000 entries exceed its size limit): unknown sensors are accepted
    # with the region of their readings, which the rules match on the same way.
    s = setup(
        Config(
            rules=[str(ROOT / "rules")],
            pipeline=Pipeline(unknown_sensors="accept", detectors=detectors),
            metrics=MetricsConfig(enabled=False),
        ),
        replay=True,
    )
    engine = s.steps
    rnd = random.Random(1)
    storm = {sid: rnd.uniform(0.5, 3.0) if rnd.random() < 0.3 else 0.0 for sid in ids}
    step_ms = every_s * 1000
    steps = int(hours * 3_600_000 // step_ms)
    evaluated = int(evaluate_hours * 3_600_000 // step_ms)

    def mm(sid: str, k: int) -> float:
        wet = storm[sid] * (0.5 + rnd.random()) if k % 97 < 60 else 0.0
        return round(wet, 1) if wet >= 0.05 else rnd.choice((0.0, 0.0, 0.0, 0.1))

    gc.collect()
    before = rss()
    states: dict = {}
    horizons = {sid: engine.evaluator.horizons(sid, "rainfall", regions[sid]) for sid in ids}
    lateness = engine.lateness_ms
    from warning.pipeline.evaluate import SensorState

    for k in range(steps - evaluated):  # straight into the series, as evaluate would
        ts = T0 + k * step_ms
        for sid in ids:
            st = states.get(sid)
            if st is None:
                st = states[sid] = SensorState()
            series = st.series.get("rain_mm")
            if series is None:
                series = st.series["rain_mm"] = Series()
            series.add(ts, mm(sid, k))
            series.trim(ts - horizons[sid]["rain_mm"] - lateness)
            st.watermark = ts
    shards: dict = {}
    for k in range(steps - evaluated, steps):
        ts = T0 + k * step_ms
        seen: dict[str, list] = {}
        for sid in ids:
            r = Reading(sid, "rainfall", regions[sid], ts, {"rain_mm": mm(sid, k)}, k, 0.0)
            states[sid], _ = engine.evaluate(states.get(sid), r)
            seen.setdefault(shard_of(sid), []).append(Seen(sid, "rainfall", regions[sid], ts))
        for key in SHARD_KEYS:
            shards[key], _ = engine.watch_no_data(shards.get(key), (key, seen.get(key, [])))
    gc.collect()
    after = rss()
    points = sum(len(x) for st in states.values() for x in st.series.values()) / n
    return {
        "sensors": n,
        "detectors": detectors,
        "readings_per_sensor": steps,
        "evaluated_per_sensor": evaluated,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_sensor": (after - before) / n,
        "points_per_sensor": points,
    }, states


def run_child(checkout: Path, n: int, hours: float, every: int, ev: float, detectors: bool) -> dict:
    """Measure one size in a fresh process running ``checkout``'s ``warning`` package."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(n), str(hours)]
    cmd += [str(every), str(ev), "1" if detectors else "0"]
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    """Run each size in a child process and print the table."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        n, hours, every, ev, det = argv[1:6]
        print(json.dumps(child(int(n), float(hours), int(every), float(ev), det == "1")))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sensors", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument(
        "--hours",
        type=float,
        default=25.0,
        help="event time in all (the 24 h I-D window and sums fill up)",
    )
    ap.add_argument("--every", type=int, default=60, help="seconds between reports")
    ap.add_argument("--evaluate-hours", type=float, default=1.0)
    ap.add_argument(
        "--check", action="store_true", help="also 1,000 sensors with every reading evaluated"
    )
    ap.add_argument("--no-detectors", action="store_true", help="anomaly detectors off")
    ap.add_argument("--compare", nargs="*", default=[], help="other checkouts to measure")
    args = ap.parse_args(argv)
    runs = [(n, args.evaluate_hours) for n in args.sensors]
    if args.check:
        runs.append((1000, args.hours))
    checkouts = [ROOT, *(Path(c).resolve() for c in args.compare)]
    print(
        f"{'checkout':<28} {'sensors':>8} {'readings':>9} {'evaluated':>9} {'points':>7} "
        f"{'RSS before':>11} {'RSS after':>10} {'bytes/sensor':>13} {'x target':>9} "
        f"{'x this':>7}"
    )
    for n, ev in runs:
        mine = None
        for checkout in checkouts:
            r = run_child(checkout, n, args.hours, args.every, ev, not args.no_detectors)
            mine = mine or r["bytes_per_sensor"]
            print(
                f"{str(checkout)[-28:]:<28} {r['sensors']:>8,} {r['readings_per_sensor']:>9,} "
                f"{r['evaluated_per_sensor']:>9,} {r['points_per_sensor']:>7,.0f} "
                f"{r['rss_before'] / 2**20:>9,.0f} M {r['rss_after'] / 2**20:>8,.0f} M "
                f"{r['bytes_per_sensor']:>13,.0f} {r['bytes_per_sensor'] / TARGET:>9.2f} "
                f"{r['bytes_per_sensor'] / mine:>7.2f}",
                flush=True,
            )
    print(
        f"target: <= {TARGET:,} bytes per sensor reporting every 60 s with the shipped rules, "
        f"detectors {'off' if args.no_detectors else 'on'}"
    )


if __name__ == "__main__":
    main()
