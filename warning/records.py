"""Plain data that flows through the pipeline: readings, rejections, ticks and warning events."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo


class Level(enum.IntEnum):
    """A warning grade; higher is more severe (blue IV ... red I)."""

    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    @property
    def colour(self) -> str:
        """The lower-case colour name used on the wire."""
        return self.name.lower()

    @classmethod
    def parse(cls, name: str) -> Level:
        """Return the level for a colour name such as ``"orange"``."""
        return cls[name.upper()]


LEVEL_NAMES = tuple(level.colour for level in Level)

#: CAP 1.2 severity per level (DOMAIN.md).
CAP_SEVERITY = {
    Level.BLUE: "Minor",
    Level.YELLOW: "Moderate",
    Level.ORANGE: "Severe",
    Level.RED: "Extreme",
}


@dataclass(frozen=True, slots=True)
class RawMessage:
    """One message as it arrived, before any parsing.

    ``payload`` is bytes from MQTT, or an already decoded object from a file source.
    ``received_at`` is the wall-clock arrival time (seconds), used only for delay metrics
    and the future-timestamp check.
    """

    topic: str
    payload: bytes | dict[str, Any]
    received_at: float
    mid: int = 0


@dataclass(frozen=True, slots=True)
class Reading:
    """A validated sensor reading; ``ts`` is event time in epoch milliseconds."""

    sensor_id: str
    kind: str
    region: str
    ts: int
    values: dict[str, float]
    seq: int | None = None
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Forecast:
    """A validated forecast for one sensor: who issued it when, and values at valid times.

    ``valid`` holds increasing epoch-ms valid times; ``values[field][i]`` is the field's value
    at ``valid[i]`` (for an amount such as ``rain_mm``: the amount since the previous valid
    time, or since ``issued`` for the first). Past ``expires`` the forecast is not used.
    """

    sensor_id: str
    kind: str
    region: str
    issuer: str
    issued: int
    expires: int
    valid: tuple[int, ...]
    values: dict[str, tuple[float, ...]]
    received_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message refused by the pipeline, with a machine-readable reason and a human detail."""

    topic: str
    payload: bytes | dict[str, Any] | str
    reason: str
    detail: str
    sensor_id: str | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """An event-time watermark: no reading older than ``ts`` (epoch ms) is expected any more.

    ``source`` names the input partition that promises it: with several partitions (a
    cluster), event time has advanced only as far as the slowest of them.
    """

    ts: int
    source: str = ""


@dataclass(frozen=True, slots=True)
class Seen:
    """A sensor was heard from at event time ``ts`` (feeds silence detection)."""

    sensor_id: str
    kind: str
    region: str
    ts: int


@dataclass(frozen=True, slots=True)
class WarningEvent:
    """One lifecycle event of a warning episode, as published and stored."""

    warning_id: str
    event: str  # raised | escalated | deescalated | confirmed | cleared
    rule_id: str
    hazard: str
    level: Level | None
    previous_level: Level | None
    subject: str
    region: str
    ts: int
    values: dict[str, float | None] = field(default_factory=dict)
    message: str = ""
    instruction: str = ""
    certainty: str = "Observed"  # Likely: a level expected from a forecast or nowcast
    received_at: float = 0.0
    #: Per language: message, instruction, place (the sensor's name), labels and units of
    #: values ({name: text}); ``message``/``instruction`` above are the default language's.
    texts: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The value that decided the level: {name, value, op, threshold}; empty if none did.
    measure: dict[str, Any] = field(default_factory=dict)
    area: str = ""  # set when the subject is an area (a region or a registry group)

    def to_dict(self, tz: tzinfo) -> dict[str, Any]:
        """Return the wire-format object of DESIGN.md (``level`` absent on ``cleared``)."""
        out: dict[str, Any] = {
            "warning_id": self.warning_id,
            "event": self.event,
            "rule_id": self.rule_id,
            "hazard": self.hazard,
        }
        if self.level is not None:
            out["level"] = self.level.colour
        if self.previous_level is not None:
            out["previous_level"] = self.previous_level.colour
        out.update(
            subject=self.subject,
            region=self.region,
            ts=format_ts(self.ts, tz),
            values=self.values,
            message=self.message,
            instruction=self.instruction,
            certainty=self.certainty,
        )
        if self.texts:
            out["texts"] = self.texts
        if self.measure:
            out["measure"] = self.measure
        if self.area:
            out["area"] = self.area
        return out


def format_ts(ts_ms: int, tz: tzinfo) -> str:
    """Format epoch milliseconds as RFC 3339 in ``tz``, with milliseconds only when needed.

    >>> format_ts(1783231200000, ZoneInfo("Asia/Shanghai"))
    '2026-07-05T14:00:00+08:00'
    """
    dt = datetime.fromtimestamp(ts_ms / 1000, tz)
    spec = "milliseconds" if ts_ms % 1000 else "seconds"
    return dt.isoformat(timespec=spec)


_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|[smhd]))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|[smhd])")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration_ms(text: str) -> int:
    """Parse a duration such as ``250ms``, ``90s``, ``1.5h`` or ``7h15m`` into milliseconds.

    >>> parse_duration_ms("1.5h"), parse_duration_ms("250ms"), parse_duration_ms("7h15m")
    (5400000, 250, 26100000)
    """
    text = text.strip() if isinstance(text, str) else ""
    if not _DURATION.fullmatch(text):
        msg = f"a duration like 30s, 10m, 3h or 1d; found {text!r}"
        raise ValueError(msg)
    return round(sum(float(n) * _UNIT_MS[u] for n, u in _DURATION_PART.findall(text)))


def format_duration_ms(ms: int) -> str:
    """Format milliseconds as the shortest exact duration literal.

    >>> format_duration_ms(10_800_000)
    '3h'
    """
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0 and ms:
            return f"{ms // size}{unit}"
    return f"{ms / 1000:g}s"


def zone(name: str) -> tzinfo:
    """Return the named IANA time zone (UTC for ``"UTC"``)."""
    return UTC if name.upper() == "UTC" else ZoneInfo(name)


ONE_HOUR_MS = int(timedelta(hours=1).total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class IndicatorRecord:
    """One computation of an indicator for a sensor, as stored and written by backtest."""

    sensor_id: str
    kind: str
    region: str
    ts: int
    indicator: str
    values: dict[str, float | None]

    def to_dict(self, tz: tzinfo) -> dict[str, Any]:
        """Return ``{"sensor_id", "ts", "indicator", "values"}``."""
        return {
            "sensor_id": self.sensor_id,
            "ts": format_ts(self.ts, tz),
            "indicator": self.indicator,
            "values": self.values,
        }
