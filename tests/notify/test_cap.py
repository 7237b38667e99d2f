"""CAP 1.2 rendering: schema validity, references, mappings, languages, geometry, determinism."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import yaml

from tests.notify.cap_helpers import NS, ROOT, SENSOR, assert_valid, episode, event, ms, settings
from warning.notify.cap.alert import CapSettings, identifier, message_ref, render, render_episode
from warning.notify.cap.terms import HAZARDS
from warning.records import Level

CAP_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
PAIR = r"-?\d+(\.\d+)?,-?\d+(\.\d+)?"


def _text(root, path: str) -> str:
    return root.findtext(path, namespaces=NS)


def test_every_message_of_a_full_episode_validates_against_the_xsd():
    docs = render_episode(episode(), {"rg-1": SENSOR}, settings())
    assert len(docs) == 5
    for xml in docs:
        assert xml.startswith(b"<?xml")
        assert_valid(xml)


def test_msg_types_and_the_references_chain():
    docs = [assert_valid(x) for x in render_episode(episode(), {"rg-1": SENSOR}, settings())]
    assert [_text(d, "cap:msgType") for d in docs] == [
        "Alert",
        "Update",
        "Update",
        "Update",
        "Cancel",
    ]
    assert docs[0].find("cap:references", NS) is None
    for i, doc in enumerate(docs[1:], 1):
        # every earlier message, as sender,identifier,sent, oldest first
        expected = [
            f"{_text(d, 'cap:sender')},{_text(d, 'cap:identifier')},{_text(d, 'cap:sent')}"
            for d in docs[:i]
        ]
        assert _text(doc, "cap:references").split(" ") == expected
    assert len({_text(d, "cap:identifier") for d in docs}) == 5
    assert {_text(d, "cap:incidents") for d in docs} == {"rainstorm.rg-1.20260704T210500Z"}


def test_header_fields_and_times_follow_the_event_not_the_clock():
    s = settings()
    doc = assert_valid(render(event("raised", Level.YELLOW, None, ms(5, 5) + 750), SENSOR, [], s))
    assert _text(doc, "cap:sender") == "hazard-warning@huzhou.example"
    assert _text(doc, "cap:status") == "Actual"
    assert _text(doc, "cap:scope") == "Public"
    # fractional seconds are dropped, the offset is numeric (never Z)
    assert _text(doc, "cap:sent") == "2026-07-05T05:05:00+08:00"
    for info in doc.findall("cap:info", NS):
        assert _text(info, "cap:onset") == "2026-07-05T05:05:00+08:00"
        assert _text(info, "cap:expires") == "2026-07-05T11:05:00+08:00"  # default 6 h
    times = [e.text for e in doc.iter() if e.tag.split("}")[1] in ("sent", "onset", "expires")]
    assert times and all(CAP_TIME.fullmatch(t) for t in times)


def test_validity_per_hazard_and_status_are_configurable():
    s = settings(status="Exercise", validity={"rainstorm": "12h"}, cancel_validity="30m")
    first = assert_valid(render(episode()[0], SENSOR, [], s))
    assert _text(first, "cap:status") == "Exercise"
    assert _text(first, "cap:info/cap:expires") == "2026-07-05T17:05:00+08:00"
    cancel = assert_valid(render(episode()[-1], SENSOR, [], s))
    assert _text(cancel, "cap:info/cap:expires") == "2026-07-05T15:00:00+08:00"


@pytest.mark.parametrize(
    ("kind", "level", "previous", "severity", "response"),
    [
        ("raised", Level.BLUE, None, "Minor", "Monitor"),
        ("raised", Level.YELLOW, None, "Moderate", "Prepare"),
        ("escalated", Level.ORANGE, Level.YELLOW, "Severe", "Execute"),
        ("escalated", Level.RED, Level.ORANGE, "Extreme", "Execute"),
        ("deescalated", Level.YELLOW, Level.RED, "Moderate", "Prepare"),
        # a Cancel carries the severity of the level it cancels, and says all clear
        ("cleared", None, Level.RED, "Extreme", "AllClear"),
    ],
)
def test_severity_follows_the_domain_table(kind, level, previous, severity, response):
    doc = assert_valid(render(event(kind, level, previous, ms(9)), SENSOR, [], settings()))
    for info in doc.findall("cap:info", NS):
        assert _text(info, "cap:severity") == severity
        assert _text(info, "cap:responseType") == response


@pytest.mark.parametrize(
    ("kind", "rule_id", "given", "urgency", "certainty"),
    [
        ("raised", "rainstorm", "Observed", "Immediate", "Observed"),  # observed threshold
        ("raised", "rainstorm", "Possible", "Immediate", "Possible"),  # raised on suspect data
        ("raised", "rainstorm", "bogus", "Immediate", "Unknown"),  # not a CAP certainty
        ("raised", "slope_failure_forecast", "Observed", "Expected", "Likely"),  # a forecast
        ("raised", "slope_failure_forecast", "Possible", "Expected", "Possible"),
        ("cleared", "rainstorm", "Observed", "Past", "Observed"),
    ],
)
def test_urgency_and_certainty(kind, rule_id, given, urgency, certainty):
    level = None if kind == "cleared" else Level.ORANGE
    e = event(
        kind,
        level,
        Level.ORANGE if level is None else None,
        ms(9),
        rule_id=rule_id,
        certainty=given,
    )
    doc = assert_valid(render(e, SENSOR, [], settings()))
    assert _text(doc, "cap:info/cap:urgency") == urgency
    assert _text(doc, "cap:info/cap:certainty") == certainty


def test_zh_and_en_info_blocks():
    doc = assert_valid(render(episode()[2], SENSOR, [], settings()))
    infos = doc.findall("cap:info", NS)
    assert [_text(i, "cap:language") for i in infos] == ["zh-CN", "en"]
    zh, en = infos
    assert _text(zh, "cap:event") == "暴雨预警"
    assert _text(zh, "cap:headline") == "吴兴区暴雨预警升级为红色"
    assert "I级应急响应" in _text(zh, "cap:description")
    assert "吴兴雨量站：3小时雨量58毫米" in _text(zh, "cap:description")  # the rule's message
    assert "3小时雨量57.5毫米" in _text(zh, "cap:description")
    assert _text(zh, "cap:instruction") == "检查排水设施和下穿通道。"
    assert _text(en, "cap:headline") == "Rainstorm warning for Wuxing District raised to red"
    assert "Wuxing gauge: 58 mm in 3 h" in _text(en, "cap:description")
    assert "rain in 3 h 57.5 mm" in _text(en, "cap:description")
    assert _text(en, "cap:instruction") == "Check drains and underpasses."
    # Each block in its own language: no English in the Chinese one, no Chinese in the other.
    for key in ("headline", "description", "instruction", "areaDesc"):
        zh_text = "".join(x.text for x in zh.iter(f"{{{NS['cap']}}}{key}"))
        en_text = "".join(x.text for x in en.iter(f"{{{NS['cap']}}}{key}"))
        assert not re.search(r"[A-Za-z]{3,}", zh_text), zh_text
        assert not re.search(r"[\u4e00-\u9fff]", en_text), en_text


def test_an_event_without_texts_keeps_english_out_of_the_chinese_block():
    e = replace(episode()[2], texts={})
    zh, en = assert_valid(render(e, SENSOR, [], settings())).findall("cap:info", NS)
    assert "58 mm" not in _text(zh, "cap:description")
    assert _text(zh, "cap:instruction") == "请按I级应急响应预案处置。"
    assert _text(en, "cap:instruction") == "Check drains and underpasses."
    assert _text(zh, "cap:senderName") == "湖州市应急管理局"
    params = {
        _text(p, "cap:valueName"): _text(p, "cap:value") for p in en.findall("cap:parameter", NS)
    }
    assert params["warning_id"] == "rainstorm/rg-1/20260704T210500Z"
    assert params["level"] == "red" and params["previous_level"] == "orange"
    assert params["response_level"] == "I" and params["rule_id"] == "rainstorm"


@pytest.mark.parametrize(
    ("hazard", "categories", "zh"),
    [
        ("rainstorm", ["Met"], "暴雨预警"),
        ("flood", ["Met"], "洪水预警"),
        ("landslide", ["Geo"], "地质灾害预警"),
        ("forest_fire", ["Fire"], "森林火险预警"),
        ("gas_leak", ["Safety", "Env"], "危化品气体泄漏预警"),
        ("sensor_silence", ["Infra"], "传感器静默预警"),
        ("sensor_fault", ["Infra"], "传感器故障预警"),
        ("locust_swarm", ["Other"], "locust swarm预警"),  # unknown: named after its id
    ],
)
def test_categories_by_hazard(hazard, categories, zh):
    doc = assert_valid(
        render(event("raised", Level.BLUE, None, ms(9), hazard=hazard), SENSOR, [], settings())
    )
    info = doc.find("cap:info", NS)
    assert [c.text for c in info.findall("cap:category", NS)] == categories
    assert _text(info, "cap:event") == zh


def test_every_hazard_of_the_shipped_rules_has_cap_terms():
    hazards = set()
    for path in (ROOT / "rules").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        hazards |= {r["hazard"] for r in doc.get("rules") or [] if "hazard" in r}
    assert hazards, "no hazards found in rules/"
    assert hazards <= set(HAZARDS), hazards - set(HAZARDS)


def test_area_has_a_circle_from_the_sensor_and_the_region_polygon():
    doc = assert_valid(render(episode()[0], SENSOR, [], settings(radius_km={"rainstorm": 8})))
    for area in doc.findall("cap:info/cap:area", NS):
        circle = _text(area, "cap:circle")
        assert re.fullmatch(PAIR + r" \d+(\.\d+)?", circle)
        assert circle == "30.87,120.09 8"
        points = _text(area, "cap:polygon").split(" ")
        assert len(points) >= 4 and points[0] == points[-1]
        assert all(re.fullmatch(PAIR, p) for p in points)
        geocodes = {
            _text(g, "cap:valueName"): _text(g, "cap:value")
            for g in area.findall("cap:geocode", NS)
        }
        assert geocodes == {"region": "wuxing", "GB/T 2260": "330502"}
    zh, en = (_text(a, "cap:areaDesc") for a in doc.findall("cap:info/cap:area", NS))
    assert (zh, en) == ("吴兴区 吴兴雨量站", "Wuxing gauge, Wuxing District")


def test_a_subject_without_coordinates_or_polygon_still_validates():
    e = replace(episode()[0], subject="zone-7", region="somewhere", texts={})
    doc = assert_valid(render(e, None, [], CapSettings()))
    area = doc.find("cap:info/cap:area", NS)
    assert area.find("cap:circle", NS) is None and area.find("cap:polygon", NS) is None
    assert _text(area, "cap:areaDesc") == "somewhere zone-7"


def test_same_events_give_the_same_bytes():
    first = render_episode(episode(), {"rg-1": SENSOR}, settings())
    again = render_episode(episode(), {"rg-1": dict(SENSOR)}, settings())
    assert first == again


def test_identifiers_are_safe_and_distinct():
    e = replace(episode()[0], warning_id="rule x/sensor,1&<2/20260704T210500Z")
    ident = identifier(e)
    assert re.fullmatch(r"[A-Za-z0-9._-]+", ident)
    other = replace(e, warning_id="rule_x/sensor_1__2/20260704T210500Z")
    assert identifier(other) != ident
    assert (
        message_ref(e, CapSettings()).text()
        == f"hazard-warning@huzhou.example,{ident},2026-07-05T05:05:00+08:00"
    )
    assert_valid(render(e, SENSOR, [], CapSettings()))


@pytest.mark.parametrize(
    ("kw", "words"),
    [
        ({"status": "Draft"}, "found 'Draft'"),
        ({"sender": "two words"}, "found 'two words'"),
        ({"sender": "a,b"}, "found 'a,b'"),
        ({"default_radius_km": 0}, "found 0"),
        ({"validity": {"rainstorm": "soon"}}, "found 'soon'"),
    ],
)
def test_settings_say_what_was_expected_and_found(kw, words):
    with pytest.raises(ValueError, match=words):
        CapSettings(**kw)


def test_an_unknown_event_is_refused():
    with pytest.raises(ValueError, match="found 'acknowledged'"):
        render(replace(episode()[0], event="acknowledged"), SENSOR, [], CapSettings())
