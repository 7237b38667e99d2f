"""The duty room's situation overview: where warnings are, how bad, and what just happened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboards.grafana import (
    LEVEL_STEPS,
    LEVELS,
    Layout,
    dashboard,
    fixed_colour,
    influx,
    level_mappings,
    panel,
    stat,
    steps,
    table,
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
FILTER = f"{REGION} AND {HAZARD} AND {SUBJECT}"
ACTIVE = [(code, name) for code, name, _ in reversed(LEVELS) if code]

_EXPLAIN = ("A warning is active when the last event of its rule and subject up to the end of "
            "the time range is not `cleared`; earlier events count however long ago they were.")


def _active_count(code: int, name: str, by: str = "") -> str:
    inner = state(FILTER, by) if by else state(FILTER)
    group = f' GROUP BY "{by}"' if by else ""
    return (f'SELECT count("level_code") AS "{name}" FROM ({inner}) '
            f'WHERE "level_code" = {code}{group}')


def active_counts(by: str = "") -> list[dict[str, Any]]:
    """One query per level: active warnings at that level (per ``by`` tag if given)."""
    return [influx(_active_count(code, name, by), ref="ABCD"[i], table=True)
            for i, (code, name) in enumerate(ACTIVE)]


def worst_level_query() -> str:
    """The worst active level per subject (sensor), for the map."""
    return (f'SELECT max("level_code") AS "level_code" FROM ({state(FILTER)}) '
            'GROUP BY "subject"')


def regions_query() -> str:
    """Regions by risk: the sum of active level codes, the worst level and the count."""
    return ('SELECT sum("level_code") AS "risk", max("level_code") AS "worst", '
            f'count("level_code") AS "active" FROM ({state(FILTER, "region")})'
            ' WHERE "level_code" > 0 GROUP BY "region"')


def active_table_query() -> str:
    """Every active warning with its latest message."""
    inner = ('SELECT last("level_code") AS "level_code", last("message") AS "message", '
             'last("warning_id") AS "warning_id" FROM "warning" WHERE time <= ${__to}ms AND '
             f'{FILTER} GROUP BY "rule_id", "subject", "hazard", "region"')
    return f'SELECT * FROM ({inner}) WHERE "level_code" > 0'


def geomap(center: tuple[float, float]) -> dict[str, Any]:
    """Sensors on a map: all in grey, those with warnings coloured by their worst level."""
    p = panel("geomap", "Sensors by worst active warning level",
              [influx(worst_level_query(), table=True)],
              description="Each sensor's worst active warning level. " + _EXPLAIN +
              " Positions come from the sensor registry (dashboards/gazetteer).",
              thresholds=LEVEL_STEPS, mappings=level_mappings(), color="thresholds")
    marker_style = {"color": {"field": "level_code", "fixed": "dark-green"},
                    "opacity": 0.9, "rotation": {"fixed": 0, "mode": "mod"},
                    "size": {"fixed": 12, "max": 18, "min": 8},
                    "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                    "text": {"field": "subject", "fixed": "", "mode": "field"},
                    "textConfig": {"fontSize": 11, "offsetY": -14, "textAlign": "center",
                                   "textBaseline": "bottom"}}
    p["options"] = {
        "view": {"id": "coords", "lat": center[0], "lon": center[1], "zoom": 9,
                 "allLayers": True},
        "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True,
                     "showScale": True},
        "basemap": {"type": "default", "name": "Basemap", "config": {}},
        "layers": [
            {"type": "geojson", "name": "All sensors", "config": {
                "src": GEOJSON, "rules": [],
                "style": {"color": {"fixed": "#8e8e8e"}, "opacity": 0.6,
                          "size": {"fixed": 5}}}},
            {"type": "markers", "name": "Worst active level", "tooltip": True,
             "location": {"mode": "lookup", "lookup": "subject", "gazetteer": GAZETTEER},
             "filterData": {"id": "byRefId", "options": "A"},
             "config": {"showLegend": True, "style": marker_style}},
        ],
        "tooltip": {"mode": "details"},
    }
    return p


def build(center: tuple[float, float], timezone: str) -> dict[str, Any]:
    """The overview dashboard."""
    layout = Layout()
    counts = stat("Active warnings by level", active_counts(), thresholds=steps((None, "text")),
                  description=_EXPLAIN, text_mode="value_and_name",
                  overrides=[fixed_colour(name, name) for _, name in ACTIVE])
    counts["fieldConfig"]["defaults"]["noValue"] = "0"
    layout.add(counts, 24, 4)
    layout.add(geomap(center), 15, 16)
    layout.add(table("Regions ranked by risk", [influx(regions_query(), table=True)],
                     sort_by="risk", level_field="worst",
                     description="Risk is the sum of the level codes of the region's active "
                                 "warnings (blue 1, yellow 2, orange 3, red 4). " + _EXPLAIN,
                     transformations=[_hide_time()]), 9, 16)
    by_hazard = panel("barchart", "Active warnings by hazard and level",
                      active_counts("hazard"), description=_EXPLAIN,
                      overrides=[fixed_colour(name, name) for _, name in ACTIVE],
                      transformations=[{"id": "joinByField",
                                        "options": {"byField": "hazard", "mode": "outer"}},
                                       _hide_time(["Time 1", "Time 2", "Time 3", "Time 4"])],
                      custom={"fillOpacity": 85, "lineWidth": 0})
    by_hazard["options"] = {"xField": "hazard", "orientation": "horizontal",
                            "stacking": "normal", "showValue": "auto", "barWidth": 0.8,
                            "groupWidth": 0.7, "xTickLabelRotation": 0,
                            "legend": {"displayMode": "list", "placement": "bottom",
                                       "showLegend": True, "calcs": []},
                            "tooltip": {"mode": "multi", "sort": "none"}}
    layout.add(by_hazard, 9, 10)
    layout.add(table("Active warnings", [influx(active_table_query(), table=True)],
                     sort_by="level_code", description=_EXPLAIN,
                     transformations=[_hide_time()]), 15, 10)
    layout.add(table("Latest warning events", [influx(events_table_query(FILTER), table=True)],
                     description="Warning events in the time range, newest first."), 24, 12)
    return dashboard(UID, "Hazard situation overview",
                     "Duty room: active warnings on the map, by hazard and region, and the "
                     "latest warning events.", layout, tags=("overview",),
                     variables=[region_variable(), sensor_variable(), hazard_variable()],
                     annotations=warning_annotations(FILTER), timezone=timezone,
                     time_from="now-24h", refresh="30s")


def _hide_time(extra: list[str] | None = None) -> dict[str, Any]:
    names: Mapping[str, bool] = {name: True for name in ["Time", *(extra or [])]}
    return {"id": "organize", "options": {"excludeByName": dict(names), "indexByName": {},
                                          "renameByName": {}}}
