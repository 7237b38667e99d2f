"""Share of genuine warnings marked Possible on a real multi-gauge storm, and a lone spike.

Reads the four USGS Mukilteo gauges of ``mukilteo_2015.jsonl`` (scripts/landslide_data.py),
places them as neighbours in one region of a registry (same kind, about 1 km apart) and runs
the ordinary ``hazard-warning backtest`` (anomaly detectors and corroboration on, the shipped
rule directory) of each checkout given, once per ``pipeline.confirm`` mode it knows:

- **storm**: 1-10 Dec 2015 (the atmospheric-river storms of 3-9 Dec), and the whole record
  while all four gauges report (29 Sep-31 Dec 2015), rain scaled x1 and x4. No fault is
  injected, so every warning is genuine: the figure is the share marked Possible.
- **spike**: 3-6 Oct 2015, four dry days; at 15:00 on 5 Oct one gauge reports 60 mm while the
  others read 0. Prints the warnings that go out, their certainty, and the sensor fault's time.

    python3 scripts/certainty_storm.py [--data DIR] [--before COMMIT ...] [--keep DIR]
    python3 scripts/certainty_storm.py --sample tests/data/mukilteo_2015-10-08_11.csv

Runs this working tree, and first each ``--before`` commit (checked out for the run with
``git worktree add``, removed after). Each run imports its checkout's own package
(``PYTHONPATH``) and uses its ``rules/`` directory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).parents[1]
REGION = "anji"
#: Approximate positions (within 2 km of Mukilteo, Washington); same kind, same region.
GAUGES = {
    "muk-mvd": ("Marine View Drive", 47.9489, -122.3046),
    "muk-wtc": ("Waterton Circle", 47.9400, -122.3080),
    "muk-mwwd": ("Mukilteo Wastewater", 47.9465, -122.2995),
    "muk-mlp": ("Mukilteo Lighthouse Park", 47.9490, -122.3060),
}
STORMS = {  # name: [start, end) in local time
    "storm 1-10 Dec": ("2015-12-01T00:00:00-08:00", "2015-12-11T00:00:00-08:00"),
    "season 29 Sep-31 Dec": ("2015-09-29T14:00:00-07:00", "2016-01-01T00:00:00-08:00"),
}
DRY = ("2015-10-03T00:00:00-07:00", "2015-10-07T00:00:00-07:00")
SPIKE_AT, SPIKE_GAUGE, SPIKE_MM = "2015-10-05T15:00:00-07:00", "muk-mvd", 60.0
GRAVE = ("orange", "red")
#: The test sample: two dry days, then the storm of 10-11 Oct 2015.
SAMPLE = ("2015-10-08T00:00:00-07:00", "2015-10-12T00:00:00-07:00")
TIP_MM = 0.254  # the gauges' tipping bucket, 0.01 in
PDT = timezone(timedelta(hours=-7))  # the spike day's local time


def instant(text: str) -> float:
    """Return the POSIX time of an RFC 3339 timestamp."""
    return datetime.fromisoformat(text).timestamp()


def window(lines: Iterable[str], start: str, end: str) -> list[dict]:
    """Return the readings of ``[start, end)`` in event-time order (then by gauge)."""
    lo, hi = instant(start), instant(end)
    rows = [json.loads(line) for line in lines if line.strip()]
    rows = [r for r in rows if lo <= instant(r["ts"]) < hi and r["sensor_id"] in GAUGES]
    return sorted(rows, key=lambda r: (instant(r["ts"]), r["sensor_id"]))


def scaled(rows: Iterable[dict], factor: float) -> Iterator[dict]:
    """Yield the readings with their rain multiplied by ``factor``."""
    for r in rows:
        mm = round(r["values"]["rain_mm"] * factor, 3)
        yield {**r, "values": {**r["values"], "rain_mm": mm}}


def spiked(rows: Iterable[dict], at: str, gauge: str, mm: float) -> list[dict]:
    """Return the readings with ``gauge``'s report at ``at`` replaced by ``mm``; check the rest."""
    out, hit, t = [], False, instant(at)
    for r in rows:
        if instant(r["ts"]) == t:
            if r["sensor_id"] == gauge:
                r, hit = {**r, "values": {"rain_mm": mm}}, True
            elif r["values"]["rain_mm"] != 0:
                raise ValueError(f"{r['sensor_id']} is not dry at {at}")
        out.append(r)
    if not hit:
        raise ValueError(f"{gauge} has no report at {at}")
    return out


