"""Shared material for the CAP tests: a hand-made rainstorm episode and the shipped schema."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from lxml import etree

from warning.notify.cap.alert import SCHEMA, CapSettings
from warning.notify.cap.regions import load_regions
from warning.records import Level, WarningEvent

ROOT = Path(__file__).parents[2]
NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2", "atom": "http://www.w3.org/2005/Atom"}
TZ = timezone(timedelta(hours=8))
WID = "rainstorm/rg-1/20260704T210500Z"
SENSOR = {
    "id": "rg-1",
    "kind": "rainfall",
    "name": "Wuxing gauge",
    "region": "wuxing",
    "lat": 30.87,
    "lon": 120.09,
}


def ms(hh: int, mm: int = 0) -> int:
    """Epoch ms of 2026-07-05 hh:mm at +08:00."""
    return int(datetime(2026, 7, 5, hh, mm, tzinfo=TZ).timestamp() * 1000)


def event(
    kind: str,
    level: Level | None,
    previous: Level | None,
    at: int,
    *,
    wid: str = WID,
    rule_id: str = "rainstorm",
    hazard: str = "rainstorm",
    subject: str = "rg-1",
    certainty: str = "Observed",
) -> WarningEvent:
    texts = {
        "zh-CN": {
            "message": "吴兴雨量站：3小时雨量58毫米",
            "place": "吴兴雨量站",
            "instruction": "检查排水设施和下穿通道。" if level else "",
            "labels": {"rain_3h_mm": "3小时雨量"},
            "units": {"rain_3h_mm": "毫米"},
        },
        "en": {
            "message": "Wuxing gauge: 58 mm in 3 h",
            "place": "Wuxing gauge",
            "instruction": "Check drains and underpasses." if level else "",
            "labels": {"rain_3h_mm": "rain in 3 h"},
            "units": {"rain_3h_mm": "mm"},
        },
    }
    return WarningEvent(
        wid,
        kind,
        rule_id,
        hazard,
        level,
        previous,
        subject,
        "wuxing",
        at,
        {"rain_3h_mm": 57.5},
        "Wuxing gauge: 58 mm in 3 h",
        "Check drains and underpasses." if level else "",
        certainty,
        texts=texts,
    )


def episode() -> list[WarningEvent]:
    """Raised yellow, escalated orange, escalated red, deescalated orange, cleared."""
    y, o, r = Level.YELLOW, Level.ORANGE, Level.RED
    return [
        event("raised", y, None, ms(5, 5)),
        event("escalated", o, y, ms(7, 15)),
        event("escalated", r, o, ms(8, 15)),
        event("deescalated", o, r, ms(12)),
        event("cleared", None, o, ms(14, 30)),
    ]


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def assert_valid(xml: bytes) -> etree._Element:
    """Parse a CAP document, assert it validates against the shipped XSD, return its root."""
    root = etree.fromstring(xml)
    assert schema().validate(root), schema().error_log
    return root


def settings(**kw) -> CapSettings:
    return CapSettings(regions=load_regions(ROOT / "deploy" / "regions.yaml"), **kw)
