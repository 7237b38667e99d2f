"""Every dashboard against the Grafana dashboard JSON model, the provisioning and the rules.

No server here: structure only (ids, grid, datasources, variables), that the checked-in JSON
is what the generator writes, and that thresholds drawn are the rule files' thresholds.
"""

from __future__ import annotations

import itertools

import pytest
import yaml

from dashboards import generate
from dashboards.interpolate import BUILTINS, references
from dashboards.schema import validator
from tests.dashboards.dashboard_files import ROOT, load_boards

BOARDS = load_boards()
#: The dashboard schemaVersion of the targeted Grafana (the published schema's default).
SCHEMA_VERSION = validator("dashboard", "Dashboard").schema["definitions"]["Dashboard"][
    "properties"
]["schemaVersion"]["default"]
PROVISIONING = ROOT / "dashboards" / "provisioning"
# What Grafana shows as the display names of InfluxQL aliases ($tag_x) is not a variable.
ALIAS_VARS = {"tag_sensor_id", "tag_subject", "tag_rule_id", "tag_hazard", "col", "m"}


def _datasources() -> dict[str, dict]:
    found = {}
    for path in (PROVISIONING / "datasources").glob("*.yaml"):
        for ds in yaml.safe_load(path.read_text())["datasources"]:
            found[ds["uid"]] = ds
    return found


DATASOURCES = _datasources()


def _targets(board):
    for p in board["panels"]:
        for t in p.get("targets", []):
            yield p, t


def test_checked_in_json_is_what_the_generator_writes():
    files = generate.outputs(generate.simulator_registry())
    stale = [
        str(p.relative_to(ROOT))
        for p, text in files.items()
        if not p.exists() or p.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run python -m dashboards.generate: {stale}"
    assert set(BOARDS) == {p.stem for p in files if p.suffix == ".json" and p.parent.name == "json"}


def test_the_dashboards_asked_for_are_there():
    uids = {b["uid"] for b in BOARDS.values()}
    assert uids == {
        "hazard-overview",
        "hazard-history",
        "hazard-pipeline",
        "hazard-rainfall",
        "hazard-water",
        "hazard-slope",
        "hazard-fire",
        "hazard-gas",
    }
    assert len(uids) == len(BOARDS)


@pytest.mark.parametrize("name", BOARDS)
def test_dashboard_model(name):
    board = BOARDS[name]
    assert board["schemaVersion"] == SCHEMA_VERSION
    assert isinstance(board["uid"], str) and 0 < len(board["uid"]) <= 40
    assert board["title"] and "id" not in board and board["editable"] is False
    assert {"from", "to"} <= set(board["time"])
    panels = board["panels"]
    assert panels, "no panels"
    titles = [p["title"] for p in panels if p["type"] != "row"]
    assert len(titles) == len(set(titles)), "panel titles repeat"
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)
    for p in panels:
        assert p["title"], p
        g = p["gridPos"]
        assert set(g) == {"h", "w", "x", "y"} and all(isinstance(v, int) for v in g.values())
        assert g["w"] >= 1 and g["h"] >= 1 and g["x"] >= 0 and g["y"] >= 0
        assert g["x"] + g["w"] <= 24, (p["title"], g)
        if p["type"] == "row":
            assert g == {"h": 1, "w": 24, "x": 0, "y": g["y"]}
        elif p["type"] != "text":
            refs = [t["refId"] for t in p["targets"]]
            assert refs and len(refs) == len(set(refs)), p["title"]
            assert "defaults" in p["fieldConfig"] and "overrides" in p["fieldConfig"]
    for a, b in itertools.combinations(panels, 2):
        ga, gb = a["gridPos"], b["gridPos"]
        overlap = (
            ga["x"] < gb["x"] + gb["w"]
            and gb["x"] < ga["x"] + ga["w"]
            and ga["y"] < gb["y"] + gb["h"]
            and gb["y"] < ga["y"] + ga["h"]
        )
        assert not overlap, f"{a['title']!r} overlaps {b['title']!r}"


@pytest.mark.parametrize("name", BOARDS)
def test_datasources_exist_in_the_provisioning(name):
    board = BOARDS[name]
    used = [p["datasource"] for p in board["panels"] if "datasource" in p]
    used += [t["datasource"] for _, t in _targets(board)]
    used += [v["datasource"] for v in board["templating"]["list"]]
    used += [a["datasource"] for a in board["annotations"]["list"] if not a.get("builtIn")]
    assert used
    for ds in used:
        assert ds["uid"] in DATASOURCES, ds
        assert DATASOURCES[ds["uid"]]["type"] == ds["type"]
    for p, t in _targets(board):
        assert t["datasource"] == p["datasource"], p["title"]


@pytest.mark.parametrize("name", BOARDS)
def test_variables_referenced_are_defined(name):
    board = BOARDS[name]
    defined: list[str] = []
    for v in board["templating"]["list"]:
        assert v["type"] == "query" and v["refresh"] == 1
        assert v["name"] not in defined and v["current"]["value"] == ["$__all"]
        # A variable's query may use only the variables before it (Grafana resolves in order).
        assert references(v["query"]) <= set(defined) | BUILTINS, v["name"]
        defined.append(v["name"])
    texts = [t.get("query") or t["expr"] for _, t in _targets(board)]
    texts += [t.get("legendFormat", "") for _, t in _targets(board)]
    texts += [a["target"]["query"] for a in board["annotations"]["list"] if not a.get("builtIn")]
    used = set().union(*(references(t) for t in texts)) - BUILTINS - ALIAS_VARS
    assert used <= set(defined), f"undefined: {used - set(defined)}"
    # Every variable is used somewhere (a filter that filters nothing misleads).
    assert set(defined) <= used | set().union(
        *(references(v["query"]) for v in board["templating"]["list"])
    )


