"""Forecast input: wire format, dead letters, newest issue wins, expected -> confirmed warnings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.support import storm
from warning.app import run_backtest, setup
from warning.cli import app
from warning.config import Config
from warning.kinds import BUILTIN_KINDS
from warning.metrics import Metrics
from warning.notify.cap.alert import CapSettings, certainty, urgency
from warning.pipeline.evaluate import Evaluator, SensorState
from warning.pipeline.parse import ParseSettings, parse_forecast
from warning.records import Forecast, RawMessage, Rejected
from warning.registry import Registry
from warning.rules.forecasts import Track, forecast_at, forecast_max, forecast_sum, take
from warning.rules.load import RuleSet

TZ = timezone(timedelta(hours=8))
T0 = datetime(2026, 7, 5, tzinfo=TZ)
H = 3_600_000
REGISTRY = Registry({"rg-1": {"kind": "rainfall", "region": "wuxing"}})
SETTINGS = ParseSettings(REGISTRY, BUILTIN_KINDS, max_future_ms=None)
TOPIC = "hazard/forecasts/wuxing/rainfall/rg-1"
RULES = """rules:
  - id: rain_ahead
    hazard: rainstorm
    for_kind: rainfall
    levels:
      orange: "sum(rain_mm, 3h) >= 50 or sum(rain_mm, 1h) + forecast_sum(rain_mm, 2h) >= 50"
    hold: 1h
