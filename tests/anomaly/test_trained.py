"""Trained models: versioned folders, the feature check, batch scoring and hot reload."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from warning.anomaly import trained
from warning.anomaly.trained import FEATURE_VERSION, ModelError, ModelScorer
from warning.kinds import BUILTIN_KINDS
from warning.records import Reading

KINDS = {name: k.field_names for name, k in BUILTIN_KINDS.items()}
T0 = 1_780_000_000_000


def _readings(n: int = 600, seed: int = 5) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for sid in ("wl-1", "wl-2"):
        for i in range(n):
            out.append(
                {
                    "sensor_id": sid,
                    "kind": "reservoir",
                    "ts": T0 + i * 300_000,
                    "values": {"level_m": round(3.2 + rng.gauss(0, 0.01), 2)},
                }
            )
    return out


def test_train_writes_numbered_versions_with_period_and_features(tmp_path: Path) -> None:
    """Each run adds v1, v2 ... with meta data; LATEST names the newest."""
    v1 = trained.train(_readings(), tmp_path / "m")
    v2 = trained.train(_readings(seed=6), tmp_path / "m")
    assert (v1.version, v2.version) == (1, 2)
    assert (tmp_path / "m" / "LATEST").read_text() == "v2"
    meta = json.loads((tmp_path / "m" / "v1" / "meta.json").read_text())
    assert meta["feature_version"] == FEATURE_VERSION
    assert meta["start"] == "2026-05-28T20:26:40+00:00" and meta["rows"] == 1200
    assert meta["groups"]["reservoir"]["features"] == trained.feature_names(["level_m"])


def test_per_sensor_models(tmp_path: Path) -> None:
    """--per sensor fits one model per station."""
    v = trained.train(_readings(), tmp_path / "m", per="sensor")
    assert sorted(v.groups) == ["wl-1", "wl-2"]


def test_a_model_on_other_features_is_refused(tmp_path: Path) -> None:
    """Edited feature lists or an older feature version are refused with expected/found."""
    trained.train(_readings(), tmp_path / "m")
    meta_path = tmp_path / "m" / "v1" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["groups"]["reservoir"]["features"] = ["level_m", "level_m_delta"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(
        ModelError,
        match=r"model 'reservoir': expected features \['level_m', "
        r"'level_m_delta', 'level_m_dev_1h'.*found \['level_m', 'level_m_delta'\]",
    ):
        trained.load(tmp_path / "m", KINDS)
    meta["feature_version"] = FEATURE_VERSION + 1
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(
        ModelError, match=f"expected feature version {FEATURE_VERSION}, found {FEATURE_VERSION + 1}"
    ):
        trained.load(tmp_path / "m", KINDS)
    with pytest.raises(ModelError, match="expected fields of kind 'reservoir' among"):
        trained.train(_readings(), tmp_path / "n")
        trained.load(tmp_path / "n", {"reservoir": ["inflow_m3s"]})


def test_batch_scores_single_outlier_highest_and_reloads_new_versions(tmp_path: Path) -> None:
    """A jump scores above the normal rows; a new version is picked up on the next check."""
    folder = tmp_path / "m"
    trained.train(_readings(), folder)
    now = [0.0]
    scorer = ModelScorer(folder, KINDS, check_every_s=30, clock=lambda: now[0])
    state, rows = None, []
    for i in range(60):
        level = 3.2 if i != 50 else 4.0
        r = Reading("wl-1", "reservoir", "wx", T0 + i * 300_000, {"level_m": level})
        state, row = scorer.features(state, r)
        rows.append(row)
    records = scorer.score_batch([r for r in rows if r is not None])
    assert len(records) == 60
    scores = [rec.values["model_score"] for rec in records]
    assert max(range(60), key=scores.__getitem__) == 50
    assert all(0 < s <= 1 for s in scores)
    assert {rec.values["model_version"] for rec in records} == {1.0}
    trained.train(_readings(seed=9), folder)
    now[0] = 10.0
    assert scorer.score_batch(rows[:1])[0].values["model_version"] == 1.0  # not checked yet
    now[0] = 31.0
    assert scorer.score_batch(rows[:1])[0].values["model_version"] == 2.0


def test_a_refused_new_version_keeps_the_old_one_scoring(tmp_path: Path) -> None:
    """A bad LATEST does not stop scoring: the last good model goes on."""
    folder = tmp_path / "m"
    trained.train(_readings(), folder)
    now = [0.0]
    scorer = ModelScorer(folder, KINDS, check_every_s=1, clock=lambda: now[0])
    (folder / "LATEST").write_text("v7")
    now[0] = 5.0
    r = Reading("wl-1", "reservoir", "wx", T0, {"level_m": 3.2})
    _, row = scorer.features(None, r)
    assert scorer.score_batch([row])[0].values["model_version"] == 1.0


def test_train_needs_enough_rows(tmp_path: Path) -> None:
    """Too few readings: the error says how many were needed."""
    with pytest.raises(ValueError, match="expected at least 50 complete readings"):
        trained.train(_readings(n=10), tmp_path / "m")
