"""The router at work: real Mosquitto, real loopback gateways, a real HTTP ack endpoint.

Warning events are published on the warnings topic as the pipeline publishes them; the
service takes them over MQTT, groups, escalates and delivers through apprise to the
``receiver`` fixture (a loopback HTTP server standing in for SMS and push gateways).
"""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from wsgiref.simple_server import make_server

import pytest

from tests.notify.helpers import ROUTING, TZ, event, routing_file
from tests.support.live_helpers import wait
from tests.support.mqtt_helpers import publish_all
from warning.config import MQTT, Notify
from warning.demo.broker import free_port
from warning.notify import signing
from warning.notify.routing_file import load_routing
from warning.notify.serve import build_service

pytestmark = pytest.mark.integration

#: Short timers so the tests run in seconds: the same semantics as minutes in production.
FAST = {
    "group_wait: 30s": "group_wait: 1s",
    "group_interval: 5m": "group_interval: 2s",
    "{after: 15m, to: deputy}": "{after: 3s, to: deputy}",
    "{after: 30m, to: leader}": "{after: 3s, to: leader}",
}


class Service:
    """A NotifyService with its HTTP endpoint, started and stopped by the test."""

    def __init__(self, tmp_path, broker_port, receiver_port, text=ROUTING, notify=None, **replace):
        path = routing_file(tmp_path, receiver_port, text, **{**FAST, **replace})
        self.cfg = Notify(
            routing=str(path),
            state_dir=str(tmp_path / "notify"),
            port=free_port(),
            tick="200ms",
            client_id="notify-test",
            **(notify or {}),
        )
        self.mqtt = MQTT(port=broker_port)
        self.stop = threading.Event()
        self.service, self.app = build_service(self.cfg, load_routing(path), self.mqtt.topic_prefix)
        self.http = make_server("127.0.0.1", self.cfg.port, self.app)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.service.start(self.stop, self.mqtt)
        assert self.service.intake.subscribed.wait(10), "router did not subscribe"

    def close(self):
        self.stop.set()
        self.service.join()
        self.http.shutdown()
        self.http.server_close()
        self.service.store.close()

    def audit(self, action):
        return self.service.audit_log.query(action=action)


def publish_events(port, events):
    publish_all(
        port,
        [
            (f"hazard/warnings/{e.region}/{e.hazard}", json.dumps(e.to_dict(TZ)).encode())
            for e in events
        ],
    )


def on_call():
    """Who the test schedule has on duty now (zhang and li alternate daily at 08:30)."""
    from datetime import date
    from datetime import time as dtime

    from warning.notify.routing_file import Schedule

    return Schedule(("zhang", "li"), dtime(8, 30), 1, date(2026, 6, 1)).on_call(time.time(), TZ)


def paths(receiver):
    return [r.path for r in receiver.requests]


def test_forty_gauges_one_message_per_region_delivered_once(tmp_path, broker, receiver):
    svc = Service(tmp_path, broker.port, receiver.port)
    try:
        now = time.time()  # the feed expires alerts 6 h after their time
        events = [
            event(
                f"w{i}",
                "raised",
                "yellow",
                subject=f"rg-{i:02d}",
                ts_s=now,
                region="wuxing" if i < 25 else "nanxun",
            )
            for i in range(40)
        ]
        publish_events(broker.port, events)
        wait(lambda: len(receiver.requests) >= 2, what="two messages")
        time.sleep(2.5)  # a further group interval: nothing new to say
        assert sorted(paths(receiver)) == ["/duty", "/duty"]
        bodies = sorted(r.json()["message"] for r in receiver.requests)
        assert any("25" in b for b in bodies) and any("15" in b for b in bodies)
        # Every warning is recorded as issued and delivered, with receiver, person and channel.
        delivered = svc.audit("delivered")
        assert sorted(r.warning_id for r in delivered) == sorted(f"w{i}" for i in range(40))
        assert {(r.receiver, r.person, r.channel) for r in delivered} == {
            ("region-duty", on_call(), "duty")
        }
        # The CAP feed on the same endpoint holds one entry per active warning.
        with urllib.request.urlopen(f"{svc.service.base_url}/cap/feed.atom") as answer:
            feed = answer.read().decode()
        assert answer.headers["Content-Type"].startswith("application/atom+xml")
        assert feed.count("<entry>") == 40
    finally:
        svc.close()


