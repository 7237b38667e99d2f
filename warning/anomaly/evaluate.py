"""NAB's scoring method (Numenta Anomaly Benchmark v1.1, ``nab/sweeper.py``), vectorised.

- Windows are inclusive row ranges (NAB's ``combined_windows.json``, or ``windows`` below,
  which builds them from labels as NAB's labeller does: 10 % of the rows split over the labels).
- The first ``min(floor(15 % of the rows), 750)`` rows are a probationary period: not scored.
- Row ``i`` in a window ``[s, e]`` is worth ``A_TP * sigma(-(e - i + 1) / (e - s + 1)) /
  sigma(-1)`` with the scaled sigmoid ``sigma(y) = 2 / (1 + e^(5y)) - 1``; a window is worth
  the best (earliest) of its detected rows, ``-A_FN`` if none. A row outside every window is
  worth ``A_FP * sigma((i - e) / (w - 1))`` after a window ending at ``e`` of width ``w``,
  ``-A_FP`` before the first window; every detected one of them counts.
- A detection is a score at or above the threshold; the threshold is swept over every distinct
  score of the corpus (and 1.1, no detection) and the best corpus score kept, as NAB's
  optimiser does.
- Normalised as NAB's runner does: ``100 * (raw - null) / (perfect - null)``, with ``null`` the
  null detector's raw score (``-A_FN`` per scorable window) and ``perfect = A_TP x windows``.

>>> s = [0.0] * 1000; s[480] = 1.0  # window 480..580 around the label at 530
>>> round(normalised([ScoredSeries(s, [530])], 0.5), 1)  # detected at the window's first row
100.0
>>> s[480], s[520] = 0.0, 1.0  # 40 rows in: still early, worth a little less
>>> round(normalised([ScoredSeries(s, [530])], 0.5), 1)
96.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Profile:
    """Weights of true positives, false positives and false negatives."""

    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


STANDARD = Profile()
#: NAB's three application profiles (``config/profiles.json``).
PROFILES = {
    "standard": STANDARD,
    "reward_low_FP_rate": Profile(fp=0.22),
    "reward_low_FN_rate": Profile(fn=2.0),
}


@dataclass(frozen=True)
class ScoredSeries:
    """One scored series: a detector's score per row and its labelled anomaly rows.

    ``ranges`` (inclusive row windows) overrides the windows built from ``anomalies``.
    """

    scores: Sequence[float]
    anomalies: Sequence[int] = ()
    ranges: Sequence[tuple[int, int]] | None = None
    name: str = field(default="", compare=False)

    def windows(self) -> list[tuple[int, int]]:
        """Return the inclusive row windows of this series."""
        if self.ranges is not None:
            return [(int(a), int(b)) for a, b in self.ranges]
        return windows(len(self.scores), self.anomalies)


def sigmoid(y: float | np.ndarray) -> float | np.ndarray:
    """NAB's scaled sigmoid: 2 / (1 + e^(5y)) - 1, from ~1 at -1 through 0 at 0 to -1 past 3.

    >>> round(float(sigmoid(-1.0)), 4), float(sigmoid(0.0)), float(sigmoid(3.5))
    (0.9866, 0.0, -1.0)
    """
    y = np.asarray(y, dtype=float)
    out = np.where(y > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(y, 3.0))) - 1.0)
    return float(out) if out.ndim == 0 else out


MAX_TP = float(sigmoid(-1.0))


def probation(n: int) -> int:
    """Return the probationary rows of a series of ``n`` rows: min(floor(15 %), 750).

    >>> probation(1000), probation(100_000)
    (150, 750)
    """
    return int(min(math.floor(0.15 * n), 0.15 * 5000))


def windows(n: int, anomalies: Sequence[int]) -> list[tuple[int, int]]:
    """Return inclusive ``(start, end)`` row windows around the anomalies, merged.

    >>> windows(1000, [300, 700])
    [(275, 325), (675, 725)]
    """
    if not anomalies:
        return []
    width = int(0.10 * n / len(anomalies))
    out: list[tuple[int, int]] = []
    for a in sorted(anomalies):
        start, end = max(0, a - width // 2), min(n - 1, a + width // 2)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def row_weights(
    n: int, wins: Sequence[tuple[int, int]], profile: Profile = STANDARD
) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's sweep score and window index (-1 outside), NAB's ``calcSweepScore``."""
    i = np.arange(n)
    weight = np.full(n, -profile.fp)
    win = np.full(n, -1)
    for k, (s, e) in enumerate(wins):
        rows = i[s : e + 1]
        weight[s : e + 1] = sigmoid(-(e - rows + 1) / (e - s + 1)) * profile.tp / MAX_TP
        win[s : e + 1] = k
        nxt = wins[k + 1][0] if k + 1 < len(wins) else n
        after = i[e + 1 : nxt]
        weight[e + 1 : nxt] = sigmoid((after - e) / max(e - s, 1)) * profile.fp
    return weight, win


