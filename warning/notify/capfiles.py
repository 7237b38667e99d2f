"""Render a backtest's warning events (JSON Lines) as CAP files and the feed at its end."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from warning.model import Level, WarningEvent
from warning.notify.cap import CapSettings, identifier
from warning.notify.feed import CapFeed
from warning.registry import Registry

EVENTS = ("raised", "escalated", "deescalated", "cleared")


def event_from_dict(obj: Mapping[str, Any]) -> WarningEvent:
    """Read a warning event back from its wire format (DESIGN.md); raise ValueError if bad.

    >>> event_from_dict({"warning_id": "w", "event": "raised", "rule_id": "r", "hazard": "h",
    ...     "level": "red", "subject": "s", "region": "x", "ts": "1970-01-01T08:00:01+08:00"}).ts
    1000
    """
    try:
        if obj["event"] not in EVENTS:
            msg = f"event must be one of {', '.join(EVENTS)}; found {obj['event']!r}"
            raise ValueError(msg)
        ts = datetime.fromisoformat(obj["ts"])
        if ts.tzinfo is None:
            msg = f"ts must carry a UTC offset; found {obj['ts']!r}"
            raise ValueError(msg)
        level = obj.get("level")
        previous = obj.get("previous_level")
        return WarningEvent(
            warning_id=str(obj["warning_id"]), event=obj["event"], rule_id=str(obj["rule_id"]),
            hazard=str(obj["hazard"]), level=Level.parse(level) if level else None,
            previous_level=Level.parse(previous) if previous else None,
            subject=str(obj["subject"]), region=str(obj["region"]),
            ts=round(ts.timestamp() * 1000), values=dict(obj.get("values") or {}),
            message=str(obj.get("message") or ""), instruction=str(obj.get("instruction") or ""),
            certainty=str(obj.get("certainty") or "Observed"))
    except KeyError as exc:
        msg = f"a warning event needs key {exc.args[0]!r}; found keys {sorted(obj)}"
        raise ValueError(msg) from None


def read_events(path: str | Path) -> list[WarningEvent]:
    """Read warning events from JSON Lines; errors name the line."""
    events = []
    with Path(path).open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                events.append(event_from_dict(json.loads(line)))
            except (ValueError, TypeError) as exc:
                msg = f"{path}:{n}: expected a warning event; {exc}"
                raise ValueError(msg) from None
    return events


def render_backtest(warnings_jsonl: str | Path, registry: Registry, out_dir: str | Path,
                    settings: CapSettings | None = None, base_url: str = "") -> list[Path]:
    """Write one CAP file per event and ``feed.atom`` as at the last event; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    feed = CapFeed(settings, base_url=base_url)
    written = []
    events = read_events(warnings_jsonl)
    for event in events:
        xml = feed.observe(event, registry.get(event.subject))
        path = out / f"{identifier(event)}.xml"
        path.write_bytes(xml)
        written.append(path)
    end = max((e.ts for e in events), default=0)
    feed.expire(end)
    (out / "feed.atom").write_bytes(feed.atom(end))
    return [*written, out / "feed.atom"]
