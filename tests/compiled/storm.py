"""A hill gauge's storm through the shipped rules with detectors on, for both builds."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from typing import Any

from warning.app import for_files, setup
from warning.config import Config
from warning.records import Reading

ROOT = Path(__file__).parents[2]
T0 = 1_783_231_200_000


def compiled_modules() -> list[str]:
    """Return the module names pyproject.toml lists for the compiled build."""
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hazard-warning"]
    return [p.removesuffix(".py").replace("/", ".") for p in listed["compiled"]]


def is_compiled() -> bool:
    """Return True if every listed module was loaded from an extension, False if none was."""
    kinds = {
        importlib.import_module(m).__file__.endswith(".so")  # type: ignore[union-attr]
        for m in compiled_modules()
    }
    assert len(kinds) == 1, "some listed modules are compiled and some are not"
    return kinds.pop()


def reading(m: int) -> Reading:
    """Minute ``m``: drizzle, an hour of 2 mm a minute from 60, a spike at 200, dry after 240."""
    mm = 2.0 if 60 <= m < 120 else (0.1 if m % 3 == 0 and m < 240 else 0.0)
    if m == 200:
        mm = 40.0
    return Reading("rg-1", "rainfall", "anji", T0 + 60_000 * m, {"rain_mm": mm}, m + 1)


def evaluate_from(state: Any, start: int, stop: int) -> tuple[Any, list]:
    """Evaluate minutes ``start`` to ``stop`` from ``state``; return the state and events."""
    s = setup(for_files(Config(), [ROOT / "rules"], None), replay=True)
    events = []
    for m in range(start, stop):
        state, outcome = s.steps.evaluate(state, reading(m))
        events += outcome.events
    return state, events
