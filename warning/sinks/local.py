"""Warning events to the console (one readable line each) and to JSON Lines files."""

from __future__ import annotations

import base64
import json
import threading
from datetime import tzinfo
from pathlib import Path
from typing import Any, TextIO

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from rich.console import Console
from rich.markup import escape

from warning.records import IndicatorRecord, Rejected, WarningEvent, format_ts

_STYLE = {
    "blue": "bold white on blue",
    "yellow": "bold black on yellow",
    "orange": "bold black on dark_orange",
    "red": "bold white on red",
}


def console_line(event: WarningEvent, tz: tzinfo) -> str:
    """Return the rich-markup line shown for one event (rule text is escaped, not markup)."""
    level = event.level or event.previous_level
    colour = level.colour if level else ""
    badge = f"[{_STYLE.get(colour, '')}] {colour.upper():6} [/]"
    what = event.event.upper()
    rule = f" [{event.rule_id}]" if event.rule_id != event.hazard else ""
    text = escape(f"{event.hazard}{rule} {event.subject} ({event.region}) - {event.message}")
    line = f"{format_ts(event.ts, tz)} {badge} {what:11} {text}"
    if event.instruction:
        line += f"\n{'':26}[italic]{escape(event.instruction)}[/]"
    return line


class _ConsolePartition(StatelessSinkPartition[WarningEvent]):
    def __init__(self, console: Console, tz: tzinfo, lock: threading.Lock):
        self.console, self.tz, self.lock = console, tz, lock

    def write_batch(self, items: list[WarningEvent]) -> None:
        with self.lock:
            for event in items:
                self.console.print(console_line(event, self.tz), highlight=False, soft_wrap=True)


class ConsoleSink(DynamicSink[WarningEvent]):
    """Print each warning event as it happens."""

    def __init__(self, tz: tzinfo, console: Console | None = None):
        self.tz = tz
        self.console = console or Console()
        self.lock = threading.Lock()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _ConsolePartition:
        return _ConsolePartition(self.console, self.tz, self.lock)


def event_sort_key(record: dict[str, Any]) -> tuple:
    """Order records by event time, then rule and subject (or sensor and indicator)."""
    if "warning_id" in record:
        return (record["_ts"], record["rule_id"], record["subject"], record["warning_id"])
    return (record["_ts"], record["sensor_id"], record["indicator"], "")


class _JsonLinesPartition(StatelessSinkPartition[Any]):
    def __init__(self, sink: JsonLinesSink):
        self.sink = sink

    def write_batch(self, items: list[Any]) -> None:
        self.sink.add(items)

    def close(self) -> None:
        self.sink.finish()


class JsonLinesSink(DynamicSink[Any]):
    """Write warning events or rejections as JSON Lines.

    With ``in_order`` (backtest) events are held and written sorted by event time when the
    flow ends, since workers finish in any order; otherwise each batch is appended and flushed.
    """

    def __init__(self, path: str | Path, tz: tzinfo, in_order: bool = False):
        self.path = Path(path)
        self.tz = tz
        self.in_order = in_order
        self.lock = threading.Lock()
        self.held: list[dict[str, Any]] = []
        self.open_parts = 0
        self.file: TextIO | None = None

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _JsonLinesPartition:
        with self.lock:
            if self.file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.file = self.path.open("w" if self.in_order else "a", encoding="utf-8")
            self.open_parts += 1
        return _JsonLinesPartition(self)

    def _record(self, item: Any) -> dict[str, Any]:
        if isinstance(item, WarningEvent):
            out = item.to_dict(self.tz)
            out["_ts"] = item.ts
            return out
        if isinstance(item, IndicatorRecord):
            out = item.to_dict(self.tz)
            out["_ts"] = item.ts
            return out
        if isinstance(item, Rejected):
            return rejection_record(item)
        msg = f"JsonLinesSink takes WarningEvent or Rejected; got a {type(item)!r} instead"
        raise TypeError(msg)

    def add(self, items: list[Any]) -> None:
        """Hold or write a batch."""
        records = [self._record(i) for i in items]
        with self.lock:
            if self.in_order:
                self.held.extend(records)
                return
            assert self.file is not None
            for rec in records:
                rec.pop("_ts", None)
                self.file.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.file.flush()

    def finish(self) -> None:
        """Write what is held, in order, when the last partition closes."""
        with self.lock:
            self.open_parts -= 1
            if self.open_parts or self.file is None:
                return
            for rec in sorted(self.held, key=event_sort_key) if self.in_order else ():
                rec.pop("_ts", None)
                self.file.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.held.clear()
            self.file.close()
            self.file = None


DEAD_LETTER_MAX_BYTES = 65_536


def rejection_record(r: Rejected) -> dict[str, Any]:
    """Return the dead-letter object: topic, payload (base64 if not UTF-8), reason, detail.

    Payloads over 64 KiB keep their first 64 KiB and say how long they were.
    """
    out: dict[str, Any] = {"topic": r.topic, "reason": r.reason, "detail": r.detail}
    if r.sensor_id:
        out["sensor_id"] = r.sensor_id
    payload = r.payload
    if isinstance(payload, bytes) and len(payload) > DEAD_LETTER_MAX_BYTES:
        out["payload_bytes"] = len(payload)
        out["payload_truncated"] = True
        payload = payload[:DEAD_LETTER_MAX_BYTES]
    if isinstance(payload, bytes):
        try:
            out["payload"] = payload.decode("utf-8")
        except UnicodeDecodeError:
            out["payload"] = base64.b64encode(payload).decode("ascii")
            out["payload_encoding"] = "base64"
    else:
        out["payload"] = payload
    return out
