"""A sensor's state stays compact: implicit timestamps, byte codes, shared per-sensor caches."""

from __future__ import annotations

import pickle
from pathlib import Path

from warning.app import for_files, setup
from warning.config import Config
from warning.records import Reading

ROOT = Path(__file__).parents[2]
T0 = 1_783_231_200_000


def test_a_day_of_minute_reports_keeps_a_byte_a_point_and_shares_the_caches():
    s = setup(for_files(Config(), [ROOT / "rules"], None), replay=True)
    states = {}
    for sid in ("rg-1", "rg-2"):
        state = None
        for m in range(26 * 60):
            mm = 0.3 if m % 7 == 0 else 0.0
            r = Reading(sid, "rainfall", "anji", T0 + 60_000 * m, {"rain_mm": mm}, m + 1)
            state, _ = s.steps.evaluate(state, r)
        states[sid] = state
    rain = states["rg-1"].series["rain_mm"]
    assert rain.codes.typecode == "b" and rain.scale == 10  # 0.1 mm tips, one byte each
    assert rain.times.ts is None and len(rain.times.runs) == 3  # one run of minute reports
    assert len(rain.codes) <= len(rain) * 9 // 8 + 64  # compaction leaves little dead space
    assert len(list(states["rg-1"].recent)) <= s.steps.lateness_ms // 60_000 + 1
    ev = s.steps.evaluator
    assert ev.horizons("rg-1", "rainfall", "anji") is ev.horizons("rg-2", "rainfall", "anji")
    assert ev.applicable("rg-1", "rainfall", "anji") is ev.applicable("rg-2", "rainfall", "anji")
    # The snapshot: the series' live points and the detectors, not a float per point.
    assert len(pickle.dumps(states["rg-1"])) < 8_000
