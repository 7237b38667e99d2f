"""The area step: compound rules, silence of an area, order independence, reload, the flow."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from warning.pipeline.areas import AreaMark, AreaProgress, AreaSample, AreaState, AreaWatch
from warning.records import Level
from warning.registry import Area, Registry
from warning.rules.load import load_rules

WET = "sum(rain_mm, 3h) >= 50"
RISE = "delta(level_m, 1h) > 0.2"
RULES = f"""rules:
  - id: flash_flood
    hazard: flash_flood
    area: anji
    fresh: 30m
    levels:
      red: 'level("rainstorm") >= orange and count({RISE}) >= 1 and count({WET}) >= 2'
      orange: 'level("rainstorm") >= orange and count({RISE}) >= 1'
    no_data: {{after: 1h, level: yellow}}
  - id: integrated
    hazard: integrated
    area: anji
    levels:
      orange: 'hazards(yellow) >= 2'
      yellow: 'hazards(yellow) >= 1'
  - id: gas_unit
    hazard: gas_confirmed
    area: unit_a
    fresh: 10m
    levels:
      orange: 'count(lel_pct >= 25) >= 2'
      yellow: 'count(lel_pct >= 25) >= 1'
"""
MIN = 60_000
SENSORS = {"g1": "rainfall", "g2": "rainfall", "wl": "reservoir", "d1": "gas", "d2": "gas"}


def watch_rules(watch):
    return watch.rules


@pytest.fixture
def watch(tmp_path):
    f = tmp_path / "areas.yaml"
    f.write_text(RULES)
    registry = Registry(
        {
            s: {"id": s, "kind": k, "region": "anji" if k != "gas" else "cx"}
            for s, k in SENSORS.items()
        },
        groups={"unit_a": Area("unit_a", "Unit A", frozenset({"d1", "d2"}))},
    )
    return AreaWatch(load_rules([f]), registry)


def sample(sid, t, **values):
    area = "unit_a" if SENSORS[sid] == "gas" else "anji"
    return AreaSample(area, sid, SENSORS[sid], t * MIN, values)


def mark(sid, hazard, level, t):
    return AreaMark("anji", f"{hazard}_rule", hazard, sid, level, t * MIN)


def progress(area, t):
    members = ["d1", "d2"] if area == "unit_a" else ["g1", "g2", "wl"]
    return [AreaProgress(area, m, (t * MIN,)) for m in members]


def run(watch, area, items):
    state = AreaState()
    events = []
    for item in items:
        events.extend(watch.observe(state, area, item))
    events.extend(watch.flush(state, area))
    return [
        (e.ts // MIN, e.rule_id, e.event, e.level.colour if e.level else None) for e in events
    ], state


FLOOD = [
    sample("g1", 1, **{WET: True}),
    sample("g2", 1, **{WET: False}),
    sample("wl", 2, **{RISE: False}),
    mark("g1", "rainstorm", Level.ORANGE, 3),
    sample("wl", 4, **{RISE: True}),  # orange: rainstorm orange and a rise
    sample("g2", 5, **{WET: True}),  # red: two gauges wet as well
    *progress("anji", 5),
    mark("g1", "rainstorm", None, 20),  # the rainstorm clears: so does the flood
    *progress("anji", 20),
]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(
            FLOOD,
            [
                (3, "integrated", "raised", "yellow"),
                (4, "flash_flood", "raised", "orange"),
                (5, "flash_flood", "escalated", "red"),
                (20, "flash_flood", "cleared", None),
                (20, "integrated", "cleared", None),
            ],
            id="flash flood needs the rainstorm and a rise",
        ),
        pytest.param(
            [
                mark("g1", "rainstorm", Level.YELLOW, 1),
                mark("wl", "water_level", Level.BLUE, 2),
                mark("wl", "water_level", Level.YELLOW, 3),
                mark("g2", "landslide", Level.ORANGE, 4),
                mark("g1", "rainstorm", None, 9),
                mark("wl", "water_level", None, 10),
                *progress("anji", 10),
            ],
            [
                (1, "integrated", "raised", "yellow"),
                (3, "integrated", "escalated", "orange"),  # two hazards at yellow or above
                # at 9 the rainstorm clears, but landslide and water level still make two
                (10, "integrated", "deescalated", "yellow"),
            ],
            id="integrated risk escalates with two hazards at yellow",
        ),
    ],
)
def test_compound_rules(watch, items, expected):
    got, _ = run(watch, "anji", items)
    assert [g for g in got if g[1] != "flash_flood.no_data"] == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(
            [
                sample("d1", 1, **{"lel_pct >= 25": True}),
                sample("d2", 2, **{"lel_pct >= 25": False}),
                *progress("unit_a", 2),
            ],
            [(1, "gas_unit", "raised", "yellow")],
            id="one detector alone: yellow",
        ),
        pytest.param(
            [
                sample("d1", 1, **{"lel_pct >= 25": True}),
                sample("d2", 2, **{"lel_pct >= 25": True}),
                *progress("unit_a", 2),
            ],
            [(1, "gas_unit", "raised", "yellow"), (2, "gas_unit", "escalated", "orange")],
            id="two detectors agree: orange",
        ),
        pytest.param(
            [
                sample("d1", 1, **{"lel_pct >= 25": True}),
                sample("d2", 2, **{"lel_pct >= 25": True}),
                *progress("unit_a", 2),
                sample("d1", 30, **{"lel_pct >= 25": True}),
                *progress("unit_a", 30),
            ],
            [
                (1, "gas_unit", "raised", "yellow"),
                (2, "gas_unit", "escalated", "orange"),
                (30, "gas_unit", "deescalated", "yellow"),
            ],
            id="a detector unheard for longer than fresh no longer counts",
        ),
    ],
)
def test_gas_corroboration(watch, items, expected):
    assert run(watch, "unit_a", items)[0] == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(
            [
                sample("d1", 1, **{"lel_pct >= 25": True}),
                *progress("unit_a", 1),
                *progress("unit_a", 12),
            ],
            [(1, "gas_unit", "raised", "yellow"), (12, "gas_unit", "cleared", None)],
            id="all sensors silent: the rule without no_data clears",
        ),
        pytest.param(
            [
                sample("g1", 1, **{WET: False}),
                *progress("anji", 30),
                *progress("anji", 61),
                sample("g1", 70, **{WET: False}),
                *progress("anji", 70),
            ],
            [
                (61, "flash_flood.no_data", "raised", "yellow"),
                (70, "flash_flood.no_data", "cleared", None),
            ],
            id="all sensors silent: the rule's own no-data warning, cleared on return",
        ),
    ],
)
def test_silence_of_an_area(watch, items, expected):
    area = items[0].area
    assert run(watch, area, items)[0] == expected


def test_order_between_sensors_does_not_matter(watch):
    """Any interleaving of different sensors (each in its own order) gives the same events."""
    expected, _ = run(watch, "anji", FLOOD)
    rng = random.Random(18)
    for _ in range(30):
        queues: dict[str, list] = {}
        for item in FLOOD:
            queues.setdefault(getattr(item, "sensor_id", None) or item.subject, []).append(item)
        shuffled = []
        while queues:
            sid = rng.choice(sorted(queues))
            shuffled.append(queues[sid].pop(0))
            if not queues[sid]:
                del queues[sid]
        assert run(watch, "anji", shuffled)[0] == expected


def test_reload_keeps_area_state(watch, tmp_path):
    state = AreaState()
    for item in FLOOD[:6]:
        watch.observe(state, "anji", item)
    watch.observe(state, "anji", progress("anji", 5)[0])
    events = [e for item in progress("anji", 5) for e in watch.observe(state, "anji", item)]
    assert [(e.rule_id, e.level) for e in events if e.rule_id == "flash_flood"] == [
        ("flash_flood", Level.ORANGE),
        ("flash_flood", Level.RED),
    ]
    f = tmp_path / "again.yaml"
    f.write_text(
        RULES.replace("count(sum(rain_mm, 3h) >= 50) >= 2", "count(sum(rain_mm, 3h) >= 50) >= 3")
    )
    again = AreaWatch(load_rules([f]), watch.registry)
    later = [e for item in progress("anji", 6) for e in again.observe(state, "anji", item)]
    assert [(e.event, e.level) for e in later if e.rule_id == "flash_flood"] == [
        ("deescalated", Level.ORANGE)
    ]  # same episode, judged by the new rule


ROOT = Path(__file__).parents[2]


def _flow_events(tmp_path, rows, workers, hold=None):
    from warning.app import run_backtest, setup
    from warning.config import Config
    from warning.metrics import Metrics

    reg = tmp_path / "sensors.yaml"
    reg.write_text(
        yaml.safe_dump(
            {
                "sensors": [
                    {"id": s, "kind": "rainfall", "region": "anji"} for s in ("g1", "g2", "g3")
                ]
            }
        )
    )
    rules = tmp_path / "county.yaml"
    rules.write_text("""rules:
  - id: county_rain
    hazard: rainstorm_area
    area: anji
    fresh: 30m
    levels:
      orange: 'count(sum(rain_mm, 3h) >= 50) >= 2'
      yellow: 'max(sum(rain_mm, 3h)) >= 30'
