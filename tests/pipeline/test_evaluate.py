"""Per-sensor evaluation, table by table: order, lateness, duplicates, sequence numbers, rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.evaluators import evaluator_for
from warning.pipeline.evaluate import Evaluator, SensorState

M = 60_000
T0 = 1_783_231_200_000  # 2026-07-05T06:00:00+08:00
LATENESS = 10 * M
RULE = """rules:
  - id: heavy_rain
    hazard: rainstorm
    for_kind: rainfall
    levels:
      orange: "sum(rain_mm, 1h) >= 20"
      yellow: "sum(rain_mm, 1h) >= 10"
    hold: 0s
"""


@pytest.fixture
def evaluator(tmp_path: Path) -> Evaluator:
    return evaluator_for(tmp_path, RULE, LATENESS)


def reading(minute: float, mm: float = 0.0, seq: int | None = None):
    from warning.records import Reading

    return Reading("rg-1", "rainfall", "anji", T0 + round(minute * M), {"rain_mm": mm}, seq)


def run(evaluator: Evaluator, steps):
    state = SensorState()
    return state, [evaluator.observe(state, r) for r in steps]


def kinds(outcomes):
    """What became of each reading: accepted, duplicate, or the rejection's reason."""
    return [
        "duplicate" if o.duplicate else o.rejected.reason if o.rejected else "accepted"
        for o in outcomes
    ]


ORDER_CASES = [
    # (note, readings as (minute, seq), what becomes of each)
    ("in order", [(0, 1), (5, 2), (10, 3)], ["accepted"] * 3),
    ("the same timestamp twice is a duplicate", [(0, 1), (0, 1)], ["accepted", "duplicate"]),
    ("late within the allowance is still taken", [(0, 1), (20, 3), (15, 2)], ["accepted"] * 3),
    (
        "later than the allowance is rejected as late",
        [(0, 1), (20, 2), (5, 3)],
        ["accepted", "accepted", "late"],
    ),
    (
        "a late reading with a seq already sent is a redelivery, not a clock fault",
        [(0, 1), (20, 2), (5, 1)],
        ["accepted", "accepted", "duplicate"],
    ),
    (
        "a late duplicate without seq is late",
        [(0, None), (20, None), (0, None)],
        ["accepted", "accepted", "late"],
    ),
]


@pytest.mark.parametrize("note,steps,want", ORDER_CASES, ids=[c[0] for c in ORDER_CASES])
def test_order_lateness_and_duplicates(evaluator, note, steps, want):
    _, outcomes = run(evaluator, [reading(m, seq=s) for m, s in steps])
    assert kinds(outcomes) == want, note


SEQ_CASES = [
    # (note, seqs in time order, gaps counted per reading)
    ("consecutive", [1, 2, 3], [0, 0, 0]),
    ("two messages lost", [1, 2, 5], [0, 0, 2]),
    ("no seq at all", [None, None], [0, 0]),
    ("a counter restart is not a gap", [7, 8, 1, 2], [0, 0, 0, 0]),
    ("a gap after the restart counts from the new counter", [7, 8, 1, 3], [0, 0, 0, 1]),
]


@pytest.mark.parametrize("note,seqs,gaps", SEQ_CASES, ids=[c[0] for c in SEQ_CASES])
def test_sequence_gaps(evaluator, note, seqs, gaps):
    _, outcomes = run(evaluator, [reading(5 * i, seq=s) for i, s in enumerate(seqs)])
    assert [o.seq_gap for o in outcomes] == gaps, note


RULE_CASES = [
    # (note, rain per 5-minute report, events as (report index, event, level))
    ("6 mm in the hour is below every level", [0.5] * 12, []),
    (
        "10 mm in the hour raises yellow at the report that reaches it",
        [2.0] * 5,
        [(4, "raised", "yellow")],
    ),
    ("20 mm escalates to orange", [5.0] * 4, [(1, "raised", "yellow"), (3, "escalated", "orange")]),
    (
        "rain leaving the window steps down, then clears",
        [10.0] + [0.0] * 12,
        [(0, "raised", "yellow"), (12, "cleared", None)],
    ),
]


@pytest.mark.parametrize("note,rain,want", RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rules_and_lifecycle(evaluator, note, rain, want):
    _, outcomes = run(evaluator, [reading(5 * i, mm) for i, mm in enumerate(rain)])
    got = [
        (i, e.event, e.level.colour if e.level else None)
        for i, o in enumerate(outcomes)
        for e in o.events
    ]
    assert got == want, note


def test_a_late_reading_enters_the_windows_in_its_place_and_is_evaluated_on_arrival(evaluator):
    # 9 mm on time, then a late 1 mm (within the allowance) that completes 10 mm in the hour:
    # it is inserted at its own time and the evaluation on its arrival raises yellow.
    state, outcomes = run(
        evaluator, [reading(0, 9.0), reading(10, 0.0), reading(5, 1.0), reading(15, 0.0)]
    )
    assert [[e.event for e in o.events] for o in outcomes] == [[], [], ["raised"], []]
    ts, mm = state.series["rain_mm"].window(T0 - 60 * M, T0 + 15 * M)
    assert list(ts) == [T0, T0 + 5 * M, T0 + 10 * M, T0 + 15 * M]
    assert list(mm) == [9.0, 1.0, 0.0, 0.0]
