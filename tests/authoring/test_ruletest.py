"""Rule tests (``hazard-warning rules test``): the shipped ones, failures, and strict loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from warning.authoring.ruletest import format_offset, load_test_files, parse_duration, parse_series
from warning.cli import app
from warning.rules.load import load_rules, rule_files

ROOT = Path(__file__).parents[2]
runner = CliRunner()

REGISTRY = """sensors:
  - {id: rg-1, kind: rainfall, name: Gauge, region: wuxing}
"""


def rules_test(*paths):
    return runner.invoke(app, ["rules", "test", *map(str, paths)])


def write_test(tmp_path, text, name="rainstorm"):
    """Copy a shipped rule file beside a test file written from ``text``."""
    shutil.copy(ROOT / "rules" / f"{name}.yaml", tmp_path / f"{name}.yaml")
    path = tmp_path / f"{name}.test.yaml"
    path.write_text(text)
    return path


def test_the_shipped_rule_tests_pass():
    cases = sum(len(f.cases) for f in load_test_files([ROOT / "rules"]))
    result = rules_test(ROOT / "rules")
    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert lines[-1] == f"{cases} passed, 0 failed"
    assert len(lines) == cases + 1
    assert all(
        line.startswith("PASS rules") or line.startswith(f"PASS {ROOT}") for line in lines[:-1]
    )


def test_every_shipped_rule_file_has_tests_of_each_level_and_of_clearing():
    # Like a contract checked for every implementation: a new rule file, rule or level
    # without a test fails here.
    tested = {tf.path.name: tf for tf in load_test_files([ROOT / "rules"])}
    for path in rule_files([ROOT / "rules"]):
        tf = tested.get(path.name.replace(".yaml", ".test.yaml"))
        assert tf is not None, f"{path.name} has no test file"
        expected = [e for case in tf.cases for e in case.expect]
        for rule in load_rules([path]).rules:
            if rule.no_data:
                assert any(e.rule == rule.silence_id and e.event == "raised" for e in expected), (
                    rule.silence_id
                )
            for level, _ in rule.levels:
                assert any(e.rule == rule.id and e.level == level.colour for e in expected), (
                    rule.id,
                    level.colour,
                )
            if rule.levels:
                assert any(e.rule == rule.id and e.event == "cleared" for e in expected), rule.id


def test_a_failing_case_shows_what_was_expected_and_what_happened(tmp_path):
    # 10 mm every 5 min: 50 mm in 3 h at the 5th reading, +20m, orange; nothing else.
    path = write_test(
        tmp_path,
        REGISTRY
        + """cases:
  - name: off by one reading
    start: 2026-07-05T00:00:00+08:00
    interval: 5m
    series:
      rg-1: {rain_mm: "10x5 0x3"}
    expect:
      - {at: "+25m", rule: rainstorm, event: raised, level: orange, values: {rain_3h_mm: 40}}
      - {at: "+30m", rule: rainstorm, event: escalated, level: red, previous: orange}
  - name: right within 5 min
    start: 2026-07-05T00:00:00+08:00
    interval: 5m
    within: 5m
    series:
      rg-1: {rain_mm: "10x5 0x3"}
    expect:
      - {at: "+25m", rule: rainstorm, event: raised, level: orange}
""",
    )
    result = rules_test(path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"FAIL {path}::off by one reading",
        "    - expected, not produced   + produced, not expected",
        "  +      +20m 2026-07-05T00:20:00+08:00  rainstorm raised orange rg-1 rain_3h_mm=50",
        "  -      +25m 2026-07-05T00:25:00+08:00  rainstorm raised orange rg-1 rain_3h_mm=40",
        "  -      +30m 2026-07-05T00:30:00+08:00  rainstorm escalated red (from orange) rg-1",
        f"PASS {path}::right within 5 min",
        "1 passed, 1 failed",
    ]


def test_unexpected_events_fail_unless_told_otherwise_and_rules_narrow_the_check(tmp_path):
    # 5 mm every 5 min for 20 readings: orange at +45m, red at +1h35m.
    body = """  - name: {name}
    start: 2026-07-05T00:00:00+08:00
    interval: 5m
    {extra}
    series:
      rg-1: {{rain_mm: "5x20"}}
    expect:
      - {{at: "+45m", rule: rainstorm, event: raised, level: orange}}
