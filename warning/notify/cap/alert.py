"""Render warning events as CAP 1.2 alerts: one message per lifecycle event of an episode.

An episode is the sequence of events with the same ``warning_id``: ``raised`` is an Alert,
``escalated`` and ``deescalated`` are Updates and ``cleared`` is a Cancel; Updates and the
Cancel reference every earlier message of the episode. Everything is derived from the event
(``sent`` is the event time, not the wall clock), so the same events give the same bytes in
backtest and live. Each alert has a ``zh-CN`` and an ``en`` info block.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from warning.notify.cap.regions import Region
from warning.notify.cap.terms import (
    CERTAINTIES,
    LEVEL_ZH,
    REGION_NAMES,
    RESPONSE,
    RESPONSE_TYPE,
    hazard,
    headline_en,
    headline_zh,
)
from warning.records import CAP_SEVERITY, WarningEvent, parse_duration_ms, zone
from warning.registry import place_name

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA = Path(__file__).parent / "schemas" / "CAP-v1.2.xsd"
MSG_TYPES = {
    "raised": "Alert",
    "escalated": "Update",
    "deescalated": "Update",
    "confirmed": "Update",
    "cleared": "Cancel",
}
STATUSES = ("Actual", "Exercise", "Test")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_FORBIDDEN_SENDER = re.compile(r"[\s,<&]")


class MessageRef(NamedTuple):
    """What a later message quotes of an earlier one in ``references``."""

    sender: str
    identifier: str
    sent: str

    def text(self) -> str:
        """Return the CAP form ``sender,identifier,sent``."""
        return f"{self.sender},{self.identifier},{self.sent}"


@dataclass(frozen=True)
class CapSettings:
    """Who sends the alerts and how long and how wide they hold, per hazard."""

    sender: str = "hazard-warning@huzhou.example"
    sender_name_zh: str = "湖州市应急管理局"
    sender_name_en: str = "Huzhou Emergency Management Bureau"
    status: str = "Actual"  # Exercise or Test for drills
    tz: str = "Asia/Shanghai"
    default_validity: str = "6h"  # expires = onset + validity
    validity: Mapping[str, str] = field(default_factory=dict)  # by hazard
    cancel_validity: str = "1h"  # how long a Cancel stays valid
    default_radius_km: float = 5.0
    radius_km: Mapping[str, float] = field(default_factory=dict)  # by hazard
    forecast_rules: tuple[str, ...] = ("slope_failure_forecast",)  # urgency Expected
    web: str = ""  # e.g. "https://alerts.example/cap/alerts/{identifier}.xml"
    regions: Mapping[str, Region] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Reject settings that would make an invalid alert."""
        if self.status not in STATUSES:
            msg = f"CAP status must be one of {', '.join(STATUSES)}; found {self.status!r}"
            raise ValueError(msg)
        if not self.sender or _FORBIDDEN_SENDER.search(self.sender):
            msg = (
                f"CAP sender must be non-empty without spaces, commas, < or &; "
                f"found {self.sender!r}"
            )
            raise ValueError(msg)
        for duration in (self.default_validity, self.cancel_validity, *self.validity.values()):
            parse_duration_ms(duration)
        for radius in (self.default_radius_km, *self.radius_km.values()):
            if not isinstance(radius, int | float) or radius <= 0:
                msg = f"CAP circle radius must be a positive number of km; found {radius!r}"
                raise ValueError(msg)

    def valid_ms(self, event: WarningEvent) -> int:
        """Return how long the message for ``event`` is valid, in milliseconds."""
        if event.event == "cleared":
            return parse_duration_ms(self.cancel_validity)
        return parse_duration_ms(self.validity.get(event.hazard, self.default_validity))


