"""Cost of the anomaly models: each detector alone, and the pipeline with them against without.

    python bench/anomaly_bench.py [--messages N] [--sensors S] [--stations W] [--rounds R]

1. detectors:  ``score_one`` + ``learn_one`` per value over 100,000 values, per detector;
               then ``Monitor.observe`` (the three detectors on every field plus the fault
               diagnosis, as the ``evaluate_rules`` step runs it) and ``Neighbours.observe``
               (drift) per reading of the workload.
2. sklearn:    IsolationForest ``score_samples`` on 1 row, 2,000 rows (a backtest batch) and
               10,000 rows: why the flow scores per batch.
3. backtest:   ``run_backtest`` of pipeline_bench's workload (rain gauges and water levels,
               shipped rules) three ways in each round, one after the other: detectors off
               (the baseline), detectors on (the default), detectors on + a trained model.
               The ratio is against the baseline of the same round; the order rotates each
               round, and CPU time per reading (this process) is shown beside wall time,
               since other jobs on the cores slow whole rows.

The machine is shared: the load average printed before and after says how far to trust a row.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH, so another checkout can be measured
sys.path.append(str(ROOT / "bench"))

import numpy as np  # noqa: E402
from pipeline_bench import (  # noqa: E402
    _total,
    make_workload,
    pipeline_config,
    write_registry,
)

from warning.anomaly import corpus, trained  # noqa: E402
from warning.anomaly.detectors import DETECTORS, make  # noqa: E402
from warning.anomaly.faults import FaultSettings  # noqa: E402
from warning.anomaly.health import Health, Monitor  # noqa: E402
from warning.anomaly.neighbours import Neighbours, RegionState  # noqa: E402
from warning.app import run_backtest, setup  # noqa: E402
from warning.pipeline.parse import parse_ts  # noqa: E402
from warning.records import Reading  # noqa: E402


def detector_rates(values: list[float], ts: list[int]) -> list[tuple[str, float]]:
    out = []
    for name in sorted(DETECTORS):
        d = make(name)
        t = time.perf_counter()
        for x, s in zip(values, ts, strict=True):
            d.score_one(x, s)
            d.learn_one(x, s)
        out.append((name, len(values) / (time.perf_counter() - t)))
    return out


def monitor_rates(readings: list[Reading]) -> list[tuple[str, float]]:
    m, states = Monitor(), {}
    t = time.perf_counter()
    for r in readings:
        h = states.get(r.sensor_id)
        if h is None:
            h = states[r.sensor_id] = Health()
        m.observe(h, r, {})
    monitor = len(readings) / (time.perf_counter() - t)
    nb, region = Neighbours(FaultSettings(), lambda *a: {}), RegionState()
    t = time.perf_counter()
    for r in readings:
        nb.observe(region, r)
    return [
        ("Monitor.observe (3 detectors/field + faults)", monitor),
        ("Neighbours.observe (drift, wet spells)", len(readings) / (time.perf_counter() - t)),
    ]


def sklearn_costs(readings: list[dict], folder: Path) -> list[tuple[str, float, float]]:
    trained.train(readings, folder)
    model = trained.load(folder, {"reservoir": ["level_m"], "rainfall": ["rain_mm"]})
    est = model.models["reservoir"]
    rng = np.random.default_rng(1)
    rows = rng.normal(3.5, 0.1, size=(10_000, len(model.groups["reservoir"]["features"])))
    out = []
    for n in (1, 2000, 10_000):
        runs = []
        for _ in range(5 if n > 1 else 50):
            t = time.perf_counter()
            est.score_samples(rows[:n])
            runs.append(time.perf_counter() - t)
        took = statistics.median(runs)
        out.append((f"score_samples, {n:,} row(s)", took * 1000, n / took))
    return out


def backtest_row(cfg, path: Path, out: Path) -> tuple[float, float, int]:
    """Return readings/s over wall time, CPU us per reading (this process), events."""
    s = setup(cfg)
    t, cpu = time.perf_counter(), time.process_time()
    run_backtest(s, path, out, workers=1)
    took, cpu = time.perf_counter() - t, time.process_time() - cpu
    n = int(s.metrics.received._value.get())
    return n / took, cpu / n * 1e6, _total(s.metrics.warning_events)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", "-n", type=int, default=60_000)
    ap.add_argument("--sensors", "-s", type=int, default=500, help="rain gauges")
    ap.add_argument("--stations", type=int, default=100, help="water-level stations")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.perf_counter()
    tmp = tempfile.TemporaryDirectory()
    folder = Path(tmp.name)
    work = make_workload(args.messages, args.sensors, args.stations)
    path, registry = folder / "readings.jsonl", folder / "sensors.yaml"
    with path.open("wb") as f:
        for _, payload in work.messages:
            f.write(payload + b"\n")
    write_registry(work.registry, registry)
    objs = [json.loads(p) for _, p in work.messages]
    dicts = [
        {
            "sensor_id": o["sensor_id"],
            "kind": o["kind"],
            "ts": parse_ts(o["ts"]),
            "values": o["values"],
        }
        for o in objs
    ]
    readings = [Reading(d["sensor_id"], d["kind"], "r", d["ts"], d["values"]) for d in dicts]

    print(
        f"workload: {len(objs):,} readings, {args.sensors} rain gauges + {args.stations} "
        f"water levels; load average {load0} at start"
    )
    series = corpus.synthetic(count=25, n=4000)
    values = [x for s in series for x in s.values]
    ts = [t for s in series for t in s.ts]
    print(f"\n{'detector (score_one + learn_one)':<48} {'values/s':>12}")
    for name, rate in detector_rates(values, ts):
        print(f"{name:<48} {rate:>12,.0f}")
    for name, rate in monitor_rates(readings):
        print(f"{name:<48} {rate:>12,.0f}")

    print(f"\n{'IsolationForest (100 trees)':<48} {'ms':>8} {'rows/s':>12}")
    for name, ms, rate in sklearn_costs(dicts, folder / "model"):
        print(f"{name:<48} {ms:>8.2f} {rate:>12,.0f}")

    base_cfg = pipeline_config(0, "bench-anomaly", registry)
    variants = [
        (
            "detectors off (baseline)",
            dataclasses.replace(
                base_cfg, pipeline=dataclasses.replace(base_cfg.pipeline, detectors=False)
            ),
        ),
        ("detectors on (default)", base_cfg),
        (
            "detectors on + IsolationForest",
            dataclasses.replace(
                base_cfg,
                pipeline=dataclasses.replace(
                    base_cfg.pipeline, anomaly_model=str(folder / "model")
                ),
            ),
        ),
    ]
    print(
        f"\n{'run_backtest, one worker':<40} {'readings/s':>10} {'x base':>7} "
        f"{'CPU us/rd':>10} {'x base':>7} {'events':>7}"
    )
    ratios: dict[str, list[tuple[float, float]]] = {}
    for r in range(args.rounds):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]  # rotate
        rows = {name: backtest_row(cfg, path, folder / "events.jsonl") for name, cfg in order}
        base_rate, base_cpu, _ = rows[variants[0][0]]
        for name, _ in variants:
            rate, cpu, events = rows[name]
            ratios.setdefault(name, []).append((rate / base_rate, cpu / base_cpu))
            print(
                f"{name + f' #{r + 1}':<40} {rate:>10,.0f} {rate / base_rate:>7.2f} "
                f"{cpu:>10.0f} {cpu / base_cpu:>7.2f} {events:>7}"
            )
    print("median over rounds: throughput x baseline (wall), CPU per reading x baseline")
    for name, pairs in ratios.items():
        print(
            f"  {name:<38} {statistics.median(p[0] for p in pairs):>10.2f} "
            f"{statistics.median(p[1] for p in pairs):>10.2f}"
        )
    print(
        f"\ntotal {time.perf_counter() - started:.0f} s; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at end (other processes on these "
        f"cores skew every row)"
    )
    tmp.cleanup()


if __name__ == "__main__":
    main()