@dataclass(frozen=True)
class Result:
    """The corpus score at the best threshold and what made it."""

    threshold: float
    score: float  # normalised: null 0, perfect 100
    raw: float
    tp: int  # windows detected
    fn: int  # windows missed
    fp: int  # detected rows outside every window
    windows: int


def _rows(
    corpus: Sequence[ScoredSeries], profile: Profile
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    scores, weights, wins = [], [], []
    total = scorable = 0
    for s in corpus:
        x = np.asarray(s.scores, dtype=float)
        ws = s.windows()
        w, k = row_weights(x.size, ws, profile)
        p = probation(x.size)
        k = np.where(k >= 0, k + total, -1)
        scores.append(x[p:])
        weights.append(w[p:])
        wins.append(k[p:])
        scorable += len(set(k[p:][k[p:] >= 0].tolist()))
        total += len(ws)
    return (
        np.concatenate(scores or [np.zeros(0)]),
        np.concatenate(weights or [np.zeros(0)]),
        np.concatenate(wins or [np.zeros(0, dtype=int)]),
        total,
        scorable,
    )


def sweep(
    corpus: Sequence[ScoredSeries], profile: Profile = STANDARD
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """Return every threshold (descending, 1.1 first), its raw corpus score and detections.

    Also returns the number of windows and of scorable windows (with a row after probation).
    """
    x, w, k, total, scorable = _rows(corpus, profile)
    order = np.argsort(-x, kind="stable")
    x, w, k = x[order], w[order], k[order]
    gain = np.where(k < 0, w, 0.0)
    inside = np.flatnonzero(k >= 0)
    if inside.size:
        grouped = inside[np.argsort(k[inside], kind="stable")]
        keys = k[grouped]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        for a, b in zip(starts, np.r_[starts[1:], grouped.size], strict=True):
            rows = grouped[a:b]
            best = np.maximum.accumulate(np.r_[-profile.fn, w[rows]])
            gain[rows] = np.diff(best)
    raw = -profile.fn * scorable + np.cumsum(gain)
    last = np.flatnonzero(np.r_[x[1:] != x[:-1], True])  # last row of each distinct score
    thresholds = np.r_[1.1, x[last]]
    raws = np.r_[-profile.fn * scorable, raw[last]]
    detected = np.r_[0, last + 1]
    return thresholds, raws, detected, total, scorable


def _result(
    corpus: Sequence[ScoredSeries],
    profile: Profile,
    t: float,
    raw: float,
    total: int,
    scorable: int,
) -> Result:
    tp = fp = 0
    for s in corpus:
        x = np.asarray(s.scores, dtype=float)
        p = probation(x.size)
        hit = np.flatnonzero(x >= t)
        hit = hit[hit >= p]
        _, k = row_weights(x.size, s.windows(), profile)
        fp += int((k[hit] < 0).sum())
        tp += len(set(k[hit][k[hit] >= 0].tolist()))
    null = -profile.fn * scorable
    perfect = profile.tp * total
    score = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return Result(float(t), score, float(raw), tp, scorable - tp, fp, total)


def best(corpus: Sequence[ScoredSeries], profile: Profile = STANDARD) -> Result:
    """Return the result at the threshold that maximises the corpus score (NAB's optimiser)."""
    thresholds, raws, _, total, scorable = sweep(corpus, profile)
    i = int(np.argmax(raws))  # ties: the highest threshold, as NAB's stable sort keeps
    return _result(corpus, profile, thresholds[i], raws[i], total, scorable)


def at(corpus: Sequence[ScoredSeries], threshold: float, profile: Profile = STANDARD) -> Result:
    """Return the result at a given threshold."""
    x, w, k, total, scorable = _rows(corpus, profile)
    hit = x >= threshold
    raw = float(w[hit & (k < 0)].sum()) - profile.fn * scorable
    for win in np.unique(k[hit & (k >= 0)]):
        raw += profile.fn + float(w[hit & (k == win)].max())
    return _result(corpus, profile, threshold, raw, total, scorable)


def normalised(
    corpus: Sequence[ScoredSeries], threshold: float, profile: Profile = STANDARD
) -> float:
    """Return the normalised corpus score at a threshold: null detector 0, perfect 100."""
    return at(corpus, threshold, profile).score
