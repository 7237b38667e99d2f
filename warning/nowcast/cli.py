"""The ``hazard-warning forecast`` commands: train nowcasts, report their skill."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from warning.console import print_tables

forecast_app = typer.Typer(
    no_args_is_help=True, help="Learned nowcasts of water levels: train, skill."
)


def _readings(
    input: Path | None,
    from_influx: str | None,
    influx_db: str,  # noqa: A002
    start: str | None,
    end: str | None,
) -> list[dict[str, Any]]:
    from warning.anomaly import trained
    from warning.sources.influx import ReadError

    if (input is None) == (from_influx is None):
        typer.echo(
            "expected exactly one of --input and --from-influx, found "
            f"{'both' if input else 'neither'}",
            err=True,
        )
        raise typer.Exit(1)
    try:
        return (
            trained.read_readings(input)
            if input is not None
            else trained.influx_readings(str(from_influx), influx_db, start, end)
        )
    except (ValueError, OSError, ReadError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _registry(sensors: Path) -> dict[str, Any]:
    from warning.cli import _fail
    from warning.registry import load_registry
    from warning.yamlfile import ConfigError

    try:
        return dict(load_registry(sensors).sensors)
    except ConfigError as exc:
        _fail(exc)
        raise


def skill_table(stations: dict[str, Any], title: str) -> Table:
    """Per station and horizon: NSE, KGE, RMSE of the model, persistence and linear trend."""
    t = Table(
        title=title, box=None, pad_edge=False, title_justify="left", header_style="bold underline"
    )
    for i, h in enumerate(
        (
            "station",
            "ahead",
            "rows",
            "NSE",
            "KGE",
            "RMSE m",
            "persist. NSE",
            "RMSE m",
            "trend NSE",
            "RMSE m",
            "used",
        )
    ):
        t.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
    for sid, spec in sorted(stations.items()):
        used = set(spec.get("horizons_used_h", ()))
        for ahead, s in spec["skill"].items():
            m, p, tr = s["model"], s["persistence"], s["trend"]
            flag = (
                "yes"
                if int(ahead[:-1]) in used
                else "no: not better than persistence"
                if not s["beats_persistence"]
                else "no"
            )
            t.add_row(
                sid,
                ahead,
                str(s["rows"]),
                f"{m['nse']:.3f}",
                f"{m['kge']:.3f}",
                f"{m['rmse']:.3f}",
                f"{p['nse']:.3f}",
                f"{p['rmse']:.3f}",
                f"{tr['nse']:.3f}",
                f"{tr['rmse']:.3f}",
                flag,
            )
    return t


@forecast_app.command("train")
def train(
    model: Annotated[Path, typer.Option("--model", help="Model folder; a new version is added.")],
    sensors: Annotated[
        Path,
        typer.Option(
            "--sensors",
            exists=True,
            dir_okay=False,
            help="Sensor registry with upstream/rain_gauges.",
        ),
    ],
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
) -> None:
    """Fit per-station regressors of the level 1-6 h ahead; print the held-out skill."""
    from warning.nowcast.model import NowcastError
    from warning.nowcast.model import train as fit

    readings = _readings(input, from_influx, influx_db, start, end)
    try:
        done = fit(readings, _registry(sensors), model)
    except (NowcastError, OSError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    meta = done.meta
    print_tables(
        skill_table(
            meta["stations"],
            f"nowcast skill on the held-out last quarter of {meta['start']} .. {meta['end']}",
        )
    )
    typer.echo(
        f"model version {done.version} in {done.path}: {', '.join(sorted(meta['stations']))}"
    )


@forecast_app.command("skill")
def skill(
    model: Annotated[Path, typer.Option("--model", help="Model folder (its LATEST version).")],
    sensors: Annotated[
        Path,
        typer.Option(
            "--sensors",
            exists=True,
            dir_okay=False,
            help="Sensor registry with upstream/rain_gauges.",
        ),
    ],
    input: Annotated[
        Path,
        typer.Option(  # noqa: A002
            "--input", exists=True, dir_okay=False, help="Readings, JSON Lines or CSV."
        ),
    ],
) -> None:
    """Score the model on other readings: NSE, KGE, RMSE per station and horizon."""
    from warning.nowcast.features import history_of, stations
    from warning.nowcast.model import NowcastError, dataset, evaluate, load

    readings = _readings(input, None, "", None, None)
    registry = _registry(sensors)
    try:
        loaded = load(model, registry)
    except (NowcastError, OSError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    h = history_of(readings)
    out = {}
    for sid, st in stations(registry).items():
        if sid not in loaded.models:
            continue
        x, _, future = dataset(readings, st, h)
        if len(x):
            used = loaded.meta["stations"][sid]["horizons_used_h"]
            out[sid] = {
                "skill": evaluate(loaded.models[sid], x, future, st.feature_names),
                "horizons_used_h": used,
            }
    print_tables(skill_table(out, f"nowcast v{loaded.version} skill on {input}"))