"""
    cases = [
        ("strict", "within: 0m"),
        ("lenient", "no_other_events: false"),
        ("other rules only", "rules: [silent_rain_gauge]"),
    ]
    text = (
        REGISTRY
        + "rule_files: [rainstorm.yaml, silence.yaml]\ncases:\n"
        + "".join(body.format(name=n, extra=e) for n, e in cases)
    )
    shutil.copy(ROOT / "rules" / "silence.yaml", tmp_path / "silence.yaml")
    path = write_test(tmp_path, text)
    lines = rules_test(path).output.splitlines()
    assert lines[0] == f"FAIL {path}::strict"
    assert (
        lines[3] == "  +    +1h35m 2026-07-05T01:35:00+08:00  rainstorm escalated red "
        "(from orange) rg-1"
    )
    assert f"PASS {path}::lenient" in lines
    # The expected rainstorm event is not among the rules under test: it is missing.
    assert f"FAIL {path}::other rules only" in lines
    assert lines[-1] == "1 passed, 2 failed"


def test_explicit_readings_merge_with_series_and_rejections_fail_the_case(tmp_path):
    path = write_test(
        tmp_path,
        REGISTRY
        + """cases:
  - name: explicit readings
    # 40 mm of series, then 10 mm at +25m by an explicit reading: 50 mm, orange.
    start: 2026-07-05T00:00:00+08:00
    interval: 5m
    series:
      rg-1: {rain_mm: "10x4 _ 0"}
    readings:
      - {ts: "+20m", values: {rain_mm: 0}}
      - {ts: 2026-07-05T00:25:00+08:00, values: {rain_mm: 10}}
    expect:
      - {at: "+25m", rule: rainstorm, event: raised, level: orange}
  - name: an impossible reading
    start: 2026-07-05T00:00:00+08:00
    interval: 5m
    series:
      rg-1: {rain_mm: "0 500 0"}
    expect: []
""",
    )
    lines = rules_test(path).output.splitlines()
    assert lines[0] == f"PASS {path}::explicit readings"
    assert lines[1] == f"FAIL {path}::an impossible reading"
    assert lines[2].startswith("  ! rejected reading: out_of_range: ")
    assert lines[-1] == "1 passed, 1 failed"


def test_malformed_test_files_are_reported_line_by_line(tmp_path):
    path = write_test(
        tmp_path,
        """sensors:
  - {id: rg-1, kind: rainfall, lat: 95}
  - {id: rg-2, kind: rain}
cases:
  - name: one
    start: 2026-07-05T00:00:00
    interval: 5min
    series:
      rg-1: {rain_mm: "5x20 0y3", level_m: "1"}
      rg-7: {rain_mm: "1"}
    expect:
      - {at: "+45m", rule: rainstrom, event: raised, level: orange, subject: rg-1}
      - {at: soon, rule: rainstorm, event: cleared, level: blue, subject: rg-1}
      - {at: "+1h", rule: rainstorm, event: raised, level: purple}
  - name: one
    start: 2026-07-05T00:00:00+08:00
    readings:
      - {sensor: rg-1, ts: "+5m", values: {rain_mm: a lot}}
      - {ts: 2026-07-05, values: {rain_mm: 1}}
    expect: {}
    colour: red
