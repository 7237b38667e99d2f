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
class Area:
    """A named group of sensors declared in the registry, e.g. a catchment or a plant unit."""

    id: str
    name: str
    members: frozenset[str]
    region: str = ""  # the region it lies in, if one; CAP falls back to its polygon
    polygon: tuple[tuple[float, float], ...] = ()  # [lat, lon] ring, closed, if declared
    names: Mapping[str, str] = field(default_factory=dict)  # display name per language


@dataclass(frozen=True)
class Registry:
    """Sensors by id; ``attrs`` holds every key of a sensor's entry, usable as ``sensor.KEY``."""

    sensors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    accept_unknown: bool = False
    #: Named groups of sensors (catchment, plant unit, slope): id -> Area. Regions are areas too.
    groups: Mapping[str, Area] = field(default_factory=dict)
    #: Regions' display names per language (registry ``regions:``): id -> language -> name.
    region_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def get(self, sensor_id: str) -> Mapping[str, Any] | None:
        """Return a sensor's attributes, or None if it is not registered."""
        return self.sensors.get(sensor_id)

    def attrs_for(self, sensor_id: str, kind: str, region: str) -> Mapping[str, Any]:
        """Return the attributes of a sensor, with defaults for an unregistered one."""
        return self.sensors.get(sensor_id) or {
            "id": sensor_id,
            "kind": kind,
            "name": sensor_id,
            "region": region,
        }

    def subject_attrs(self, subject: str) -> Mapping[str, Any] | None:
        """Return a warning subject's attributes: a sensor's, else an area's (with polygon)."""
        found = self.sensors.get(subject)
        if found is not None:
            return found
        if subject in self.groups or subject in self.regions():
            return self.area_attrs(subject)
        return None

    def regions(self) -> frozenset[str]:
        """Return the regions of the registered sensors (each is an area)."""
        return frozenset(str(s.get("region", "")) for s in self.sensors.values())

    def areas_of(self, sensor_id: str, region: str) -> tuple[str, ...]:
        """Return the areas a sensor belongs to: its region and the groups naming it."""
        return (region, *(a.id for a in self.groups.values() if sensor_id in a.members))

    def members(self, area: str) -> tuple[str, ...]:
        """Return the registered sensors of an area (a group, else a region), sorted."""
        group = self.groups.get(area)
        if group is not None:
            return tuple(sorted(group.members))
        return tuple(sorted(i for i, s in self.sensors.items() if s.get("region") == area))

    def area_attrs(self, area: str) -> dict[str, Any]:
        """Return what a message may say of an area: id, name, region, kind "area"."""
        group = self.groups.get(area)
        if group is not None:
            region = group.region or area
            out: dict[str, Any] = {"id": area, "name": group.name, "region": region, "kind": "area"}
            if group.names:
                out["names"] = dict(group.names)
            if group.polygon:
                out["polygon"] = group.polygon
        else:  # a region: its own names
            region = area
            names = self.region_names.get(area, {})
            out = {
                "id": area,
                "name": " ".join(dict.fromkeys(names.values())) or area,
                "region": area,
                "kind": "area",
            }
            if names:
                out["names"] = dict(names)
        if region in self.region_names:
            out["region_names"] = dict(self.region_names[region])
        return out


