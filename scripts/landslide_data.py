"""Convert the USGS Seattle-area landslide-threshold sample data into backtest inputs.

Source: github.com/usgs/landslides-thresholds (public domain, U.S. Geological Survey; Baum et
al., "thresh" software). Get it with the search tool's ``fetch github:usgs/landslides-thresholds``
and pass the bare git directory. Writes, under the output directory (default
/work/data/landslide):

- ``mukilteo_2015.jsonl``: 4 tipping-bucket gauges of the USGS landslide-monitoring network on
  the Mukilteo bluffs (data/RALHS/wa*_rain.txt, Smith et al. 2017, doi:10.5066/F7NZ85WX),
  15-minute increments in inches, local time, Aug/Sep to Dec 2015;
- ``seattle_2010_2011.jsonl``: 4 National Weather Service airport gauges (data/test/K*_t.txt),
  hourly increments in hundredths of an inch, Jul 2010 to Dec 2011 (time zone not stated by
  the source: read as local time, which moves days by at most 8 h);
- ``mukilteo_landslides_2010_2011.csv`` and ``.labels.jsonl``: the dates of landslides near
  Mukilteo (data/test/dates2011Muk.txt), assigned to the nearest gauge, Everett-Paine Field
  (KPAE, about 5 km away);
- ``mukilteo_2015_usgs_spells.labels.jsonl``: the spells in which the network's operational
  threshold, P3 >= 3.5 in - 0.67 P15 (Chleborad 2000), held at each Mukilteo gauge, computed
  here from hourly totals (P3 the last 72 h, P15 the 360 h before; spells closer than 24 h
  merged), as labels at yellow ("landslides likely");
- ``sensors_<region>_<set>.yaml``: registries placing the gauges in a region (``puget_sound``,
  or ``anji`` to run the Huzhou hill-county rule on them); ``sensors_<region>_kpae.yaml``
  registers KPAE alone, the one gauge the landslide dates are scored on.

Run: python3 scripts/landslide_data.py /work/.mirror/usgs+landslides-thresholds/repo
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/Los_Angeles")
MM_PER_IN = 25.4
MUKILTEO = {
    "muk-mvd": ("data/RALHS/waMVD116_rain.txt", "Marine View Drive"),
    "muk-wtc": ("data/RALHS/waWatertonA_rain.txt", "Waterton Circle"),
    "muk-mwwd": ("data/RALHS/waMWWD_rain.txt", "Mukilteo Wastewater"),
    "muk-mlp": ("data/RALHS/waMLP_rain.txt", "Mukilteo Lighthouse Park"),
}
NWS = {
    "kbfi": ("data/test/KBFI_t.txt", "Seattle, Boeing Field"),
    "kpae": ("data/test/KPAE_t.txt", "Everett, Paine Field"),
    "ksea": ("data/test/KSEA_t.txt", "Seattle-Tacoma Airport"),
    "ktiw": ("data/test/KTIW_t.txt", "Tacoma Narrows Airport"),
}
DATES = "data/test/dates2011Muk.txt"
LABEL_GAUGE = "kpae"


def show(git_dir: Path, path: str) -> str:
    """Return a file of the snapshot's HEAD."""
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def to_utc(local: datetime, previous: datetime | None) -> datetime:
    """Localise a wall-clock time; in the repeated autumn hour take the later instant."""
    aware = local.replace(tzinfo=TZ)
    if previous is not None and aware <= previous:
        aware = local.replace(tzinfo=TZ, fold=1)
    return aware


def mukilteo_rows(text: str) -> list[tuple[datetime, float]]:
    """Parse ``YYYY MM DD HH MM inches`` rows (tab and space separated)."""
    rows, prev = [], None
    for line in text.splitlines():
        f = line.split()
        if len(f) != 6:
            continue
        y, mo, d, h, mi = (int(x) for x in f[:5])
        local = datetime(y, mo, d) + timedelta(hours=h, minutes=mi)
        ts = to_utc(local, prev)
        prev = ts
        rows.append((ts, round(float(f[5]) * MM_PER_IN, 3)))
    return rows


def nws_rows(text: str) -> list[tuple[datetime, float]]:
    """Parse ``SSYYYYMMDDHHPPP`` rows (station, hour, hundredths of an inch)."""
    rows, prev = [], None
    for line in text.splitlines():
        if len(line.strip()) != 15:
            continue
        s = line.strip()
        local = datetime.strptime(s[2:12], "%Y%m%d%H")
        ts = to_utc(local, prev)
        prev = ts
        rows.append((ts, round(int(s[12:15]) / 100 * MM_PER_IN, 3)))
    return rows


