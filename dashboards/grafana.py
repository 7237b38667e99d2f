"""Dashboard building blocks on grafana-foundation-sdk's builders (Grafana 11.6 schema).

Everything the SDK models is built with its builders and models. Two things it does not
model are small escape hatches, checked against ``dashboards/schema/hazard-extensions``:
the InfluxQL query (the SDK has no InfluxDB datasource; :class:`InfluxQL`) and the geomap
layers' ``config`` (free-form in the schema; built in ``overview.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from grafana_foundation_sdk.builders import barchart, prometheus, statetimeline
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat as stat_panel
from grafana_foundation_sdk.builders import table as table_panel
from grafana_foundation_sdk.builders import text as text_panel
from grafana_foundation_sdk.builders import timeseries as ts_panel
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm
from grafana_foundation_sdk.models import text as tm

INFLUX = dm.DataSourceRef(type_val="influxdb", uid="hazard-influxdb")
PROMETHEUS = dm.DataSourceRef(type_val="prometheus", uid="hazard-prometheus")
GRAFANA = dm.DataSourceRef(type_val="grafana", uid="-- Grafana --")
TAG = "hazard-warning"

#: Warning levels as stored (``level_code``) with their Grafana colours; 0 is "none".
LEVELS = (
    (0, "none", "green"),
    (1, "blue", "blue"),
    (2, "yellow", "yellow"),
    (3, "orange", "orange"),
    (4, "red", "red"),
)
LEVEL_COLOUR = {code: colour for code, _, colour in LEVELS}
LEVEL_CODE = {name: code for code, name, _ in LEVELS}

Panel = cogbuilder.Builder[dm.Panel]


def to_json(value: Any) -> Any:
    """A built SDK object (or a builder) as plain JSON data."""
    if isinstance(value, cogbuilder.Builder):
        value = value.build()
    return json.loads(json.dumps(value, cls=JSONEncoder))


def steps(*pairs: tuple[float | None, str]) -> dm.ThresholdsConfig:
    """Absolute thresholds from ``(lower bound, colour)`` pairs; the first bound is None."""
    return (
        db.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=colour) for value, colour in pairs])
        .build()
    )


LEVEL_STEPS = steps(*((None if code == 0 else code, colour) for code, _, colour in LEVELS))


def value_names(names: dict[int, tuple[str, str | None]]) -> list[dm.ValueMapping]:
    """A value mapping: each code shown as its name (in its colour, if given)."""
    return [
        dm.ValueMap(
            options={
                str(code): dm.ValueMappingResult(text=name, color=colour, index=code)
                for code, (name, colour) in names.items()
            }
        )
    ]


def level_mappings() -> list[dm.ValueMapping]:
    """Show level codes 0..4 as their names, in their colours."""
    return value_names({code: (name, colour) for code, name, colour in LEVELS})


@dataclass
class InfluxQLQuery(cogvariants.Dataquery):
    """An InfluxQL query target (raw query mode), as Grafana's InfluxDB datasource saves it."""

    ref_id: str
    query: str
    result_format: str = "time_series"
    alias: str | None = None
    columns: dict[str, str | bool] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "refId": self.ref_id,
            "datasource": INFLUX.to_json(),
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias:
            out["alias"] = self.alias
        return {**out, **self.columns}


class _Built(cogbuilder.Builder[Any]):
    """A built model where the SDK's setter takes a builder.

    Also an annotation's target: its datasource's query, not the schema's type for the
    built-in Grafana datasource's target.
    """

    def __init__(self, model: Any) -> None:
        self._model = model

    def build(self) -> Any:
        return self._model


class InfluxQL(_Built):
    """Builder of :class:`InfluxQLQuery` for the SDK's ``targets``."""


def influx(query: str, ref: str = "A", table: bool = False, alias: str | None = None) -> InfluxQL:
    """An InfluxQL target (raw query mode)."""
    return InfluxQL(InfluxQLQuery(ref, query, "table" if table else "time_series", alias))


def prom(
    expr: str, legend: str = "__auto", ref: str = "A", instant: bool = False
) -> prometheus.Dataquery:
    """A PromQL target; ``instant`` for stats and tables, else a range query."""
    q = (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend)
        .ref_id(ref)
        .editor_mode(pm.QueryEditorMode.CODE)
        .datasource(PROMETHEUS)
    )
    return q.instant() if instant else q.range()


