"""Rule test files: ``*.test.yaml`` loaded strictly into cases (format: docs/RULE_TESTS.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from warning.authoring.ruletest.expect import Expected, expected_events
from warning.authoring.ruletest.notation import (
    checked_duration,
    found_text,
    parse_datetime,
    parse_series,
    parse_time,
)
from warning.kinds import BUILTIN_KINDS, Kind
from warning.registry import STRING_KEYS
from warning.rules.load import RuleSet, load_rules
from warning.yamlfile import Checker, ConfigError, LineDict, LineList, Problem, describe, load_yaml

FILE_KEYS = ("rule_files", "sensors", "areas", "cases", "description")
CASE_KEYS = (
    "name",
    "description",
    "sensors",
    "rules",
    "start",
    "interval",
    "series",
    "readings",
    "expect",
    "within",
    "no_other_events",
)
READING_KEYS = ("sensor", "ts", "values")


@dataclass(frozen=True)
class Case:
    """One test case: a registry excerpt, the readings, and the events expected of them."""

    name: str
    start_ms: int
    tz: tzinfo
    sensors: tuple[dict[str, Any], ...]
    readings: tuple[dict[str, Any], ...]  # wire-format objects in time order
    expect: tuple[Expected, ...]
    rules: frozenset[str]  # rule ids (events' rule_id) under test
    no_other_events: bool = True


@dataclass(frozen=True)
class RuleTestFile:
    """A loaded test file: the rule files it tests and its cases."""

    path: Path
    rule_files: tuple[Path, ...]
    cases: tuple[Case, ...]
    areas: tuple[dict[str, Any], ...] = ()  # sensor groups of the registry, for area rules


def find_test_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and directories into test files (``*.test.yaml``, ``*.test.yml``)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(f for f in p.iterdir() if f.name.endswith((".test.yaml", ".test.yml")))
            )
        else:
            out.append(p)
    return out


def load_test_files(
    paths: Iterable[str | Path], kinds: Mapping[str, Kind] = BUILTIN_KINDS
) -> list[RuleTestFile]:
    """Load and check test files and the rule files they test; raise ConfigError if any is bad."""
    paths = list(paths)
    files = find_test_files(paths)
    if not files:
        raise ConfigError(
            [
                Problem(str(p), 1, "", "", "expected rule test files (*.test.yaml), found none")
                for p in paths
            ]
        )
    problems: list[Problem] = []
    out = []
    for path in files:
        try:
            loaded = _load_file(path, kinds)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        out.append(loaded)
    if problems:
        raise ConfigError(problems)
    return out


def _load_file(path: Path, kinds: Mapping[str, Kind]) -> RuleTestFile:
    c = Checker(str(path))
    doc = load_yaml(path)
    if not isinstance(doc, LineDict) or not isinstance(doc.get("cases"), LineList):
        found = describe(doc)
        if isinstance(doc, LineDict):
            found = (
                describe(doc["cases"])
                if "cases" in doc
                else "a rule file"
                if "rules" in doc
                else "no 'cases'"
            )
        c.add(
            doc.line_of("cases") if isinstance(doc, LineDict) else 1,
            "",
            "cases",
            f"expected a mapping with a 'cases' list, found {found}",
        )
        c.raise_if_any()
    c.known_keys(doc, FILE_KEYS, "")
    rule_files = _rule_files(path, doc, c)
    c.raise_if_any()
    ruleset = load_rules(rule_files, kinds)  # a bad rule file stops here, with its own lines
    sensors: list[dict[str, Any]] = []
    if "sensors" in doc:
        sensors = _sensor_entries(doc, "", c, kinds, {})
    areas = _area_entries(doc, c)
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(doc["cases"]):
        node = c.mapping(item, f"case #{i + 1}", "", doc["cases"].item_lines[i])
        if node is None:
            continue
        name = node.get("name")
        where = f"case {name!r}" if isinstance(name, str) and name else f"case #{i + 1}"
        if isinstance(name, str) and name in seen:
            c.add(
                node.line_of("name"),
                where,
                "name",
                f"expected a unique case name, found one already used at line {seen[name]}",
            )
        elif isinstance(name, str) and name:
            seen[name] = node.line_of("name")
        case = _case(node, where, c, kinds, sensors, ruleset, areas)
        if case is not None:
            cases.append(case)
    c.problems.sort(key=lambda p: p.line)
    c.raise_if_any()
    return RuleTestFile(path, tuple(rule_files), tuple(cases), tuple(areas))


def _area_entries(doc: LineDict, c: Checker) -> list[dict[str, Any]]:
    """The file's ``areas:`` as registry entries (checked again when the case runs)."""
    raw = doc.get("areas")
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(
        isinstance(a, dict) and isinstance(a.get("id"), str) for a in raw
    ):
        c.expect(doc, "areas", "", "a list of areas with id and sensors", raw)
        return []
    return [json.loads(json.dumps(a)) for a in raw]  # plain data, for the registry file


