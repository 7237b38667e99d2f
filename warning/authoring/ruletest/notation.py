"""The compact notation of rule tests: series (``0x12 5x6 _x3``), durations, times."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from warning.records import parse_duration_ms
from warning.yamlfile import Checker, LineDict, describe

NOTATION = "values like '0x12 5x6 3.8..4.6x9 _x3'"

_UNITS_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000}
_NUM = r"-?\d+(?:\.\d+)?"
_TOKEN = re.compile(rf"(?:(?P<gap>_)|(?P<a>{_NUM})(?:\.\.(?P<b>{_NUM}))?)(?:x(?P<n>\d+))?")


def parse_duration(text: str) -> int:
    """Parse a duration, compound or not (``5m``, ``7h15m``, ``1d2h``), into milliseconds.

    >>> parse_duration("7h15m"), parse_duration("90s")
    (26100000, 90000)
    """
    try:
        if not isinstance(text, str) or text != text.strip():
            raise ValueError
        return parse_duration_ms(text)
    except ValueError:
        msg = f"a duration like 5m, 3h or 7h15m, found {describe(text)}"
        raise ValueError(msg) from None


def format_offset(ms: int) -> str:
    """Format a time offset the way tests write it.

    >>> format_offset(26_100_000), format_offset(-300_000), format_offset(0)
    ('+7h15m', '-5m', '+0m')
    """
    sign, ms = ("-", -ms) if ms < 0 else ("+", ms)
    parts = []
    for unit, size in _UNITS_MS.items():
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    if ms:
        parts.append(f"{ms / 1000:g}s")
    return sign + ("".join(parts) or "0m")


def parse_series(text: str) -> list[float | None]:
    """Expand the compact series notation; None marks an interval without a reading.

    ``VxN`` is N readings of V; ``A..BxN`` N readings evenly from A to B; ``_xN`` N gaps.

    >>> parse_series("0x2 5 1..2x3 _x2")
    [0.0, 0.0, 5.0, 1.0, 1.5, 2.0, None, None]
    """
    out: list[float | None] = []
    for token in str(text).split():
        m = _TOKEN.fullmatch(token)
        n = int(m["n"]) if m and m["n"] else 1
        if m is None or n < 1 or (m["b"] is not None and (m["n"] is None or n < 2)):
            msg = f"{NOTATION}, found {token!r}"
            raise ValueError(msg)
        if m["gap"]:
            out.extend([None] * n)
        elif m["b"] is None:
            out.extend([float(m["a"])] * n)
        else:
            a, b = float(m["a"]), float(m["b"])
            out.extend(round(a + (b - a) * i / (n - 1), 9) for i in range(n))
    if not out:
        msg = f"{NOTATION}, found nothing"
        raise ValueError(msg)
    return out


def parse_time(value: Any, start_ms: int | None) -> int:
    """Return epoch ms of an RFC 3339 time or, given a start, a ``+7h15m`` offset from it."""
    if isinstance(value, str) and value.startswith("+") and start_ms is not None:
        try:
            return start_ms + parse_duration(value[1:])
        except ValueError:
            pass  # said below, with what a time may be
    found = parse_datetime(value)
    if found is not None:
        return round(found.timestamp() * 1000)
    rel = " or an offset like +7h15m" if start_ms is not None else ""
    msg = f"an RFC 3339 time with an offset{rel}, found {found_text(value)}"
    raise ValueError(msg)


def parse_datetime(value: Any) -> datetime | None:
    """An RFC 3339 time with an offset (text or YAML's datetime), else None."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) and value.tzinfo is not None else None


def found_text(value: Any) -> str:
    """What a problem says was found, dates as text."""
    return describe(value.isoformat() if isinstance(value, date) else value)


def checked_duration(
    node: LineDict, key: str, where: str, c: Checker, default: int | None, shown: str = ""
) -> int | None:
    """Return ``node[key]`` as milliseconds, ``default`` if absent; report a bad one."""
    if key not in node:
        return default
    try:
        ms = parse_duration(node[key])
    except ValueError as exc:
        c.add(node.line_of(key), where, shown or key, f"expected {exc}")
        return default
    if key == "interval" and ms <= 0:
        c.add(
            node.line_of(key),
            where,
            shown or key,
            f"expected a positive duration, found {describe(node[key])}",
        )
        return default
    return ms
