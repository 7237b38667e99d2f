"""Plain-dict builders for the Grafana dashboard JSON model (schemaVersion 39, Grafana 10.4+).

No library: grafanalib models an older schema and grafana-foundation-sdk would be a new
dependency; the JSON model is small enough to write directly, and the tests check it.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 39
INFLUX = {"type": "influxdb", "uid": "hazard-influxdb"}
PROMETHEUS = {"type": "prometheus", "uid": "hazard-prometheus"}
GRAFANA = {"type": "grafana", "uid": "-- Grafana --"}
TAG = "hazard-warning"

#: Warning levels as stored (``level_code``) with their Grafana colours; 0 is "none".
LEVELS = ((0, "none", "green"), (1, "blue", "blue"), (2, "yellow", "yellow"),
          (3, "orange", "orange"), (4, "red", "red"))
LEVEL_COLOUR = {code: colour for code, _, colour in LEVELS}
LEVEL_CODE = {name: code for code, name, _ in LEVELS}

Panel = dict[str, Any]


def steps(*pairs: tuple[float | None, str]) -> dict[str, Any]:
    """Absolute thresholds from ``(lower bound, colour)`` pairs; the first bound is None."""
    return {"mode": "absolute",
            "steps": [{"color": colour, "value": value} for value, colour in pairs]}


LEVEL_STEPS = steps(*((None if code == 0 else code, colour) for code, _, colour in LEVELS))


def level_mappings() -> list[dict[str, Any]]:
    """Show level codes 0..4 as their names, in their colours."""
    return [{"type": "value", "options": {
        str(code): {"text": name, "color": colour, "index": code}
        for code, name, colour in LEVELS}}]


def influx(query: str, ref: str = "A", table: bool = False, alias: str | None = None
           ) -> dict[str, Any]:
    """An InfluxQL target (raw query mode)."""
    target = {"refId": ref, "datasource": INFLUX, "query": query, "rawQuery": True,
              "resultFormat": "table" if table else "time_series"}
    if alias:
        target["alias"] = alias
    return target


def prom(expr: str, legend: str = "__auto", ref: str = "A", instant: bool = False
         ) -> dict[str, Any]:
    """A PromQL target; ``instant`` for stats and tables, else a range query."""
    return {"refId": ref, "datasource": PROMETHEUS, "expr": expr, "legendFormat": legend,
            "editorMode": "code", "range": not instant, "instant": instant}


def _datasource(targets: list[dict[str, Any]]) -> dict[str, str]:
    return targets[0]["datasource"] if targets else GRAFANA


def panel(kind: str, title: str, targets: list[dict[str, Any]], *, description: str = "",
          unit: str | None = None, thresholds: dict[str, Any] | None = None,
          mappings: list[dict[str, Any]] | None = None, custom: dict[str, Any] | None = None,
          options: dict[str, Any] | None = None, overrides: list[dict[str, Any]] | None = None,
          transformations: list[dict[str, Any]] | None = None, color: str | None = None,
          minimum: float | None = None, maximum: float | None = None,
          decimals: int | None = None) -> Panel:
    """Any panel; ``gridPos`` and ``id`` are filled in by :class:`Layout`."""
    defaults: dict[str, Any] = {"custom": custom or {}, "mappings": mappings or []}
    if thresholds is not None:
        defaults["thresholds"] = thresholds
    for key, value in (("unit", unit), ("min", minimum), ("max", maximum),
                       ("decimals", decimals)):
        if value is not None:
            defaults[key] = value
    if color:
        defaults["color"] = {"mode": color}
    return {"type": kind, "title": title, "description": description,
            "datasource": _datasource(targets), "targets": targets,
            "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
            "options": options or {}, "transformations": transformations or []}


def timeseries(title: str, targets: list[dict[str, Any]], *, unit: str | None = None,
               thresholds: dict[str, Any] | None = None, bars: bool = False,
               steps_after: bool = False, points: bool = False, legend_calcs: tuple = ("max",),
               **kw: Any) -> Panel:
    """A time series; threshold lines are drawn dashed when thresholds are given."""
    custom = {"drawStyle": "bars" if bars else "line", "lineWidth": 1,
              "fillOpacity": 60 if bars else 0, "showPoints": "always" if points else "never",
              "pointSize": 6, "spanNulls": True,
              "lineInterpolation": "stepAfter" if steps_after else "linear",
              "thresholdsStyle": {"mode": "dashed" if thresholds else "off"}}
    options = {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True,
                          "calcs": list(legend_calcs)},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    return panel("timeseries", title, targets, unit=unit, color="palette-classic",
                 thresholds=thresholds or steps((None, "green")), custom=custom,
                 options=options, **kw)


def stat(title: str, targets: list[dict[str, Any]], *, thresholds: dict[str, Any] | None = None,
         calc: str = "lastNotNull", text_mode: str = "value_and_name", **kw: Any) -> Panel:
    """A stat panel coloured by its thresholds."""
    options = {"reduceOptions": {"calcs": [calc], "fields": "", "values": False},
               "colorMode": "background", "graphMode": "none", "justifyMode": "auto",
               "orientation": "auto", "textMode": text_mode, "showPercentChange": False}
    return panel("stat", title, targets, thresholds=thresholds or steps((None, "green")),
                 color="thresholds", options=options, **kw)


def table(title: str, targets: list[dict[str, Any]], *, sort_by: str | None = None,
          level_field: str | None = "level_code", **kw: Any) -> Panel:
    """A table; the level field (if any) is shown by name on its level's colour."""
    options: dict[str, Any] = {"showHeader": True, "cellHeight": "sm",
                               "footer": {"show": False, "reducer": ["sum"], "fields": ""}}
    if sort_by:
        options["sortBy"] = [{"displayName": sort_by, "desc": True}]
    overrides = list(kw.pop("overrides", []))
    if level_field:
        overrides.append(level_column(level_field))
    return panel("table", title, targets, options=options, overrides=overrides,
                 custom={"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False,
                         "filterable": True}, **kw)