def _rule_files(path: Path, doc: LineDict, c: Checker) -> list[Path]:
    raw = doc.get("rule_files")
    if raw is None:
        name = path.name.replace(".test.yaml", ".yaml").replace(".test.yml", ".yml")
        default = path.with_name(name)
        if not default.exists():
            c.add(
                doc.line,
                "",
                "rule_files",
                f"expected rule_files, or a rule file {name} beside the test file, found neither",
            )
        return [default]
    names = [raw] if isinstance(raw, str) else raw
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        c.expect(doc, "rule_files", "", "a rule file or a list of them", raw)
        return []
    return [path.parent / n for n in names]


def _sensor_entries(
    parent: LineDict,
    where: str,
    c: Checker,
    kinds: Mapping[str, Kind],
    known: Mapping[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Check a registry excerpt (entries, or ids of the file's entries) as the registry does."""
    raw = parent["sensors"]
    if not isinstance(raw, LineList) or not raw:
        c.expect(parent, "sensors", where, "a list of sensor registry entries", raw)
        return []
    out: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(raw):
        key = f"sensors.{i + 1}"
        if isinstance(item, str) and item in known:
            out[item] = known[item]
            continue
        if not isinstance(item, LineDict):
            c.add(
                raw.item_lines[i],
                where,
                key,
                "expected a sensor entry or the id of one in "
                f"the file's sensors, found {describe(item)}",
            )
            continue
        sid = item.get("id")
        key = f"sensors.{sid}" if isinstance(sid, str) else key
        for k in ("id", "kind"):
            if k not in item:
                c.add(item.line, where, f"{key}.{k}", "expected this key, found it missing")
        for k in STRING_KEYS:
            if k in item and not isinstance(item[k], str):
                c.add(
                    item.line_of(k),
                    where,
                    f"{key}.{k}",
                    f"expected a text, found {describe(item[k])}",
                )
        if isinstance(item.get("kind"), str) and item["kind"] not in kinds:
            c.add(
                item.line_of("kind"),
                where,
                f"{key}.kind",
                f"expected a kind among {', '.join(sorted(kinds))}, found {item['kind']!r}",
            )
        for k, bound in (("lat", 90), ("lon", 180)):
            v = item.get(k)
            if k in item and (
                not isinstance(v, int | float) or isinstance(v, bool) or not -bound <= v <= bound
            ):
                c.add(
                    item.line_of(k),
                    where,
                    f"{key}.{k}",
                    f"expected a number from -{bound} to {bound}, found {describe(v)}",
                )
        if isinstance(sid, str):
            if sid in out:
                c.add(
                    item.line_of("id"), where, f"{key}.id", "expected a unique id, found a repeat"
                )
            out[sid] = {"name": sid, "region": "unknown", **_plain(item)}
    return list(out.values())


def _plain(value: Any) -> Any:
    """Return YAML data as plain dicts and lists (the safe dumper refuses subclasses)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _case(
    node: LineDict,
    where: str,
    c: Checker,
    kinds: Mapping[str, Kind],
    file_sensors: list[dict[str, Any]],
    ruleset: RuleSet,
    areas: list[dict[str, Any]] | None = None,
) -> Case | None:
    before = len(c.problems)
    c.known_keys(node, CASE_KEYS, where, required=("name", "start", "expect"))
    if "name" in node and not (isinstance(node["name"], str) and node["name"]):
        c.expect(node, "name", where, "a name", node["name"])
    sensors = file_sensors
    if "sensors" in node:
        sensors = _sensor_entries(node, where, c, kinds, {s["id"]: s for s in file_sensors})
    elif not sensors:
        c.add(node.line, where, "sensors", "expected sensors in the case or the file, found none")
    registry = {s["id"]: s for s in sensors}
    sole = next(iter(registry)) if len(registry) == 1 else None

    start_at = parse_datetime(node.get("start"))
    start = round(start_at.timestamp() * 1000) if start_at else None
    if "start" in node and start_at is None:
        c.add(
            node.line_of("start"),
            where,
            "start",
            f"expected an RFC 3339 time with an offset, found {found_text(node['start'])}",
        )
    interval = checked_duration(node, "interval", where, c, None)
    within = checked_duration(node, "within", where, c, 0)
    other = node.get("no_other_events", True)
    if not isinstance(other, bool):
        c.expect(node, "no_other_events", where, "true or false", other)

    event_ids = (
        {r.id: tuple(n for n, _ in r.values) for r in ruleset.rules if r.levels}
        | {r.silence_id: ("silent_minutes",) for r in ruleset.rules if r.no_data}
        | {r.id: tuple(n for n, _ in r.values) for r in ruleset.areas}
        | {r.silence_id: () for r in ruleset.areas if r.no_data}
    )
    under_test = set(event_ids)
    if "rules" in node:
        raw = node["rules"]
        ids = [raw] if isinstance(raw, str) else raw
        known = set(event_ids) | {r.id for r in ruleset.rules} | {r.id for r in ruleset.areas}
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            c.expect(node, "rules", where, "a rule id or a list of them", raw)
        else:
            for i in ids:
                if i not in known:
                    c.add(
                        node.line_of("rules"),
                        where,
                        "rules",
                        f"expected a rule id among {', '.join(sorted(known))}, found {i!r}",
                    )
            under_test = {e for e in event_ids if e in ids or e.split(".")[0] in ids}

    readings: dict[tuple[str, int], dict[str, float]] = {}
    base = start if start is not None else 0  # a bad start is reported; check the rest anyway
    _series(node, where, c, kinds, registry, base, interval, readings)
    _readings(node, where, c, kinds, registry, sole, base, readings)
    if "series" not in node and "readings" not in node:
        c.add(node.line, where, "series", "expected series, readings or both, found neither")

    subjects = {
        **registry,
        **{str(s.get("region")): {} for s in sensors},
        **{a["id"]: {} for a in areas or ()},
    }  # area warnings name their area
    expect = expected_events(node, where, c, event_ids, subjects, sole, base, within or 0)
    if len(c.problems) > before or start is None or start_at is None or start_at.tzinfo is None:
        return None
    tz = start_at.tzinfo
    rows = [
        {
            "sensor_id": sid,
            "kind": registry[sid]["kind"],
            "ts": datetime.fromtimestamp(ts / 1000, tz).isoformat(timespec="milliseconds"),
            "values": values,
        }
        for (sid, ts), values in sorted(readings.items(), key=lambda kv: kv[0][::-1])
    ]
    return Case(
        node["name"],
        start,
        tz,
        tuple(sensors),
        tuple(rows),
        tuple(expect),
        frozenset(under_test),
        other,
    )


def _check_field(
    name: Any, sid: str, registry: Mapping[str, Any], kinds: Mapping[str, Kind]
) -> str | None:
    kind = kinds.get(registry[sid].get("kind"))
    if kind is not None and name not in kind.field_names:
        return (
            f"expected a field of kind {kind.name} ({', '.join(sorted(kind.field_names))}), "
            f"found {name!r}"
        )
    return None


def _series(
    node: LineDict,
    where: str,
    c: Checker,
    kinds: Mapping[str, Kind],
    registry: Mapping[str, Any],
    start: int,
    interval: int | None,
    readings: dict[tuple[str, int], dict[str, float]],
) -> None:
    raw = node.get("series")
    if raw is None:
        return
    if not isinstance(raw, LineDict) or not raw:
        c.expect(node, "series", where, "a mapping of sensor id to its fields' series", raw)
        return
    for sid, fields in raw.items():
        key = f"series.{sid}"
        if sid not in registry:
            c.add(
                raw.line_of(str(sid)),
                where,
                key,
                f"expected a sensor of the case's sensors ({', '.join(registry)}), found {sid!r}",
            )
            continue
        if not isinstance(fields, LineDict) or not fields:
            c.add(
                raw.line_of(str(sid)),
                where,
                key,
                f"expected a mapping of field to series, found {describe(fields)}",
            )
            continue
        first, step = start, interval
        if "start" in fields:
            try:
                first = parse_time(fields["start"], start)
            except ValueError as exc:
                c.add(fields.line_of("start"), where, f"{key}.start", f"expected {exc}")
        if "interval" in fields:
            step = checked_duration(fields, "interval", where, c, None, f"{key}.interval")
        if step is None and "interval" not in fields and "interval" not in node:
            c.add(
                node.line,
                where,
                "interval",
                f"expected this key (or {key}.interval) for the series, found it missing",
            )
        for name, text in fields.items():
            if name in ("start", "interval"):
                continue
            problem = _check_field(name, sid, registry, kinds)
            try:
                if problem:
                    raise ValueError(problem)
                values = parse_series(text)
            except ValueError as exc:
                msg = str(exc) if problem else f"expected {exc}"
                c.add(fields.line_of(str(name)), where, f"{key}.{name}", msg)
                continue
            for i, v in enumerate(values):
                if v is not None and step is not None:
                    readings.setdefault((sid, first + i * step), {})[name] = v


def _readings(
    node: LineDict,
    where: str,
    c: Checker,
    kinds: Mapping[str, Kind],
    registry: Mapping[str, Any],
    sole: str | None,
    start: int,
    readings: dict[tuple[str, int], dict[str, float]],
) -> None:
    raw = node.get("readings")
    if raw is None:
        return
    if not isinstance(raw, LineList):
        c.expect(node, "readings", where, "a list of {sensor, ts, values}", raw)
        return
    for i, item in enumerate(raw):
        key = f"readings.{i + 1}"
        item = c.mapping(item, where, key, raw.item_lines[i])
        if item is None:
            continue
        for k in item:
            if k not in READING_KEYS:
                c.add(
                    item.line_of(str(k)),
                    where,
                    f"{key}.{k}",
                    f"expected one of {', '.join(READING_KEYS)}, found unknown key {k!r}",
                )
        sid = item.get("sensor", sole)
        if sid not in registry:
            found = "it missing" if "sensor" not in item else repr(sid)
            c.add(
                item.line_of("sensor"),
                where,
                f"{key}.sensor",
                f"expected a sensor of the case's sensors ({', '.join(registry)}), found {found}",
            )
        try:
            ts = parse_time(item.get("ts"), start)
        except ValueError as exc:
            c.add(item.line_of("ts"), where, f"{key}.ts", f"expected {exc}")
            continue
        if sid not in registry:
            continue
        values = item.get("values")
        if not isinstance(values, LineDict) or not values:
            c.add(
                item.line_of("values"),
                where,
                f"{key}.values",
                f"expected a mapping of field to number, found {describe(values)}",
            )
            continue
        for name, v in values.items():
            problem = _check_field(name, str(sid), registry, kinds)
            if problem is None and (not isinstance(v, int | float) or isinstance(v, bool)):
                problem = f"expected a number, found {describe(v)}"
            if problem:
                line = values.line_of(str(name)) if isinstance(values, LineDict) else item.line
                c.add(line, where, f"{key}.values.{name}", problem)
                continue
            readings.setdefault((str(sid), ts), {})[str(name)] = float(v)
