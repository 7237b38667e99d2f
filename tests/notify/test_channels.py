"""Channels against a real loopback gateway: delivery, retries, failover, timeouts, secrets."""

from __future__ import annotations

import json
import logging
import socket
import time
from urllib.parse import parse_qs

import pytest
from prometheus_client import CollectorRegistry

from warning.notify.channels import (
    ChannelMetrics,
    Dispatcher,
    redact,
    resolve_url,
    scrub,
    with_timeouts,
)
from warning.notify.records import ChannelSpec, Notification
from warning.notify.templates import render
from warning.records import Level, WarningEvent, zone
from warning.yamlfile import ConfigError

TZ = zone("Asia/Shanghai")
EVENT = WarningEvent(
    "w-1",
    "raised",
    "rainstorm",
    "rainstorm",
    Level.ORANGE,
    Level.YELLOW,
    "rg-0042",
    "wuxing",
    1783231200000,
    {"rain_3h_mm": 57.5},
    "湖州城区: 58 mm in 3 h",
    "Start level-II response.",
)


def note(*channels: ChannelSpec, kind: str = "firing") -> Notification:
    return Notification(
        "n-1",
        "duty",
        "zhang",
        channels,
        kind,
        "hazard=rainstorm",
        (EVENT,),
        ack_url="https://hw.example/ack/abc",
    )


def spec(name: str, url: str, **kw) -> ChannelSpec:
    kw.setdefault("backoff_s", 2.0)
    kw.setdefault("timeout_s", 2.0)
    return ChannelSpec(name, url, **kw)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def dispatcher(sleeps):
    return Dispatcher(TZ, ChannelMetrics(CollectorRegistry()), sleep=sleeps.append)


def count(d: Dispatcher, channel: str, outcome: str) -> float:
    return (
        d.metrics.registry.get_sample_value(
            "hazard_notification_attempts_total", {"channel": channel, "outcome": outcome}
        )
        or 0.0
    )


def test_json_delivery_carries_the_rendered_push_message(receiver, dispatcher):
    out = dispatcher.deliver(note(spec("push", receiver.url())))
    assert out.ok and out.channel == "push"
    [d] = out.deliveries
    assert (d.channel, d.ok, d.attempt, d.error) == ("push", True, 1, "")
    [req] = receiver.requests
    assert req.path == "/hook" and req.headers["Content-Type"] == "application/json"
    expected = render(note(), "push", "zh", TZ)
    body = req.json()
    assert (body["title"], body["message"]) == (expected.title, expected.body)
    assert body["type"] == "failure"  # orange: apprise's most urgent type, for icons
    assert "【橙色预警(II级)】暴雨" in body["title"]
    assert count(dispatcher, "push", "ok") == 1


def test_webhook_style_sends_the_notification_with_wire_format_events(receiver, dispatcher):
    out = dispatcher.deliver(note(spec("hook", receiver.url(), style="webhook")))
    assert out.ok
    doc = json.loads(receiver.requests[0].json()["message"])
    assert doc["notification_id"] == "n-1" and doc["level"] == "orange"
    assert doc["events"] == [EVENT.to_dict(TZ)]


@pytest.mark.parametrize("scheme", ["ntfy", "form"])
def test_other_apprise_schemes_reach_the_loopback_gateway(receiver, dispatcher, scheme):
    out = dispatcher.deliver(note(spec(scheme, receiver.url(scheme, "/duty"), style="sms")))
    assert out.ok
    [req] = receiver.requests
    text = req.body.decode()
    if scheme == "form":
        text = parse_qs(text)["message"][0]
    else:
        text = req.json()["message"]
    assert text == render(note(), "sms", "zh", TZ).body


def test_retry_succeeds_on_the_third_attempt_with_exponential_backoff(receiver, dispatcher, sleeps):
    receiver.fail_next(2, 503)
    out = dispatcher.deliver(note(spec("sms", receiver.url(), retries=3, backoff_s=2.0)))
    assert out.ok
    assert [(d.attempt, d.ok) for d in out.deliveries] == [(1, False), (2, False), (3, True)]
    assert all(d.error.startswith("HTTP 503") for d in out.deliveries[:2])
    assert sleeps == [2.0, 4.0]
    assert len(receiver.requests) == 3
    assert count(dispatcher, "sms", "failed") == 2 and count(dispatcher, "sms", "ok") == 1