def cap_time(ts_ms: int, tz: Any) -> str:
    """Format epoch milliseconds as a CAP date-time: seconds, numeric offset, never ``Z``.

    >>> cap_time(1783231200999, zone("Asia/Shanghai")), cap_time(0, zone("UTC"))
    ('2026-07-05T14:00:00+08:00', '1970-01-01T00:00:00+00:00')
    """
    return datetime.fromtimestamp(ts_ms // 1000, tz).isoformat(timespec="seconds")


def identifier(event: WarningEvent) -> str:
    """Name the message of an event from its warning id, event and time (URL- and CAP-safe).

    >>> from warning.records import Level
    >>> identifier(WarningEvent("rainstorm/rg-1/20260705T050500Z", "raised", "rainstorm",
    ...     "rainstorm", Level.YELLOW, None, "rg-1", "wuxing", 1783227900000))
    'rainstorm.rg-1.20260705T050500Z.raised.20260705T050500Z'
    """
    stamp = datetime.fromtimestamp(event.ts // 1000, UTC).strftime("%Y%m%dT%H%M%S")
    stamp += f".{event.ts % 1000:03d}Z" if event.ts % 1000 else "Z"
    raw = f"{event.warning_id.replace('/', '.')}.{event.event}.{stamp}"
    safe = _UNSAFE.sub("_", raw)
    if safe != raw:  # keep distinct ids distinct after replacing characters
        digest = hashlib.sha1(f"{event.warning_id}|{event.event}|{event.ts}".encode())
        safe += "." + digest.hexdigest()[:8]
    return safe


def message_ref(event: WarningEvent, settings: CapSettings) -> MessageRef:
    """Return the reference to the message rendered for ``event``."""
    return MessageRef(settings.sender, identifier(event), cap_time(event.ts, zone(settings.tz)))


def expires_ms(event: WarningEvent, settings: CapSettings) -> int:
    """Return when the message for ``event`` expires (epoch milliseconds)."""
    return event.ts // 1000 * 1000 + settings.valid_ms(event)


def _num(x: float) -> str:
    return f"{x:.5f}".rstrip("0").rstrip(".")


def _values(values: Mapping[str, float | None]) -> str:
    parts = [f"{k}={'n/a' if v is None else format(v, '.4g')}" for k, v in values.items()]
    return ", ".join(parts) or "n/a"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _pair(parent: ET.Element, tag: str, name: str, value: str) -> None:
    el = _sub(parent, tag)
    _sub(el, "valueName", name)
    _sub(el, "value", value)


def urgency(event: WarningEvent, settings: CapSettings) -> str:
    """Return Past for a cancel, Expected for a forecast rule or level, else Immediate."""
    if event.event == "cleared":
        return "Past"
    return (
        "Expected"
        if event.rule_id in settings.forecast_rules or event.certainty == "Likely"
        else "Immediate"
    )


def certainty(event: WarningEvent, settings: CapSettings) -> str:
    """Return the event's certainty; a forecast is Likely unless the data were suspect."""
    value = event.certainty if event.certainty in CERTAINTIES else "Unknown"
    if event.rule_id in settings.forecast_rules and value == "Observed":
        return "Likely"
    return value


def severity(event: WarningEvent) -> str:
    """Return the DOMAIN.md severity of the level (of the level cancelled, for a Cancel)."""
    level = event.level if event.level is not None else event.previous_level
    return CAP_SEVERITY[level] if level is not None else "Unknown"


class _Place(NamedTuple):
    names: dict[str, str]  # the sensor's display name per language
    region: Region
    lat: float | None
    lon: float | None


def _place(event: WarningEvent, sensor: Mapping[str, Any] | None, settings: CapSettings) -> _Place:
    sensor = sensor or {}
    rid = str(event.region or sensor.get("region") or "unknown")
    zh, en = REGION_NAMES.get(rid, (rid, rid))
    region = settings.regions.get(rid) or Region(rid)
    polygon = sensor.get("polygon")  # an area's own outline (a registry group) comes first
    region = Region(
        rid,
        region.name_zh or zh,
        region.name_en or en,
        region.code,
        tuple(polygon) if polygon else region.polygon,
    )
    lat, lon = _coordinate(sensor.get("lat")), _coordinate(sensor.get("lon"))
    ok = lat is not None and lon is not None
    names = {
        lang: str(
            (event.texts.get(lang) or {}).get("place") or place_name(sensor, event.subject, lang)
        )
        for lang in ("zh-CN", "en")
    }
    return _Place(names, region, lat if ok else None, lon if ok else None)


def _coordinate(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _measured(event: WarningEvent, lang: str) -> str:
    """Return the event's labelled values in ``lang``; events without labels list their keys."""
    texts = event.texts.get(lang) or {}
    labels, units = texts.get("labels") or {}, texts.get("units") or {}
    if not labels:
        return _values(event.values)
    parts = []
    for k, v in event.values.items():
        if k in labels:
            shown = "n/a" if v is None else format(v, ".4g")
            parts.append(
                f"{labels[k]}{'' if lang == 'zh-CN' else ' '}{shown}"
                f"{'' if lang == 'zh-CN' else ' '}{units.get(k, '')}".rstrip()
            )
    return ("，" if lang == "zh-CN" else ", ").join(parts) or "n/a"


def _own(event: WarningEvent, lang: str, key: str) -> str:
    """Return an event's text in ``lang``; an event without texts has the English one only."""
    if event.texts:
        return str((event.texts.get(lang) or {}).get(key) or "").strip()
    return getattr(event, key).strip() if lang == "en" else ""


def _texts(event: WarningEvent, place: _Place, tz: Any) -> dict[str, dict[str, str]]:
    """Return headline, description and instruction in each language, each in its own."""
    hz = hazard(event.hazard)
    lv, prev = event.level, event.previous_level
    when = datetime.fromtimestamp(event.ts // 1000, tz).strftime("%Y-%m-%d %H:%M")
    name_zh, name_en = place.names["zh-CN"], place.names["en"]
    where_zh = f"{place.region.name_zh}{name_zh}"
    withdrawn = event.event == "cleared" and bool((event.texts.get("en") or {}).get("withdrawn"))
    if event.event == "cleared" or lv is None:
        state = headline_zh("cleared", hz, None, prev, "")
        desc_zh = f"{when}，{where_zh}{state}，预警条件已不再满足。"
        instr_zh = "预警解除，恢复常态监测。"
        desc_en = f"{hz.en} warning at {name_en} lifted at {when}."
        instr_en = "The warning is lifted; return to routine monitoring."
        if withdrawn:  # it rested on a reading named a sensor fault
            desc_zh = f"{when}，{where_zh}{hz.zh}预警撤销：{_own(event, 'zh-CN', 'withdrawn')}。"
            desc_en = (
                f"{hz.en} warning at {name_en} withdrawn at {when}: "
                f"{_own(event, 'en', 'withdrawn')}."
            )
            instr_zh = "该预警所依据的数据系传感器故障，已撤销，恢复常态监测。"
            instr_en = "The warning rested on a sensor fault and is withdrawn; return to routine monitoring."
    else:
        resp = RESPONSE[lv]
        was = LEVEL_ZH[prev] if prev is not None else ""
        state = {
            "raised": f"发布{hz.zh}{LEVEL_ZH[lv]}预警",
            "escalated": f"{hz.zh}预警由{was}升级为{LEVEL_ZH[lv]}",
            "deescalated": f"{hz.zh}预警由{was}降级为{LEVEL_ZH[lv]}",
            "confirmed": f"{hz.zh}{LEVEL_ZH[lv]}预警经实测确认",
        }.get(event.event, f"{hz.zh}{LEVEL_ZH[lv]}预警")
        desc_zh = f"{when}，{where_zh}{state}，对应{resp}级应急响应。"
        instr_zh = _own(event, "zh-CN", "instruction") or f"请按{resp}级应急响应预案处置。"
        desc_en = (
            f"{lv.colour.capitalize()} {hz.en.lower()} warning at {name_en}, level {resp} response."
        )
        instr_en = _own(event, "en", "instruction") or f"Follow the level {resp} response plan."
    message_zh, message_en = _own(event, "zh-CN", "message"), _own(event, "en", "message")
    if withdrawn:  # the description says why; the message would say it again
        message_zh = message_en = ""
    if message_zh:
        desc_zh += message_zh + ("" if message_zh.endswith(("。", "！", "？")) else "。")
    desc_zh += f"监测值（{when}）：{_measured(event, 'zh-CN')}。"
    if message_en:
        desc_en += f" {message_en}" + ("" if message_en.endswith((".", "!", "?")) else ".")
    desc_en += f" Measured at {when}: {_measured(event, 'en')}."
    if event.certainty == "Possible":
        why = {
            lang: str((event.texts.get(lang) or {}).get("suspect") or "")
            for lang in ("zh-CN", "en")
        }
        desc_zh += f"可能性：{why['zh-CN'] or '读数存疑'}。"
        desc_en += f" Certainty Possible: {why['en'] or 'suspect reading'}."
    return {
        "zh-CN": {
            "headline": headline_zh(
                "withdrawn" if withdrawn else event.event, hz, lv, prev, place.region.name_zh
            ),
            "description": desc_zh,
            "instruction": instr_zh,
            "event": f"{hz.zh}预警",
            "areaDesc": f"{place.region.name_zh} {name_zh}",
        },
        "en": {
            "headline": headline_en(
                "withdrawn" if withdrawn else event.event, hz, lv, prev, place.region.name_en
            ),
            "description": desc_en,
            "instruction": instr_en,
            "event": f"{hz.en} warning",
            "areaDesc": f"{name_en}, {place.region.name_en}",
        },
    }


def _info(
    alert: ET.Element,
    lang: str,
    texts: Mapping[str, str],
    event: WarningEvent,
    place: _Place,
    settings: CapSettings,
    ident: str,
) -> None:
    tz = zone(settings.tz)
    hz = hazard(event.hazard)
    info = _sub(alert, "info")
    _sub(info, "language", lang)
    for category in hz.categories:
        _sub(info, "category", category)
    _sub(info, "event", texts["event"])
    if event.event == "cleared" or event.level is None:
        _sub(info, "responseType", "AllClear")
    else:
        infra = "Infra" in hz.categories
        _sub(info, "responseType", "Assess" if infra else RESPONSE_TYPE[event.level])
    _sub(info, "urgency", urgency(event, settings))
    _sub(info, "severity", severity(event))
    _sub(info, "certainty", certainty(event, settings))
    _sub(info, "onset", cap_time(event.ts, tz))
    _sub(info, "expires", cap_time(expires_ms(event, settings), tz))
    _sub(
        info, "senderName", settings.sender_name_zh if lang == "zh-CN" else settings.sender_name_en
    )
    for key in ("headline", "description", "instruction"):
        _sub(info, key, texts[key])
    if settings.web:
        _sub(info, "web", settings.web.format(identifier=ident))
    params = [
        ("warning_id", event.warning_id),
        ("rule_id", event.rule_id),
        ("lifecycle_event", event.event),
        ("subject", event.subject),
    ]
    if event.level is not None:
        params += [("level", event.level.colour), ("response_level", RESPONSE[event.level])]
    if event.previous_level is not None:
        params.append(("previous_level", event.previous_level.colour))
    params += [
        (f"value:{k}", "n/a" if v is None else format(v, "g")) for k, v in event.values.items()
    ]
    for name, value in params:
        _pair(info, "parameter", name, value)
    area = _sub(info, "area")
    _sub(area, "areaDesc", texts["areaDesc"])
    if len(place.region.polygon) >= 4:
        _sub(area, "polygon", " ".join(f"{_num(a)},{_num(b)}" for a, b in place.region.polygon))
    if place.lat is not None and place.lon is not None:
        radius = settings.radius_km.get(event.hazard, settings.default_radius_km)
        _sub(area, "circle", f"{_num(place.lat)},{_num(place.lon)} {_num(radius)}")
    _pair(area, "geocode", "region", place.region.id)
    if place.region.code:
        _pair(area, "geocode", "GB/T 2260", place.region.code)


def render(
    event: WarningEvent,
    sensor: Mapping[str, Any] | None,
    earlier: Sequence[MessageRef],
    settings: CapSettings,
) -> bytes:
    """Return the CAP 1.2 XML (UTF-8) for one event, referencing the episode's earlier messages.

    ``sensor`` holds the registry attributes of the event's subject (name, region, lat, lon);
    None for a subject that is not a sensor.
    """
    if event.event not in MSG_TYPES:
        msg = f"event must be one of {', '.join(MSG_TYPES)}; found {event.event!r}"
        raise ValueError(msg)
    tz = zone(settings.tz)
    ident = identifier(event)
    place = _place(event, sensor, settings)
    alert = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(alert, "identifier", ident)
    _sub(alert, "sender", settings.sender)
    _sub(alert, "sent", cap_time(event.ts, tz))
    _sub(alert, "status", settings.status)
    _sub(alert, "msgType", MSG_TYPES[event.event])
    _sub(alert, "scope", "Public")
    if earlier and event.event != "raised":
        _sub(alert, "references", " ".join(ref.text() for ref in earlier))
    _sub(alert, "incidents", _UNSAFE.sub("_", event.warning_id.replace("/", ".")))
    for lang, texts in _texts(event, place, tz).items():
        _info(alert, lang, texts, event, place, settings, ident)
    ET.indent(alert, space="  ")
    # Serialising to text and encoding once is ~5x faster than ElementTree's byte writer.
    text = ET.tostring(alert, encoding="unicode", default_namespace=CAP_NS)
    return f"<?xml version='1.0' encoding='UTF-8'?>\n{text}\n".encode()


def render_episode(
    events: Iterable[WarningEvent], sensors: Mapping[str, Mapping[str, Any]], settings: CapSettings
) -> list[bytes]:
    """Render events in order, each Update and Cancel referencing its episode's earlier ones."""
    refs: dict[str, list[MessageRef]] = {}
    out = []
    for event in events:
        earlier = refs.setdefault(event.warning_id, [])
        out.append(render(event, sensors.get(event.subject), earlier, settings))
        earlier.append(message_ref(event, settings))
    return out
