"""Command line: ``python -m sensors_sim generate|publish|registry|scenarios|season``."""

from __future__ import annotations

import ssl
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from sensors_sim.events import VALUE_FAULTS
from sensors_sim.files import write_jsonl, write_labels, write_readings, write_registry
from sensors_sim.generate import generate
from sensors_sim.labels import labels as scenario_labels
from sensors_sim.publish import publish
from sensors_sim.scale import scaled, write_jsonl_fast
from sensors_sim.scenario import Scenario, ScenarioError, load_scenario, shipped_scenarios

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

ScenarioOpt = Annotated[
    str, typer.Option("--scenario", "-s", help="Shipped scenario name or path to a scenario YAML.")
]


def _load(name: str, seed: int | None = None) -> Scenario:
    try:
        scenario = load_scenario(name)
    except (ScenarioError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return scenario if seed is None else replace(scenario, seed=seed)


@app.command("generate")
def generate_cmd(
    scenario: ScenarioOpt,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="JSONL or .csv file; '-' for stdout.")
    ],
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Also write the sensor registry YAML here.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    labels: Annotated[
        Path | None,
        typer.Option("--labels", help="Also write the ground-truth labels (JSON Lines) here."),
    ] = None,
    sensors: Annotated[
        int | None,
        typer.Option(help="Scale the network to this many sensors (replicas of the scenario's)."),
    ] = None,
    forecasts: Annotated[
        Path | None,
        typer.Option(
            "--forecasts",
            help="Also write forecasts with realistic errors (JSON Lines) "
            "here, for backtest --forecasts.",
        ),
    ] = None,
    perfect: Annotated[
        bool, typer.Option("--perfect-forecasts", help="Forecasts without errors (the truth).")
    ] = False,
) -> None:
    """Write the scenario's readings to a file."""
    sc = _load(scenario, seed)
    if sensors is not None:
        sc = scaled(sc, sensors)
    started = time.perf_counter()
    stream_faults = any(f.fault not in VALUE_FAULTS for fs in sc.faults.values() for f in fs)
    if str(output) == "-":
        count = write_jsonl(generate(sc), sys.stdout)
    elif output.suffix.lower() != ".csv" and not stream_faults:
        with output.open("w", encoding="utf-8", newline="") as out:
            count = write_jsonl_fast(sc, out)  # same bytes as write_jsonl, several times faster
    else:
        count = write_readings(generate(sc), output)
    elapsed = time.perf_counter() - started
    if registry is not None:
        with registry.open("w", encoding="utf-8") as out:
            write_registry(sc.network, out)
    if labels is not None:
        with labels.open("w", encoding="utf-8") as out:
            write_labels(scenario_labels(sc), out)
    if forecasts is not None:
        from sensors_sim.forecasts import ForecastErrors
        from sensors_sim.forecasts import forecasts as scenario_forecasts

        errors = ForecastErrors(timedelta(0), 0.0, 0.0) if perfect else ForecastErrors()
        with forecasts.open("w", encoding="utf-8") as out:
            write_jsonl(scenario_forecasts(sc, errors), out)
    rate = count / elapsed if elapsed > 0 else float("inf")
    typer.echo(
        f"{count} readings from scenario {sc.name!r} written to {output} "
        f"in {elapsed:.2f} s ({rate:,.0f} readings/s)",
        err=True,
    )