def override(
    name: str, properties: list[tuple[str, Any]], regexp: bool = False
) -> tuple[dm.MatcherConfig, list[dm.DynamicConfigValue]]:
    """A field override: the field(s) by name (or regular expression) and what to set."""
    matcher = dm.MatcherConfig(id_val="byRegexp" if regexp else "byName", options=name)
    return matcher, [dm.DynamicConfigValue(id_val=pid, value=value) for pid, value in properties]


def level_column(name: str) -> tuple[dm.MatcherConfig, list[dm.DynamicConfigValue]]:
    """A field override: level codes by name, on their colour."""
    return override(
        name,
        [
            ("mappings", level_mappings()),
            ("thresholds", LEVEL_STEPS),
            ("color", dm.FieldColor(mode=dm.FieldColorModeId.THRESHOLDS)),
            ("custom.cellOptions", cm.TableColoredBackgroundCellOptions()),
        ],
    )


def fixed_colour(name: str, colour: str) -> tuple[dm.MatcherConfig, list[dm.DynamicConfigValue]]:
    """A field override: one fixed colour for the field (or series) called ``name``."""
    return override(
        name, [("color", dm.FieldColor(mode=dm.FieldColorModeId.FIXED, fixed_color=colour))]
    )


def configure(
    p: Any,
    targets: list[Any],
    *,
    description: str = "",
    unit: str | None = None,
    thresholds: dm.ThresholdsConfig | None = None,
    mappings: list[dm.ValueMapping] | None = None,
    overrides: list[tuple] | None = None,
    transformations: list[dm.DataTransformerConfig] | None = None,
    color: dm.FieldColorModeId | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    decimals: int | None = None,
    no_value: str | None = None,
) -> Any:
    """What every panel has: targets, datasource, field config, overrides, transformations."""
    p.datasource(INFLUX if not targets or isinstance(targets[0], InfluxQL) else PROMETHEUS)
    p.targets(targets).description(description).mappings(mappings or [])
    if thresholds is not None:
        p.thresholds(_Built(thresholds))
    if color is not None:
        p.color_scheme(db.FieldColor().mode(color))
    for setter, value in (
        (p.unit, unit),
        (p.min, minimum),
        (p.max, maximum),
        (p.decimals, decimals),
        (p.no_value, no_value),
    ):
        if value is not None:
            setter(value)
    p.overrides(
        [
            db.DashboardFieldConfigSourceOverrides().matcher(m).properties(props)
            for m, props in overrides or []
        ]
    )
    return p.transformations(transformations or [])


def _legend(
    mode: cm.LegendDisplayMode, calcs: tuple[str, ...], show: bool = True
) -> cb.VizLegendOptions:
    return (
        cb.VizLegendOptions()
        .display_mode(mode)
        .placement(cm.LegendPlacement.BOTTOM)
        .show_legend(show)
        .calcs(list(calcs))
    )


def _tooltip(mode: cm.TooltipDisplayMode, sort: cm.SortOrder) -> cb.VizTooltipOptions:
    return cb.VizTooltipOptions().mode(mode).sort(sort)


def timeseries(
    title: str,
    targets: list[Any],
    *,
    thresholds: dm.ThresholdsConfig | None = None,
    bars: bool = False,
    steps_after: bool = False,
    points: bool = False,
    legend_calcs: tuple[str, ...] = ("max",),
    **kw: Any,
) -> ts_panel.Panel:
    """A time series; threshold lines are drawn dashed when thresholds are given."""
    p = (
        ts_panel.Panel()
        .title(title)
        .draw_style(cm.GraphDrawStyle.BARS if bars else cm.GraphDrawStyle.LINE)
        .line_width(1)
        .fill_opacity(60 if bars else 0)
        .point_size(6)
        .span_nulls(True)
        .show_points(cm.VisibilityMode.ALWAYS if points else cm.VisibilityMode.NEVER)
        .line_interpolation(
            cm.LineInterpolation.STEP_AFTER if steps_after else cm.LineInterpolation.LINEAR
        )
        .thresholds_style(
            cb.GraphThresholdsStyleConfig().mode(
                cm.GraphThresholdsStyleMode.DASHED
                if thresholds
                else cm.GraphThresholdsStyleMode.OFF
            )
        )
        .legend(_legend(cm.LegendDisplayMode.TABLE, legend_calcs))
        .tooltip(_tooltip(cm.TooltipDisplayMode.MULTI, cm.SortOrder.DESCENDING))
    )
    return configure(
        p,
        targets,
        thresholds=thresholds or steps((None, "green")),
        color=dm.FieldColorModeId.PALETTE_CLASSIC,
        **kw,
    )


