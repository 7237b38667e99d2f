"""A hand-checked storm for flow tests: rain every 5 min on 2026-07-05 (+08:00).

rg-1 (wuxing): 0 mm for 1 h, 1 mm per 5 min to 07:00, 5 mm to 09:00, 9 mm to 10:00, then dry
to 16:00. By the CMA table and a 1 h hold its signal must go (worked out by hand):
  05:05 raised yellow (50 mm in 6 h), 07:15 escalated orange (52 mm in 3 h),
  08:15 escalated red (100 mm in 3 h), 12:00 deescalated orange (99 mm in 3 h),
  13:00 deescalated yellow (hold of orange), 15:30 deescalated blue (45 mm in 6 h).
rg-3 (deqing): light rain, silent from 02:00 to 04:00 (silence warning raised 02:25, cleared
at 04:00). rg-2 (nanxun) is registered and never reports (silence raised at 00:25: the first
tick is 23:55, the first reading's time less the 5 min lateness).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

TZ = timezone(timedelta(hours=8))
START = datetime(2026, 7, 5, tzinfo=TZ)

REGISTRY = {
    "sensors": [
        {
            "id": "rg-1",
            "kind": "rainfall",
            "name": "Wuxing gauge",
            "region": "wuxing",
            "lat": 30.87,
            "lon": 120.09,
        },
        {
            "id": "rg-2",
            "kind": "rainfall",
            "name": "Nanxun gauge",
            "region": "nanxun",
            "lat": 30.88,
            "lon": 120.42,
        },
        {
            "id": "rg-3",
            "kind": "rainfall",
            "name": "Deqing gauge",
            "region": "deqing",
            "lat": 30.54,
            "lon": 119.96,
        },
    ]
}

EXPECTED_RG1 = [
    ("2026-07-05T05:05:00+08:00", "raised", "yellow", None),
    ("2026-07-05T07:15:00+08:00", "escalated", "orange", "yellow"),
    ("2026-07-05T08:15:00+08:00", "escalated", "red", "orange"),
    ("2026-07-05T12:00:00+08:00", "deescalated", "orange", "red"),
    ("2026-07-05T13:00:00+08:00", "deescalated", "yellow", "orange"),
    ("2026-07-05T15:30:00+08:00", "deescalated", "blue", "yellow"),
]
EXPECTED_SILENCE = [
    ("2026-07-05T00:25:00+08:00", "raised", "rg-2"),
    ("2026-07-05T02:25:00+08:00", "raised", "rg-3"),
    ("2026-07-05T04:00:00+08:00", "cleared", "rg-3"),
]


def rain_rg1(i: int) -> float:
    h = i / 12
    return 0.0 if h < 1 else 1.0 if h < 7 else 5.0 if h < 9 else 9.0 if h < 10 else 0.0


def readings(hours: int = 16) -> list[dict]:
    """The storm in event-time order, as wire-format objects."""
    out = []
    seq = {"rg-1": 0, "rg-3": 0}
    for i in range(hours * 12):
        ts = (START + timedelta(minutes=5 * i)).isoformat()
        for sid, mm in (("rg-1", rain_rg1(i)), ("rg-3", 0.2)):
            if sid == "rg-3" and 2 * 12 <= i < 4 * 12:
                continue
            seq[sid] += 1
            out.append(
                {
                    "sensor_id": sid,
                    "kind": "rainfall",
                    "ts": ts,
                    "seq": seq[sid],
                    "values": {"rain_mm": mm},
                }
            )
    return out


def with_quiet_gauges(n: int, storm: list[dict]) -> tuple[dict, list[dict]]:
    """Return the registry with ``n`` more gauges (anji, 0.1 mm every 5 min) and all readings
    in event-time order; this drizzle (1.2 mm/h) stays below every landslide level, and none
    goes silent."""
    registry = {
        "sensors": [
            *REGISTRY["sensors"],
            *(
                {
                    "id": f"rg-q{k}",
                    "kind": "rainfall",
                    "name": f"Quiet gauge {k}",
                    "region": "anji",
                    "lat": 30.63,
                    "lon": 119.68,
                }
                for k in range(n)
            ),
        ]
    }
    quiet = [
        {
            "sensor_id": f"rg-q{k}",
            "kind": "rainfall",
            "ts": (START + timedelta(minutes=5 * i)).isoformat(),
            "seq": i + 1,
            "values": {"rain_mm": 0.1},
        }
        for i in range(16 * 12)
        for k in range(n)
    ]
    rows = sorted([*storm, *quiet], key=lambda r: r["ts"])  # stable: storm order kept
    return registry, rows


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def labelled_backtest(tmp_path, labels: list[dict], *extra: str, env: dict | None = None):
    """Run ``hazard-warning backtest`` on the storm with these labels through the CLI.

    The storm's registry, readings and labels are written to ``tmp_path``; the output goes to
    ``tmp_path/out.jsonl``. ``extra`` adds options (``--summary F``, ``--report F`` ...).
    """
    from pathlib import Path

    import yaml
    from typer.testing import CliRunner

    from warning.cli import app

    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(REGISTRY))
    write_jsonl(tmp_path / "in.jsonl", readings())
    write_jsonl(tmp_path / "labels.jsonl", labels)
    rules = Path(__file__).parents[2] / "rules"
    args = [
        "backtest",
        "--rules",
        str(rules),
        "--sensors",
        str(tmp_path / "sensors.yaml"),
        "--input",
        str(tmp_path / "in.jsonl"),
        "--output",
        str(tmp_path / "out.jsonl"),
        "--no-progress",
        "--labels",
        str(tmp_path / "labels.jsonl"),
        *extra,
    ]
    return CliRunner().invoke(app, args, env=env)
