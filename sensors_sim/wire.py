"""The wire format shared with the warning service: topics and JSON payloads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any


def encode(reading: Mapping[str, Any]) -> bytes:
    """Serialise a reading as compact UTF-8 JSON, the MQTT payload and one JSON Lines line."""
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
