"""Read the NAB corpus (a checkout of numenta/NAB) and score detectors on it.

Layout used: ``DIR/data/<group>/<file>.csv`` (``timestamp,value``),
``DIR/labels/combined_windows.json`` (windows as timestamp pairs) and, to check the scorer,
``DIR/results/<detector>/<group>/<detector>_<file>.csv`` (NAB's shipped result files, column
``anomaly_score``) with ``DIR/results/final_results.json`` (NAB's published scores).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from warning.anomaly.evaluate import PROFILES, Result, ScoredSeries, best


@dataclass(frozen=True)
class NabFile:
    """One NAB series: its path relative to ``data/``, times, values and row windows."""

    rel: str
    ts: np.ndarray  # epoch ms
    values: np.ndarray
    ranges: list[tuple[int, int]]


def _stamps(texts: list[str] | np.ndarray, where: str) -> np.ndarray:
    try:
        return np.array(texts, dtype="datetime64[ms]").astype(np.int64)
    except ValueError as exc:
        raise ValueError(f"{where}: expected timestamps like 2014-04-01 00:00:00 ({exc})") from None


def _read_csv(path: Path, columns: tuple[str, ...]) -> dict[str, np.ndarray]:
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"timestamp": str})
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path}:1: expected columns {', '.join(columns)}, missing {', '.join(missing)}"
        )
    out = {"timestamp": _stamps(frame["timestamp"].str.replace(" ", "T").to_numpy(), str(path))}
    for c in columns[1:]:
        col = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isnan(col))
        if bad.size:
            raise ValueError(
                f"{path}:{bad[0] + 2}: expected a number in {c}, found {frame[c].iloc[bad[0]]!r}"
            )
        out[c] = col
    return out


def load(root: Path) -> list[NabFile]:
    """Return every labelled series of a NAB checkout, in name order."""
    labels = root / "labels" / "combined_windows.json"
    if not labels.is_file():
        raise ValueError(
            f"{root}: expected a NAB checkout with {labels.relative_to(root)}, found none"
        )
    marked = json.loads(labels.read_text(encoding="utf-8"))
    out = []
    for rel in sorted(marked):
        cols = _read_csv(root / "data" / rel, ("timestamp", "value"))
        ts = cols["timestamp"]
        index = {int(t): i for i, t in enumerate(ts)}
        ranges = []
        for pair in marked[rel]:
            a, b = _stamps([p.replace(" ", "T") for p in pair], f"{labels}: {rel}")
            if int(a) not in index or int(b) not in index:
                raise ValueError(f"{labels}: {rel}: window {pair} is not on rows of the data")
            ranges.append((index[int(a)], index[int(b)]))
        out.append(NabFile(rel, ts, cols["value"], ranges))
    return out


def shipped(root: Path, detector: str, corpus: list[NabFile]) -> list[ScoredSeries]:
    """Return NAB's shipped result files of a detector as scored series."""
    out = []
    for f in corpus:
        group, name = f.rel.split("/")
        path = root / "results" / detector / group / f"{detector}_{name}"
        cols = _read_csv(path, ("timestamp", "anomaly_score"))
        if cols["anomaly_score"].size != f.values.size:
            raise ValueError(
                f"{path}: expected {f.values.size} rows as in data/{f.rel}, found "
                f"{cols['anomaly_score'].size}"
            )
        out.append(ScoredSeries(cols["anomaly_score"].tolist(), ranges=f.ranges, name=f.rel))
    return out


def run(corpus: list[NabFile], score: Callable[[NabFile], list[float]]) -> list[ScoredSeries]:
    """Return the corpus scored by ``score`` (one score per row, in stream order)."""
    return [ScoredSeries(score(f), ranges=f.ranges, name=f.rel) for f in corpus]


def profiles(series: list[ScoredSeries]) -> Iterator[tuple[str, Result]]:
    """Yield the best result under each of NAB's three profiles."""
    for name, profile in PROFILES.items():
        yield name, best(series, profile)


def published(root: Path) -> dict[str, dict[str, float]]:
    """Return NAB's published final scores (``results/final_results.json``), or {}."""
    path = root / "results" / "final_results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def published_thresholds(root: Path) -> dict[str, dict[str, float]]:
    """Return NAB's published thresholds per detector and profile (config/thresholds.json)."""
    path = root / "config" / "thresholds.json"
    if not path.is_file():
        return {}
    found = json.loads(path.read_text(encoding="utf-8"))
    return {d: {p: float(v["threshold"]) for p, v in by.items()} for d, by in found.items()}
