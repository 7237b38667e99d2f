"""Check a dashboard's JSON against Grafana's published schema for the targeted version.

The schema is the JSON schema that grafana-foundation-sdk publishes for each Grafana version
(``dashboards/schema/grafana-<version>/``, Apache-2.0, copied unchanged): the dashboard, and
per panel plugin its ``Options`` and field-config ``custom``. Where that schema leaves a value
open (panel options, targets, override values, annotation targets, geomap layer config) this
module checks it against the part of the schema that applies: the panel type's schema, the
datasource's query schema, the field-config option named by the override, and the project's
own extension schema for what the SDK does not model (``hazard-extensions.jsonschema.json``).
Transformation and matcher ids are checked against ``@grafana/data``'s registries.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

GRAFANA_VERSION = "11.6"
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
VERSION_DIR = SCHEMA_DIR / f"grafana-{GRAFANA_VERSION}"
#: Panel plugin ids whose schema file is named differently.
KIND_FILES = {"state-timeline": "statetimeline", "status-history": "statushistory"}
#: Datasource type -> (schema file, definition) of its query.
QUERY_SCHEMAS = {
    "prometheus": ("prometheus", "dataquery"),
    "influxdb": ("hazard-extensions", "InfluxQLQuery"),
}
#: Geomap layer type -> definition of its ``config`` in the extension schema.
LAYER_CONFIGS = {
    "markers": "MarkersConfig",
    "geojson": "GeoJSONConfig",
    "default": "DefaultBasemapConfig",
}


@cache
def _load(name: str) -> dict[str, Any]:
    folder = SCHEMA_DIR if name == "hazard-extensions" else VERSION_DIR
    return json.loads((folder / f"{name}.jsonschema.json").read_text(encoding="utf-8"))


def _any_of(node: Any) -> Any:
    """Variants without a discriminating constant (table cell options) as ``anyOf``."""
    if isinstance(node, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in node.items()}
    return [_any_of(v) for v in node] if isinstance(node, list) else node


@cache
def _definitions(name: str) -> dict[str, Any]:
    defs = _any_of(copy.deepcopy(_load(name)["definitions"]))
    if name == "hazard-extensions":
        return {**_definitions("common"), **defs}
    if name == "dashboard":
        # Where the generated JSON schema is narrower than Grafana's CUE schema it comes from,
        # each checked below against the schema that applies, or as CUE has it:
        # an override's value and a matcher's options are any JSON (CUE `_`, rendered as
        # "object"); the base threshold step's value is null (CUE `number | null`); an
        # annotation's target is its datasource's query (AnnotationTarget is the built-in
        # Grafana datasource's, marked TODO in the schema).
        defs["DynamicConfigValue"]["properties"]["value"] = {}
        defs["MatcherConfig"]["properties"]["options"] = {}
        defs["Threshold"]["properties"]["value"] = {"type": ["number", "null"]}
        defs["AnnotationQuery"]["properties"]["target"] = {"type": "object"}
    return defs


@cache
def validator(name: str, definition: str) -> Draft7Validator:
    """A validator for one definition of a schema file (``dashboard``, ``table``...)."""
    return Draft7Validator(
        {"$ref": f"#/definitions/{definition}", "definitions": _definitions(name)}
    )


@cache
def grafana_ids() -> dict[str, list[str]]:
    """Transformation, field matcher and frame matcher ids of ``@grafana/data``."""
    return json.loads((VERSION_DIR / "grafana-data-ids.json").read_text(encoding="utf-8"))


def panel_kinds() -> set[str]:
    """Panel plugin ids that have a schema here (``row`` is the dashboard's own)."""
    files = {p.name.removesuffix(".jsonschema.json") for p in VERSION_DIR.glob("*.jsonschema.json")}
    inverse = {v: k for k, v in KIND_FILES.items()}
    return (
        {inverse.get(f, f) for f in files if "Options" in _load(f).get("definitions", {})}
        if files
        else set()
    )


def _kind_file(kind: str) -> str:
    return KIND_FILES.get(kind, kind)


def custom_options(kind: str) -> dict[str, Any]:
    """The field-config ``custom`` properties of a panel type by name (schema fragments)."""
    defs = _definitions(_kind_file(kind))
    if "FieldConfig" not in defs:
        return {}
    fc = defs["FieldConfig"]
    while "$ref" in fc:
        fc = defs[fc["$ref"].rsplit("/", 1)[1]]
    found = dict(fc.get("properties", {}))
    for part in fc.get("allOf", []):
        ref = part.get("$ref")
        found.update(
            defs[ref.rsplit("/", 1)[1]].get("properties", {}) if ref else part.get("properties", {})
        )
    return found


def field_config_ids(kind: str) -> set[str]:
    """Every field-config option id an override may set on a panel of this type."""
    standard = set(_definitions("dashboard")["FieldConfig"]["properties"]) - {"custom"}
    return standard | {f"custom.{name}" for name in custom_options(kind)}


def _errors(v: Draft7Validator, instance: Any, where: str) -> list[str]:
    out = []
    for e in sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        out.append(f"{where}{path}: {e.message[:240]}")
    return out


def _subschema(defs: dict[str, Any], fragment: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator({**fragment, "definitions": defs})


def _override_problems(kind: str, p: dict[str, Any], where: str) -> list[str]:
    out = []
    ids = grafana_ids()
    dash_defs = _definitions("dashboard")
    standard = dash_defs["FieldConfig"]["properties"]
    custom = custom_options(kind)
    for i, o in enumerate(p.get("fieldConfig", {}).get("overrides", [])):
        at = f"{where}.fieldConfig.overrides[{i}]"
        if o.get("matcher", {}).get("id") not in ids["fieldMatchers"]:
            out.append(
                f"{at}.matcher.id: {o.get('matcher', {}).get('id')!r} is not a field "
                "matcher of @grafana/data"
            )
        for j, prop in enumerate(o.get("properties", [])):
            pid, value = prop.get("id", ""), prop.get("value")
            if pid.startswith("custom.") and pid[7:] in custom:
                check = _subschema(_definitions(_kind_file(kind)), custom[pid[7:]])
            elif pid in standard and pid != "custom":
                check = _subschema(dash_defs, standard[pid])
            else:
                out.append(
                    f"{at}.properties[{j}].id: {pid!r} is not a field-config option of "
                    f"a {kind} panel"
                )
                continue
            out += _errors(check, value, f"{at}.properties[{j}].value")
    return out


def _query_problems(ds_type: str, target: dict[str, Any], where: str) -> list[str]:
    if ds_type not in QUERY_SCHEMAS:
        return [f"{where}: no query schema for datasource type {ds_type!r}"]
    return _errors(validator(*QUERY_SCHEMAS[ds_type]), target, where)


def _geomap_problems(options: dict[str, Any], where: str) -> list[str]:
    out = []
    layers = [("basemap", options.get("basemap", {}))]
    layers += [(f"layers[{i}]", layer) for i, layer in enumerate(options.get("layers", []))]
    frames = grafana_ids()["frameMatchers"]
    for at, layer in layers:
        kind = layer.get("type")
        if kind not in LAYER_CONFIGS:
            out.append(f"{where}.options.{at}.type: no schema for geomap layer {kind!r}")
            continue
        out += _errors(
            validator("hazard-extensions", LAYER_CONFIGS[kind]),
            layer.get("config", {}),
            f"{where}.options.{at}.config",
        )
        matcher = layer.get("filterData")
        if matcher is not None and matcher.get("id") not in frames:
            out.append(
                f"{where}.options.{at}.filterData.id: {matcher.get('id')!r} is not a "
                "frame matcher of @grafana/data"
            )
    return out


def panel_problems(p: dict[str, Any], where: str) -> list[str]:
    """What the schema finds wrong with one panel (not a row)."""
    out = _errors(validator("dashboard", "Panel"), p, where)
    kind = p.get("type", "")
    if kind not in panel_kinds():
        return [
            *out,
            f"{where}.type: {kind!r} is not a panel type of Grafana {GRAFANA_VERSION}'s schema",
        ]
    kind_file = _kind_file(kind)
    out += _errors(validator(kind_file, "Options"), p.get("options", {}), f"{where}.options")
    custom = p.get("fieldConfig", {}).get("defaults", {}).get("custom")
    if "FieldConfig" in _definitions(kind_file):
        out += _errors(
            validator(kind_file, "FieldConfig"),
            custom or {},
            f"{where}.fieldConfig.defaults.custom",
        )
    elif custom:
        out.append(
            f"{where}.fieldConfig.defaults.custom: a {kind} panel has no custom field config"
        )
    ds_type = p.get("datasource", {}).get("type", "")
    for i, t in enumerate(p.get("targets", [])):
        out += _query_problems(
            t.get("datasource", {}).get("type", ds_type), t, f"{where}.targets[{i}]"
        )
    for i, t in enumerate(p.get("transformations", [])):
        if t.get("id") not in grafana_ids()["transformations"]:
            out.append(
                f"{where}.transformations[{i}].id: {t.get('id')!r} is not a "
                "transformation of @grafana/data"
            )
    out += _override_problems(kind, p, where)
    if kind == "geomap":
        out += _geomap_problems(p.get("options", {}), where)
    return out


def problems(board: dict[str, Any]) -> list[str]:
    """Everything the schema finds wrong with a dashboard, each with its JSON path."""
    top = {**board, "panels": []}
    out = _errors(validator("dashboard", "Dashboard"), top, "")
    for i, p in enumerate(board.get("panels", [])):
        where = f"panels[{i}]"
        if p.get("type") == "row":
            out += _errors(validator("dashboard", "RowPanel"), p, where)
        else:
            out += panel_problems(p, where)
    for i, a in enumerate(board.get("annotations", {}).get("list", [])):
        if a.get("builtIn"):
            continue
        where = f"annotations.list[{i}].target"
        if "target" not in a:
            out.append(f"{where}: missing (the query belongs in the target)")
        else:
            out += _query_problems(a.get("datasource", {}).get("type", ""), a["target"], where)
    return out
