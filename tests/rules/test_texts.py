"""Rule texts per language: messages, instructions, value labels and the decisive value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from warning.cli import app
from warning.records import Level
from warning.rules.load import load_rules
from warning.rules.texts import language_problems
from warning.yamlfile import ConfigError

ROOT = Path(__file__).parents[2]
BOTH = ("zh-CN", "en")

RULE = """\
rules:
  - id: r1
    hazard: rainstorm
    for_kind: rainfall
    levels:
      red: "sum(rain_mm, 3h) >= 100"
      orange: "sum(rain_mm, 3h) >= 50"
    values:
      rain_3h_mm: {expr: "sum(rain_mm, 3h)", label: {zh-CN: 3小时雨量, en: rain in 3 h}, unit: mm}
    message:
      zh-CN: "{sensor.name}：{rain_3h_mm:.1f}毫米"
      en: "{sensor.name}: {rain_3h_mm:.1f} mm"
    instruction:
      red: {zh-CN: 启动I级应急响应, en: Level-I response}
      orange: {zh-CN: 启动II级应急响应, en: Level-II response}
"""


def _load(tmp_path: Path, text: str):
    f = tmp_path / "r.yaml"
    f.write_text(textwrap.dedent(text))
    return load_rules([f])


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    return [str(p).replace(str(tmp_path / "r.yaml"), "F") for p in err.value.problems]


def test_texts_per_language_labels_units_and_the_decisive_value(tmp_path):
    (rule,) = _load(tmp_path, RULE).rules
    assert set(rule.message[Level.RED]) == {"zh-CN", "en"}
    assert rule.instruction[Level.ORANGE] == {
        "zh-CN": "启动II级应急响应",
        "en": "Level-II response",
    }
    assert rule.labels["rain_3h_mm"] == {"zh-CN": "3小时雨量", "en": "rain in 3 h"}
    assert rule.units["rain_3h_mm"] == {"*": "mm"}
    # The level conditions compare the named value with a threshold: that value decides.
    assert [(d.name, d.op) for d in rule.decisive[Level.RED]] == [("rain_3h_mm", ">=")]
    assert language_problems([rule], BOTH) == []


def test_a_single_string_still_works_and_is_reported_only_for_a_routing_language(tmp_path):
    (rule,) = _load(
        tmp_path,
        RULE.replace(
            '    message:\n      zh-CN: "{sensor.name}：{rain_3h_mm:.1f}毫米"\n      en: '
            '"{sensor.name}: {rain_3h_mm:.1f} mm"',
            '    message: "{sensor.name}: {rain_3h_mm:.1f} mm"',
        ),
    ).rules
    assert set(rule.message[Level.RED]) == {"*"}
    assert language_problems([rule], ()) == []
    (problem,) = language_problems([rule], BOTH)
    assert (problem.key, problem.message) == (
        "message",
        "expected a text in zh-CN, en (the routing file sends them), found none",
    )


def test_a_missing_language_and_an_unlabelled_value_are_reported(tmp_path):
    # (Every level in the same languages: a level short of one is a load error of its own.)
    text = (
        RULE.replace("en: Level-I response", "fr: Réponse I")
        .replace("en: Level-II response", "fr: Réponse II")
        .replace("rain_3h_mm: {expr", 'rain_6h_mm: "sum(rain_mm, 6h)"\n      rain_3h_mm: {expr')
    )
    (rule,) = _load(tmp_path, text).rules
    found = {(p.key, p.message) for p in language_problems([rule], BOTH)}
    assert found == {
        ("instruction", "expected a text in en (the routing file sends them), found none"),
        (
            "values.rain_6h_mm",
            "expected a label in zh-CN, en (messages show it to officers), found none",
        ),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a value's mapping with an unknown key
        (
            RULE.replace("unit: mm}", "unit: mm, colour: red}"),
            "F:9: rule 'r1': values.rain_3h_mm: colour: expected one of expr, label, unit",
        ),
        # a label that is neither a text nor texts per language
        (
            RULE.replace("label: {zh-CN: 3小时雨量, en: rain in 3 h}", "label: [a, b]"),
            "F:9: rule 'r1': values.rain_3h_mm.label: expected a text or texts per language "
            "(zh-CN, en), found a list",
        ),
        # levels and languages mixed as keys of one mapping
        (
            RULE.replace(
                "      orange: {zh-CN: 启动II级应急响应, en: Level-II response}",
                "      en: Level-II response",
            ),
            "F:13: rule 'r1': instruction: expected levels or languages as keys, found both",
        ),
    ],
)
def test_bad_texts_are_located(tmp_path, text, expected):
    problems = _problems(tmp_path, text)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_shipped_rule_speaks_both_languages():
    rules = load_rules([ROOT / "rules"]).rules
    assert language_problems(rules, BOTH) == []


def test_rules_check_with_a_routing_file_reports_missing_languages(tmp_path):
    rules = tmp_path / "r.yaml"
    rules.write_text(
        RULE.replace("en: Level-I response", "fr: Réponse I").replace(
            "en: Level-II response", "fr: Réponse II"
        )
    )
    routing = tmp_path / "routing.yaml"
    routing.write_text(
        "channels:\n  a: {url: 'json://x', style: sms, language: zh}\n"
        "  b: {url: 'json://y', style: push, language: en}\n"
    )
    result = CliRunner().invoke(app, ["rules", "check", str(rules), "--routing", str(routing)])
    assert result.exit_code == 1
    assert "instruction: expected a text in en" in result.output
    zh_only = tmp_path / "zh.yaml"
    zh_only.write_text("channels:\n  a: {url: 'json://x', style: sms, language: zh-CN}\n")
    result = CliRunner().invoke(app, ["rules", "check", str(rules), "--routing", str(zh_only)])
    assert result.exit_code == 0 and "1 rules OK in zh-CN" in result.output