def registry() -> str:
    """Return the registry: the four gauges as rain gauges of one region."""
    lines = ["sensors:"]
    for sid, (name, lat, lon) in GAUGES.items():
        lines.append(
            f'  - {{id: {sid}, kind: rainfall, name: "{name}", region: {REGION}, '
            f"lat: {lat}, lon: {lon}, tz: America/Los_Angeles}}"
        )
    return "\n".join(lines) + "\n"


def modes(checkout: Path) -> list[str | None]:
    """Return the ``pipeline.confirm`` modes a checkout knows (None: it has no such setting)."""
    known = "confirm" in (checkout / "warning" / "config.py").read_text()
    return ["route", "wait"] if known else [None]


def backtest(checkout: Path, rows: list[dict], confirm: str | None, work: Path) -> list[dict]:
    """Run ``hazard-warning backtest`` of ``checkout`` over ``rows``; return its events."""
    work.mkdir(parents=True, exist_ok=True)
    readings, sensors, config = work / "in.jsonl", work / "sensors.yaml", work / "config.yaml"
    readings.write_text("".join(json.dumps(r) + "\n" for r in rows))
    sensors.write_text(registry())
    config.write_text(f"pipeline:\n  confirm: {confirm}\n" if confirm else "pipeline: {}\n")
    out = work / "events.jsonl"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "warning",
            "backtest",
            "--rules",
            str(checkout / "rules"),
            "--sensors",
            str(sensors),
            "--config",
            str(config),
            "--input",
            str(readings),
            "--output",
            str(out),
            "--no-progress",
        ],
        check=True,
        capture_output=True,
        cwd=checkout,  # python -m puts the working directory first on the path
        env={**os.environ, "PYTHONPATH": str(checkout)},
    )
    return [json.loads(line) for line in out.read_text().splitlines()]


def genuine(events: Iterable[dict]) -> list[dict]:
    """Return the warnings proper: events with a level, not sensor faults, not confirmations."""
    return [
        e
        for e in events
        if e["hazard"] != "sensor_fault" and e["event"] not in ("cleared", "confirmed")
    ]


def storm_row(events: list[dict]) -> str:
    """Return one table row: the gauges' warnings, then the area (county) warnings on them."""
    warned = genuine(events)
    gauge = [e for e in warned if e["subject"] in GAUGES]
    area = [e for e in warned if e["subject"] not in GAUGES]
    possible = [e for e in gauge if e["certainty"] == "Possible"]
    confirmed = {e["warning_id"] for e in events if e["event"] == "confirmed"}
    later = sum(e["warning_id"] in confirmed for e in possible)
    grave = [e for e in gauge if e.get("level") in GRAVE]
    faults = [e for e in events if e["hazard"] == "sensor_fault" and e["event"] == "raised"]
    by = Counter(f"{e['hazard']} {e['level']}" for e in possible)
    which = ", ".join(f"{n} {k}" for k, n in sorted(by.items())) or "-"
    withdrawn = [e for e in events if e["message"].startswith("Withdrawn: ")]
    return (
        f"{share(possible, gauge)} | {later} "
        f"| {sum(e['certainty'] == 'Possible' for e in grave)} / {len(grave)} "
        f"| {share([e for e in area if e['certainty'] == 'Possible'], area)} "
        f"| {len(faults)} | {len(withdrawn)} | {which}"
    )


def share(part: list, whole: list) -> str:
    """Return "n / N (x %)"."""
    return f"{len(part)} / {len(whole)} ({100 * len(part) / max(len(whole), 1):.1f} %)"


