"""The sensor registry: who each sensor is, where it stands, and its per-station thresholds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warning.kinds import BUILTIN_KINDS, Kind
from warning.yamlfile import Checker, LineDict, LineList, describe, load_yaml

REQUIRED = ("id", "kind")
STRING_KEYS = ("id", "kind", "name", "region", "tz")
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
    """Load ``sensors: [{id, kind, name, region, lat, lon, tz?, ...}]``; raise ConfigError."""
    if path is None:
        return Registry({}, accept_unknown)
    c = Checker(str(path))
    doc = load_yaml(path)
    if not isinstance(doc, LineDict) or not isinstance(doc.get("sensors"), LineList):
        c.add(getattr(doc, "line", 1), "", "sensors",
              f"expected a mapping with a 'sensors' list, found {describe(doc)}")
        c.raise_if_any()
    items: LineList = doc["sensors"]
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
        for key in ("lat", "lon"):
            value = node.get(key)
            bound = 90 if key == "lat" else 180
            if key in node and (not isinstance(value, int | float) or isinstance(value, bool)
                                or not -bound <= value <= bound):
                c.expect(node, key, where, f"a number from -{bound} to {bound}", value)
        if isinstance(sid, str):
            if sid in sensors:
                c.add(node.line_of("id"), where, "id", "expected a unique id, found a repeat")
            sensors[sid] = {"name": sid, "region": "unknown", **dict(node)}
            nodes[sid] = node
    for sid, node in nodes.items():
        for key in LINK_KEYS:
            ids = node.get(key)
            if key in node and not (isinstance(ids, list)
                                    and all(isinstance(x, str) and x in sensors for x in ids)):
                c.expect(node, key, f"sensor {sid!r}", "a list of registered sensor ids", ids)
    c.raise_if_any()
    return Registry(sensors, accept_unknown)
