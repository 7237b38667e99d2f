"""Parse and validate one message of the wire format into a Reading or Forecast, or say why not."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from warning.kinds import BUILTIN_KINDS, Kind
from warning.records import Forecast, RawMessage, Reading, Rejected
from warning.registry import ID_CHARS, ID_RULE, Registry

#: Every reason a message can be rejected for; metrics initialise a series for each.
REASONS = (
    "too_large",
    "not_utf8",
    "bad_json",
    "too_deep",
    "not_object",
    "missing_field",
    "bad_type",
    "bad_id",
    "bad_timestamp",
    "future_timestamp",
    "unknown_kind",
    "kind_mismatch",
    "unknown_sensor",
    "unknown_field",
    "topic_mismatch",
    "not_finite",
    "out_of_range",
    "no_values",
    "late",
    "bad_series",
    "superseded_forecast",
    "stale_forecast",
)
_ID_OK = ID_CHARS
#: Live readings before 2000-01-01 come from unset sensor clocks; replays of archives reach back
#: to 1900 (Taihu's 1999 flood, the 1985 FWI reference table, decades of gauge records).
LIVE_MIN_TS_MS = 946_684_800_000
REPLAY_MIN_TS_MS = -2_208_988_800_000  # 1900-01-01
_MAX_TS_MS = 32_503_680_000_000  # 3000-01-01
_ALLOWED_KEYS = frozenset({"sensor_id", "kind", "ts", "seq", "values"})
_FORECAST_KEYS = frozenset({"sensor_id", "kind", "issuer", "issued", "expires", "series"})
#: A forecast holds at most this many valid times, over at most this span after its issue.
MAX_FORECAST_STEPS = 500
MAX_FORECAST_SPAN_MS = 10 * 86_400_000


@dataclass(frozen=True)
class ParseSettings:
    """Limits and lookups the parser needs; built once at start-up."""

    registry: Registry
    kinds: Mapping[str, Kind]
    topic_prefix: str = "hazard"
    max_payload_bytes: int = 65_536
    max_depth: int = 8
    max_future_ms: int | None = 300_000
    min_ts_ms: int = LIVE_MIN_TS_MS
    #: A forecast is used at most this long after its issue (sooner if it says ``expires``).
    forecast_max_age_ms: int = 6 * 3_600_000


class _Reject(Exception):
    def __init__(self, reason: str, detail: str):
        self.reason, self.detail = reason, detail
        self.sensor_id: str | None = None  # once known


def _depth(obj: Any, limit: int) -> int:
    stack = [(obj, 1)]
    deepest = 0
    while stack:
        item, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, d + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, d + 1) for v in item)
    return deepest


def _no_constants(name: str) -> Any:
    raise _Reject("not_finite", f"JSON constant {name} is not a number")


# One decoder for all messages: json.loads with a keyword builds a new decoder per call.
_DECODER = json.JSONDecoder(parse_constant=_no_constants)


def parse_ts(value: Any, min_ms: int = REPLAY_MIN_TS_MS) -> int:
    """Parse RFC 3339 with an offset, or epoch seconds, into epoch milliseconds.

    >>> parse_ts("2026-07-05T14:00:00+08:00"), parse_ts(1783231200)
    (1783231200000, 1783231200000)
    >>> parse_ts("1985-04-13T12:00:00-07:00")
    482266800000
    """
    if isinstance(value, bool):
        raise _Reject("bad_timestamp", "ts must be RFC 3339 text or epoch seconds, not a bool")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise _Reject("bad_timestamp", f"ts {value!r} is not finite")
        ms = round(value * 1000)
    elif isinstance(value, str) and len(value) <= 40:
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise _Reject("bad_timestamp", f"ts {value!r} is not RFC 3339") from None
        if dt.tzinfo is None:
            raise _Reject("bad_timestamp", f"ts {value!r} has no UTC offset")
        ms = round(dt.timestamp() * 1000)
    else:
        raise _Reject(
            "bad_timestamp",
            f"ts must be RFC 3339 text or epoch seconds, found {type(value).__name__}",
        )
    if ms < min_ms or ms > _MAX_TS_MS:
        first = datetime.fromtimestamp(min_ms / 1000, UTC).year
        raise _Reject("bad_timestamp", f"ts {value!r} is outside {first}..3000")
    return ms


def _decode(payload: bytes | Mapping[str, Any], s: ParseSettings) -> Mapping[str, Any]:
    if isinstance(payload, Mapping):
        return payload
    if len(payload) > s.max_payload_bytes:
        raise _Reject("too_large", f"payload of {len(payload)} bytes exceeds {s.max_payload_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Reject(
            "not_utf8", f"payload is not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    try:
        obj = _DECODER.decode(text)
    except RecursionError:
        raise _Reject("too_deep", "JSON nested too deeply") from None
    except ValueError as exc:
        raise _Reject("bad_json", f"invalid JSON: {str(exc)[:120]}") from None
    # k opening brackets nest at most k deep (k + 1 with leaves), so skip the walk when few.
    if text.count("{") + text.count("[") >= s.max_depth and _depth(obj, s.max_depth) > s.max_depth:
        raise _Reject("too_deep", f"JSON nested deeper than {s.max_depth}")
    if not isinstance(obj, dict):
        raise _Reject("not_object", f"payload is a JSON {type(obj).__name__}, not an object")
    return obj


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Reject("bad_type", f"{what} must be text, found {type(value).__name__}")
    if not value or len(value) > 64 or not _ID_OK.issuperset(value):
        raise _Reject("bad_id", f"{what} {value[:70]!r} must be {ID_RULE}")
    return value


def is_forecast_topic(topic: str, s: ParseSettings) -> bool:
    """Return True for ``<prefix>/forecasts/...`` topics.

    >>> is_forecast_topic("hazard/forecasts/wuxing/rainfall/rg-1", default_settings())
    True
    """
    return topic.startswith(f"{s.topic_prefix}/forecasts/")


def _topic_parts(
    topic: str, s: ParseSettings, what: str = "readings"
) -> tuple[str, str, str] | None:
    if not topic:
        return None
    parts = topic.split("/")
    prefix = s.topic_prefix.split("/")
    if (
        parts[: len(prefix)] != prefix
        or parts[len(prefix) : len(prefix) + 1] != [what]
        or len(parts) != len(prefix) + 4
    ):
        raise _Reject(
            "topic_mismatch", f"topic {topic[:120]!r} is not {s.topic_prefix}/{what}/REGION/KIND/ID"
        )
    region, kind, sensor_id = parts[-3:]
    return region, kind, sensor_id


def _head(
    msg: RawMessage, s: ParseSettings, what: str, required: tuple[str, ...], allowed: frozenset[str]
) -> tuple[Mapping[str, Any], str, Kind, str]:
    """Check topic, keys, sensor, kind and registry; return object, sensor id, kind, region."""
    topic = _topic_parts(msg.topic, s, what)
    obj = _decode(msg.payload, s)
    for key in required:
        if key not in obj:
            raise _Reject("missing_field", f"required key {key!r} is missing")
    extra = set(obj) - allowed
    if extra:
        raise _Reject("unknown_field", f"unknown keys {sorted(map(str, extra))[:5]}")
    sensor_id = _check_id(obj["sensor_id"], "sensor_id")
    try:
        kind, region = _kind_region(obj, sensor_id, topic, s)
    except _Reject as rej:
        rej.sensor_id = sensor_id
        raise
    return obj, sensor_id, kind, region


def _kind_region(
    obj: Mapping[str, Any], sensor_id: str, topic: tuple[str, str, str] | None, s: ParseSettings
) -> tuple[Kind, str]:
    kind_name = _check_id(obj["kind"], "kind")
    kind = s.kinds.get(kind_name)
    if kind is None:
        raise _Reject("unknown_kind", f"kind {kind_name!r} is not declared")
    if topic is not None and (topic[1], topic[2]) != (kind_name, sensor_id):
        raise _Reject(
            "topic_mismatch",
            f"topic says {topic[1]}/{topic[2]}, payload says {kind_name}/{sensor_id}",
        )
    attrs = s.registry.get(sensor_id)
    if attrs is None:
        if not s.registry.accept_unknown:
            raise _Reject("unknown_sensor", f"sensor {sensor_id!r} is not in the registry")
        # The region becomes a level of the warnings topic: the same rule as for ids.
        region = _check_id(topic[0], "region") if topic else "unknown"
    else:
        if attrs.get("kind") != kind_name:
            raise _Reject(
                "kind_mismatch",
                f"registry says kind {attrs.get('kind')!r}, payload says {kind_name!r}",
            )
        region = str(attrs.get("region", "unknown"))
    return kind, region


def parse_message(msg: RawMessage, s: ParseSettings) -> Reading | Rejected:
    """Validate one message against the wire format, the registry and physical ranges."""
    sensor_id = None
    try:
        obj, sensor_id, kind, region = _head(
            msg, s, "readings", ("sensor_id", "kind", "ts", "values"), _ALLOWED_KEYS
        )
        kind_name = kind.name
        ts = parse_ts(obj["ts"], s.min_ts_ms)
        if s.max_future_ms is not None and ts > msg.received_at * 1000 + s.max_future_ms:
            raise _Reject(
                "future_timestamp",
                f"ts {obj['ts']!r} is more than {s.max_future_ms // 1000} s in the future",
            )
        seq = obj.get("seq")
        if seq is not None and (
            not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63
        ):
            raise _Reject("bad_type", f"seq must be a non-negative integer, found {seq!r}")
        values = _values(obj["values"], kind)
    except _Reject as rej:
        return Rejected(msg.topic, msg.payload, rej.reason, rej.detail, sensor_id or rej.sensor_id)
    return Reading(sensor_id, kind_name, region, ts, values, seq, msg.received_at)


def parse_forecast(msg: RawMessage, s: ParseSettings) -> Forecast | Rejected:
    """Validate one forecast (``<prefix>/forecasts/REGION/KIND/ID``, docs/FORECASTS.md)."""
    sensor_id = None
    try:
        obj, sensor_id, kind, region = _head(
            msg, s, "forecasts", ("sensor_id", "kind", "issuer", "issued", "series"), _FORECAST_KEYS
        )
        issuer = _check_id(obj["issuer"], "issuer")
        issued = parse_ts(obj["issued"], s.min_ts_ms)
        if s.max_future_ms is not None and issued > msg.received_at * 1000 + s.max_future_ms:
            raise _Reject(
                "future_timestamp",
                f"issued {obj['issued']!r} is more than {s.max_future_ms // 1000} s in the future",
            )
        expires = issued + s.forecast_max_age_ms
        if obj.get("expires") is not None:
            stated = parse_ts(obj["expires"], s.min_ts_ms)
            if stated <= issued:
                raise _Reject("bad_timestamp", f"expires {obj['expires']!r} is not after issued")
            expires = min(expires, stated)
        valid, values = _series(obj["series"], kind, issued)
    except _Reject as rej:
        return Rejected(msg.topic, msg.payload, rej.reason, rej.detail, sensor_id or rej.sensor_id)
    return Forecast(
        sensor_id, kind.name, region, issuer, issued, expires, valid, values, msg.received_at
    )


def _series(
    raw: Any, kind: Kind, issued: int
) -> tuple[tuple[int, ...], dict[str, tuple[float, ...]]]:
    """Check a forecast's ``series``: increasing valid times after the issue, same fields."""
    if not isinstance(raw, list) or not raw:
        raise _Reject("bad_series", "series must be a non-empty list of {valid, values}")
    if len(raw) > MAX_FORECAST_STEPS:
        raise _Reject("bad_series", f"series has {len(raw)} steps, over {MAX_FORECAST_STEPS}")
    valid: list[int] = []
    columns: dict[str, list[float]] = {}
    for i, step in enumerate(raw):
        if not isinstance(step, dict) or set(step) != {"valid", "values"}:
            raise _Reject(
                "bad_series",
                f"series[{i}] must be an object with exactly the keys valid and values",
            )
        try:
            t = parse_ts(step["valid"])
            row = _values(step["values"], kind)
        except _Reject as rej:
            raise _Reject(rej.reason, f"series[{i}]: {rej.detail}") from None
        if t <= (valid[-1] if valid else issued):
            raise _Reject(
                "bad_series",
                f"series[{i}]: valid time {step['valid']!r} is not after "
                f"the {'previous valid time' if valid else 'issue'}",
            )
        if t - issued > MAX_FORECAST_SPAN_MS:
            raise _Reject(
                "bad_series",
                f"series[{i}]: valid time {step['valid']!r} is more than 10 days after the issue",
            )
        if valid and set(row) != set(columns):
            raise _Reject(
                "bad_series",
                f"series[{i}]: fields {sorted(row)} differ from the first step's {sorted(columns)}",
            )
        valid.append(t)
        for name, v in row.items():
            columns.setdefault(name, []).append(v)
    return tuple(valid), {k: tuple(v) for k, v in columns.items()}


def _values(raw: Any, kind: Kind) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise _Reject("bad_type", f"values must be an object, found {type(raw).__name__}")
    if not raw:
        raise _Reject("no_values", "values is empty")
    out: dict[str, float] = {}
    for name, value in raw.items():
        spec = kind.fields.get(name)
        if spec is None:
            raise _Reject(
                "unknown_field",
                f"field {str(name)[:40]!r} is not a field of kind "
                f"{kind.name!r} ({', '.join(kind.fields)})",
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Reject("bad_type", f"{name} must be a number, found {type(value).__name__}")
        value = float(value)
        if not math.isfinite(value):
            raise _Reject("not_finite", f"{name} is {value}")
        if not spec.low <= value <= spec.high:
            raise _Reject(
                "out_of_range",
                f"{name}={value:g} is outside {spec.low:g}..{spec.high:g} {spec.unit}".rstrip(),
            )
        out[name] = value
    return out


def default_settings(registry: Registry | None = None) -> ParseSettings:
    """Return settings with built-in kinds and an empty registry accepting unknown sensors."""
    return ParseSettings(registry or Registry({}, accept_unknown=True), BUILTIN_KINDS)