""")
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = Config(rules=[str(rules)], sensors=str(reg))
    cfg.pipeline.area_hold = hold
    s = setup(cfg, Metrics())
    out = tmp_path / f"out{workers}.jsonl"
    run_backtest(s, inp, out, tmp_path / "rej.jsonl", workers=workers)
    return [
        (e["ts"], e["rule_id"], e["event"], e.get("level"), e["subject"])
        for e in map(json.loads, out.read_text().splitlines())
    ]


def test_flow_gives_the_same_area_events_with_two_workers(tmp_path):
    t0 = 1783231200  # 2026-07-05 14:00 +08:00
    rows = [
        {
            "sensor_id": g,
            "kind": "rainfall",
            "ts": t0 + i * 300 + j,
            "values": {"rain_mm": 6.0 if g != "g3" else 1.0},
        }
        for i in range(40)
        for j, g in enumerate(("g1", "g2", "g3"))
    ]
    one = _flow_events(tmp_path, rows, 1)
    assert one == [
        ("2026-07-05T14:20:00+08:00", "county_rain", "raised", "yellow", "anji"),
        ("2026-07-05T14:40:01+08:00", "county_rain", "escalated", "orange", "anji"),
    ]
    assert _flow_events(tmp_path, rows, 2) == one


def test_hot_reload_through_the_step_keeps_the_area_state(watch, tmp_path):
    from warning.metrics import Metrics
    from warning.pipeline.areas import AreaLogic
    from warning.pipeline.steps import Steps

    f = tmp_path / "before.yaml"
    f.write_text(RULES)
    steps = Steps(load_rules([f]), watch.registry, 300_000, Metrics())
    logic = AreaLogic(steps, None)
    for item in [sample("d1", 1, **{"lel_pct >= 25": True}), *progress("unit_a", 1)]:
        logic.on_item(("unit_a", item))
    after = tmp_path / "after.yaml"
    after.write_text(
        RULES.replace("orange: 'count(lel_pct >= 25) >= 2'", "orange: 'count(lel_pct >= 25) >= 1'")
    )
    steps.replace(load_rules([after]), watch.registry)
    events = [e for item in progress("unit_a", 2) for e in logic.on_item(("unit_a", item))[0]]
    assert [(e.rule_id, e.event, e.level) for e in events] == [
        ("gas_unit", "escalated", Level.ORANGE)
    ]  # the episode raised before the reload
    snap = logic.snapshot()
    assert snap.episodes["gas_unit"].level == Level.ORANGE and snap is not logic.state


def test_a_shorter_area_hold_gives_the_same_events_for_ordered_readings(tmp_path):
    t0 = 1783231200
    rows = [
        {
            "sensor_id": g,
            "kind": "rainfall",
            "ts": t0 + i * 300 + j,
            "values": {"rain_mm": 6.0 if g != "g3" else 1.0},
        }
        for i in range(40)
        for j, g in enumerate(("g1", "g2", "g3"))
    ]
    assert _flow_events(tmp_path, rows, 2, hold="0s") == _flow_events(tmp_path, rows, 1)


def test_area_hold_longer_than_lateness_is_refused():
    from warning.pipeline.areas import area_hold_ms
    from warning.yamlfile import ConfigError

    assert area_hold_ms(None, "5m") is None and area_hold_ms("30s", "5m") == 30_000
    with pytest.raises(ConfigError, match="pipeline.area_hold: expected a duration of at most"):
        area_hold_ms("10m", "5m")


def test_ticks_reach_every_member_once_per_batch_shifted_by_the_hold(watch):
    from warning.pipeline.areas import AreaSampler
    from warning.records import Reading, Tick

    sampler = AreaSampler(watch_rules(watch), watch.registry, shift_ms=240_000)
    batch = [
        Reading("g1", "rainfall", "anji", 0, {"rain_mm": 1.0}, None, 5.0),
        Tick(60_000),
        Tick(120_000),
    ]
    ticks = sampler.ticks(batch)
    assert sorted(t.sensor_id for t in ticks) == sorted(SENSORS)
    assert {t.ticks for t in ticks} == {(300_000, 360_000)} and ticks[0].received_at == 5.0


# --- the slowest member's progress, kept incrementally (AreaWatch._slowest) -----------------


def _slowest_by_scan(progress, members):
    """What ``AreaWatch.observe`` computed before: every member from every source, or None."""
    sources = {src for _, src in progress}
    times = [progress.get((m, src)) for m in members for src in sources]
    return None if any(t is None for t in times) else min(times)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "x"]), st.sampled_from(["", "p1"]), st.integers(0, 30)
        ),
        max_size=60,
    ),
    st.booleans(),
)
def test_slowest_kept_equals_a_full_scan(updates, restart):
    """Random progress, out-of-order ticks, a non-member and a second source: the same horizon."""
    watch = AreaWatch.__new__(AreaWatch)
    watch._low = {}
    members = ("a", "b", "c", "a")  # a member listed twice counts once
    state = AreaState()
    for i, (sid, src, ts) in enumerate(updates):
        if restart and i == len(updates) // 2:  # a state restored from a snapshot: a new dict
            state = AreaState(progress=dict(state.progress))
        key = (sid, src)
        before = state.progress.get(key)
        state.progress[key] = ts if before is None else max(ts, before)
        got = watch._slowest(state, "area", members, key, before)
        assert got == _slowest_by_scan(state.progress, members)
