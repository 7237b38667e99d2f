"""Learned nowcasts: features, training with skill, refusal of other features, the flow."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from sensors_sim.files import write_registry
from sensors_sim.scale import write_jsonl_fast
from sensors_sim.season import season
from warning.anomaly.trained import read_readings
from warning.cli import app
from warning.nowcast.features import History, Station, features_at
from warning.nowcast.model import NowcastError, load, train

# Whole scenarios through the whole dataflow (and model training): the slow end of the suite.
pytestmark = pytest.mark.integration

H = 3_600_000
T0 = 1_783_180_800_000  # 2026-07-05T00:00+08:00


def test_features_are_level_rises_upstream_and_basin_rain():
    h = History()
    for i in range(0, 37):  # 3 h of 5 min readings
        t = T0 + i * 300_000
        h.add("wl-1", t, 4.0 + 0.01 * i, cumulative=False)
        h.add("wl-0", t, 2.0 + 0.02 * i, cumulative=False)
        h.add("rg-1", t, 1.0, cumulative=True)  # 12 mm/h
        h.add("rg-2", t, 0.5 if i > 24 else 0.0, cumulative=True)  # 6 mm/h in the last hour
    st = Station("wl-1", ("wl-0",), ("rg-1", "rg-2"))
    row = features_at(h, st, T0 + 3 * H)
    assert st.feature_names == [
        "level",
        "rise_1h",
        "rise_3h",
        "above_min_24h",
        "up:wl-0:rise_1h",
        "up:wl-0:above_min_24h",
        "rain_1h",
        "rain_3h",
        "rain_6h",
        "rain_12h",
        "rain_24h",
    ]
    assert row == pytest.approx([4.36, 0.12, 0.36, 0.36, 0.24, 0.72, 9.0, 21.0, 21.5, 21.5, 21.5])
    assert features_at(h, st, T0 + H) is None  # no level 3 h before


@pytest.fixture(scope="module")
def short_season(tmp_path_factory):
    folder = tmp_path_factory.mktemp("season")
    sc = season(days=14, seed=7)
    with (folder / "season.jsonl").open("w") as out:
        write_jsonl_fast(sc, out)
    with (folder / "sensors.yaml").open("w") as out:
        write_registry(sc.network, out)
    reg = yaml.safe_load((folder / "sensors.yaml").read_text())
    # one station, to keep the test short: the river and its basin
    keep = {"wl-wx-01", "rg-aj-01", "rg-aj-02", "rg-dq-01", "rg-wx-02"}
    reg["sensors"] = [s for s in reg["sensors"] if s["id"] in keep]
    reg.pop("areas", None)  # the network's groups name sensors left out here
    for s in reg["sensors"]:
        s.pop("upstream", None)
    (folder / "one.yaml").write_text(yaml.safe_dump(reg))
    return folder


def _registry(path: Path) -> dict:
    from warning.registry import load_registry

    return dict(load_registry(path).sensors)


def test_training_writes_versions_with_period_features_and_skill(short_season, tmp_path):
    readings = read_readings(short_season / "season.jsonl")
    registry = _registry(short_season / "one.yaml")
    done = train(readings, registry, tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "v1" / "meta.json").read_text())
    assert (done.version, (tmp_path / "m" / "LATEST").read_text()) == (1, "v1")
    assert meta["start"] < meta["end"] and list(meta["stations"]) == ["wl-wx-01"]
    spec = meta["stations"]["wl-wx-01"]
    assert spec["features"] == [
        "level",
        "rise_1h",
        "rise_3h",
        "above_min_24h",
        "rain_1h",
        "rain_3h",
        "rain_6h",
        "rain_12h",
        "rain_24h",
    ]
    assert set(spec["skill"]) == {f"{k}h" for k in range(1, 7)}
    for s in spec["skill"].values():
        assert set(s) >= {"model", "persistence", "trend", "beats_persistence"}
        assert set(s["model"]) == {"nse", "kge", "rmse"}
        assert s["beats_persistence"] == (s["model"]["rmse"] < s["persistence"]["rmse"])
    used = spec["horizons_used_h"]
    assert used == [k for k in range(1, len(used) + 1)]
    assert all(spec["skill"][f"{k}h"]["beats_persistence"] for k in used)
    assert spec["skill"]["1h"]["beats_persistence"]  # the river answers its basin's rain
    # a changed registry (other links) makes other features: the model is refused
    changed = dict(registry)
    changed["wl-wx-01"] = {**registry["wl-wx-01"], "rain_gauges": []}
    with pytest.raises(
        NowcastError,
        match=r"expected features \['level', 'rise_1h', "
        r"'rise_3h', 'above_min_24h'\] .*found "
        r"\['level', 'rise_1h', 'rise_3h', "
        r"'above_min_24h', 'rain_1h'",
    ):
        load(tmp_path / "m", changed)
    assert train(readings, registry, tmp_path / "m").version == 2
    assert (tmp_path / "m" / "LATEST").read_text() == "v2"


def test_a_model_that_does_not_beat_persistence_is_not_used(tmp_path):
    rng = np.random.default_rng(3)
    walk = 4.0 + np.cumsum(rng.normal(0, 0.01, 14 * 288))  # a random walk: persistence is best
    readings = [
        {
            "sensor_id": "wl-9",
            "kind": "river",
            "ts": T0 + i * 300_000,
            "values": {"level_m": float(v)},
        }
        for i, v in enumerate(walk)
    ]
    done = train(readings, {"wl-9": {"kind": "river"}}, tmp_path / "m")
    spec = done.meta["stations"]["wl-9"]
    assert not spec["skill"]["1h"]["beats_persistence"]
    assert spec["horizons_used_h"] == []


def test_backtest_with_a_nowcast_model_gives_predicted_values(short_season, tmp_path):
    model = tmp_path / "m"
    train(read_readings(short_season / "season.jsonl"), _registry(short_season / "one.yaml"), model)
    (tmp_path / "rules.yaml").write_text(
        "indicators:\n  - id: ahead\n    for_kind: reservoir\n    values:\n"
        '      in_1h: "predicted(level_m, 1h)"\n'
    )
    (tmp_path / "config.yaml").write_text(f"pipeline:\n  nowcast_model: {model}\n")
    args = [
        "backtest",
        "--rules",
        str(tmp_path / "rules.yaml"),
        "--sensors",
        str(short_season / "one.yaml"),
        "--input",
        str(short_season / "season.jsonl"),
        "--config",
        str(tmp_path / "config.yaml"),
        "--no-progress",
    ]
    result = CliRunner().invoke(
        app,
        [
            *args,
            "--output",
            str(tmp_path / "a.jsonl"),
            "--indicators",
            str(tmp_path / "a.ind.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in (tmp_path / "a.ind.jsonl").read_text().splitlines()]
    values = [r["values"]["in_1h"] for r in rows if r["sensor_id"] == "wl-wx-01"]
    assert values[0] is None  # no 3 h of level yet: no nowcast
    assert sum(v is not None for v in values) > 0.9 * len(values)
    levels = {
        r["ts"]: r
        for r in read_readings(short_season / "season.jsonl")
        if r["sensor_id"] == "wl-wx-01"
    }
    assert len(levels) == len(values)
    # the same readings give the same nowcasts
    CliRunner().invoke(
        app,
        [
            *args,
            "--output",
            str(tmp_path / "b.jsonl"),
            "--indicators",
            str(tmp_path / "b.ind.jsonl"),
        ],
    )
    assert (tmp_path / "a.ind.jsonl").read_text() == (tmp_path / "b.ind.jsonl").read_text()


def test_run_refuses_a_model_folder_that_is_not_one(tmp_path, short_season):
    (tmp_path / "config.yaml").write_text(f"pipeline:\n  nowcast_model: {tmp_path}\n")
    (tmp_path / "rules.yaml").write_text("rules: []\n")
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--rules",
            str(tmp_path / "rules.yaml"),
            "--sensors",
            str(short_season / "one.yaml"),
            "--input",
            str(short_season / "season.jsonl"),
            "--config",
            str(tmp_path / "config.yaml"),
            "--output",
            str(tmp_path / "o.jsonl"),
            "--no-progress",
        ],
    )
    assert result.exit_code == 1
    assert (
        "nowcast_model: " in result.output
        and "expected a model folder with LATEST" in result.output
    )


def test_a_new_version_is_hot_reloaded_and_a_refused_one_keeps_the_last(short_season, tmp_path):
    import shutil

    from warning.nowcast.model import Nowcaster

    model = tmp_path / "m"
    registry = _registry(short_season / "one.yaml")
    train(read_readings(short_season / "season.jsonl"), registry, model)
    now = [0.0]
    nc = Nowcaster(model, registry, check_every_s=10, clock=lambda: now[0])

    def publish_version(n: int, **meta_changes) -> None:
        shutil.copytree(model / "v1", model / f"v{n}")
        meta = json.loads((model / f"v{n}" / "meta.json").read_text())
        meta.update(version=n, **meta_changes)
        (model / f"v{n}" / "meta.json").write_text(json.dumps(meta))
        (model / "LATEST").write_text(f"v{n}")

    publish_version(2)
    assert not nc.reload_if_new() and nc.model.version == 1  # not checked before 10 s
    now[0] = 11.0
    assert nc.reload_if_new() and nc.model.version == 2
    publish_version(3, feature_version=99)
    now[0] = 22.0
    with pytest.raises(NowcastError, match="expected feature version 2, found 99"):
        nc.reload_if_new()
    assert nc.model.version == 2
    assert nc.predict_batch([]) == []  # the flow's step swallows the refusal, keeps v2
