"""Train, score and serve nowcasts: one regressor per station and horizon, versioned on disk.

A model folder holds ``v1``, ``v2`` ... (``models.pkl`` and ``meta.json``: training period,
feature version, per station its feature names and per horizon its skill) and ``LATEST``.
Each regressor (scikit-learn ``HistGradientBoostingRegressor``) predicts the level's change
``h`` hours ahead from the features after the first (the level itself, see features.py).
Skill is measured on the last quarter of the period, held out from a fit on the first three
quarters; the saved model is then refitted on all of it. A horizon whose RMSE
does not beat persistence is flagged and not used (nor any longer horizon of that station).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from warning.models import iso, read_latest, read_models, write_version
from warning.nowcast.features import (
    FEATURE_VERSION,
    KEEP_MS,
    History,
    Station,
    features_at,
    history_of,
    stations,
)
from warning.records import Forecast, Reading

H = 3_600_000
HORIZONS_H = (1, 2, 3, 4, 5, 6)
MIN_ROWS = 500
#: Nowcasts are forecasts issued by ``nowcast-v<N>``; each expires after this.
EXPIRES_MS = H


class NowcastError(ValueError):
    """A model folder that cannot be used; the message says expected/found."""


def dataset(
    readings: Sequence[Mapping[str, Any]], st: Station, h: History | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, their times, and the level 1..6 h later (NaN where unknown)."""
    h = h or history_of(readings)
    times = h.ts.get(st.sensor_id, [])
    rows, kept = [], []
    for t in times:
        row = features_at(h, st, t)
        if row is not None:
            rows.append(row)
            kept.append(t)
    future = np.array(
        [[h.asof(st.sensor_id, t + k * H, 10 * 60_000) or np.nan for k in HORIZONS_H] for t in kept]
    ).reshape(len(kept), len(HORIZONS_H))
    return np.asarray(rows, dtype=float).reshape(len(kept), -1), np.asarray(kept), future


def skill(obs: np.ndarray, sim: np.ndarray) -> dict[str, float]:
    """NSE, KGE (Gupta et al. 2009) and RMSE of simulated against observed values.

    >>> skill(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    {'nse': 1.0, 'kge': 1.0, 'rmse': 0.0}
    """
    err = sim - obs
    var = float(np.sum((obs - obs.mean()) ** 2))
    nse = 1 - float(np.sum(err**2)) / var if var else float("nan")
    r = float(np.corrcoef(obs, sim)[0, 1]) if obs.std() and sim.std() else 0.0
    alpha = float(sim.std() / obs.std()) if obs.std() else float("nan")
    beta = float(sim.mean() / obs.mean()) if obs.mean() else float("nan")
    kge = 1 - math.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2)
    return {
        "nse": round(nse, 4),
        "kge": round(kge, 4),
        "rmse": round(float(np.sqrt(np.mean(err**2))), 4),
    }


def _regressor() -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, random_state=0)


