"""The silence watch advances only as far as the slowest input partition's ticks."""

from __future__ import annotations

from pathlib import Path

from warning.kinds import BUILTIN_KINDS
from warning.pipeline.nodata import NoDataWatch, shard_of
from warning.records import Seen, Tick
from warning.registry import Registry
from warning.rules.load import load_rules

RULES = Path(__file__).parents[2] / "rules" / "silence.yaml"
M = 60_000


def _watch() -> NoDataWatch:
    return NoDataWatch(load_rules([RULES], BUILTIN_KINDS), Registry({}, accept_unknown=True))


def test_a_partition_ahead_does_not_make_the_others_sensors_silent():
    watch = _watch()
    state = watch.new_state(shard_of("rg-1"))
    assert watch.observe(state, Seen("rg-1", "rainfall", "anji", 0)) == []
    assert watch.observe(state, Tick(0, "b")) == []
    # Partition "a" is 3 h ahead; "b", which reads rg-1, is not: nobody is silent yet.
    assert watch.observe(state, Tick(180 * M, "a")) == []
    assert state.watermark == 0
    # Once "b" catches up, rg-1's silence is found, stamped at its last reading + no_data.
    events = watch.observe(state, Tick(180 * M, "b"))
    assert events and {e.subject for e in events} == {"rg-1"}
    assert min(e.ts for e in events) == 30 * M


def test_one_partition_behaves_as_before():
    watch = _watch()
    state = watch.new_state(shard_of("rg-1"))
    watch.observe(state, Seen("rg-1", "rainfall", "anji", 0))
    assert watch.observe(state, Tick(10 * M)) == []
    assert watch.observe(state, Tick(5 * M)) == []  # an older tick changes nothing
    assert {e.subject for e in watch.observe(state, Tick(40 * M))} == {"rg-1"}
