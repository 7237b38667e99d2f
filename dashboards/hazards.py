"""One dashboard per hazard: the measured values and indicators against the rules' thresholds.

Thresholds are read from the rule files (``dashboards.thresholds``), per station from the
sensor registry where a rule compares with ``sensor.KEY``; warning events of the hazard are
annotations on every time series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm

from dashboards.grafana import (
    LEVEL_STEPS,
    Layout,
    Panel,
    dashboard,
    influx,
    level_mappings,
    organize,
    override,
    stat,
    state_timeline,
    table,
    timeseries,
    value_names,
)
from dashboards.influxql import (
    REGION,
    SENSOR,
    SUBJECT,
    events_table_query,
    hazards,
    kinds,
    region_variable,
    sensor_variable,
    warning_annotations,
)
from dashboards.thresholds import (
    Bound,
    bounds,
    describe,
    indicator_expression,
    threshold_steps,
    value_expression,
)
from warning.rules.functions import danger_index

#: The FWI values at which the EFFIS danger classes 1 (low) .. 5 (extreme) begin.
EFFIS_BOUNDS = (5.2, 11.2, 21.3, 38.0, 50.0)
FIRE_CLASSES = ("very low", "low", "moderate", "high", "very high", "extreme")


@dataclass(frozen=True)
class Context:
    """What the per-hazard builders read: rules, indicator specs, registry, time zone."""

    rules: list[dict]
    indicators: dict[str, dict]
    sensors: list[dict]
    timezone: str


def _series(field: str, measurement: str, where: str, agg: str = "max") -> str:
    return (
        f'SELECT {agg}("{field}") AS "{field}" FROM "{measurement}" WHERE $timeFilter AND '
        f'{where} GROUP BY time($__interval), "sensor_id" fill(none)'
    )


def reading_panel(
    ctx: Context,
    title: str,
    field: str,
    kind_names: Sequence[str],
    unit: str,
    agg: str = "max",
    rule_expr: str | None = None,
    **kw: Any,
) -> Panel:
    """A reading's field per sensor, with the thresholds of rules on that field."""
    found = bounds(ctx.rules, rule_expr or field, kind_names[0])
    where = f"{kinds(*kind_names)} AND {REGION} AND {SENSOR}"
    return timeseries(
        title,
        [influx(_series(field, "reading", where, agg), alias="$tag_sensor_id")],
        unit=unit,
        thresholds=threshold_steps(found) if found else None,
        description=kw.pop("description", "") + _bounds_note(found),
        **kw,
    )


def indicator_panel(
    ctx: Context,
    title: str,
    indicator: str,
    value: str,
    kind: str,
    unit: str,
    with_thresholds: bool = True,
    agg: str = "max",
    found: list[Bound] | None = None,
    **kw: Any,
) -> Panel:
    """One value of an indicator per sensor, with the thresholds of rules on its expression.

    ``found`` gives the thresholds where the rules state them on another expression.
    """
    expr = indicator_expression(ctx.indicators, indicator, value)
    if found is None:
        found = bounds(ctx.rules, expr, kind) if with_thresholds else []
    where = f"\"indicator\" = '{indicator}' AND {REGION} AND {SENSOR}"
    return timeseries(
        title,
        [influx(_series(value, "indicator", where, agg), alias="$tag_sensor_id")],
        unit=unit,
        thresholds=threshold_steps(found) if found else None,
        description=(
            kw.pop("description", "") + f" Indicator `{indicator}`, "
            f"value `{value}` = `{expr}`." + _bounds_note(found)
        ).strip(),
        **kw,
    )


def _bounds_note(found: list) -> str:
    return f" Thresholds from the rules: {describe(found)}." if found else ""


def warning_panels(layout: Layout, where: str) -> None:
    """The hazard's warning levels over time and its warning events."""
    levels = state_timeline(
        "Warning levels",
        [
            influx(
                'SELECT last("level_code") AS "level" FROM "warning" WHERE '
                f'$timeFilter AND {where} GROUP BY time($__interval), "rule_id", '
                '"subject" fill(previous)',
                alias="$tag_rule_id $tag_subject",
            )
        ],
        description="Each warning's level (rule and subject) after each event.",
        thresholds=LEVEL_STEPS,
        mappings=level_mappings(),
        color=dm.FieldColorModeId.THRESHOLDS,
    )
    layout.row("Warnings")
    layout.add(levels, 24, 7)
    layout.add(
        table(
            "Warning events",
            [influx(events_table_query(where), table=True)],
            description="Warning events in the time range, newest first.",
        ),
        24,
        9,
    )


