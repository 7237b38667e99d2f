"""Calibrating landslide thresholds: triggering conditions, the frequentist fit, the CLI."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from warning.authoring.calibrate import (
    Condition,
    Landslide,
    antecedent_rain,
    fit_cumulative,
    fit_thresholds,
    snippet,
    triggering_conditions,
)
from warning.authoring.calibrate_cli import InventoryError, read_inventory
from warning.cli import app
from warning.kinds import kinds_from_config
from warning.rules.load import load_rules

H = 3_600_000


def test_fit_recovers_a_known_power_law_and_its_quantiles():
    # E = 10 D^0.5 with log10 residuals ~ N(0, 0.1): T50 alpha 10, T5 alpha 10 x 10^(-0.1645).
    rng = np.random.default_rng(1)
    d = 10 ** rng.uniform(0, 2, 400)
    e = 10 * d**0.5 * 10 ** rng.normal(0, 0.1, 400)
    conds = [Condition(None, float(x), float(y)) for x, y in zip(e, d, strict=True)]
    fit = fit_thresholds(conds, [0.05, 0.5], bootstrap=200)
    t5, t50 = fit.thresholds
    assert t50.gamma == pytest.approx(0.5, abs=0.02)
    assert t50.alpha == pytest.approx(10, rel=0.05)
    assert t5.alpha == pytest.approx(10 * 10**-0.1645, rel=0.07)
    assert fit.sigma == pytest.approx(0.1, rel=0.15)
    assert 0 < t50.gamma_sd < 0.02 and 0 < t5.alpha_sd < 0.5  # 400 points: tight
    assert t5.id_form == (t5.alpha, t5.gamma - 1)
    # About 5 % of the conditions lie below T5.
    below = sum(c.rain_mm < t5.alpha * c.duration_h**t5.gamma for c in conds)
    assert 8 <= below <= 32


def test_fit_needs_three_conditions_and_probabilities_in_range():
    conds = [Condition(None, 10.0, 2.0), Condition(None, 20.0, 5.0)]
    with pytest.raises(ValueError, match="at least 3 triggering conditions to fit a threshold"):
        fit_thresholds(conds, [0.05])
    with pytest.raises(ValueError, match=r"in \(0, 1\), found 5"):
        fit_thresholds([*conds, Condition(None, 30.0, 9.0)], [5])
    with pytest.raises(ValueError, match="same duration"):
        fit_thresholds([Condition(None, v, 3.0) for v in (1.0, 2.0, 3.0)], [0.05])
    with pytest.raises(ValueError, match="lie on one line"):
        fit_thresholds([Condition(None, 2 * d, d) for d in (1.0, 2.0, 3.0)], [0.05])


def test_triggering_condition_is_the_event_on_or_just_before_the_day():
    # Hourly reports: rain +1h..+3h (20 mm), dry, rain +40h..+41h (4 mm), then dry.
    ts = [i * H for i in range(72)]
    mm = [0.0] * 72
    mm[1:4] = [5.0, 5.0, 10.0]
    mm[40:42] = [2.0, 2.0]
    rain = {"g": (ts, mm)}
    day0 = Landslide("g", 0, 24 * H, 2)  # the first event, 3 h
    day1 = Landslide("g", 24 * H, 48 * H, 3)  # the second event (+39h..+41h), 2 h
    late = Landslide("g", 48 * H, 72 * H, 4)  # the second event ended > 6 h before the day
    conds, skipped = triggering_conditions(rain, [day0, day1, late, Landslide("x", 0, H, 5)], 6 * H)
    assert [(c.landslide.line, c.rain_mm, c.duration_h) for c in conds] == [
        (2, 20.0, 3.0),
        (3, 4.0, 2.0),
    ]
    assert [(ls.line, why) for ls, why in skipped] == [
        (4, "no rain event on the day or within the dry gap before it"),
        (5, "no rain record at the gauge before the day's end"),
    ]
    # Rain after the day's end is left out: a day cut in the middle of the first event.
    cut, _ = triggering_conditions(rain, [Landslide("g", -21 * H, 3 * H, 6)], 6 * H)
    assert [(c.rain_mm, c.duration_h) for c in cut] == [(10.0, 2.0)]


def test_cumulative_fit_is_the_gaussian_of_the_index_p3_plus_b_p15():
    # Hourly 1 mm from +0h to +400h at g; a landslide day ending at +432h: P3 sums the reports
    # of (360h, 432h], 40 mm (dry after +400h), P15 those of (0h, 360h], 360 mm.
    ts = [i * H for i in range(433)]
    mm = [1.0 if i <= 400 else 0.0 for i in range(433)]
    ((ls, p3, p15),) = antecedent_rain({"g": (ts, mm)}, [Landslide("g", 408 * H, 432 * H, 2)])
    assert (p3, p15) == (40.0, 360.0)
    assert antecedent_rain({"g": (ts, mm)}, [Landslide("g", -48 * H, -24 * H, 3)]) == []
    rng = np.random.default_rng(3)
    index = rng.normal(60, 10, 300)
    pts = [(None, float(x) - 0.5 * 20, 20.0) for x in index]  # P3 + 0.5 P15 = x
    (t5, t50), mu, sd = fit_cumulative(pts, [0.05, 0.5], 0.5, bootstrap=100)
    assert mu == pytest.approx(60, abs=1.5) and sd == pytest.approx(10, rel=0.15)
    assert t5.intercept_mm == pytest.approx(mu - 1.6449 * sd, rel=1e-4)
    assert t50.intercept_mm == pytest.approx(mu) and 0 < t50.intercept_sd < 2
    with pytest.raises(ValueError, match="at least 3 landslides with rain records, found 1"):
        fit_cumulative(pts[:1], [0.05], 0.5)


def test_snippet_is_a_valid_rule_file_with_its_provenance(tmp_path):
    conds = [
        Condition(None, 10 * d**0.5 * f, d)
        for d, f in [(2, 1.1), (5, 0.9), (10, 1.2), (20, 0.8), (40, 1.05)]
    ]
    fit = fit_thresholds(conds, [0.05, 0.2], bootstrap=20)
    text = snippet(
        fit,
        {"blue": 0.05, "yellow": 0.2},
        "ls_cal",
        ["anji"],
        48,
        ["5 landslides of inv.csv", "second line"],
    )
    path = tmp_path / "cal.yaml"
    path.write_text(text)
    (rule,) = load_rules([path], kinds_from_config(None)).rules
    assert rule.id == "ls_cal" and rule.hazard == "landslide" and rule.regions == {"anji"}
    assert [lv.name.lower() for lv, _ in rule.levels] == ["yellow", "blue"]
    assert text.startswith("# 5 landslides of inv.csv\n# second line\n")
    a, b = fit.thresholds[0].id_form
    assert f"id_exceedance(rain_mm, {a:.4g}, {b:.4g}, 48h) >= 1" in text


def test_inventory_errors_name_the_file_and_line(tmp_path):
    p = tmp_path / "inv.csv"
    p.write_text("date,place\n2011-01-01,x\n")
    with pytest.raises(InventoryError, match=r"inv.csv:1: expected columns .* missing sensor_id"):
        read_inventory(p, lambda sid: UTC)
    p.write_text("date,sensor_id\n2011-01-01,g\n2011-13-01,g\n")
    with pytest.raises(InventoryError, match=r"inv.csv:3: date: expected YYYY-MM-DD"):
        read_inventory(p, lambda sid: UTC)
    p.write_text("date,sensor_id\n2011-01-01,\n")
    with pytest.raises(InventoryError, match=r"inv.csv:2: sensor_id: expected a gauge id"):
        read_inventory(p, lambda sid: UTC)
    p.write_text("date,sensor_id\n")
    with pytest.raises(InventoryError, match=r"inv.csv:1: expected at least one landslide"):
        read_inventory(p, lambda sid: UTC)
    # A date is the gauge's local day; an RFC 3339 time picks its local day.
    tz = timezone(timedelta(hours=8))
    p.write_text("date,sensor_id,place\n2026-07-05,g,Anji\n2026-07-05T20:00:00Z,g,\n")
    a, b = read_inventory(p, lambda sid: tz)
    start = datetime(2026, 7, 5, tzinfo=tz).timestamp() * 1000
    assert (a.start_ms, a.end_ms, a.place, a.line) == (start, start + 24 * H, "Anji", 2)
    assert b.start_ms == start + 24 * H  # 20:00Z is 04:00 the next day at +08:00


def _records(tmp_path: Path) -> tuple[Path, Path, int]:
    """60 days of hourly rain at 2 gauges: a storm every 5 days, growing; landslides on g1."""
    t0 = datetime(2026, 6, 1, tzinfo=UTC)
    rows, landslides = [], []
    for hour in range(60 * 24):
        day, h = divmod(hour, 24)
        storm = day % 5 == 0 and 6 <= h < 6 + 4 + day // 5
        for sid in ("g1", "g2"):
            mm = (2.0 + day / 10) * (1 + 0.3 * math.sin(day)) if storm else 0.0
            rows.append(
                {
                    "sensor_id": sid,
                    "kind": "rainfall",
                    "ts": (t0 + timedelta(hours=hour)).isoformat(),
                    "values": {"rain_mm": mm},
                }
            )
    for day in range(0, 60, 5):
        if day >= 30:  # the bigger storms of the second month trigger landslides at g1
            landslides.append(f"{(t0 + timedelta(days=day)).date()},g1,slope {day}")
    (tmp_path / "rain.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "inv.csv").write_text("date,sensor_id,place\n" + "\n".join(landslides) + "\n")
    (tmp_path / "sensors.yaml").write_text(
        "sensors:\n  - {id: g1, kind: rainfall, region: hills, tz: UTC}\n"
        "  - {id: g2, kind: rainfall, region: hills, tz: UTC}\n"
    )
    return tmp_path / "rain.jsonl", tmp_path / "inv.csv", len(landslides)


def test_calibrate_cli_fits_scores_and_writes_a_rule(tmp_path):
    rain, inv, n = _records(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "calibrate",
            "--input",
            str(rain),
            "--inventory",
            str(inv),
            "--sensors",
            str(tmp_path / "sensors.yaml"),
            "--output",
            str(tmp_path / "cal.yaml"),
            "--summary",
            str(tmp_path / "cal.json"),
            "--bootstrap",
            "50",
            "--level",
            "blue=5",
            "--level",
            "orange=50",
        ],
    )
    assert result.exit_code == 0, result.output
    rules = load_rules([tmp_path / "cal.yaml"], kinds_from_config(None)).rules
    assert [r.id for r in rules] == [
        "landslide_rain_calibrated",
        "landslide_rain_calibrated_cumulative",
    ]
    assert all(r.regions == {"hills"} for r in rules)
    doc = json.loads((tmp_path / "cal.json").read_text())
    assert len(doc["conditions"]) == len(doc["cumulative"]["points"]) == n == 6
    blue, orange, cum_blue, cum_orange = doc["levels"]
    assert [r["rule"] for r in doc["levels"]] == ["landslide_rain_calibrated"] * 2 + [
        "landslide_rain_calibrated_cumulative"
    ] * 2
    cum5, cum50 = doc["cumulative"]["thresholds"]
    assert cum5["intercept_mm"] < cum50["intercept_mm"] and cum5["slope"] == 0.67
    for row in (blue, orange, cum_blue, cum_orange):
        assert row["hits"] + row["misses"] == n
        # Only g1 (the inventory's gauge) is scored: 60 days less the last hour.
        assert row["gauge_years"] == pytest.approx((60 * 24 - 1) / 24 / 365.25, abs=1e-3)
        assert row["false_alarms_per_gauge_year"] == pytest.approx(
            row["false_alarms"] / row["gauge_years"], rel=0.01
        )
    # The 5 % threshold lies below nearly every triggering storm: all are hit. The first
    # month's smaller storms at g1 had no landslide: some of them are false alarms at blue.
    assert blue["hits"] == n and blue["false_alarms"] >= 1
    assert orange["hits"] <= blue["hits"] and orange["false_alarms"] <= blue["false_alarms"]
    t5, t50 = doc["thresholds"]
    assert t5["alpha"] < t50["alpha"] and math.isclose(t5["gamma"], t50["gamma"])
    assert "rule snippet ->" in result.output and "P3-P15" in result.output


def test_calibrate_cli_reports_a_bad_inventory_line_and_writes_nothing(tmp_path):
    rain, inv, _ = _records(tmp_path)
    inv.write_text("date,sensor_id\n2026-07-01,g1\nyesterday,g1\n")
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "calibrate",
            "--input",
            str(rain),
            "--inventory",
            str(inv),
            "--output",
            str(tmp_path / "cal.yaml"),
        ],
    )
    assert result.exit_code == 1
    assert (
        "inv.csv:3: date: expected YYYY-MM-DD or an RFC 3339 time, found 'yesterday'"
        in result.output
    )
    assert not (tmp_path / "cal.yaml").exists()


def test_calibrate_cli_refuses_bad_levels(tmp_path):
    rain, inv, _ = _records(tmp_path)
    base = [
        "rules",
        "calibrate",
        "--input",
        str(rain),
        "--inventory",
        str(inv),
        "--output",
        str(tmp_path / "cal.yaml"),
    ]
    for bad in (
        ["--level", "purple=5"],
        ["--level", "blue=0"],
        ["--level", "blue=50", "--level", "red=5"],
    ):
        result = CliRunner().invoke(app, [*base, *bad])
        assert result.exit_code == 2, bad
        assert "--level" in result.output


def test_calibrate_from_influx_equals_calibrate_from_file(tmp_path, influxdb):
    import time

    from warning.config import Influx
    from warning.pipeline.parse import default_settings, parse_message
    from warning.records import RawMessage
    from warning.sinks.lineproto import reading_line
    from warning.sinks.writers import V1Writer

    rain, inv, _ = _records(tmp_path)
    settings = default_settings()
    lines = [
        reading_line(parse_message(RawMessage("", line.encode(), time.time()), settings))
        for line in rain.read_text().splitlines()
    ]
    V1Writer(Influx(url=influxdb.url, database=influxdb.db)).write("\n".join(lines).encode())
    common = [
        "rules",
        "calibrate",
        "--inventory",
        str(inv),
        "--sensors",
        str(tmp_path / "sensors.yaml"),
        "--bootstrap",
        "20",
    ]
    runner = CliRunner()
    from_file = runner.invoke(
        app,
        [
            *common,
            "--input",
            str(rain),
            "--output",
            str(tmp_path / "file.yaml"),
            "--summary",
            str(tmp_path / "file.json"),
        ],
    )
    assert from_file.exit_code == 0, from_file.output
    from_db = runner.invoke(
        app,
        [
            *common,
            "--from-influx",
            influxdb.url,
            "--influx-db",
            influxdb.db,
            "--start",
            "2026-06-01T00:00:00Z",
            "--end",
            "2026-08-01T00:00:00Z",
            "--output",
            str(tmp_path / "db.yaml"),
            "--summary",
            str(tmp_path / "db.json"),
        ],
    )
    assert from_db.exit_code == 0, from_db.output
    assert f"{len(lines)} readings read from {influxdb.url}" in from_db.output
    file_doc = json.loads((tmp_path / "file.json").read_text())
    db_doc = json.loads((tmp_path / "db.json").read_text())
    assert db_doc == file_doc
