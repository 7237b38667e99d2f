"""Trained models: IsolationForest on windowed features, versioned on disk, scored in batches.

A model folder holds one sub-folder per version (``v1``, ``v2`` ...) with ``models.pkl`` (one
estimator per kind or per sensor) and ``meta.json`` (version, training period, feature names
and the code's ``FEATURE_VERSION``); ``LATEST`` names the current one. scikit-learn costs about
as much for one row as for thousands (DOMAIN.md: ~16 ms against ~49 ms for 10,000), so the
flow scores each bytewax batch at once (``ModelScorer.score_batch``), never row by row.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from warning.models import iso, read_latest, read_models, write_version
from warning.records import IndicatorRecord, Reading

#: Bump when ``feature_names`` or ``Featurizer.row`` change: older models are then refused.
FEATURE_VERSION = 1
WINDOW_MS = 3_600_000
MIN_ROWS = 50
INDICATOR = "anomaly_model"


class ModelError(ValueError):
    """A model folder that cannot be used; the message says expected and found."""


def feature_names(fields: Iterable[str]) -> list[str]:
    """Return the feature names for a kind's fields, in model column order.

    >>> feature_names(["level_m"])
    ['level_m', 'level_m_delta', 'level_m_dev_1h', 'level_m_std_1h', 'hour_sin', 'hour_cos']
    """
    out: list[str] = []
    for f in sorted(fields):
        out += [f, f"{f}_delta", f"{f}_dev_1h", f"{f}_std_1h"]
    return out + ["hour_sin", "hour_cos"]


@dataclass
class Featurizer:
    """The last hour of each field of one sensor: enough to build its feature rows."""

    recent: dict[str, deque[tuple[int, float]]] = field(default_factory=dict)

    def row(
        self, ts: int, values: Mapping[str, float], fields: Sequence[str], utc_offset_h: float = 8.0
    ) -> list[float] | None:
        """Take a reading and return its feature row (None when a field is missing)."""
        out: list[float] = []
        for f in sorted(fields):
            x = values.get(f)
            if x is None:
                return None
            q = self.recent.setdefault(f, deque())
            prev = q[-1][1] if q else x
            while q and q[0][0] <= ts - WINDOW_MS:
                q.popleft()
            past = [v for _, v in q] or [x]
            mean = sum(past) / len(past)
            std = math.sqrt(sum((v - mean) ** 2 for v in past) / len(past))
            out += [x, x - prev, x - mean, std]
            q.append((ts, x))
        hour = ((ts / 3_600_000) + utc_offset_h) % 24
        return out + [math.sin(2 * math.pi * hour / 24), math.cos(2 * math.pi * hour / 24)]


@dataclass(frozen=True)
class Version:
    """One trained version: its folder, number, groups, and the training period."""

    path: Path
    version: int
    groups: dict[str, dict[str, Any]]  # group -> {"kind", "fields", "features", "rows"}
    start: str
    end: str
    rows: int
    per: str


def read_readings(path: Path) -> list[dict[str, Any]]:
    """Read a readings file (JSON Lines or CSV of the wire format); skip invalid lines."""
    from warning.pipeline.parse import parse_ts
    from warning.sources.files import csv_row_to_object

    out = []
    with path.open(encoding="utf-8", newline="") as f:
        rows: Iterable[Any] = (
            (csv_row_to_object(r) for r in csv.DictReader(f))
            if path.suffix == ".csv"
            else (_json(line) for line in f)
        )
        for obj in rows:
            try:
                out.append(
                    {
                        "sensor_id": obj["sensor_id"],
                        "kind": obj["kind"],
                        "ts": parse_ts(obj["ts"]),
                        "values": {k: float(v) for k, v in obj["values"].items()},
                    }
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
    return out


def _json(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def influx_readings(
    url: str, database: str, start: str | None, end: str | None
) -> list[dict[str, Any]]:
    """Read readings back from InfluxDB (InfluxQL), as ``backtest --from-influx`` does."""
    import tempfile

    from warning.config import Influx
    from warning.sources.influx import export_readings

    if not start or not end:
        msg = f"--from-influx: expected --start and --end, found {start!r} and {end!r}"
        raise ValueError(msg)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "readings.jsonl"
        export_readings(Influx(url=url, database=database), start, end, path)
        return read_readings(path)


def train(
    readings: list[dict[str, Any]], folder: Path, per: str = "kind", n_estimators: int = 100
) -> Version:
    """Fit one IsolationForest per kind (or sensor) and write it as the next version."""
    from sklearn import __version__ as sklearn_version
    from sklearn.ensemble import IsolationForest

    if per not in ("kind", "sensor"):
        msg = f"--per: expected kind or sensor, found {per!r}"
        raise ValueError(msg)
    if not readings:
        msg = "expected readings to train on, found none"
        raise ValueError(msg)
    fields: dict[str, set[str]] = {}
    for r in readings:
        fields.setdefault(r["kind"], set()).update(r["values"])
    rows: dict[str, list[list[float]]] = {}
    kind_of: dict[str, str] = {}
    featurizers: dict[str, Featurizer] = {}
    for r in sorted(readings, key=lambda r: (r["sensor_id"], r["ts"])):
        group = r["kind"] if per == "kind" else r["sensor_id"]
        kind_of[group] = r["kind"]
        fz = featurizers.setdefault(r["sensor_id"], Featurizer())
        row = fz.row(r["ts"], r["values"], sorted(fields[r["kind"]]))
        if row is not None:
            rows.setdefault(group, []).append(row)
    models, groups = {}, {}
    for group, data in sorted(rows.items()):
        if len(data) < MIN_ROWS:
            continue
        est = IsolationForest(n_estimators=n_estimators, random_state=0).fit(np.asarray(data))
        models[group] = est
        kf = sorted(fields[kind_of[group]])
        groups[group] = {
            "kind": kind_of[group],
            "fields": kf,
            "features": feature_names(kf),
            "rows": len(data),
        }
    if not models:
        msg = f"expected at least {MIN_ROWS} complete readings of one {per}, found fewer"
        raise ValueError(msg)
    stamps = [r["ts"] for r in readings]
    number, path, meta = write_version(
        folder,
        {
            "feature_version": FEATURE_VERSION,
            "per": per,
            "start": iso(min(stamps)),
            "end": iso(max(stamps)),
            "rows": len(readings),
            "sklearn": sklearn_version,
            "groups": groups,
        },
        models,
    )
    return Version(path, number, groups, meta["start"], meta["end"], len(readings), per)


@dataclass(frozen=True)
class Loaded:
    """A loaded version: its meta data and one estimator per group."""

    version: int
    per: str
    groups: dict[str, dict[str, Any]]
    models: dict[str, Any]


def load(folder: Path, kinds: Mapping[str, Iterable[str]]) -> Loaded:
    """Load the folder's LATEST version; refuse one built on other features than this code's."""
    path, meta = read_latest(folder, "anomaly train", FEATURE_VERSION, ModelError)
    for group, g in meta["groups"].items():
        spec = kinds.get(g["kind"])
        if spec is None or not set(g["fields"]) <= set(spec):
            msg = (
                f"{path}: model {group!r}: expected fields of kind {g['kind']!r} among "
                f"{sorted(spec) if spec is not None else 'no declared kind'}, found "
                f"{g['fields']}"
            )
            raise ModelError(msg)
        expected = feature_names(g["fields"])
        if expected != g["features"]:
            msg = (
                f"{path}: model {group!r}: expected features {expected}, found "
                f"{g['features']}: retrain with this code"
            )
            raise ModelError(msg)
    return Loaded(meta["version"], meta["per"], meta["groups"], read_models(path))


class ModelScorer:
    """The flow's steps for trained models: features per sensor, then scores per batch."""

    def __init__(
        self,
        folder: Path,
        kinds: Mapping[str, Iterable[str]],
        check_every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.folder = folder
        self.kinds = {k: sorted(v) for k, v in kinds.items()}
        self.check_every_s = check_every_s
        self.clock = clock
        self.model = load(folder, self.kinds)
        self._checked = clock()
        self._latest = (folder / "LATEST").read_text(encoding="utf-8")

    def features(
        self, state: Featurizer | None, r: Reading
    ) -> tuple[Featurizer, tuple[str, list[float], Reading] | None]:
        """The ``model_features`` step (keyed by sensor): a reading's feature row."""
        state = state or Featurizer()
        group = r.kind if self.model.per == "kind" else r.sensor_id
        spec = self.model.groups.get(group)
        if spec is None or group not in self.model.models:
            return state, None
        row = state.row(r.ts, r.values, spec["fields"])
        return state, None if row is None else (group, row, r)

    def reload_if_new(self) -> bool:
        """Load a newer version when LATEST changed (checked at most every ``check_every_s``)."""
        now = self.clock()
        if now - self._checked < self.check_every_s:
            return False
        self._checked = now
        latest = (self.folder / "LATEST").read_text(encoding="utf-8")
        if latest == self._latest:
            return False
        self.model = load(self.folder, self.kinds)  # a refused model raises: keep the old
        self._latest = latest
        return True

    def score_batch(self, items: list[tuple[str, list[float], Reading]]) -> list[IndicatorRecord]:
        """The ``score_models`` step: one ``score_samples`` call per group and batch."""
        try:
            self.reload_if_new()
        except (ModelError, OSError, ValueError):
            pass  # keep scoring with the last good version
        by_group: dict[str, list[tuple[list[float], Reading]]] = {}
        for group, row, r in items:
            by_group.setdefault(group, []).append((row, r))
        out = []
        version = float(self.model.version)
        for group, pairs in by_group.items():
            est = self.model.models.get(group)
            if est is None:
                continue
            scores = -est.score_samples(np.asarray([row for row, _ in pairs]))
            for (_, r), s in zip(pairs, scores, strict=True):
                out.append(
                    IndicatorRecord(
                        r.sensor_id,
                        r.kind,
                        r.region,
                        r.ts,
                        INDICATOR,
                        {"model_score": round(float(s), 6), "model_version": version},
                    )
                )
        return out