def _hazard_dashboard(
    ctx: Context,
    uid: str,
    title: str,
    description: str,
    layout: Layout,
    where: str,
    kind_names: Sequence[str],
    tag: str,
) -> dict[str, Any]:
    warning_panels(layout, where)
    return dashboard(
        uid,
        title,
        description,
        layout,
        tags=(tag,),
        variables=[region_variable(), sensor_variable(*kind_names)],
        annotations=warning_annotations(where),
        timezone=ctx.timezone,
    )


def rainfall(ctx: Context) -> dict[str, Any]:
    """Rain accumulations against the CMA rainstorm signal table."""
    layout = Layout()
    layout.row("Accumulated rain (indicator rain_accumulation) against the rainstorm signals")
    for hours, w in ((3, 12), (6, 12), (12, 12), (24, 12), (1, 12)):
        layout.add(
            indicator_panel(
                ctx,
                f"Rain in {hours} h",
                "rain_accumulation",
                f"rain_{hours}h_mm",
                "rainfall",
                "lengthmm",
            ),
            w,
            8,
        )
    layout.add(
        reading_panel(
            ctx,
            "Rain per interval",
            "rain_mm",
            ("rainfall", "weather"),
            "lengthmm",
            agg="sum",
            bars=True,
            description="Rain reported in each interval (tipping buckets and weather stations).",
        ),
        12,
        8,
    )
    latest = table(
        "Latest accumulations by gauge",
        [
            influx(
                'SELECT last("rain_1h_mm") AS "1 h", last("rain_3h_mm") AS "3 h", '
                'last("rain_6h_mm") AS "6 h", last("rain_12h_mm") AS "12 h", '
                'last("rain_24h_mm") AS "24 h" FROM "indicator" WHERE $timeFilter '
                f"AND \"indicator\" = 'rain_accumulation' AND {REGION} AND {SENSOR} "
                'GROUP BY "sensor_id", "region"',
                table=True,
            )
        ],
        sort_by="3 h",
        level_field=None,
        unit="lengthmm",
        overrides=[
            _cell_thresholds(
                f"{h} h",
                threshold_steps(
                    bounds(
                        ctx.rules,
                        indicator_expression(ctx.indicators, "rain_accumulation", f"rain_{h}h_mm"),
                        "rainfall",
                    )
                ),
            )
            for h in (3, 6, 12)
        ],
        transformations=[organize(["Time"])],
    )
    layout.add(latest, 24, 8)
    where = f"{hazards('rainstorm')} AND {REGION} AND {SUBJECT}"
    return _hazard_dashboard(
        ctx,
        "hazard-rainfall",
        "Hazard: rainstorm",
        "Rain accumulations over 1 to 24 h against the CMA rainstorm "
        "warning signals (rules/rainstorm.yaml).",
        layout,
        where,
        ("rainfall", "weather"),
        "rainfall",
    )


def _cell_thresholds(name: str, thresholds: Any) -> tuple:
    return override(
        name,
        [
            ("thresholds", thresholds),
            ("color", dm.FieldColor(mode=dm.FieldColorModeId.THRESHOLDS)),
            ("custom.cellOptions", cm.TableColoredBackgroundCellOptions()),
        ],
    )


def _station_panel(ctx: Context, sensor: Mapping[str, Any]) -> Panel:
    found = bounds(ctx.rules, "level_m", sensor["kind"], sensor)
    query = (
        'SELECT mean("level_m") AS "level_m" FROM "reading" WHERE $timeFilter AND '
        f"\"sensor_id\" = '{sensor['id']}' GROUP BY time($__interval) fill(none)"
    )
    return timeseries(
        f"{sensor['name']} ({sensor['id']})",
        [influx(query, alias="level_m")],
        unit="lengthm",
        thresholds=threshold_steps(found),
        description="Water level against this station's levels in the sensor "
        "registry." + _bounds_note(found),
        legend_calcs=("lastNotNull", "max"),
    )


def water(ctx: Context) -> dict[str, Any]:
    """Water levels against each station's warning, guaranteed and record levels."""
    layout = Layout()
    kind_names = ("reservoir", "river")
    layout.row("Water levels")
    layout.add(
        reading_panel(
            ctx, "Water level, all stations", "level_m", kind_names, "lengthm", agg="mean"
        ),
        24,
        8,
    )
    stations = [
        s
        for s in ctx.sensors
        if s.get("kind") in kind_names and bounds(ctx.rules, "level_m", s["kind"], s)
    ]
    if stations:
        layout.row("Stations against their registry levels")
        for sensor in stations:
            layout.add(_station_panel(ctx, sensor), 8, 8)
    layout.row("Trend (indicator water_trend)")
    layout.add(
        indicator_panel(
            ctx, "Rate of rise", "water_trend", "rise_m_per_h", "reservoir", "m/h", agg="last"
        ),
        8,
        8,
    )
    for value, title in (
        ("hours_to_warning", "Hours to the warning level"),
        ("hours_to_guaranteed", "Hours to the guaranteed level"),
    ):
        layout.add(
            indicator_panel(
                ctx,
                title,
                "water_trend",
                value,
                "reservoir",
                "h",
                agg="last",
                minimum=0,
                maximum=48,
                description="0: already there and still rising.",
            ),
            8,
            8,
        )
    where = f"{hazards('flood')} AND {REGION} AND {SUBJECT}"
    return _hazard_dashboard(
        ctx,
        "hazard-water",
        "Hazard: flood (water levels)",
        "River and reservoir levels against the registry levels (rules/water_level.yaml).",
        layout,
        where,
        kind_names,
        "water",
    )


