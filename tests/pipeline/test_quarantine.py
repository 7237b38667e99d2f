"""A reading later shown to be a spike leaves the windows; what it raised is withdrawn.

One gas detector, two rules (one per field), the Monitor on, no neighbours: each case feeds a
healthy stretch, then the spike, then what follows, through ``Evaluator.observe``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.support.evaluators import evaluator_for
from warning.anomaly.health import Monitor
from warning.pipeline.evaluate import Evaluator, SensorState
from warning.records import Reading
from warning.registry import Registry

M = 60_000
T0 = 1_783_231_200_000
RULES = """rules:
  - id: lel
    hazard: gas_combustible
    for_kind: gas
    levels:
      red: "max(lel_pct, 10m) >= 50"
      orange: "max(lel_pct, 10m) >= 20"
    hold: 30m
  - id: h2s
    hazard: gas_toxic
    for_kind: gas
    levels:
      orange: "last(h2s_ppm) >= 20"
      yellow: "last(h2s_ppm) >= 10"
    hold: 30m
"""


@pytest.fixture
def evaluator(tmp_path: Path) -> Evaluator:
    return evaluator_for(tmp_path, RULES, 30 * M, Monitor())


def gas(minute: float, lel: float, h2s: float) -> Reading:
    return Reading("gs-1", "gas", "cx", T0 + round(minute * M), {"lel_pct": lel, "h2s_ppm": h2s})


def healthy(n: int = 40, lel: float = 2.0) -> list[Reading]:
    rng = random.Random(7)
    return [
        gas(5 * i, round(lel + rng.gauss(0, 0.2), 1), round(1 + rng.gauss(0, 0.1), 1))
        for i in range(n)
    ]


def feed(evaluator: Evaluator, readings: list[Reading]) -> list[tuple[int, str, str, str, str]]:
    """Return (reading index, rule, event, level, withdrawn?) of the warning events."""
    state = SensorState()
    out = []
    for i, r in enumerate(readings):
        for e in evaluator.observe(state, r).events:
            if e.hazard == "sensor_fault":
                continue
            gone = "withdrawn" if e.message.startswith("Withdrawn: ") else ""
            out.append((i, e.rule_id, e.event, e.level.colour if e.level else "", gone))
    return out


@pytest.mark.parametrize("next_minute", [205, 197])
def test_a_spike_is_withdrawn_on_the_next_reading(evaluator, next_minute):
    """lel 60 between readings near 2: red at once, withdrawn (cleared) on the next reading,
    also when that reading is stamped 3 min before the spike (late, within the lateness): the
    spike is quarantined by its own time."""
    rs = [*healthy(), gas(200, 60, 1), gas(next_minute, 2.1, 1), gas(210, 2.0, 1)]
    assert feed(evaluator, rs) == [
        (40, "lel", "raised", "red", ""),
        (41, "lel", "cleared", "", "withdrawn"),
    ]


def test_a_rule_on_another_field_keeps_its_hold(evaluator):
    """A real h2s rise in the spike's reading is no spike's: its orange keeps its 30 min hold."""
    rs = [*healthy(), gas(200, 60, 25), gas(205, 2.1, 12), gas(210, 2.0, 12)]
    got = feed(evaluator, rs)
    assert (41, "lel", "cleared", "", "withdrawn") in got
    assert [g for g in got if g[1] == "h2s"] == [(40, "h2s", "raised", "orange", "")]


def test_a_level_reached_before_the_spike_stands_with_its_hold(evaluator):
    """Orange was real before the spike took it to red: withdrawn back to orange, not lower,
    and orange then keeps its hold as if the spike had never been."""
    rs = [*healthy(lel=24.0), gas(200, 90, 1), gas(205, 24.1, 1), gas(210, 3, 1)]
    got = feed(evaluator, rs)
    assert got == [
        (0, "lel", "raised", "orange", ""),
        (40, "lel", "escalated", "red", ""),
        (41, "lel", "deescalated", "orange", "withdrawn"),
    ]


def test_two_fields_spiking_together_are_both_quarantined(evaluator):
    rs = [*healthy(), gas(200, 60, 30), gas(205, 2.1, 1), gas(210, 2.0, 1)]
    got = feed(evaluator, rs)
    assert sorted(got) == [
        (40, "h2s", "raised", "orange", ""),
        (40, "lel", "raised", "red", ""),
        (41, "h2s", "cleared", "", "withdrawn"),
        (41, "lel", "cleared", "", "withdrawn"),
    ]


RAIN = """rules:
  - id: heavy_rain
    hazard: rainstorm
    for_kind: rainfall
    levels:
      orange: "sum(rain_mm, 1h) >= 50"
    hold: 0s
"""


@pytest.mark.parametrize("neighbour_first", [True, False])
def test_a_lone_burst_a_neighbour_bears_out_later_is_no_spike(tmp_path, neighbour_first):
    """Hourly gauges: rg-a's 60 mm with no neighbour heard within 15 min is a lone burst; rg-b's
    55 mm of the same hour, arriving before or after it, bears it out either way: the same
    events in both orders (no spike named, nothing withdrawn)."""
    from warning.anomaly.corroborate import Peer

    reg = Registry(
        {
            "rg-a": {"kind": "rainfall", "region": "r"},
            "rg-b": {"kind": "rainfall", "region": "r"},
        }
    )
    ev = evaluator_for(tmp_path, RAIN, 30 * M, Monitor(), reg)
    state, out = SensorState(), []
    rng = random.Random(5)
    hours = [round(rng.choice([0, 0, 0, 0.2, 0.5, 1.5]), 1) for _ in range(80)] + [60.0, 0.0, 0.0]
    for h, mm in enumerate(hours):
        ts = T0 + h * 60 * M
        own = Reading("rg-a", "rainfall", "r", ts, {"rain_mm": mm})
        theirs = Reading("rg-b", "rainfall", "r", ts + M, {"rain_mm": 55.0 if mm == 60 else 0.0})
        steps = (
            [("peer", theirs), ("own", own)]
            if neighbour_first
            else [("own", own), ("peer", theirs)]
        )
        for what, r in steps:
            o = ev.peer(state, Peer("rg-a", r)) if what == "peer" else ev.observe(state, r)
            out += [(h, e.rule_id, e.event, e.message.startswith("Withdrawn")) for e in o.events]
    assert out == [(80, "heavy_rain", "raised", False), (81, "heavy_rain", "cleared", False)]
