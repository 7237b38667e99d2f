"""Warning history: levels over time with every event as an annotation, and the episodes."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models import dashboard as dm

from dashboards.grafana import (
    LEVEL_STEPS,
    Layout,
    Panel,
    dashboard,
    influx,
    level_column,
    organize,
    override,
    table,
    timeseries,
)
from dashboards.influxql import (
    HAZARD,
    REGION,
    SUBJECT,
    events_table_query,
    hazard_variable,
    region_variable,
    sensor_variable,
    warning_annotations,
)

UID = "hazard-history"
FILTER = f"{HAZARD} AND {REGION} AND {SUBJECT}"

#: Columns of the episodes query, grouped by ``warning_id`` (one episode: raised to cleared).
EPISODE_GROUPS = {
    "warning_id": {"operation": "groupby"},
    "hazard": {"operation": "groupby"},
    "rule_id": {"operation": "groupby"},
    "subject": {"operation": "groupby"},
    "region": {"operation": "groupby"},
    "Time": {"operation": "aggregate", "aggregations": ["min", "max"]},
    "level_code": {"operation": "aggregate", "aggregations": ["max"]},
    "event": {"operation": "aggregate", "aggregations": ["lastNotNull", "count"]},
}


def episodes_query() -> str:
    """Every event in the range; the panel groups them into episodes by ``warning_id``."""
    return (
        'SELECT "warning_id", "level_code", "event", "hazard", "rule_id", "subject", '
        f'"region" FROM "warning" WHERE $timeFilter AND {FILTER}'
    )


def episodes_table() -> Panel:
    """Episodes: first and last event, highest level, state now, number of events."""
    transformations = [
        dm.DataTransformerConfig(id_val="groupBy", options={"fields": EPISODE_GROUPS}),
        dm.DataTransformerConfig(
            id_val="calculateField",
            options={
                "mode": "binary",
                "alias": "duration",
                "binary": {"left": "Time (max)", "operator": "-", "right": "Time (min)"},
                "replaceFields": False,
            },
        ),
        organize(
            rename={
                "Time (min)": "first event",
                "Time (max)": "last event",
                "level_code (max)": "highest level",
                "event (lastNotNull)": "last event kind",
                "event (count)": "events",
            }
        ),
        dm.DataTransformerConfig(
            id_val="sortBy", options={"sort": [{"field": "first event", "desc": True}]}
        ),
    ]
    overrides = [
        level_column("highest level"),
        override("duration", [("unit", "ms")]),
        override("first event|last event", [("unit", "dateTimeAsIso")], regexp=True),
    ]
    return table(
        "Warning episodes",
        [influx(episodes_query(), table=True)],
        level_field=None,
        overrides=overrides,
        transformations=transformations,
        description="One row per episode (warning_id: rule, subject and the UTC time "
        "it was raised), from its events in the time range. An episode "
        "whose last event is not `cleared` is still active.",
    )


def build(timezone: str) -> dict[str, Any]:
    """The warning history dashboard."""
    layout = Layout()
    levels = timeseries(
        "Warning level by rule and subject",
        [
            influx(
                'SELECT last("level_code") AS "level" FROM "warning" WHERE '
                f"$timeFilter AND {FILTER} GROUP BY time($__interval), "
                '"rule_id", "subject" fill(previous)',
                alias="$tag_rule_id $tag_subject",
            )
        ],
        unit="none",
        thresholds=LEVEL_STEPS,
        steps_after=True,
        legend_calcs=("max",),
        minimum=0,
        maximum=4,
        decimals=0,
        description="Level after each event (0 none, 1 blue .. 4 red); every "
        "event is an annotation, coloured by its level.",
    )
    layout.add(levels, 24, 10)
    layout.add(
        timeseries(
            "Warning events by hazard",
            [
                influx(
                    'SELECT count("level_code") AS "events" FROM "warning" WHERE '
                    f"$timeFilter AND {FILTER} GROUP BY time($__interval), "
                    '"hazard" fill(none)',
                    alias="$tag_hazard",
                )
            ],
            unit="none",
            bars=True,
            legend_calcs=("sum",),
            decimals=0,
            description="Raised, escalated, de-escalated and cleared events.",
        ),
        24,
        7,
    )
    layout.add(episodes_table(), 24, 10)
    layout.add(
        table(
            "All warning events",
            [influx(events_table_query(FILTER, 1000), table=True)],
            description="Every warning event in the time range, newest first.",
        ),
        24,
        10,
    )
    return dashboard(
        UID,
        "Warning history",
        "Warning events as annotations on the levels over time, and a table of warning episodes.",
        layout,
        tags=("history",),
        variables=[region_variable(), sensor_variable(), hazard_variable()],
        annotations=warning_annotations(FILTER),
        timezone=timezone,
        time_from="now-7d",
        refresh="1m",
    )
