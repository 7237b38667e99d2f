"""Every dashboard against Grafana's published schema for the targeted version (11.6).

The schema is grafana-foundation-sdk's JSON schema for the Grafana version whose SDK build
generates the dashboards; panel options, field-config options, transformation ids, queries
and geomap layers are each checked against the part of it that applies (dashboards/schema.py).
"""

from __future__ import annotations

import copy
import importlib.metadata
from pathlib import Path

import pytest
import yaml

from dashboards import schema
from tests.dashboards.dashboard_files import ROOT, load_boards

BOARDS = load_boards()


def _panels(board):
    return [p for p in board["panels"] if p["type"] != "row"]


@pytest.mark.parametrize("name", BOARDS)
def test_dashboard_passes_the_published_schema(name):
    assert schema.problems(BOARDS[name]) == []


def test_every_panel_type_transformation_and_option_used_exists_in_the_schema():
    kinds = schema.panel_kinds()
    transformations = set(schema.grafana_ids()["transformations"])
    used_kinds, used_transformations, used_options = set(), set(), set()
    for board in BOARDS.values():
        for p in _panels(board):
            used_kinds.add(p["type"])
            assert p["type"] in kinds, p["type"]
            for t in p.get("transformations", []):
                used_transformations.add(t["id"])
                assert t["id"] in transformations, (p["title"], t["id"])
            allowed = schema.field_config_ids(p["type"])
            defaults = p["fieldConfig"]["defaults"]
            options = {k for k in defaults if k != "custom"}
            options |= {f"custom.{k}" for k in defaults.get("custom", {})}
            options |= {
                prop["id"] for o in p["fieldConfig"]["overrides"] for prop in o["properties"]
            }
            assert options <= allowed, (p["title"], options - allowed)
            used_options |= options
    # The check saw what the dashboards use (a vacuous pass would prove nothing).
    assert {"timeseries", "stat", "table", "geomap", "barchart", "state-timeline"} <= used_kinds
    assert {
        "organize",
        "joinByField",
        "groupBy",
        "calculateField",
        "sortBy",
    } <= used_transformations
    assert {
        "unit",
        "thresholds",
        "mappings",
        "color",
        "custom.cellOptions",
        "custom.drawStyle",
    } <= used_options


def _first(name, kind):
    return next(p for p in BOARDS[name]["panels"] if p["type"] == kind)


def _broken(mutate, name="overview"):
    board = copy.deepcopy(BOARDS[name])
    mutate(board)
    return schema.problems(board)


def test_an_unknown_key_fails():
    found = _broken(lambda b: b.update(refreshh="1m"))
    assert any("'refreshh' was unexpected" in f for f in found), found
    found = _broken(lambda b: _first_panel(b, "table")["options"].update(showHeaders=True))
    assert any(".options" in f and "'showHeaders' was unexpected" in f for f in found), found


def _first_panel(board, kind):
    return next(p for p in board["panels"] if p["type"] == kind)


def test_a_wrong_type_fails():
    found = _broken(lambda b: _first_panel(b, "stat")["options"].update(wideLayout="yes"))
    assert any(f.endswith("options.wideLayout: 'yes' is not of type 'boolean'") for f in found), (
        found
    )
    found = _broken(lambda b: b["panels"][0]["gridPos"].update(w="24"))
    assert any("gridPos.w" in f for f in found), found


def test_a_misnamed_field_config_option_fails():
    def misname(b):
        custom = _first_panel(b, "table")["fieldConfig"]["defaults"]["custom"]
        custom["cellOption"] = custom.pop("cellOptions")

    found = _broken(misname)
    assert any("custom" in f and "'cellOption' was unexpected" in f for f in found), found
    found = _broken(
        lambda b: _first_panel(b, "table")["fieldConfig"]["overrides"][0]["properties"].append(
            {"id": "custom.cellOption", "value": {"type": "auto"}}
        )
    )
    assert any("'custom.cellOption' is not a field-config option" in f for f in found), found

    # A value outside the option's enumeration (Grafana 10 renamed color-background).
    def old_value(b):
        props = _first_panel(b, "table")["fieldConfig"]["overrides"][0]["properties"]
        next(p for p in props if p["id"] == "custom.cellOptions")["value"] = {
            "type": "colored-background"
        }

    found = _broken(old_value)
    assert found and all("overrides[0].properties[3].value" in f for f in found), found