def write_readings(path: Path, series: dict[str, list[tuple[datetime, float]]]) -> int:
    """Write all gauges' readings in event-time order as wire-format JSON Lines."""
    merged = sorted(
        ((ts, sid, mm) for sid, rows in series.items() for ts, mm in rows),
        key=lambda r: (r[0], r[1]),
    )
    seq: dict[str, int] = {}
    with path.open("w", encoding="utf-8") as out:
        for ts, sid, mm in merged:
            seq[sid] = seq.get(sid, 0) + 1
            out.write(
                json.dumps(
                    {
                        "sensor_id": sid,
                        "kind": "rainfall",
                        "ts": ts.isoformat(),
                        "seq": seq[sid],
                        "values": {"rain_mm": mm},
                    }
                )
                + "\n"
            )
    return len(merged)


def write_registry(path: Path, gauges: dict[str, tuple[str, str]], region: str) -> None:
    """Write a sensor registry placing every gauge in ``region``."""
    lines = ["sensors:"]
    for sid, (_, name) in gauges.items():
        lines.append(
            f'  - {{id: {sid}, kind: rainfall, name: "{name}", region: {region}, '
            "tz: America/Los_Angeles}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def usgs_spells(rows: list[tuple[datetime, float]]) -> list[tuple[datetime, datetime]]:
    """Return the spells ``(first, last hour)`` in which P3 >= 88.9 mm - 0.67 P15 held."""
    hourly: dict[datetime, float] = {}
    for ts, mm in rows:  # a report at hh:mm (mm > 0) belongs to the hour ending at hh+1:00
        end = ts.replace(minute=0, second=0) + (timedelta(hours=1) if ts.minute else timedelta())
        hourly[end] = hourly.get(end, 0.0) + mm
    first, last = min(hourly), max(hourly)
    hours = [
        first + timedelta(hours=i) for i in range(int((last - first).total_seconds() // 3600) + 1)
    ]
    rain = [hourly.get(h, 0.0) for h in hours]
    cum = [0.0]
    for mm in rain:
        cum.append(cum[-1] + mm)
    spells: list[tuple[datetime, datetime]] = []
    for i, h in enumerate(hours):
        p3 = cum[i + 1] - cum[max(0, i + 1 - 72)]
        p15 = cum[max(0, i + 1 - 72)] - cum[max(0, i + 1 - 432)]
        if p3 > 0 and p3 >= 88.9 - 0.67 * p15 - 1e-9:
            if spells and h - spells[-1][1] <= timedelta(hours=24):
                spells[-1] = (spells[-1][0], h)
            else:
                spells.append((h, h))
    assert not math.isnan(cum[-1])
    return spells


def main(git_dir: Path, out: Path) -> None:
    """Convert everything; print what was written."""
    out.mkdir(parents=True, exist_ok=True)
    for name, gauges, parse in (
        ("mukilteo_2015", MUKILTEO, mukilteo_rows),
        ("seattle_2010_2011", NWS, nws_rows),
    ):
        series = {sid: parse(show(git_dir, path)) for sid, (path, _) in gauges.items()}
        n = write_readings(out / f"{name}.jsonl", series)
        print(f"{out / name}.jsonl: {n} readings")
        short = name.split("_")[0]
        for region in ("puget_sound", "anji"):
            write_registry(out / f"sensors_{region}_{short}.yaml", gauges, region)
            if LABEL_GAUGE in gauges:  # the inventory's gauge alone: the others' readings
                write_registry(
                    out / f"sensors_{region}_{LABEL_GAUGE}.yaml",  # are rejected
                    {LABEL_GAUGE: gauges[LABEL_GAUGE]},
                    region,
                )
    with (out / "mukilteo_2015_usgs_spells.labels.jsonl").open("w") as f:
        for sid, (path, _) in MUKILTEO.items():
            for a, b in usgs_spells(mukilteo_rows(show(git_dir, path))):
                f.write(
                    json.dumps(
                        {
                            "type": "hazard",
                            "subject": sid,
                            "hazard": "landslide",
                            "onset": a.isoformat(),
                            "end": b.isoformat(),
                            "level": "yellow",
                            "cause": "USGS 3-day/15-day threshold held",
                        }
                    )
                    + "\n"
                )
    dates = [
        datetime.strptime(d.strip(), "%m/%d/%Y").date()
        for d in show(git_dir, DATES).split()
        if d.strip()
    ]
    with (out / "mukilteo_landslides_2010_2011.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "sensor_id", "place"])
        for d in dates:
            w.writerow([d.isoformat(), LABEL_GAUGE, "Mukilteo bluffs"])
    with (out / "mukilteo_landslides_2010_2011.labels.jsonl").open("w") as f:
        for d in dates:
            start = datetime(d.year, d.month, d.day, tzinfo=TZ)
            f.write(
                json.dumps(
                    {
                        "type": "hazard",
                        "subject": LABEL_GAUGE,
                        "hazard": "landslide",
                        "onset": start.isoformat(),
                        "end": (start + timedelta(days=1)).isoformat(),
                        "level": "yellow",
                        "place": "Mukilteo bluffs",
                    }
                )
                + "\n"
            )
    print(f"{len(dates)} landslide dates -> {out}/mukilteo_landslides_2010_2011.*")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/work/data/landslide")
    )
