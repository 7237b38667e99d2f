"""Sensors that disappear do not hold memory forever: the state TTL, in event time.

Semantics: a sensor unheard for ``pipeline.state_ttl`` (event time, as the watermark ticks say)
gets one ``Expire`` from its silence shard. Its per-sensor state (windows, dedupe memory, seq,
daily FWI) is then dropped unless a warning of it is raised or pending, which must still step
down or clear when the sensor reports again. The silence shard forgets an unregistered sensor at
the same time unless one of its silence warnings is active; registered sensors stay known
(they are silent from the start otherwise). A sensor that comes back starts afresh.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from warning.app import for_files, run_backtest, setup
from warning.config import Config, Pipeline
from warning.metrics import Metrics
from warning.pipeline.evaluate import SensorState, may_expire
from warning.pipeline.nodata import Expire, NoDataWatch, ShardState
from warning.pipeline.steps import Steps
from warning.records import Reading, Seen, Tick
from warning.registry import Registry
from warning.rules.load import RuleSet, load_rules
from warning.yamlfile import ConfigError

H = 3_600_000
ROOT = Path(__file__).parents[2]


def _rules(tmp_path, text: str) -> RuleSet:
    (tmp_path / "r.yaml").write_text(text)
    return load_rules([tmp_path / "r.yaml"])


QUIET_RULES = """
rules:
  - id: wet
    hazard: rainstorm
    for_kind: rainfall
    levels: {yellow: "sum(rain_mm, 1h) >= 10"}
"""
SILENCE_RULES = (
    QUIET_RULES
    + """
  - id: silent
    hazard: sensor_silence
    for_kind: rainfall
    no_data: 30m
"""
)


def test_shard_expires_once_and_forgets_unregistered_sensors(tmp_path):
    reg = Registry({"rg-reg": {"id": "rg-reg", "kind": "rainfall", "region": "r"}}, True)
    watch = NoDataWatch(_rules(tmp_path, QUIET_RULES), reg, shards=1, state_ttl_ms=2 * H)
    state = watch.new_state("silence-00")
    watch.observe(state, Seen("rg-x", "rainfall", "r", 0))
    watch.observe(state, Seen("rg-reg", "rainfall", "r", 0))
    assert watch.observe(state, Tick(2 * H - 1)) == []
    out = watch.observe(state, Tick(2 * H))
    assert sorted(out, key=lambda e: e.sensor_id) == [
        Expire("rg-reg", "rainfall", "r", 0),
        Expire("rg-x", "rainfall", "r", 0),
    ]
    assert set(state.sensors) == {"rg-reg"}  # the registered one stays known
    assert watch.observe(state, Tick(3 * H)) == []  # once per silence
    watch.observe(state, Seen("rg-reg", "rainfall", "r", 4 * H))
    assert watch.observe(state, Tick(6 * H)) == [Expire("rg-reg", "rainfall", "r", 4 * H)]


def test_shard_keeps_a_sensor_whose_silence_warning_is_active(tmp_path):
    watch = NoDataWatch(
        _rules(tmp_path, SILENCE_RULES), Registry({}, True), shards=1, state_ttl_ms=2 * H
    )
    state = ShardState()
    watch.observe(state, Seen("rg-x", "rainfall", "r", 0))
    out = watch.observe(state, Tick(5 * H))  # one big step: raised and expired together
    assert [getattr(e, "event", "expire") for e in out] == ["raised", "expire"]
    assert "rg-x" in state.sensors
    back = watch.observe(state, Seen("rg-x", "rainfall", "r", 6 * H))
    assert [e.event for e in back] == ["cleared"]


@pytest.mark.parametrize(
    ("watermark", "episodes", "drop"),
    [
        (0, {}, True),  # unheard since the cutoff, nothing active: drop
        (H, {}, False),  # a reading came after the shard decided: keep
        (0, {"wet": "an episode"}, False),  # a warning raised or pending: keep
    ],
)
def test_state_drops_only_when_quiet(watermark, episodes, drop):
    state = SensorState(watermark=watermark, episodes=dict(episodes))
    assert may_expire(state, Expire("rg-x", "rainfall", "r", 0)) is drop


def test_engine_drops_state_and_counts(tmp_path):
    m = Metrics()
    engine = Steps(
        _rules(tmp_path, QUIET_RULES), Registry({}, True), 300_000, m, state_ttl_ms=2 * H
    )
    state, _ = engine.evaluate(None, Reading("rg-x", "rainfall", "r", 0, {"rain_mm": 1.0}))
    assert engine.evaluate(state, Expire("rg-x", "rainfall", "r", 0))[0] is None
    assert m.states_expired._value.get() == 1
    wet, _ = engine.evaluate(None, Reading("rg-y", "rainfall", "r", 0, {"rain_mm": 20.0}))
    assert wet.episodes and engine.evaluate(wet, Expire("rg-y", "rainfall", "r", 0))[0] is wet


def test_ttl_must_outlast_the_rules():
    cfg = for_files(Config(pipeline=Pipeline(state_ttl="12h")), [ROOT / "rules"], None)
    with pytest.raises(ConfigError, match="pipeline.state_ttl: expected a duration over"):
        setup(cfg)


def _reading(sid: str, ts_s: int, seq: int) -> dict:
    return {
        "sensor_id": sid,
        "kind": "rainfall",
        "ts": ts_s,
        "seq": seq,
        "values": {"rain_mm": 0.1},
    }


def test_backtest_drops_a_vanished_sensor_and_clears_silence_on_return(tmp_path):
    """Shipped rules, TTL 19 days (the landslide rule's 18-day window), 22 days of readings.

    Readings every 10 min; rg-a vanishes after a day for good; rg-c vanishes after a day and
    is back on day 21. The
    Expire reaches a state after the readings the source batched with it (a backtest reads
    fast), so rg-c's state may or may not go first: either way its silence warning clears.
    """
    t0 = 1_783_231_200  # 2026-07-05 08:00 +08:00
    rows, seq = [], {"rg-a": 0, "rg-b": 0, "rg-c": 0}
    for minute in range(0, 22 * 1440, 10):
        for sid in seq:
            if (sid == "rg-a" and minute >= 1440) or (sid == "rg-c" and 1440 <= minute < 21 * 1440):
                continue
            seq[sid] += 1
            rows.append(_reading(sid, t0 + 60 * minute, seq[sid]))
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = for_files(Config(pipeline=Pipeline(state_ttl="19d")), [ROOT / "rules"], None)
    s = setup(cfg)
    run_backtest(s, tmp_path / "in.jsonl", tmp_path / "out.jsonl")
    events = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]

    def silence(sid: str) -> list[str]:
        return [
            e["event"] for e in events if e["subject"] == sid and e["hazard"] == "sensor_silence"
        ]

    assert 1 <= s.metrics.states_expired._value.get() <= 2  # rg-a's for sure
    assert silence("rg-a") == ["raised"]
    assert silence("rg-c") == ["raised", "cleared"]
    assert silence("rg-b") == []


def test_reload_refuses_a_window_longer_than_the_ttl(tmp_path, caplog):
    from warning.reload import Reloader

    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.yaml").write_text(QUIET_RULES)
    cfg = Config(rules=[str(tmp_path / "rules")], pipeline=Pipeline(state_ttl="2d"))
    s = setup(cfg, Metrics())
    (tmp_path / "rules" / "r.yaml").write_text(QUIET_RULES.replace("1h", "3d"))
    assert Reloader(cfg, s.steps).reload() is False
    assert s.steps._pending is None
    assert "pipeline.state_ttl: expected a duration over 4325m" in caplog.text
