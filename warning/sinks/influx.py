"""The storage sink: readings, warnings and audit records to InfluxDB in batches, spooled."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from bytewax.outputs import DynamicSink, StatelessSinkPartition

from warning.metrics import Metrics
from warning.notify.audit import lines as audit_lines
from warning.notify.records import AuditRecord
from warning.records import Forecast, IndicatorRecord, Reading, WarningEvent
from warning.sinks.lineproto import forecast_lines, indicator_line, reading_line, warning_line
from warning.sinks.spool import Spool
from warning.sinks.writers import WriteError, Writer

log = logging.getLogger(__name__)
Stored = Reading | WarningEvent | IndicatorRecord | AuditRecord | Forecast


class _InfluxPartition(StatelessSinkPartition[Stored]):
    def __init__(
        self,
        writer: Writer,
        spool: Spool,
        metrics: Metrics,
        batch_size: int,
        clock: Callable[[], float],
    ):
        self.writer = writer
        self.spool = spool
        self.metrics = metrics
        self.batch_size = batch_size
        self.clock = clock
        self.retry_at = 0.0
        self.backoff = 1.0
        self._gauge()

    def _gauge(self) -> None:
        self.metrics.spool_bytes.labels("influx").set(self.spool.size)
        dropped, self.spool.dropped_lines = self.spool.dropped_lines, 0
        if dropped:
            self.metrics.spool_dropped.labels("influx").inc(dropped)

    def _send(self, kind: str, body: bytes) -> bool:
        try:
            self.writer.write(body)
        except WriteError as exc:
            self.metrics.sink_failures.labels(f"influx_{kind}").inc()
            if not exc.retry:
                # The database refused the data itself: keep it aside, do not retry forever.
                log.error(
                    "InfluxDB refused a batch of %s (kept in %s/refused): %s",
                    kind,
                    self.spool.dir,
                    exc,
                )
                refused = self.spool.dir / "refused"
                refused.mkdir(exist_ok=True)
                (refused / f"{time.time_ns()}.{kind}.lp").write_bytes(body)
                return True
            log.warning("InfluxDB write of %s failed, spooling: %s", kind, exc)
            self.retry_at = self.clock() + self.backoff
            self.backoff = min(self.backoff * 2, 60.0)
            return False
        self.backoff = 1.0
        return True

    def _drain(self) -> bool:
        while self.spool:
            if self.clock() < self.retry_at:
                return False
            found = self.spool.peek()
            if found is None:
                break
            path, body = found
            kind = path.name.split(".")[1]
            if not self._send(kind, body):
                return False
            self.spool.remove(path)
            self._gauge()
        return True

    def write_batch(self, items: list[Stored]) -> None:
        readings = [reading_line(i) for i in items if isinstance(i, Reading)]
        readings += [line for i in items if isinstance(i, Forecast) for line in forecast_lines(i)]
        readings += [
            line
            for i in items
            if isinstance(i, IndicatorRecord)
            if (line := indicator_line(i)) is not None
        ]
        warnings = [warning_line(i) for i in items if isinstance(i, WarningEvent)]
        # The notification audit trail is kept like warnings: never dropped from the spool.
        warnings += audit_lines(i for i in items if isinstance(i, AuditRecord))
        drained = self._drain()
        for kind, lines in (("warnings", warnings), ("readings", readings)):
            for start in range(0, len(lines), self.batch_size):
                body = "\n".join(lines[start : start + self.batch_size]).encode()
                # Keep order: while older batches wait in the spool, new ones queue behind.
                if not (drained and self._send(kind, body)):
                    drained = False
                    self.spool.put(kind, body)
        self._gauge()

    def close(self) -> None:
        self.retry_at = 0.0
        self._drain()
        if self.spool:
            log.warning(
                "%d bytes stay spooled in %s for the next start", self.spool.size, self.spool.dir
            )
        self.writer.close()


class InfluxSink(DynamicSink[Stored]):
    """Store readings and warning events; each worker spools in its own directory."""

    def __init__(
        self,
        make_writer: Callable[[], Writer],
        spool_dir: str | Path,
        spool_max_bytes: int,
        metrics: Metrics,
        batch_size: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.make_writer = make_writer
        self.spool_dir = Path(spool_dir)
        self.spool_max_bytes = spool_max_bytes
        self.metrics = metrics
        self.batch_size = batch_size
        self.clock = clock

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _InfluxPartition:
        spool = Spool(self.spool_dir / f"worker-{worker_index}", self.spool_max_bytes)
        return _InfluxPartition(
            self.make_writer(), spool, self.metrics, self.batch_size, self.clock
        )