"""


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def qpf(issued: float, amounts: list[float], **extra) -> dict:
    return {
        "sensor_id": "rg-1",
        "kind": "rainfall",
        "issuer": "zj-qpf",
        "issued": at(issued),
        "series": [
            {"valid": at(issued + i + 1), "values": {"rain_mm": a}} for i, a in enumerate(amounts)
        ],
        **extra,
    }


def test_a_forecast_parses_into_valid_times_and_columns():
    f = parse_forecast(RawMessage(TOPIC, json.dumps(qpf(6, [12, 60, 60])).encode(), 0), SETTINGS)
    assert isinstance(f, Forecast)
    assert (f.sensor_id, f.region, f.issuer) == ("rg-1", "wuxing", "zj-qpf")
    issued = round((T0 + timedelta(hours=6)).timestamp() * 1000)
    assert f.valid == (issued + H, issued + 2 * H, issued + 3 * H)
    assert f.values == {"rain_mm": (12.0, 60.0, 60.0)}
    assert f.expires == issued + 6 * H  # pipeline.forecast_max_age


def _bad(**change) -> dict:
    obj = qpf(6, [12, 60])
    for key, value in change.items():
        if value is None:
            obj.pop(key)
        else:
            obj[key] = value
    return obj


MALFORMED = [
    (_bad(series=None), "missing_field", "required key 'series'"),
    (_bad(series=[]), "bad_series", "non-empty list"),
    (_bad(series=[{"valid": at(7)}]), "bad_series", "series[0] must be an object"),
    (
        _bad(
            series=[
                {"valid": at(8), "values": {"rain_mm": 1}},
                {"valid": at(7), "values": {"rain_mm": 1}},
            ]
        ),
        "bad_series",
        "series[1]: valid time",
    ),
    (_bad(series=[{"valid": at(5), "values": {"rain_mm": 1}}]), "bad_series", "after the issue"),
    (
        _bad(series=[{"valid": at(7), "values": {"rain_mm": -3}}]),
        "out_of_range",
        "series[0]: rain_mm=-3",
    ),
    (_bad(series=[{"valid": at(7), "values": {"level_m": 3}}]), "unknown_field", "series[0]"),
    (_bad(series=[{"valid": "soon", "values": {"rain_mm": 1}}]), "bad_timestamp", "series[0]"),
    (_bad(issued="yesterday"), "bad_timestamp", "'yesterday'"),
    (_bad(expires=at(5)), "bad_timestamp", "not after issued"),
    (_bad(issuer="a b"), "bad_id", "issuer"),
    (_bad(sensor_id="rg-9"), "unknown_sensor", "rg-9"),
    (_bad(colour="red"), "unknown_field", "colour"),
]


@pytest.mark.parametrize(("obj", "reason", "detail"), MALFORMED)
def test_malformed_forecasts_are_rejected_with_a_reason(obj, reason, detail):
    topic = TOPIC if obj["sensor_id"] == "rg-1" else "hazard/forecasts/wuxing/rainfall/rg-9"
    r = parse_forecast(RawMessage(topic, json.dumps(obj).encode(), 0), SETTINGS)
    assert isinstance(r, Rejected)
    assert r.reason == reason and detail in r.detail, r.detail


def test_forecast_topic_must_match_the_payload():
    r = parse_forecast(
        RawMessage("hazard/forecasts/wuxing/rainfall/rg-2", json.dumps(qpf(6, [1])).encode(), 0),
        SETTINGS,
    )
    assert isinstance(r, Rejected) and r.reason == "topic_mismatch"
    r = parse_forecast(
        RawMessage("hazard/readings/wuxing/rainfall/rg-1", json.dumps(qpf(6, [1])).encode(), 0),
        SETTINGS,
    )
    assert isinstance(r, Rejected) and "hazard/forecasts/REGION/KIND/ID" in r.detail


def fc(issued: int, expires: int, values: tuple[float, ...] = (1.0,)) -> Forecast:
    return Forecast(
        "rg-1",
        "rainfall",
        "wuxing",
        "qpf",
        issued,
        expires,
        tuple(issued + (i + 1) * H for i in range(len(values))),
        {"rain_mm": values},
    )


def test_newest_issue_wins_and_stale_forecasts_are_refused():
    held: dict[str, Track] = {}
    assert take(held, fc(2 * H, 8 * H, (5.0,)), None) is None
    assert take(held, fc(1 * H, 8 * H, (9.0,)), None) == "superseded_forecast"
    assert held["rain_mm"].values == (5.0,)
    assert take(held, fc(2 * H, 8 * H, (6.0,)), None) is None  # same issue: a correction
    assert held["rain_mm"].values == (6.0,)
    assert take(held, fc(3 * H, 4 * H), 5 * H) == "stale_forecast"


def test_the_evaluator_dead_letters_superseded_forecasts_with_the_reason():
    ev = Evaluator(RuleSet(()), REGISTRY, 300_000)
    state = SensorState()
    assert ev.take_forecast(state, fc(2 * H, 8 * H)).forecast is not None
    out = ev.take_forecast(state, fc(H, 8 * H))
    assert out.forecast is None and out.rejected is not None
    assert out.rejected.reason == "superseded_forecast" and out.rejected.sensor_id == "rg-1"


def test_forecast_values_over_the_window_ahead():
    t = Track("qpf", 0, 10 * H, (H, 2 * H, 3 * H), (12.0, 60.0, 30.0))
    assert forecast_sum(t, 0, 2 * H) == 72.0
    assert forecast_sum(t, H // 2, 2 * H) == 6.0 + 60.0 + 15.0  # pro-rated at both ends
    assert forecast_sum(t, 2 * H, 2 * H) is None  # the forecast does not reach that far
    assert forecast_max(t, 0, 2 * H) == 60.0
    assert forecast_at(t, 0, 3 * H // 2) == 36.0
    assert forecast_at(t, 11 * H, H) is None  # expired


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_backtest_with_forecasts_warns_expected_then_confirms_in_one_episode(tmp_path):
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(storm.REGISTRY))
    (tmp_path / "rules.yaml").write_text(RULES)
    storm.write_jsonl(tmp_path / "in.jsonl", storm.readings())
    # rg-1 gets 12 mm/h to 07:00, then 60 mm/h: the 06:00 issue sees the burst coming
    fcs = write_jsonl(
        tmp_path / "fc.jsonl",
        [
            qpf(6, [12, 60, 60, 0, 0, 0]),
            {
                "sensor_id": "rg-1",
                "kind": "rainfall",
                "issuer": "zj-qpf",
                "issued": at(6),
                "series": [],
            },
        ],
    )
    cfg = Config(rules=[str(tmp_path / "rules.yaml")], sensors=str(tmp_path / "sensors.yaml"))
    s = setup(cfg, Metrics())
    out, rej = tmp_path / "out.jsonl", tmp_path / "rej.jsonl"
    run_backtest(s, tmp_path / "in.jsonl", out, rej, forecasts=fcs)
    events = [json.loads(x) for x in out.read_text().splitlines()]
    mine = [
        (e["ts"], e["event"], e.get("level"), e["certainty"])
        for e in events
        if e["rule_id"] == "rain_ahead"
    ]
    # 06:00 (the issue, delivered before that reading): 12 mm in the last hour + 12 + 60 mm
    # forecast in the next 2 h >= 50;
    # 07:15: 52 mm observed in 3 h: the same warning, now observed
    assert mine[:2] == [
        ("2026-07-05T06:00:00+08:00", "raised", "orange", "Likely"),
        ("2026-07-05T07:15:00+08:00", "confirmed", "orange", "Observed"),
    ]
    raised, confirmed = (
        e for e in events if e["rule_id"] == "rain_ahead" and e["event"] in ("raised", "confirmed")
    )
    assert raised["warning_id"] == confirmed["warning_id"]
    assert raised["message"].startswith("Expected to reach orange within 2 h: ")
    assert raised["values"]["forecast_sum_rain_mm_2h"] == pytest.approx(72.0)
    dead = [json.loads(x) for x in rej.read_text().splitlines()]
    assert [d["reason"] for d in dead] == ["bad_series"]
    m = s.metrics.registry
    assert m.get_sample_value("hazard_readings_rejected_total", {"reason": "bad_series"}) == 1
    assert m.get_sample_value("hazard_forecasts_accepted_total", {"kind": "rainfall"}) == 1


def test_without_forecasts_the_same_rule_warns_only_when_observed(tmp_path):
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(storm.REGISTRY))
    (tmp_path / "rules.yaml").write_text(RULES)
    storm.write_jsonl(tmp_path / "in.jsonl", storm.readings())
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--rules",
            str(tmp_path / "rules.yaml"),
            "--sensors",
            str(tmp_path / "sensors.yaml"),
            "--input",
            str(tmp_path / "in.jsonl"),
            "--output",
            str(tmp_path / "out.jsonl"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert (first["ts"], first["event"], first["certainty"]) == (
        "2026-07-05T07:15:00+08:00",
        "raised",
        "Observed",
    )


def test_cap_marks_an_expected_level_expected_and_likely():
    from warning.records import Level, WarningEvent

    e = WarningEvent(
        "w",
        "raised",
        "rain_ahead",
        "rainstorm",
        Level.ORANGE,
        None,
        "rg-1",
        "wuxing",
        0,
        certainty="Likely",
    )
    assert (urgency(e, CapSettings()), certainty(e, CapSettings())) == ("Expected", "Likely")
    seen = WarningEvent(
        "w", "confirmed", "rain_ahead", "rainstorm", Level.ORANGE, Level.ORANGE, "rg-1", "wuxing", 0
    )
    assert (urgency(seen, CapSettings()), certainty(seen, CapSettings())) == (
        "Immediate",
        "Observed",
    )


def test_ingest_routes_the_forecasts_topic_to_the_forecast_parser():
    from warning.pipeline.ingest import Ingest

    ingest = Ingest(SETTINGS, 300_000, 60_000)
    reading = {"sensor_id": "rg-1", "kind": "rainfall", "ts": at(6), "values": {"rain_mm": 1}}
    out = ingest.take(
        [
            RawMessage(TOPIC, json.dumps(qpf(6, [1, 2])).encode(), 0),
            RawMessage("hazard/readings/wuxing/rainfall/rg-1", json.dumps(reading).encode(), 0),
        ]
    )
    assert [type(x).__name__ for x in out[:2]] == ["Forecast", "Reading"]
    assert ingest.watermark.newest == out[1].ts  # a forecast's issue time is no event time
