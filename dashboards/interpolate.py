"""Grafana's query interpolation, for running dashboard queries outside Grafana.

Template variables become what Grafana sends for them (several values as a regular
expression alternation), and macros become a concrete time range and interval.

>>> interpolate('SELECT x FROM r WHERE $timeFilter AND "region" =~ /^$region$/ '
...             'GROUP BY time($__interval)', {"region": ["anji", "deqing"]}, 0, 60000, "1m")
'SELECT x FROM r WHERE time >= 0ms and time <= 60000ms AND "region" =~ /^(anji|deqing)$/ \
GROUP BY time(1m)'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

#: Grafana's variable syntaxes: ``$name``, ``${name}``, ``${name:format}``, ``[[name]]``.
REFERENCE = re.compile(r"\$\{(?P<braced>\w+)(?::\w+)?\}|\$(?P<plain>\w+)|\[\[(?P<old>\w+)\]\]")
#: re.sub replacements: one backslash before the character, or two in PromQL strings.
ESCAPE_INFLUXQL = r"\\\g<1>"
ESCAPE_PROMQL = r"\\\\\g<1>"
_REGEX_SPECIAL = re.compile(r"([\\/^$*+?.()|{}\[\]])")
#: Variables Grafana defines itself (the InfluxQL ``$timeFilter`` included).
BUILTINS = frozenset(
    {
        "timeFilter",
        "__interval",
        "__interval_ms",
        "__rate_interval",
        "__range",
        "__range_s",
        "__range_ms",
        "__from",
        "__to",
        "interval",
        "__dashboard",
        "__org",
        "__user",
        "__name",
    }
)


def references(text: str) -> set[str]:
    """Every variable name referenced in a query.

    >>> sorted(references('x =~ /^$sensor$/ AND time <= ${__to}ms [[old]]'))
    ['__to', 'old', 'sensor']
    """
    return {m["braced"] or m["plain"] or m["old"] for m in REFERENCE.finditer(text)}


def format_values(values: Sequence[str], promql: bool = False) -> str:
    r"""Values as Grafana writes them into a query: one, or ``(a|b)`` when several.

    Regular-expression characters are escaped, twice in PromQL (its strings unescape once).

    >>> print(format_values(["127.0.0.1:9108"]), format_values(["a.b", "c"], promql=True))
    127\.0\.0\.1:9108 (a\\.b|c)
    """
    escape = ESCAPE_PROMQL if promql else ESCAPE_INFLUXQL
    escaped = [_REGEX_SPECIAL.sub(escape, v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def duration(ms: int) -> str:
    """A Grafana-style interval, e.g. ``5m`` or ``90s``.

    >>> duration(300000), duration(90000), duration(500)
    ('5m', '90s', '500ms')
    """
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def interpolate(
    text: str,
    variables: Mapping[str, Sequence[str] | str],
    start_ms: int,
    end_ms: int,
    interval: str = "1m",
    rate_interval: str = "1m",
    promql: bool = False,
) -> str:
    """Replace variables and macros; an unknown variable is an error (KeyError)."""
    macros = {
        "timeFilter": f"time >= {start_ms}ms and time <= {end_ms}ms",
        "__interval": interval,
        "interval": interval,
        "__rate_interval": rate_interval,
        "__interval_ms": str(_ms(interval)),
        "__from": str(start_ms),
        "__to": str(end_ms),
        "__range": duration(end_ms - start_ms),
        "__range_s": str((end_ms - start_ms) // 1000),
        "__range_ms": str(end_ms - start_ms),
    }

    def replace(m: re.Match[str]) -> str:
        name = m["braced"] or m["plain"] or m["old"]
        if name in macros:
            return macros[name]
        value = variables[name]
        return value if isinstance(value, str) else format_values(value, promql)

    return REFERENCE.sub(replace, text)


def _ms(interval: str) -> int:
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", interval)
    if not m:
        msg = f"expected an interval like 1m, found {interval!r}"
        raise ValueError(msg)
    return int(m[1]) * {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[m[2]]
