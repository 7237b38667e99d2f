"""Area expressions: parsing, checks with located errors, and aggregates as a table."""

from __future__ import annotations

import pytest

from warning.kinds import BUILTIN_KINDS
from warning.records import Level
from warning.rules.area_load import AreaInput
from warning.rules.areas import AreaView, check_area, evaluate, parse_area, quantile
from warning.rules.load import load_rules
from warning.yamlfile import ConfigError

RAIN = "sum(rain_mm, 3h)"
WET = "sum(rain_mm, 3h) >= 50"
GAUGES = {  # sensor -> per-sensor values by expression text; g4 has not reported RAIN
    "g1": ("rainfall", {RAIN: 62.0, WET: True}),
    "g2": ("rainfall", {RAIN: 50.0, WET: True}),
    "g3": ("rainfall", {RAIN: 12.0, WET: False}),
    "g4": ("rainfall", {RAIN: None, WET: None}),
    "wl": ("reservoir", {"delta(level_m, 1h)": 0.4}),
}
KINDS = {
    RAIN: frozenset({"rainfall"}),
    WET: frozenset({"rainfall"}),
    "delta(level_m, 1h)": frozenset({"reservoir"}),
}
WARNINGS = {
    ("rainstorm", "g1"): Level.ORANGE,
    ("rainstorm", "g2"): Level.YELLOW,
    ("water_level", "wl"): Level.YELLOW,
    ("gas_leak", "x"): Level.BLUE,
}