def test_escalation_without_acknowledgement_and_none_after_one(tmp_path, broker, receiver):
    svc = Service(tmp_path, broker.port, receiver.port)
    try:
        publish_events(
            broker.port,
            [
                event("esc", "raised", "orange", subject="rg-1"),
                event("ack", "raised", "orange", subject="rg-2", region="nanxun"),
            ],
        )
        wait(lambda: paths(receiver).count("/duty") >= 2, what="first messages")
        # Officer of nanxun follows the signed link in the message; wuxing's does nothing.
        nanxun = next(r.json() for r in receiver.requests if "rg-2" in r.json()["message"])
        link = re.search(r"https?://\S+/a/\S+", nanxun["message"]).group(0)
        assert len(link.rsplit("/", 1)[1]) <= 12  # a short signed code
        # Opening the link (or a link previewer fetching it) only shows a confirmation page.
        with urllib.request.urlopen(link) as answer:
            assert answer.status == 200 and b"method=post" in answer.read()
        time.sleep(0.5)
        assert svc.audit("acknowledged") == []
        with urllib.request.urlopen(urllib.request.Request(link, data=b"", method="POST")) as a:
            assert a.status == 200
        wait(lambda: "/leader" in paths(receiver), timeout=30, what="escalation to the leader")
        time.sleep(1)
        assert [p for p in paths(receiver) if p != "/duty"] == ["/deputy", "/leader"]
        escalated = {r.warning_id for r in svc.audit("escalated")}
        assert escalated == {"esc"}
        (ack,) = svc.audit("acknowledged")
        assert (ack.warning_id, ack.person, ack.detail) == ("ack", on_call(), "via http")
        # A guessed code is refused (403), an expired one too (410); neither changes anything.
        code = link.rsplit("/", 1)[1]
        forged = link[:-1] + ("A" if code[-1] != "A" else "B")
        for bad in (forged, link + "x", link.replace("/a/", "/a/x")):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(bad)
            assert err.value.code == 403
        nid, person, _ = svc.service.store.code(code)
        past = int(time.time()) - 1
        old = signing.short_code(svc.service.key, nid, person, past)
        svc.service.store.commit(
            svc.service.store.state(), 0, [], time.time() - 5, [(old, nid, person, past)]
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(
                urllib.request.Request(f"{svc.service.base_url}/a/{old}", data=b"", method="POST")
            )
        assert err.value.code == 410
        # The long signed links of earlier versions still work the same way.
        longer = signing.ack_link(svc.service.base_url, svc.service.key, nid, on_call(), past)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(longer)
        assert err.value.code == 410
        assert len(svc.audit("acknowledged")) == 1
    finally:
        svc.close()


def test_failover_and_nothing_lost_while_every_channel_is_down(tmp_path, broker, receiver):
    # The on-call officer's first channel answers 500 three times (its retries): the backup
    # channel takes the message.
    receiver.fail_next(3)
    svc = Service(
        tmp_path,
        broker.port,
        receiver.port,
        **{
            "li:    {display: 李娜, channels: [duty]}": "li:    {display: 李娜, channels: [duty, backup]}"
        },
    )
    try:
        publish_events(broker.port, [event("a", "raised", "yellow")])
        wait(lambda: "/backup" in paths(receiver), what="failover to backup")
        assert paths(receiver) == ["/duty"] * 3 + ["/backup"]
        # Now every gateway is down: the next message waits in the outbox and goes out later.
        receiver.status = 500
        publish_events(broker.port, [event("b", "raised", "yellow", subject="rg-2")])
        wait(lambda: svc.audit("failed") and len(svc.audit("failed")) >= 7, what="failures")
        assert svc.service.store.outbox_size() == 1
        receiver.status = 200
        wait(lambda: svc.service.store.outbox_size() == 0, timeout=30, what="delivery")
        ok = receiver.requests[-1].json()
        assert "2处" in ok["message"]  # the update names both gauges' group: a and b
        assert "b" in {r.warning_id for r in svc.audit("delivered")}
    finally:
        svc.close()


def test_state_survives_a_restart_without_repeating_or_losing_a_message(tmp_path, broker, receiver):
    svc = Service(tmp_path, broker.port, receiver.port)
    publish_events(broker.port, [event("a", "raised", "orange")])
    wait(lambda: paths(receiver) == ["/duty"], what="first message")
    svc.close()
    # While the router is down: an event arrives (kept by the broker for its session).
    publish_events(broker.port, [event("b", "raised", "yellow", subject="rg-2")])
    again = Service(tmp_path, broker.port, receiver.port)
    try:
        wait(lambda: "/leader" in paths(receiver), timeout=30, what="escalation after restart")
        time.sleep(1)
        # One first message, one update with b, and the escalation chain: nothing twice.
        # (The update and the first escalation may leave in the same round, in either order.)
        assert sorted(paths(receiver)) == ["/deputy", "/duty", "/duty", "/leader"]
        assert paths(receiver)[0] == "/duty" and paths(receiver)[-1] == "/leader"
        issued = again.audit("issued")
        assert {r.warning_id for r in issued} == {"a", "b"}
    finally:
        again.close()


def test_acknowledgement_by_mqtt_and_a_malformed_event_is_refused(tmp_path, broker, receiver):
    svc = Service(tmp_path, broker.port, receiver.port)
    try:
        publish_all(broker.port, [("hazard/warnings/wuxing/rainstorm", b"{not json")])
        publish_events(broker.port, [event("a", "raised", "red")])
        wait(lambda: "/duty" in paths(receiver), what="message")
        nid = svc.audit("issued")[0].notification_id
        publish_all(broker.port, [(f"hazard/acks/{nid}", json.dumps({"by": "li"}).encode())])
        wait(lambda: svc.audit("acknowledged"), what="ack")
        time.sleep(4)
        assert "/deputy" not in paths(receiver)
        assert svc.service.metrics.rejected._value.get() == 1
    finally:
        svc.close()


def test_the_router_started_from_a_run_config_copies_its_audit_to_influxdb(
    tmp_path, broker, receiver, influxdb
):
    from warning.config import Config, Influx
    from warning.metrics import Metrics
    from warning.notify.serve import start as start_router

    path = routing_file(tmp_path, receiver.port, ROUTING, **FAST)
    cfg = Config(
        mqtt=MQTT(port=broker.port),
        influx=Influx(url=influxdb.url, database=influxdb.db),
        notify=Notify(
            routing=str(path), state_dir=str(tmp_path / "notify"), port=free_port(), tick="200ms"
        ),
    )
    stop = threading.Event()
    metrics = Metrics()
    service = start_router(cfg, stop, metrics)
    try:
        assert service.intake.subscribed.wait(10)
        publish_events(broker.port, [event("a", "raised", "yellow", ts_s=time.time())])
        wait(lambda: service.audit_log.query(action="delivered"), what="delivery")

        def stored():
            return influxdb.query('SELECT * FROM "notification"', db=influxdb.db)

        wait(lambda: len(stored()) >= 3, what="audit records in InfluxDB")
        assert sorted((r["action"], r["warning_id"]) for r in stored()) == [
            ("delivered", "a"),
            ("issued", "a"),
            ("received", "a"),
        ]
        with urllib.request.urlopen(f"{service.base_url}/healthz") as answer:
            assert answer.read() == b"ok\n"
        assert metrics.registry.get_sample_value("hazard_notifications_delivered_total") == 1
    finally:
        stop.set()
        service.join()


PHONES = {"zhang": "+86 138 0000 0001", "li": "+86 138 0000 0002"}


def test_an_sms_reply_acknowledges_through_the_gateway_webhook(
    tmp_path, broker, receiver, monkeypatch
):
    monkeypatch.setenv("HW_SMS_INBOUND", "inbound-token-0123456789")
    svc = Service(
        tmp_path,
        broker.port,
        receiver.port,
        notify={"sms_inbound_token_env": "HW_SMS_INBOUND"},
        **{
            "zhang: {display: 张伟, channels: [duty, backup]}": "zhang: {display: 张伟, channels: [duty, backup], phone: '+8613800000001'}",
            "li:    {display: 李娜, channels: [duty]}": "li:    {display: 李娜, channels: [duty], phone: '13800000002'}",
        },
    )

    def reply(sender, text, token="inbound-token-0123456789"):
        request = urllib.request.Request(
            f"{svc.service.base_url}/sms/inbound",
            method="POST",
            data=json.dumps({"from": sender, "text": text}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(request) as answer:
                return answer.status
        except urllib.error.HTTPError as err:
            return err.code

    try:
        publish_events(broker.port, [event("r", "raised", "orange")])
        wait(lambda: "/duty" in paths(receiver), what="the SMS")
        sms = receiver.requests[0].json()["message"]
        assert sms.endswith("回复1确认") and "/a/" not in sms  # the reply instead of a link
        other = PHONES["li" if on_call() == "zhang" else "zhang"]
        assert reply(PHONES[on_call()], "1", token="wrong") == 401
        assert reply(other, "1") == 404  # the other officer holds no reply 1
        assert reply(PHONES[on_call()], "2") == 404
        time.sleep(0.5)
        assert svc.audit("acknowledged") == []
        assert reply(PHONES[on_call()], " 1 确认") == 200
        wait(lambda: svc.audit("acknowledged"), what="the acknowledgement")
        (ack,) = svc.audit("acknowledged")
        assert (ack.warning_id, ack.person, ack.detail) == ("r", on_call(), "via sms")
    finally:
        svc.close()
