"""The router at work beside the dataflow: MQTT intake, routing and delivery loops, ack links.

Warning events reach the router the way every other consumer gets them, on the MQTT warnings
topic (QoS 1, a persistent session, manual acknowledgement after the event is in the durable
inbox), so the router has its own process or thread, its own queue, and can never slow the
dataflow down. Acknowledgements arrive by HTTP (signed links), by MQTT
(``<prefix>/acks/<notification id>``) or from the CLI (straight into the inbox).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import paho.mqtt.client as paho
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from warning.config import MQTT, Notify, secret
from warning.mqtt import make_client
from warning.notify import inbound, signing
from warning.notify.cap.feed import CapFeed
from warning.notify.records import AuditRecord, Delivery, Notification
from warning.notify.router import Router, notification_from_state, notification_to_state
from warning.notify.routing_file import Routing
from warning.notify.store import RouterStore
from warning.pipeline.parse import parse_ts
from warning.records import Level, WarningEvent, parse_duration_ms

log = logging.getLogger(__name__)

#: Deliver one notification: True when a channel took it, and every attempt made.
Deliver = Callable[[Notification], tuple[bool, list[Delivery]]]
#: Where audit records go (the SQLite audit log, InfluxDB); returns those appended (a record
#: whose record_id the log holds is not appended again).
Audit = Callable[[list[AuditRecord]], list[AuditRecord]]

#: Seconds before retrying a notification no channel took: doubling, capped.
RETRY_FIRST_S, RETRY_MAX_S = 5.0, 300.0


def event_from_wire(data: dict[str, Any]) -> WarningEvent:
    """Rebuild a warning event from its wire form (DESIGN.md); raise ValueError if malformed."""
    if "warning_id" in data and not data["warning_id"]:
        msg = f"expected a warning event with a non-empty warning_id; found {data['warning_id']!r}"
        raise ValueError(msg)
    try:
        level, prev = data.get("level"), data.get("previous_level")
        return WarningEvent(
            warning_id=str(data["warning_id"]),
            event=str(data["event"]),
            rule_id=str(data["rule_id"]),
            hazard=str(data["hazard"]),
            level=Level.parse(level) if level else None,
            previous_level=Level.parse(prev) if prev else None,
            subject=str(data["subject"]),
            region=str(data["region"]),
            ts=parse_ts(data["ts"]),
            values=dict(data.get("values") or {}),
            message=str(data.get("message", "")),
            instruction=str(data.get("instruction", "")),
            certainty=str(data.get("certainty", "Observed")),
            texts={str(k): dict(v) for k, v in (data.get("texts") or {}).items()},
            measure=dict(data.get("measure") or {}),
            area=str(data.get("area", "")),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        msg = f"expected a warning event with {exc}"
        raise ValueError(msg) from None
    except Exception as exc:  # parse_ts's rejection carries its own text
        msg = f"expected a warning event: {exc}"
        raise ValueError(msg) from None


class NotifyMetrics:
    """The router's own health metrics."""

    def __init__(self, registry: CollectorRegistry):
        r = registry
        self.inbox = Gauge(
            "hazard_notify_inbox_depth", "Events and acks waiting to be routed.", registry=r
        )
        self.outbox = Gauge(
            "hazard_notify_outbox_depth", "Notifications waiting for delivery.", registry=r
        )
        self.pending = Gauge(
            "hazard_notify_groups_pending",
            "Groups holding news not yet told (waiting for group_wait or group_interval).",
            registry=r,
        )
        self.received = Counter(
            "hazard_notify_events_received_total",
            "Warning events taken into the router (repeats not counted).",
            registry=r,
        )
        self.notifications = Counter(
            "hazard_notifications_total", "Notifications issued.", ["kind"], registry=r
        )
        self.delivered = Counter(
            "hazard_notifications_delivered_total", "Notifications a channel took.", registry=r
        )
        self.undelivered = Counter(
            "hazard_notification_rounds_failed_total",
            "Delivery rounds in which no channel took a notification (it is retried).",
            registry=r,
        )
        self.latency = Histogram(
            "hazard_notification_latency_seconds",
            "Wall time from issuing a notification to its delivery.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=r,
        )
        self.acks = Counter(
            "hazard_acknowledgements_total", "Acknowledgements taken.", ["via"], registry=r
        )
        self.escalations = Counter(
            "hazard_escalations_total", "Escalation steps taken.", registry=r
        )
        self.rejected = Counter(
            "hazard_notify_rejected_total",
            "Messages on the warnings or acks topics that were malformed.",
            registry=r,
        )
        for kind in ("firing", "resolved", "escalation", "reminder"):
            self.notifications.labels(kind)
        for via in ("http", "sms", "mqtt", "cli"):
            self.acks.labels(via)


