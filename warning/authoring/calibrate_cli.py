"""``hazard-warning rules calibrate``: fit landslide rain thresholds to an inventory, score them."""

from __future__ import annotations

import csv
import json
import math
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from warning.authoring.calibrate import (
    Landslide,
    antecedent_rain,
    fit_cumulative,
    fit_thresholds,
    snippet,
    triggering_conditions,
)
from warning.config import Config, load_config
from warning.console import print_tables
from warning.records import LEVEL_NAMES, parse_duration_ms, zone
from warning.rules.functions import ID_DRY_GAP_MS
from warning.yamlfile import ConfigError

err = Console(stderr=True)
DEFAULT_LEVELS = ("blue=5", "yellow=20", "orange=50")
#: The longest look-back written into a calibrated rule (the default state TTL is 20 days).
MAX_WINDOW_H = 240


class InventoryError(ValueError):
    """An inventory line that cannot be read; the message names the file and line."""


def _day(text: str, tz: tzinfo) -> tuple[int, int]:
    """Return the local day ``[start, end)`` in epoch ms of ``YYYY-MM-DD`` or an RFC 3339 time."""
    text = text.strip()
    if "T" in text:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError(f"an RFC 3339 time with an offset, found {text!r}")
        day = moment.astimezone(tz).date()
    else:
        day = date.fromisoformat(text)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return (round(start.timestamp() * 1000), round((start + timedelta(days=1)).timestamp() * 1000))


def read_inventory(path: Path, zone_of: Any) -> list[Landslide]:
    """Read ``date,sensor_id[,place]`` CSV rows; raise InventoryError naming the line.

    ``zone_of(sensor_id)`` gives the time zone whose day the date means.
    """
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f)
        missing = {"date", "sensor_id"} - set(rows.fieldnames or ())
        if missing:
            raise InventoryError(
                f"{path}:1: expected columns date and sensor_id, missing "
                f"{', '.join(sorted(missing))}"
            )
        for n, row in enumerate(rows, start=2):
            sid = (row.get("sensor_id") or "").strip()
            if not sid:
                raise InventoryError(f"{path}:{n}: sensor_id: expected a gauge id, found none")
            try:
                start, end = _day(row.get("date") or "", zone_of(sid))
            except ValueError as exc:
                raise InventoryError(
                    f"{path}:{n}: date: expected YYYY-MM-DD or an RFC 3339 "
                    f"time, found {row.get('date')!r} ({exc})"
                ) from None
            out.append(Landslide(sid, start, end, n, (row.get("place") or "").strip()))
    if not out:
        raise InventoryError(f"{path}:1: expected at least one landslide, found none")
    return out


def _levels(specs: list[str]) -> dict[str, float]:
    levels = {}
    for spec in specs:
        name, _, pct = spec.partition("=")
        try:
            p = float(pct) / 100
        except ValueError:
            p = math.nan
        if name not in LEVEL_NAMES or not 0 < p < 1:
            raise typer.BadParameter(
                f"expected LEVEL=PERCENT with LEVEL one of "
                f"{', '.join(LEVEL_NAMES)} and 0 < PERCENT < 100, found "
                f"{spec!r}",
                param_hint="--level",
            )
        levels[name] = p
    ranks = [LEVEL_NAMES.index(n) for n in sorted(levels, key=lambda n: levels[n])]
    if ranks != sorted(ranks):
        raise typer.BadParameter(
            "a higher level needs a higher exceedance probability (a higher threshold)",
            param_hint="--level",
        )
    return levels


