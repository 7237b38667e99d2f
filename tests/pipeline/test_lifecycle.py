"""Table tests for the warning lifecycle transitions."""

from __future__ import annotations

import pytest

from warning.pipeline.lifecycle import QUIET, step
from warning.records import Level

B, Y, O, R = Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED  # noqa: E741
M = 60_000  # one minute


def run(targets, **kw):
    """Feed (minute, target level, clear_ok) steps; return the events as (minute, event, lvl)."""
    ep = QUIET
    out = []
    for item in targets:
        minute, target = item[0], item[1]
        clear_ok = item[2] if len(item) > 2 else True
        ep, t = step(ep, target, minute * M, rule_id="r", subject="s", clear_ok=clear_ok, **kw)
        if t:
            out.append(
                (
                    minute,
                    t.event,
                    t.level.colour if t.level else None,
                    t.previous.colour if t.previous else None,
                )
            )
    return out, ep


# (steps, lifecycle options, expected events)
CASES = [
    # Raised once, nothing more while the level holds.
    ([(0, Y), (1, Y), (2, Y)], {}, [(0, "raised", "yellow", None)]),
    # Escalation steps straight to the highest level that holds.
    ([(0, B), (1, R)], {}, [(0, "raised", "blue", None), (1, "escalated", "red", "blue")]),
    # De-escalation and clearing without hold happen at once.
    (
        [(0, O), (1, Y), (2, None)],
        {},
        [
            (0, "raised", "orange", None),
            (1, "deescalated", "yellow", "orange"),
            (2, "cleared", None, "yellow"),
        ],
    ),
    # hold: no step down until the level has lasted 60 min.
    (
        [(0, O), (30, Y), (59, None), (60, None)],
        {"hold_ms": 60 * M},
        [(0, "raised", "orange", None), (60, "cleared", None, "orange")],
    ),
    # hold counts from the last change of level, escalation included.
    (
        [(0, Y), (50, O), (70, None), (110, None)],
        {"hold_ms": 60 * M},
        [
            (0, "raised", "yellow", None),
            (50, "escalated", "orange", "yellow"),
            (110, "cleared", None, "orange"),
        ],
    ),
    # for: a level must hold 10 min before it is raised; a break restarts the count.
    (
        [(0, Y), (5, Y), (6, None), (7, Y), (16, Y), (17, Y)],
        {"for_ms": 10 * M},
        [(17, "raised", "yellow", None)],
    ),
    # for: the escalation also waits, while the lower level stays raised.
    (
        [(0, Y), (10, Y), (11, R), (15, R), (21, R)],
        {"for_ms": 10 * M},
        [(10, "raised", "yellow", None), (21, "escalated", "red", "yellow")],
    ),
    # for: a higher level held long enough counts for the lower ones too.
    ([(0, R), (5, O), (10, O)], {"for_ms": 10 * M}, [(10, "raised", "orange", None)]),
    # clear condition (hysteresis): stay until it holds.
    (
        [(0, Y), (1, None, False), (2, None, False), (3, None, True)],
        {},
        [(0, "raised", "yellow", None), (3, "cleared", None, "yellow")],
    ),
    # the clear condition does not block stepping down between levels.
    (
        [(0, O), (1, Y, False)],
        {},
        [(0, "raised", "orange", None), (1, "deescalated", "yellow", "orange")],
    ),
    # A new episode after clearing is raised again.
    (
        [(0, Y), (1, None), (2, Y)],
        {},
        [
            (0, "raised", "yellow", None),
            (1, "cleared", None, "yellow"),
            (2, "raised", "yellow", None),
        ],
    ),
    # Quiet stays quiet.
    ([(0, None), (1, None)], {}, []),
]


@pytest.mark.parametrize(("steps", "options", "expected"), CASES, ids=range(len(CASES)))
def test_transitions(steps, options, expected):
    events, _ = run(steps, **options)
    assert events == expected


def test_one_warning_id_per_episode():
    ep = QUIET
    ids = []
    for minute, target in [(0, Y), (1, R), (2, B), (3, None), (4, Y)]:
        ep, t = step(ep, target, minute * M, rule_id="rain", subject="rg-1")
        ids.append(t.warning_id)
    assert ids[:4] == ["rain/rg-1/19700101T000000Z"] * 4
    assert ids[4] == "rain/rg-1/19700101T000400Z"


def test_quiet_state_is_shared_not_copied():
    _, ep = run([(0, None), (1, None)])
    assert ep == QUIET
