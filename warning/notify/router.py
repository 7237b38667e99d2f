"""The router's decisions: route, group, mute, remind, escalate and acknowledge.

A plain state machine over warning events and an injected wall clock (``now``, epoch seconds);
it returns notifications to deliver and audit records, and never performs I/O. Grouping follows
Alertmanager: a new group waits ``group_wait``, then is looked at every ``group_interval`` and
notified when what the receiver would see changed, or after ``repeat_interval`` as a reminder.
Silences, maintenance windows and inhibition are applied when a group is looked at.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

from warning.notify.records import AuditRecord, Notification
from warning.notify.routing_file import Maintenance, Matcher, Route, Routing, Silence
from warning.records import Level, WarningEvent

#: How long (seconds) a finished warning is remembered, so that events redelivered after a
#: restart are recognised and not notified again.
TOMBSTONE_S = 7 * 86_400.0


def labels_of(event: WarningEvent, attrs: dict[str, Any]) -> dict[str, str]:
    """Return the labels routing matches on: the event's own plus ``sensor.KEY`` of the subject."""
    out = {
        "hazard": event.hazard,
        "rule_id": event.rule_id,
        "region": event.region,
        "subject": event.subject,
    }
    if event.level is not None:
        out["level"] = event.level.colour
    if event.area:
        out["area"] = event.area
    out.update(
        (f"sensor.{k}", str(v))
        for k, v in attrs.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool)
    )
    return out


def event_key(event: WarningEvent) -> str:
    """Identify one event of an episode, for idempotent intake."""
    level = event.level.colour if event.level is not None else "-"
    return f"{event.event}:{level}:{event.ts}"


def event_to_state(event: WarningEvent) -> dict[str, Any]:
    """Return a JSON-able form of a warning event."""
    out = dataclasses.asdict(event)
    out["level"] = int(event.level) if event.level is not None else None
    out["previous_level"] = int(event.previous_level) if event.previous_level else None
    return out


def event_from_state(data: dict[str, Any]) -> WarningEvent:
    """Rebuild a warning event from :func:`event_to_state`."""
    level, prev = data.get("level"), data.get("previous_level")
    return WarningEvent(
        **{
            **data,
            "level": Level(level) if level else None,
            "previous_level": Level(prev) if prev else None,
        }
    )


def matching_routes(route: Route, labels: dict[str, str], level: Level | None) -> list[Route]:
    """Return the routes that take an alert: the deepest matching nodes, as Alertmanager does."""
    if not route.matcher.matches(labels, level):
        return []
    out: list[Route] = []
    for child in route.routes:
        found = matching_routes(child, labels, level)
        out.extend(found)
        if found and not child.continue_:
            break
    return out or [route]


@dataclass
class Alert:
    """One warning episode as the router knows it."""

    event: WarningEvent
    labels: dict[str, str]
    keys: list[str] = field(default_factory=list)
    acked_by: str | None = None
    acked_at: float | None = None
    muted: str = ""  # the reason last recorded in the audit log, to record each change once

    @property
    def resolved(self) -> bool:
        return self.event.event == "cleared"

    @property
    def level(self) -> Level | None:
        return self.event.level


@dataclass
class Group:
    """Warnings that one receiver gets in one message, with the group's timers."""

    receiver: str
    key: str
    wait_s: float
    interval_s: float
    repeat_s: float
    members: list[str] = field(default_factory=list)
    next_flush: float = 0.0
    last_notified: float | None = None
    sent: dict[str, int] = field(default_factory=dict)  # warning id -> level notified (0: clear)
    #: Warning id -> the level its receiver was last told, kept while the warning is muted (a
    #: warning inhibited, then shown again, is not new), so a message says which way it went.
    told: dict[str, int] = field(default_factory=dict)
    escalation_step: int = 0
    escalation_since: float | None = None


