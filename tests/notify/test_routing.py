"""The routing file: every mistake is named with file, line, place and key."""

from __future__ import annotations

import pytest

from tests.notify.helpers import ROUTING, routing_file
from warning.notify.routing_file import load_routing
from warning.records import Level
from warning.yamlfile import ConfigError


def test_the_shipped_shape_loads(tmp_path):
    r = load_routing(routing_file(tmp_path, 1234))
    assert r.channels["duty"].url == "json://127.0.0.1:1234/duty"
    assert r.channels["leader"].language == "en" and r.channels["backup"].style == "push"
    assert r.receivers["region-duty"].escalate_from == Level.ORANGE
    assert [s.after_ms for s in r.receivers["region-duty"].escalation] == [900_000, 1_800_000]
    assert r.route.routes[0].group_wait_ms == 30_000  # inherited
    assert r.ack_level == Level.YELLOW


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # Unknown key in a channel.
        (
            "style: sms}",
            "style: sms, colour: red}",
            ":4: channel 'duty': colour: expected one of url, url_env, url_file, style",
        ),
        # A style no channel knows.
        (
            "style: push}",
            "style: pager}",
            ":5: channel 'backup': style: expected one of sms, push, email, webhook, found 'pager'",
        ),
        # A phone for SMS replies must be a mobile number.
        (
            "channels: [deputy]}",
            "channels: [deputy], phone: call me}",
            ":12: person 'wang': phone: expected a mobile number such as +8613800000000, "
            "found 'call me'",
        ),
        # Receivers must name known people and channels.
        (
            "channels: [deputy]}",
            "channels: [pager]}",
            ":12: person 'wang': channels: expected one of the channels",
        ),
        (
            "  deputy: {people: [wang]}",
            "  deputy: {people: [wong]}",
            ": receiver 'deputy': people: expected one of the people (zhang, li, wang, chen), "
            "found 'wong'",
        ),
        # Escalation to a receiver that does not exist, and a bad delay.
        (
            "{after: 30m, to: leader}",
            "{after: 30m, to: boss}",
            ": receiver 'region-duty' escalation[1]: to: expected one of the receivers",
        ),
        (
            "{after: 15m, to: deputy}",
            "{after: soon, to: deputy}",
            ": receiver 'region-duty' escalation[0]: after: expected a duration like 30s",
        ),
        # Routes: unknown label, unknown receiver, bad level.
        (
            "match: {hazard: sensor_fault}",
            "match: {colour: red}",
            ": route.routes[0]: match.colour: expected one of hazard, rule_id, region, subject, level",
        ),
        (
            "receiver: maint\n",
            "receiver: maintenance\n",
            ": route.routes[0]: receiver: expected one of the receivers",
        ),
        (
            "  routes:\n",
            "  min_level: scarlet\n  routes:\n",
            ": route: min_level: expected one of blue, yellow, orange, red, found 'scarlet'",
        ),
        # Mutes: times need offsets and order; maintenance needs a matcher and valid days.
        (
            "ends: 2026-07-01T12:00:00+08:00",
            "ends: 2026-07-01T06:00:00+08:00",
            ": silences[0]: ends: expected a time after starts",
        ),
        (
            "starts: 2026-07-01T08:00:00+08:00",
            "starts: 2026-07-01 08:00",
            ": silences[0]: starts: expected an RFC 3339 time with offset",
        ),
        ("days: [wed]", "days: [wednesday]", ": maintenance[0]: days: expected days among mon"),
        ('from: "09:00"', 'from: "9am"', ": maintenance[0]: from: expected a local time HH:MM"),
        # Schedules.
        ("period: 1d", "period: 12h", ": schedule 'duty': period: expected a whole number of days"),
        (
            "timezone: Asia/Shanghai",
            "timezone: Mars/Olympus",
            ":1: timezone: expected an IANA time zone",
        ),
    ],
)
def test_errors_name_file_line_place_and_key(tmp_path, old, new, message):
    assert old in ROUTING
    path = routing_file(tmp_path, 9, **{old: new})
    with pytest.raises(ConfigError) as err:
        load_routing(path)
    assert message in str(err.value)
    assert str(err.value).startswith(str(path))


def test_secrets_come_from_env_or_file_and_a_missing_one_is_named(tmp_path, monkeypatch):
    text = ROUTING.replace('url: "json://127.0.0.1:{port}/duty"', "url_env: DUTY_URL").replace(
        'url: "json://127.0.0.1:{port}/backup"', "url_file: backup.url"
    )
    (tmp_path / "backup.url").write_text("json://127.0.0.1:9/secret-backup\n")
    with pytest.raises(
        ConfigError, match="channel 'duty': url: expected environment variable DUTY_URL to be set"
    ):
        load_routing(routing_file(tmp_path, text=text))
    monkeypatch.setenv("DUTY_URL", "json://127.0.0.1:9/secret-duty")
    r = load_routing(routing_file(tmp_path, text=text))
    assert r.channels["duty"].url.endswith("secret-duty")
    assert r.channels["backup"].url.endswith("secret-backup")


def test_not_a_mapping_and_missing_sections(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("- a\n")
    with pytest.raises(ConfigError, match="expected a mapping with route and receivers"):
        load_routing(path)
    path.write_text("timezone: UTC\n")
    with pytest.raises(ConfigError) as err:
        load_routing(path)
    assert "route: expected this key, found it missing" in str(err.value)
    assert "receivers: expected this key, found it missing" in str(err.value)


def test_placeholders_in_a_url_and_urls_apprise_cannot_load(tmp_path, monkeypatch):
    text = ROUTING.replace('"json://127.0.0.1:{port}/duty"', '"ntfy://127.0.0.1:9/{env:TOPIC}"')
    monkeypatch.setenv("TOPIC", "duty-t0p1c")
    r = load_routing(routing_file(tmp_path, text=text))
    assert r.channels["duty"].url == "ntfy://127.0.0.1:9/duty-t0p1c"
    bad = ROUTING.replace('"json://127.0.0.1:{port}/duty"', '"nosuch://127.0.0.1/x"')
    with pytest.raises(
        ConfigError, match=":4: channel 'duty': url: expected a URL apprise can load"
    ):
        load_routing(routing_file(tmp_path, text=bad))


def test_the_example_routing_file_loads_with_its_secrets(tmp_path, monkeypatch):
    from pathlib import Path

    example = Path(__file__).parents[2] / "deploy" / "routing.example.yaml"
    for name in ("ZHANG", "LI", "WANG", "LEADER"):
        monkeypatch.setenv(f"HAZARD_SMS_{name}", f"json://127.0.0.1:9/sms-{name.lower()}")
    text = example.read_text(encoding="utf-8").replace(
        "url_file: secrets/duty-email.url", f"url_file: {tmp_path}/email.url"
    )
    (tmp_path / "email.url").write_text("mailto://user:pw@mail.example.org\n")
    r = load_routing(routing_file(tmp_path, text=text))
    assert set(r.receivers) >= {"wuxing-duty", "province", "maintenance"}
    assert r.channels["duty-email"].url.startswith("mailto://")