def stat(
    title: str,
    targets: list[Any],
    *,
    thresholds: dm.ThresholdsConfig | None = None,
    calc: str = "lastNotNull",
    text_mode: str = "value_and_name",
    **kw: Any,
) -> stat_panel.Panel:
    """A stat panel coloured by its thresholds."""
    p = (
        stat_panel.Panel()
        .title(title)
        .reduce_options(cb.ReduceDataOptions().calcs([calc]).fields("").values(False))
        .color_mode(cm.BigValueColorMode.BACKGROUND)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .justify_mode(cm.BigValueJustifyMode.AUTO)
        .orientation(cm.VizOrientation.AUTO)
        .text_mode(cm.BigValueTextMode(text_mode))
        .show_percent_change(False)
        .wide_layout(True)
    )
    return configure(
        p,
        targets,
        thresholds=thresholds or steps((None, "green")),
        color=dm.FieldColorModeId.THRESHOLDS,
        **kw,
    )


def table(
    title: str,
    targets: list[Any],
    *,
    sort_by: str | None = None,
    level_field: str | None = "level_code",
    **kw: Any,
) -> table_panel.Panel:
    """A table; the level field (if any) is shown by name on its level's colour."""
    p = (
        table_panel.Panel()
        .title(title)
        .show_header(True)
        .cell_height(cm.TableCellHeight.SM)
        .footer(cb.TableFooterOptions().show(False).reducer(["sum"]))
        .align(cm.FieldTextAlignment.AUTO)
        .cell_options(cm.TableAutoCellOptions())
        .inspect(False)
        .filterable(True)
    )
    if sort_by:
        p.sort_by([cb.TableSortByFieldState().display_name(sort_by).desc(True)])
    overrides = list(kw.pop("overrides", []))
    if level_field:
        overrides.append(level_column(level_field))
    return configure(p, targets, overrides=overrides, **kw)


def barchart_panel(title: str, targets: list[Any], *, x_field: str, **kw: Any) -> barchart.Panel:
    """A horizontal stacked bar chart of the numeric fields by ``x_field``."""
    p = (
        barchart.Panel()
        .title(title)
        .x_field(x_field)
        .orientation(cm.VizOrientation.HORIZONTAL)
        .stacking(cm.StackingMode.NORMAL)
        .show_value(cm.VisibilityMode.AUTO)
        .bar_width(0.8)
        .group_width(0.7)
        .x_tick_label_rotation(0)
        .fill_opacity(85)
        .line_width(0)
        .legend(_legend(cm.LegendDisplayMode.LIST, ()))
        .tooltip(_tooltip(cm.TooltipDisplayMode.MULTI, cm.SortOrder.NONE))
    )
    return configure(p, targets, **kw)


def state_timeline(title: str, targets: list[Any], **kw: Any) -> statetimeline.Panel:
    """Each series' value over time as coloured bands, merged where it does not change."""
    p = (
        statetimeline.Panel()
        .title(title)
        .show_value(cm.VisibilityMode.NEVER)
        .merge_values(True)
        .row_height(0.8)
        .align_value(cm.TimelineValueAlignment.LEFT)
        .fill_opacity(80)
        .line_width(0)
        .legend(_legend(cm.LegendDisplayMode.LIST, (), show=False))
        .tooltip(_tooltip(cm.TooltipDisplayMode.SINGLE, cm.SortOrder.NONE))
    )
    return configure(p, targets, **kw)


def text(title: str, markdown: str) -> text_panel.Panel:
    """A markdown text panel."""
    return text_panel.Panel().title(title).mode(tm.TextMode.MARKDOWN).content(markdown)