def test_an_override_value_of_the_wrong_shape_fails():
    found = _broken(
        lambda b: _first_panel(b, "table")["fieldConfig"]["overrides"][0]["properties"].append(
            {"id": "thresholds", "value": {"mode": "absolute", "steps": [{"value": 1}]}}
        )
    )
    assert any("'color' is a required property" in f for f in found), found


def test_an_unknown_transformation_or_panel_type_fails():
    found = _broken(
        lambda b: _first_panel(b, "table")["transformations"].append(
            {"id": "organise", "options": {}}
        )
    )
    assert any("'organise' is not a transformation" in f for f in found), found
    found = _broken(lambda b: _first_panel(b, "barchart").update(type="bar-chart"))
    assert any("'bar-chart' is not a panel type" in f for f in found), found


def test_queries_and_geomap_layers_are_checked():
    found = _broken(lambda b: _first_panel(b, "table")["targets"][0].update(rawQuery="true"))
    assert any("targets[0].rawQuery" in f for f in found), found
    found = _broken(
        lambda b: _first_panel(b, "geomap")["options"]["layers"][1]["config"]["style"][
            "rotation"
        ].pop("min")
    )
    assert any(
        "layers[1].config.style.rotation: 'min' is a required property" in f for f in found
    ), found
    found = _broken(
        lambda b: _first_panel(b, "geomap")["options"]["layers"][0].update(type="heatmapp")
    )
    assert any("no schema for geomap layer 'heatmapp'" in f for f in found), found
    found = _broken(lambda b: b["annotations"]["list"][1]["target"].pop("query"))
    assert any("'query' is a required property" in f for f in found), found
    found = _broken(
        lambda b: _first_panel(b, "timeseries")["targets"][0].update(expr=1), name="pipeline-health"
    )
    assert any("targets[0].expr: 1 is not of type 'string'" in f for f in found), found


def test_the_grafana_version_is_pinned_everywhere():
    version = schema.GRAFANA_VERSION
    sdk = importlib.metadata.version("grafana-foundation-sdk")
    assert sdk.endswith(f"!{version}.0"), sdk  # the SDK build for that Grafana version
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"grafana-foundation-sdk=={sdk}"' in pyproject
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    image = compose["services"]["grafana"]["image"]
    assert image.startswith(f"grafana/grafana-oss:{version}."), image
    provider = ROOT / "dashboards" / "provisioning" / "dashboards" / "hazard.yaml"
    assert f"Grafana {version}" in provider.read_text(encoding="utf-8")
    assert f"Grafana {version}" in (ROOT / "docs" / "DASHBOARDS.md").read_text(encoding="utf-8")
    assert Path(schema.VERSION_DIR).name == f"grafana-{version}"
    assert (schema.VERSION_DIR / "LICENSE").exists()


def test_the_generator_writes_nothing_when_a_dashboard_fails_the_schema(monkeypatch, capsys):
    from dashboards import generate

    bad = copy.deepcopy(BOARDS["overview"])
    bad["refreshh"] = "1m"
    monkeypatch.setattr(generate, "build_all", lambda *a, **k: {"overview": bad})
    monkeypatch.setattr(generate, "outputs", lambda *a, **k: pytest.fail("files written"))
    assert generate.main([]) == 1
    err = capsys.readouterr().err
    assert "schema (Grafana 11.6): overview.json: " in err and "'refreshh'" in err, err