def spike_lines(events: list[dict]) -> list[str]:
    """Describe the spike run's events: local time (PDT), rule, event, level, certainty."""
    out = []
    for e in events:
        if (
            e["event"] == "cleared"
            and e["hazard"] != "sensor_fault"
            and not e["message"].startswith("Withdrawn: ")
        ):
            continue
        t = datetime.fromisoformat(e["ts"]).astimezone(PDT).strftime("%m-%d %H:%M")
        out.append(
            f"{t} {e['subject']} {e['rule_id']} {e['event']} {e.get('level') or ''} "
            f"{e['certainty']}{' (withdrawn)' if e['message'].startswith('Withdrawn: ') else ''}"
        )
    return out


def main(argv: list[str] | None = None) -> None:
    """Run the storm and spike cases for every checkout and mode; print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path("/work/data/landslide"))
    ap.add_argument("--before", action="append", default=[], help="a commit to run first")
    ap.add_argument("--keep", type=Path, help="keep each run's files here")
    ap.add_argument("--sample", type=Path, help="only write the test sample here")
    args = ap.parse_args(argv)
    lines = (args.data / "mukilteo_2015.jsonl").read_text().splitlines()
    if args.sample:
        write_sample(lines, args.sample)
        return
    dry = window(lines, *DRY)
    spike = spiked(dry, SPIKE_AT, SPIKE_GAUGE, SPIKE_MM)
    with tempfile.TemporaryDirectory() as tmp:
        base = (args.keep or Path(tmp)).resolve()
        checkouts = [(c, checkout(c, Path(tmp) / c)) for c in args.before]
        try:
            runs = [*checkouts, ("working tree", ROOT)]
            for name, (start, end) in STORMS.items():
                rows = window(lines, start, end)
                print(f"\n{name} ({start}..{end}), {len(rows)} readings of {len(GAUGES)} gauges")
                print(
                    "| checkout | confirm | rain | gauge warnings Possible / all "
                    "| of those confirmed later | Possible / orange+red "
                    "| county warnings Possible / all | sensor faults raised "
                    "| withdrawn (gauge and county) | the gauges' Possible warnings |"
                )
                print("|---|---|---|---|---|---|---|---|---|---|")
                for label, c in runs:
                    for mode in modes(c):
                        for factor in (1.0, 4.0):
                            work = base / label.replace(" ", "_") / f"{name[:5]}_x{factor:g}_{mode}"
                            events = backtest(c, list(scaled(rows, factor)), mode, work)
                            print(
                                f"| {label} | {mode or '-'} | x{factor:g} | {storm_row(events)} |"
                            )
            print(f"\nspike: {SPIKE_MM:g} mm at {SPIKE_GAUGE} {SPIKE_AT}, neighbours 0")
            for label, c in runs:
                for mode in modes(c):
                    work = base / label.replace(" ", "_") / f"spike_{mode}"
                    print(f"{label} confirm={mode or '-'} (in output order):")
                    for line in spike_lines(backtest(c, spike, mode, work)):
                        print(f"  {line}")
        finally:
            for _, c in checkouts:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(c)])


def write_sample(lines: list[str], out: Path) -> None:
    """Write the test sample: tips per gauge per 15 min, only the rows with a tip."""
    rows = window(lines, *SAMPLE)
    tips: dict[str, dict[str, int]] = {}
    for r in rows:
        tips.setdefault(r["ts"], {})[r["sensor_id"]] = round(r["values"]["rain_mm"] / TIP_MM)
    with out.open("w", encoding="utf-8") as f:
        f.write(
            f"# USGS Mukilteo rain gauges (public domain), tips of {TIP_MM} mm per 15 min, "
            f"{SAMPLE[0]} to {SAMPLE[1]}; every gauge reports every 15 min, rows not listed "
            "are 0. Made by scripts/certainty_storm.py --sample.\n"
        )
        f.write("ts," + ",".join(GAUGES) + "\n")
        for ts, row in tips.items():
            if any(row.values()):
                f.write(ts + "," + ",".join(str(row[g]) for g in GAUGES) + "\n")


def checkout(commit: str, where: Path) -> Path:
    """Check ``commit`` out at ``where`` (a detached worktree of this repository)."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), commit],
        check=True,
        capture_output=True,
    )
    return where


if __name__ == "__main__":
    main()
