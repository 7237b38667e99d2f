"""Lead time and FAR per level of observed-only, forecast-driven and nowcast-driven rules.

Usage: ``python scripts/lead_time.py DIR`` (DIR outside the repository: data and models go
there). Generates the typhoon and meiyu scenarios with labels and simulated forecasts (realistic
errors, and perfect ones), a 92-day season, trains nowcasts on the season (unless DIR/nowcast
exists), backtests the shipped rules four ways and prints the table of docs/QUALITY.md.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from warning.app import run_backtest, setup
from warning.authoring.score import format_lead, format_ratio, read_events, read_labels, score
from warning.config import Config
from warning.metrics import Metrics

ROOT = Path(__file__).parents[1]
ROWS = (("flood", "yellow"), ("flood", "orange"), ("rainstorm", "orange"), ("rainstorm", "red"))


def sh(*args: str) -> None:
    """Run a command, failing loudly."""
    subprocess.run([sys.executable, *args], check=True, cwd=ROOT)


def nowcast_rules(out: Path, observed_only: bool = False) -> Path:
    """The shipped rules with the water rules on nowcasts (or observed only), no forecasts."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(ROOT / "rules", out, ignore=shutil.ignore_patterns("*.test.yaml"))
    water = (out / "water_level.yaml").read_text(encoding="utf-8")
    water = (
        re.sub(r" or forecast_max\(level_m, \dh\) >=? sensor\.[a-z_]+( [-+] [0-9.]+)?", "", water)
        if observed_only
        else water.replace("forecast_max(", "predicted(")
    )
    (out / "water_level.yaml").write_text(water, encoding="utf-8")
    rain = (out / "rainstorm.yaml").read_text(encoding="utf-8")
    for branch in (
        " or sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h) >= 100",
        " or sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h) >= 50",
        " or sum(rain_mm, 1h) + forecast_sum(rain_mm, 2h) >= 50",
    ):
        rain = rain.replace(branch, "")
    (out / "rainstorm.yaml").write_text(rain, encoding="utf-8")
    return out


def run(d: Path, scenario: str, rules: Path, forecasts: str | None, nowcast: Path | None) -> dict:
    """Backtest one way; return the score rows."""
    cfg = Config(rules=[str(rules)], sensors=str(d / f"{scenario}.sensors.yaml"))
    if nowcast is not None:
        cfg.pipeline.nowcast_model = str(nowcast)
    s = setup(cfg, Metrics())
    out = d / f"{scenario}.events.jsonl"
    fc = d / f"{scenario}.{forecasts}.jsonl" if forecasts else None
    run_backtest(s, d / f"{scenario}.jsonl", out, forecasts=fc)
    return score(read_labels(d / f"{scenario}.labels.jsonl"), read_events(out)).rows


def main(d: Path) -> None:
    """Generate, train, backtest, print."""
    d.mkdir(parents=True, exist_ok=True)
    for sc in ("typhoon", "meiyu"):
        sh(
            "-m",
            "sensors_sim",
            "generate",
            "--scenario",
            sc,
            "--output",
            str(d / f"{sc}.jsonl"),
            "--registry",
            str(d / f"{sc}.sensors.yaml"),
            "--labels",
            str(d / f"{sc}.labels.jsonl"),
            "--forecasts",
            str(d / f"{sc}.fc.jsonl"),
        )
        sh(
            "-m",
            "sensors_sim",
            "generate",
            "--scenario",
            sc,
            "--output",
            str(d / "tmp.jsonl"),
            "--forecasts",
            str(d / f"{sc}.fcp.jsonl"),
            "--perfect-forecasts",
        )
    model = d / "nowcast"
    if not model.exists():
        sh(
            "-m",
            "sensors_sim",
            "season",
            "--days",
            "92",
            "--output",
            str(d / "season.jsonl"),
            "--registry",
            str(d / "season.sensors.yaml"),
        )
        sh(
            "-m",
            "warning",
            "forecast",
            "train",
            "--input",
            str(d / "season.jsonl"),
            "--sensors",
            str(d / "season.sensors.yaml"),
            "--model",
            str(model),
        )
    nowcast_rules(d / "rules_observed", observed_only=True)  # for --baseline-rules
    ways = {
        "observed-only": (ROOT / "rules", None, None),
        "forecast-driven (realistic forecasts)": (ROOT / "rules", "fc", None),
        "forecast-driven (perfect forecasts)": (ROOT / "rules", "fcp", None),
        "nowcast-driven (no forecasts)": (nowcast_rules(d / "rules_nowcast"), None, model),
    }
    print("| rules | scenario | " + " | ".join(f"{h} >={lv}" for h, lv in ROWS) + " |")
    print("|---|---|" + "---|" * len(ROWS))
    results = {}
    for name, (rules, fc, nc) in ways.items():
        for sc in ("typhoon", "meiyu"):
            rows = run(d, sc, rules, fc, nc)
            cells = []
            for hazard, level in ROWS:
                r = rows.get(hazard, {}).get(level)
                if r is None or not (r.hits or r.misses or r.false_alarms):
                    cells.append("no labels, no warnings")
                    continue
                cells.append(
                    f"med {format_lead(r.median_lead_s)}, p10 "
                    f"{format_lead(r.p10_lead_s)}, worst {format_lead(r.worst_lead_s)}; "
                    f"FAR {format_ratio(r.far)} ({r.hits} hits, {r.misses} misses, "
                    f"{r.false_alarms} FA)"
                )
                results[f"{name}/{sc}/{hazard}/{level}"] = r.to_dict()
            print(f"| {name} | {sc} | " + " | ".join(cells) + " |")
    (d / "lead_time.json").write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
