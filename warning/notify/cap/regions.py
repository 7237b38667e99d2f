"""Region geometry for CAP areas: names, division codes and rough polygons from a YAML file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warning.yamlfile import Checker, LineDict, LineList, describe, load_yaml

KEYS = ("name_zh", "name_en", "code", "polygon")


@dataclass(frozen=True, slots=True)
class Region:
    """One region of the sensor registry: its names, division code and outline."""

    id: str
    name_zh: str = ""
    name_en: str = ""
    code: str = ""
    polygon: tuple[tuple[float, float], ...] = ()  # closed ring of (lat, lon), WGS 84


def contains(polygon: tuple[tuple[float, float], ...], lat: float, lon: float) -> bool:
    """Tell whether a point lies inside a polygon of ``(lat, lon)`` points (ray casting).

    >>> contains(((0, 0), (0, 2), (2, 2), (2, 0), (0, 0)), 1, 1)
    True
    """
    inside = False
    for (lat1, lon1), (lat2, lon2) in zip(polygon, polygon[1:], strict=False):
        if (lat1 > lat) != (lat2 > lat):
            cross = lon1 + (lat - lat1) * (lon2 - lon1) / (lat2 - lat1)
            if lon < cross:
                inside = not inside
    return inside


def _number(value: object, bound: float) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and -bound <= value <= bound
    )


def _polygon(c: Checker, node: LineDict, where: str) -> tuple[tuple[float, float], ...]:
    ring = node["polygon"]
    if not isinstance(ring, LineList) or len(ring) < 4:
        c.expect(node, "polygon", where, "a list of at least 4 [lat, lon] points", ring)
        return ()
    points = []
    for i, point in enumerate(ring):
        if (
            not isinstance(point, list)
            or len(point) != 2
            or not _number(point[0], 90)
            or not _number(point[1], 180)
        ):
            found = repr(list(point)) if isinstance(point, list) else describe(point)
            c.add(
                ring.item_lines[i],
                where,
                "polygon",
                f"expected point #{i + 1} as [lat, lon] in degrees, found {found}",
            )
            return ()
        points.append((float(point[0]), float(point[1])))
    if points[0] != points[-1]:
        c.expect(
            node,
            "polygon",
            where,
            "a closed ring (last point equal to the first)",
            f"{list(points[0])} ... {list(points[-1])}",
        )
        return ()
    return tuple(points)


def load_regions(path: str | Path | None) -> dict[str, Region]:
    """Load ``regions: {id: {name_zh, name_en, code, polygon}}``; raise ConfigError."""
    if path is None:
        return {}
    c = Checker(str(path))
    doc = load_yaml(path)
    if not isinstance(doc, LineDict) or not isinstance(doc.get("regions"), LineDict):
        c.add(
            getattr(doc, "line", 1),
            "",
            "regions",
            f"expected a mapping with a 'regions' mapping, found {describe(doc)}",
        )
        c.raise_if_any()
    regions: dict[str, Region] = {}
    for rid, item in doc["regions"].items():
        where = f"region {rid!r}"
        node = c.mapping(item, where, "", doc["regions"].line_of(str(rid)))
        if node is None:
            continue
        c.known_keys(node, KEYS, where)
        texts = {}
        for key in ("name_zh", "name_en", "code"):
            value = node.get(key, "")
            if not isinstance(value, str):
                c.expect(node, key, where, "a text", value)
                value = ""
            texts[key] = value
        polygon = _polygon(c, node, where) if "polygon" in node else ()
        regions[str(rid)] = Region(str(rid), polygon=polygon, **texts)
    c.raise_if_any()
    return regions
