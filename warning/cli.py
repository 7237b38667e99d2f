"""The ``hazard-warning`` command line."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

from warning.anomaly.cli import anomaly_app
from warning.authoring.cli import rules_app
from warning.config import Config, load_config
from warning.notify.cli import notify_app
from warning.nowcast.cli import forecast_app
from warning.yamlfile import ConfigError

if TYPE_CHECKING:
    from warning.app import Setup
    from warning.authoring.score import Score

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Multi-hazard early warning: MQTT readings, YAML rules, graded warnings.",
)
app.add_typer(rules_app, name="rules")
app.add_typer(notify_app, name="notify")
app.add_typer(anomaly_app, name="anomaly")
app.add_typer(forecast_app, name="forecast")
err = Console(stderr=True)


def _logging(verbose: bool, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def _fail(exc: ConfigError) -> NoReturn:
    for problem in exc.problems:
        typer.echo(str(problem), err=True)  # one unwrapped line each, for editors and grep
    raise typer.Exit(1)


@app.command()
def run(
    config: Annotated[Path, typer.Option("--config", "-c", help="Run configuration YAML.")],
    workers: Annotated[int, typer.Option(help="bytewax workers in this process.")] = 1,
    process_id: Annotated[
        int | None,
        typer.Option("--process-id", "-i", help="This process's index in --addresses (a cluster)."),
    ] = None,
    addresses: Annotated[
        str | None,
        typer.Option(
            "--addresses",
            "-a",
            help="host:port of every cluster process, ';'-separated; "
            "each reads its share of the MQTT topic (docs/PERFORMANCE.md).",
        ),
    ] = None,
    verbose: bool = False,
) -> None:
    """Run the live pipeline: MQTT in; warnings to console, MQTT and InfluxDB."""
    from warning.app import run_live, setup

    _logging(verbose)
    try:
        s = setup(load_config(config))
    except ConfigError as exc:
        _fail(exc)
    peers = [a.strip() for a in addresses.split(";") if a.strip()] if addresses else None
    if peers and not (process_id is not None and 0 <= process_id < len(peers)):
        typer.echo(
            f"--process-id must be in 0..{len(peers) - 1} with {len(peers)} addresses", err=True
        )
        raise typer.Exit(2)
    try:
        run_live(s, threading.Event(), workers=workers, process_id=process_id, addresses=peers)
    except ConfigError as exc:  # files read at start-up beside the rules (the routing file)
        _fail(exc)


@app.command()
def backtest(
    rules: Annotated[list[Path], typer.Option("--rules", help="Rule file or directory.")],
    output: Annotated[Path, typer.Option("--output", help="Warning events, JSON Lines.")],
    input: Annotated[
        Path | None,
        typer.Option(  # noqa: A002
            "--input", exists=True, dir_okay=False, help="Readings, JSON Lines or CSV."
        ),
    ] = None,
    from_influx: Annotated[
        str | None,
        typer.Option(
            "--from-influx",
            help="Read the readings back from this InfluxDB URL instead "
            "(InfluxQL /query; credentials from --config's influx section).",
        ),
    ] = None,
    influx_db: Annotated[str, typer.Option(help="Database for --from-influx.")] = "hazard",
    start: Annotated[str | None, typer.Option(help="With --from-influx: RFC 3339 start.")] = None,
    end: Annotated[
        str | None, typer.Option(help="With --from-influx: RFC 3339 end (exclusive).")
    ] = None,
    sensors: Annotated[Path | None, typer.Option("--sensors", help="Sensor registry.")] = None,
    rejected: Annotated[Path | None, typer.Option(help="Write rejected readings here.")] = None,
    indicators: Annotated[Path | None, typer.Option(help="Write indicator records here.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Pipeline settings (lateness, kinds...).")
    ] = None,
    workers: int = 1,
    progress: bool = True,
    verbose: bool = False,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            exists=True,
            dir_okay=False,
            help="Ground truth, JSON Lines: subject, hazard, onset, end, level; score against it.",
        ),
    ] = None,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="Write the scores as JSON (needs --labels).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Write an HTML report with a plot per episode (needs --labels)."
        ),
    ] = None,
    tolerance: Annotated[str, typer.Option(help="How early before onset a warning counts.")] = "1h",
    forecasts: Annotated[
        Path | None,
        typer.Option(
            "--forecasts",
            exists=True,
            dir_okay=False,
            help="Forecasts, JSON Lines (docs/FORECASTS.md), fed in by issue time.",
        ),
    ] = None,
    baseline: Annotated[
        list[Path] | None,
        typer.Option(
            "--baseline-rules",
            help="With --labels: also score this rule set (e.g. observed-only) "
            "on the same input and show the lead time gained per level.",
        ),
    ] = None,
) -> None:
    """Run rules over recorded readings with the same dataflow as `run`."""
    from warning.app import for_files, run_backtest, setup

    _logging(verbose)
    truth, tolerance_ms = _labels(labels, summary, report, tolerance)
    try:
        cfg = load_config(config) if config else Config()
        s = setup(for_files(cfg, rules, sensors), replay=True)
    except ConfigError as exc:
        _fail(exc)
    if (input is None) == (from_influx is None):
        raise typer.BadParameter(
            "give exactly one of --input and --from-influx", param_hint="--input/--from-influx"
        )
    readings = (
        input
        if from_influx is None
        else _from_influx(cfg, from_influx, influx_db, start, end, output)
    )
    assert readings is not None  # exactly one of the two, checked above
    size = readings.stat().st_size
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not progress,
    )
    with bar:
        task = bar.add_task("backtest", total=size)
        run_backtest(
            s,
            readings,
            output,
            rejected,
            workers,
            progress=lambda done: bar.update(task, completed=done),
            indicators=indicators,
            forecasts=forecasts,
        )
    m = s.metrics
    events = sum(
        v.value
        for metric in m.warning_events.collect()
        for v in metric.samples
        if v.name.endswith("_total")
    )
    bad = sum(
        v.value
        for metric in m.rejected.collect()
        for v in metric.samples
        if v.name.endswith("_total")
    )
    err.print(
        f"{int(m.received._value.get())} readings, {int(bad)} rejected, "
        f"{int(events)} warning events -> {output}",
        highlight=False,
    )
    if truth is not None:
        result = _score(truth, tolerance_ms, s, readings, output, summary, report)
        if baseline:
            _gain(truth, tolerance_ms, result, cfg, baseline, readings, sensors, forecasts)
    elif baseline:
        raise typer.BadParameter("needs --labels", param_hint="--baseline-rules")


def _gain(
    truth: list,
    tolerance_ms: int,
    result: Score,
    cfg: Config,
    baseline: list[Path],
    input: Path,
    sensors: Path | None,
    forecasts: Path | None,
) -> None:  # noqa: A002
    """Score the baseline rule set on the same input; print the lead gained per level."""
    from warning.authoring.diff import backtest_events
    from warning.authoring.leadgain import rich_gain_table
    from warning.authoring.score import score
    from warning.console import print_tables

    try:
        before = score(
            truth, backtest_events(cfg, baseline, input, sensors, forecasts), tolerance_ms
        )
    except ConfigError as exc:
        _fail(exc)
    names = ", ".join(str(p) for p in baseline)
    print_tables(
        rich_gain_table(before, result, f"lead time against {names} (before) on the same readings")
    )


def _from_influx(
    cfg: Config, url: str, database: str, start: str | None, end: str | None, output: Path
) -> Path:
    """Export the stored readings beside the output, so the replayed input can be seen."""
    import dataclasses

    from warning.config import Influx
    from warning.sources.influx import ReadError, export_readings

    if not start or not end:
        raise typer.BadParameter("--from-influx needs --start and --end")
    influx = dataclasses.replace(cfg.influx or Influx(), url=url, database=database)
    path = output.with_name(output.stem + ".readings.jsonl")
    try:
        n = export_readings(influx, start, end, path)
    except ReadError as exc:
        typer.echo(f"--from-influx: {exc}", err=True)
        raise typer.Exit(1) from None
    err.print(f"{n} readings read from {url} ({database}) -> {path}", highlight=False)
    return path


def _labels(
    labels: Path | None, summary: Path | None, report: Path | None, tolerance: str
) -> tuple[list | None, int]:
    """Read the labels before the run, so that a bad file fails fast."""
    from warning.authoring.score import LabelError, read_labels
    from warning.records import parse_duration_ms

    if labels is None:
        if summary is not None or report is not None:
            raise typer.BadParameter("needs --labels", param_hint="--summary/--report")
        return None, 0
    try:
        tolerance_ms = parse_duration_ms(tolerance)
    except (ValueError, ConfigError):
        raise typer.BadParameter(
            "expected a duration like 30m or 1h", param_hint="--tolerance"
        ) from None
    try:
        return read_labels(labels), tolerance_ms
    except LabelError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _score(
    truth: list,
    tolerance_ms: int,
    s: Setup,
    input: Path,  # noqa: A002
    output: Path,
    summary: Path | None,
    report: Path | None,
) -> Score:
    import json

    from warning.authoring.score import read_events, rich_table, score
    from warning.authoring.score_rates import rate_table
    from warning.console import print_tables

    events = read_events(output)
    result = score(truth, events, tolerance_ms)
    rates = _false_alarm_rates(result, s, input)
    print_tables(rich_table(result), rate_table(rates))
    if summary is not None:
        doc = {**result.to_dict(), "false_alarms_per_sensor_year": rates}
        summary.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if report is not None:
        from warning.authoring.report import write_report

        write_report(report, result, events, input, s)
        err.print(f"report -> {report}", highlight=False)
    return result


def _false_alarm_rates(result: Score, s: Setup, input: Path) -> dict:  # noqa: A002
    """False alarms per sensor-year, over the sensor-time of the input's readings."""
    from warning.authoring.explain import read_readings
    from warning.authoring.score_rates import false_alarm_rates, sensor_spans, sensor_years

    spans = sensor_spans(read_readings(input, s.settings))
    years = sensor_years(spans, s.steps.rules.rules)
    return false_alarm_rates(result, years)


