"""The ``hazard-warning rules`` commands, for rule authors: check, test, explain, diff, calibrate."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

from warning.authoring.calibrate_cli import calibrate
from warning.config import Config, load_config
from warning.yamlfile import ConfigError

if TYPE_CHECKING:
    from datetime import datetime

    from warning.app import Setup
    from warning.rules.area_load import AreaRule

rules_app = typer.Typer(no_args_is_help=True, help="Check, test, explain and compare rule files.")


def _fail(exc: ConfigError) -> NoReturn:
    """One line per problem, exit 1 (as every command does)."""
    from warning.cli import _fail as fail

    fail(exc)


@rules_app.command("check")
def rules_check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Rule files or directories (default: the config's rules)."),
    ] = None,
    sensors: Annotated[
        Path | None, typer.Option(help="Sensor registry (default: the config's).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="Pipeline settings: kinds it declares, its rules and registry."
        ),
    ] = None,
    routing: Annotated[
        Path | None,
        typer.Option(
            help="Routing file: every language its channels send must have texts and value "
            "labels (default: the config's notify.routing)."
        ),
    ] = None,
) -> None:
    """Check rule files; print FILE:LINE: rule 'ID': KEY: expected ..., found ... per problem."""
    from warning.kinds import kinds_from_config
    from warning.notify.routing_file import routing_languages
    from warning.registry import load_registry
    from warning.rules.area_load import check_areas
    from warning.rules.load import check_sensor_keys, load_rules
    from warning.rules.texts import language_problems

    try:
        cfg = load_config(config) if config else Config()
        kinds = kinds_from_config(cfg.kinds)
        if not paths:
            if not cfg.rules:
                raise typer.BadParameter(
                    "give rule files, or a --config that names them", param_hint="PATHS"
                )
            paths = [cfg.path(r) for r in cfg.rules]
        if sensors is None and cfg.sensors:
            sensors = cfg.path(cfg.sensors)
        rs = load_rules(paths, kinds)
        if sensors:
            registry = load_registry(sensors, kinds)
            problems = check_sensor_keys(rs.rules, registry) + check_areas(rs.areas, registry)
            if problems:
                raise ConfigError(problems)
        if routing is None and cfg.notify is not None and cfg.notify.routing:
            routing = cfg.path(cfg.notify.routing)
        languages = routing_languages(routing) if routing else ()
        problems = language_problems(rs.rules, languages) if languages else []
        if problems:
            raise ConfigError(problems)
    except ConfigError as exc:
        _fail(exc)
    spoken = f" in {', '.join(languages)}" if languages else ""
    areas = f", {len(rs.areas)} area rules OK" if rs.areas else ""
    typer.echo(f"{len(rs.rules)} rules OK{areas}{spoken}")


@rules_app.command("test")
def rules_test(
    paths: Annotated[list[Path], typer.Argument(help="Test files (*.test.yaml) or directories.")],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Pipeline settings (lateness, kinds...).")
    ] = None,
) -> None:
    """Run rule tests through the real flow: PASS/FAIL per case, a diff on failure, a summary."""
    from warning.authoring.ruletest import (
        CaseResult,
        load_test_files,
        result_lines,
        run_tests,
        summary,
    )
    from warning.kinds import kinds_from_config

    try:
        cfg = load_config(config) if config else Config()
        files = load_test_files(paths, kinds_from_config(cfg.kinds))
    except ConfigError as exc:
        _fail(exc)
    out = Console(highlight=False, soft_wrap=True)

    def show(result: CaseResult) -> None:
        for style, text in result_lines(result):
            out.print(text, style=style or None, markup=False)

    results = run_tests(files, cfg, on_result=show)
    out.print(summary(results), markup=False)
    if any(not r.passed for r in results):
        raise typer.Exit(1)


rules_app.command("calibrate")(calibrate)


@rules_app.command("explain")
def rules_explain(
    rule: Annotated[str, typer.Argument(help="Rule id.")],
    at: Annotated[str, typer.Option("--at", help="RFC 3339 time, e.g. 2026-07-05T04:00:00+08:00.")],
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,  # noqa: A002
            help="Readings, JSON Lines or CSV.",
        ),
    ],
    sensor: Annotated[str | None, typer.Option("--sensor", help="Sensor id.")] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Rule file or directory (default: rules).")
    ] = None,
    sensors: Annotated[Path | None, typer.Option("--sensors", help="Sensor registry.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Pipeline settings (lateness, kinds...).")
    ] = None,
    area: Annotated[
        str | None,
        typer.Option("--area", help="Area id, for an area rule (default: its only area)."),
    ] = None,
) -> None:
    """Replay readings to a time; show each condition's terms, for area rules who counted."""
    from datetime import datetime

    from warning.app import for_files, setup
    from warning.authoring.explain import explain, read_readings, render

    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        typer.echo(f"--at: expected an RFC 3339 time with an offset, found {at!r}", err=True)
        raise typer.Exit(1)
    try:
        s = setup(
            for_files(
                load_config(config) if config else Config(), rules or [Path("rules")], sensors
            ),
            replay=True,
        )
    except ConfigError as exc:
        _fail(exc)
    found = {r.id: r for r in s.steps.rules.rules}
    areas = {r.id: r for r in s.steps.rules.areas}
    if rule in areas:
        _explain_area(areas[rule], area, moment, input, s)
        return
    if rule not in found:
        known = ", ".join(sorted([*found, *areas]))
        typer.echo(f"{rule}: expected a rule id among {known}, found none of that id", err=True)
        raise typer.Exit(1)
    if sensor is None:
        typer.echo(f"--sensor: expected a sensor id (rule {rule!r} is a sensor rule)", err=True)
        raise typer.Exit(1)
    at_ms = round(moment.timestamp() * 1000)
    try:
        e = explain(found[rule], sensor, at_ms, read_readings(input, s.settings), s.steps.evaluator)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    for line in render(e, moment.tzinfo):
        typer.echo(line)


