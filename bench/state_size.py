"""Memory one sensor's state costs: pickled (what bytewax snapshots) and resident (RSS).

    python bench/state_size.py [--sensors N] [--kind rainfall|weather] [--region R]
                               [--hours H] [--step MINUTES] [--rules PATH]

Each sensor reports every minute for a day (more than the shipped rules' longest window, so
the windows are at their steady size) through the shipped rules and ``Steps.evaluate``, the
same code the flow runs. Printed: the pickled size of one state, and the RSS growth of the
process per sensor over N such states (measured, so it includes dicts, floats and deques).
"""

from __future__ import annotations

import argparse
import gc
import pickle
from pathlib import Path

from warning.app import for_files, setup
from warning.config import Config
from warning.records import Reading

ROOT = Path(__file__).parents[1]
VALUES = {
    "rainfall": {"rain_mm": 0.2},
    "weather": {"temp_c": 24.0, "rh_pct": 60.0, "wind_kmh": 12.0, "rain_mm": 0.0},
}


def rss_kb() -> int:
    """Resident set size of this process, in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    """Build N states of a day of minute readings and print their size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sensors", type=int, default=200)
    ap.add_argument("--kind", default="rainfall", choices=sorted(VALUES))
    ap.add_argument(
        "--region",
        default="r",
        help="e.g. anji: a hill county the landslide rule (18-day windows) watches",
    )
    ap.add_argument(
        "--hours",
        type=int,
        default=26,
        help="hours of readings (26: every "
        "window up to a day at its steady size; 19 x 24 for the landslide rule)",
    )
    ap.add_argument("--step", type=int, default=1, help="minutes between readings")
    ap.add_argument("--rules", type=Path, default=ROOT / "rules", help="rule file or directory")
    args = ap.parse_args()
    s = setup(for_files(Config(), [args.rules], None), replay=True)
    t0 = 1_783_231_200_000
    minutes = args.hours * 60
    gc.collect()
    before = rss_kb()
    states = {}
    for n in range(args.sensors):
        sid = f"s-{n}"
        state = None
        for i, m in enumerate(range(0, minutes, args.step)):
            r = Reading(sid, args.kind, args.region, t0 + 60_000 * m, VALUES[args.kind], i + 1)
            state, _ = s.steps.evaluate(state, r)
        states[sid] = state
    gc.collect()
    per_sensor_rss = (rss_kb() - before) * 1024 / args.sensors
    pickled = len(pickle.dumps(states["s-0"]))
    print(
        f"{args.kind} in {args.region}: {minutes // args.step} readings per sensor, one every "
        f"{args.step} min, rules {args.rules}"
    )
    print(f"  pickled state: {pickled:,} bytes per sensor")
    print(f"  RSS: {per_sensor_rss:,.0f} bytes per sensor (over {args.sensors} sensors)")
    for name, series in states["s-0"].series.items():
        print(f"  series {name}: {len(pickle.dumps(series)):,} bytes pickled")


if __name__ == "__main__":
    main()
