"""Backtest throughput against a vectorised pandas pass over the same file, in the same run.

    python bench/backtest_bench.py [--messages N] [--sensors S] [--rounds R]
                                   [--compare CHECKOUT ...] [--compiled] [--rules PATH]

The workload is ``pipeline_bench``'s (rain gauges with a storm, water-level stations, 5-minute
reports), written once as JSON Lines with a fixed end time, so every row reads the same bytes.

1. pandas:    ``json.loads`` every line into one DataFrame, then per sensor the rolling
              event-time window sums the shipped rules use (1, 3, 6, 12 and 24 h of every
              field): the vectorised lower bound for the same window work, with no rules,
              lifecycle, deduplication or lateness.
2. backtest:  ``python -m warning backtest`` semantics (``run_backtest``, one worker) in a
              child process per checkout (this one, then each ``--compare``), timed inside
              the child; events must be byte-identical across checkouts. ``--compiled`` adds
              a row for this checkout's compiled build (setup.py), built in a temporary copy.

Each backtest row prints readings/s (wall), CPU us per reading, readings per CPU-second ("per
core") and the ratio to the pandas pass, then a goals block. Goals (issue 19): >= 0.3 x pandas;
>= 100,000 readings per CPU-second. Rounds alternate the checkouts so that load from other
processes on the shared cores falls on both.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH, so another checkout can be measured
sys.path.append(str(ROOT / "bench"))

WINDOWS_H = (1, 3, 6, 12, 24)
END = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # fixed: the same bytes in every run
TARGET_RATIO = 0.3
TARGET_PER_CORE = 100_000  # readings per CPU-second


def pandas_pass(path: Path) -> tuple[float, float, int]:
    """Return wall and CPU seconds of the pandas pass, and how many window sums it made."""
    import pandas as pd

    cpu, started = time.process_time(), time.perf_counter()
    rows = []
    loads = json.loads
    with path.open("rb") as f:
        for line in f:
            d = loads(line)
            rows.append({"sensor_id": d["sensor_id"], "ts": d["ts"], **d["values"]})
    df = pd.DataFrame(rows)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    df = df.sort_values(["sensor_id", "ts"]).set_index("ts")
    fields = [c for c in df.columns if c != "sensor_id"]
    made = 0
    grouped = df.groupby("sensor_id")[fields]
    for h in WINDOWS_H:
        sums = grouped.rolling(f"{h}h").sum()
        made += int(sums.notna().to_numpy().sum())
    return time.perf_counter() - started, time.process_time() - cpu, made


def child(readings: Path, registry: Path, out: Path, rules: list[str]) -> None:
    """Run one backtest in this process and print its figures as JSON (the child's side)."""
    from pipeline_bench import pipeline_config

    from warning.app import run_backtest, setup

    cfg = pipeline_config(0, "bench-backtest", registry)
    if rules:
        cfg.rules = rules
    s = setup(cfg, replay=True)
    cpu, started = time.process_time(), time.perf_counter()
    run_backtest(s, readings, out, workers=1)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    import warning

    compiled = getattr(warning, "compiled", lambda: False)()  # older checkouts: pure
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "received": s.metrics.received._value.get(),
                "compiled": compiled,
            }
        )
    )


