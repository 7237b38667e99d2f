"""``hazard-warning rules explain``: terms, verdicts and lifecycle, consistent with the flow."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from warning.app import run_backtest, setup
from warning.authoring.explain import explain, read_readings
from warning.cli import app
from warning.config import Config

ROOT = Path(__file__).parents[2]
TZ = timezone(timedelta(hours=8))
START = datetime(2026, 7, 5, tzinfo=TZ)
runner = CliRunner()

REGISTRY = """sensors:
  - {id: rg-1, kind: rainfall, name: Wuxing gauge, region: wuxing}
  - {id: wl-1, kind: river, name: Linghu, region: nanxun, warning_level_m: 4.5,
     guaranteed_level_m: 5.0, historical_max_m: 5.5}
"""


@pytest.fixture
def files(tmp_path):
    """The rainstorm and falling-river inputs of rules/rainstorm.test.yaml and water_level's."""
    rows = [
        ("rg-1", "rainfall", START + timedelta(minutes=5 * i), {"rain_mm": mm})
        for i, mm in enumerate([5.0] * 20 + [0.0] * 135)
    ]
    rows += [
        ("wl-1", "river", START + timedelta(minutes=15 * i), {"level_m": m})
        for i, m in enumerate([4.55] * 2 + [4.30] * 8 + [4.18] * 12 + [4.10] * 4)
    ]
    rows.sort(key=lambda r: r[2])
    (tmp_path / "in.jsonl").write_text(
        "".join(
            json.dumps({"sensor_id": s, "kind": k, "ts": t.isoformat(), "values": v}) + "\n"
            for s, k, t, v in rows
        )
    )
    (tmp_path / "sensors.yaml").write_text(REGISTRY)
    return tmp_path


def run_explain(files, rule, sensor, at):
    return runner.invoke(
        app,
        [
            "rules",
            "explain",
            rule,
            "--sensor",
            sensor,
            "--at",
            at,
            "--input",
            str(files / "in.jsonl"),
            "--rules",
            str(ROOT / "rules"),
            "--sensors",
            str(files / "sensors.yaml"),
        ],
    )


def test_explain_shows_terms_verdicts_and_the_hold(files):
    # 5 mm every 5 min to +1h35m: at 03:55 only 40 mm remain in 3 h, so yellow is the target,
    # but orange began at 03:00 and its 1 h hold keeps it (rules/rainstorm.test.yaml).
    result = run_explain(files, "rainstorm", "rg-1", "2026-07-05T03:55:00+08:00")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "rainstorm (rainstorm) for rg-1 Wuxing gauge (rainfall, wuxing) at "
        "2026-07-05T03:55:00+08:00",
        "48 readings up to then; the rule was last evaluated at 2026-07-05T03:55:00+08:00, "
        "with these values:",
        # without a forecast, the forecast branch is unknown: the level does not hold
        "  red     unknown   sum(rain_mm, 3h) >= 100 or sum(rain_mm, 2h) + "
        "forecast_sum(rain_mm, 1h) >= 100",
        "            sum(rain_mm, 3h) >= 100 = false",
        "            sum(rain_mm, 3h) = 40",
        "            (sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h)) >= 100 = unknown",
        "            (sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h)) = unknown",
        "            sum(rain_mm, 2h) = 0",
        "            forecast_sum(rain_mm, 1h) = unknown",
        "  orange  unknown   sum(rain_mm, 3h) >= 50 or sum(rain_mm, 2h) + "
        "forecast_sum(rain_mm, 1h) >= 50 or sum(rain_mm, 1h) + forecast_sum(rain_mm, 2h) >= 50",
        "            sum(rain_mm, 3h) >= 50 = false",
        "            sum(rain_mm, 3h) = 40",
        "            (sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h)) >= 50 = unknown",
        "            (sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h)) = unknown",
        "            sum(rain_mm, 2h) = 0",
        "            forecast_sum(rain_mm, 1h) = unknown",
        "            (sum(rain_mm, 1h) + forecast_sum(rain_mm, 2h)) >= 50 = unknown",
        "            (sum(rain_mm, 1h) + forecast_sum(rain_mm, 2h)) = unknown",
        "            sum(rain_mm, 1h) = 0",
        "            forecast_sum(rain_mm, 2h) = unknown",
        "  yellow  holds     sum(rain_mm, 6h) >= 50",
        "            sum(rain_mm, 6h) = 100",
        "  blue    holds     sum(rain_mm, 12h) >= 50",
        "            sum(rain_mm, 12h) = 100",
        "  clear   -         (no clear condition: the warning clears when no level holds)",
        "target: yellow (the highest level that holds)",
        "state: orange since 2026-07-05T03:00:00+08:00, warning rainstorm/rg-1/20260704T164500Z",
        "  hold 1h: stays orange until 2026-07-05T04:00:00+08:00",
        "  held without a break: yellow since 2026-07-05T00:45:00+08:00, blue since "
        "2026-07-05T00:45:00+08:00",
    ]


