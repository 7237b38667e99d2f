"""Scenario files: load a shipped scenario by name or any scenario YAML by path."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sensors_sim.events import Creep, Event, Fault, Level, Weather, parse_event
from sensors_sim.network import Network, load_network
from sensors_sim.schema import ScenarioError, parse_hours, parse_ids

__all__ = ["Scenario", "ScenarioError", "load_scenario", "parse_scenario", "shipped_scenarios"]

_KEYS = {"name", "description", "network", "start", "duration", "interval", "seed", "events"}
#: Keys a scenario may leave out.
_OPTIONAL = {"description", "sensors"}


@dataclass(frozen=True)
class Scenario:
    """A reproducible stretch of sensor history: network, time span, seed and events."""

    name: str
    description: str
    network: Network
    start: datetime
    duration: timedelta
    interval: timedelta
    seed: int
    events: tuple[Event, ...]

    @cached_property
    def faults(self) -> dict[str, tuple[Fault, ...]]:
        """The scenario's sensor faults, by sensor id."""
        out: dict[str, list[Fault]] = {}
        for e in self.events:
            if isinstance(e, Fault):
                out.setdefault(e.sensor, []).append(e)
        return {k: tuple(v) for k, v in out.items()}

    @property
    def steps(self) -> int:
        """Number of reports each sensor makes."""
        return self.duration // self.interval


def shipped_scenarios() -> list[str]:
    """Return the names of the scenarios shipped inside the package."""
    folder = resources.files("sensors_sim").joinpath("scenarios")
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name (``"storm"``) or a scenario file by path."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith((".yaml", ".yml")) or "/" in text:
        path = Path(name_or_path)
        return parse_scenario(path.read_text(encoding="utf-8"), source=str(path))
    resource = resources.files("sensors_sim").joinpath("scenarios", f"{text}.yaml")
    if not resource.is_file():
        msg = f"unknown scenario {text!r}; expected a file path or one of {shipped_scenarios()}"
        raise ScenarioError(msg)
    return parse_scenario(resource.read_text(encoding="utf-8"), source=f"{text}.yaml")


def _start(value: object, where: str) -> datetime:
    # YAML turns an unquoted timestamp into a datetime; accept both forms but insist on an offset.
    try:
        start = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        start = None
    if start is None or start.tzinfo is None:
        example = "'2026-07-05T12:00:00+08:00'"
        msg = f"{where}: expected an RFC 3339 time with offset, e.g. {example}; got {value!r}"
        raise ScenarioError(msg)
    return start


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse scenario YAML ``text``; errors name ``source`` and the offending key."""
    data = _document(text, source)
    network = _network(data, source)
    interval, duration = _timing(data, source)
    seed = data["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        msg = f"{source}.seed: expected a non-negative integer; got {seed!r}"
        raise ScenarioError(msg)
    if not isinstance(data["events"], list):
        msg = f"{source}.events: expected a list; got {data['events']!r}"
        raise ScenarioError(msg)
    events = tuple(parse_event(e, f"{source}.events[{i}]") for i, e in enumerate(data["events"]))
    _check_events(events, network, source)
    return Scenario(
        name=str(data["name"]),
        description=str(data.get("description", "")),
        network=network,
        start=_start(data["start"], f"{source}.start"),
        duration=duration,
        interval=interval,
        seed=seed,
        events=events,
    )


def _document(text: str, source: str) -> dict[str, Any]:
    """The YAML mapping, with exactly the known keys and every required one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"{source}:{line} not valid YAML: {getattr(exc, 'problem', exc)}"
        raise ScenarioError(msg) from None
    if not isinstance(data, dict):
        msg = f"{source}: expected a mapping at the top level; got {type(data).__name__}"
        raise ScenarioError(msg)
    unknown = sorted(set(map(str, data)) - _KEYS - _OPTIONAL)
    if unknown:
        msg = f"{source}: unknown key(s) {unknown}; expected some of {sorted(_KEYS | _OPTIONAL)}"
        raise ScenarioError(msg)
    missing = sorted(_KEYS - _OPTIONAL - set(data))
    if missing:
        msg = f"{source}: missing required key(s) {missing}"
        raise ScenarioError(msg)
    return data


