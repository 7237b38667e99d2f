"""The pipeline's own health, as Prometheus metrics; label values are initialised at start."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, make_wsgi_app

import warning
from warning.pipeline.parse import REASONS
from warning.records import LEVEL_NAMES

EVENTS = ("raised", "escalated", "deescalated", "confirmed", "cleared")
SINKS = ("influx_readings", "influx_warnings", "mqtt_warnings", "mqtt_deadletters", "jsonl")


class Metrics:
    """All pipeline metrics in one registry (a fresh one per test)."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = r = registry or CollectorRegistry()
        self.build = Info(
            "hazard_build",
            "This process's release, and whether its engine runs compiled (setup.py) or pure.",
            registry=r,
        )
        self.build.info(
            {"version": warning.__version__, "compiled": str(warning.compiled()).lower()}
        )
        self.received = Counter(
            "hazard_readings_received_total",
            "Messages taken from the input, valid or not.",
            registry=r,
        )
        self.accepted = Counter(
            "hazard_readings_accepted_total",
            "Readings that passed validation and deduplication.",
            ["kind"],
            registry=r,
        )
        self.forecasts = Counter(
            "hazard_forecasts_accepted_total",
            "Forecasts taken in (the newest issue per sensor and field).",
            ["kind"],
            registry=r,
        )
        self.rejected = Counter(
            "hazard_readings_rejected_total",
            "Messages rejected, by reason.",
            ["reason"],
            registry=r,
        )
        self.duplicates = Counter(
            "hazard_readings_duplicate_total",
            "Readings dropped as duplicates (same sensor and ts).",
            registry=r,
        )
        self.seq_gaps = Counter(
            "hazard_readings_seq_gap_total",
            "Readings missing according to per-sensor seq counters.",
            registry=r,
        )
        self.evaluations = Counter(
            "hazard_rule_evaluations_total",
            "Rule evaluations (one per rule per reading).",
            registry=r,
        )
        self.warning_events = Counter(
            "hazard_warning_events_total",
            "Warning events emitted.",
            ["hazard", "level", "event"],
            registry=r,
        )
        self.active = Gauge(
            "hazard_active_warnings", "Warnings currently active.", ["hazard", "level"], registry=r
        )
        self.sink_failures = Counter(
            "hazard_sink_write_failures_total",
            "Failed writes to a sink (data kept or spooled).",
            ["sink"],
            registry=r,
        )
        self.spool_bytes = Gauge(
            "hazard_spool_bytes", "Bytes waiting in the store spool.", ["sink"], registry=r
        )
        self.spool_dropped = Counter(
            "hazard_spool_dropped_readings_total",
            "Readings dropped because the spool was full.",
            ["sink"],
            registry=r,
        )
        self.delay = Histogram(
            "hazard_warning_delay_seconds",
            "Wall time from a reading's arrival to its warning event.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.mqtt_connected = Gauge(
            "hazard_mqtt_connected", "1 while connected and subscribed to the broker.", registry=r
        )
        self.mqtt_reconnects = Counter(
            "hazard_mqtt_connects_total", "Successful connections to the broker.", registry=r
        )
        self.inbox = Gauge(
            "hazard_mqtt_inbox_messages",
            "Messages read from the broker, waiting for the flow.",
            registry=r,
        )
        self.inbox_full = Counter(
            "hazard_mqtt_inbox_full_total",
            "Times the full inbox made the MQTT client stop reading.",
            registry=r,
        )
        self.states_expired = Counter(
            "hazard_sensor_states_expired_total",
            "Per-sensor states dropped after the state TTL.",
            registry=r,
        )
        self.area_late = Counter(
            "hazard_area_items_late_total",
            "Sensor values or warnings that reached an area after it had "
            "judged their time (they count from its next evaluation).",
            registry=r,
        )
        self.rules_loaded = Gauge("hazard_rules_loaded", "Rules in force.", registry=r)
        self.reload_success = Gauge(
            "hazard_rules_last_reload_success",
            "1 if the last reload of rule files succeeded.",
            registry=r,
        )
        self.reload_time = Gauge(
            "hazard_rules_last_reload_timestamp_seconds",
            "When rule files were last loaded successfully.",
            registry=r,
        )
        self.reload_success.set(1)
        self.reload_time.set(time.time())
        for reason in REASONS:
            self.rejected.labels(reason)
        for sink in SINKS:
            self.sink_failures.labels(sink)

    def init_hazards(self, hazards: set[str]) -> None:
        """Create zero series for each hazard, so dashboards show zeros, not gaps."""
        for hazard in hazards:
            for level in LEVEL_NAMES:
                self.active.labels(hazard, level)
                for event in EVENTS:
                    if event != "cleared":
                        self.warning_events.labels(hazard, level, event)
            self.warning_events.labels(hazard, "", "cleared")

    def serve(self, host: str, port: int, reload: Callable[[], bool] | None = None) -> WSGIServer:
        """Expose ``/metrics`` over HTTP, and ``POST /-/reload`` when ``reload`` is given.

        ``host`` is the address to bind (the config's default is loopback only); the returned
        server runs in a daemon thread and stops with ``shutdown()``.
        """
        metrics_app = make_wsgi_app(self.registry)

        def app(environ: dict, start_response: Callable) -> list[bytes]:
            if environ.get("PATH_INFO") == "/-/reload" and reload is not None:
                if environ.get("REQUEST_METHOD") != "POST":
                    start_response("405 Method Not Allowed", [("Allow", "POST")])
                    return [b"use POST\n"]
                ok = reload()
                start_response(
                    "200 OK" if ok else "400 Bad Request", [("Content-Type", "text/plain")]
                )
                return [b"reloaded\n" if ok else b"refused: see the log\n"]
            return metrics_app(environ, start_response)

        return serve_wsgi(host, port, app, "metrics-http")


def serve_wsgi(host: str, port: int, app: Callable, name: str) -> WSGIServer:
    """Serve a WSGI app from a daemon thread (one thread per request); ``shutdown()`` stops it."""
    server = make_server(host, port, app, ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name=name, daemon=True).start()
    return server


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A WSGI server that answers each request in its own thread."""

    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Scrapes every few seconds would flood the log."""