def calibrate(
    inventory: Annotated[
        Path,
        typer.Option(
            "--inventory",
            exists=True,
            dir_okay=False,
            help="Landslides: CSV with date,sensor_id[,place].",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", help="Write the rule-file snippet here.")],
    input: Annotated[
        Path | None,
        typer.Option(  # noqa: A002
            "--input", exists=True, dir_okay=False, help="Rain readings, JSON Lines or CSV."
        ),
    ] = None,
    from_influx: Annotated[
        str | None,
        typer.Option("--from-influx", help="Read the readings from this InfluxDB (v1) URL."),
    ] = None,
    influx_db: Annotated[str, typer.Option(help="Database for --from-influx.")] = "hazard",
    start: Annotated[str | None, typer.Option(help="With --from-influx: RFC 3339 start.")] = None,
    end: Annotated[str | None, typer.Option(help="With --from-influx: RFC 3339 end.")] = None,
    sensors: Annotated[Path | None, typer.Option("--sensors", help="Sensor registry.")] = None,
    level: Annotated[
        list[str] | None,
        typer.Option(
            "--level",
            help="LEVEL=PERCENT: a level's exceedance probability (repeatable; default "
            "blue=5 yellow=20 orange=50).",
        ),
    ] = None,
    dry_gap: Annotated[
        str,
        typer.Option(
            help="Rain events are split by this long without rain (the rules split them by 6h)."
        ),
    ] = "6h",
    cumulative_slope: Annotated[
        float,
        typer.Option(help="B of the cumulative threshold P3 >= A - B P15 (held; A is fitted)."),
    ] = 0.67,
    bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap random seed.")] = 0,
    rule_id: Annotated[
        str, typer.Option(help="Id of the rule written.")
    ] = "landslide_rain_calibrated",
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region", help="Regions of the rule (default: those of the inventory's gauges)."
        ),
    ] = None,
    summary: Annotated[Path | None, typer.Option(help="Write the fit and scores as JSON.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Pipeline settings.")
    ] = None,
) -> None:
    """Fit I-D and E-D landslide thresholds to an inventory; score each level; write a rule."""
    from warning.cli import _fail, _from_influx

    levels = _levels(level or list(DEFAULT_LEVELS))
    gap_ms = parse_duration_ms(dry_gap)
    try:
        cfg = load_config(config) if config else Config()
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
        rain, regions, zones, settings = _rain(cfg, readings, sensors)
    except ConfigError as exc:
        _fail(exc)
    default_zone = zone(cfg.pipeline.timezone)
    try:
        landslides = read_inventory(inventory, lambda sid: zones.get(sid, default_zone))
    except (InventoryError, OSError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    unknown = sorted({ls.sensor_id for ls in landslides} - set(rain))
    for sid in unknown:
        err.print(
            f"{inventory}: sensor_id {sid!r}: no rain readings in {readings}", highlight=False
        )
    conditions, skipped = triggering_conditions(rain, landslides, gap_ms)
    for ls, why in skipped:
        err.print(f"{inventory}:{ls.line}: {ls.sensor_id}: skipped, {why}", highlight=False)
    try:
        fit = fit_thresholds(conditions, sorted(set(levels.values())), bootstrap, seed)
    except ValueError as exc:
        typer.echo(f"{inventory}: {exc}", err=True)
        raise typer.Exit(1) from None
    points = antecedent_rain(rain, landslides)
    cumulative: tuple = ()
    try:
        cumulative, cum_mu, cum_sigma = fit_cumulative(
            points, sorted(set(levels.values())), cumulative_slope, bootstrap, seed
        )
    except ValueError as exc:
        err.print(f"{inventory}: no cumulative threshold: {exc}", highlight=False)
        cum_mu = cum_sigma = math.nan
    longest = math.ceil(max(c.duration_h for c in conditions))
    window_h = min(MAX_WINDOW_H, max(24, longest))
    if longest > MAX_WINDOW_H:
        err.print(
            f"the longest triggering event lasted {longest} h: the rule looks back "
            f"{MAX_WINDOW_H} h at most",
            highlight=False,
        )
    if gap_ms != ID_DRY_GAP_MS:
        err.print(
            f"events fitted with a {dry_gap} dry gap; the rules' id_exceedance splits "
            "them by 6h, and the scores below are the rules'",
            highlight=False,
        )
    gauges = sorted(rain)
    years = sum(ts[-1] - ts[0] for ts, _ in rain.values()) / (365.25 * 86_400_000)
    provenance = [
        f"{len(conditions)} landslides of {inventory.name} ({len(skipped)} without a "
        f"rain event) on {readings.name}: {len(gauges)} gauges, {years:.2f} gauge-years",
        f"rain events split by {dry_gap} without rain; {fit.bootstrap} bootstrap "
        f"resamples (seed {seed}); written {datetime.now().date().isoformat()} by "
        "hazard-warning rules calibrate",
    ]
    watched = (
        region
        if region
        else sorted(
            {
                regions[ls.landslide.sensor_id]
                for ls in conditions
                if regions.get(ls.landslide.sensor_id)
            }
        )
    )
    output.write_text(
        snippet(fit, levels, rule_id, watched, window_h, provenance, cumulative), encoding="utf-8"
    )
    ids = [rule_id, *([f"{rule_id}_cumulative"] if cumulative else [])]
    try:
        rows = _contingency(
            cfg, output, readings, sensors, [ls for ls, _, _ in points], ids, levels, settings
        )
    except ConfigError as exc:
        _fail(exc)
    _show(fit, cumulative, levels, rows, window_h, (len(points), cum_mu, cum_sigma))
    err.print(f"rule snippet -> {output}", highlight=False)
    if summary is not None:
        doc = _summary(fit, levels, rows, window_h)
        doc["cumulative"] = {
            "points": [
                {"sensor_id": ls.sensor_id, "line": ls.line, "p3_mm": p3, "p15_mm": p15}
                for ls, p3, p15 in points
            ],
            "index": {"mu": cum_mu, "sigma": cum_sigma},
            "thresholds": [
                {
                    "probability": c.probability,
                    "intercept_mm": c.intercept_mm,
                    "intercept_sd": c.intercept_sd,
                    "slope": c.slope,
                }
                for c in cumulative
            ],
        }
        summary.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def _rain(cfg: Config, path: Path, sensors: Path | None) -> tuple[dict, dict, dict, Any]:
    """Read every gauge's ``rain_mm`` in time order, with its region and time zone."""
    from warning.authoring.explain import read_readings
    from warning.kinds import kinds_from_config
    from warning.pipeline.parse import ParseSettings
    from warning.registry import load_registry

    kinds = kinds_from_config(cfg.kinds)
    registry = load_registry(sensors, kinds, accept_unknown=True)
    settings = ParseSettings(
        registry, kinds, cfg.mqtt.topic_prefix, cfg.pipeline.max_payload_bytes, max_future_ms=None
    )
    series: dict[str, list[tuple[int, float]]] = {}
    regions: dict[str, str] = {}
    for r in read_readings(path, settings):
        if "rain_mm" in r.values:
            series.setdefault(r.sensor_id, []).append((r.ts, r.values["rain_mm"]))
            regions[r.sensor_id] = r.region
    rain = {}
    for sid, pairs in series.items():
        pairs.sort()
        rain[sid] = ([t for t, _ in pairs], [v for _, v in pairs])
    zones = {
        sid: zone(str((registry.get(sid) or {}).get("tz") or cfg.pipeline.timezone)) for sid in rain
    }
    return rain, regions, zones, settings


def _contingency(
    cfg: Config,
    rule_file: Path,
    input: Path,
    sensors: Path | None,  # noqa: A002
    landslides: list[Landslide],
    rule_ids: list[str],
    levels: dict[str, float],
    settings: Any,
) -> list[dict]:
    """Backtest the rules written over the records; score each level on the landslide days."""
    from warning.authoring.diff import backtest_events
    from warning.authoring.explain import read_readings
    from warning.authoring.score import Label, score
    from warning.authoring.score_rates import sensor_spans, sensor_years
    from warning.kinds import kinds_from_config
    from warning.rules.load import load_rules

    # Only the inventory's gauges have ground truth: warnings elsewhere are not scored.
    scored = {ls.sensor_id for ls in landslides}
    events = [
        e for e in backtest_events(cfg, [rule_file], input, sensors) if e["subject"] in scored
    ]
    labels = [
        Label(ls.sensor_id, "landslide", ls.start_ms, ls.end_ms - 1, len(LEVEL_NAMES))
        for ls in landslides
    ]
    rules = load_rules([rule_file], kinds_from_config(cfg.kinds)).rules
    spans = {
        sid: span
        for sid, span in sensor_spans(read_readings(input, settings)).items()
        if sid in scored
    }
    years = sensor_years(spans, rules).get("landslide", 0.0)
    out = []
    for rule_id in rule_ids:
        result = score(labels, [e for e in events if e["rule_id"] == rule_id], tolerance_ms=0)
        for name, p in levels.items():
            row = result.rows["landslide"][name]
            out.append(
                {
                    "rule": rule_id,
                    "level": name,
                    "probability": p,
                    "hits": row.hits,
                    "misses": row.misses,
                    "false_alarms": row.false_alarms,
                    "gauge_years": round(years, 3),
                    "false_alarms_per_gauge_year": (
                        round(row.false_alarms / years, 2) if years else None
                    ),
                    "pod": row.pod,
                    "far": row.far,
                }
            )
    return out


def _show(
    fit: Any,
    cumulative: Any,
    levels: dict[str, float],
    rows: list[dict],
    window_h: int,
    cum: tuple[int, float, float],
) -> None:
    Console().print(
        f"E-D: {len(fit.conditions)} triggering conditions, residuals of log10 E: Gaussian "
        f"mean {fit.mu:.3f}, sd {fit.sigma:.3f}; id_exceedance window {window_h}h. "
        f"Cumulative: {cum[0]} landslides, P3 + B P15 mean {cum[1]:.1f} mm, sd "
        f"{cum[2]:.1f} mm",
        highlight=False,
    )
    t = Table(
        title="thresholds (bootstrap sd) scored on the records: E = alpha D^gamma "
        "(I = alpha D^(gamma-1)); P3 >= A - B P15",
        box=None,
        title_justify="left",
        header_style="bold underline",
    )
    for h in (
        "threshold",
        "level",
        "T",
        "coefficients",
        "hits",
        "misses",
        "FA",
        "FA/gauge-yr",
        "POD",
        "FAR",
    ):
        t.add_column(h, justify="left" if h in ("threshold", "level", "coefficients") else "right")
    by_p = {th.probability: th for th in fit.thresholds}
    cum_p = {x.probability: x for x in cumulative}
    for r in rows:
        if r["rule"].endswith("_cumulative"):
            x = cum_p[r["probability"]]
            kind, coef = (
                "P3-P15",
                (f"A {x.intercept_mm:.1f} ± {x.intercept_sd:.1f} mm, B {x.slope:g}"),
            )
        else:
            th = by_p[r["probability"]]
            kind, coef = (
                "E-D",
                (
                    f"alpha {th.alpha:.2f} ± {th.alpha_sd:.2f}, gamma "
                    f"{th.gamma:.3f} ± {th.gamma_sd:.3f}"
                ),
            )
        t.add_row(
            kind,
            r["level"],
            f"{r['probability'] * 100:g}%",
            coef,
            str(r["hits"]),
            str(r["misses"]),
            str(r["false_alarms"]),
            "-"
            if r["false_alarms_per_gauge_year"] is None
            else f"{r['false_alarms_per_gauge_year']:.1f}",
            "-" if r["pod"] is None else f"{r['pod']:.2f}",
            "-" if r["far"] is None else f"{r['far']:.2f}",
        )
    print_tables(t)


def _summary(fit: Any, levels: dict[str, float], rows: list[dict], window_h: int) -> dict:
    return {
        "conditions": [
            {
                "sensor_id": c.landslide.sensor_id,
                "line": c.landslide.line,
                "rain_mm": c.rain_mm,
                "duration_h": c.duration_h,
            }
            for c in fit.conditions
        ],
        "residuals": {"mu": fit.mu, "sigma": fit.sigma},
        "bootstrap": fit.bootstrap,
        "window_h": window_h,
        "thresholds": [
            {
                "probability": t.probability,
                "alpha": t.alpha,
                "alpha_sd": t.alpha_sd,
                "gamma": t.gamma,
                "gamma_sd": t.gamma_sd,
                "id_a": t.id_form[0],
                "id_b": t.id_form[1],
            }
            for t in fit.thresholds
        ],
        "levels": rows,
    }