def test_failover_to_the_next_channel_after_the_first_returns_500(receiver, dispatcher, sleeps):
    receiver.fail_next(3, 500)
    out = dispatcher.deliver(
        note(
            spec("primary", receiver.url(path="/primary"), retries=3),
            spec("backup", receiver.url(path="/backup"), retries=2),
        )
    )
    assert out.ok and out.channel == "backup"
    assert [(d.channel, d.attempt, d.ok) for d in out.deliveries] == [
        ("primary", 1, False),
        ("primary", 2, False),
        ("primary", 3, False),
        ("backup", 1, True),
    ]
    assert "HTTP 500" in out.deliveries[0].error
    assert [r.path for r in receiver.requests] == ["/primary"] * 3 + ["/backup"]
    assert sleeps == [2.0, 4.0]  # backoff between retries, none before failing over


def test_hanging_gateway_times_out_within_the_channel_timeout(receiver, dispatcher):
    receiver.hang_s = 10
    started = time.monotonic()
    out = dispatcher.deliver(note(spec("slow", receiver.url(), retries=1, timeout_s=0.5)))
    elapsed = time.monotonic() - started
    assert not out.ok
    [d] = out.deliveries
    assert elapsed < 1.5 and d.latency_s < 1.5, (elapsed, d)
    assert len(receiver.requests) == 1
    assert d.error.startswith("timed out: expected an answer within 0.5 s")
    assert count(dispatcher, "slow", "timeout") == 1


def test_all_channels_down_reports_no_success(dispatcher, sleeps):
    port = closed_port()
    out = dispatcher.deliver(
        note(
            spec("a", f"json://127.0.0.1:{port}/a", retries=2),
            spec("b", f"json://127.0.0.1:{port}/b", retries=2),
        )
    )
    assert not out.ok and out.channel is None
    assert [(d.channel, d.attempt, d.ok) for d in out.deliveries] == [
        ("a", 1, False),
        ("a", 2, False),
        ("b", 1, False),
        ("b", 2, False),
    ]
    assert all("Connection error" in d.error for d in out.deliveries)
    assert sleeps == [2.0, 2.0]


def test_channel_without_send_resolved_is_skipped_for_resolved(receiver, dispatcher):
    quiet = spec("sms", receiver.url(path="/sms"), send_resolved=False)
    loud = spec("push", receiver.url(path="/push"))
    assert dispatcher.deliver(note(quiet, loud, kind="firing")).channel == "sms"
    out = dispatcher.deliver(note(quiet, loud, kind="resolved"))
    assert out.channel == "push" and [d.channel for d in out.deliveries] == ["push"]
    assert "【解除】" in receiver.requests[-1].json()["title"]


def test_a_url_apprise_cannot_load_fails_once_without_retries(dispatcher, sleeps):
    out = dispatcher.deliver(note(spec("bad", "nosuchscheme://tok3n-abcdef", retries=3)))
    assert not out.ok
    [d] = out.deliveries
    assert "expected a URL apprise can load" in d.error and "tok3n" not in d.error
    assert sleeps == []


def test_secret_from_env_never_appears_in_logs_or_errors(receiver, dispatcher, monkeypatch, caplog):
    token = "sk9Q2vX7LmA4pT0bR6eW1yZ3"
    monkeypatch.setenv("HW_GATEWAY_TOKEN", token)
    url = resolve_url(
        "duty-sms",
        receiver.url(
            path="/robot/{env:HW_GATEWAY_TOKEN}", query="-access_token={env:HW_GATEWAY_TOKEN}"
        ),
    )
    assert token in url
    caplog.set_level(logging.DEBUG)
    receiver.fail_next(1, 500)
    out = dispatcher.deliver(note(spec("duty-sms", url, retries=2)))
    assert out.ok
    sent = receiver.requests[0]
    assert token in sent.path  # the gateway did get it
    assert caplog.records, "expected the attempts to be logged"
    assert token not in caplog.text
    assert all(token not in d.error for d in out.deliveries)
    # with DEBUG logging apprise also hands over the gateway's answer
    assert 'gateway said b\'{"error": "boom"}\'' in out.deliveries[0].error
    assert token not in redact(url) and "****" in redact(url)


def test_secret_from_a_file_is_read_and_percent_encoded(tmp_path):
    (tmp_path / "key").write_text("a/b@c\n", encoding="utf-8")
    url = resolve_url("mail", f"json://127.0.0.1:9/x/{{file:{tmp_path / 'key'}}}")
    assert url == "json://127.0.0.1:9/x/a%2Fb%40c"
    whole = tmp_path / "url"
    whole.write_text("json://u:p@127.0.0.1:9/x\n", encoding="utf-8")
    assert resolve_url("mail", f"{{file:{whole}}}") == "json://u:p@127.0.0.1:9/x"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # an unset variable names the channel and the variable
        (
            "json://h/{env:HW_NOT_SET_ANYWHERE}",
            "duty-sms: url: expected environment variable HW_NOT_SET_ANYWHERE to be set",
        ),
        # an unreadable file names the channel and the file
        (
            "json://h/{file:/nonexistent/secret}",
            "duty-sms: url: expected a readable secret file /nonexistent/secret",
        ),
    ],
)
def test_missing_secret_is_a_clear_error_naming_the_channel(url, expected):
    with pytest.raises(ConfigError) as err:
        resolve_url("duty-sms", url)
    assert expected in str(err.value)


