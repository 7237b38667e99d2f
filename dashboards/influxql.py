"""InfluxQL shared by the dashboards: template-variable filters, warning state, annotations.

Schema (README, "InfluxDB schema"): ``reading`` and ``indicator`` are tagged by sensor_id,
kind and region (``indicator`` also by the spec id); ``warning`` by rule_id, hazard, region,
subject, event and level, with the field ``level_code`` (0 none, 1 blue .. 4 red).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import AnnotationQuery, QueryVariable

from dashboards.grafana import annotation, variable

# Multi-value variables expand to ``(a|b|c)`` in regular expressions.
REGION = '"region" =~ /^$region$/'
SENSOR = '"sensor_id" =~ /^$sensor$/'
SUBJECT = '"subject" =~ /^$sensor$/'
HAZARD = '"hazard" =~ /^$hazard$/'


def kinds(*names: str) -> str:
    """A filter on the ``kind`` tag."""
    return (
        f"\"kind\" = '{names[0]}'" if len(names) == 1 else '"kind" =~ /^(' + "|".join(names) + ")$/"
    )


def hazards(*names: str) -> str:
    """A filter on the ``hazard`` tag."""
    return (
        f"\"hazard\" = '{names[0]}'"
        if len(names) == 1
        else '"hazard" =~ /^(' + "|".join(names) + ")$/"
    )


def state(where: str, *tags: str) -> str:
    """Each warning's level at the end of the range: the last event per rule and subject.

    Not bounded below by the range: a warning raised a week ago and not cleared is active.
    Further ``tags`` are kept in the result for an outer query to group by.
    """
    group = ", ".join(f'"{t}"' for t in ("rule_id", "subject", *tags))
    return (
        'SELECT last("level_code") AS "level_code" FROM "warning" '
        f"WHERE time <= ${{__to}}ms AND {where} GROUP BY {group}"
    )


def region_variable() -> QueryVariable:
    """Regions that have sent readings."""
    return variable("region", "Region", 'SHOW TAG VALUES FROM "reading" WITH KEY = "region"')


def sensor_variable(*kind_names: str) -> QueryVariable:
    """Sensors of the given kinds in the chosen regions."""
    where = REGION if not kind_names else f"{REGION} AND {kinds(*kind_names)}"
    return variable(
        "sensor", "Sensor", f'SHOW TAG VALUES FROM "reading" WITH KEY = "sensor_id" WHERE {where}'
    )


def hazard_variable() -> QueryVariable:
    """Hazards that have had warnings."""
    return variable("hazard", "Hazard", 'SHOW TAG VALUES FROM "warning" WITH KEY = "hazard"')


def warning_annotations(where: str) -> list[AnnotationQuery]:
    """Warning events as annotations; the level and event are among the marker's tags.

    One query for all events: Grafana colours all markers of a query alike, and a query per
    level would often be empty.
    """
    query = (
        'SELECT "message", "level_code", "warning_id", "hazard", "level", "event", '
        f'"subject" FROM "warning" WHERE $timeFilter AND {where}'
    )
    return [annotation("Warning events", query, "orange")]


def events_table_query(where: str, limit: int = 200) -> str:
    """The latest warning events, newest first, with the columns a duty officer reads."""
    return (
        'SELECT "level_code", "event", "hazard", "subject", "region", "rule_id", '
        f'"message", "instruction", "warning_id" FROM "warning" WHERE $timeFilter AND '
        f"{where} ORDER BY time DESC LIMIT {limit}"
    )
