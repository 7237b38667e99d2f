"""The keyed step takes one list per sensor and batch; what it gives matches reading by reading.

``Steps.to_sensors`` groups a batch by sensor in source order, a neighbour's reading riding in
each receiver's list as it is; ``Steps.evaluate_batch`` runs the list through one state. Results
no sink takes (accepted readings, indicator records) are left out, never events.
"""

from __future__ import annotations

from warning.metrics import Metrics
from warning.pipeline.steps import Kept, Steps
from warning.records import IndicatorRecord, Reading, WarningEvent
from warning.registry import Registry
from warning.rules.load import RuleSet, load_rules

H = 3_600_000

RULES = """
indicators:
  - id: sums
    for_kind: rainfall
    values:
      rain_1h: "sum(rain_mm, 1h)"
  - id: id_index
    for_kind: rainfall
    values:
      id_1: "id_exceedance(rain_mm, 14.82, -0.39, 24h)"
rules:
  - id: wet
    hazard: rainstorm
    for_kind: rainfall
    levels:
      yellow: "sum(rain_mm, 1h) >= 10"
"""

SENSORS = {
    sid: {"id": sid, "kind": "rainfall", "region": "r", "lat": 30.0 + i / 100, "lon": 120.0}
    for i, sid in enumerate(("rg-a", "rg-b", "rg-c"))
}


def _rules(tmp_path) -> RuleSet:
    (tmp_path / "r.yaml").write_text(RULES)
    return load_rules([tmp_path / "r.yaml"])


def _readings() -> list[Reading]:
    return [
        Reading(sid, "rainfall", "r", step * 300_000, {"rain_mm": 4.0 if sid == "rg-a" else 0.1})
        for step in range(1, 13)
        for sid in SENSORS
    ]


def test_spec_with_memo_is_marked(tmp_path):
    specs = {s.id: s for s in _rules(tmp_path).indicators}
    assert specs["id_index"].keeps_memo is True
    assert specs["sums"].keeps_memo is False


def test_groups_keep_source_order_and_carry_neighbours(tmp_path):
    steps = Steps(_rules(tmp_path), Registry(SENSORS, True), 300_000, Metrics())
    batch = _readings()[:6]
    groups = dict(steps.to_sensors(batch))
    sid, items = groups["rg-a"]
    assert sid == "rg-a"
    # rg-a's own readings and its neighbours', in the order they came.
    assert items == [
        r for r in batch if r.sensor_id == "rg-a" or "rg-a" in steps.peers.get(r.sensor_id, ())
    ]
    assert [r for r in items if r.sensor_id != "rg-a"]  # neighbours' readings are there


def test_batches_give_what_readings_one_by_one_give(tmp_path):
    rules = _rules(tmp_path)
    one = Steps(rules, Registry(SENSORS, True), 300_000, Metrics())
    batched = Steps(rules, Registry(SENSORS, True), 300_000, Metrics())
    lean = Steps(rules, Registry(SENSORS, True), 300_000, Metrics())
    readings = _readings()
    want: list = []
    states: dict = {}
    for r in readings:
        states[r.sensor_id], outcome = one.evaluate(states.get(r.sensor_id), r)
        want.extend(outcome.events)
    got: list = []
    slim: list = []
    b_states: dict = {}
    l_states: dict = {}
    for i in range(0, len(readings), 5):
        for sid, value in batched.to_sensors(readings[i : i + 5]):
            b_states[sid], out = batched.evaluate_batch(b_states.get(sid), value)
            got.extend(out)
        for sid, value in lean.to_sensors(readings[i : i + 5]):
            l_states[sid], out = lean.evaluate_batch(
                l_states.get(sid), value, Kept(readings=False, indicators=False)
            )
            slim.extend(out)
    assert want, "the wet gauge raises a warning"
    events = [x for x in got if isinstance(x, WarningEvent)]
    assert sorted(e.warning_id + e.event for e in events) == sorted(
        e.warning_id + e.event for e in want
    )
    assert any(isinstance(x, IndicatorRecord) for x in got)
    assert sum(isinstance(x, Reading) for x in got) == len(readings)
    # Without sinks for them: the same events, and neither readings nor indicator records.
    assert [x for x in slim if isinstance(x, WarningEvent)] == events
    assert not [x for x in slim if isinstance(x, Reading | IndicatorRecord)]
    # The I-D work kept in the series went on the same way with and without records.
    for sid in SENSORS:
        assert (
            b_states[sid].series["rain_mm"].memo.keys()
            == l_states[sid].series["rain_mm"].memo.keys()
        )
