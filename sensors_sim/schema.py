"""Strict parsing helpers shared by the scenario and event loaders."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
_UNIT_HOURS = {"h": 1.0, "m": 1.0 / 60.0, "s": 1.0 / 3600.0}


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the place and the reason."""


def parse_hours(value: object, where: str) -> float:
    """Parse a duration such as ``"5m"``, ``"6h"`` or ``"1h30m"`` into hours.

    >>> parse_hours("1h30m", "interval"), parse_hours("5m", "interval") * 60
    (1.5, 5.0)
    """
    # Bare numbers are rejected on purpose: "5" could mean seconds, minutes or hours.
    if not isinstance(value, str) or not value.strip():
        msg = f"{where}: expected a duration like '5m', '6h' or '1h30m'; got {value!r}"
        raise ScenarioError(msg)
    text = value.strip()
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_HOURS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        msg = f"{where}: expected a duration like '5m', '6h' or '1h30m'; got {value!r}"
        raise ScenarioError(msg)
    return total


def parse_number(value: object, where: str) -> float:
    """Return ``value`` as a float, refusing booleans and strings."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{where}: expected a number; got {value!r}"
        raise ScenarioError(msg)
    return float(value)


def parse_ids(value: object, where: str) -> tuple[str, ...]:
    """Return a non-empty list of sensor ids as a tuple."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        msg = f"{where}: expected a sensor id or a list of sensor ids; got {value!r}"
        raise ScenarioError(msg)
    return tuple(value)


def parse_profile(value: object, where: str) -> tuple[tuple[float, float], ...]:
    """Parse ``[[offset, value], ...]`` breakpoints with increasing offsets."""
    if not isinstance(value, list) or len(value) < 2:
        msg = f"{where}: expected a list of at least two [offset, value] pairs; got {value!r}"
        raise ScenarioError(msg)
    points: list[tuple[float, float]] = []
    for i, item in enumerate(value):
        if not isinstance(item, list) or len(item) != 2:
            msg = f"{where}[{i}]: expected a pair [offset, value]; got {item!r}"
            raise ScenarioError(msg)
        at = parse_hours(item[0], f"{where}[{i}][0]")
        if points and at <= points[-1][0]:
            msg = f"{where}[{i}]: offsets must increase; {item[0]!r} is not after the previous one"
            raise ScenarioError(msg)
        points.append((at, parse_number(item[1], f"{where}[{i}][1]")))
    return tuple(points)


def parse_number_map(value: object, where: str) -> tuple[tuple[str, float], ...]:
    """Parse a mapping of field name to number into sorted pairs."""
    if not isinstance(value, dict) or not value:
        msg = f"{where}: expected a mapping of field to number; got {value!r}"
        raise ScenarioError(msg)
    return tuple(sorted((str(k), parse_number(v, f"{where}.{k}")) for k, v in value.items()))


def spec(key: str, parse: Callable[[object, str], Any], **kwargs: Any) -> Any:
    """Declare a dataclass field read from YAML key ``key`` with parser ``parse``."""
    return dataclasses.field(metadata={"key": key, "parse": parse}, **kwargs)


def from_mapping(cls: type[T], data: object, where: str, *, skip: tuple[str, ...] = ()) -> T:
    """Build dataclass ``cls`` from a YAML mapping, rejecting unknown and missing keys."""
    if not isinstance(data, Mapping):
        msg = f"{where}: expected a mapping; got {data!r}"
        raise ScenarioError(msg)
    kwargs: dict[str, Any] = {}
    known = set(skip)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = field.metadata.get("key", field.name)
        known.add(key)
        if key in data:
            kwargs[field.name] = field.metadata["parse"](data[key], f"{where}.{key}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            msg = f"{where}: missing required key {key!r}"
            raise ScenarioError(msg)
    unknown = sorted(set(map(str, data)) - known)
    if unknown:
        msg = f"{where}: unknown key(s) {unknown}; expected some of {sorted(known - set(skip))}"
        raise ScenarioError(msg)
    return cls(**kwargs)