def level_column(name: str) -> dict[str, Any]:
    """A field override: level codes by name, on their colour."""
    return {"matcher": {"id": "byName", "options": name}, "properties": [
        {"id": "mappings", "value": level_mappings()},
        {"id": "thresholds", "value": LEVEL_STEPS},
        {"id": "color", "value": {"mode": "thresholds"}},
        {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}


def fixed_colour(name: str, colour: str) -> dict[str, Any]:
    """A field override: one fixed colour for the field (or series) called ``name``."""
    return {"matcher": {"id": "byName", "options": name},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": colour}}]}


def row(title: str) -> Panel:
    """A row header (not collapsed)."""
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def text(title: str, markdown: str) -> Panel:
    """A markdown text panel."""
    return {"type": "text", "title": title, "options": {"mode": "markdown",
                                                         "content": markdown}}


class Layout:
    """Place panels left to right on Grafana's 24-column grid, wrapping to a new line."""

    def __init__(self) -> None:
        self.panels: list[Panel] = []
        self.x = self.y = self.line_height = 0

    def _newline(self) -> None:
        self.y += self.line_height
        self.x = self.line_height = 0

    def add(self, p: Panel, w: int, h: int) -> Layout:
        """Add a panel of ``w`` columns and ``h`` rows."""
        if self.x + w > 24:
            self._newline()
        p["id"] = len(self.panels) + 1
        p["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.panels.append(p)
        self.x += w
        self.line_height = max(self.line_height, h)
        return self

    def row(self, title: str) -> Layout:
        """Start a row header on a line of its own."""
        if self.x:
            self._newline()
        self.add(row(title), 24, 1)
        self._newline()
        return self


def variable(name: str, label: str, query: str, *, datasource: dict[str, str] = INFLUX,
             multi: bool = True) -> dict[str, Any]:
    """A query variable, refreshed on dashboard load, with an "All" option."""
    return {"name": name, "label": label, "type": "query", "datasource": datasource,
            "query": query, "definition": query, "refresh": 1, "regex": "", "sort": 1,
            "multi": multi, "includeAll": True, "hide": 0, "options": [],
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}}


def annotation(name: str, query: str, colour: str, *, enable: bool = True) -> dict[str, Any]:
    """An InfluxQL annotation query: each row a marker, text and tags from its columns."""
    return {"name": name, "datasource": INFLUX, "enable": enable, "hide": False,
            "iconColor": colour, "query": query,
            "target": {"refId": "Anno", "query": query, "rawQuery": True,
                       "resultFormat": "table"},
            "textColumn": "message", "tagsColumn": "hazard,level,event,subject",
            "titleColumn": "event"}


BUILTIN_ANNOTATION = {"builtIn": 1, "datasource": GRAFANA, "enable": True, "hide": True,
                      "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts",
                      "type": "dashboard"}


def dashboard(uid: str, title: str, description: str, layout: Layout, *,
              variables: list[dict[str, Any]] | None = None,
              annotations: list[dict[str, Any]] | None = None, tags: tuple[str, ...] = (),
              time_from: str = "now-24h", refresh: str = "1m",
              timezone: str = "Asia/Shanghai") -> dict[str, Any]:
    """A whole dashboard, linked to the others by the common tag."""
    return {
        "id": None, "uid": uid, "title": title, "description": description,
        "tags": [TAG, *tags], "timezone": timezone, "editable": False, "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION, "version": 1, "refresh": refresh,
        "time": {"from": time_from, "to": "now"}, "timepicker": {},
        "fiscalYearStartMonth": 0, "liveNow": False, "weekStart": "",
        "links": [{"title": "Hazard dashboards", "type": "dashboards", "tags": [TAG],
                   "asDropdown": True, "includeVars": True, "keepTime": True,
                   "icon": "external link", "targetBlank": False, "tooltip": "", "url": ""}],
        "templating": {"list": variables or []},
        "annotations": {"list": [BUILTIN_ANNOTATION, *(annotations or [])]},
        "panels": layout.panels,
    }
