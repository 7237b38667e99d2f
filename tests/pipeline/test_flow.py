"""The whole dataflow over files (backtest mode): exact events, workers, duplicates, silence."""

from __future__ import annotations

import csv
import gc
import json
from pathlib import Path

import pytest
import yaml

from tests.support import storm
from warning import app
from warning.app import run_backtest, setup
from warning.config import Config
from warning.metrics import Metrics

ROOT = Path(__file__).parents[2]


@pytest.fixture
def registry_file(tmp_path):
    f = tmp_path / "sensors.yaml"
    f.write_text(yaml.safe_dump(storm.REGISTRY))
    return f


def backtest(tmp_path, registry_file, rows, workers=1, name="out", input_name=None):
    cfg = Config(rules=[str(ROOT / "rules")], sensors=str(registry_file))
    s = setup(cfg, Metrics())
    inp = tmp_path / (input_name or f"{name}.jsonl")
    if input_name is None:
        storm.write_jsonl(inp, rows)
    out = tmp_path / f"{name}.events.jsonl"
    rej = tmp_path / f"{name}.rejected.jsonl"
    run_backtest(s, inp, out, rej, workers=workers)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    rejected = [json.loads(line) for line in rej.read_text().splitlines()] if rej.exists() else []
    return events, rejected, s.metrics


def _value(metrics, name, **labels):
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_storm_gives_the_hand_checked_events(tmp_path, registry_file):
    events, rejected, m = backtest(tmp_path, registry_file, storm.readings())
    rain = [
        (e["ts"], e["event"], e.get("level"), e.get("previous_level"))
        for e in events
        if e["rule_id"] == "rainstorm"
    ]
    assert rain == storm.EXPECTED_RG1
    silence = [
        (e["ts"], e["event"], e["subject"]) for e in events if e["hazard"] == "sensor_silence"
    ]
    assert silence == storm.EXPECTED_SILENCE
    assert rejected == []
    assert _value(m, "hazard_readings_accepted_total", kind="rainfall") == len(storm.readings())
    red = next(e for e in events if e.get("level") == "red" and e["rule_id"] == "rainstorm")
    assert red["values"]["rain_3h_mm"] == 100.0
    assert red["message"] == "Wuxing gauge: 100.0 mm in 3 h, 136.0 mm in 6 h, 152.0 mm in 12 h"
    assert red["instruction"].startswith("Level-I response")
    assert red["warning_id"] == "rainstorm/rg-1/20260704T210500Z"
    assert {e["warning_id"] for e in events if e["rule_id"] == "rainstorm"} == {red["warning_id"]}


@pytest.fixture
def collector():
    """The collector's thresholds set to CPython's defaults for the test, restored after."""
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_a_backtest_runs_with_rare_collections_and_leaves_the_collector_as_it_was(
    tmp_path, registry_file, monkeypatch, collector
):
    seen = []
    inside = []
    # A lower young threshold than the lean one, so that the run must collect at least once.
    monkeypatch.setattr(app, "GC_THRESHOLDS", (100, 10, 10))
    run = app.cli_main

    def cli_main(*args, **kwargs):
        inside.append(True)
        try:
            return run(*args, **kwargs)
        finally:
            inside.pop()

    monkeypatch.setattr(app, "cli_main", cli_main)

    def look(phase, info):
        if phase == "start" and inside:
            seen.append((gc.get_threshold(), gc.get_freeze_count()))

    gc.callbacks.append(look)
    try:
        events, _, _ = backtest(tmp_path, registry_file, storm.readings())
    finally:
        gc.callbacks.remove(look)
    assert [e["event"] for e in events if e["rule_id"] == "rainstorm"][0] == "raised"
    assert seen, "no collection ran during the flow"
    assert all(t == (100, 10, 10) and frozen > 0 for t, frozen in seen)
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0


def test_the_collector_is_restored_after_a_failed_run_and_after_the_last_of_overlapping_runs(
    collector,
):
    with pytest.raises(RuntimeError), app.lean_gc():
        assert gc.get_threshold() == app.GC_THRESHOLDS
        raise RuntimeError("the flow failed")
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0

    first, second = app.lean_gc(), app.lean_gc()  # two runs in threads: the first ends first
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold() == app.GC_THRESHOLDS, "the second run is still going"
    second.__exit__(None, None, None)
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0

    gc.freeze()  # a caller's own freeze stays
    try:
        frozen = gc.get_freeze_count()
        with app.lean_gc():
            pass
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()


def test_events_are_in_event_time_order(tmp_path, registry_file):
    events, _, _ = backtest(tmp_path, registry_file, storm.readings())
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)


def test_two_workers_give_the_same_events(tmp_path, registry_file):
    one, _, _ = backtest(tmp_path, registry_file, storm.readings(), name="one")
    two, _, _ = backtest(tmp_path, registry_file, storm.readings(), workers=2, name="two")
    assert one == two


def test_csv_gives_the_same_events_as_json_lines(tmp_path, registry_file):
    rows = storm.readings()
    with (tmp_path / "in.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sensor_id", "kind", "ts", "seq", "rain_mm"])
        for r in rows:
            w.writerow([r["sensor_id"], r["kind"], r["ts"], r["seq"], r["values"]["rain_mm"]])
    from_csv, _, _ = backtest(tmp_path, registry_file, rows, name="c", input_name="in.csv")
    from_json, _, _ = backtest(tmp_path, registry_file, rows, name="j")
    assert from_csv == from_json


def test_duplicates_dropped_gaps_counted_late_rejected(tmp_path, registry_file):
    rows = storm.readings(hours=3)
    rg1 = [r for r in rows if r["sensor_id"] == "rg-1"]
    noisy = list(rows)
    noisy.insert(6, dict(rg1[2]))  # a redelivered message, within the lateness allowance
    noisy.append(dict(rg1[0]))  # redelivered hours later (after a reconnect): its seq says so
    noisy.remove(rg1[20])  # a lost message: one seq gap
    late = dict(rg1[5], seq=999_999)
    noisy.append(late)  # 2.5 h behind the newest: beyond the 5 min allowance
    events, rejected, m = backtest(tmp_path, registry_file, noisy)
    assert _value(m, "hazard_readings_duplicate_total") == 2
    assert _value(m, "hazard_readings_seq_gap_total") == 1
    assert [r["reason"] for r in rejected] == ["late"]
    assert _value(m, "hazard_readings_rejected_total", reason="late") == 1
    assert _value(m, "hazard_readings_accepted_total", kind="rainfall") == len(rows) - 1


def test_rejected_lines_are_reported_and_the_rest_processed(tmp_path, registry_file):
    rows = storm.readings(hours=1)
    inp = tmp_path / "bad.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines.insert(3, "{not json")
    lines.insert(7, json.dumps({**rows[0], "values": {"rain_mm": -1}}))
    inp.write_text("\n".join(lines) + "\n")
    _, rejected, m = backtest(tmp_path, registry_file, None, input_name="bad.jsonl")
    assert sorted(r["reason"] for r in rejected) == ["bad_json", "out_of_range"]
    assert _value(m, "hazard_readings_accepted_total", kind="rainfall") == len(rows)