def _network(data: dict[str, Any], source: str) -> Network:
    """The named network, or the part of it that ``sensors`` lists."""
    try:
        network = load_network(str(data["network"]))
    except KeyError as exc:
        msg = f"{source}.network: {exc.args[0]}"
        raise ScenarioError(msg) from None
    if "sensors" in data:
        # A scenario may run only part of a network, e.g. the weather stations for fire season.
        wanted = parse_ids(data["sensors"], f"{source}.sensors")
        known = {s.id for s in network}
        unknown_ids = sorted(set(wanted) - known)
        if unknown_ids:
            msg = f"{source}.sensors: {unknown_ids} not in network {network.name!r}"
            raise ScenarioError(msg)
        network = Network(network.name, tuple(s for s in network if s.id in wanted))
    return network


def _timing(data: dict[str, Any], source: str) -> tuple[timedelta, timedelta]:
    """The report interval and the duration: whole seconds, a whole number of steps."""
    duration_h = parse_hours(data["duration"], f"{source}.duration")
    interval_h = parse_hours(data["interval"], f"{source}.interval")
    # Whole seconds keep timestamps exact; a whole number of steps keeps the end exact.
    interval = timedelta(seconds=round(interval_h * 3600))
    duration = timedelta(seconds=round(duration_h * 3600))
    seconds = interval.total_seconds()
    if seconds < 1 or not math.isclose(interval_h * 3600, seconds):
        msg = f"{source}.interval: expected whole seconds, at least 1s; got {data['interval']!r}"
        raise ScenarioError(msg)
    if duration <= timedelta(0) or duration % interval:
        got = data["duration"]
        msg = f"{source}.duration: expected a positive multiple of interval; got {got!r}"
        raise ScenarioError(msg)
    return interval, duration


def _check_events(events: tuple[Event, ...], network: Network, source: str) -> None:
    """Check that events name sensors of the right kind and every level sensor has a base."""
    kinds = {s.id: s.kind for s in network}
    for i, event in enumerate(events):
        where = f"{source}.events[{i}]"
        named = [*event.sensors, *(event.driven_by if isinstance(event, Level) else ())]
        for sid in named:
            if sid not in kinds:
                msg = f"{where}: sensor {sid!r} is not in network {network.name!r}"
                raise ScenarioError(msg)
        for sid in event.sensors:
            if kinds[sid] not in event.kinds:
                expected = sorted(event.kinds)
                msg = f"{where}: sensor {sid!r} is a {kinds[sid]}; expected kind {expected}"
                raise ScenarioError(msg)
        if isinstance(event, Fault) and event.field is not None:
            fields = network.get(event.sensor).fields
            if event.field not in fields:
                msg = f"{where}.field: {event.sensor!r} reports {list(fields)}; got {event.field!r}"
                raise ScenarioError(msg)
        if isinstance(event, Level):
            for sid in event.driven_by:
                if kinds[sid] not in ("rainfall", "weather"):
                    msg = f"{where}.driven_by: {sid!r} does not measure rain"
                    raise ScenarioError(msg)
    # A water level has no sensible default, so each station must be given one explicitly;
    # two creep or weather events for one sensor would contradict each other.
    for sensor in network:
        for cls in (Level, Creep, Weather):
            count = sum(isinstance(e, cls) and e.sensor == sensor.id for e in events)
            needed = sensor.kind == "reservoir" and cls is Level
            if count > 1 or (needed and count == 0):
                wanted = f"{'exactly' if needed else 'at most'} one {cls.__name__.lower()!r} event"
                msg = f"{source}: sensor {sensor.id!r} needs {wanted}; found {count}"
                raise ScenarioError(msg)
