"""An ``Evaluator`` over rule text, for the per-sensor evaluation tests."""

from __future__ import annotations

from pathlib import Path

from warning.anomaly.health import Monitor
from warning.pipeline.evaluate import Evaluator
from warning.registry import Registry
from warning.rules.load import load_rules


def evaluator_for(
    folder: Path,
    rules: str,
    lateness_ms: int,
    monitor: Monitor | None = None,
    registry: Registry | None = None,
) -> Evaluator:
    """Load ``rules`` (YAML text, written to ``folder``); without ``registry``, for any sensor."""
    path = folder / "rules.yaml"
    path.write_text(rules)
    reg = registry if registry is not None else Registry({}, accept_unknown=True)
    return Evaluator(load_rules([path]), reg, lateness_ms, monitor=monitor)
