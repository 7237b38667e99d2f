"""``rules explain`` of an area rule: which sensors counted, with their values."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from warning.cli import app

ROOT = Path(__file__).parents[2]
REGISTRY = """sensors:
  - {id: gs-1, kind: gas, region: changxing}
  - {id: gs-2, kind: gas, region: changxing}
areas:
  - {id: cx_etdz_unit1, name: Unit 1, sensors: [gs-1, gs-2], region: changxing}
"""


def test_explain_names_the_sensors_that_counted(tmp_path):
    (tmp_path / "sensors.yaml").write_text(REGISTRY)
    t0 = 1789434000  # 2026-09-15T09:00:00+08:00
    rows = [
        {
            "sensor_id": sid,
            "kind": "gas",
            "ts": t0 + 60 * i,
            "values": {"lel_pct": 30.0 if (sid == "gs-1" and i >= 5) else 4.0},
        }
        for i in range(10)
        for sid in ("gs-1", "gs-2")
    ]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "explain",
            "gas_unit_corroborated",
            "--at",
            "2026-09-15T09:09:00+08:00",
            "--input",
            str(tmp_path / "in.jsonl"),
            "--rules",
            str(ROOT / "rules"),
            "--sensors",
            str(tmp_path / "sensors.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "  level: yellow  (sensors count if heard within 5 min)" in lines
    assert "  orange: count(lel_pct >= 25) >= 2  -> false" in lines
    assert "  yellow: count(lel_pct >= 25) >= 1  -> true" in lines
    at = lines.index("  lel_pct >= 25:")
    assert lines[at + 1 : at + 3] == ["    gs-1: true", "    gs-2: false"]
    at = lines.index("  lel_pct:")
    assert lines[at + 1 : at + 3] == ["    gs-1: 30", "    gs-2: 4"]
    assert "    gas_leak orange at gs-1" in lines  # the detector's own warning, in the area


def test_explain_of_an_area_rule_needs_one_of_its_areas(tmp_path):
    (tmp_path / "sensors.yaml").write_text(REGISTRY)
    (tmp_path / "in.jsonl").write_text("")
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "explain",
            "county_integrated_risk",
            "--at",
            "2026-09-15T09:09:00+08:00",
            "--input",
            str(tmp_path / "in.jsonl"),
            "--rules",
            str(ROOT / "rules"),
            "--sensors",
            str(tmp_path / "sensors.yaml"),
        ],
    )
    assert result.exit_code == 1
    assert "--area: expected one of wuxing, nanxun, deqing, changxing, anji" in result.output
