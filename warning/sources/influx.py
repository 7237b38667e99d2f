"""Recorded readings read back from InfluxDB (InfluxQL ``/query``), for ``backtest``.

``/query`` is served by InfluxDB 1.x, and by 2.x and 3.x through their v1 compatibility API
(a DBRP mapping), so one reader covers every version the sinks write to.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from warning.config import Influx
from warning.sinks.writers import V1Writer

_TAGS = ("sensor_id", "kind", "region")


class ReadError(Exception):
    """InfluxDB could not be read; the message says why."""


def query_readings(
    cfg: Influx, start: str, end: str, chunk: int = 10_000
) -> Iterator[dict[str, Any]]:
    """Yield the stored readings in ``[start, end)`` as wire-format objects, in time order."""
    q = f"SELECT * FROM reading WHERE time >= '{_rfc3339(start)}' AND time < '{_rfc3339(end)}'"
    params = {
        "db": cfg.database,
        "q": q,
        "epoch": "ms",
        "chunked": "true",
        "chunk_size": str(chunk),
    }
    if cfg.retention_policy:
        params["rp"] = cfg.retention_policy
    auth = V1Writer(cfg)  # the same credentials, headers and TLS as the writes
    url = f"{cfg.url.rstrip('/')}/query?{urllib.parse.urlencode(params)}"
    req = urllib.request.Request(
        url, headers={k: v for k, v in auth.headers.items() if k == "Authorization"}
    )
    try:
        with urllib.request.urlopen(req, timeout=auth.timeout, context=auth.context) as resp:
            for line in resp:
                if line.strip():
                    yield from _rows(json.loads(line))
    except urllib.error.HTTPError as exc:
        msg = f"InfluxDB answered {exc.code}: {exc.read()[:300].decode('utf-8', 'replace')}"
        raise ReadError(msg) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReadError(f"InfluxDB unreachable: {getattr(exc, 'reason', exc)}") from None


def _rows(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for result in body.get("results", []):
        if "error" in result:
            raise ReadError(f"InfluxDB query failed: {result['error']}")
        for series in result.get("series", []):
            columns = series["columns"]
            for row in series["values"]:
                record = dict(zip(columns, row, strict=True))
                out: dict[str, Any] = {
                    "sensor_id": record.get("sensor_id"),
                    "kind": record.get("kind"),
                    "ts": record["time"] / 1000,
                }
                if record.get("seq") is not None:
                    out["seq"] = int(record["seq"])
                out["values"] = {
                    k: v
                    for k, v in record.items()
                    if k not in (*_TAGS, "time", "seq") and v is not None
                }
                yield out


def _rfc3339(text: str) -> str:
    from datetime import UTC, datetime

    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        msg = f"expected a time with a UTC offset, found {text!r}"
        raise ReadError(msg)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def export_readings(cfg: Influx, start: str, end: str, path: Path) -> int:
    """Write the readings of ``[start, end)`` to a JSON Lines file; return how many."""
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for obj in query_readings(cfg, start, end):
            f.write(json.dumps(obj) + "\n")
            n += 1
    return n