""",
    )
    result = rules_test(path)
    assert result.exit_code == 1
    where = f"{path}:"
    assert result.output.splitlines() == [
        where + "2: sensors.rg-1.lat: expected a number from -90 to 90, found 95",
        where + "3: sensors.rg-2.kind: expected a kind among gas, rainfall, reservoir, river, "
        "slope, weather, found 'rain'",
        where + "6: case 'one': start: expected an RFC 3339 time with an offset, found "
        "'2026-07-05T00:00:00'",
        where + "7: case 'one': interval: expected a duration like 5m, 3h or 7h15m, found '5min'",
        where + "9: case 'one': series.rg-1.rain_mm: expected values like "
        "'0x12 5x6 3.8..4.6x9 _x3', found '0y3'",
        where + "9: case 'one': series.rg-1.level_m: expected a field of kind rainfall "
        "(rain_mm), found 'level_m'",
        where + "10: case 'one': series.rg-7: expected a sensor of the case's sensors "
        "(rg-1, rg-2), found 'rg-7'",
        where + "12: case 'one': expect.1.rule: expected a rule id among rainstorm, found "
        "'rainstrom'",
        where + "13: case 'one': expect.2.at: expected an RFC 3339 time with an offset or an "
        "offset like +7h15m, found 'soon'",
        where + "13: case 'one': expect.2.level: expected no level on a cleared event (the "
        "cleared level is 'previous'), found 'blue'",
        where + "14: case 'one': expect.3.level: expected a level among blue, yellow, orange, "
        "red, found 'purple'",
        where + "14: case 'one': expect.3.subject: expected this key when the case has "
        "several sensors, found it missing",
        where + "15: case 'one': name: expected a unique case name, found one already used "
        "at line 5",
        where + "18: case 'one': readings.1.values.rain_mm: expected a number, found 'a lot'",
        where + "19: case 'one': readings.2.sensor: expected a sensor of the case's sensors "
        "(rg-1, rg-2), found it missing",
        where + "19: case 'one': readings.2.ts: expected an RFC 3339 time with an offset or "
        "an offset like +7h15m, found '2026-07-05'",
        where + "20: case 'one': expect: expected a list of expected events ([] for none), "
        "found a mapping",
        where + "21: case 'one': colour: expected one of name, description, sensors, rules, "
        "start, interval, series, readings, expect, within, no_other_events, found "
        "unknown key 'colour'",
    ]


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        # A rule file given where a test file is expected.
        (
            "rules:\n  - id: x\n",
            "1: cases: expected a mapping with a 'cases' list, found a rule file",
        ),
        ("cases: {}\n", "1: cases: expected a mapping with a 'cases' list, found a mapping"),
        (
            "cases:\n  - name: a\n    start: 2026-07-05T00:00:00+08:00\n    expect: []\n",
            [
                "2: case 'a': sensors: expected sensors in the case or the file, found none",
                "2: case 'a': series: expected series, readings or both, found neither",
            ],
        ),
        (
            "sensors: [{id: rg-1, kind: rainfall}]\ncases:\n  - name: a\n"
            "    start: 2026-07-05T00:00:00+08:00\n    expect: []\n",
            "3: case 'a': series: expected series, readings or both, found neither",
        ),
        (
            "sensors: [{id: rg-1, kind: rainfall}]\ncases:\n  - name: a\n"
            "    start: 2026-07-05T00:00:00+08:00\n    series: {rg-1: {rain_mm: '1 2'}}\n"
            "    expect: []\n",
            "3: case 'a': interval: expected this key (or series.rg-1.interval) for the series, "
            "found it missing",
        ),
        (
            "sensors: [{id: rg-1, kind: rainfall}]\ncases:\n  - name: a\n"
            "    start: 2026-07-05T00:00:00+08:00\n    interval: 5m\n"
            "    series: {rg-1: {rain_mm: '1..2'}}\n    expect: []\n    rules: [rain]\n",
            [
                "6: case 'a': series.rg-1.rain_mm: expected values like '0x12 5x6 3.8..4.6x9 _x3', "
                "found '1..2'",
                "8: case 'a': rules: expected a rule id among rainstorm, found 'rain'",
            ],
        ),
        (
            "sensors: [{id: rg-1, kind: rainfall}]\ncases:\n  - name: a\n"
            "    start: 2026-07-05T00:00:00+08:00\n    interval: 5m\n"
            "    series: {rg-1: {rain_mm: '10x5'}}\n    expect:\n"
            "      - {at: '+20m', rule: rainstorm, event: raised, level: orange,\n"
            "         values: {rain_3h: 50}}\n",
            "9: case 'a': expect.1.values.rain_3h: expected a value of rule 'rainstorm' (rain_1h_mm, "
            "rain_3h_mm, rain_6h_mm, rain_12h_mm), found 'rain_3h'",
        ),
    ],
)
def test_one_problem_one_line(tmp_path, text, lines):
    path = write_test(tmp_path, text)
    result = rules_test(path)
    assert result.exit_code == 1
    lines = [lines] if isinstance(lines, str) else lines
    assert result.output.splitlines() == [f"{path}:{line}" for line in lines]


def test_a_broken_rule_file_under_test_is_reported_with_its_own_lines(tmp_path):
    (tmp_path / "r.yaml").write_text(
        "rules:\n  - id: r\n    hazard: x\n    for_kind: rainfall\n"
        '    levels: {red: "sum(rain_mm, 3h) >"}\n'
    )
    path = tmp_path / "r.test.yaml"
    path.write_text(REGISTRY + "cases: []\n")
    result = rules_test(path)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{tmp_path / 'r.yaml'}:5: rule 'r': levels.red: expected a valid expression at column "
        "18, found the end of the expression"
    ]


def test_no_test_files_found(tmp_path):
    result = rules_test(tmp_path)
    assert result.exit_code == 1
    assert (
        result.output.strip() == f"{tmp_path}:1: expected rule test files (*.test.yaml), found none"
    )


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("5", [5.0]),  # one reading
        ("0x3 5", [0.0, 0.0, 0.0, 5.0]),  # VxN repeats
        ("3.8..4.2x5", [3.8, 3.9, 4.0, 4.1, 4.2]),  # a ramp, both ends included, exact to 1e-9
        ("1 _x2 1", [1.0, None, None, 1.0]),  # gaps: no reading, time goes on
        ("-2.5x2 -1..1x3", [-2.5, -2.5, -1.0, 0.0, 1.0]),  # negative values
        ("1\n  2", [1.0, 2.0]),  # any whitespace, e.g. a folded block
    ],
)
def test_series_notation(text, values):
    assert parse_series(text) == values


@pytest.mark.parametrize("text", ["", "5y3", "1..2", "1..2x1", "5x0", "x3", "1,2", "five"])
def test_series_notation_rejects(text):
    with pytest.raises(ValueError, match="expected|values like"):
        parse_series(text)


@pytest.mark.parametrize(
    ("text", "ms", "shown"),
    [
        ("5m", 300_000, "+5m"),
        ("7h15m", 26_100_000, "+7h15m"),
        ("1d2h30m", 95_400_000, "+1d2h30m"),
        ("90s", 90_000, "+1m30s"),  # printed in the largest units
        ("1.5h", 5_400_000, "+1h30m"),
    ],
)
def test_durations_and_offsets(text, ms, shown):
    assert parse_duration(text) == ms
    assert format_offset(ms) == shown


@pytest.mark.parametrize("text", ["5min", "", "m", "-5m", "5 m", 5])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="expected|a duration like"):
        parse_duration(text)