def slopes(ctx: Context) -> dict[str, Any]:
    """Slope displacement, velocity, inverse-velocity forecast and tangent angle."""
    layout = Layout()
    layout.row("Slope monitoring")
    layout.add(
        reading_panel(
            ctx,
            "Displacement",
            "displacement_mm",
            ("slope",),
            "lengthmm",
            agg="last",
            description="Cumulative displacement.",
        ),
        12,
        8,
    )
    layout.add(
        indicator_panel(
            ctx,
            "Velocity over 6 h",
            "slope_motion",
            "velocity_mm_h",
            "slope",
            "mm/h",
            agg="last",
            description="The red level uses the 1 h rate instead.",
        ),
        12,
        8,
    )
    layout.add(
        indicator_panel(
            ctx,
            "Forecast hours to failure (inverse velocity)",
            "slope_motion",
            "hours_to_failure",
            "slope",
            "h",
            agg="last",
            minimum=-24,
            maximum=240,
            description="The forecast levels also need R² >= 0.8.",
        ),
        8,
        8,
    )
    layout.add(
        indicator_panel(
            ctx,
            "Inverse-velocity fit R²",
            "slope_motion",
            "failure_fit_r2",
            "slope",
            "none",
            agg="last",
            with_thresholds=False,
            minimum=0,
            maximum=1,
        ),
        8,
        8,
    )
    layout.add(
        indicator_panel(
            ctx,
            "Improved tangent angle",
            "slope_motion",
            "tangent_angle_deg",
            "slope",
            "degree",
            agg="last",
            minimum=0,
            maximum=90,
        ),
        8,
        8,
    )
    landslide_rain = next(r for r in ctx.rules if r["id"] == "landslide_rain")
    found = bounds(ctx.rules, value_expression(landslide_rain["values"]["caine_ratio"]), "rainfall")
    layout.add(
        timeseries(
            "Rain against the Caine I-D threshold (at warning events)",
            [
                influx(
                    'SELECT last("v_caine_ratio") AS "caine_ratio" FROM '
                    '"warning" WHERE $timeFilter AND "rule_id" = '
                    f"'landslide_rain' AND {REGION} GROUP BY time($__interval), "
                    '"subject" fill(none)',
                    alias="$tag_subject",
                )
            ],
            unit="none",
            points=True,
            thresholds=threshold_steps(found),
            description="Mean rain intensity over the Caine (1980) threshold "
            "at the critical duration, from the landslide_rain "
            "rule's events at rain gauges." + _bounds_note(found),
        ),
        24,
        8,
    )
    where = f"{hazards('landslide')} AND {REGION}"
    return _hazard_dashboard(
        ctx,
        "hazard-slope",
        "Hazard: landslide (slopes)",
        "Slope sensors: displacement, velocity, inverse-velocity failure "
        "forecast and tangent angle (rules/slope.yaml), and rain-triggered "
        "landslide warnings (rules/landslide_rain.yaml).",
        layout,
        where,
        ("slope",),
        "slope",
    )


def fire_classes_of(rules: list) -> list[Bound]:
    """The rules' fire thresholds as danger classes, whether stated on the class or on FWI.

    A rule may grade ``fwi() >= 21.3`` rather than ``fwi_class() >= 3`` (so that its message
    can give the index against the bound): an FWI bound that opens an EFFIS class is that class.
    """
    found = bounds(rules, "fwi_class()", "weather")
    if found:
        return found
    return [
        replace(b, value=float(danger_index(b.value)))
        for b in bounds(rules, "fwi()", "weather")
        if b.op == ">=" and b.value in EFFIS_BOUNDS
    ]


def _fire_classes() -> list:
    return value_names({i: (name, None) for i, name in enumerate(FIRE_CLASSES)})


