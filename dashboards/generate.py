"""Write the Grafana dashboards (``dashboards/json``) and the sensor gazetteer from code.

Run from the repository root after changing a dashboard, a rule file or the registry::

    python -m dashboards.generate                      # registry: the simulator's network
    python -m dashboards.generate --registry sensors.yaml
    python -m dashboards.generate --check              # exit 1 if the files are stale

Nothing is written when a dashboard fails Grafana's schema (``dashboards.schema``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``dashboards`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from dashboards import health, history, overview  # noqa: E402
from dashboards.hazards import BUILDERS, Context  # noqa: E402
from dashboards.schema import GRAFANA_VERSION, problems  # noqa: E402
from dashboards.thresholds import RULES_DIR, load_rule_files  # noqa: E402

HERE = Path(__file__).resolve().parent
JSON_DIR = HERE / "json"
GAZETTEER_DIR = HERE / "gazetteer"


REGIONS_FILE = HERE.parent / "deploy" / "regions.yaml"


def simulator_registry() -> list[dict[str, Any]]:
    """The registry of the simulator's Huzhou network (the demo and the tests use it)."""
    from sensors_sim.network import load_network, registry

    return display_names(registry(load_network("huzhou"))["sensors"])


def simulator_areas() -> list[dict[str, Any]]:
    """The named sensor groups of the simulator's network (registry ``areas:``)."""
    from sensors_sim.network import load_network, registry

    return registry(load_network("huzhou")).get("areas", [])


def load_areas(path: Path | None) -> list[dict[str, Any]]:
    """Sensor groups from a registry YAML, or the simulator's when no path is given."""
    if path is None:
        return simulator_areas()
    return yaml.safe_load(path.read_text(encoding="utf-8")).get("areas") or []


def area_places(
    sensors: list[dict[str, Any]], groups: list[dict[str, Any]], regions_file: Path = REGIONS_FILE
) -> list[dict[str, Any]]:
    """Areas for the map (regions of deploy/regions.yaml, sensor groups) with their centres."""
    regions = (
        (yaml.safe_load(regions_file.read_text(encoding="utf-8")) or {}).get("regions", {})
        if regions_file.exists()
        else {}
    )
    places = [
        {
            "id": rid,
            "name": r.get("name_en") or rid,
            "polygon": [list(p) for p in r.get("polygon", [])],
        }
        for rid, r in sorted(regions.items())
    ]
    at = {s["id"]: (s["lat"], s["lon"]) for s in sensors if "lat" in s and "lon" in s}
    for g in groups:
        points = [list(at[m]) for m in g.get("sensors", []) if m in at]
        places.append(
            {
                "id": g["id"],
                "name": g.get("name", g["id"]),
                "polygon": [list(p) for p in g.get("polygon", [])],
                "points": points,
            }
        )
    out = []
    for p in places:
        ring = p["polygon"][:-1] if p["polygon"] else p.get("points", [])
        if ring:  # the centre: the mean of the ring's corners, or of the members
            p["lat"] = round(sum(x[0] for x in ring) / len(ring), 4)
            p["lon"] = round(sum(x[1] for x in ring) / len(ring), 4)
            out.append(p)
    return out


def load_registry(path: Path | None) -> list[dict[str, Any]]:
    """Sensors from a registry YAML, or the simulator's when no path is given.

    Names given per language are shown as both, as operations staff read them.
    """
    sensors = (
        simulator_registry()
        if path is None
        else yaml.safe_load(path.read_text(encoding="utf-8"))["sensors"]
    )
    return display_names(sensors)


def display_names(sensors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Names given per language shown as both: ``{zh-CN: 杭长桥, en: ...}`` as ``杭长桥 ...``."""
    return [
        {**s, "name": " ".join(dict.fromkeys(map(str, s["name"].values())))}
        if isinstance(s.get("name"), dict)
        else s
        for s in sensors
    ]


def build_all(
    sensors: list[dict[str, Any]], rules_dir: Path = RULES_DIR, timezone: str = "Asia/Shanghai"
) -> dict[str, dict[str, Any]]:
    """Every dashboard by file name (without ``.json``)."""
    rules, indicators = load_rule_files(rules_dir)
    ctx = Context(rules, indicators, sensors, timezone)
    boards = {
        "overview": overview.build(timezone),
        "warning-history": history.build(timezone),
        "pipeline-health": health.build(timezone),
    }
    boards.update({f"hazard-{name}": build(ctx) for name, build in BUILDERS.items()})
    return boards


def gazetteers(
    sensors: list[dict[str, Any]], areas: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Positions for the geomap: a lookup by id (sensors, areas), sensor and outline layers."""
    located = [s for s in sensors if "lat" in s and "lon" in s]
    lookup = [
        {
            "key": s["id"],
            "latitude": s["lat"],
            "longitude": s["lon"],
            "name": s.get("name", s["id"]),
        }
        for s in located
    ]
    lookup += [
        {"key": a["id"], "latitude": a["lat"], "longitude": a["lon"], "name": a["name"]}
        for a in areas or ()
    ]
    outlines = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": a["id"],
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[lon, lat] for lat, lon in a["polygon"]]],
                },
                "properties": {"id": a["id"], "name": a["name"]},
            }
            for a in areas or ()
            if a["polygon"]
        ],
    }
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": s["id"],
                "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                "properties": {
                    "id": s["id"],
                    "name": s.get("name", s["id"]),
                    "kind": s.get("kind"),
                    "region": s.get("region"),
                },
            }
            for s in located
        ],
    }
    return {
        "hazard-sensors.json": lookup,
        "hazard-sensors.geojson": geojson,
        "hazard-areas.geojson": outlines,
    }


def render(data: Any) -> str:
    """Stable JSON text, as checked in."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def outputs(
    sensors: list[dict[str, Any]],
    rules_dir: Path = RULES_DIR,
    timezone: str = "Asia/Shanghai",
    groups: list[dict[str, Any]] | None = None,
) -> dict[Path, str]:
    """Every generated file with its text."""
    files = {
        JSON_DIR / f"{name}.json": render(board)
        for name, board in build_all(sensors, rules_dir, timezone).items()
    }
    files.update(
        {
            GAZETTEER_DIR / name: render(data)
            for name, data in gazetteers(
                sensors, area_places(sensors, groups if groups is not None else simulator_areas())
            ).items()
        }
    )
    return files


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the generated files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--registry",
        type=Path,
        help="sensor registry YAML (default: the simulator's Huzhou network)",
    )
    parser.add_argument("--rules", type=Path, default=RULES_DIR, help="rule directory")
    parser.add_argument("--timezone", default="Asia/Shanghai", help="dashboards' time zone")
    parser.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    args = parser.parse_args(argv)
    sensors = load_registry(args.registry)
    found = [
        f"{name}.json: {problem}"
        for name, board in build_all(sensors, args.rules, args.timezone).items()
        for problem in problems(board)
    ]
    for line in found:
        print(f"schema (Grafana {GRAFANA_VERSION}): {line}", file=sys.stderr)
    if found:
        return 1
    files = outputs(sensors, args.rules, args.timezone, load_areas(args.registry))
    stale = [
        path
        for path, content in files.items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]
    if args.check:
        for path in stale:
            print(f"stale: {path} (run python -m dashboards.generate)", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path}")
    print(f"{len(files)} files, {len(stale)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
