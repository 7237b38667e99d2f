"""Area warnings downstream: InfluxDB tag, wire form, routing by area, CAP polygon."""

from __future__ import annotations

from pathlib import Path

from tests.notify.helpers import routing_file
from warning.notify.cap.alert import CapSettings, render
from warning.notify.cap.regions import load_regions
from warning.notify.router import labels_of, matching_routes
from warning.notify.routing_file import load_routing
from warning.notify.service import event_from_wire
from warning.records import Level, WarningEvent
from warning.registry import Area, Registry
from warning.sinks.lineproto import warning_line

ROOT = Path(__file__).parents[2]
RING = ((30.99, 119.95), (30.99, 119.97), (30.98, 119.97), (30.98, 119.95), (30.99, 119.95))
REGISTRY = Registry(
    {
        "gs-1": {
            "id": "gs-1",
            "kind": "gas",
            "region": "changxing",
            "name": "Detector A",
            "lat": 30.99,
            "lon": 119.96,
        }
    },
    groups={"unit1": Area("unit1", "Unit 1", frozenset({"gs-1"}), "changxing", RING)},
)


def event(subject: str, area: str = "", region: str = "changxing") -> WarningEvent:
    return WarningEvent(
        f"gas_unit/{subject}/20260915T010000Z",
        "raised",
        "gas_unit",
        "gas_leak_unit",
        Level.ORANGE,
        None,
        subject,
        region,
        1789434000000,
        {"detectors_25": 2.0},
        "Unit 1: two detectors agree",
        "",
        "Observed",
        area=area,
    )


def test_influx_line_carries_the_area_as_a_tag():
    line = warning_line(event("unit1", area="unit1"))
    assert line.startswith("warning,area=unit1,rule_id=gas_unit,")
    assert ",subject=unit1," in line and "v_detectors_25=2.0" in line
    assert not warning_line(event("gs-1")).split(" ")[0].count("area=")


def test_wire_form_keeps_the_area():
    from zoneinfo import ZoneInfo

    wire = event("unit1", area="unit1").to_dict(ZoneInfo("Asia/Shanghai"))
    assert wire["area"] == "unit1" and wire["subject"] == "unit1"
    assert event_from_wire(wire).area == "unit1"
    assert "area" not in event("gs-1").to_dict(ZoneInfo("Asia/Shanghai"))


def test_routing_matches_an_area(tmp_path):
    text = (
        routing_file(tmp_path, 1234)
        .read_text()
        .replace(
            "    - match: {hazard: sensor_fault}\n      receiver: maint\n",
            "    - match: {hazard: sensor_fault}\n      receiver: maint\n"
            "    - match: {area: unit1}\n      receiver: leader\n",
        )
    )
    path = tmp_path / "area-routing.yaml"
    path.write_text(text)
    route = load_routing(path).route
    area_event = event("unit1", area="unit1")
    got = matching_routes(route, labels_of(area_event, {}), Level.ORANGE)
    assert [r.receiver for r in got] == ["leader"]
    sensor_event = event("gs-1")
    assert [
        r.receiver for r in matching_routes(route, labels_of(sensor_event, {}), Level.ORANGE)
    ] != ["leader"]


def test_cap_area_is_the_group_polygon_else_the_region_polygon():
    settings = CapSettings(regions=load_regions(ROOT / "deploy" / "regions.yaml"))
    unit = render(
        event("unit1", area="unit1"), REGISTRY.subject_attrs("unit1"), [], settings
    ).decode()
    assert (
        "<polygon>30.99,119.95 30.99,119.97 30.98,119.97 30.98,119.95 30.99,119.95"
        "</polygon>" in unit
    )
    assert "Unit 1" in unit and "<circle>" not in unit
    county = Registry({"g": {"id": "g", "kind": "rainfall", "region": "anji"}})
    anji = render(
        event("anji", area="anji", region="anji"), county.subject_attrs("anji"), [], settings
    ).decode()
    polygon = " ".join(f"{a:g},{b:g}" for a, b in settings.regions["anji"].polygon)
    assert f"<polygon>{polygon}</polygon>" in anji
