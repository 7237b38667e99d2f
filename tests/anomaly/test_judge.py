"""The default detector's fault checks on hand-made faults: each fires on its fault, none on clean data."""

from __future__ import annotations

import copy
import math
import pickle
import random

from warning.anomaly.detectors import make
from warning.anomaly.judge import Judge

M = 60_000  # one reading a minute


def _clean(n: int, seed: int = 7) -> list[float]:
    rng = random.Random(seed)
    return [10 + math.sin(i / 40) + rng.gauss(0, 0.05) for i in range(n)]


def _run(values: list[float], **params: float) -> tuple[list[float], list[dict[str, float]]]:
    d = Judge(**params)
    scores, signs = [], []
    for i, x in enumerate(values):
        signs.append(d.checks(x, i * M))
        scores.append(d.score_one(x, i * M))
        d.learn_one(x, i * M)
    return scores, signs


def _faults(signs: list[dict[str, float]]) -> list[tuple[int, str]]:
    return [(i, k) for i, s in enumerate(signs) for k in s]


def test_default_is_the_judge() -> None:
    """``--detector default`` runs the judge."""
    assert isinstance(make("default"), Judge)


def test_a_clean_series_gives_no_fault_sign_and_scores_below_the_fault_band() -> None:
    """Noise on a slow wave for 5,000 readings: no check fires, every score stays under 0.5."""
    scores, signs = _run(_clean(5000))
    assert _faults(signs) == []
    assert max(scores) < 0.5


def test_a_sentinel_scores_one_and_is_never_learned() -> None:
    """-9999 and NaN score 1; the readings after them score as if they never came."""
    x = _clean(400)
    clean, _ = _run(x)
    dirty, signs = _run(x[:300] + [-9999.0, float("nan")] + x[300:])
    assert dirty[300] == dirty[301] == 1.0 and signs[300] == {"sentinel": 1.0}
    assert dirty[302:] == clean[300:]


def test_a_no_data_code_inside_the_range_seen_is_a_value() -> None:
    """A count of 9999 among counts of thousands is not a no-data code."""
    rng = random.Random(1)
    x = [rng.uniform(5000, 15000) for _ in range(300)] + [9999.0]
    assert _run(x)[1][-1] == {}


def test_range_fires_only_when_given() -> None:
    """Outside ``low .. high`` scores 0.8; without a range nothing is out of range."""
    x = [*_clean(200), 25.0]
    assert _run(x, high=20.0)[1][-1] == {"range": 0.8}
    assert "range" not in _run(x)[1][-1]


def test_a_spike_is_named_on_the_reading_after_it_and_a_step_is_not() -> None:
    """Out and back: the next reading is a spike sign; a lasting step is not one."""
    x = _clean(600)
    x[400] += 5
    scores, signs = _run(x)
    assert _faults(signs) == [(401, "spike")] and scores[401] >= 0.5
    step = _clean(600)
    step[400:] = [v + 5 for v in step[400:]]
    assert "spike" not in {k for _, k in _faults(_run(step)[1])}


def test_spikes_the_series_keeps_showing_stop_being_fault_signs() -> None:
    """A series with a spike every 200 readings: only the first (and a larger one) is a fault."""
    x = _clean(2000)
    for i in range(300, 1800, 200):
        x[i] += 5
    x[1900] += 20
    assert _faults(_run(x)[1]) == [(301, "spike"), (1901, "spike")]


def test_stuck_fires_beyond_the_longest_run_seen() -> None:
    """A sensor that always changes, then repeats 40 times: stuck at the 30th repeat."""
    x = [*_clean(500), *[10.5] * 40, *_clean(100)]
    faults = _faults(_run(x)[1])
    assert faults[0] == (530, "stuck")
    assert all(500 <= i < 541 for i, _ in faults)


def test_a_series_that_often_holds_its_value_is_not_stuck_for_holding_it() -> None:
    """Runs of 50 repeats are this series' habit: a run of 60 is not 4 times longer."""
    rng = random.Random(2)
    x: list[float] = []
    while len(x) < 3000:
        x += [round(rng.uniform(1, 5), 1)] * rng.choice((1, 5, 50))
    x += [7.7] * 60
    assert [f for f in _faults(_run(x)[1]) if f[0] > len(x) - 60] == []


def test_a_held_value_let_go_with_a_jump_is_a_stuck_sign() -> None:
    """A logger holding 10.3 for 5 readings, then dropping by a metre and a half."""
    x = _clean(500)
    x[400:405] = [10.3] * 5
    x[405:] = [v - 1 for v in x[405:]]
    assert _faults(_run(x)[1]) == [(405, "stuck")]


def test_dropout_a_first_zero_and_a_gap_beyond_the_longest_one() -> None:
    """A zero in a series never at zero; a silence 10 times the longest gap (when asked)."""
    assert _run([*_clean(200), 0.0])[1][-1] == {"dropout": 0.7}
    assert _run([*_clean(200), 0.0, *_clean(200)[:50], 0.0])[1][-1] == {}  # known now
    d = Judge(gap_margin=3.0)
    for i, x in enumerate(_clean(300)):
        d.learn_one(x, i * M)
    assert d.checks(10.0, 299 * M + 10 * M) == {"dropout": 0.7}
    assert d.checks(10.0, 300 * M) == {}
    assert Judge().checks(10.0, 10**12) == {}  # off by default


def test_drift_fires_on_a_slow_departure_and_not_before() -> None:
    """After 3,000 clean readings the level creeps away (a fouling sensor): a drift sign."""
    x = _clean(3000) + [v + 0.01 * i for i, v in enumerate(_clean(1500, seed=9))]
    faults = _faults(_run(x)[1])
    assert faults and all(i >= 3000 for i, _ in faults)
    assert faults[0][1] == "drift"


def test_one_event_one_alarm() -> None:
    """A fault sign starts the rest: a second sign 20 readings later gives no second alarm."""
    x = _clean(600)
    x[400] += 5
    x[420:] = [0.0] * 180
    scores, signs = _run(x)
    assert signs[420] == {"dropout": 0.7} and scores[401] >= 0.5
    assert max(scores[402:476]) < 0.5


def test_state_survives_pickle_and_deepcopy() -> None:
    """A restored judge scores the rest of a series as the original does, and stays small."""
    x = _clean(1000)
    d = Judge()
    for i, v in enumerate(x[:500]):
        d.score_one(v, i * M)
        d.learn_one(v, i * M)
    for other in (pickle.loads(pickle.dumps(d)), copy.deepcopy(d)):
        a, b = d.__deepcopy__({}), other
        for i, v in enumerate(x[500:], 500):
            assert a.score_one(v, i * M) == b.score_one(v, i * M)
            a.learn_one(v, i * M)
            b.learn_one(v, i * M)
    assert len(pickle.dumps(d)) < 8192