class Router:
    """Routing, grouping, muting, acknowledgement and escalation over an injected clock."""

    def __init__(self, routing: Routing):
        self.routing = routing
        self.alerts: dict[str, Alert] = {}
        self.groups: dict[str, Group] = {}
        self.finished: dict[str, float] = {}  # warning id -> when it left the router
        self.sent: dict[str, list] = {}  # notification id -> [warning id, level told], for acks

    # -- intake ----------------------------------------------------------------------------

    def ingest(self, event: WarningEvent, attrs: dict[str, Any], now: float) -> list[AuditRecord]:
        """Take one warning event; a repeat (same warning, event, level and time) is ignored.

        Returns the audit record of its receipt (none for a repeat).
        """
        key = event_key(event)
        alert = self.alerts.get(event.warning_id)
        if event.warning_id in self.finished or (alert is not None and key in alert.keys):
            return []
        if alert is None:
            if event.event == "cleared":  # the episode started before this router knew it
                return [
                    AuditRecord(
                        now,
                        "received",
                        event.warning_id,
                        detail=f"{key} (episode unknown here: nothing to send)",
                    )
                ]
            alert = self.alerts[event.warning_id] = Alert(event, labels_of(event, attrs))
        else:
            level = alert.event.level if event.event == "cleared" else event.level
            if event.event == "escalated":  # a higher level needs a new acknowledgement
                alert.acked_by = alert.acked_at = None
            alert.event = event
            alert.labels = {**labels_of(event, attrs), **({"level": level.colour} if level else {})}
        alert.keys.append(key)
        for route in matching_routes(self.routing.route, alert.labels, alert.level):
            self._join(route, event.warning_id, now)
        return [AuditRecord(now, "received", event.warning_id, detail=key)]

    def regroup(self, now: float) -> int:
        """Put open warnings that lost their group (a receiver left the routing) in new ones."""
        grouped = {w for g in self.groups.values() for w in g.members}
        count = 0
        for wid, alert in self.alerts.items():
            if wid in grouped or alert.resolved:
                continue
            for route in matching_routes(self.routing.route, alert.labels, alert.level):
                self._join(route, wid, now)
            count += 1
        return count

    def _join(self, route: Route, wid: str, now: float) -> None:
        gkey = group_key(route, self.alerts[wid].labels)
        group = self.groups.get(gkey)
        if group is None:
            group = self.groups[gkey] = Group(
                route.receiver,
                gkey,
                route.group_wait_ms / 1e3,
                route.group_interval_ms / 1e3,
                route.repeat_interval_ms / 1e3,
                next_flush=now + route.group_wait_ms / 1e3,
            )
        if wid not in group.members:
            group.members.append(wid)

    # -- acknowledgement -------------------------------------------------------------------

    def acknowledge(self, notification_id: str, by: str, via: str, now: float) -> list[AuditRecord]:
        """Acknowledge the warnings of one notification (or one warning, by its id)."""
        out = []
        # A link acknowledges the levels its notification told of, not a later, higher one.
        for wid, level in self.sent.get(notification_id, [[notification_id, 99]]):
            alert = self.alerts.get(wid)
            if alert is None or alert.acked_by is not None or int(alert.level or 0) > level:
                continue
            alert.acked_by, alert.acked_at = by, now
            out.append(
                AuditRecord(
                    now, "acknowledged", wid, notification_id, person=by, detail=f"via {via}"
                )
            )
        return out

    # -- the clock -------------------------------------------------------------------------

    def tick(self, now: float) -> tuple[list[Notification], list[AuditRecord]]:
        """Flush the groups that are due and escalate what nobody acknowledged in time."""
        notes: list[Notification] = []
        audit: list[AuditRecord] = []
        for gkey in sorted(self.groups):
            group = self.groups[gkey]
            if now >= group.next_flush:
                self._flush(group, now, notes, audit)
            self._escalate(group, now, notes, audit)
        for gkey in [k for k, g in self.groups.items() if not g.members]:
            del self.groups[gkey]
        for wid in [
            w
            for w, a in self.alerts.items()
            if a.resolved and not any(w in g.members for g in self.groups.values())
        ]:
            del self.alerts[wid]
            self.finished[wid] = now
        for wid in [w for w, t in self.finished.items() if now - t > TOMBSTONE_S]:
            del self.finished[wid]
        for note in notes:
            self.sent[note.notification_id] = [
                [e.warning_id, int(e.level or 0)] for e in note.events
            ]
            audit.extend(
                AuditRecord(
                    now,
                    "issued",
                    e.warning_id,
                    note.notification_id,
                    note.receiver,
                    note.person,
                    None,
                    note.kind,
                )
                for e in note.events
            )
        for nid in [n for n, ws in self.sent.items() if not any(w in self.alerts for w, _ in ws)]:
            del self.sent[nid]
        return notes, audit

    def news_pending(self, now: float) -> int:
        """Count the groups holding a change their receiver has not been told yet.

        Such a group waits for its ``group_wait`` or ``group_interval``; muted warnings are
        no news.
        """
        pending = 0
        for group in self.groups.values():
            for wid in group.members:
                alert = self.alerts[wid]
                told = group.sent.get(wid)
                level = 0 if alert.resolved else int(alert.level or 0)
                if (level or told) and told != level and not self._mute_reason(alert, now):
                    pending += 1
                    break
        return pending

    def _mute_reason(self, alert: Alert, now: float) -> str:
        tz = self.routing.tz
        for mute in self.routing.mutes:
            if mute.matcher.matches(alert.labels, alert.level) and mute.active(now, tz):
                what = "silence" if isinstance(mute, Silence) else "maintenance window"
                return f"{what}: {mute.comment}" if mute.comment else what
        if alert.resolved:
            return ""
        for rule in self.routing.inhibits:
            if not rule.target.matches(alert.labels, alert.level):
                continue
            for other in self.alerts.values():
                if (
                    other is not alert
                    and not other.resolved
                    and other.level
                    and alert.level
                    and other.level > alert.level
                    and rule.source.matches(other.labels, other.level)
                    and all(other.labels.get(k) == alert.labels.get(k) for k in rule.equal)
                ):
                    return f"inhibited by {other.event.warning_id} ({other.level.colour})"
        return ""

    def _flush(
        self, group: Group, now: float, notes: list[Notification], audit: list[AuditRecord]
    ) -> None:
        group.next_flush = now + group.interval_s
        visible: dict[str, int] = {}
        for wid in group.members:
            alert = self.alerts[wid]
            reason = self._mute_reason(alert, now)
            if reason != alert.muted:
                alert.muted = reason
                if reason:
                    audit.append(
                        AuditRecord(now, "suppressed", wid, receiver=group.receiver, detail=reason)
                    )
            if not reason:
                visible[wid] = 0 if alert.resolved else int(alert.level or 0)
        # A resolved warning is news only to a receiver that was told it was firing.
        visible = {w: lv for w, lv in visible.items() if lv or group.sent.get(w)}
        firing = [w for w, lv in visible.items() if lv]
        changed = any(lv == 0 or group.sent.get(w) != lv for w, lv in visible.items())
        reminder = (
            bool(firing)
            and group.last_notified is not None
            and now - group.last_notified >= group.repeat_s
        )
        if visible and (changed or reminder):
            kind = "firing" if firing else "resolved"
            if firing and not changed:
                kind = "reminder"
            events = tuple(self.alerts[w].event for w in visible)
            news = tuple(
                (w, group.told.get(w, 0))
                for w, lv in visible.items()
                if lv == 0 or group.sent.get(w) != lv
            )
            notes.extend(self._notify(group.receiver, group.key, kind, events, 0, now, news))
            group.sent = {w: lv for w, lv in visible.items() if lv}
            group.told.update(visible)
            group.last_notified = now
            top = max((self.alerts[w].level or 0 for w in firing), default=0)
            receiver = self.routing.receivers[group.receiver]
            if (
                receiver.escalation
                and receiver.escalate_from
                and top >= receiver.escalate_from
                and group.escalation_since is None
            ):
                group.escalation_since, group.escalation_step = now, 0
        elif not visible:
            group.sent = {}
        group.members = [w for w in group.members if not self.alerts[w].resolved]
        group.told = {w: lv for w, lv in group.told.items() if lv and w in group.members}

    def _escalate(
        self, group: Group, now: float, notes: list[Notification], audit: list[AuditRecord]
    ) -> None:
        receiver = self.routing.receivers[group.receiver]
        if group.escalation_since is None or receiver.escalate_from is None:
            return
        pending = [
            self.alerts[w]
            for w in group.members
            if w in group.sent
            and not self.alerts[w].resolved
            and self.alerts[w].acked_by is None
            and not self.alerts[w].muted
            and (self.alerts[w].level or 0) >= receiver.escalate_from
        ]
        if not pending or group.escalation_step >= len(receiver.escalation):
            # Acknowledged, cleared, muted, or the chain is exhausted: the next notification
            # of this group at an escalating level starts the chain again.
            group.escalation_since = None
            return
        step = receiver.escalation[group.escalation_step]
        if now - group.escalation_since < step.after_ms / 1e3:
            return
        events = tuple(a.event for a in pending)
        sent = self._notify(
            step.receiver, group.key, "escalation", events, group.escalation_step + 1, now
        )
        notes.extend(sent)
        for alert in pending:
            audit.append(
                AuditRecord(
                    now,
                    "escalated",
                    alert.event.warning_id,
                    receiver=step.receiver,
                    detail=f"step {group.escalation_step + 1}: not acknowledged "
                    f"within {step.after_ms // 60_000} min",
                )
            )
        group.escalation_step += 1
        group.escalation_since = now

    def _notify(
        self,
        receiver_name: str,
        gkey: str,
        kind: str,
        events: tuple[WarningEvent, ...],
        step: int,
        now: float,
        news: tuple[tuple[str, int], ...] = (),
    ) -> list[Notification]:
        receiver = self.routing.receivers[receiver_name]
        targets: list[tuple[str | None, tuple[str, ...]]] = []
        if receiver.channels:
            targets.append((None, receiver.channels))
        people = list(receiver.people)
        if receiver.schedule:
            people.append(self.routing.schedules[receiver.schedule].on_call(now, self.routing.tz))
        for person in dict.fromkeys(people):
            targets.append((person, self.routing.people[person].channels))
        fingerprint = ",".join(f"{e.warning_id}:{event_key(e)}" for e in events)
        out = []
        for who, channels in targets:
            digest = hashlib.sha256(
                f"{receiver_name}|{who}|{gkey}|{kind}|{step}|{fingerprint}|{now:.0f}".encode()
            ).hexdigest()[:16]
            out.append(
                Notification(
                    notification_id=digest,
                    receiver=receiver_name,
                    person=who,
                    channels=tuple(
                        self.routing.channels[c] for c in channels if c in self.routing.channels
                    ),
                    kind=kind,
                    group_key=gkey,
                    events=events,
                    step=step,
                    created_at=now,
                    news=news,
                )
            )
        return out

    # -- persistence -----------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """Return the router's state as JSON-able data."""
        return {
            "alerts": {
                w: {**dataclasses.asdict(a), "event": event_to_state(a.event)}
                for w, a in self.alerts.items()
            },
            "groups": {k: dataclasses.asdict(g) for k, g in self.groups.items()},
            "finished": self.finished,
            "sent": self.sent,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load state saved by :meth:`to_state`; groups whose receiver is gone are dropped."""
        self.alerts = {
            w: Alert(**{**a, "event": event_from_state(a["event"])})
            for w, a in state.get("alerts", {}).items()
        }
        self.groups = {
            k: Group(**g)
            for k, g in state.get("groups", {}).items()
            if g["receiver"] in self.routing.receivers
        }
        self.finished = dict(state.get("finished", {}))
        self.sent = dict(state.get("sent", {}))


def group_key(route: Route, labels: dict[str, str]) -> str:
    """Return the group key: the receiver and the values of the route's ``group_by`` labels.

    >>> from warning.notify.routing_file import Route, Matcher
    >>> r = Route(Matcher(), "duty", ("hazard", "region"), 0, 0, 0)
    >>> group_key(r, {"hazard": "rainstorm", "region": "wuxing", "subject": "rg-1"})
    'duty/hazard=rainstorm,region=wuxing'
    """
    parts = ",".join(f"{k}={labels.get(k, '')}" for k in route.group_by)
    return f"{route.receiver}/{parts}"


__all__ = ["Maintenance", "Matcher", "Router", "Silence", "group_key", "labels_of"]


def notification_to_state(n: Notification) -> dict[str, Any]:
    """Return a JSON-able notification; channels by name, so no secret reaches the disk."""
    return {
        "notification_id": n.notification_id,
        "receiver": n.receiver,
        "person": n.person,
        "channels": [c.name for c in n.channels],
        "kind": n.kind,
        "group_key": n.group_key,
        "events": [event_to_state(e) for e in n.events],
        "step": n.step,
        "ack_url": n.ack_url,
        "ack_reply": n.ack_reply,
        "created_at": n.created_at,
        "news": [list(x) for x in n.news],
    }


def notification_from_state(data: dict[str, Any], routing: Routing) -> Notification:
    """Rebuild a queued notification; channels gone from the routing file are skipped."""
    return Notification(
        **{
            **data,
            "channels": tuple(
                routing.channels[c] for c in data["channels"] if c in routing.channels
            ),
            "events": tuple(event_from_state(e) for e in data["events"]),
            # (absent in an outbox written before notifications named their news)
            "news": tuple((str(w), int(lv)) for w, lv in data.get("news", ())),
        }
    )
