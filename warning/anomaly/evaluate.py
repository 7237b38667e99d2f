"""A NAB-style scorer (Numenta Anomaly Benchmark, Lavin and Ahmad 2015), written from its rules.

- Windows: 10 % of a series' length, split evenly over its labelled anomalies, centred on
  each label (overlapping windows merge).
- The first ``min(15 % of the length, 750)`` rows are a probationary period: not scored.
- A detection is a score at or above the threshold. The first detection in a window earns
  ``A_TP * sigma(y) / sigma(-1)`` with ``y = -(window end - i + 1) / window width`` and the
  scaled sigmoid ``sigma(y) = 2 / (1 + e^(5y)) - 1``: early is worth ~A_TP, late ~0. Later
  detections in the same window count nothing. A detection outside every window costs
  ``A_FP * sigma(distance past the last window end / (its width - 1))`` (a negative number,
  up to ``-A_FP``; ``-A_FP`` before the first window). A window without detection costs
  ``-A_FN``.
- The raw score is normalised as ``100 * (raw - null) / (perfect - null)``: the null
  detector (never detects) scores 0, a perfect one (first row of each window) 100.
- The threshold is chosen per detector to maximise the corpus score, as NAB does.

Standard profile weights: TP 1.0, FP 0.11, FN 1.0.

>>> s = [0.0] * 1000; s[480] = 1.0  # window 480..580 around the label at 530
>>> round(normalised([Series(s, [530])], 0.5), 1)  # detected at the window's first row
100.0
>>> s[480], s[520] = 0.0, 1.0  # 40 rows in: still early, worth a little less
>>> round(normalised([Series(s, [530])], 0.5), 1)
96.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Profile:
    """Weights of true positives, false positives and false negatives."""

    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


STANDARD = Profile()
#: Thresholds tried by ``best``: every 0.01, and finer near 1 (rare detections).
THRESHOLDS = tuple([i / 100 for i in range(1, 100)] + [0.99 + i / 1000 for i in range(1, 10)]
                   + [1.0])


@dataclass(frozen=True)
class Series:
    """One scored series: a detector's score per row and the labelled anomaly rows."""

    scores: Sequence[float]
    anomalies: Sequence[int]


def sigmoid(y: float) -> float:
    """NAB's scaled sigmoid: 2 / (1 + e^(5y)) - 1, from ~1 at -1 through 0 at 0 to ~-1.

    >>> round(sigmoid(-1.0), 4), sigmoid(0.0), round(sigmoid(3.0), 4)
    (0.9866, 0.0, -1.0)
    """
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation(n: int) -> int:
    """Return the probationary rows of a series of ``n`` rows: min(15 %, 750).

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


@dataclass(frozen=True)
class Tally:
    """Raw score and counts of one series (or a corpus) at one threshold."""

    raw: float
    tp: int
    fp: int
    fn: int
    windows: int

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.raw + other.raw, self.tp + other.tp, self.fp + other.fp,
                     self.fn + other.fn, self.windows + other.windows)


def tally(series: Series, threshold: float, profile: Profile = STANDARD) -> Tally:
    """Score one series at one threshold."""
    n = len(series.scores)
    wins = windows(n, series.anomalies)
    detected = np.flatnonzero(np.asarray(series.scores, dtype=float) >= threshold)
    detected = detected[detected >= probation(n)]
    max_tp = sigmoid(-1.0)
    raw, tp, fp = 0.0, 0, 0
    inside = np.zeros(detected.size, dtype=bool)
    for start, end in wins:
        lo, hi = np.searchsorted(detected, [start, end + 1])
        inside[lo:hi] = True
        if hi > lo:
            i = int(detected[lo])
            width = end - start + 1
            raw += profile.tp * sigmoid(-(end - i + 1) / width) / max_tp
            tp += 1
        else:
            raw -= profile.fn
    outside = detected[~inside]
    fp = int(outside.size)
    if fp:
        ends = np.array([e for _, e in wins] or [0])
        widths = np.array([e - s + 1 for s, e in wins] or [2])
        k = np.searchsorted(ends, outside) - 1  # the last window that ended before each
        before = k < 0
        raw -= profile.fp * int(before.sum())
        k = k[~before]
        y = (outside[~before] - ends[k]) / np.maximum(widths[k] - 1, 1)
        penalty = np.where(y > 3.0, -1.0, 2.0 / (1.0 + np.exp(5.0 * np.minimum(y, 3.0))) - 1.0)
        raw += profile.fp * float(penalty.sum())
    return Tally(raw, tp, fp, len(wins) - tp, len(wins))


def normalised(corpus: Sequence[Series], threshold: float, profile: Profile = STANDARD
               ) -> float:
    """Return the corpus score at a threshold: null detector 0, perfect 100."""
    total = sum((tally(s, threshold, profile) for s in corpus), Tally(0.0, 0, 0, 0, 0))
    null = -profile.fn * total.windows
    perfect = profile.tp * total.windows
    return 100.0 * (total.raw - null) / (perfect - null)


def best(corpus: Sequence[Series], profile: Profile = STANDARD,
         thresholds: Sequence[float] | None = None) -> tuple[float, float, Tally]:
    """Return the threshold that maximises the corpus score, the score and its tally."""
    grid = thresholds if thresholds is not None else THRESHOLDS
    found = max(((normalised(corpus, t, profile), t) for t in grid), key=lambda p: p[0])
    score, t = found
    total = sum((tally(s, t, profile) for s in corpus), Tally(0.0, 0, 0, 0, 0))
    return t, score, total