def load_registry(
    path: str | Path | None, kinds: Mapping[str, Kind] = BUILTIN_KINDS, accept_unknown: bool = False
) -> Registry:
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
        c.add(
            getattr(doc, "line", 1),
            "",
            "sensors",
            f"expected a mapping with a 'sensors' list, found {describe(doc)}",
        )
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
            c.expect(node, "kind", where, f"a kind among {', '.join(sorted(kinds))}", node["kind"])
        names = _names(node, where, c)
        for key in ("lat", "lon"):
            value = node.get(key)
            bound = 90 if key == "lat" else 180
            if key in node and (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not -bound <= value <= bound
            ):
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
            if key in node and not (
                isinstance(ids, list) and all(isinstance(x, str) and x in sensors for x in ids)
            ):
                c.expect(node, key, f"sensor {sid!r}", "a list of registered sensor ids", ids)
    groups = _areas(doc, c, sensors)
    c.raise_if_any()
    return Registry(sensors, accept_unknown, groups, region_names)


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
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(k, str) and isinstance(v, str) and v for k, v in value.items())
    ):
        names = {normalize(k): v for k, v in value.items()}
        return {"names": names, "name": " ".join(dict.fromkeys(names.values()))}
    c.expect(node, "name", where, "a text, or a text per language ({zh-CN: ..., en: ...})", value)
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
            if (
                is_id(rid)
                and isinstance(names, Mapping)
                and names
                and all(isinstance(k, str) and isinstance(v, str) and v for k, v in names.items())
            ):
                out[rid] = {normalize(k): v for k, v in names.items()}
            else:
                c.add(
                    raw.line_of(str(rid)) if isinstance(raw, LineDict) else doc.line,
                    f"region {rid!r}",
                    "",
                    "expected a region id with a name per language "
                    f"({{zh-CN: ..., en: ...}}), found {describe(names)}",
                )
        return out
    c.expect(doc, "regions", "", "a mapping of region id to names per language", raw)
    return out


AREA_KEYS = ("id", "name", "sensors", "region", "polygon", "description")


def _areas(doc: LineDict, c: Checker, sensors: Mapping[str, Any]) -> dict[str, Area]:
    """Read ``areas: [{id, name, sensors: [...], region?, polygon?}]`` (named sensor groups)."""
    items = doc.get("areas")
    if items is None:
        return {}
    if not isinstance(items, LineList):
        c.expect(doc, "areas", "", "a list of areas", items)
        return {}
    regions = {str(s.get("region")) for s in sensors.values()}
    out: dict[str, Area] = {}
    for i, item in enumerate(items):
        node = c.mapping(item, f"area #{i + 1}", "", items.item_lines[i])
        if node is None:
            continue
        aid = node.get("id")
        where = f"area {aid!r}" if isinstance(aid, str) else f"area #{i + 1}"
        c.known_keys(node, AREA_KEYS, where, required=("id", "sensors"))
        if "id" in node and not is_id(aid):
            c.expect(node, "id", where, ID_RULE, aid)
            continue
        if aid in out or aid in regions:
            c.add(
                node.line_of("id"),
                where,
                "id",
                "expected an id unique among areas and regions, found a repeat",
            )
        members = node.get("sensors")
        if (
            not isinstance(members, list)
            or not members
            or not all(isinstance(m, str) for m in members)
        ):
            c.expect(node, "sensors", where, "a list of sensor ids", members)
            continue
        for m in members:
            if m not in sensors:
                c.add(
                    node.line_of("sensors"),
                    where,
                    "sensors",
                    f"expected ids of registered sensors, found unknown sensor {m!r}",
                )
        polygon = _polygon(node, where, c)
        names = _names(node, where, c)
        if isinstance(aid, str):
            out[aid] = Area(
                aid,
                str(names.get("name") or node.get("name", aid)),
                frozenset(members),
                str(node.get("region", "")),
                polygon,
                names.get("names", {}),
            )
    return out


def _polygon(node: LineDict, where: str, c: Checker) -> tuple[tuple[float, float], ...]:
    raw = node.get("polygon")
    if raw is None:
        return ()
    ok = (
        isinstance(raw, list)
        and len(raw) >= 4
        and all(
            isinstance(p, list)
            and len(p) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
            for p in raw
        )
    )
    if not ok or raw[0] != raw[-1]:
        c.expect(node, "polygon", where, "a closed ring of at least 4 [lat, lon] points", raw)
        return ()
    return tuple((float(p[0]), float(p[1])) for p in raw)
