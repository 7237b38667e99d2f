"""Score fault detectors on the Logan River Observatory's aquatic sensor data (technician labels).

Data: ``LRO_data/<Site>2019.csv`` of the PyHydroQC repository (Jones et al. 2022, github
AmberSJones/pyhydroqc): 15-minute water temperature, specific conductance, pH and dissolved
oxygen at five sites, the raw value, the technician's corrected value and a qualifier; a row
whose qualifier is set is a labelled anomaly. Their per-site physical ranges and persistence
lengths (``pyhydroqc/parameters.py``) make the range + persistence baseline.

Scoring follows PyHydroQC's ``anomaly_events``/``compare_events``/``event_metrics``: labelled
and detected rows are widened by one row each side and grouped into events; an event that is
both labelled and detected is a true positive, detected only a false positive, labelled only a
false negative.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SITES = {
    "BlackSmithFork": "BlacksmithFork",
    "MainStreet": "MainStreet",
    "Mendon": "Mendon",
    "TonyGrove": "TonyGrove",
    "WaterLab": "Waterlab",
}
VARIABLES = ("temp", "cond", "ph", "do")


@dataclass(frozen=True)
class LroSeries:
    """One site's variable: raw values, labels, and the authors' range and persistence."""

    name: str
    values: np.ndarray
    labels: np.ndarray  # bool per row
    low: float
    high: float
    persist: int


def parameters(path: Path) -> dict[tuple[str, str], tuple[float, float, int]]:
    """Read (site, variable) -> (min_range, max_range, persist) from PyHydroQC's parameters."""
    text = path.read_text(encoding="utf-8")
    out: dict[tuple[str, str], tuple[float, float, int]] = {}
    site = ""
    for line_site, var, hi, lo, persist in re.findall(
        r"^    '(\w+)': \{|'(\w+)' ?: Parameters\(max_range=([-\d.]+),\s*min_range=([-\d.]+),"
        r"\s*persist=(\d+)",
        text,
        flags=re.M,
    ):
        if line_site:
            site = line_site
        else:
            out[(site, var)] = (float(lo), float(hi), int(persist))
    return out


def load(root: Path, year: int = 2019) -> list[LroSeries]:
    """Return the labelled series of every site and variable that has a label."""
    import pandas as pd

    params = parameters(root / "pyhydroqc" / "parameters.py")
    out = []
    for site, key in SITES.items():
        path = root / "LRO_data" / f"{site}{year}.csv"
        frame = pd.read_csv(path, na_values=["NULL"])
        for var in VARIABLES:
            if var not in frame or (key, var) not in params:
                continue
            labels = frame[f"{var}_qual"].notna().to_numpy()
            if labels.any():
                lo, hi, persist = params[(key, var)]
                out.append(
                    LroSeries(
                        f"{site}.{var}", frame[var].to_numpy(dtype=float), labels, lo, hi, persist
                    )
                )
    if not out:
        raise ValueError(f"{root}: expected LRO_data/<Site>{year}.csv with labels, found none")
    return out


def baseline(s: LroSeries) -> np.ndarray:
    """The range + persistence rule: outside the authors' range, or a run of ``persist``."""
    x = s.values
    out = (x < s.low) | (x > s.high)
    same = np.r_[False, x[1:] == x[:-1]]
    run = np.zeros(x.size, dtype=int)
    for i in np.flatnonzero(same):  # run length of repeats ending at each row
        run[i] = run[i - 1] + 1
    for i in np.flatnonzero(run >= s.persist - 1):
        out[i - run[i] : i + 1] = True
    return out


def events(flags: np.ndarray, wf: int = 1) -> np.ndarray:
    """Return the rows of flagged events widened by ``wf`` rows each side."""
    kernel = np.ones(2 * wf + 1, dtype=int)
    wide = np.convolve(flags.astype(int), kernel, mode="same") > 0
    wide[:wf] = wide[len(wide) - wf :] = False
    return wide


def event_counts(labels: np.ndarray, detected: np.ndarray, wf: int = 1) -> tuple[int, int, int]:
    """Return true positive, false positive and false negative events."""
    la, da = events(labels, wf), events(detected, wf)
    union = la | da
    edges = np.flatnonzero(np.diff(np.r_[0, union.astype(int), 0]))
    tp = fp = fn = 0
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        has_l, has_d = la[a:b].any(), da[a:b].any()
        tp += bool(has_l and has_d)
        fp += bool(has_d and not has_l)
        fn += bool(has_l and not has_d)
    return tp, fp, fn


def score(
    corpus: list[LroSeries], detect: Callable[[LroSeries], np.ndarray], drop_sentinels: bool
) -> tuple[int, int, int]:
    """Return the corpus's event counts for a detector (True per flagged row)."""
    from warning.anomaly.quality import SENTINELS

    total = np.zeros(3, dtype=int)
    for s in corpus:
        flags = detect(s)
        keep = ~np.isin(s.values, list(SENTINELS)) if drop_sentinels else np.ones_like(flags)
        total += event_counts(s.labels[keep], flags[keep])
    return int(total[0]), int(total[1]), int(total[2])


def streaming(
    name: str, threshold: float = 0.5, **params: float
) -> Callable[[LroSeries], np.ndarray]:
    """Return a detect function running a streaming detector (fault judges get the ranges)."""
    from warning.anomaly.detectors import make

    def detect(s: LroSeries) -> np.ndarray:
        extra = {"low": s.low, "high": s.high} if name in ("quality", "judge", "default") else {}
        d = make(name, **params, **extra)
        out = np.zeros(s.values.size, dtype=bool)
        for i, x in enumerate(s.values.tolist()):
            out[i] = d.score_one(x) >= threshold
            d.learn_one(x)
        return out

    return detect


PIPELINE = ("pipeline", "pipeline-named")


def pipeline(named_only: bool = False) -> Callable[[LroSeries], np.ndarray]:
    """Return a detect function running the live fault naming (``Monitor.observe``, no neighbours).

    A row is flagged when a fault is raised on it, or (unless ``named_only``) when the reading is
    judged suspect, which makes its warnings Possible. Missing values are not sent, as the
    pipeline never receives them; readings are 15 minutes apart.
    """
    from warning.anomaly.health import Health, Monitor
    from warning.records import Reading

    def detect(s: LroSeries) -> np.ndarray:
        monitor, h = Monitor(), Health()
        field = s.name.split(".")[1]
        out = np.zeros(s.values.size, dtype=bool)
        for i, x in enumerate(s.values.tolist()):
            if x != x:
                continue
            r = Reading(s.name, "water_quality", "lro", i * 900_000, {field: x})
            v = monitor.observe(h, r, {})
            raised = any(e.event == "raised" for e in v.events)
            out[i] = raised or (not named_only and v.suspect is not None)
        return out

    return detect


def rows(corpus: list[LroSeries], names: list[str]) -> Iterator[tuple[str, str, tuple]]:
    """Yield (detector, sentinel rows, (precision, recall, F1, TP, FP, FN))."""
    detectors = [("range+persistence", baseline)] + [
        (n, pipeline(n == "pipeline-named") if n in PIPELINE else streaming(n)) for n in names
    ]
    for label, detect in detectors:
        for drop in (True, False):
            tp, fp, fn = score(corpus, detect, drop)
            p = tp / (tp + fp) if tp + fp else 0.0
            r = tp / (tp + fn) if tp + fn else 0.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            yield label, "removed" if drop else "kept", (p, r, f1, tp, fp, fn)
