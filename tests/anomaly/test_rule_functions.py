"""``anomaly(FIELD)`` and ``fault([NAME])`` in rule conditions, loaded and evaluated."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from warning.anomaly.faults import FaultSettings
from warning.metrics import Metrics
from warning.pipeline.steps import Steps
from warning.records import Reading
from warning.registry import Registry
from warning.rules.load import load_rules
from warning.yamlfile import ConfigError

RULES = """\
rules:
  - id: gas_detector_health
    hazard: sensor_check
    for_kind: gas
    levels:
      yellow: 'fault("dropout")'
      blue: "anomaly(lel_pct) >= 0.7 and not fault()"
    message: "score {anomaly(lel_pct):.2f}"
"""
T0 = 1_780_000_000_000


def _engine(tmp_path: Path, text: str = RULES, faults: FaultSettings | None = None) -> Steps:
    f = tmp_path / "health.yaml"
    f.write_text(text)
    return Steps(
        load_rules([f]),
        Registry({}, accept_unknown=True),
        600_000,
        Metrics(),
        faults=faults or FaultSettings(),
    )


def _run(engine: Steps, values: list[tuple[float, float]]) -> list[tuple[int, str, str]]:
    state, out = None, []
    for i, (lel, h2s) in enumerate(values):
        r = Reading("gs-1", "gas", "cx", T0 + i * 300_000, {"lel_pct": lel, "h2s_ppm": h2s})
        state, outcome = engine.evaluate(state, r)
        out += [
            (i, e.rule_id, e.level.colour if e.level else "-")
            for e in outcome.events
            if e.event != "cleared"
        ]
    return out


def _healthy(n: int) -> list[tuple[float, float]]:
    rng = random.Random(3)
    return [(round(1 + rng.gauss(0, 0.2), 1), round(0.2 + rng.gauss(0, 0.04), 2)) for _ in range(n)]


def test_fault_and_anomaly_drive_a_rule(tmp_path: Path) -> None:
    """A level shift is anomalous (blue); a dropout makes fault("dropout") hold (yellow)."""
    values = _healthy(120)
    values[60:64] = [(9.0, 0.2)] * 4  # a step the detectors score high, not a fault
    values[100:106] = [(0.0, 0.0)] * 6
    events = _run(_engine(tmp_path), values)
    mine = [e for e in events if e[1] == "gas_detector_health"]
    assert mine[0] == (60, "gas_detector_health", "blue")
    assert (100, "gas_detector_health", "yellow") in mine
    assert (100, "sensor_fault_dropout", "blue") in events
    assert not [e for e in mine if e[0] < 60]


def test_without_detectors_the_functions_are_unknown_and_never_fire(tmp_path: Path) -> None:
    """With the detectors off, anomaly() and fault() are None: conditions stay false."""
    engine = _engine(tmp_path)
    engine_off = Steps(engine.rules, engine.registry, 600_000, Metrics(), faults=None)
    values = _healthy(120)
    values[100:106] = [(0.0, 0.0)] * 6
    assert _run(engine_off, values) == []


@pytest.mark.parametrize(
    ("condition", "problem"),
    [
        (
            'fault("wobble")',
            "levels.red: expected fault() or fault(NAME) with NAME among spike, "
            "stuck, dropout, drift, clock_skew, found '\"wobble\"'",
        ),
        (
            "anomaly(rain_mm) > 0.5",
            "levels.red: expected a field among cl2_ppm, co_ppm, h2s_ppm, "
            "lel_pct, nh3_ppm, o2_pct, found unknown field 'rain_mm'",
        ),
        (
            "anomaly(lel_pct)",
            "levels.red: expected a condition (a comparison), found the number "
            "expression 'anomaly(lel_pct)'",
        ),
        (
            '"stuck" > 1',
            "levels.red: expected a number, found the string '\"stuck\"' outside fault()",
        ),
    ],
)
def test_loader_checks_the_functions(tmp_path: Path, condition: str, problem: str) -> None:
    """Mistakes are reported as FILE:LINE: rule 'ID': KEY: expected ..., found ...."""
    text = textwrap.dedent(f"""\
        rules:
          - id: bad
            hazard: sensor_check
            for_kind: gas
            levels:
              red: '{condition}'
        """)
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_rules([f])
    (found,) = [str(p) for p in exc.value.problems]
    assert found.startswith(f"{f}:6: rule 'bad': {problem}")


def test_fault_hazard_series_start_at_zero(tmp_path: Path) -> None:
    """Dashboards see sensor_fault at zero from start-up (and not when detectors are off)."""
    on = _engine(tmp_path)
    sample = on.metrics.registry.get_sample_value(
        "hazard_warning_events_total",
        {"hazard": "sensor_fault", "level": "blue", "event": "raised"},
    )
    assert sample == 0.0
    off = Steps(on.rules, on.registry, 600_000, Metrics(), faults=None)
    assert (
        off.metrics.registry.get_sample_value(
            "hazard_warning_events_total",
            {"hazard": "sensor_fault", "level": "blue", "event": "raised"},
        )
        is None
    )
