"""Rule files: the shipped ones load; every kind of mistake is reported with file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from warning.rules.load import load_rules
from warning.yamlfile import ConfigError

ROOT = Path(__file__).parents[2]

GOOD = """\
rules:
  - id: r1
    hazard: rainstorm
    for_kind: rainfall
    levels:
      red: "sum(rain_mm, 3h) >= 100"
      orange: "sum(rain_mm, 3h) >= 50"
"""


def test_shipped_rules_load():
    rs = load_rules([ROOT / "rules"])
    ids = {r.id for r in rs.rules}
    assert {
        "rainstorm",
        "water_level",
        "slope_velocity",
        "gas_combustible",
        "fire_danger",
        "landslide_rain",
        "slope_failure_forecast",
        "slope_tangent",
        "gas_h2s_exposure",
        "silent_rain_gauge",
    } <= ids
    rain = next(r for r in rs.rules if r.id == "rainstorm")
    # The CMA criteria on observed rain, orange and red also "expected within 1-2 h".
    assert [(lv.colour, c.text) for lv, c in rain.levels] == [
        ("red", "sum(rain_mm, 3h) >= 100 or sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h) >= 100"),
        (
            "orange",
            "sum(rain_mm, 3h) >= 50 or sum(rain_mm, 2h) + forecast_sum(rain_mm, 1h) >= 50"
            " or sum(rain_mm, 1h) + forecast_sum(rain_mm, 2h) >= 50",
        ),
        ("yellow", "sum(rain_mm, 6h) >= 50"),
        ("blue", "sum(rain_mm, 12h) >= 50"),
    ]
    assert rain.looks_ahead and not next(r for r in rs.rules if r.id == "water_rise").looks_ahead


def _problems(tmp_path, text):
    f = tmp_path / "r.yaml"
    f.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as exc:
        load_rules([f])
    return [str(p).replace(str(f), "F") for p in exc.value.problems]


# (rule file text, the exact problems expected)
CASES = [
    ("rules: [", ["F:1: invalid YAML: expected the node content, but found '<stream end>'"]),
    ("- a\n", ["F:1: rules: expected a mapping with a 'rules' list, found a list"]),
    (
        "sensors: []\ncases: []\n",
        [
            "F:1: rules: expected a mapping with a 'rules' list, found a mapping of sensors, "
            "cases (a rule test file: run it with `hazard-warning rules test`)"
        ],
    ),
    ("rules: 3\n", ["F:1: rules: expected a list of rules, found 3"]),
    ("rules:\n  - 3\n", ["F:2: rule #1: expected a mapping, found 3"]),
    (
        GOOD + "    colour: red\n",
        [
            "F:8: rule 'r1': colour: expected one of id, hazard, for_kind, description, source, "
            "regions, sensors, levels, for, hold, clear, no_data, values, message, instruction, "
            "found unknown key 'colour'"
        ],
    ),
    (
        GOOD.replace("    hazard: rainstorm\n", ""),
        ["F:2: rule 'r1': hazard: expected this key, found it missing"],
    ),
    (
        GOOD.replace("for_kind: rainfall", "for_kind: rainfal"),
        [
            "F:4: rule 'r1': for_kind: expected a kind among gas, rainfall, reservoir, river, slope, "
            "weather, found 'rainfal'"
        ],
    ),
    (
        GOOD.replace("red:", "purple:"),
        [
            "F:6: rule 'r1': levels.purple: expected a level among blue, yellow, orange, red, "
            "found 'purple'"
        ],
    ),
    (
        GOOD.replace(">= 100", ">= 10"),
        [
            "F:7: rule 'r1': levels.orange: expected a condition that can be the highest to hold, "
            "found one that never is: whenever it holds, the higher level red holds too"
        ],
    ),
    (
        # A higher level with an alternative (the shipped rules' "or forecast_..."): one of its
        # alternatives made of bounds alone holds whenever the lower level does.
        GOOD.replace(
            '"sum(rain_mm, 3h) >= 100"',
            '"sum(rain_mm, 3h) >= 40 or forecast_sum(rain_mm, 3h) >= 40"',
        ),
        [
            "F:7: rule 'r1': levels.orange: expected a condition that can be the highest to hold, "
            "found one that never is: whenever it holds, the higher level red holds too"
        ],
    ),
    (
        # ... and a lower level with another term: it still holds only where its bound does.
        GOOD.replace('"sum(rain_mm, 3h) >= 50"', '"sum(rain_mm, 3h) >= 150 and last(rain_mm) > 0"'),
        [
            "F:7: rule 'r1': levels.orange: expected a condition that can be the highest to hold, "
            "found one that never is: whenever it holds, the higher level red holds too"
        ],
    ),
    (
        GOOD.replace(
            '"sum(rain_mm, 3h) >= 50"', '"sum(rain_mm, 3h) >= 50 and sum(rain_mm, 3h) < 40"'
        ),
        [
            "F:7: rule 'r1': levels.orange: expected a condition that can be the highest to hold, "
            "found one that never is: the bounds on sum(rain_mm, 3h) exclude every value"
        ],
    ),
    (
        GOOD.replace("sum(rain_mm, 3h) >= 100", "sum(snow_mm, 3h) >= 100"),
        [
            "F:6: rule 'r1': levels.red: expected a field among rain_mm, found unknown field 'snow_mm'"
        ],
    ),
    (
        GOOD.replace("sum(rain_mm, 3h) >= 100", "sum(rain_mm, 3h) >="),
        [
            "F:6: rule 'r1': levels.red: expected a valid expression at column 18, found the end of the "
            "expression"
        ],
    ),
    (
        GOOD + "    hold: 1x\n",
        ["F:8: rule 'r1': hold: expected a duration like 30s, 10m, 3h or 1d, found '1x'"],
    ),
    (
        GOOD + "    for: 10\n",
        ["F:8: rule 'r1': for: expected a duration like 30s, 10m, 3h or 1d, found 10"],
    ),
    (
        GOOD + '    clear: "sum(rain_mm, 3h)"\n',
        [
            "F:8: rule 'r1': clear: expected a condition (a comparison), found the number "
            "expression 'sum(rain_mm, 3h)'"
        ],
    ),
    (
        GOOD + '    message: "{sum(rain_mm, 3h):.0q}"\n',
        [
            "F:8: rule 'r1': message: expected a format spec such as .1f in {sum(rain_mm, 3h):.0q}, "
            "found '.0q'"
        ],
    ),
    (
        GOOD + '    message: "{sensor.name}[[ at {sensor.limit} mm"\n',
        ["F:8: rule 'r1': message: a clause opened by [[ at character 14 is not closed by ]]"],
    ),
    (
        GOOD + '    message: "{sensor.name}[[ at [[{sensor.limit}]] mm]]"\n',
        ["F:8: rule 'r1': message: a clause opened by [[ at character 14 is not closed by ]]"],
    ),
    (
        GOOD + '    message: "{sensor.name}]] mm"\n',
        ["F:8: rule 'r1': message: ]] at character 14 closes no clause"],
    ),
    (
        GOOD + '    message: "{sensor.name}: {sum(rain_mm, 6h):.1f mm in 6 h"\n',
        [
            "F:8: rule 'r1': message: expected } to close the { at character 16 (braces only "
            "enclose placeholders)"
        ],
    ),
    (
        GOOD + '    message: "{sensor.name}} mm"\n',
        [
            "F:8: rule 'r1': message: } at character 14 closes no { (braces only enclose placeholders)"
        ],
    ),
    (
        GOOD + "    instruction: {red: {en: Go, zh-CN: 走}}\n",
        [
            "F:8: rule 'r1': instruction.orange: expected an instruction for orange (the other "
            "levels have one), found none"
        ],
    ),
    (
        GOOD + "    instruction:\n      red: {en: Go, zh-CN: 走}\n      orange: {zh-CN: 走}\n",
        [
            "F:10: rule 'r1': instruction.orange: expected a text in en as the other levels "
            "have, found zh-CN"
        ],
    ),
    (
        GOOD + '    message: "{bogus_value}"\n',
        [
            "F:8: rule 'r1': message: expected a value name (sum_rain_mm_3h, event, hazard, "
            "level, region, rule_id, subject), a field (rain_mm) or sensor.KEY, found unknown "
            "name 'bogus_value'"
        ],
    ),
    (
        GOOD + '    message:\n      zh-CN: "{sensor.name}"\n      en: "{rain_6hr_mm}"\n',
        [
            "F:10: rule 'r1': message.en: expected a value name (sum_rain_mm_3h, event, hazard, "
            "level, region, rule_id, subject), a field (rain_mm) or sensor.KEY, found unknown "
            "name 'rain_6hr_mm'"
        ],
    ),
    (
        GOOD + "    instruction: {purple: go}\n",
        [
            "F:8: rule 'r1': instruction.purple: expected a level (blue, yellow, orange, red) or a "
            "language (zh-CN, en) with a text, found 'purple': 'go'"
        ],
    ),
    (
        GOOD + "    no_data: {after: 10m, level: pink}\n",
        ["F:8: rule 'r1': level: expected a level among blue, yellow, orange, red, found 'pink'"],
    ),
    (
        GOOD + "    no_data: {level: red}\n",
        ["F:8: rule 'r1': after: expected this key, found it missing"],
    ),
    (
        GOOD + '    values: {x: "rain_mm > 1"}\n',
        [
            "F:8: rule 'r1': values.x: expected a number expression, found the condition "
            "'rain_mm > 1'"
        ],
    ),
    (
        GOOD + GOOD.replace("rules:\n", ""),
        ["F:8: rule 'r1': id: expected a unique id, found one already used in F:2"],
    ),
    (
        "rules:\n  - id: r1\n    hazard: x\n    for_kind: rainfall\n",
        ["F:2: rule 'r1': levels: expected levels, no_data or both, found neither"],
    ),
    (
        "rules:\n  - id: 'a b'\n    hazard: x\n    for_kind: rainfall\n    no_data: 5m\n",
        ["F:2: rule 'a b': id: expected an id of letters, digits, - and _, found 'a b'"],
    ),
    (
        "rules:\n  - {id: r, hazard: x, for_kind: rainfall, levels: {red: '1 > 2'}, levels: {}}\n",
        ["F:2: invalid YAML: duplicate key 'levels'"],
    ),
    (
        "rules:\n  - !!python/object/apply:os.system ['echo pwned']\n",
        [
            "F:2: invalid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object/apply:os.system'"
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=range(len(CASES)))
def test_problems_are_located(tmp_path, text, expected):
    assert _problems(tmp_path, text) == expected


def test_every_problem_is_reported_at_once(tmp_path):
    text = GOOD.replace("for_kind: rainfall", "for_kind: rainfal") + "    hold: x\n    y: 1\n"
    assert len(_problems(tmp_path, text)) == 3


def test_test_files_beside_rules_are_not_rules(tmp_path):
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "a.test.yaml").write_text("not: rules\n")
    assert [r.id for r in load_rules([tmp_path]).rules] == ["r1"]


@pytest.mark.parametrize(
    "levels",
    [
        # the higher level's alternative needs more than bounds: the lower level can win
        {"red": "sum(rain_mm, 3h) >= 100 or last(rain_mm) > 5", "orange": "sum(rain_mm, 3h) >= 50"},
        # the lower level's own alternative without bounds may hold anywhere
        {
            "red": "sum(rain_mm, 3h) >= 100",
            "orange": "sum(rain_mm, 3h) >= 150 or last(rain_mm) > 5",
        },
        # a higher alternative bounded on another expression
        {
            "red": "sum(rain_mm, 1h) >= 40 or sum(rain_mm, 6h) >= 120",
            "orange": "sum(rain_mm, 3h) >= 50",
        },
    ],
)
def test_a_level_that_can_win_is_not_reported(tmp_path, levels):
    body = "".join(f'      {k}: "{v}"\n' for k, v in levels.items())
    f = tmp_path / "r.yaml"
    f.write_text(
        "rules:\n  - id: r1\n    hazard: rainstorm\n    for_kind: rainfall\n    levels:\n" + body
    )
    assert [r.id for r in load_rules([f]).rules] == ["r1"]


def test_a_sensor_key_no_watched_sensor_has_is_a_misspelling(tmp_path):
    """``sensor.warning_levl_m`` made yellow unreachable, and ``{sensor.nmae}`` said n/a, yet
    ``rules check --sensors`` said OK. A key only some stations have stays allowed."""
    from warning.registry import load_registry
    from warning.rules.load import check_sensor_keys

    reg = tmp_path / "sensors.yaml"
    reg.write_text("""sensors:
  - {id: wl1, kind: reservoir, region: wx, warning_level_m: 4.5}
  - {id: rs1, kind: reservoir, region: aj, flood_limit_m: 128}
  - {id: g1, kind: rainfall, region: aj}
""")
    rules = tmp_path / "r.yaml"
    rules.write_text("""rules:
  - id: level
    hazard: flood
    for_kind: reservoir
    levels:
      yellow: 'level_m >= sensor.warning_levl_m or level_m >= sensor.flood_limit_m'
    message: '{sensor.nmae}: {level_m:.2f} m[[ of {sensor.warning_level_m}]]'
  - id: rain
    hazard: rainstorm
    for_kind: rainfall
    levels:
      red: 'sum(rain_mm, 3h) >= sensor.flood_limit_m'
""")
    problems = check_sensor_keys(load_rules([rules]).rules, load_registry(reg))
    assert [(p.line, p.where, p.key) for p in problems] == [
        (2, "rule 'level'", "sensor.nmae"),
        (2, "rule 'level'", "sensor.warning_levl_m"),
        (8, "rule 'rain'", "sensor.flood_limit_m"),  # no rain gauge has one
    ]
    assert "expected a key of the 2 sensor(s) it watches" in problems[0].message
    assert "warning_level_m" in problems[1].message and "found 'warning_levl_m' in none" in (
        problems[1].message
    )
