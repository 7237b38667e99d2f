"""Labelled series for the NAB-style evaluation: synthetic ones and simulator fault injections.

The NAB data set itself is not shipped (no network here); these follow its shape: one value
per row, timestamps, and labelled anomaly rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from warning.anomaly.detectors import make
from warning.anomaly.evaluate import ScoredSeries, probation

STEP_MS = 300_000
T0 = 1_780_000_000_000
#: Kinds of anomaly put in synthetic series, in turn.
SYNTHETIC_KINDS = ("spike", "level_shift", "variance", "drift", "stuck", "dropout")

#: Three quiet days of the reference network with faults on sensors whose values move.
SIMULATED = """
name: anomaly_corpus
description: 3 quiet days with value faults, for the NAB-style evaluation.
network: huzhou
start: "2026-06-10T00:00:00+08:00"
duration: 72h
interval: 5m
seed: 20260610
events:
  - {type: level, sensor: wl-wx-01, base_m: 3.70}
  - {type: level, sensor: wl-wx-02, base_m: 3.20}
  - {type: level, sensor: rs-aj-01, base_m: 125.90}
  - {type: weather, sensor: ws-wx-01, temp_mean_c: 24, temp_amp_c: 3, rh_mean_pct: 70}
  - {type: fault, sensor: ws-wx-01, fault: spike, start: 20h, end: 20h5m, magnitude: 8,
     field: temp_c}
  - {type: fault, sensor: ws-wx-01, fault: stuck, start: 50h, end: 53h}
  - {type: fault, sensor: gs-cx-01, fault: dropout, start: 30h, end: 30h30m}
  - {type: fault, sensor: gs-cx-01, fault: spike, start: 60h, end: 60h5m, magnitude: 5,
     field: lel_pct}
  - {type: fault, sensor: wl-wx-01, fault: drift, start: 36h, end: 72h, magnitude: 0.02}
  - {type: fault, sensor: rs-aj-01, fault: dropout, start: 40h, end: 40h20m}
"""


@dataclass(frozen=True)
class Labelled:
    """A series of ``timestamp, value`` rows with its labelled anomaly rows."""

    name: str
    ts: list[int]
    values: list[float]
    anomalies: list[int]


def synthetic(count: int = 24, n: int = 4032, seed: int = 1) -> list[Labelled]:
    """Return ``count`` diurnal series of ``n`` rows with two anomalies each, kinds in turn."""
    out = []
    for k in range(count):
        rng = random.Random(seed * 1000 + k)
        level, amp, sigma = rng.uniform(5, 50), rng.uniform(0, 5), rng.uniform(0.2, 1.0)
        x = [level + amp * math.sin(2 * math.pi * i / 288) + rng.gauss(0, sigma) for i in range(n)]
        first = probation(n) + 100
        spots = sorted(rng.sample(range(first, n - 200), 2))
        if spots[1] - spots[0] < 400:
            spots[1] = min(n - 200, spots[0] + 400)
        kinds = [SYNTHETIC_KINDS[(2 * k + j) % len(SYNTHETIC_KINDS)] for j in range(2)]
        for at, kind in zip(spots, kinds, strict=True):
            _inject(x, at, kind, sigma, rng)
        out.append(
            Labelled(
                f"synthetic_{k:02d}_{'+'.join(kinds)}",
                [T0 + i * STEP_MS for i in range(n)],
                x,
                spots,
            )
        )
    return out


def _inject(x: list[float], at: int, kind: str, sigma: float, rng: random.Random) -> None:
    n = len(x)
    if kind == "spike":
        x[at] += rng.choice((-1, 1)) * 12 * sigma
    elif kind == "level_shift":
        for i in range(at, min(n, at + 300)):
            x[i] += 4 * sigma
    elif kind == "variance":
        for i in range(at, min(n, at + 300)):
            x[i] += rng.gauss(0, 3 * sigma)
    elif kind == "drift":
        for i in range(at, min(n, at + 300)):
            x[i] += 0.03 * sigma * (i - at)
    elif kind == "stuck":
        for i in range(at, min(n, at + 150)):
            x[i] = x[at - 1]
    elif kind == "dropout":
        for i in range(at, min(n, at + 12)):
            x[i] = 0.0


def simulated() -> list[Labelled]:
    """Return the faulty fields of the ``SIMULATED`` scenario, labelled at each fault onset."""
    from sensors_sim.events import Fault
    from sensors_sim.generate import apply_value_faults, simulate
    from sensors_sim.scenario import parse_scenario

    sc = parse_scenario(SIMULATED)
    true = simulate(sc)
    step_h = sc.interval.total_seconds() / 3600
    start = int(sc.start.timestamp() * 1000)
    out = []
    for sensor in sc.network:
        faults = [e for e in sc.events if isinstance(e, Fault) and e.sensor == sensor.id]
        if not faults:
            continue
        values = apply_value_faults(sensor, true[sensor.id], sc)
        for name in sensor.fields:
            changed = values[name] != true[sensor.id][name]
            onsets = [
                round(f.start_h / step_h) - 1
                for f in faults
                if f.field in (None, name)
                and changed[round(f.start_h / step_h) - 1 : round(f.end_h / step_h)].any()
            ]
            if onsets:
                v = values[name]
                out.append(
                    Labelled(
                        f"{sensor.id}.{name}",
                        [start + (i + 1) * int(step_h * 3_600_000) for i in range(len(v))],
                        [float(a) for a in v],
                        sorted(onsets),
                    )
                )
    return out


def score(detector: str, series: Labelled, **params: float) -> list[float]:
    """Run a detector over a series in stream order: each score from earlier rows only."""
    return score_values(detector, series.ts, series.values, **params)


def score_values(detector: str, ts: list[int], values: list[float], **params: float) -> list[float]:
    """Run a detector over values in stream order; the threshold baseline learns in probation."""
    if detector == "threshold":
        params = {"learn": probation(len(values)), **params}
    d = make(detector, **params)
    out = []
    for t, x in zip(ts, values, strict=True):
        out.append(d.score_one(x, t))
        d.learn_one(x, t)
    return out


def scored(detector: str, corpus: list[Labelled]) -> Iterator[ScoredSeries]:
    """Yield the corpus scored by a detector, ready for ``evaluate``."""
    for s in corpus:
        yield ScoredSeries(score(detector, s), s.anomalies)
