"""Assemble the notification router from the run configuration and serve it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from warning.config import Config, Notify
from warning.metrics import ThreadingWSGIServer, _QuietHandler
from warning.notify.audit import AuditLog
from warning.notify.cap import CapSettings
from warning.notify.channels import Dispatcher
from warning.notify.feed import CapFeed, feed_app
from warning.notify.model import Delivery, Notification
from warning.notify.routing import Routing, load_routing
from warning.notify.service import NotifyService

log = logging.getLogger(__name__)


def build_service(cfg: Notify, routing: Routing, topic_prefix: str = "hazard",
                  registry: CollectorRegistry | None = None,
                  sensors: Callable[[str], dict[str, Any]] = lambda _: {},
                  ) -> tuple[NotifyService, Callable]:
    """Return the service (not started) and the WSGI app for ack links and the CAP feed."""
    state_dir = Path(cfg.state_dir)
    dispatcher = Dispatcher(routing.tz)
    audit_log = AuditLog(state_dir / "audit.sqlite")
    feed = CapFeed(CapSettings(tz=routing.timezone))

    def deliver(note: Notification) -> tuple[bool, list[Delivery]]:
        outcome = dispatcher.deliver(note)
        # No channel wants it (e.g. a resolve to receivers that take none): nothing to retry.
        return outcome.ok or not outcome.deliveries, list(outcome.deliveries)

    service = NotifyService(cfg, routing, deliver, audit_log.record_all, registry, sensors,
                            feed=feed)
    service.audit_log = audit_log  # type: ignore[attr-defined]
    cap = feed_app(feed, service.base_url)

    def app(environ: dict, start_response: Callable) -> list[bytes]:
        if environ.get("PATH_INFO", "").startswith("/cap/"):
            return cap(environ, start_response)
        return service.wsgi(environ, start_response)

    return service, app


def start(config: Config, stop: threading.Event, registry: CollectorRegistry | None = None,
          sensors: Callable[[str], dict[str, Any]] = lambda _: {}) -> NotifyService:
    """Start the router beside the pipeline (or alone): MQTT intake, loops and HTTP endpoint."""
    assert config.notify is not None
    cfg = config.notify
    routing = load_routing(cfg.routing)
    service, app = build_service(cfg, routing, config.mqtt.topic_prefix, registry, sensors)
    from wsgiref.simple_server import make_server
    server = make_server(cfg.host, cfg.port, app, ThreadingWSGIServer,
                         handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="notify-http", daemon=True).start()
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    service.start(stop, config.mqtt)
    log.info("notify: routing %s; ack links and CAP feed on %s (feed: /cap/feed.atom)",
             cfg.routing, service.base_url)
    return service
