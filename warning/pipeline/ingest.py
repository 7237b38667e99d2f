"""What every source does with raw messages: parse them and advance the event-time watermark."""

from __future__ import annotations

from dataclasses import dataclass

from mypy_extensions import mypyc_attr
from prometheus_client import Counter

from warning.legacy import fields_state, restore_fields
from warning.pipeline.parse import ParseSettings, is_forecast_topic, parse_forecast, parse_message
from warning.records import Forecast, RawMessage, Reading, Rejected, Tick


@mypyc_attr(allow_interpreted_subclasses=True)
@dataclass
class Watermark:
    """Event time reached by one source partition, emitted as ticks on ``tick_ms`` boundaries.

    The watermark trails the newest timestamp by the lateness allowance, so a tick promises
    only what the lateness allowance already promises.

    >>> w = Watermark(lateness_ms=300_000, tick_ms=60_000)
    >>> w.advance(1_000_000_000), w.advance(1_000_000_000 + 120_000)
    (Tick(ts=999660000, source=''), Tick(ts=999780000, source=''))
    """

    lateness_ms: int
    tick_ms: int
    newest: int | None = None
    last_tick: int | None = None
    idle_extra: int = 0
    source: str = ""  # the partition whose watermark this is, stamped on its ticks

    def __getstate__(self) -> dict:
        return fields_state(self)

    def __setstate__(self, state: object) -> None:
        restore_fields(self, state)

    def advance(self, ts: int) -> Tick | None:
        """Note a reading's timestamp; return a tick if a boundary was crossed."""
        if self.newest is None or ts > self.newest:
            self.newest = ts
            self.idle_extra = 0
        return self._tick(self.newest - self.lateness_ms)

    def idle(self, extra_ms: int) -> Tick | None:
        """Extrapolate event time while no reading arrives (live sources only)."""
        if self.newest is None:
            return None
        self.idle_extra = max(self.idle_extra, extra_ms)
        return self._tick(self.newest - self.lateness_ms + self.idle_extra)

    def _tick(self, wm: int) -> Tick | None:
        boundary = wm - wm % self.tick_ms
        if self.last_tick is not None and boundary <= self.last_tick:
            return None
        self.last_tick = boundary
        return Tick(boundary, self.source)


class Ingest:
    """Parses a partition's messages and interleaves watermark ticks, in arrival order."""

    def __init__(
        self,
        settings: ParseSettings,
        lateness_ms: int,
        tick_ms: int,
        received: Counter | None = None,
    ):
        self.settings = settings
        self.watermark = Watermark(lateness_ms, tick_ms)
        self.received = received

    def take(
        self, msgs: list[RawMessage], forecasts: bool = False
    ) -> list[Reading | Forecast | Rejected | Tick]:
        """Parse a batch of messages (all forecasts with ``forecasts``, else by topic)."""
        out: list[Reading | Forecast | Rejected | Tick] = []
        s = self.settings
        if self.received is not None:
            self.received.inc(len(msgs))
        for msg in msgs:
            item = (
                parse_forecast(msg, s)
                if forecasts or is_forecast_topic(msg.topic, s)
                else parse_message(msg, s)
            )
            out.append(item)
            if isinstance(item, Reading):
                tick = self.watermark.advance(item.ts)
                if tick is not None:
                    out.append(tick)
        return out