def test_influx_queries_filter_by_variables_as_regular_expressions():
    # Multi-value variables expand to (a|b): only =~ /^$var$/ matches them all.
    for board in BOARDS.values():
        for _, t in _targets(board):
            text = t.get("query", "")
            for name in references(text) - BUILTINS:
                assert f"=~ /^${name}$/" in text, text


def test_provisioning_matches_the_dashboards_and_the_compose_file():
    influx = DATASOURCES["hazard-influxdb"]
    assert influx["type"] == "influxdb" and influx["jsonData"]["version"] == "InfluxQL"
    assert influx["jsonData"]["dbName"] == "hazard"
    assert DATASOURCES["hazard-prometheus"]["type"] == "prometheus"
    provider = yaml.safe_load((PROVISIONING / "dashboards" / "hazard.yaml").read_text())
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"../dashboards/json:{path}:ro" in mounts
    assert "../dashboards/provisioning:/etc/grafana/provisioning:ro" in mounts
    overview = BOARDS["overview"]
    geomap = next(p for p in overview["panels"] if p["type"] == "geomap")
    for layer in geomap["options"]["layers"]:
        src = layer["location"]["gazetteer"] if "location" in layer else layer["config"]["src"]
        name = src.rsplit("/", 1)[1]
        assert f"../dashboards/gazetteer/{name}:/usr/share/grafana/{src}:ro" in mounts


def _panel(board: str, title: str) -> dict:
    return next(p for p in BOARDS[board]["panels"] if p["title"] == title)


def _steps(board: str, title: str) -> list[tuple]:
    steps = _panel(board, title)["fieldConfig"]["defaults"]["thresholds"]["steps"]
    return [(s["value"], s["color"]) for s in steps]


def test_thresholds_are_the_rules_thresholds():
    # The CMA rainstorm signals (rules/rainstorm.yaml) on the accumulation panels.
    assert _steps("hazard-rainfall", "Rain in 3 h") == [
        (None, "green"),
        (50, "orange"),
        (100, "red"),
    ]
    assert _steps("hazard-rainfall", "Rain in 6 h") == [(None, "green"), (50, "yellow")]
    assert _steps("hazard-rainfall", "Rain in 12 h") == [(None, "green"), (50, "blue")]
    assert _steps("hazard-rainfall", "Rain in 1 h") == [(None, "green")]
    # Hangchangqiao's registry levels: warning 4.5 (blue from 0.3 below), guaranteed 5.0,
    # record 5.5; the Laoshikan reservoir's flood-limit level 128.0 (+0.5 orange).
    assert _steps("hazard-water", "杭长桥 Hangchangqiao (wl-wx-01)") == [
        (None, "green"),
        (4.2, "blue"),
        (4.5, "yellow"),
        (5, "orange"),
        (5.5, "red"),
    ]
    assert _steps("hazard-water", "老石坎水库 Laoshikan reservoir (rs-aj-01)") == [
        (None, "green"),
        (128, "yellow"),
        (128.5, "orange"),
    ]
    assert _steps("hazard-water", "Rate of rise") == [
        (None, "green"),
        (0.2, "blue"),
        (0.5, "yellow"),
    ]
    # Slopes: velocity over 6 h, inverse-velocity hours (lower is worse), tangent angle.
    assert _steps("hazard-slope", "Velocity over 6 h") == [
        (None, "green"),
        (0.1, "blue"),
        (0.5, "yellow"),
        (2, "orange"),
    ]
    assert _steps("hazard-slope", "Forecast hours to failure (inverse velocity)") == [
        (None, "red"),
        (24, "orange"),
        (72, "yellow"),
        (168, "green"),
    ]
    assert _steps("hazard-slope", "Improved tangent angle") == [
        (None, "green"),
        (45, "yellow"),
        (80, "orange"),
        (85, "red"),
    ]
    # Fire danger classes and gas alarm levels (GB/T 50493-2019).
    assert _steps("hazard-fire", "Danger class") == [
        (None, "green"),
        (2, "blue"),
        (3, "yellow"),
        (4, "orange"),
        (5, "red"),
    ]
    assert _steps("hazard-gas", "Combustible gas") == [
        (None, "green"),
        (10, "yellow"),
        (25, "orange"),
        (50, "red"),
    ]
    assert _steps("hazard-gas", "H2S 15 min mean (STEL)") == [(None, "green"), (14.1, "orange")]
    assert _steps("hazard-gas", "Oxygen") == [(None, "orange"), (19.5, "green"), (23.5, "orange")]


@pytest.mark.parametrize("module", ["dashboards.interpolate", "dashboards.thresholds"])
def test_doctests_of_the_generator(module):
    # dashboards/ is outside pytest's testpaths, so its docstring examples run from here.
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted and not result.failed
