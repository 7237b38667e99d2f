"""The added cost of area rules per reading, against the same pipeline without them, one run.

    python bench/area_bench.py [--messages N] [--sensors S] [--rounds R]

The workload is ``backtest_bench``'s (rain gauges with a storm and water-level stations over
the five Huzhou regions, 5-minute reports). Each round runs the backtest (one worker, a child
process each, timed inside the child) three times over the same file:

1. without areas: the shipped rules minus ``rules/compound.yaml``;
2. shipped areas: every shipped rule (flash flood, integrated risk per county, gas unit);
3. heavy areas:   those plus ``county_rain``, an aggregate-heavy rule over every region
                  (count, fraction, max, quantile and mean of per-gauge 1 h and 3 h sums).

It prints CPU us per reading of each and their ratio to the first (median over rounds);
rounds rotate the order so that load from other processes falls on all three.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))
sys.path.append(str(ROOT / "bench"))

COUNTY_RAIN = """rules:
  - id: county_rain
    hazard: rainstorm_area
    area: [wuxing, nanxun, deqing, changxing, anji]
    for_kind: rainfall
    fresh: 30m
    levels:
      red: 'count(sum(rain_mm, 3h) >= 100) >= 3'
      orange: 'count(sum(rain_mm, 3h) >= 50) >= 3 or fraction(sum(rain_mm, 3h) >= 50) >= 0.5'
      yellow: 'quantile(sum(rain_mm, 1h), 0.9) >= 20 or max(sum(rain_mm, 3h)) >= 50'
      blue: 'mean(sum(rain_mm, 3h)) >= 20'
"""


def main(argv: list[str] | None = None) -> None:
    """Make the workload and rule sets, run the rounds and print the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", "-n", type=int, default=60_000)
    ap.add_argument("--sensors", "-s", type=int, default=500, help="rain gauges")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)

    from backtest_bench import END, run_child
    from pipeline_bench import make_workload, write_registry

    work = make_workload(args.messages, args.sensors, max(1, args.sensors // 20), end=END)
    keep = tempfile.TemporaryDirectory(prefix="hazard-area-bench-")
    tmp = Path(keep.name)
    registry, readings = tmp / "sensors.yaml", tmp / "readings.jsonl"
    write_registry(work.registry, registry)
    readings.write_bytes(b"".join(p + b"\n" for _, p in work.messages))
    plain, shipped, heavy = tmp / "plain", tmp / "shipped", tmp / "heavy"
    for d in (plain, shipped, heavy):
        d.mkdir()
    for f in (ROOT / "rules").glob("*.yaml"):
        if f.name.endswith(".test.yaml"):
            continue
        shutil.copy(f, shipped / f.name)
        shutil.copy(f, heavy / f.name)
        if f.name != "compound.yaml":
            shutil.copy(f, plain / f.name)
    (heavy / "county_rain.yaml").write_text(COUNTY_RAIN)
    n = len(work.messages)
    print(
        f"workload: {n:,} readings, {args.sensors:,} gauges + "
        f"{max(1, args.sensors // 20)} stations in 5 regions; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    order = [("without areas", plain), ("shipped areas", shipped), ("heavy areas", heavy)]
    runs: dict[str, list[dict]] = {name: [] for name, _ in order}
    for r in range(args.rounds):
        for name, rules in order[r % 3 :] + order[: r % 3]:
            runs[name].append(
                run_child(ROOT, readings, registry, tmp / f"{r}-{rules.name}.jsonl", [str(rules)])
            )
    print(
        f"\n{'row':<16} {'readings/s':>11} {'CPU us/rd':>10} {'added':>7} {'ratio':>6} "
        f"{'events':>7}"
    )
    base = statistics.median(f["cpu"] / n * 1e6 for f in runs["without areas"])
    for name, rows in runs.items():
        cpu = statistics.median(f["cpu"] / n * 1e6 for f in rows)
        rate = statistics.median(n / f["wall"] for f in rows)
        print(
            f"{name:<16} {rate:>11,.0f} {cpu:>10.1f} {cpu - base:>7.1f} {cpu / base:>6.3f} "
            f"{rows[-1]['events']:>7}"
        )
        print(
            f"{'':<16} rounds (CPU us/rd): " + ", ".join(f"{f['cpu'] / n * 1e6:.1f}" for f in rows)
        )


if __name__ == "__main__":
    main()