def run_child(checkout: Path, readings: Path, registry: Path, out: Path, rules: list[str]) -> dict:
    """Run the backtest of ``checkout`` in a child process; return its figures."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(readings),
        str(registry),
        str(out),
        *rules,
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["events_sha"] = hashlib.sha256(out.read_bytes()).hexdigest()[:12]
    figures["events"] = sum(1 for _ in out.open("rb"))
    return figures


def main(argv: list[str] | None = None) -> None:
    """Make the file, run the rows and print them."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        child(Path(argv[1]), Path(argv[2]), Path(argv[3]), argv[4:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", "-n", type=int, default=100_000)
    ap.add_argument("--sensors", "-s", type=int, default=1000, help="rain gauges")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument(
        "--compare",
        type=Path,
        action="append",
        default=[],
        help="another checkout to run the backtest of (e.g. the main branch)",
    )
    ap.add_argument(
        "--compiled", action="store_true", help="also run this checkout's compiled build (mypyc)"
    )
    ap.add_argument("--rules", action="append", default=[], help="rule files or folders")
    args = ap.parse_args(argv)

    from pipeline_bench import make_workload, write_registry

    work = make_workload(args.messages, args.sensors, max(1, args.sensors // 20), end=END)
    keep = tempfile.TemporaryDirectory(prefix="hazard-backtest-bench-")  # removed when main returns
    tmp = Path(keep.name)
    registry, readings = tmp / "sensors.yaml", tmp / "readings.jsonl"
    write_registry(work.registry, registry)
    readings.write_bytes(b"".join(p + b"\n" for _, p in work.messages))
    n = len(work.messages)
    rules = [str(Path(r).resolve()) for r in args.rules]
    checkouts = [ROOT, *[c.resolve() for c in args.compare]]
    if args.compiled:
        built = tmp / "compiled"
        subprocess.run(["bash", str(ROOT / "scripts" / "compiled_tree.sh"), str(built)], check=True)
        checkouts.insert(1, built)
    print(
        f"workload: {n:,} readings, {args.sensors:,} gauges + {max(1, args.sensors // 20)} "
        f"stations, {work.steps} x 5-min reports; load average {os.getloadavg()[0]:.2f}"
    )
    rows: dict[str, list[tuple[float, float, dict | None]]] = {}
    for _ in range(args.rounds):
        wall, cpu, made = pandas_pass(readings)
        rows.setdefault("pandas rolling sums", []).append((wall, cpu, None))
        for i, checkout in enumerate(checkouts):
            f = run_child(checkout, readings, registry, tmp / f"events-{i}.jsonl", rules)
            build = "compiled" if f.get("compiled") else "pure"
            where = "this checkout" if checkout in (ROOT, tmp / "compiled") else checkout
            rows.setdefault(f"backtest {build} {where}", []).append((f["wall"], f["cpu"], f))
    print(f"pandas made {made:,} window sums ({len(WINDOWS_H)} windows x fields x readings)")
    base = statistics.median(n / w for w, _, _ in rows["pandas rolling sums"])
    print(
        f"\n{'row':<48} {'readings/s':>11} {'x pandas':>9} {'CPU us/rd':>10} "
        f"{'per core/s':>11} {'events':>7}  sha"
    )
    shas = set()
    for name, runs in rows.items():
        rate = statistics.median(n / w for w, _, _ in runs)
        cpu_us = statistics.median(c / n * 1e6 for _, c, _ in runs)
        f = runs[-1][2]
        events, sha = ("", "") if f is None else (f["events"], f["events_sha"])
        if f is not None:
            shas.add(sha)
        print(
            f"{name[-48:]:<48} {rate:>11,.0f} {rate / base:>9.3f} {cpu_us:>10.1f} "
            f"{1e6 / cpu_us:>11,.0f} {events:>7}  {sha}"
        )
        if len(runs) > 1:
            print(f"{'':<48} rounds: " + ", ".join(f"{n / w:,.0f}" for w, _, _ in runs))
    print(
        f"\ngoals: >= {TARGET_RATIO} x pandas (same run), >= {TARGET_PER_CORE:,} readings per "
        "CPU-second"
    )
    first = None
    for name, runs in rows.items():
        if runs[-1][2] is None:
            continue
        rate = statistics.median(n / w for w, _, _ in runs)
        per_cpu = 1e6 / statistics.median(c / n * 1e6 for _, c, _ in runs)
        first = first or per_cpu
        print(
            f"  {name[-48:]:<48} {rate / base:.3f} x pandas "
            f"{'PASS' if rate / base >= TARGET_RATIO else 'MISS'}, {per_cpu:,.0f} per CPU-s "
            f"{'PASS' if per_cpu >= TARGET_PER_CORE else 'MISS'}"
            + ("" if per_cpu == first else f", {first / per_cpu:.2f} x as costly as the first row")
        )
    print(f"events identical across checkouts: {'yes' if len(shas) <= 1 else 'NO'}")


if __name__ == "__main__":
    main()
