"""Run configuration: defaults, strict keys and types, secrets from env or file only."""

from __future__ import annotations

import pytest

from warning.config import load_config, secret
from warning.yamlfile import ConfigError


def _problems(tmp_path, text):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    return [str(p).replace(str(f), "F") for p in exc.value.problems]


def test_defaults(tmp_path):
    (tmp_path / "c.yaml").write_text("")
    cfg = load_config(tmp_path / "c.yaml")
    assert cfg.mqtt.qos == 1 and cfg.mqtt.clean_start is False
    assert cfg.metrics.host == "127.0.0.1"
    assert cfg.influx is None
    assert cfg.path("rules") == tmp_path / "rules"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "mqtt:\n  bogus: 1\n",
            [
                "F:2: mqtt.bogus: expected one of host, port, client_id, "
                "username, password_env, password_file, tls, topic_prefix, "
                "share_group, qos, keepalive, clean_start, publish_warnings, "
                "publish_dead_letters, inbox_limit, linger_ms, found unknown key 'bogus'"
            ],
        ),
        ("mqtt:\n  port: '1883'\n", ["F:2: mqtt.port: expected int, found '1883'"]),
        ("mqtt:\n  qos: 2\n", ["F:2: mqtt.qos: expected one of 0, 1, found 2"]),
        ("mqtt:\n  linger_ms: 5000\n", ["F:2: mqtt.linger_ms: expected 0 to 1000, found 5000"]),
        ("mqtt:\n  linger_ms: -1\n", ["F:2: mqtt.linger_ms: expected 0 to 1000, found -1"]),
        ("mqtt: 3\n", ["F:1: mqtt: expected a mapping, found 3"]),
        ("influx:\n  api: v3\n", ["F:2: influx.api: expected one of v1, v2, found 'v3'"]),
        (
            "pipeline:\n  lateness: soon\n",
            ["F:2: pipeline.lateness: expected a duration like 30s, 10m, 3h or 1d; found 'soon'"],
        ),
        (
            "pipeline:\n  unknown_sensors: maybe\n",
            ["F:2: pipeline.unknown_sensors: expected one of reject, accept, found 'maybe'"],
        ),
        (
            "pipeline:\n  confirm: later\n",
            ["F:2: pipeline.confirm: expected one of route, wait, found 'later'"],
        ),
        ("rules: 5\n", ["F:1: rules: expected a list of texts, found 5"]),
        (
            "mqtt:\n  password: hunter2\n",
            [
                "F:2: mqtt.password: expected one of host, port, client_id, username, password_env, "
                "password_file, tls, topic_prefix, share_group, qos, keepalive, clean_start, "
                "publish_warnings, publish_dead_letters, inbox_limit, linger_ms, found unknown key "
                "'password'"
            ],
        ),
    ],
)
def test_problems(tmp_path, text, expected):
    assert _problems(tmp_path, text) == expected


def test_secret_from_env_and_file(tmp_path, monkeypatch):
    monkeypatch.setenv("T_SECRET", "s3cret")
    assert secret("T_SECRET", None, "x") == "s3cret"
    (tmp_path / "s").write_text("fromfile\n")
    assert secret(None, str(tmp_path / "s"), "x") == "fromfile"
    assert secret(None, None, "x") is None


def test_missing_secret_names_the_variable_not_a_value(monkeypatch):
    monkeypatch.delenv("T_MISSING", raising=False)
    with pytest.raises(ConfigError, match="expected environment variable T_MISSING to be set"):
        secret("T_MISSING", None, "mqtt.password")


def test_the_example_config_loads_with_every_section():
    from pathlib import Path

    from warning.config import load_config

    cfg = load_config(Path(__file__).parents[1] / "deploy" / "config.example.yaml")
    assert cfg.notify is not None and cfg.notify.routing.endswith("deploy/routing.example.yaml")
    assert cfg.notify.host == "127.0.0.1" and cfg.metrics.host == "127.0.0.1"
