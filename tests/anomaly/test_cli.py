"""The ``hazard-warning anomaly`` commands, run through the real command line."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from typer.testing import CliRunner

from warning.anomaly.detectors import make
from warning.cli import app

runner = CliRunner()


def _series(path: Path, n: int = 400) -> list[float]:
    values = [10 + math.sin(i / 20) + (30 if i == 300 else 0) for i in range(n)]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            w.writerow([f"2014-04-{1 + i // 288:02d} {i % 288 // 12:02d}:{i % 12 * 5:02d}:00", v])
    return values


def test_score_writes_one_streaming_score_per_row(tmp_path: Path) -> None:
    """Each score depends only on the rows up to it: a prefix scores the same."""
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    values = _series(src)
    res = runner.invoke(
        app,
        ["anomaly", "score", "--input", str(src), "--detector", "robust_z", "--output", str(out)],
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"]
    assert len(rows) == len(values) and rows[0]["timestamp"] == "2014-04-01 00:00:00"
    scores = [float(r["anomaly_score"]) for r in rows]
    assert max(range(len(scores)), key=scores.__getitem__) == 300
    d = make("robust_z")
    for v in values[:301]:
        last = d.score_one(v)
        d.learn_one(v)
    assert round(last, 6) == scores[300]


def test_score_reports_the_bad_line(tmp_path: Path) -> None:
    """A row that is not a number is named by file and line, expected against found."""
    src = tmp_path / "s.csv"
    src.write_text("timestamp,value\n2014-04-01 00:00:00,1.0\n2014-04-01 00:05:00,abc\n")
    res = runner.invoke(
        app, ["anomaly", "score", "--input", str(src), "--output", str(tmp_path / "o.csv")]
    )
    assert res.exit_code == 1
    assert (
        f"{src}:3: expected a timestamp and a number, found '2014-04-01 00:05:00','abc'"
        in res.output
    )
    res = runner.invoke(
        app,
        [
            "anomaly",
            "score",
            "--input",
            str(src),
            "--detector",
            "lstm",
            "--output",
            str(tmp_path / "o.csv"),
        ],
    )
    assert res.exit_code == 1 and "found 'lstm'" in res.output


def test_evaluate_on_a_nab_folder(tmp_path: Path) -> None:
    """NAB layout: data/<group>/<file>.csv and combined_labels.json; scores are printed."""
    (tmp_path / "data" / "g").mkdir(parents=True)
    _series(tmp_path / "data" / "g" / "s.csv", n=2000)
    labels = {"g/s.csv": ["2014-04-02 01:00:00"]}
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    res = runner.invoke(
        app,
        [
            "anomaly",
            "evaluate",
            "--data",
            str(tmp_path / "data"),
            "--labels",
            str(tmp_path / "labels.json"),
            "--detector",
            "robust_z",
            "--detector",
            "random",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "1 series, 2000 rows, 1 anomaly windows" in res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("robust_z"))
    assert float(line.split()[2]) > 90  # the spike at row 300 = 2014-04-02 01:00


def test_train_needs_exactly_one_source(tmp_path: Path) -> None:
    """Neither --input nor --from-influx: the error says so."""
    res = runner.invoke(app, ["anomaly", "train", "--model", str(tmp_path / "m")])
    assert res.exit_code == 1
    assert "expected exactly one of --input and --from-influx, found neither" in res.output


def test_train_from_a_readings_file(tmp_path: Path) -> None:
    """A JSON Lines readings file trains version 1 and says on what period."""
    src = tmp_path / "r.jsonl"
    with src.open("w") as f:
        for i in range(200):
            f.write(
                json.dumps(
                    {
                        "sensor_id": "wl-1",
                        "kind": "reservoir",
                        "ts": 1.78e9 + i * 300,
                        "values": {"level_m": 3.2 + (i % 3) * 0.01},
                    }
                )
                + "\n"
            )
        f.write("not json\n")
    res = runner.invoke(
        app, ["anomaly", "train", "--input", str(src), "--model", str(tmp_path / "m")]
    )
    assert res.exit_code == 0, res.output
    assert "model version 1" in res.output and "(200 rows)" in res.output
    assert (tmp_path / "m" / "v1" / "models.pkl").exists()


def _nab_checkout(root: Path) -> None:
    """A two-series NAB layout with windows, one shipped result set and its published score."""
    (root / "data" / "g").mkdir(parents=True)
    (root / "labels").mkdir()
    _series(root / "data" / "g" / "a.csv", n=2000)
    _series(root / "data" / "g" / "b.csv", n=2000)
    wins = {"g/a.csv": [["2014-04-03 00:00:00", "2014-04-03 02:00:00"]], "g/b.csv": []}
    (root / "labels" / "combined_windows.json").write_text(json.dumps(wins))
    (root / "results" / "mine" / "g").mkdir(parents=True)
    for name in ("a", "b"):
        rows = list(csv.DictReader((root / "data" / "g" / f"{name}.csv").open()))
        with (root / "results" / "mine" / "g" / f"mine_{name}.csv").open("w") as f:
            f.write("timestamp,value,anomaly_score\n")
            for i, r in enumerate(rows):  # a hit at the window's start (row 576), an FP in b
                hit = (name == "a" and i == 576) or (name == "b" and i == 1500)
                f.write(f"{r['timestamp']},{r['value']},{0.9 if hit else 0.1}\n")
    (root / "results" / "final_results.json").write_text(
        json.dumps(
            {"mine": {"standard": 94.5, "reward_low_FP_rate": 89.0, "reward_low_FN_rate": 96.3}}
        )
    )


def test_evaluate_nab_scores_shipped_results_next_to_published(tmp_path: Path) -> None:
    """--nab --results: the three profiles, the swept threshold and NAB's published figure."""
    _nab_checkout(tmp_path)
    res = runner.invoke(
        app,
        [
            "anomaly",
            "evaluate",
            "--nab",
            str(tmp_path),
            "--results",
            "mine",
            "--detector",
            "robust_z",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "NAB: 2 series, 4000 rows, 1 windows" in res.output
    rows = {tuple(ln.split()[:4]): ln.split() for ln in res.output.splitlines()}
    std = rows[("NAB", "results/mine", "standard", "0.9000")]
    # one window detected at its first row (worth 1), one FP row before any window (-0.11)
    assert float(std[4]) == 94.5 and std[5] == "94.50" and std[6:] == ["-", "1", "0", "1"]
    low_fp = rows[("NAB", "results/mine", "reward_low_FP_rate", "0.9000")]
    assert float(low_fp[4]) == 89.0
    assert any(ln.startswith("robust_z") for ln in res.output.splitlines())


def test_evaluate_nab_names_what_is_wrong(tmp_path: Path) -> None:
    """A folder that is not NAB, a missing result file, an unknown detector: clear errors."""
    res = runner.invoke(app, ["anomaly", "evaluate", "--nab", str(tmp_path)])
    assert (
        res.exit_code == 1
        and "expected a NAB checkout with labels/combined_windows.json" in res.output
    )
    _nab_checkout(tmp_path)
    res = runner.invoke(app, ["anomaly", "evaluate", "--nab", str(tmp_path), "--results", "x"])
    assert res.exit_code == 1 and "x_a.csv" in res.output
    res = runner.invoke(app, ["anomaly", "evaluate", "--nab", str(tmp_path), "--detector", "htm"])
    assert res.exit_code == 1 and "found htm" in res.output


def test_score_default_is_the_judge_with_its_fault_band(tmp_path: Path) -> None:
    """``--detector default``: a -9999 row scores 1, out of ``--high`` 0.8, a stuck run >= 0.5."""
    src, out = tmp_path / "s.csv", tmp_path / "o.csv"
    values = [10 + math.sin(i / 20) + 0.01 * (i % 7) for i in range(600)]
    values[300] = -9999.0
    values[400] = 50.0
    values[500:540] = [10.5] * 40
    with src.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            w.writerow([f"2014-04-{1 + i // 288:02d} {i % 288 // 12:02d}:{i % 12 * 5:02d}:00", v])
    res = runner.invoke(
        app, ["anomaly", "score", "--input", str(src), "--output", str(out), "--high", "20"]
    )
    assert res.exit_code == 0, res.output
    assert "scored by default" in res.output
    scores = [float(r["anomaly_score"]) for r in csv.DictReader(out.open())]
    assert scores[300] == 1.0 and scores[400] == 0.8
    assert max(scores[500:541]) >= 0.5
    assert max(scores[:300] + scores[301:400]) < 0.5
    res = runner.invoke(
        app,
        ["anomaly", "score", "--input", str(src), "--output", str(out), "--detector", "cusum"]
        + ["--low", "0"],
    )
    assert res.exit_code == 1 and "expected detector default, judge or quality" in res.output