@pytest.mark.parametrize(
    ("url", "hidden", "kept"),
    [
        # password in the user part: apprise's privacy form
        ("json://user:hunter2@127.0.0.1:8080/hook", "hunter2", "user:****@127.0.0.1:8080"),
        # a DingTalk-style token in the path
        (
            "json://gw.example/robot/send/3f9a1c2e7b4d4e0a9c1b2d3e4f5a6b7c",
            "3f9a1c2e7b4d4e0a9c",
            "gw.example/robot/send/****",
        ),
        # query parameters whose names say secret
        ("json://gw.example/x?-sign=abc123&-region=wuxing", "abc123", "-region=wuxing"),
        # not an apprise URL at all: nothing of it is shown
        ("nosuch://secret-thing@h", "secret-thing", "nosuch://****"),
    ],
)
def test_redact(url, hidden, kept):
    text = redact(url)
    assert hidden not in text and kept in text


def test_scrub_hides_tokens_in_paths_but_not_plain_words():
    line = 'http://127.0.0.1:1 "POST /robot/3f9a1c2e7b4d4e0a9c1b2d3e HTTP/1.1" 500 1'
    assert "3f9a1c2e7b4d4e0a9c1b2d3e" not in scrub(line)
    assert scrub("notification n-1 failed: HTTP 500") == "notification n-1 failed: HTTP 500"


def test_timeouts_are_added_unless_set():
    assert with_timeouts("json://h/x", 2) == "json://h/x?rto=2&cto=2"
    assert with_timeouts("json://h/x?cto=1&-a=b", 2.5) == "json://h/x?cto=1&-a=b&rto=2.5"


def test_secrets_of_a_url_configured_whole_are_hidden_too(receiver, dispatcher, caplog):
    # the routing file's url_env / url_file give the whole URL: no placeholders to track
    topic, password = "duty7x3k", "pw-9912"
    url = receiver.url("ntfy", f"/{topic}").replace("://", f"://officer:{password}@")
    caplog.set_level(logging.DEBUG)
    receiver.fail_next(1, 500)
    out = dispatcher.deliver(note(spec("push", url, retries=2)))
    assert out.ok and receiver.requests[0].json()["topic"] == topic
    assert caplog.records
    for secret in (topic, password):
        assert secret not in caplog.text
        assert all(secret not in d.error for d in out.deliveries)


def test_metrics_start_at_zero_for_every_channel():
    registry = CollectorRegistry()
    ChannelMetrics(registry, {"sms", "push"})
    for channel in ("sms", "push"):
        for outcome in ("ok", "failed", "timeout"):
            assert (
                registry.get_sample_value(
                    "hazard_notification_attempts_total", {"channel": channel, "outcome": outcome}
                )
                == 0
            )
        assert (
            registry.get_sample_value(
                "hazard_notification_attempt_seconds_count", {"channel": channel}
            )
            == 0
        )


def test_backoff_doubles_up_to_its_cap(sleeps):
    d = Dispatcher(TZ, sleep=sleeps.append, max_backoff_s=25)
    out = d.deliver(note(spec("a", f"json://127.0.0.1:{closed_port()}/a", retries=5, backoff_s=10)))
    assert not out.ok and len(out.deliveries) == 5
    assert sleeps == [10, 20, 25, 25]


def test_resolved_to_receivers_that_take_none_is_no_attempt_and_no_error(
    receiver, dispatcher, caplog
):
    out = dispatcher.deliver(
        note(spec("sms", receiver.url(), send_resolved=False), kind="resolved")
    )
    assert not out.ok and out.deliveries == () and receiver.requests == []
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_channel_that_cannot_render_fails_over(receiver, dispatcher):
    bad = ChannelSpec("fax", receiver.url(path="/fax"), style="fax")
    out = dispatcher.deliver(note(bad, spec("push", receiver.url(path="/push"))))
    assert out.channel == "push"
    assert out.deliveries[0].error.startswith("cannot render: style must be one of")
    assert [r.path for r in receiver.requests] == ["/push"]
