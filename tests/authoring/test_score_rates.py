"""False alarms per sensor-year: the watched sensor-time per hazard, the rates, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import storm
from warning.authoring.score import Label, score
from warning.authoring.score_rates import YEAR_MS, false_alarm_rates, sensor_spans, sensor_years
from warning.kinds import kinds_from_config
from warning.records import Reading
from warning.rules.load import load_rules

ROOT = Path(__file__).parents[2]
H = 3_600_000
YEAR = int(YEAR_MS)


def test_spans_and_years_count_only_the_sensors_a_hazards_rules_watch():
    readings = [Reading("rg-aj", "rainfall", "anji", t, {"rain_mm": 0.0}) for t in (YEAR, 0)]
    readings += [Reading("rg-wx", "rainfall", "wuxing", t, {"rain_mm": 0.0}) for t in (0, YEAR)]
    readings += [Reading("wl-1", "water_level", "wuxing", 0, {"level_m": 1.0})]
    spans = sensor_spans(readings)
    assert spans["rg-aj"] == ("rainfall", "anji", 0, YEAR)
    rules = load_rules([ROOT / "rules"], kinds_from_config(None)).rules
    years = sensor_years(spans, rules)
    assert years["landslide"] == pytest.approx(1.0)  # the hill-county gauge only
    assert years["rainstorm"] == pytest.approx(2.0)  # every rain gauge
    assert years["flood"] == 0.0  # wl-1 reported once: no span


def _episode(wid: str, subject: str, start_h: float, levels: list[str], end_h: float) -> list:
    t = "2026-07-05T{:02d}:00:00+08:00"
    events = [
        {
            "warning_id": wid,
            "rule_id": "landslide_rain",
            "hazard": "landslide",
            "subject": subject,
            "event": "raised" if i == 0 else "escalated",
            "level": lv,
            "ts": t.format(int(start_h) + i),
        }
        for i, lv in enumerate(levels)
    ]
    return [
        *events,
        {
            "warning_id": wid,
            "rule_id": "landslide_rain",
            "hazard": "landslide",
            "subject": subject,
            "event": "cleared",
            "ts": t.format(int(end_h)),
        },
    ]


def test_rates_divide_each_rows_false_alarms_by_the_hazards_sensor_years():
    # One labelled landslide on g1 hit by episode A; B (blue) and C (blue then yellow) are
    # false alarms: 2 at >= blue, 1 at >= yellow, over 0.5 sensor-years.
    labels = [Label("g1", "landslide", 1_783_180_800_000, 1_783_184_400_000, 2)]
    events = (
        _episode("A", "g1", 0, ["yellow"], 5)
        + _episode("B", "g2", 1, ["blue"], 3)
        + _episode("C", "g2", 6, ["blue", "yellow"], 9)
    )
    s = score(labels, events, tolerance_ms=0)
    rates = false_alarm_rates(s, {"landslide": 0.5})
    assert rates == {
        "landslide": {
            "sensor_years": 0.5,
            "per_sensor_year": {"all": 4.0, "blue": 4.0, "yellow": 2.0, "orange": 0.0, "red": 0.0},
        }
    }
    assert false_alarm_rates(s, {})["landslide"]["per_sensor_year"]["all"] is None


def test_backtest_summary_and_table_have_false_alarms_per_sensor_year(tmp_path):
    # A rainstorm label on rg-3 that nothing warns: its quiet day is no false alarm either.
    label = {
        "subject": "rg-3",
        "hazard": "rainstorm",
        "onset": "2026-07-05T07:00:00+08:00",
        "end": "2026-07-05T10:00:00+08:00",
        "level": "yellow",
    }
    result = storm.labelled_backtest(tmp_path, [label], "--summary", str(tmp_path / "summary.json"))
    assert result.exit_code == 0, result.output
    rates = json.loads((tmp_path / "summary.json").read_text())["false_alarms_per_sensor_year"]
    # rg-1 and rg-3 report from 00:00 to 15:55 (rg-2 never): 2 x 955 min of rainstorm watch.
    years = 2 * 955 * 60_000 / YEAR_MS
    assert rates["rainstorm"]["sensor_years"] == pytest.approx(years, abs=1e-4)
    # rg-1's storm episode is unlabelled: one false alarm in every row up to red.
    assert rates["rainstorm"]["per_sensor_year"]["red"] == pytest.approx(1 / years, rel=1e-3)
    assert "false alarms per sensor-year" in result.output
