"""Backtest the landslide rules before and after on the USGS Seattle-area data; print the tables.

Needs the files of scripts/landslide_data.py in DATA (default /work/data/landslide). "Before" is
rules/landslide_rain.yaml as of commit d25607e (event I-D only: Guzzetti blue, Caine yellow+);
"after" is the working tree's. Each run is an ordinary ``hazard-warning backtest --labels``:

    python3 scripts/landslide_quality.py [DATA]
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).parents[1]
BEFORE_COMMIT = "d25607e"
LEVELS = ("blue", "yellow", "orange", "red")
SETS = {  # name: readings, labels, registry (kpae: the inventory's gauge alone)
    "mukilteo": ("mukilteo_2015.jsonl", "mukilteo_2015_usgs_spells.labels.jsonl", "mukilteo"),
    "seattle": ("seattle_2010_2011.jsonl", "mukilteo_landslides_2010_2011.labels.jsonl", "seattle"),
    "kpae": ("seattle_2010_2011.jsonl", "mukilteo_landslides_2010_2011.labels.jsonl", "kpae"),
}
RUNS = (("before", "anji"), ("after", "anji"), ("after", "puget_sound"))


def backtest(data: Path, run: Path, rules: Path, region: str, name: str) -> dict:
    """Run one backtest with labels; return its summary plus the episodes' peak levels."""
    readings, labels, registry = SETS[name]
    out = run / f"{rules.stem}_{region}_{name}.jsonl"
    summary = out.with_suffix(".summary.json")
    sensors = data / f"sensors_{region}_{registry}.yaml"
    subprocess.run(
        [
            "hazard-warning",
            "backtest",
            "--rules",
            str(rules),
            "--sensors",
            str(sensors),
            "--input",
            str(data / readings),
            "--output",
            str(out),
            "--labels",
            str(data / labels),
            "--tolerance",
            "1d",
            "--summary",
            str(summary),
            "--no-progress",
        ],
        check=True,
        capture_output=True,
    )
    peaks: dict[str, int] = {}
    for line in out.read_text().splitlines():
        e = json.loads(line)
        if e["hazard"] == "landslide" and e.get("level"):
            peaks[e["warning_id"]] = max(
                peaks.get(e["warning_id"], 0), LEVELS.index(e["level"]) + 1
            )
    doc = json.loads(summary.read_text())
    doc["peaks"] = Counter(peaks.values())
    return doc


def main(data: Path) -> None:
    """Run every backtest and print one markdown table per data set."""
    run = data / "run"
    run.mkdir(exist_ok=True)
    before = run / "before.yaml"
    before.write_text(
        subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:rules/landslide_rain.yaml"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    after = run / "after.yaml"
    after.write_text((ROOT / "rules" / "landslide_rain.yaml").read_text())
    for name in SETS:
        print(
            f"\n{name}: rule (gauges placed in) | sensor-years | episodes raised, peak "
            "blue/yellow/orange/red | labels hit at >= blue, >= yellow | false alarms per "
            "sensor-year at >= blue, >= yellow"
        )
        print(
            "| rules | sensor-years | episodes (b/y/o/r) | hits >=blue | hits >=yellow "
            "| FA/sensor-yr >=blue | FA/sensor-yr >=yellow |"
        )
        print("|---|---|---|---|---|---|---|")
        for which, region in RUNS:
            doc = backtest(data, run, before if which == "before" else after, region, name)
            rows = doc["hazards"]["landslide"]
            rates = doc["false_alarms_per_sensor_year"]["landslide"]
            p = doc["peaks"]
            n = rows["blue"]["hits"] + rows["blue"]["misses"]
            print(
                f"| {which} ({region}) | {rates['sensor_years']:.2f} | {sum(p.values())} "
                f"({'/'.join(str(p.get(i, 0)) for i in range(1, 5))}) "
                f"| {rows['blue']['hits']}/{n} | {rows['yellow']['hits']}/{n} "
                f"| {rates['per_sensor_year']['blue']:.1f} "
                f"| {rates['per_sensor_year']['yellow']:.1f} |"
            )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/data/landslide"))
