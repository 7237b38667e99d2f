"""Every PromQL query of the pipeline health dashboard, and the alert rules, against a real
Prometheus that scraped `hazard-warning run` while it took the storm over MQTT.

Prometheus scrapes every second here, so ``$__rate_interval`` is 5 s; time series panels
are range queries over the run, stats instant queries at its end. A healthy run must fire
no alert, and every rule must evaluate without error.
"""

from __future__ import annotations

import math
import re

import pytest

from dashboards.interpolate import interpolate
from dashboards.runner import queries
from tests.dashboards.dashboard_files import load_boards

BOARD = load_boards()["pipeline-health"]
CASES = [q for q in queries(BOARD) if q.datasource == "prometheus" and q.panel is not None]
LABEL_VALUES = re.compile(r"^label_values\((?:(?P<match>.+),\s*)?(?P<label>\w+)\)$")


def _variables(live) -> dict[str, list[str]]:
    values = {}
    for v in BOARD["templating"]["list"]:
        m = LABEL_VALUES.match(v["query"])
        assert m, v["query"]
        params = {"match[]": m["match"]} if m["match"] else {}
        values[v["name"]] = live.prometheus.api(f"label/{m['label']}/values", **params)
    return values


@pytest.fixture(scope="module")
def variables(live):
    return _variables(live)


def test_variables_have_values(variables):
    assert len(variables["instance"]) == 1
    # Hazards of the shipped rules (zero series from the start, README "Metrics").
    assert {"rainstorm", "flood", "landslide", "gas_leak", "forest_fire"} <= set(
        variables["hazard"]
    )


@pytest.mark.parametrize("query", CASES, ids=[q.where for q in CASES])
def test_query_returns_data(query, live, variables):
    start_ms, end_ms = int(live.published_at * 1000) - 5000, int(live.done_at * 1000) + 3000
    expr = interpolate(
        query.text, variables, start_ms, end_ms, "1s", rate_interval="5s", promql=True
    )
    if query.table:
        result = live.prometheus.query(expr, at=end_ms / 1000)
        assert result, f"no data: {expr}"
        values = [float(r["value"][1]) for r in result]
    else:
        result = live.prometheus.query_range(expr, start_ms / 1000, end_ms / 1000, 1)
        assert result, f"no data: {expr}"
        values = [float(v) for r in result for _, v in r["values"]]
    assert any(not math.isnan(v) for v in values), f"only NaN: {expr}"


def test_the_run_shows_in_the_metrics(live):
    p = live.prometheus
    assert float(p.query("max(hazard_mqtt_connected)")[0]["value"][1]) == 1
    assert float(p.query("max(hazard_rules_loaded)")[0]["value"][1]) > 0
    # Every warning event of the storm was timed; the 99th percentile well under 5 s.
    events = p.query("sum(hazard_warning_events_total)")[0]["value"][1]
    timed = p.query("sum(hazard_warning_delay_seconds_count)")[0]["value"][1]
    assert float(events) == float(timed) > 0
    accepted = float(p.query("sum(hazard_readings_accepted_total)")[0]["value"][1])
    assert accepted == live.readings


def test_alert_rules_run_and_a_healthy_pipeline_fires_none(live):
    p = live.prometheus
    groups = p.api("rules", type="alert")["groups"]
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) == 9
    for rule in rules:
        assert rule["health"] in ("ok", "unknown"), (rule["name"], rule.get("lastError"))
    assert any(r["health"] == "ok" for r in rules), "no rule evaluated yet"
    assert p.api("alerts")["alerts"] == []