def organize(
    exclude: list[str] | None = None, rename: dict[str, str] | None = None
) -> dm.DataTransformerConfig:
    """The ``organize`` transformation: hide and rename fields."""
    return dm.DataTransformerConfig(
        id_val="organize",
        options={
            "excludeByName": {name: True for name in exclude or []},
            "indexByName": {},
            "renameByName": rename or {},
        },
    )


class Layout:
    """Place panels left to right on Grafana's 24-column grid, wrapping to a new line."""

    def __init__(self) -> None:
        self.panels: list[tuple[str, Any]] = []
        self.x = self.y = self.line_height = 0

    def _newline(self) -> None:
        self.y += self.line_height
        self.x = self.line_height = 0

    def add(self, p: Any, w: int, h: int) -> Layout:
        """Add a panel of ``w`` columns and ``h`` rows."""
        if self.x + w > 24:
            self._newline()
        p.id(len(self.panels) + 1).grid_pos(dm.GridPos(h=h, w=w, x=self.x, y=self.y))
        self.panels.append(("panel", p))
        self.x += w
        self.line_height = max(self.line_height, h)
        return self

    def row(self, title: str) -> Layout:
        """Start a row header (not collapsed) on a line of its own."""
        if self.x:
            self._newline()
        self.panels.append(
            (
                "row",
                db.Row(title)
                .collapsed(False)
                .id(len(self.panels) + 1)
                .grid_pos(dm.GridPos(h=1, w=24, x=0, y=self.y)),
            )
        )
        self.line_height = 1
        self._newline()
        return self


def variable(
    name: str,
    label: str,
    query: str,
    *,
    datasource: dm.DataSourceRef = INFLUX,
    all_value: str | None = None,
) -> db.QueryVariable:
    """A query variable, refreshed on dashboard load, with several values and "All"."""
    v = (
        db.QueryVariable(name)
        .label(label)
        .query(query)
        .datasource(datasource)
        .refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .regex("")
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
        .multi(True)
        .include_all(True)
        .hide(dm.VariableHide.DONT_HIDE)
        .options([])
        .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
    )
    return v.all_value(all_value) if all_value else v


def annotation(name: str, query: str, colour: str, *, enable: bool = True) -> db.AnnotationQuery:
    """An InfluxQL annotation query: each row a marker, text and tags from its columns."""
    target = InfluxQLQuery(
        "Anno",
        query,
        "table",
        columns={
            "fromAnnotations": True,
            "textEditor": True,
            "textColumn": "message",
            "tagsColumn": "hazard,level,event,subject",
            "titleColumn": "event",
        },
    )
    return (
        db.AnnotationQuery()
        .name(name)
        .datasource(INFLUX)
        .enable(enable)
        .hide(False)
        .icon_color(colour)
        .target(_Built(target))
    )


def builtin_annotation() -> db.AnnotationQuery:
    """Grafana's own annotations and alerts, hidden as Grafana adds it."""
    return (
        db.AnnotationQuery()
        .name("Annotations & Alerts")
        .datasource(GRAFANA)
        .enable(True)
        .hide(True)
        .icon_color("rgba(0, 211, 255, 1)")
        .type("dashboard")
        .built_in(1)
    )


def dashboard(
    uid: str,
    title: str,
    description: str,
    layout: Layout,
    *,
    variables: Sequence[db.QueryVariable] | None = None,
    annotations: list[db.AnnotationQuery] | None = None,
    tags: tuple[str, ...] = (),
    time_from: str = "now-24h",
    refresh: str = "1m",
    timezone: str = "Asia/Shanghai",
) -> dict[str, Any]:
    """A whole dashboard as JSON, linked to the others by the common tag."""
    d = (
        db.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG, *tags])
        .timezone(timezone)
        .readonly()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .time(time_from, "now")
        .refresh(refresh)
        .version(1)
        .fiscal_year_start_month(0)
        .live_now(False)
        .link(
            db.DashboardLink("Hazard dashboards")
            .type(dm.DashboardLinkType.DASHBOARDS)
            .tags([TAG])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
            .icon("external link")
            .target_blank(False)
            .tooltip("")
            .url("")
        )
        .variables(list[cogbuilder.Builder[dm.VariableModel]](variables or []))
        .annotations([builtin_annotation(), *(annotations or [])])
    )
    for kind, p in layout.panels:
        if kind == "row":
            d.with_row(p)
        else:
            d.with_panel(p)
    return to_json(d)
