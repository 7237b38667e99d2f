"""rules diff: two rule sets over the same readings, events matched by rule, subject and time."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from tests.support import storm
from warning.authoring.diff import APPEARED, CHANGED, DISAPPEARED, diff_events, render
from warning.cli import app

ROOT = Path(__file__).parents[2]


def ev(
    ts: str, event: str, level: str | None, rule: str = "rainstorm", subject: str = "rg-1"
) -> dict:
    e = {"rule_id": rule, "subject": subject, "ts": f"2026-07-05T{ts}:00+08:00", "event": event}
    if level:
        e["level"] = level
    return e


def test_matching_by_rule_subject_and_time():
    old = [
        ev("05:05", "raised", "yellow"),
        ev("07:15", "escalated", "orange"),
        ev("08:15", "escalated", "red"),
        ev("02:25", "raised", "yellow", "silence", "rg-3"),
        ev("04:00", "cleared", None, "silence", "rg-3"),
    ]
    new = [
        ev("05:05", "raised", "yellow"),
        ev("07:15", "escalated", "red"),
        ev("02:25", "raised", "yellow", "silence", "rg-3"),
        ev("04:00", "cleared", None, "silence", "rg-3"),
        ev("04:00", "cleared", None, "silence", "rg-9"),  # other subject: appeared
        ev("08:15", "raised", "blue", "landslide"),
    ]  # other rule, same time: appeared
    d = diff_events(old, new)
    assert d.unchanged == 3
    assert [(c.kind, c.ts[11:16], c.rule_id, c.subject) for c in d.changes] == [
        (APPEARED, "04:00", "silence", "rg-9"),
        (CHANGED, "07:15", "rainstorm", "rg-1"),
        (APPEARED, "08:15", "landslide", "rg-1"),
        (DISAPPEARED, "08:15", "rainstorm", "rg-1"),
    ]


def test_times_in_other_offsets_are_the_same_moment():
    old = [ev("05:05", "raised", "yellow")]
    new = [{**old[0], "ts": "2026-07-04T21:05:00Z"}]
    assert diff_events(old, new).changes == () and diff_events(old, new).unchanged == 1


def test_event_kind_change_at_the_same_time_is_a_change():
    d = diff_events([ev("12:00", "deescalated", "orange")], [ev("12:00", "cleared", None)])
    assert render(d) == [
        "~ 2026-07-05T12:00:00+08:00  rainstorm  rg-1  deescalated orange -> cleared",
        "0 unchanged, 0 appeared, 0 disappeared, 1 changed",
    ]


def test_identical_and_empty():
    events = [ev("05:05", "raised", "yellow")]
    assert render(diff_events(events, events)) == [
        "1 unchanged, 0 appeared, 0 disappeared, 0 changed"
    ]
    assert render(diff_events([], [])) == ["0 unchanged, 0 appeared, 0 disappeared, 0 changed"]


def test_rules_diff_command_runs_both_rule_sets_over_the_storm(tmp_path):
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(storm.REGISTRY))
    storm.write_jsonl(tmp_path / "in.jsonl", storm.readings())
    text = (ROOT / "rules" / "rainstorm.yaml").read_text()
    assert 'red: "sum(rain_mm, 3h) >= 100 or' in text
    (tmp_path / "new.yaml").write_text(
        text.replace('red: "sum(rain_mm, 3h) >= 100 or', 'red: "sum(rain_mm, 3h) >= 51 or')
    )
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "diff",
            str(ROOT / "rules" / "rainstorm.yaml"),
            str(tmp_path / "new.yaml"),
            "--input",
            str(tmp_path / "in.jsonl"),
            "--sensors",
            str(tmp_path / "sensors.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    # old: storm.EXPECTED_RG1; with red at 51 mm the 07:15 escalation (52 mm) goes to red,
    # the 08:15 one has nothing left to do, and the step-downs follow the earlier red
    assert result.output.splitlines() == [
        "~ 2026-07-05T07:15:00+08:00  rainstorm  rg-1  escalated orange -> escalated red",
        "- 2026-07-05T08:15:00+08:00  rainstorm  rg-1  escalated red",
        "- 2026-07-05T12:00:00+08:00  rainstorm  rg-1  deescalated orange",
        "+ 2026-07-05T12:30:00+08:00  rainstorm  rg-1  deescalated yellow",
        "- 2026-07-05T13:00:00+08:00  rainstorm  rg-1  deescalated yellow",
        "2 unchanged, 1 appeared, 3 disappeared, 1 changed",
    ]


def test_rules_diff_of_a_rule_set_with_itself_is_empty(tmp_path):
    storm.write_jsonl(tmp_path / "in.jsonl", storm.readings())
    rules = str(ROOT / "rules")
    result = CliRunner().invoke(
        app, ["rules", "diff", rules, rules, "--input", str(tmp_path / "in.jsonl")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(
        "unchanged, 0 appeared, 0 disappeared, 0 changed"
    )
    assert not result.output.startswith("0 unchanged")


def test_rules_diff_with_a_broken_rule_file_says_where(tmp_path):
    (tmp_path / "r.yaml").write_text("rules:\n  - id: r\n")
    (tmp_path / "in.jsonl").write_text("")
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "diff",
            str(ROOT / "rules"),
            str(tmp_path / "r.yaml"),
            "--input",
            str(tmp_path / "in.jsonl"),
        ],
    )
    assert result.exit_code == 1
    assert "r.yaml:2: rule 'r': hazard: expected this key, found it missing" in result.output