class NotifyService:
    """Routing and delivery threads around a Router, its store and an injected clock."""

    def __init__(
        self,
        cfg: Notify,
        routing: Routing,
        deliver: Deliver,
        audit: Audit,
        registry: CollectorRegistry | None = None,
        attrs: Callable[[str], dict[str, Any]] = lambda _: {},
        clock: Callable[[], float] = time.time,
        feed: CapFeed | None = None,
    ):
        self.cfg = cfg
        self.routing = routing
        self.deliver = deliver
        self.audit = audit
        self.attrs = attrs
        self.clock = clock
        self.feed = feed
        state_dir = Path(cfg.state_dir)
        self.store = RouterStore(state_dir / "router.sqlite")
        self.key = signing.load_key(cfg.ack_key_env, cfg.ack_key_file, state_dir)
        self.base_url = cfg.base_url or f"http://{cfg.host}:{cfg.port}"
        self.link_ttl_s = parse_duration_ms(cfg.ack_link_ttl) / 1000
        self.inbound_token = secret(
            cfg.sms_inbound_token_env, cfg.sms_inbound_token_file, "notify.sms_inbound_token"
        )
        self.metrics = NotifyMetrics(registry or CollectorRegistry())
        self.router = Router(routing)
        self._committed: dict[str, Any] | None = None
        self._load()
        self.router.regroup(self.clock())
        self.lock = threading.Lock()
        self._flushing = threading.Lock()
        self.threads: list[threading.Thread] = []

    def _load(self) -> None:
        """Load the router's (and the feed's) last committed state."""
        saved = self.store.state()
        if saved is not None:
            self.router.restore(saved["router"])
            if self.feed is not None and saved.get("feed"):
                self.feed.load_state(saved["feed"])

    def replace_routing(self, routing: Routing) -> None:
        """Take a new routing file; warnings whose receiver left it are routed again."""
        with self.lock:
            self.routing = routing
            self.router.routing = routing
            gone = [k for k, g in self.router.groups.items() if g.receiver not in routing.receivers]
            for key in gone:
                log.warning(
                    "notify: group %s: its receiver left the routing file; its "
                    "warnings are routed again",
                    key,
                )
                del self.router.groups[key]
            self.router.regroup(self.clock())

    # -- the routing loop ------------------------------------------------------------------

    def route_once(self) -> list[Notification]:
        """Take the inbox, tick the router and queue its notifications, in one transaction.

        The audit records of what was decided are staged in that transaction and then copied
        to the audit log (``_flush_audit``), so a crash between the two loses none of them.
        """
        rows = self.store.inbox()
        now = self.clock()
        audit: list[AuditRecord] = []
        with self.lock:
            for _, kind, body in rows:
                audit += self._take(kind, body, now)
            notes, records = self.router.tick(now)
            audit += records
            self.metrics.pending.set(self.router.news_pending(now))
            codes: list[tuple[str, str, str, int]] = []
            replies: list[tuple[str, str, str, int]] = []
            notes = [self._with_ack_link(n, now, codes, replies) for n in notes]
            state = {
                "router": self.router.to_state(),
                "feed": self.feed.to_state() if self.feed is not None else None,
            }
            try:
                # An idle tick that changed nothing writes nothing (no fsync every second).
                if rows or notes or audit or state != self._committed:
                    self.store.commit(
                        state,
                        rows[-1][0] if rows else 0,
                        [notification_to_state(n) for n in notes],
                        now,
                        codes,
                        replies,
                        [_staged(r) for r in audit],
                    )
                    self._committed = state
            except Exception:
                # Back to the last committed state: the same rows and tick are taken again
                # on the next round, so nothing decided here is lost or half-applied.
                self.router = Router(self.routing)
                self._load()
                raise
        for n in notes:
            self.metrics.notifications.labels(n.kind).inc()
            if n.kind == "escalation":
                self.metrics.escalations.inc()
        self.metrics.inbox.set(self.store.inbox_size())
        self.metrics.outbox.set(self.store.outbox_size())
        self._flush_audit()
        return notes

    def _flush_audit(self) -> None:
        """Copy the staged audit records to the audit log, then drop them from the stage.

        A failure leaves them staged for the next round; a crash after the copy writes them
        again, and the log skips a record whose id it holds. A record the log refuses (it
        says why) is dropped with an error in the log, so it cannot hold back the others.
        """
        with self._flushing:  # the routing and the delivery loops both flush
            staged = self.store.staged_audit()
            if not staged:
                return
            records: list[AuditRecord] = []
            for _, body in staged:
                try:
                    records.append(AuditRecord(**body))
                except TypeError as exc:
                    log.error("notify: staged audit record unreadable, dropped: %s: %s", exc, body)
            try:
                self.audit(records)
            except ValueError:
                for r in records:
                    try:
                        self.audit([r])
                    except ValueError as exc:
                        log.error("notify: audit record refused and dropped: %s: %s", exc, r)
            self.store.drop_audit(staged[-1][0])

    def _take(self, kind: str, body: dict[str, Any], now: float) -> list[AuditRecord]:
        if kind == "ack":
            records = self.router.acknowledge(
                str(body.get("notification_id", "")),
                str(body.get("by", "?")),
                str(body.get("via", "cli")),
                now,
            )
            if records:
                self.metrics.acks.labels(body.get("via", "cli")).inc()
            return records
        try:
            event = event_from_wire(body)
        except ValueError as exc:
            self.metrics.rejected.inc()
            log.warning("notify: warning event refused: %s", exc)
            return []
        attrs = dict(self.attrs(event.subject) or {})
        if self.feed is not None:
            self.feed.observe(event, attrs)
        records = self.router.ingest(event, attrs, now)
        if records:  # a repeat gives no record
            self.metrics.received.inc()
        return records

    def _with_ack_link(
        self,
        n: Notification,
        now: float,
        codes: list[tuple[str, str, str, int]],
        replies: list[tuple[str, str, str, int]],
    ) -> Notification:
        """Give a notification a short signed link, ``BASE/a/CODE``, and a reply number.

        A reply number is given when the SMS gateway's inbound webhook is configured and the
        person has a phone in the routing file; it stands for the link's code.
        """
        top = max((e.level or 0 for e in n.events), default=0)
        if n.kind == "resolved" or top < self.routing.ack_level:
            return n
        person, expires = n.person or n.receiver, int(now + self.link_ttl_s)
        code = signing.short_code(self.key, n.notification_id, person, expires)
        codes.append((code, n.notification_id, person, expires))
        number = None
        who = self.routing.people.get(n.person or "")
        if self.inbound_token and who is not None and who.phone:
            taken = self.store.replies_in_use(person, now) | {
                r[1] for r in replies if r[0] == person
            }
            number = inbound.next_number(taken)
            if number is not None:
                replies.append((person, number, code, expires))
        return dataclasses.replace(
            n, ack_url=signing.short_link(self.base_url, code), ack_reply=number
        )

    # -- the delivery loop -----------------------------------------------------------------

    def deliver_once(self) -> int:
        """Try every due notification once; return how many a channel took."""
        taken = 0
        for body, attempts in self.store.due(self.clock()):
            note = notification_from_state(body, self.routing)
            ok, deliveries = self.deliver(note)
            now = self.clock()
            # Staged with the outbox's change, so a dead audit log neither loses the record
            # nor makes the notification go out again.
            staged = [
                _staged(
                    AuditRecord(
                        d.at,
                        "delivered" if d.ok else "failed",
                        e.warning_id,
                        note.notification_id,
                        note.receiver,
                        note.person,
                        d.channel,
                        d.error or f"attempt {d.attempt}",
                    )
                )
                for d in deliveries
                for e in note.events
            ]
            if ok:
                self.store.delivered(note.notification_id, staged)
                self.metrics.delivered.inc()
                self.metrics.latency.observe(max(0.0, now - note.created_at))
                taken += 1
            else:
                self.metrics.undelivered.inc()
                wait = min(RETRY_MAX_S, RETRY_FIRST_S * 2**attempts)
                self.store.retry_later(note.notification_id, now + wait, staged)
                log.warning(
                    "notify: no channel took notification %s for %s (round %d); retrying in %.0f s",
                    note.notification_id,
                    note.receiver,
                    attempts + 1,
                    wait,
                )
        self.metrics.outbox.set(self.store.outbox_size())
        self._flush_audit()
        return taken

    # -- acknowledgements ------------------------------------------------------------------

    def wsgi(self, environ: dict, start_response: Callable) -> list[bytes]:
        """Answer signed ack links (GET: a confirmation page; POST: acknowledge) and /healthz."""
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        if path == "/sms/inbound" and environ.get("REQUEST_METHOD") == "POST":
            return inbound.answer(self, environ, start_response)
        if not path.startswith(("/ack/", "/a/")) or environ.get("REQUEST_METHOD") not in (
            "GET",
            "POST",
        ):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        if path.startswith("/a/"):  # a short link: its code stands for the long link's fields
            code = path.removeprefix("/a/")
            found = self.store.code(code) if len(code) == signing.SHORT_CODE_CHARS else None
            nid, person, exp = found or ("", "", 0)
            q = {"by": person}
            problem = (
                signing.check_short(self.key, code, nid, person, exp, self.clock())
                if found
                else "unknown code"
            )
        else:
            nid = path.removeprefix("/ack/")
            q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            problem = signing.check(
                self.key, nid, q.get("by", ""), q.get("exp", ""), q.get("sig", ""), self.clock()
            )
        if problem:
            status = "410 Gone" if problem == "link expired" else "403 Forbidden"
            start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
            return [f"acknowledgement refused: {problem}\n".encode()]
        who = escape(q["by"])
        start_response(
            "200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        )
        if environ.get("REQUEST_METHOD") == "GET":
            # Link previews and mail scanners fetch links: only a person's POST acknowledges.
            action = escape(f"{path}?{environ.get('QUERY_STRING', '')}", quote=True)
            return [
                f"<!doctype html><meta charset=utf-8><title>确认 Acknowledge</title>"
                f'<form method=post action="{action}"><p>{who}:</p>'
                f"<button type=submit>确认收到 Acknowledge</button></form>".encode()
            ]
        self.store.put("ack", {"notification_id": nid, "by": q["by"], "via": "http"})
        return [
            f"<!doctype html><meta charset=utf-8><title>已确认 Acknowledged</title>"
            f"<h1>已确认 Acknowledged</h1><p>{who}, 收到 — thank you. Escalation for "
            f"this warning stops.</p>".encode()
        ]

    # -- threads ---------------------------------------------------------------------------

    def start(self, stop: threading.Event, mqtt: MQTT | None = None) -> None:
        """Start the routing and delivery loops (and the MQTT intake when ``mqtt`` is given)."""
        tick = parse_duration_ms(self.cfg.tick) / 1000
        for name, step in (
            ("notify-route", self.route_once),
            ("notify-deliver", self.deliver_once),
        ):
            t = threading.Thread(
                target=_loop, args=(step, tick, stop, name), name=name, daemon=True
            )
            t.start()
            self.threads.append(t)
        if mqtt is not None:
            self.intake = MQTTIntake(mqtt, self.cfg.client_id, self.store, self.metrics)
            self.intake.start()
            intake = self.intake

            def stop_intake() -> None:
                stop.wait()
                intake.stop()

            threading.Thread(target=stop_intake, daemon=True).start()

    def join(self, timeout: float = 10.0) -> None:
        """Wait for the loops to finish after ``stop`` was set."""
        for t in self.threads:
            t.join(timeout)


def _staged(r: AuditRecord) -> dict[str, Any]:
    """Return a record's stored form, with a new id that stays with it into the audit log."""
    return {**dataclasses.asdict(r), "record_id": r.record_id or uuid.uuid4().hex}


def _loop(step: Callable[[], Any], every: float, stop: threading.Event, name: str) -> None:
    while not stop.is_set():
        try:
            step()
        except Exception:  # the router must outlive any one bad notification or database hiccup
            log.exception("notify: %s failed; continuing", name)
        stop.wait(every)


class MQTTIntake:
    """Receive warning events and acknowledgements; ack each message once it is in the inbox."""

    def __init__(self, cfg: MQTT, client_id: str, store: RouterStore, metrics: NotifyMetrics):
        self.cfg = cfg
        self.store = store
        self.metrics = metrics
        self.client = make_client(cfg, client_id, persistent=True, manual_ack=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: self.subscribed.set()

    def start(self) -> None:
        """Connect in the background; paho reconnects with backoff."""
        self.client.connect_async(self.cfg.host, self.cfg.port, self.cfg.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any = None
    ) -> None:
        if not rc.is_failure:
            prefix = self.cfg.topic_prefix
            client.subscribe([(f"{prefix}/warnings/#", 1), (f"{prefix}/acks/#", 1)])

    def _on_message(self, client: paho.Client, userdata: Any, msg: paho.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            if msg.topic.startswith(f"{self.cfg.topic_prefix}/acks/"):
                body = {
                    "notification_id": msg.topic.rsplit("/", 1)[-1],
                    "by": str(body.get("by", "?")),
                    "via": "mqtt",
                }
                self.store.put("ack", body)
            else:
                self.store.put("event", body)
        except (ValueError, UnicodeDecodeError) as exc:
            self.metrics.rejected.inc()
            log.warning("notify: message on %s refused: %s", msg.topic, exc)
        except Exception:  # the inbox could not take it: leave it unacknowledged at the broker
            log.exception("notify: message on %s not stored; the broker keeps it", msg.topic)
            return
        # Acknowledged only now: the event is in the durable inbox (or refused for good).
        client.ack(msg.mid, msg.qos)
