"""Run a scenario through the shipped rules with the pipeline's backtest (files in, files out)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sensors_sim.files import write_readings, write_registry
from sensors_sim.generate import generate
from sensors_sim.scenario import Scenario
from warning.app import run_backtest, setup
from warning.config import Config, Pipeline
from warning.metrics import Metrics

RULES = Path(__file__).parents[2] / "rules"


@dataclass
class Backtest:
    """What the pipeline made of a scenario."""

    events: list[dict[str, Any]]
    rejected: list[dict[str, Any]]
    metrics: Metrics


def backtest(scenario: Scenario, folder: Path, pipeline: Pipeline | None = None) -> Backtest:
    """Write the scenario and its registry to ``folder`` and run the shipped rules over it."""
    readings = folder / f"{scenario.name}.jsonl"
    registry = folder / f"{scenario.name}.sensors.yaml"
    write_readings(generate(scenario), readings)
    with registry.open("w", encoding="utf-8") as out:
        write_registry(scenario.network, out)
    s = setup(
        Config(rules=[str(RULES)], sensors=str(registry), pipeline=pipeline or Pipeline()),
        Metrics(),
    )
    output = folder / f"{scenario.name}.events.jsonl"
    rejected = folder / f"{scenario.name}.rejected.jsonl"
    run_backtest(s, readings, output, rejected=rejected)

    def lines(path: Path) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    return Backtest(lines(output), lines(rejected), s.metrics)