@app.command()
def demo(
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second.")] = 900.0,
    scenario: str = "storm",
    influx_url: Annotated[
        str | None, typer.Option(help="Also store in this InfluxDB (v1).")
    ] = None,
    broker: Annotated[
        str, typer.Option(help="mosquitto (if installed, the default) or amqtt.")
    ] = "mosquitto",
    verbose: bool = False,
) -> None:
    """Run a broker, a simulated storm and the live pipeline, printing warnings as they happen."""
    from warning.demo.run import run_demo

    _logging(verbose, quiet=True)
    run_demo(
        duration=duration, speed=speed, scenario=scenario, influx_url=influx_url, broker=broker
    )


cap_app = typer.Typer(no_args_is_help=True, help="CAP 1.2 alerts of warning events.")
app.add_typer(cap_app, name="cap")


@cap_app.command("render")
def cap_render(
    input: Annotated[
        Path,
        typer.Option(  # noqa: A002
            "--input", exists=True, dir_okay=False, help="Warning events, JSON Lines."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", help="Directory for the CAP files.")],
    sensors: Annotated[Path | None, typer.Option("--sensors", help="Sensor registry.")] = None,
    regions: Annotated[
        Path | None,
        typer.Option("--regions", help="Region names and polygons (deploy/regions.yaml)."),
    ] = None,
    sender: str = "hazard-warning@huzhou.example",
    status: Annotated[str, typer.Option(help="Actual, Exercise or Test.")] = "Actual",
    base_url: Annotated[str, typer.Option(help="Where the feed will be served.")] = "",
) -> None:
    """Write one CAP 1.2 file per warning event, and feed.atom as at the last event."""
    from warning.notify.cap.alert import CapSettings
    from warning.notify.cap.files import render_backtest
    from warning.notify.cap.regions import load_regions
    from warning.registry import load_registry

    try:
        settings = CapSettings(sender=sender, status=status, regions=load_regions(regions))
        paths = render_backtest(input, load_registry(sensors), output, settings, base_url)
    except ConfigError as exc:
        _fail(exc)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    err.print(f"{len(paths) - 1} CAP alerts and feed.atom -> {output}", highlight=False)


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