def evaluate(
    models: Mapping[int, Any], x: np.ndarray, future: np.ndarray, names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Skill per horizon of the models, persistence and the 1 h linear trend, on rows x."""
    level, rise = x[:, names.index("level")], x[:, names.index("rise_1h")]
    out = {}
    for j, k in enumerate(HORIZONS_H):
        ok = ~np.isnan(future[:, j])
        if ok.sum() < 10 or k not in models:
            continue
        obs = future[ok, j]
        model = skill(obs, level[ok] + models[k].predict(x[ok, 1:]))
        persistence = skill(obs, level[ok])
        trend = skill(obs, level[ok] + rise[ok] * k)
        out[f"{k}h"] = {
            "rows": int(ok.sum()),
            "model": model,
            "persistence": persistence,
            "trend": trend,
            "beats_persistence": model["rmse"] < persistence["rmse"],
        }
    return out


def fit(x: np.ndarray, future: np.ndarray, level_col: int) -> dict[int, Any]:
    """One regressor of the level change per horizon."""
    models = {}
    for j, k in enumerate(HORIZONS_H):
        ok = ~np.isnan(future[:, j])
        if ok.sum() >= MIN_ROWS:
            models[k] = _regressor().fit(x[ok, 1:], future[ok, j] - x[ok, level_col])
    return models


@dataclass(frozen=True)
class Trained:
    """What ``train`` wrote: the version, its folder and the skill per station and horizon."""

    version: int
    path: Path
    meta: dict[str, Any]


def train(
    readings: Sequence[Mapping[str, Any]], registry: Mapping[str, Mapping[str, Any]], folder: Path
) -> Trained:
    """Fit, score (held-out last quarter) and refit every station's models; write a version."""
    from sklearn import __version__ as sklearn_version

    if not readings:
        msg = "expected readings to train on, found none"
        raise NowcastError(msg)
    h = history_of(readings)
    per_station, models = {}, {}
    for sid, st in sorted(stations(registry).items()):
        x, t, future = dataset(readings, st, h)
        if len(x) < 2 * MIN_ROWS:
            continue
        cut = t[0] + (t[-1] - t[0]) * 3 // 4
        train_rows = t <= cut
        names = st.feature_names
        held_out = evaluate(
            fit(x[train_rows], future[train_rows], 0), x[~train_rows], future[~train_rows], names
        )
        use = []
        for k in HORIZONS_H:
            if not held_out.get(f"{k}h", {}).get("beats_persistence"):
                break
            use.append(k)
        models[sid] = fit(x, future, 0)
        per_station[sid] = {
            "features": names,
            "upstream": list(st.upstream),
            "rain_gauges": list(st.rain_gauges),
            "rows": int(len(x)),
            "held_out_from": iso(int(cut)),
            "skill": held_out,
            "horizons_used_h": use,
        }
    if not models:
        msg = (
            f"expected at least {2 * MIN_ROWS} complete feature rows for one water-level "
            "station (reservoir or river with its links in the registry), found fewer"
        )
        raise NowcastError(msg)
    stamps = [r["ts"] for r in readings]
    number, path, meta = write_version(
        folder,
        {
            "feature_version": FEATURE_VERSION,
            "start": iso(min(stamps)),
            "end": iso(max(stamps)),
            "sklearn": sklearn_version,
            "horizons_h": list(HORIZONS_H),
            "stations": per_station,
        },
        models,
    )
    return Trained(number, path, meta)


@dataclass(frozen=True)
class Loaded:
    """A loaded version: meta data and regressors per station and horizon."""

    version: int
    meta: dict[str, Any]
    models: dict[str, dict[int, Any]]


def load(folder: Path, registry: Mapping[str, Mapping[str, Any]]) -> Loaded:
    """Load LATEST; refuse a model whose features differ from what the registry gives now."""
    path, meta = read_latest(folder, "forecast train", FEATURE_VERSION, NowcastError)
    now = stations(registry)
    for sid, spec in meta["stations"].items():
        expected = now[sid].feature_names if sid in now else None
        if expected != spec["features"]:
            msg = (
                f"{path}: station {sid!r}: expected features {expected} (from the "
                f"registry's links), found {spec['features']}: retrain"
            )
            raise NowcastError(msg)
    return Loaded(meta["version"], meta, read_models(path))


class Nowcaster:
    """The flow's nowcast steps: recent readings and feature rows, then predictions per batch."""

    def __init__(
        self,
        folder: Path,
        registry: Mapping[str, Mapping[str, Any]],
        check_every_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.folder = folder
        self.registry = registry
        self.check_every_s = check_every_s
        self.clock = clock
        self.model = load(folder, registry)
        self.stations = stations(registry)
        self.watched = {s for sid in self.model.models for s in self.stations[sid].sensors}
        self._checked = clock()
        self._latest = (folder / "LATEST").read_text(encoding="utf-8")

    def reload_if_new(self) -> bool:
        """Load a newer version when LATEST changed; a refused one keeps the old (raises)."""
        now = self.clock()
        if now - self._checked < self.check_every_s:
            return False
        self._checked = now
        latest = (self.folder / "LATEST").read_text(encoding="utf-8")
        if latest == self._latest:
            return False
        self._latest = latest
        self.model = load(self.folder, self.registry)
        self.watched = {s for sid in self.model.models for s in self.stations[sid].sensors}
        return True

    def features(
        self, state: History | None, item: Any
    ) -> tuple[History, tuple[Any, list[float] | None]]:
        """The ``nowcast_features`` step (one key): note a reading; a station's gets its row."""
        state = state or History()
        if not isinstance(item, Reading) or item.sensor_id not in self.watched:
            return state, (item, None)
        v = item.values
        if "level_m" in v:
            state.add(item.sensor_id, item.ts, v["level_m"], cumulative=False)
        elif "rain_mm" in v:
            state.add(item.sensor_id, item.ts, v["rain_mm"], cumulative=True)
        state.trim(item.ts - KEEP_MS)
        if item.sensor_id not in self.model.models:
            return state, (item, None)
        return state, (item, features_at(state, self.stations[item.sensor_id], item.ts))

    def predict_batch(self, batch: list[tuple[Any, list[float] | None]]) -> list[Any]:
        """The ``nowcasts`` step: one prediction call per station and horizon and batch.

        Each station reading with a feature row is preceded by its nowcast (a Forecast issued
        by ``nowcast-v<N>``: levels at the horizons the station may use).
        """
        try:
            self.reload_if_new()
        except (NowcastError, OSError, ValueError, KeyError):
            pass  # keep the last good version
        rows: dict[str, list[int]] = {}
        for i, (item, row) in enumerate(batch):
            if row is not None and item.sensor_id in self.model.models:
                rows.setdefault(item.sensor_id, []).append(i)
        made: dict[int, Forecast] = {}
        for sid, idx in rows.items():
            use = self.model.meta["stations"][sid]["horizons_used_h"]
            if not use:
                continue
            x = np.asarray([batch[i][1] for i in idx])
            ahead = np.column_stack([self.model.models[sid][k].predict(x[:, 1:]) for k in use])
            for n, i in enumerate(idx):
                r = batch[i][0]
                levels = tuple(round(float(x[n, 0] + d), 3) for d in ahead[n])
                made[i] = Forecast(
                    sid,
                    r.kind,
                    r.region,
                    f"nowcast-v{self.model.version}",
                    r.ts,
                    r.ts + EXPIRES_MS,
                    tuple(r.ts + k * H for k in use),
                    {"level_m": levels},
                    r.received_at,
                )
        out: list[Any] = []
        for i, (item, _) in enumerate(batch):
            if i in made:
                out.append(made[i])
            out.append(item)
        return out
