"""The wire format shared with the warning service: topics and JSON payloads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RawPayload:
    """A payload sent as-is, e.g. a malformed message from a faulty sensor.

    In a JSON Lines file it is written as its own text on one line, which is not a valid
    reading: the pipeline's file source rejects it with a reason, just as the MQTT path would.
    ``sensor_id``, ``kind`` and ``ts`` say which topic it goes to and when; they are not sent.
    """

    sensor_id: str
    kind: str
    ts: str
    text: str


def encode(reading: Mapping[str, Any] | RawPayload) -> bytes:
    """Serialise a reading as compact UTF-8 JSON, the MQTT payload and one JSON Lines line."""
    if isinstance(reading, RawPayload):
        return reading.text.encode("utf-8")
    # ensure_ascii=False keeps ids readable; compact separators keep ~200k messages cheap.
    return json.dumps(reading, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def topic(prefix: str, region: str, kind: str, sensor_id: str) -> str:
    """Return the readings topic ``{prefix}/readings/{region}/{kind}/{sensor_id}``."""
    return f"{prefix}/readings/{region}/{kind}/{sensor_id}"


def parse_ts(ts: str) -> datetime:
    """Parse a reading's RFC 3339 timestamp into an aware datetime."""
    when = datetime.fromisoformat(ts)
    if when.tzinfo is None:
        msg = f"timestamp must carry an offset, e.g. '+08:00'; got {ts!r}"
        raise ValueError(msg)
    return when
