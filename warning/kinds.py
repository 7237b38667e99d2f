"""Sensor kinds: the fields each kind reports and their physically possible ranges."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """A reading field with its unit and the range outside which a value is impossible."""

    name: str
    low: float
    high: float
    unit: str = ""


@dataclass(frozen=True)
class Kind:
    """A sensor kind and its fields."""

    name: str
    fields: Mapping[str, FieldSpec]

    @property
    def field_names(self) -> frozenset[str]:
        """The names of this kind's fields."""
        return frozenset(self.fields)


def _kind(name: str, *specs: tuple[str, float, float, str]) -> Kind:
    return Kind(name, {s[0]: FieldSpec(*s) for s in specs})


# Ranges are "physically impossible outside", not "unusual": they reject broken sensors and
# forged messages, never a real extreme (the world record hourly rain is ~305 mm).
BUILTIN_KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        _kind("rainfall", ("rain_mm", 0, 400, "mm")),
        _kind(
            "reservoir",
            ("level_m", -100, 9000, "m"),
            ("inflow_m3s", 0, 1e6, "m3/s"),
            ("outflow_m3s", 0, 1e6, "m3/s"),
        ),
        _kind("river", ("level_m", -100, 9000, "m"), ("flow_m3s", 0, 1e6, "m3/s")),
        _kind("slope", ("displacement_mm", -1e6, 1e6, "mm"), ("tilt_deg", -90, 90, "deg")),
        _kind(
            "weather",
            ("temp_c", -60, 60, "C"),
            ("rh_pct", 0, 100, "%"),
            ("wind_kmh", 0, 400, "km/h"),
            ("rain_mm", 0, 400, "mm"),
        ),
        _kind(
            "gas",
            ("lel_pct", 0, 100, "%LEL"),
            ("h2s_ppm", 0, 1e5, "ppm"),
            ("co_ppm", 0, 1e6, "ppm"),
            ("cl2_ppm", 0, 1e5, "ppm"),
            ("nh3_ppm", 0, 1e6, "ppm"),
            ("o2_pct", 0, 100, "%vol"),
        ),
    )
}


def kinds_from_config(
    extra: Mapping[str, Mapping[str, Mapping[str, float]]] | None,
) -> dict[str, Kind]:
    """Return the built-in kinds plus those declared in config (``{kind: {field: {min, max}}}``)."""
    kinds = dict(BUILTIN_KINDS)
    for name, fields in (extra or {}).items():
        kinds[name] = Kind(
            name,
            {
                f: FieldSpec(
                    f,
                    float(spec.get("min", float("-inf"))),
                    float(spec.get("max", float("inf"))),
                    str(spec.get("unit", "")),
                )
                for f, spec in fields.items()
            },
        )
    return kinds
