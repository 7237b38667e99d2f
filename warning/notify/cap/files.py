"""Render a backtest's warning events (JSON Lines) as CAP files and the feed at its end."""

from __future__ import annotations

import json
from pathlib import Path

from warning.notify.cap.alert import MSG_TYPES, CapSettings, identifier
from warning.notify.cap.feed import CapFeed
from warning.notify.service import event_from_wire
from warning.records import WarningEvent
from warning.registry import Registry

EVENTS = tuple(MSG_TYPES)


def read_events(path: str | Path) -> list[WarningEvent]:
    """Read warning events from JSON Lines; errors name the line."""
    events = []
    with Path(path).open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = event_from_wire(json.loads(line))
            except ValueError as exc:  # JSONDecodeError too
                msg = f"{path}:{n}: {exc}"
                raise ValueError(msg) from None
            if event.event not in EVENTS:
                msg = (
                    f"{path}:{n}: expected event one of {', '.join(EVENTS)}; found {event.event!r}"
                )
                raise ValueError(msg)
            events.append(event)
    return events


def render_backtest(
    warnings_jsonl: str | Path,
    registry: Registry,
    out_dir: str | Path,
    settings: CapSettings | None = None,
    base_url: str = "",
) -> list[Path]:
    """Write one CAP file per event and ``feed.atom`` as at the last event; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    feed = CapFeed(settings, base_url=base_url)
    written = []
    events = read_events(warnings_jsonl)
    for event in events:
        xml = feed.observe(event, registry.subject_attrs(event.subject))
        path = out / f"{identifier(event)}.xml"
        path.write_bytes(xml)
        written.append(path)
    end = max((e.ts for e in events), default=0)
    feed.expire(end)
    (out / "feed.atom").write_bytes(feed.atom(end))
    return [*written, out / "feed.atom"]