def test_explain_shows_registry_terms_and_a_clear_condition_that_does_not_hold(files):
    # 4.18 m at 04:30: below the blue line 4.2, above the clear line 4.15: blue stays.
    result = run_explain(files, "water_level", "wl-1", "2026-07-05T04:30:00+08:00")
    lines = result.output.splitlines()
    blue = lines.index(
        "  blue    unknown   level_m >= sensor.warning_level_m - 0.3 or "
        "forecast_max(level_m, 3h) >= sensor.warning_level_m - 0.3"
    )
    assert lines[blue + 1 : blue + 7] == [
        "            level_m >= (sensor.warning_level_m - 0.3) = false",
        "            level_m = 4.18",
        "            (sensor.warning_level_m - 0.3) = 4.2",
        "            sensor.warning_level_m = 4.5",
        "            forecast_max(level_m, 3h) >= (sensor.warning_level_m - 0.3) = unknown",
        "            forecast_max(level_m, 3h) = unknown",
    ]
    assert "  clear   no        level_m < sensor.warning_level_m - 0.35" in lines
    assert "            (sensor.warning_level_m - 0.35) = 4.15" in lines
    assert lines[-3:] == [
        "target: none (the highest level that holds)",
        "state: blue since 2026-07-05T02:00:00+08:00, warning water_level/wl-1/20260704T160000Z",
        "  nothing holds, but the clear condition does not: stays blue until it does",
    ]


def test_explain_agrees_with_the_flow_at_every_event(files):
    # The flow's events are the truth: right after each one, explain must report its level.
    cfg = Config(rules=[str(ROOT / "rules")], sensors=str(files / "sensors.yaml"))
    s = setup(cfg, replay=True)
    run_backtest(s, files / "in.jsonl", files / "out.jsonl")
    events = [json.loads(x) for x in (files / "out.jsonl").read_text().splitlines()]
    rules = {r.id: r for r in s.steps.rules.rules}
    checked = 0
    for ev in events:
        if ev["rule_id"] not in rules:
            continue  # silence warnings come from the silence watch, not the rule state
        at = round(datetime.fromisoformat(ev["ts"]).timestamp() * 1000)
        e = explain(
            rules[ev["rule_id"]],
            ev["subject"],
            at,
            read_readings(files / "in.jsonl", s.settings),
            s.steps.evaluator,
        )
        assert (e.episode.level.colour if e.episode.level else None) == ev.get("level"), ev
        checked += 1
    assert checked == 9  # rainstorm 6, water_level 3


def test_explain_of_a_silence_rule(files):
    result = run_explain(files, "silent_rain_gauge", "rg-1", "2026-07-05T13:40:00+08:00")
    assert result.output.splitlines()[1:] == [
        "155 readings up to then, the last at 2026-07-05T12:50:00+08:00",
        "no data: after 30m the silence warning silent_rain_gauge.no_data (yellow) is raised; "
        "silent 50m at 2026-07-05T13:40:00+08:00: due at 2026-07-05T13:20:00+08:00, raised "
        "once event time passes it",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nosuch", "rg-1", "2026-07-05T04:00:00+08:00"], "nosuch: expected a rule id among "),
        (
            ["water_level", "rg-1", "2026-07-05T04:00:00+08:00"],
            "rule 'water_level' does not watch sensor 'rg-1' (kind rainfall, region wuxing): it is "
            "for reservoir, river",
        ),
        (
            ["rainstorm", "rg-01", "2026-07-05T04:00:00+08:00"],
            "no sensor 'rg-01': neither in the registry nor in the readings up to then",
        ),
        (
            ["rainstorm", "rg-1", "2026-07-05T04:00:00"],
            "--at: expected an RFC 3339 time with an offset, found '2026-07-05T04:00:00'",
        ),
    ],
)
def test_explain_errors(files, args, message):
    result = run_explain(files, *args)
    assert result.exit_code == 1
    assert result.output.startswith(message)