def view(sensors=GAUGES, warnings=WARNINGS):
    return AreaView(sensors, warnings, KINDS, frozenset({"rainfall", "reservoir"}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"count({WET})", 2.0),  # g4 unknown does not count
        (f"fraction({WET})", 2 / 3),  # of the 3 gauges with a known value
        (f"max({RAIN})", 62.0),
        (f"min({RAIN})", 12.0),
        (f"mean({RAIN})", (62 + 50 + 12) / 3),
        (f"quantile({RAIN}, 0.5)", 50.0),
        (f"quantile({RAIN}, 0.75)", 56.0),  # linear between 50 and 62
        ("max(delta(level_m, 1h))", 0.4),  # only the reservoir computes it
        ("reporting()", 5.0),
        ('level("rainstorm")', 3.0),
        ('level("landslide")', 0.0),
        ('warned("rainstorm", yellow)', 2.0),
        ('warned("rainstorm", orange)', 1.0),
        ("hazards(yellow)", 2.0),  # rainstorm and water_level; gas_leak is blue
        ("hazards(blue)", 3.0),
        (f'count({WET}) >= 2 and level("rainstorm") >= orange', True),
        (f"count({WET}) >= 3 or max({RAIN}) > 60", True),
        (f"(max({RAIN}) - min({RAIN})) / 2", 25.0),
    ],
)
def test_aggregates(text, expected):
    assert evaluate(parse_area(text), view()) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"count({WET})", 0.0),
        (f"fraction({WET})", None),  # nobody reporting: unknown, so conditions stay false
        (f"max({RAIN})", None),
        (f"max({RAIN}) >= 50", None),
        ('level("rainstorm")', 0.0),
    ],
)
def test_aggregates_of_a_silent_area(text, expected):
    assert evaluate(parse_area(text), view({}, {})) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rain_mm > 3", "inside an aggregate"),
        ("count(rain_mm)", "count() over a condition"),
        (f"max({WET}) > 1", "max() over a number expression"),
        ("quantile(rain_mm, 1.5) > 1", "Q a number from 0 to 1"),
        ("level(rainstorm) > 1", 'level("HAZARD")'),
        ('warned("x", purple) > 1', "LEVEL among blue"),
        ("count(count(rain_mm > 1) > 1) > 1", "per-sensor expression inside count()"),
        (f"max({RAIN})", "a condition"),
    ],
)
def test_bad_area_expressions(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_area(parse_area(text), boolean=True)


def test_quantile_matches_the_linear_definition():
    assert quantile([3.0, 1.0, 2.0], 0.0) == 1.0
    assert quantile([3.0, 1.0, 2.0], 1.0) == 3.0
    assert quantile([1.0, 2.0], 0.25) == 1.25


def test_area_rule_loads_with_inputs_per_kind(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text(f"""rules:
  - id: flood
    hazard: flash_flood
    area: [anji, upper_xitiaoxi]
    fresh: 30m
    levels:
      orange: 'count({WET}) >= 1 and count(delta(level_m, 1h) > 0.2) >= 1'
    no_data: {{after: 2h, level: yellow}}
""")
    rule = load_rules([f]).areas[0]
    assert rule.areas == ("anji", "upper_xitiaoxi")
    assert rule.fresh_ms == 1_800_000
    inputs = {i.key: i.kinds for i in rule.inputs}
    assert inputs[WET] == frozenset({"rainfall", "weather"})
    assert inputs["delta(level_m, 1h) > 0.2"] >= frozenset({"reservoir"})
    assert all(isinstance(i, AreaInput) for i in rule.inputs)
    assert rule.no_data.after_ms == 7_200_000
    # the sensors' windows keep what the area's expressions look back on
    assert load_rules([f]).horizons("rainfall")["rain_mm"] == 10_800_000


def test_area_rule_errors_have_file_and_line(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("""rules:
  - id: bad
    hazard: x
    area: anji
    for_kind: gas
    levels:
      orange: 'count(sum(rain_mm, 3h) >= 50) >= 1'
      yellow: 'rain_mm > 1'
""")
    with pytest.raises(ConfigError) as exc:
        load_rules([f])
    lines = {(p.line, p.key) for p in exc.value.problems}
    assert (7, "levels.orange") in lines and (8, "levels.yellow") in lines
    assert "rain_mm" in str(exc.value) and "gas" in str(exc.value)
    assert set(BUILTIN_KINDS) >= {"gas", "rainfall"}


def test_check_areas_against_the_registry(tmp_path):
    from warning.registry import load_registry
    from warning.rules.area_load import check_areas

    reg = tmp_path / "sensors.yaml"
    reg.write_text("""sensors:
  - {id: g1, kind: rainfall, region: anji}
  - {id: d1, kind: gas, region: cx}
  - {id: d2, kind: gas, region: cx}
areas:
  - {id: unit1, name: Unit 1, sensors: [d1, d2], region: cx}
""")
    rules = tmp_path / "r.yaml"
    rules.write_text("""rules:
  - id: unit
    hazard: gas_unit
    area: [unit1, anji, nowhere]
    levels:
      orange: 'count(lel_pct >= 25) >= 2'
""")
    registry = load_registry(reg)
    assert registry.members("unit1") == ("d1", "d2")
    assert registry.areas_of("d1", "cx") == ("cx", "unit1")
    problems = check_areas(load_rules([rules]).areas, registry)
    assert [(p.line, p.key) for p in problems] == [(6, "area"), (4, "area")]
    assert "expected sensors of gas in area 'anji'" in problems[0].message
    assert "found only rainfall" in problems[0].message
    assert "found unknown area 'nowhere'" in problems[1].message


@pytest.mark.parametrize(
    ("areas", "message"),
    [
        ("[{id: u, sensors: [nope]}]", "found unknown sensor 'nope'"),
        ("[{id: anji, sensors: [g1]}]", "unique among areas and regions"),
        ("[{id: u, sensors: []}]", "a list of sensor ids"),
        ("[{id: u, sensors: [g1], polygon: [[1, 2], [3, 4]]}]", "closed ring"),
        ("[{id: 'a/b', sensors: [g1]}]", "1-64 of"),
    ],
)
def test_bad_registry_areas(tmp_path, areas, message):
    from warning.registry import load_registry

    reg = tmp_path / "sensors.yaml"
    reg.write_text(f"sensors:\n  - {{id: g1, kind: rainfall, region: anji}}\nareas: {areas}\n")
    with pytest.raises(ConfigError, match=message):
        load_registry(reg)