def _explain_area(
    rule: AreaRule,
    area: str | None,
    moment: datetime,
    input: Path,  # noqa: A002
    s: Setup,
) -> None:
    """Explain an area rule for one of its areas (``rules explain RULE --area AREA``)."""
    from datetime import UTC

    from warning.authoring.area_explain import explain_area, render_area
    from warning.authoring.explain import read_readings

    if area is None and len(rule.areas) == 1:
        area = rule.areas[0]
    if area is None:
        typer.echo(f"--area: expected one of {', '.join(rule.areas)}", err=True)
        raise typer.Exit(1)
    try:
        e = explain_area(
            rule,
            area,
            round(moment.timestamp() * 1000),
            read_readings(input, s.settings),
            s.steps.rules,
            s.steps.registry,
            s.steps.evaluator,
        )
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    for line in render_area(e, moment.tzinfo or UTC):
        typer.echo(line)


@rules_app.command("diff")
def rules_diff(
    old: Annotated[Path, typer.Argument(help="The old rule file or directory.")],
    new: Annotated[Path, typer.Argument(help="The new rule file or directory.")],
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            exists=True,
            dir_okay=False,  # noqa: A002
            help="Readings, JSON Lines or CSV.",
        ),
    ],
    sensors: Annotated[Path | None, typer.Option("--sensors", help="Sensor registry.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Pipeline settings (lateness, kinds...).")
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            exists=True,
            dir_okay=False,
            help="Ground truth: also score both and show the lead time gained per level.",
        ),
    ] = None,
    forecasts: Annotated[
        Path | None,
        typer.Option(
            "--forecasts",
            exists=True,
            dir_okay=False,
            help="Forecasts, JSON Lines, fed to both runs.",
        ),
    ] = None,
    tolerance: Annotated[
        str, typer.Option(help="With --labels: how early before onset a warning counts.")
    ] = "1h",
) -> None:
    """Backtest both rule sets; list warning events that appear (+), disappear (-), change (~)."""
    from warning.authoring.diff import backtest_events, diff_events, render
    from warning.cli import _labels, _logging

    _logging(False, quiet=True)
    try:
        cfg = load_config(config) if config else Config()
        before = backtest_events(cfg, [old], input, sensors, forecasts)
        after = backtest_events(cfg, [new], input, sensors, forecasts)
    except ConfigError as exc:
        _fail(exc)
    for line in render(diff_events(before, after)):
        typer.echo(line)
    truth, tolerance_ms = _labels(labels, None, None, tolerance)
    if truth is not None:
        from warning.authoring.leadgain import rich_gain_table
        from warning.authoring.score import score
        from warning.console import print_tables

        print_tables(
            rich_gain_table(
                score(truth, before, tolerance_ms),
                score(truth, after, tolerance_ms),
                f"lead time, {old} (before) -> {new} (after)",
            )
        )
