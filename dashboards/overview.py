"""The duty room's situation overview: where warnings are, how bad, and what just happened."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import geomap as geomap_panel
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import geomap as gm

from dashboards.grafana import (
    LEVEL_STEPS,
    LEVELS,
    InfluxQL,
    Layout,
    barchart_panel,
    configure,
    dashboard,
    fixed_colour,
    influx,
    level_mappings,
    organize,
    stat,
    steps,
    table,
    to_json,
)
from dashboards.influxql import (
    HAZARD,
    REGION,
    SUBJECT,
    events_table_query,
    hazard_variable,
    region_variable,
    sensor_variable,
    state,
    warning_annotations,
)

UID = "hazard-overview"
#: Where Grafana finds the sensors' coordinates (mounted by deploy/docker-compose.yml).
GAZETTEER = "public/gazetteer/hazard-sensors.json"
GEOJSON = "public/gazetteer/hazard-sensors.geojson"
AREAS_GEOJSON = "public/gazetteer/hazard-areas.geojson"  # region and group outlines
AREA = '"area" =~ /.+/'  # warnings whose subject is an area (docs/AREAS.md)
FILTER = f"{REGION} AND {HAZARD} AND {SUBJECT}"
ACTIVE = [(code, name) for code, name, _ in reversed(LEVELS) if code]

_EXPLAIN = (
    "A warning is active when the last event of its rule and subject up to the end of "
    "the time range is not `cleared`; earlier events count however long ago they were."
)


def _active_count(code: int, name: str, by: str = "") -> str:
    inner = state(FILTER, by) if by else state(FILTER)
    group = f' GROUP BY "{by}"' if by else ""
    return (
        f'SELECT count("level_code") AS "{name}" FROM ({inner}) WHERE "level_code" = {code}{group}'
    )


def active_counts(by: str = "") -> list[InfluxQL]:
    """One query per level: active warnings at that level (per ``by`` tag if given)."""
    return [
        influx(_active_count(code, name, by), ref="ABCD"[i], table=True)
        for i, (code, name) in enumerate(ACTIVE)
    ]


def worst_level_query() -> str:
    """The worst active level per subject (sensor), for the map."""
    return f'SELECT max("level_code") AS "level_code" FROM ({state(FILTER)}) GROUP BY "subject"'


def area_worst_query() -> str:
    """The worst active level per area (area warnings, whatever the sensor variable says)."""
    return (
        f'SELECT max("level_code") AS "level_code" FROM '
        f'({state(REGION + " AND " + HAZARD + " AND " + AREA)}) GROUP BY "subject"'
    )


def regions_query() -> str:
    """Regions by risk: the sum of active level codes, the worst level and the count."""
    return (
        'SELECT sum("level_code") AS "risk", max("level_code") AS "worst", '
        f'count("level_code") AS "active" FROM ({state(FILTER, "region")})'
        ' WHERE "level_code" > 0 GROUP BY "region"'
    )


def active_table_query() -> str:
    """Every active warning with its latest message."""
    inner = (
        'SELECT last("level_code") AS "level_code", last("message") AS "message", '
        'last("warning_id") AS "warning_id" FROM "warning" WHERE time <= ${__to}ms AND '
        f'{FILTER} GROUP BY "rule_id", "subject", "hazard", "region"'
    )
    return f'SELECT * FROM ({inner}) WHERE "level_code" > 0'


def _style(color: Any, size: Any, opacity: float, **extra: Any) -> dict[str, Any]:
    """A geomap layer style (escape hatch: the schema leaves layer config open).

    Its parts are the SDK's dimension configs; the container is checked against
    ``hazard-extensions.jsonschema.json`` (Grafana's StyleConfig).
    """
    return {
        "color": to_json(color),
        "size": to_json(size),
        "opacity": opacity,
        **{k: to_json(v) if isinstance(v, cogbuilder.Builder) else v for k, v in extra.items()},
    }


def _level_markers(
    icon: str, size: tuple[int, int, int], opacity: float, font: tuple[int, int]
) -> dict[str, Any]:
    """Markers coloured by ``level_code`` and labelled with the subject (sensors, areas)."""
    fixed, low, high = size
    font_size, offset = font
    return _style(
        cb.ColorDimensionConfig().field("level_code").fixed("dark-green"),
        cb.ScaleDimensionConfig().fixed(fixed).min(low).max(high),
        opacity,
        rotation=cb.ScalarDimensionConfig()
        .fixed(0)
        .min(-360)
        .max(360)
        .mode(cm.ScalarDimensionMode.MOD),
        symbol=cb.ResourceDimensionConfig()
        .mode(cm.ResourceDimensionMode.FIXED)
        .fixed(f"img/icons/marker/{icon}.svg"),
        text=cb.TextDimensionConfig().mode(cm.TextDimensionMode.FIELD).field("subject").fixed(""),
        textConfig={
            "fontSize": font_size,
            "offsetY": offset,
            "textAlign": "center",
            "textBaseline": "bottom",
        },
    )


def geomap() -> geomap_panel.Panel:
    """Sensors on a map: all in grey, those with warnings coloured by their worst level.

    The view fits all layers: the schema types the view's lat/lon as integers, so the
    registry's centre cannot be given.
    """
    markers = _level_markers("circle", size=(12, 8, 18), opacity=0.9, font=(11, -14))
    everything = _style(
        cb.ColorDimensionConfig().fixed("#8e8e8e"),
        cb.ScaleDimensionConfig().fixed(5).min(2).max(15),
        0.6,
    )
    outlines = _style(
        cb.ColorDimensionConfig().fixed("#5794f2"),
        cb.ScaleDimensionConfig().fixed(1).min(1).max(4),
        0.1,
    )
    area_markers = _level_markers("square", size=(16, 10, 24), opacity=0.8, font=(12, -16))
    p = (
        geomap_panel.Panel()
        .title("Sensors by worst active warning level")
        .view(
            geomap_panel.MapViewConfig().id("fit").all_layers(True).padding(5).zoom(9).max_zoom(13)
        )
        .controls(
            geomap_panel.ControlsOptions()
            .show_zoom(True)
            .mouse_wheel_zoom(True)
            .show_attribution(True)
            .show_scale(True)
        )
        .basemap(cb.MapLayerOptions().type("default").name("Basemap").config({}))
        .layers(
            [
                cb.MapLayerOptions()
                .type("geojson")
                .name("All sensors")
                .config({"src": GEOJSON, "rules": [], "style": everything}),
                cb.MapLayerOptions()
                .type("markers")
                .name("Worst active level")
                .tooltip(True)
                .location(
                    cb.FrameGeometrySource()
                    .mode(cm.FrameGeometrySourceMode.LOOKUP)
                    .lookup("subject")
                    .gazetteer(GAZETTEER)
                )
                .filter_data({"id": "byRefId", "options": "A"})
                .config({"showLegend": True, "style": markers}),
                cb.MapLayerOptions()
                .type("geojson")
                .name("Areas (regions, sensor groups)")
                .config({"src": AREAS_GEOJSON, "rules": [], "style": outlines}),
                cb.MapLayerOptions()
                .type("markers")
                .name("Area warnings")
                .tooltip(True)
                .location(
                    cb.FrameGeometrySource()
                    .mode(cm.FrameGeometrySourceMode.LOOKUP)
                    .lookup("subject")
                    .gazetteer(GAZETTEER)
                )
                .filter_data({"id": "byRefId", "options": "B"})
                .config({"showLegend": False, "style": area_markers}),
            ]
        )
        .tooltip(geomap_panel.TooltipOptions().mode(gm.TooltipMode.DETAILS))
    )
    return configure(
        p,
        [influx(worst_level_query(), table=True), influx(area_worst_query(), ref="B", table=True)],
        description="Each sensor's worst active warning level; area warnings "
        "(rules/compound.yaml) at the centre of their region or group outline. "
        + _EXPLAIN
        + " Positions come from the sensor registry (dashboards/gazetteer).",
        thresholds=LEVEL_STEPS,
        mappings=level_mappings(),
        color=dm.FieldColorModeId.THRESHOLDS,
    )


def build(timezone: str) -> dict[str, Any]:
    """The overview dashboard."""
    layout = Layout()
    counts = stat(
        "Active warnings by level",
        active_counts(),
        thresholds=steps((None, "text")),
        description=_EXPLAIN,
        text_mode="value_and_name",
        no_value="0",
        overrides=[fixed_colour(name, name) for _, name in ACTIVE],
    )
    layout.add(counts, 24, 4)
    layout.add(geomap(), 15, 16)
    layout.add(
        table(
            "Regions ranked by risk",
            [influx(regions_query(), table=True)],
            sort_by="risk",
            level_field="worst",
            description="Risk is the sum of the level codes of the region's active "
            "warnings (blue 1, yellow 2, orange 3, red 4). " + _EXPLAIN,
            transformations=[organize(["Time"])],
        ),
        9,
        16,
    )
    by_hazard = barchart_panel(
        "Active warnings by hazard and level",
        active_counts("hazard"),
        x_field="hazard",
        description=_EXPLAIN,
        overrides=[fixed_colour(name, name) for _, name in ACTIVE],
        transformations=[
            dm.DataTransformerConfig(
                id_val="joinByField", options={"byField": "hazard", "mode": "outer"}
            ),
            organize(["Time", "Time 1", "Time 2", "Time 3", "Time 4"]),
        ],
    )
    layout.add(by_hazard, 9, 10)
    layout.add(
        table(
            "Active warnings",
            [influx(active_table_query(), table=True)],
            sort_by="level_code",
            description=_EXPLAIN,
            transformations=[organize(["Time"])],
        ),
        15,
        10,
    )
    layout.add(
        table(
            "Latest warning events",
            [influx(events_table_query(FILTER), table=True)],
            description="Warning events in the time range, newest first.",
        ),
        24,
        12,
    )
    return dashboard(
        UID,
        "Hazard situation overview",
        "Duty room: active warnings on the map, by hazard and region, and the "
        "latest warning events.",
        layout,
        tags=("overview",),
        variables=[region_variable(), sensor_variable(), hazard_variable()],
        annotations=warning_annotations(FILTER),
        timezone=timezone,
        time_from="now-24h",
        refresh="30s",
    )