def fire(ctx: Context) -> dict[str, Any]:
    """The daily Canadian Fire Weather Index System and its EFFIS danger class."""
    layout = Layout()
    found = fire_classes_of(ctx.rules)
    danger = stat(
        "Fire danger class now",
        [
            influx(
                'SELECT last("danger_class") AS "danger_class" FROM "indicator" '
                "WHERE $timeFilter AND \"indicator\" = 'fwi' AND "
                f'{REGION} AND {SENSOR} GROUP BY "sensor_id"',
                alias="$tag_sensor_id",
            )
        ],
        thresholds=threshold_steps(found),
        mappings=_fire_classes(),
        description="EFFIS danger class of the latest daily FWI." + _bounds_note(found),
    )
    layout.row("Fire Weather Index (daily, indicator fwi)")
    layout.add(danger, 6, 8)
    layout.add(
        indicator_panel(
            ctx,
            "Danger class",
            "fwi",
            "danger_class",
            "weather",
            "none",
            agg="last",
            points=True,
            minimum=0,
            maximum=5,
            mappings=_fire_classes(),
            found=found,
        ),
        9,
        8,
    )
    layout.add(
        indicator_panel(
            ctx, "Fire Weather Index", "fwi", "fwi", "weather", "none", agg="last", points=True
        ),
        9,
        8,
    )
    for value, title in (
        ("ffmc", "Fine Fuel Moisture Code"),
        ("dmc", "Duff Moisture Code"),
        ("dc", "Drought Code"),
        ("isi", "Initial Spread Index"),
        ("bui", "Buildup Index"),
    ):
        layout.add(
            indicator_panel(
                ctx,
                title,
                "fwi",
                value,
                "weather",
                "none",
                agg="last",
                points=True,
                with_thresholds=False,
            ),
            8 if value in ("ffmc", "dmc", "dc") else 12,
            7,
        )
    layout.row("Weather stations")
    layout.add(
        reading_panel(ctx, "Temperature", "temp_c", ("weather",), "celsius", agg="mean"), 6, 8
    )
    layout.add(
        reading_panel(ctx, "Relative humidity", "rh_pct", ("weather",), "percent", agg="mean"), 6, 8
    )
    layout.add(
        reading_panel(ctx, "Wind", "wind_kmh", ("weather",), "velocitykmh", agg="mean"), 6, 8
    )
    layout.add(
        reading_panel(ctx, "Rain", "rain_mm", ("weather",), "lengthmm", agg="sum", bars=True), 6, 8
    )
    where = f"{hazards('forest_fire')} AND {REGION} AND {SUBJECT}"
    return _hazard_dashboard(
        ctx,
        "hazard-fire",
        "Hazard: forest fire",
        "The daily Fire Weather Index System (Van Wagner 1987) of each "
        "weather station and its EFFIS danger class "
        "(rules/fire_weather.yaml).",
        layout,
        where,
        ("weather",),
        "fire",
    )


def chemical(ctx: Context) -> dict[str, Any]:
    """Gas detectors at chemical parks against GB/T 50493-2019 alarm levels and exposure."""
    layout = Layout()
    gas = ("gas",)
    layout.row("Gas detectors")
    layout.add(reading_panel(ctx, "Combustible gas", "lel_pct", gas, "percent"), 12, 8)
    layout.add(reading_panel(ctx, "Hydrogen sulphide", "h2s_ppm", gas, "ppm"), 12, 8)
    layout.add(
        indicator_panel(
            ctx, "H2S 15 min mean (STEL)", "gas_exposure", "h2s_stel_ppm", "gas", "ppm", agg="last"
        ),
        6,
        8,
    )
    layout.add(
        indicator_panel(
            ctx, "H2S 8 h mean (TWA)", "gas_exposure", "h2s_twa_ppm", "gas", "ppm", agg="last"
        ),
        6,
        8,
    )
    layout.add(
        indicator_panel(
            ctx, "CO 15 min mean (STEL)", "gas_exposure", "co_stel_ppm", "gas", "ppm", agg="last"
        ),
        6,
        8,
    )
    layout.add(
        indicator_panel(
            ctx, "CO 8 h mean (TWA)", "gas_exposure", "co_twa_ppm", "gas", "ppm", agg="last"
        ),
        6,
        8,
    )
    for field, title in (
        ("co_ppm", "Carbon monoxide"),
        ("cl2_ppm", "Chlorine"),
        ("nh3_ppm", "Ammonia"),
        ("o2_pct", "Oxygen"),
    ):
        layout.add(
            reading_panel(
                ctx,
                title,
                field,
                gas,
                "percent" if field == "o2_pct" else "ppm",
                agg="min" if field == "o2_pct" else "max",
            ),
            6,
            8,
        )
    where = f"{hazards('gas_leak', 'gas_toxic', 'gas_oxygen')} AND {REGION} AND {SUBJECT}"
    return _hazard_dashboard(
        ctx,
        "hazard-gas",
        "Hazard: chemical plants (gas)",
        "Gas detectors against the GB/T 50493-2019 alarm levels and the "
        "H2S exposure limits (rules/gas.yaml).",
        layout,
        where,
        gas,
        "gas",
    )


BUILDERS = {"rainfall": rainfall, "water": water, "slope": slopes, "fire": fire, "gas": chemical}
