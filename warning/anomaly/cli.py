"""The ``hazard-warning anomaly`` commands: score a CSV, evaluate detectors, train models."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

anomaly_app = typer.Typer(
    no_args_is_help=True, help="Anomaly detectors: score series, evaluate, train models."
)


def _epoch_ms(text: str) -> int:
    """Parse a NAB-style timestamp (``2014-04-01 00:00:00``, RFC 3339 or epoch seconds)."""
    try:
        return round(float(text) * 1000)
    except ValueError:
        pass
    dt = datetime.fromisoformat(text.strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return round(dt.timestamp() * 1000)


def read_series(path: Path) -> tuple[list[str], list[int], list[float]]:
    """Read a ``timestamp,value`` CSV; raise ValueError naming the line on a bad row."""
    texts, ts, values = [], [], []
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or not {"timestamp", "value"} <= set(reader.fieldnames):
            msg = f"{path}:1: expected a header with timestamp,value, found {reader.fieldnames}"
            raise ValueError(msg)
        for row in reader:
            try:
                ts.append(_epoch_ms(row["timestamp"]))
                values.append(float(row["value"]))
            except (TypeError, ValueError):
                msg = (
                    f"{path}:{reader.line_num}: expected a timestamp and a number, found "
                    f"{row.get('timestamp')!r},{row.get('value')!r}"
                )
                raise ValueError(msg) from None
            texts.append(row["timestamp"])
    return texts, ts, values


@anomaly_app.command("score")
def score(
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,  # noqa: A002
            help="CSV with timestamp,value (the NAB format).",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", help="CSV: timestamp,value,anomaly_score.")],
    detector: Annotated[
        str,
        typer.Option(
            help="default (= judge: anomaly score below 0.5, fault signs from 0.5), surprise, "
            "quality, robust_z, seasonal_ewma, cusum, combined, random or threshold."
        ),
    ] = "default",
    low: Annotated[
        float | None, typer.Option(help="The sensor's physical minimum (judge, quality).")
    ] = None,
    high: Annotated[
        float | None, typer.Option(help="The sensor's physical maximum (judge, quality).")
    ] = None,
) -> None:
    """Score a series row by row in stream order (each score from rows up to it only)."""
    from warning.anomaly.detectors import make

    bounds = {k: v for k, v in (("low", low), ("high", high)) if v is not None}
    try:
        if bounds and detector not in ("default", "judge", "quality"):
            raise ValueError(
                f"--low/--high: expected detector default, judge or quality, found {detector}"
            )
        d = make(detector, **bounds)
        texts, ts, values = read_series(input)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    with output.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["timestamp", "value", "anomaly_score"])
        for text, t, x in zip(texts, ts, values, strict=True):
            s = d.score_one(x, t)
            d.learn_one(x, t)
            out.writerow([text, repr(x), f"{s:.6f}"])
    typer.echo(f"{len(values)} rows scored by {detector} into {output}")


@anomaly_app.command("evaluate")
def evaluate(
    corpus: Annotated[str, typer.Option(help="synthetic, simulated or all.")] = "all",
    nab: Annotated[
        Path | None,
        typer.Option(
            "--nab", help="A NAB checkout (data/, labels/combined_windows.json): score on NAB."
        ),
    ] = None,
    lro: Annotated[
        Path | None,
        typer.Option(
            "--lro",
            help="A folder with LRO_data/ and pyhydroqc/parameters.py (github "
            "AmberSJones/pyhydroqc): event precision/recall/F1 of fault detection "
            "against technician labels, with the range + persistence baseline; --detector "
            "pipeline (or pipeline-named) scores the live fault naming.",
        ),
    ] = None,
    results: Annotated[
        list[str] | None,
        typer.Option(
            help="With --nab: score NAB's shipped result files of these detectors "
            "(results/NAME/), next to NAB's published scores."
        ),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="A NAB data folder (CSV files) instead.")
    ] = None,
    labels: Annotated[
        Path | None, typer.Option(help="With --data: NAB combined_labels.json.")
    ] = None,
    detector: Annotated[list[str] | None, typer.Option(help="Detectors (default: all).")] = None,
) -> None:
    """Print NAB scores (the threshold swept as NAB's optimiser does) of detectors."""
    from warning.anomaly import corpus as corpora
    from warning.anomaly import evaluate as ev
    from warning.anomaly.detectors import DETECTORS

    if nab is not None:
        _evaluate_nab(nab, detector, results)
        return
    if lro is not None:
        _evaluate_lro(lro, detector or ["default", "quality", "surprise"])
        return
    if data is not None:
        if labels is None:
            typer.echo("--data: expected --labels FILE as well, found none", err=True)
            raise typer.Exit(1)
        series = _nab_folder(data, labels)
    elif corpus in ("synthetic", "simulated", "all"):
        series = (corpora.synthetic() if corpus != "simulated" else []) + (
            corpora.simulated() if corpus != "synthetic" else []
        )
    else:
        typer.echo(f"--corpus: expected synthetic, simulated or all, found {corpus!r}", err=True)
        raise typer.Exit(1)
    windows = sum(len(ev.windows(len(s.values), s.anomalies)) for s in series)
    typer.echo(
        f"{len(series)} series, {sum(len(s.values) for s in series)} rows, "
        f"{windows} anomaly windows; standard profile (TP 1.0, FP 0.11, FN 1.0)"
    )
    typer.echo(f"{'detector':<14} {'threshold':>9} {'score':>7} {'TP':>4} {'FP':>5} {'FN':>4}")
    for name in detector or sorted(DETECTORS):
        r = ev.best(list(corpora.scored(name, series)))
        typer.echo(f"{name:<14} {r.threshold:>9.3f} {r.score:>7.1f} {r.tp:>4} {r.fp:>5} {r.fn:>4}")
    typer.echo(f"{'null':<14} {'-':>9} {0.0:>7.1f}\n{'perfect':<14} {'-':>9} {100.0:>7.1f}")


def _evaluate_nab(root: Path, detectors: list[str] | None, results: list[str] | None) -> None:
    from warning.anomaly import corpus as corpora
    from warning.anomaly import evaluate as ev
    from warning.anomaly import nab
    from warning.anomaly.detectors import DETECTORS

    try:
        files = nab.load(root)
        runs: list[tuple[str, list[nab.ScoredSeries], str | None]] = [
            (f"NAB results/{name}", nab.shipped(root, name, files), name) for name in results or []
        ]
    except (ValueError, OSError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    names = detectors if detectors is not None else ([] if results else sorted(DETECTORS))
    unknown = [d for d in names if d not in DETECTORS]
    if unknown:
        typer.echo(
            f"--detector: expected one of {', '.join(sorted(DETECTORS))}, found "
            f"{', '.join(unknown)}",
            err=True,
        )
        raise typer.Exit(1)
    published = nab.published(root)
    fixed = nab.published_thresholds(root)
    wins = sum(len(f.ranges) for f in files)
    typer.echo(
        f"NAB: {len(files)} series, {sum(f.values.size for f in files)} rows, {wins} "
        "windows; thresholds swept over every distinct score"
    )
    typer.echo(
        f"{'detector':<28} {'profile':<19} {'threshold':>9} {'score':>7} "
        f"{'published':>9} {'at NAB thr':>10} {'TP':>4} {'FN':>4} {'FP':>5}"
    )
    for name in names:

        def score(f: nab.NabFile, n: str = name) -> list[float]:
            return corpora.score_values(n, f.ts.tolist(), f.values.tolist())

        runs.append((name, nab.run(files, score), None))
    for label, series, key in runs:
        for profile, r in nab.profiles(series):
            pub = published.get(key or "", {}).get(profile)
            thr = fixed.get(key or "", {}).get(profile)
            at = "-" if thr is None else f"{ev.at(series, thr, ev.PROFILES[profile]).score:.2f}"
            typer.echo(
                f"{label:<28} {profile:<19} {r.threshold:>9.4f} {r.score:>7.2f} "
                f"{'-' if pub is None else f'{pub:.2f}':>9} {at:>10} {r.tp:>4} "
                f"{r.fn:>4} {r.fp:>5}"
            )


def _evaluate_lro(root: Path, names: list[str]) -> None:
    from warning.anomaly import lro
    from warning.anomaly.detectors import DETECTORS

    known = [*DETECTORS, *lro.PIPELINE]
    unknown = [d for d in names if d not in known]
    if unknown:
        typer.echo(
            f"--detector: expected one of {', '.join(sorted(known))}, found {', '.join(unknown)}",
            err=True,
        )
        raise typer.Exit(1)
    try:
        corpus = lro.load(root)
    except (ValueError, OSError, KeyError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"LRO: {len(corpus)} labelled series, {sum(s.values.size for s in corpus)} rows; "
        "events widened by 1 row (PyHydroQC's event metrics), detection at score >= 0.5"
    )
    typer.echo(
        f"{'detector':<18} {'-9999 rows':<10} {'precision':>9} {'recall':>6} "
        f"{'F1':>5} {'TP':>4} {'FP':>5} {'FN':>4}"
    )
    for label, sentinels, (p, r, f1, tp, fp, fn) in lro.rows(corpus, names):
        typer.echo(
            f"{label:<18} {sentinels:<10} {p:>9.2f} {r:>6.2f} {f1:>5.2f} {tp:>4} {fp:>5} {fn:>4}"
        )


def _nab_folder(data: Path, labels: Path) -> list:
    from warning.anomaly.corpus import Labelled

    marked = json.loads(labels.read_text(encoding="utf-8"))
    out = []
    for rel, stamps in sorted(marked.items()):
        _, ts, values = read_series(data / rel)
        index = {t: i for i, t in enumerate(ts)}
        rows = [index[_epoch_ms(s)] for s in stamps if _epoch_ms(s) in index]
        out.append(Labelled(rel, ts, values, rows))
    return out


@anomaly_app.command("train")
def train(
    model: Annotated[Path, typer.Option("--model", help="Model folder; a new version is added.")],
    input: Annotated[
        Path | None,
        typer.Option(  # noqa: A002
            "--input", exists=True, dir_okay=False, help="Readings, JSON Lines or CSV."
        ),
    ] = None,
    from_influx: Annotated[
        str | None,
        typer.Option("--from-influx", help="Read readings back from this InfluxDB URL instead."),
    ] = None,
    influx_db: Annotated[str, typer.Option(help="Database for --from-influx.")] = "hazard",
    start: Annotated[str | None, typer.Option(help="With --from-influx: RFC 3339 start.")] = None,
    end: Annotated[str | None, typer.Option(help="With --from-influx: RFC 3339 end.")] = None,
    per: Annotated[str, typer.Option(help="One model per 'kind' or per 'sensor'.")] = "kind",
) -> None:
    """Fit IsolationForest models on windowed features and write them as a new version."""
    from warning.anomaly import trained

    if (input is None) == (from_influx is None):
        typer.echo(
            "expected exactly one of --input and --from-influx, found "
            f"{'both' if input else 'neither'}",
            err=True,
        )
        raise typer.Exit(1)
    from warning.sources.influx import ReadError

    try:
        readings = (
            trained.read_readings(input)
            if input is not None
            else trained.influx_readings(str(from_influx), influx_db, start, end)
        )
        version = trained.train(readings, model, per=per)
    except (ValueError, OSError, ReadError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"model version {version.version} in {version.path}: "
        f"{', '.join(sorted(version.groups))}; trained on {version.start} .. "
        f"{version.end} ({version.rows} rows)"
    )
