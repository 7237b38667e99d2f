"""Run a dashboard's InfluxQL as Grafana would: find the queries, resolve the variables.

Used by the preview renderer and by the tests that execute every dashboard query.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dashboards.interpolate import interpolate

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Query:
    """One query of a dashboard: where it is, its datasource type and its text."""

    where: str  # e.g. "panel 'Rain in 3 h' A", "variable region", "annotation ..."
    datasource: str  # "influxdb" or "prometheus"
    text: str
    table: bool = False  # InfluxQL result format (or a Prometheus instant query)
    panel: dict[str, Any] | None = None
    ref: str = ""


class InfluxQL:
    """A minimal InfluxDB 1.x query client (``/query``, epoch milliseconds)."""

    def __init__(self, url: str, database: str, timeout: float = 10):
        self.url = url.rstrip("/")
        self.database = database
        self.timeout = timeout

    def series(self, q: str) -> list[dict[str, Any]]:
        """The series of the first statement's result; raise RuntimeError on a query error."""
        data = urllib.parse.urlencode({"q": q, "db": self.database, "epoch": "ms"}).encode()
        with urllib.request.urlopen(f"{self.url}/query", data=data, timeout=self.timeout) as resp:
            body = json.load(resp)
        result = body["results"][0]
        if "error" in result:
            msg = f"{result['error']} in: {q}"
            raise RuntimeError(msg)
        return result.get("series", [])

    def rows(self, q: str) -> Rows:
        """Rows as dicts, with each series' tags added as columns (as Grafana's tables do)."""
        return [
            dict(zip(s["columns"], values, strict=True)) | s.get("tags", {})
            for s in self.series(q)
            for values in s["values"]
        ]


def queries(board: dict[str, Any]) -> Iterator[Query]:
    """Every query of a dashboard: variables, annotations and panel targets."""
    for v in board["templating"]["list"]:
        if v.get("type") == "query":
            yield Query(f"variable {v['name']}", v["datasource"]["type"], v["query"])
    for a in board["annotations"]["list"]:
        if not a.get("builtIn"):
            yield Query(
                f"annotation {a['name']!r}",
                a["datasource"]["type"],
                a["target"]["query"],
                table=True,
            )
    for p in board["panels"]:
        for t in p.get("targets", []):
            kind = t["datasource"]["type"]
            text = t["query"] if kind == "influxdb" else t["expr"]
            table = t.get("resultFormat") == "table" or bool(t.get("instant"))
            yield Query(f"panel {p['title']!r} {t['refId']}", kind, text, table, p, t["refId"])


def resolve_variables(
    board: dict[str, Any], run: Callable[[str], list[str]], start_ms: int, end_ms: int
) -> dict[str, list[str]]:
    """Every variable set to "All": its query's values, in the order of the variables."""
    values: dict[str, list[str]] = {}
    for v in board["templating"]["list"]:
        values[v["name"]] = run(interpolate(v["query"], values, start_ms, end_ms))
    return values


def tag_values(client: InfluxQL) -> Callable[[str], list[str]]:
    """Run a ``SHOW TAG VALUES`` variable query: its values."""
    return lambda q: sorted({row["value"] for row in client.rows(q)})
