"""The command line as a user runs it: exit codes and what it prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tests.support import storm
from warning.cli import app

ROOT = Path(__file__).parents[1]
runner = CliRunner()


def test_rules_check_accepts_the_shipped_rules():
    result = runner.invoke(app, ["rules", "check", str(ROOT / "rules")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("rules OK")


def test_rules_check_prints_one_line_per_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "rules:\n  - id: r\n    hazard: x\n    for_kind: rainfall\n"
        '    levels: {red: "sum(rain_mm, 3h) >"}\n    hold: soon\n'
    )
    result = runner.invoke(app, ["rules", "check", str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:5: rule 'r': levels.red: expected a valid expression at column 18, found the "
        "end of the expression",
        f"{bad}:6: rule 'r': hold: expected a duration like 30s, 10m, 3h or 1d, found 'soon'",
    ]


def test_backtest_command_end_to_end(tmp_path):
    (tmp_path / "sensors.yaml").write_text(yaml.safe_dump(storm.REGISTRY))
    storm.write_jsonl(tmp_path / "in.jsonl", storm.readings())
    result = runner.invoke(
        app,
        [
            "backtest",
            "--rules",
            str(ROOT / "rules"),
            "--sensors",
            str(tmp_path / "sensors.yaml"),
            "--input",
            str(tmp_path / "in.jsonl"),
            "--output",
            str(tmp_path / "out.jsonl"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    events = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [
        (e["ts"], e["event"], e.get("level"), e.get("previous_level"))
        for e in events
        if e["rule_id"] == "rainstorm"
    ] == storm.EXPECTED_RG1
    assert (
        f"{len(storm.readings())} readings, 0 rejected, {len(events)} warning events"
        in result.output
    )


def test_backtest_with_a_broken_rule_file_says_where(tmp_path):
    (tmp_path / "r.yaml").write_text("rules:\n  - id: r\n")
    (tmp_path / "in.jsonl").write_text("")
    result = runner.invoke(
        app,
        [
            "backtest",
            "--rules",
            str(tmp_path / "r.yaml"),
            "--input",
            str(tmp_path / "in.jsonl"),
            "--output",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "r.yaml:2: rule 'r': hazard: expected this key, found it missing" in result.output


def test_run_with_a_broken_config_says_where(tmp_path):
    (tmp_path / "c.yaml").write_text("mqtt:\n  prot: 1883\n")
    result = runner.invoke(app, ["run", "--config", str(tmp_path / "c.yaml")])
    assert result.exit_code == 1
    assert "c.yaml:2: mqtt.prot: expected one of host, port," in result.output


def test_module_entry_point_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "warning", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("run", "backtest", "rules", "demo"):
        assert command in out


def test_run_with_a_broken_routing_file_names_it_and_exits_1(tmp_path):
    from warning.demo.broker import free_port

    (tmp_path / "routing.yaml").write_text("route: {receiver: nobody}\nreceivers: {}\n")
    (tmp_path / "run.yaml").write_text(
        f"rules: [{ROOT / 'rules'}]\nmqtt: {{port: 1}}\nmetrics: {{port: {free_port()}}}\n"
        f"notify: {{routing: routing.yaml, port: {free_port()}}}\n"
    )
    result = runner.invoke(app, ["run", "--config", str(tmp_path / "run.yaml")])
    assert result.exit_code == 1
    assert "routing.yaml:1: route: receiver: expected one of the receivers" in result.output


PESTS_RULE = """rules:
  - id: pest_outbreak
    hazard: pests
    for_kind: pests
    levels:
      yellow: "max(trap_count, 1d) >= 50"
    message: "{sensor.name}: {max(trap_count, 1d):.0f} moths in a trap"
"""

PESTS_TEST = """sensors:
  - {id: pt-1, kind: pests, name: Orchard trap, region: changxing}
cases:
  - name: a full trap raises yellow
    start: 1998-06-01T00:00:00+08:00
    interval: 1h
    series:
      pt-1: {trap_count: "10 60"}
    expect:
      - {at: "+1h", rule: pest_outbreak, event: raised, level: yellow}
"""


def test_rules_check_and_test_know_the_kinds_a_config_declares(tmp_path):
    (tmp_path / "pests.yaml").write_text(PESTS_RULE)
    (tmp_path / "pests.test.yaml").write_text(PESTS_TEST)
    (tmp_path / "config.yaml").write_text(
        "rules: [pests.yaml]\nkinds: {pests: {trap_count: {min: 0, max: 10000}}}\n"
    )
    # Without the config the kind is unknown, and the problem names file, line and key.
    result = runner.invoke(app, ["rules", "check", str(tmp_path / "pests.yaml")])
    assert result.exit_code == 1
    assert (
        f"{tmp_path / 'pests.yaml'}:4: rule 'pest_outbreak': for_kind: expected a kind among"
        in result.output
        and "found 'pests'" in result.output
    )
    config = str(tmp_path / "config.yaml")
    result = runner.invoke(app, ["rules", "check", str(tmp_path / "pests.yaml"), "-c", config])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 rules OK"
    result = runner.invoke(app, ["rules", "check", "--config", config])  # the config's rules
    assert result.exit_code == 0 and result.output.strip() == "1 rules OK", result.output
    result = runner.invoke(app, ["rules", "test", str(tmp_path), "--config", config])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "1 passed, 0 failed"
