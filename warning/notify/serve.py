"""Assemble the notification router from the run configuration and serve it."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from warning.config import Config, Notify
from warning.metrics import Metrics, serve_wsgi
from warning.notify.audit import AuditLog
from warning.notify.cap.alert import CapSettings
from warning.notify.cap.feed import CapFeed, feed_app
from warning.notify.channels import Dispatcher
from warning.notify.records import AuditRecord, Delivery, Notification
from warning.notify.routing_file import Routing, load_routing
from warning.notify.service import NotifyService
from warning.sinks.influx import InfluxSink, Stored
from warning.sinks.writers import make_writer

log = logging.getLogger(__name__)


def build_service(
    cfg: Notify,
    routing: Routing,
    topic_prefix: str = "hazard",
    registry: CollectorRegistry | None = None,
    sensors: Callable[[str], dict[str, Any]] = lambda _: {},
) -> tuple[NotifyService, Callable]:
    """Return the service (not started) and the WSGI app for ack links and the CAP feed."""
    state_dir = Path(cfg.state_dir)
    dispatcher = Dispatcher(routing.tz)
    audit_log = AuditLog(state_dir / "audit.sqlite")
    feed = CapFeed(CapSettings(tz=routing.timezone))

    def deliver(note: Notification) -> tuple[bool, list[Delivery]]:
        if not note.channels:  # its channels left the routing file: keep it, say so
            log.error(
                "notify: notification %s for %s has no channel left in the routing "
                "file; kept in the outbox",
                note.notification_id,
                note.receiver,
            )
            return False, []
        outcome = dispatcher.deliver(note)
        # Every channel declined a resolve message (send_resolved: false): nothing to retry.
        declined = note.kind == "resolved" and not outcome.deliveries
        return outcome.ok or declined, list(outcome.deliveries)

    service = NotifyService(
        cfg, routing, deliver, audit_log.record_all, registry, sensors, feed=feed
    )
    service.audit_log = audit_log  # type: ignore[attr-defined]
    cap = feed_app(feed, service.base_url)

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/cap/"):
            return cap(environ, start_response)
        return service.wsgi(environ, start_response)

    return service, app


class InfluxAudit:
    """Copy audit records to InfluxDB from a thread of its own, through the spooling sink.

    The SQLite audit log is the record of truth; this copy serves dashboards and queries.
    """

    def __init__(self, config: Config, metrics: Metrics, stop: threading.Event):
        assert config.influx is not None and config.notify is not None
        influx = config.influx
        sink = InfluxSink(
            lambda: make_writer(influx),
            Path(config.notify.state_dir) / "spool",
            influx.spool_max_bytes,
            metrics,
            influx.batch_size,
        )
        self.partition = sink.build("notify_audit", 0, 1)
        self.queue: queue.Queue[AuditRecord] = queue.Queue(maxsize=100_000)
        threading.Thread(target=self._run, args=(stop,), name="notify-influx", daemon=True).start()

    def put(self, records: list[AuditRecord]) -> None:
        """Queue records; when InfluxDB lags 100,000 records behind, newer ones skip it."""
        for r in records:
            try:
                self.queue.put_nowait(r)
            except queue.Full:
                log.error(
                    "notify: audit copy to InfluxDB is 100,000 records behind; the "
                    "SQLite audit log keeps them"
                )
                return

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            batch: list[Stored] = []
            while not self.queue.empty() and len(batch) < 5000:
                batch.append(self.queue.get_nowait())
            try:
                self.partition.write_batch(batch)
            except Exception:  # the sink spools; this only guards the thread
                log.exception("notify: audit copy to InfluxDB failed")
        self.partition.close()


def start(
    config: Config,
    stop: threading.Event,
    metrics: Metrics,
    sensors: Callable[[str], dict[str, Any]] = lambda _: {},
) -> NotifyService:
    """Start the router beside the pipeline (or alone): MQTT intake, loops and HTTP endpoint."""
    assert config.notify is not None
    cfg = config.notify
    routing = load_routing(cfg.routing)
    service, app = build_service(cfg, routing, config.mqtt.topic_prefix, metrics.registry, sensors)
    if config.influx is not None:
        to_influx = InfluxAudit(config, metrics, stop)
        record_all = service.audit

        def audit(records: list[AuditRecord]) -> list[AuditRecord]:
            appended = record_all(records)
            to_influx.put(appended)  # a record written again after a crash is not copied again
            return appended

        service.audit = audit
    server = serve_wsgi(cfg.host, cfg.port, app, "notify-http")

    def shut_down() -> None:
        stop.wait()
        server.shutdown()

    threading.Thread(target=shut_down, daemon=True).start()
    service.start(stop, config.mqtt)
    log.info(
        "notify: routing %s; ack links and CAP feed on %s (feed: /cap/feed.atom)",
        cfg.routing,
        service.base_url,
    )
    return service
