"""The data-quality judge on hand-made faults, and the LRO event scoring on hand-made labels."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from warning.anomaly import lro
from warning.anomaly.quality import Quality, is_sentinel


def _run(values: list[float], **params: float) -> list[float]:
    d = Quality(**params)
    out = []
    for x in values:
        out.append(d.score_one(x))
        d.learn_one(x)
    return out


def _noisy(n: int, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [10 + math.sin(i / 30) + rng.gauss(0, 0.05) for i in range(n)]


def test_sentinels_score_one_and_are_never_learned() -> None:
    """-9999 and NaN are faults; the values after them score as if they never came."""
    x = _noisy(200)
    clean = _run(x)
    x2 = x[:100] + [-9999.0, float("nan")] + x[100:]
    dirty = _run(x2)
    assert dirty[100] == dirty[101] == 1.0
    assert dirty[102:] == clean[100:]
    assert is_sentinel(9999) and not is_sentinel(-9.999)


def test_a_spike_is_named_on_the_reading_after_it_and_a_step_is_not() -> None:
    """Out and back: the next reading scores >= 0.5; a lasting step never does."""
    x = _noisy(200)
    x[120] += 30
    s = _run(x)
    assert s[121] >= 0.5 and max(s[:120]) < 0.5 and max(s[122:]) < 0.5
    step = _noisy(200)
    step[120:] = [v + 30 for v in step[120:]]
    assert max(_run(step)) < 0.5


def test_stuck_dropout_and_range_signs() -> None:
    """A long repeat, a zero among positives and a value out of the physical range."""
    x = _noisy(200) + [10.5] * 40
    s = _run(x)
    assert max(s[:229]) < 0.5 and s[230] == 0.6  # the 30th repeat of a changing sensor
    x = _noisy(100) + [0.0]
    assert _run(x)[-1] == 0.7
    assert _run([*_noisy(50), 25.0], high=20.0)[-1] >= 0.8


def test_event_counts_follow_pyhydroqc() -> None:
    """Widened by one row: touching events merge; detected-only, labelled-only and both."""
    labels = np.zeros(40, dtype=bool)
    detected = np.zeros(40, dtype=bool)
    labels[5:8] = True
    detected[9] = True  # two rows after the label: the widened events touch -> a hit
    labels[20] = True  # missed
    detected[30] = True  # false alarm
    assert lro.event_counts(labels, detected) == (1, 1, 1)


def test_the_baseline_flags_range_and_persistence() -> None:
    """Out of the authors' range, or ``persist`` equal values in a row."""
    x = np.array([1.0, 2.0, 50.0, 3.0, 4.0, 4.0, 4.0, 5.0])
    s = lro.LroSeries("t", x, np.zeros(8, dtype=bool), 0.0, 10.0, 3)
    assert lro.baseline(s).tolist() == [False, False, True, False, True, True, True, False]


def test_loading_names_a_folder_without_the_data(tmp_path: Path) -> None:
    """A folder without the PyHydroQC files is a clear error."""
    (tmp_path / "pyhydroqc").mkdir()
    (tmp_path / "pyhydroqc" / "parameters.py").write_text(
        "site_params = {\n    'Mendon': {\n        'temp': Parameters(max_range=28,\n"
        "                           min_range=-2,\n                           persist=30,\n"
    )
    assert lro.parameters(tmp_path / "pyhydroqc" / "parameters.py") == {
        ("Mendon", "temp"): (-2.0, 28.0, 30)
    }
    with pytest.raises(OSError):
        lro.load(tmp_path)


def test_lro_pipeline_flags_what_the_monitor_names() -> None:
    """The live fault naming, driven over a series, flags a lone spike and a run of zeros."""
    x = np.r_[10.0 + 0.1 * np.sin(np.arange(300)), np.nan, 40.0, 10.0, np.zeros(6), 10.0]
    s = lro.LroSeries("Site.temp", x, np.zeros(x.size, dtype=bool), -5.0, 30.0, 8)
    named = lro.pipeline(named_only=True)(s)
    flagged = lro.pipeline()(s)
    assert not flagged[:300].any()  # clean data, nothing flagged
    assert not flagged[300]  # a missing value is never sent
    assert flagged[301] and not named[301]  # the spike candidate is suspect at once
    assert named[302]  # named a spike when the next reading comes back
    assert named[303:309].any()  # the zeros are named a dropout
    assert (flagged | ~named).all()