@app.command("publish")
def publish_cmd(
    scenario: ScenarioOpt,
    host: Annotated[str, typer.Option(help="MQTT broker host.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="MQTT broker port.")] = 1883,
    speed: Annotated[
        float, typer.Option(help="Event-time seconds per wall second; 0 for as fast as possible.")
    ] = 60.0,
    topic_prefix: Annotated[str, typer.Option(help="Topic prefix.")] = "hazard",
    qos: Annotated[int, typer.Option(min=0, max=2, help="MQTT QoS.")] = 1,
    username: Annotated[str | None, typer.Option(envvar="HAZARD_MQTT_USERNAME")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="HAZARD_MQTT_PASSWORD", help="Better given by env var.")
    ] = None,
    cafile: Annotated[
        Path | None, typer.Option(help="Use TLS, trusting this CA bundle.", exists=True)
    ] = None,
    tls: Annotated[bool, typer.Option(help="Use TLS with the system CA store.")] = False,
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
    forecasts: Annotated[
        bool, typer.Option("--forecasts", help="Also publish forecasts, each at its issue time.")
    ] = False,
) -> None:
    """Publish the scenario's readings to an MQTT broker, paced by event time."""
    sc = _load(scenario, seed)
    messages = generate(sc)
    if forecasts:
        import heapq

        from sensors_sim.forecasts import forecasts as scenario_forecasts
        from sensors_sim.wire import parse_ts

        def when(m: Any) -> datetime:
            if isinstance(m, dict):
                return parse_ts(m["issued"] if "series" in m else m["ts"])
            return parse_ts(m.ts)

        messages = heapq.merge(scenario_forecasts(sc), messages, key=when)
    context = ssl.create_default_context(cafile=cafile) if (tls or cafile) else None
    try:
        count = publish(
            messages,
            host,
            port,
            topic_prefix=topic_prefix,
            speed=speed,
            qos=qos,
            username=username,
            password=password,
            tls=context,
            network=sc.network,
        )
    except (ConnectionError, TimeoutError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise typer.Exit(130) from None
    typer.echo(f"published {count} readings from scenario {sc.name!r} to {host}:{port}", err=True)


@app.command("registry")
def registry_cmd(
    scenario: ScenarioOpt,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="YAML file; '-' for stdout.")
    ] = Path("-"),
) -> None:
    """Write the sensor registry of the scenario's network as YAML."""
    sc = _load(scenario)
    if str(output) == "-":
        write_registry(sc.network, sys.stdout)
    else:
        with output.open("w", encoding="utf-8") as out:
            write_registry(sc.network, out)


@app.command("plot")
def plot_cmd(
    scenario: ScenarioOpt,
    output: Annotated[Path, typer.Option("--output", "-o", help="PNG file to write.")],
    seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
) -> None:
    """Plot the scenario's main series with its labelled hazards and faults."""
    from sensors_sim.plot import plot_scenario  # matplotlib is only needed here

    sc = _load(scenario, seed)
    plot_scenario(sc, output)
    typer.echo(f"plot of scenario {sc.name!r} written to {output}", err=True)


@app.command("season")
def season_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="JSON Lines file of readings.")],
    registry: Annotated[
        Path | None, typer.Option("--registry", help="Also write the sensor registry YAML here.")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="Length of the season in days.")] = 92,
    seed: Annotated[int, typer.Option(help="Seed of the storms.")] = 2026,
    forecasts: Annotated[
        Path | None, typer.Option("--forecasts", help="Also write forecasts here.")
    ] = None,
) -> None:
    """Write a long history of random storms (a flood season) to train nowcasts on."""
    from sensors_sim.season import season

    sc = season(days, seed)
    with output.open("w", encoding="utf-8", newline="") as out:
        count = write_jsonl_fast(sc, out)
    if registry is not None:
        with registry.open("w", encoding="utf-8") as out:
            write_registry(sc.network, out)
    if forecasts is not None:
        from sensors_sim.forecasts import forecasts as scenario_forecasts

        with forecasts.open("w", encoding="utf-8") as out:
            write_jsonl(scenario_forecasts(sc), out)
    typer.echo(f"{count} readings of {days} days (seed {seed}) written to {output}", err=True)


@app.command("scenarios")
def scenarios_cmd() -> None:
    """List the shipped scenarios."""
    for name in shipped_scenarios():
        typer.echo(f"{name}: {load_scenario(name).description}")


if __name__ == "__main__":
    app()
