"""The NAB-style scorer on hand-made cases, and the detectors' figures on the corpora."""

from __future__ import annotations

import pytest

from warning.anomaly import corpus
from warning.anomaly.evaluate import PROFILES, STANDARD, ScoredSeries, at, best, normalised, windows

N = 2000  # one label at 1000: window 900..1100 (10 % of the rows), probation 300 rows


def _with(*rows: int) -> list[float]:
    s = [0.0] * N
    for i in rows:
        s[i] = 1.0
    return s


def test_null_is_zero_and_perfect_is_one_hundred() -> None:
    """No detection scores 0; a detection on each window's first row scores 100."""
    assert normalised([ScoredSeries(_with(), [1000])], 0.5) == 0.0
    assert normalised([ScoredSeries(_with(900), [1000])], 0.5) == pytest.approx(100.0)


def test_earlier_is_better_and_only_the_first_detection_counts() -> None:
    """Later in the window earns less; more detections in the same window change nothing."""
    early = normalised([ScoredSeries(_with(920), [1000])], 0.5)
    late = normalised([ScoredSeries(_with(1090), [1000])], 0.5)
    assert 100 > early > late > 50
    assert normalised([ScoredSeries(_with(920, 950, 1050), [1000])], 0.5) == early


def test_false_positives_cost_and_probation_is_free() -> None:
    """A detection outside the windows costs up to A_FP; one in the probation costs nothing."""
    hit = at([ScoredSeries(_with(900), [1000])], 0.5)
    far = at([ScoredSeries(_with(900, 1800), [1000])], 0.5)
    before = at([ScoredSeries(_with(900, 500), [1000])], 0.5)
    probation = at([ScoredSeries(_with(900, 100), [1000])], 0.5)
    assert far.fp == before.fp == 1 and probation.fp == 0
    assert hit.raw - far.raw == pytest.approx(STANDARD.fp, abs=1e-3)
    assert hit.raw - before.raw == pytest.approx(STANDARD.fp)
    just_after = at([ScoredSeries(_with(900, 1105), [1000])], 0.5)
    assert 0 < hit.raw - just_after.raw < STANDARD.fp / 2  # just past a window: a small cost


def test_every_false_positive_row_counts() -> None:
    """NAB counts each detected row outside a window, not each run of them."""
    one = at([ScoredSeries(_with(900, 1800), [1000])], 0.5)
    three = at([ScoredSeries(_with(900, 1800, 1801, 1802), [1000])], 0.5)
    assert three.fp == 3 and one.raw - three.raw == pytest.approx(2 * STANDARD.fp, abs=1e-3)


def test_the_sweep_finds_the_best_threshold_among_the_scores() -> None:
    """The best threshold is one of the scores: here 0.7 keeps the hit and drops the FP at 0.6."""
    s = [0.0] * N
    s[950], s[1500] = 0.7, 0.6
    r = best([ScoredSeries(s, [1000])])
    assert r.threshold == 0.7 and r.tp == 1 and r.fp == 0
    assert r.score == pytest.approx(normalised([ScoredSeries(s, [1000])], 0.7))
    assert best([ScoredSeries(_with(), [1000])]).threshold == 1.1  # nothing to gain: no detection


def test_profiles_weigh_misses_and_false_alarms() -> None:
    """The low-FN profile scores a miss below zero harder; low-FP a false alarm."""
    s = [ScoredSeries(_with(900, 1500), [1000]), ScoredSeries(_with(), [1000])]
    std, low_fp, low_fn = (
        at(s, 0.5, PROFILES[p]).score
        for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
    )
    assert low_fp < std and low_fn > std  # one hit of two windows: FN weight 2 moves the null


def test_a_window_inside_the_probation_counts_only_for_perfect() -> None:
    """As NAB's runner: the null baseline counts scorable windows, perfect counts all."""
    s = ScoredSeries(_with(), ranges=[(10, 20), (900, 1100)])
    r = at([s], 0.5)
    assert r.windows == 2 and r.fn == 1 and r.raw == pytest.approx(-1.0)


def test_windows_share_ten_percent_and_merge() -> None:
    """Two labels share 10 % of the rows; labels close together make one window."""
    assert windows(N, [600, 1400]) == [(550, 650), (1350, 1450)]
    assert windows(N, [1000, 1050]) == [(950, 1100)]


@pytest.fixture(scope="module")
def figures() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, series in (("synthetic", corpus.synthetic()), ("simulated", corpus.simulated())):
        for det in ("robust_z", "seasonal_ewma", "cusum", "combined", "threshold", "random"):
            r = best(list(corpus.scored(det, series)))
            out.setdefault(name, {})[det] = r.score
            print(
                f"NAB-style {name:>9} {det:>13}: {r.score:6.1f} (threshold {r.threshold:.3f}, "
                f"TP {r.tp} FP {r.fp} FN {r.fn})"
            )
    return out


def test_streaming_detectors_beat_the_baselines_on_synthetic_series(figures) -> None:
    """On 24 NAB-like series, the combined detector beats random and a static threshold."""
    s = figures["synthetic"]
    assert s["combined"] > max(s["random"], s["threshold"]) + 10
    assert s["seasonal_ewma"] > s["combined"]  # diurnal series: the seasonal baseline wins


def test_on_simulated_faults_robust_z_is_best_and_threshold_worst(figures) -> None:
    """Faults of the simulator: spikes and dropouts favour the robust z-score."""
    s = figures["simulated"]
    assert s["robust_z"] == max(s.values())
    assert s["threshold"] == min(s.values())
