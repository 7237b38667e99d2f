"""The no-data watch, table by table: silence raised at last reading + no_data, cleared later."""

from __future__ import annotations

from pathlib import Path

import pytest

from warning.pipeline.nodata import Expire, NoDataWatch, shard_of
from warning.records import Seen, Tick
from warning.registry import Registry
from warning.rules.load import load_rules

M = 60_000
T0 = 1_783_231_200_000
RULE = """rules:
  - id: silent_gauge
    hazard: sensor_silence
    for_kind: rainfall
    no_data: {after: 30m, level: yellow}
"""


@pytest.fixture
def rules(tmp_path: Path):
    (tmp_path / "r.yaml").write_text(RULE)
    return load_rules([tmp_path / "r.yaml"])


def seen(minute: int, sid: str = "rg-1") -> Seen:
    return Seen(sid, "rainfall", "anji", T0 + minute * M)


def tick(minute: int, source: str = "p0") -> Tick:
    return Tick(T0 + minute * M, source)


def replay(watch: NoDataWatch, items, shard: str | None = None):
    state = watch.new_state(shard or shard_of("rg-1"))
    out = []
    for item in items:
        for e in watch.observe(state, item):
            if isinstance(e, Expire):
                out.append(("expire", e.sensor_id, (e.cutoff - T0) // M))
            else:
                out.append((e.event, e.subject, (e.ts - T0) // M))
    return out


CASES = [
    # (note, items in arrival order, events as (event, subject, minute stamped))
    ("steady reports: nothing", [seen(0), tick(0), seen(10), tick(10), seen(20), tick(20)], []),
    (
        "30 min unheard raises, stamped at last reading + 30 min, whatever the tick spacing",
        [seen(0), tick(0), tick(45)],
        [("raised", "rg-1", 30)],
    ),
    (
        "raised once, not again on every later tick",
        [seen(0), tick(0), tick(40), tick(50), tick(90)],
        [("raised", "rg-1", 30)],
    ),
    (
        "the sensor's return clears it, stamped at the reading",
        [seen(0), tick(0), tick(40), seen(55), tick(55)],
        [("raised", "rg-1", 30), ("cleared", "rg-1", 55)],
    ),
    ("a sighting older than the last one changes nothing", [seen(10), seen(5), tick(35)], []),
    (
        "a tick that goes back in time is ignored",
        [seen(0), tick(40), tick(20)],
        [("raised", "rg-1", 30)],
    ),
]


@pytest.mark.parametrize("note,items,want", CASES, ids=[c[0] for c in CASES])
def test_one_source(rules, note, items, want):
    watch = NoDataWatch(rules, Registry({}, accept_unknown=True))
    assert replay(watch, items) == want, note


def test_time_passes_only_as_far_as_the_slowest_source(rules):
    watch = NoDataWatch(rules, Registry({}, accept_unknown=True))
    items = [seen(0), tick(0, "p0"), tick(0, "p1"), tick(60, "p0")]
    assert replay(watch, items) == [], "p1 has not passed minute 30 yet"
    items.append(tick(31, "p1"))
    assert replay(watch, items) == [("raised", "rg-1", 30)]


def test_a_registered_sensor_that_never_reports_is_silent_from_the_first_tick(rules):
    registry = Registry({"rg-9": {"kind": "rainfall", "region": "anji"}})
    watch = NoDataWatch(rules, registry)
    assert replay(watch, [tick(0), tick(29)], shard_of("rg-9")) == []
    assert replay(watch, [tick(0), tick(30)], shard_of("rg-9")) == [("raised", "rg-9", 30)]


def test_a_quiet_unregistered_sensor_expires_once_and_is_forgotten(rules):
    watch = NoDataWatch(rules, Registry({}, accept_unknown=True), state_ttl_ms=24 * 60 * M)
    state = watch.new_state(shard_of("rg-1"))
    watch.observe(state, seen(0))
    assert [e.event for e in watch.observe(state, tick(40)) if not isinstance(e, Expire)] == [
        "raised"
    ]
    later = watch.observe(state, tick(24 * 60))
    assert later == [Expire("rg-1", "rainfall", "anji", T0)]
    assert "rg-1" in state.sensors, "its silence warning is active: kept to clear it later"
    assert watch.observe(state, tick(25 * 60)) == [], "one Expire per silence"
