"""The router's audit records survive a crash between its commit and the audit log's.

The router's state (router.sqlite) and the audit log (audit.sqlite) are two files, so no one
transaction covers both. The records of what a round decided are staged in the router's
transaction and copied to the log after it; these tests stop the process's work at each point
in between (an audit log that fails stands for a kill -9 there) and restart the service on the
same files.
"""

from __future__ import annotations

import contextlib
import sqlite3

from tests.notify.helpers import T0, TZ, event, routing_file
from warning.config import Notify
from warning.notify.audit import AuditLog
from warning.notify.records import AuditRecord, Delivery
from warning.notify.routing_file import load_routing
from warning.notify.serve import build_service
from warning.notify.service import NotifyService


def _service(tmp_path) -> NotifyService:
    path = routing_file(tmp_path)
    cfg = Notify(routing=str(path), state_dir=str(tmp_path / "notify"), port=9)
    service, _ = build_service(cfg, load_routing(path))
    return service


def _close(service: NotifyService) -> None:
    service.store.close()
    service.audit_log.close()  # type: ignore[attr-defined]


def _received(tmp_path) -> list[AuditRecord]:
    with AuditLog(tmp_path / "notify" / "audit.sqlite") as log:
        return log.query(action="received")


class Crash(Exception):
    """The process dies here."""


def test_a_crash_after_the_routers_commit_loses_no_audit_record(tmp_path):
    service = _service(tmp_path)
    service.store.put("event", event("a", "raised", "orange").to_dict(TZ))

    def dies(records: list[AuditRecord]) -> None:
        raise Crash

    service.audit = dies
    try:
        service.route_once()
    except Crash:
        pass
    else:
        raise AssertionError("the audit log was not written")
    assert service.store.inbox_size() == 0, "the router took the event and committed"
    assert _received(tmp_path) == []
    assert len(service.store.staged_audit()) == 1
    _close(service)

    again = _service(tmp_path)  # the restart: the event is not taken twice, its record is kept
    again.route_once()
    assert [(r.warning_id, r.action) for r in _received(tmp_path)] == [("a", "received")]
    assert again.store.staged_audit() == []
    _close(again)


def test_a_crash_after_the_audit_log_wrote_does_not_write_a_record_twice(tmp_path):
    service = _service(tmp_path)
    service.store.put("event", event("a", "raised", "orange").to_dict(TZ))
    writes = service.audit

    def writes_then_dies(records: list[AuditRecord]) -> None:
        writes(records)
        raise Crash

    service.audit = writes_then_dies
    try:
        service.route_once()
    except Crash:
        pass
    assert len(_received(tmp_path)) == 1
    assert len(service.store.staged_audit()) == 1, "staged until the log is known to hold it"
    _close(service)

    again = _service(tmp_path)
    again.route_once()
    received = _received(tmp_path)
    assert [(r.warning_id, r.action) for r in received] == [("a", "received")]
    assert received[0].record_id
    assert again.store.staged_audit() == []
    _close(again)


def test_a_record_the_log_refuses_is_dropped_with_an_error_and_holds_back_no_other(
    tmp_path, caplog
):
    service = _service(tmp_path)
    state = {"router": service.router.to_state(), "feed": None}
    good = {"at": 1.0, "action": "received", "warning_id": "a", "record_id": "r-good"}
    bad = {"at": 1.0, "action": "sent-by-pigeon", "warning_id": "b", "record_id": "r-bad"}
    service.store.commit(state, 0, [], 1.0, audit=[bad, good])
    service.route_once()
    assert [(r.warning_id, r.record_id) for r in _received(tmp_path)] == [("a", "r-good")]
    assert service.store.staged_audit() == []
    assert "audit record refused and dropped: audit action must be one of" in caplog.text
    _close(service)


def test_an_event_without_a_warning_id_is_refused_before_the_router_takes_it(tmp_path):
    service = _service(tmp_path)
    service.store.put("event", {**event("a", "raised", "orange").to_dict(TZ), "warning_id": ""})
    service.route_once()
    assert service.metrics.rejected._value.get() == 1
    assert _received(tmp_path) == [] and service.store.staged_audit() == []
    _close(service)


def test_a_dead_audit_log_delays_the_delivery_records_and_sends_nothing_twice(tmp_path):
    path = routing_file(tmp_path)
    cfg = Notify(routing=str(path), state_dir=str(tmp_path / "notify"), port=9)
    now = [T0]
    sent: list[tuple[str, str]] = []

    def deliver(note):
        # The first region's gateway takes its message; the second's refuses it.
        ok = note.events[0].region == "wuxing"
        sent.append((note.events[0].warning_id, note.notification_id))
        return ok, [
            Delivery(note.notification_id, "duty", ok, 1, now[0], 0.01, "" if ok else "HTTP 500")
        ]

    log = AuditLog(tmp_path / "notify" / "audit.sqlite")
    down = [True]

    def audit(records):
        if down[0]:
            raise sqlite3.OperationalError("database or disk is full")
        return log.record_all(records)

    def service() -> NotifyService:
        return NotifyService(cfg, load_routing(path), deliver, audit, clock=lambda: now[0])

    first = service()
    first.store.put("event", event("a", "raised", "orange").to_dict(TZ))
    first.store.put(
        "event", event("b", "raised", "orange", region="anji", subject="rg-2").to_dict(TZ)
    )
    for _ in range(3):  # past the groups' wait: one notification per region
        with contextlib.suppress(sqlite3.OperationalError):
            first.route_once()
        now[0] += 20
    for _ in range(3):  # the audit log is down through three delivery rounds
        with contextlib.suppress(sqlite3.OperationalError):
            first.deliver_once()
    assert sorted(w for w, _ in sent) == ["a", "b"], "each tried once in the first round"
    assert first.store.outbox_size() == 1, "b's notification waits for its retry"
    assert log.query() == []
    first.store.close()

    down[0] = False  # a restart, then the log is back: everything staged reaches it, once
    again = service()
    again.deliver_once()  # the delivery loop flushes too; b's retry is not due yet
    assert len(sent) == 2
    delivered = [(r.warning_id, r.notification_id) for r in log.query(action="delivered")]
    failed = [(r.warning_id, r.detail) for r in log.query(action="failed")]
    assert delivered == [sent[[w for w, _ in sent].index("a")]]
    assert failed == [("b", "HTTP 500")]
    assert sorted(r.warning_id for r in log.query(action="received")) == ["a", "b"]
    assert len(log.query(action="issued")) == 2
    assert again.store.staged_audit() == []
    now[0] += 10  # b's retry is due (5 s after its first round): it goes out once more
    again.deliver_once()
    assert [w for w, _ in sent].count("b") == 2 and [w for w, _ in sent].count("a") == 1
    assert len(log.query(action="failed")) == 2
    again.store.close()
    log.close()
