"""Every InfluxQL query of every dashboard, run against a real InfluxDB holding what the
pipeline stored for the simulator's storm and the two days after it.

Variables are set to "All" (the values of their own queries), ``$timeFilter`` and the other
macros to the stored range, as Grafana would send them; each query must run and return data.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

from dashboards.interpolate import interpolate
from dashboards.preview import Overview, render
from dashboards.runner import InfluxQL, queries, resolve_variables, tag_values
from tests.dashboards.dashboard_files import ROOT, load_boards

BOARDS = load_boards()
CASES = [
    (name, q)
    for name, board in BOARDS.items()
    for q in queries(board)
    if q.datasource == "influxdb"
]
INTERVAL = "5m"  # what Grafana picks for about two days on a wide panel


@pytest.fixture(scope="module")
def client(stored):
    return InfluxQL(stored.url, stored.database)


@pytest.fixture(scope="module")
def variables(stored, client):
    """Each dashboard's variables set to "All", resolved by running their queries."""
    return {
        name: resolve_variables(board, tag_values(client), stored.start_ms, stored.end_ms)
        for name, board in BOARDS.items()
        if board["uid"] != "hazard-pipeline"
    }


def _has_values(series: list[dict]) -> bool:
    """Some field (not the time, not a tag) of some row is not null."""
    return any(
        v is not None
        for s in series
        for row in s["values"]
        for c, v in zip(s["columns"], row, strict=True)
        if c != "time"
    )


@pytest.mark.parametrize(("name", "query"), CASES, ids=[f"{n}: {q.where}" for n, q in CASES])
def test_query_returns_data(name, query, stored, client, variables):
    text = interpolate(query.text, variables[name], stored.start_ms, stored.end_ms, INTERVAL)
    series = client.series(text)
    assert series, f"no data: {text}"
    assert _has_values(series), f"only nulls: {text}"
    if query.panel is not None:
        _check_fields(query.panel, client.rows(text))


def _check_fields(panel: dict, rows: list[dict]) -> None:
    """Fields the panel's options and transformations name exist in what the query returns."""
    columns = {"Time" if c == "time" else c for r in rows for c in r}
    for t in panel.get("transformations", []):
        if t["id"] == "groupBy":
            assert set(t["options"]["fields"]) <= columns, (panel["title"], columns)
        if t["id"] == "joinByField":
            assert t["options"]["byField"] in columns, panel["title"]
    if panel["type"] == "geomap":
        for layer in panel["options"]["layers"]:
            if layer["type"] == "markers":
                assert layer["location"]["lookup"] in columns
                assert layer["config"]["style"]["color"]["field"] in columns


def test_every_variable_has_values(variables):
    for name, values in variables.items():
        for var, found in values.items():
            assert found, f"{name}: variable {var} has no values"
    overview = variables["overview"]
    assert overview["region"] == ["anji", "changxing", "deqing", "nanxun", "wuxing"]
    # with the area warnings of rules/compound.yaml: the storm's flash flood and counties'
    # integrated risk; the silence of areas whose sensors the second run leaves out
    assert set(overview["hazard"]) == {
        "rainstorm",
        "landslide",
        "flood",
        "gas_leak",
        "gas_toxic",
        "forest_fire",
        "flash_flood",
        "integrated_risk",
        "area_silence",
    }
    assert variables["hazard-slope"]["sensor"] == ["sl-aj-01"]


def test_the_map_shows_each_sensor_at_its_worst_active_level(stored, client):
    # At the storm's end (README): rg-aj-01 red (rainstorm and landslide), Hangchangqiao
    # orange (above its guaranteed level), the gas leak at gs-cx-01 cleared (level 0).
    data = Overview(client, stored.start_ms, stored.storm_end_ms)
    worst = {
        r["subject"]: r["level_code"] for r in data.rows("Sensors by worst active warning level")
    }
    assert worst["rg-aj-01"] == 4 and worst["wl-wx-01"] == 3 and worst["gs-cx-01"] == 0
    gazetteer = json.loads((ROOT / "dashboards/gazetteer/hazard-sensors.json").read_text())
    assert set(worst) <= {g["key"] for g in gazetteer}, "a sensor the map cannot place"
    # Area warnings are drawn at their area's centre: Anji's flash flood and integrated risk.
    areas = {
        r["subject"]: r["level_code"]
        for r in data.rows("Sensors by worst active warning level", ref="B")
    }
    assert areas["anji"] == 4 and set(areas) <= {g["key"] for g in gazetteer}
    outlines = json.loads((ROOT / "dashboards/gazetteer/hazard-areas.geojson").read_text())
    assert {f["id"] for f in outlines["features"]} >= {"anji", "wuxing"}
    regions = {r["region"]: r for r in data.rows("Regions ranked by risk")}
    assert regions["anji"]["worst"] == 4 and regions["anji"]["risk"] >= regions["wuxing"]["risk"]
    # Two days later the slope has failed (red) and the fire danger is extreme (red).
    later = Overview(client, stored.start_ms, stored.end_ms)
    worst = {
        r["subject"]: r["level_code"] for r in later.rows("Sensors by worst active warning level")
    }
    assert worst["sl-aj-01"] == 4 and worst["ws-wx-01"] == 4


def test_preview_png_of_the_situation_overview(stored, client, tmp_path):
    data = Overview(client, stored.start_ms, stored.storm_end_ms)
    out = render(data, tmp_path / "situation_overview.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 50_000
    if os.environ.get("HAZARD_UPDATE_PREVIEW"):  # docs/DASHBOARDS.md: how to redraw it
        shutil.copy(out, ROOT / "docs" / "situation_overview.png")
