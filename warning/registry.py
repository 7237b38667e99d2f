"""The sensor registry: who each sensor is, where it stands, and its per-station thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warning.kinds import BUILTIN_KINDS, Kind
from warning.lang import normalize, pick
from warning.yamlfile import Checker, LineDict, LineList, describe, load_yaml

REQUIRED = ("id", "kind")
STRING_KEYS = ("id", "kind", "region", "tz")
#: Keys listing other sensors: a station's upstream stations and its basin's rain gauges.
LINK_KEYS = ("upstream", "rain_gauges")
#: What ids and regions are made of: safe as one MQTT topic level (no ``/ + #``, NUL).
ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
ID_RULE = "1-64 of A-Z a-z 0-9 - _ ."


def is_id(value: object) -> bool:
    """Return whether a value may be a sensor id or region (one safe topic level).

    >>> is_id("rg-0042"), is_id("wu/xing"), is_id("#")
    (True, False, False)
    """
    return isinstance(value, str) and 0 < len(value) <= 64 and ID_CHARS.issuperset(value)


@dataclass(frozen=True)
class Registry:
    """Sensors by id; ``attrs`` holds every key of a sensor's entry, usable as ``sensor.KEY``."""

    sensors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    accept_unknown: bool = False

    def get(self, sensor_id: str) -> Mapping[str, Any] | None:
        """Return a sensor's attributes, or None if it is not registered."""
        return self.sensors.get(sensor_id)

    def attrs_for(self, sensor_id: str, kind: str, region: str) -> Mapping[str, Any]:
        """Return the attributes of a sensor, with defaults for an unregistered one."""
        return self.sensors.get(sensor_id) or {"id": sensor_id, "kind": kind, "name": sensor_id,
                                               "region": region}


def load_registry(path: str | Path | None, kinds: Mapping[str, Kind] = BUILTIN_KINDS,
                  accept_unknown: bool = False) -> Registry:
    """Load ``sensors: [{id, kind, name, region, lat, lon, tz?, ...}]``; raise ConfigError.

    ``name`` is a text or a display name per language (``{zh-CN: 天荒坪, en: Tianhuangping}``);
    the latter is kept as ``names``, and ``name`` becomes the names joined, for logs. An
    optional ``regions: {ID: {zh-CN: 安吉县, en: Anji}}`` names the regions; a sensor's
    attributes then hold its region's names as ``region_names``.
    """
    if path is None:
        return Registry({}, accept_unknown)
    c = Checker(str(path))
    doc = load_yaml(path)
    if not isinstance(doc, LineDict) or not isinstance(doc.get("sensors"), LineList):
        c.add(getattr(doc, "line", 1), "", "sensors",
              f"expected a mapping with a 'sensors' list, found {describe(doc)}")
        c.raise_if_any()
    items: LineList = doc["sensors"]
    region_names = _region_names(doc, c)
    sensors: dict[str, dict[str, Any]] = {}
    nodes: dict[str, LineDict] = {}
    for i, item in enumerate(items):
        node = c.mapping(item, f"sensor #{i + 1}", "", items.item_lines[i])
        if node is None:
            continue
        sid = node.get("id")
        where = f"sensor {sid!r}" if isinstance(sid, str) else f"sensor #{i + 1}"
        for key in REQUIRED:
            if key not in node:
                c.add(node.line, where, key, "expected this key, found it missing")
        for key in STRING_KEYS:
            if key in node and not isinstance(node[key], str):
                c.expect(node, key, where, "a text", node[key])
            elif key in ("id", "region") and key in node and not is_id(node[key]):
                c.expect(node, key, where, ID_RULE, node[key])
        if isinstance(node.get("kind"), str) and node["kind"] not in kinds:
            c.expect(node, "kind", where, f"a kind among {', '.join(sorted(kinds))}",
                     node["kind"])
        names = _names(node, where, c)
        for key in ("lat", "lon"):
            value = node.get(key)
            bound = 90 if key == "lat" else 180
            if key in node and (not isinstance(value, int | float) or isinstance(value, bool)
                                or not -bound <= value <= bound):
                c.expect(node, key, where, f"a number from -{bound} to {bound}", value)
        if isinstance(sid, str):
            if sid in sensors:
                c.add(node.line_of("id"), where, "id", "expected a unique id, found a repeat")
            sensors[sid] = {"name": sid, "region": "unknown", **dict(node), **names}
            region = sensors[sid]["region"]
            if isinstance(region, str) and region in region_names:
                sensors[sid]["region_names"] = region_names[region]
            nodes[sid] = node
    for sid, node in nodes.items():
        for key in LINK_KEYS:
            ids = node.get(key)
            if key in node and not (isinstance(ids, list)
                                    and all(isinstance(x, str) and x in sensors for x in ids)):
                c.expect(node, key, f"sensor {sid!r}", "a list of registered sensor ids", ids)
    c.raise_if_any()
    return Registry(sensors, accept_unknown)


def place_name(attrs: Mapping[str, Any], subject: str, language: str) -> str:
    """Return a sensor's display name in ``language`` (registry ``name``), else its id."""
    names = attrs.get("names")
    if isinstance(names, Mapping) and names:
        return pick(names, language)
    return str(attrs.get("name") or subject)


def _names(node: LineDict, where: str, c: Checker) -> dict[str, Any]:
    """Read ``name``: a text, or a mapping of language to text (then also ``names``)."""
    value = node.get("name")
    if value is None or isinstance(value, str):
        return {}
    if isinstance(value, Mapping) and value and all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in value.items()):
        names = {normalize(k): v for k, v in value.items()}
        return {"names": names, "name": " ".join(dict.fromkeys(names.values()))}
    c.expect(node, "name", where, "a text, or a text per language ({zh-CN: ..., en: ...})",
             value)
    return {}


def region_name(attrs: Mapping[str, Any], language: str) -> str:
    """Return the name of a sensor's region in ``language`` (registry ``regions``), or ""."""
    names = attrs.get("region_names")
    return pick(names, language) if isinstance(names, Mapping) and names else ""


def _region_names(doc: LineDict, c: Checker) -> dict[str, dict[str, str]]:
    """Read the optional ``regions`` mapping of region id to names per language."""
    raw = doc.get("regions")
    if raw is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    if isinstance(raw, Mapping):
        for rid, names in raw.items():
            if is_id(rid) and isinstance(names, Mapping) and names and all(
                    isinstance(k, str) and isinstance(v, str) and v for k, v in names.items()):
                out[rid] = {normalize(k): v for k, v in names.items()}
            else:
                c.add(raw.line_of(str(rid)) if isinstance(raw, LineDict) else doc.line,
                      f"region {rid!r}", "", "expected a region id with a name per language "
                      f"({{zh-CN: ..., en: ...}}), found {describe(names)}")
        return out
    c.expect(doc, "regions", "", "a mapping of region id to names per language", raw)
    return out
