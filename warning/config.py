"""The run configuration: strict YAML into dataclasses, defaults first, secrets from env or file."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warning.records import parse_duration_ms
from warning.yamlfile import Checker, ConfigError, LineDict, Problem, describe, load_yaml


@dataclass
class TLS:
    """TLS options for a client connection."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure: bool = False  # skip hostname checks (test certificates only)


@dataclass
class MQTT:
    """Broker connection, subscription and publication settings."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "hazard-warning"
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    tls: TLS | None = None
    topic_prefix: str = "hazard"
    share_group: str | None = None
    qos: int = 1
    keepalive: int = 30
    clean_start: bool = False
    publish_warnings: bool = True
    publish_dead_letters: bool = True
    inbox_limit: int = 10_000  # messages read, not yet taken by the flow (~1.7 kB each)
    linger_ms: int = 20  # a batch waits up to this long for more messages (bigger batches)


@dataclass
class Influx:
    """InfluxDB connection; ``api`` is v1 (``/write``, InfluxDB 1.x) or v2 (2.x, 3.x, 1.8+)."""

    url: str = "http://127.0.0.1:8086"
    api: str = "v1"
    database: str = "hazard"
    retention_policy: str | None = None
    org: str | None = None
    bucket: str | None = None
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    ca_file: str | None = None
    verify_tls: bool = True
    timeout: str = "10s"
    batch_size: int = 5000
    spool_dir: str = "spool"
    spool_max_bytes: int = 1 << 30


@dataclass
class Pipeline:
    """Event-time and validation settings."""

    lateness: str = "5m"
    tick: str = "1m"
    idle_tick_after: str = "2m"
    max_future: str = "5m"
    max_payload_bytes: int = 65536
    unknown_sensors: str = "reject"
    timezone: str = "Asia/Shanghai"
    recovery_dir: str | None = None
    snapshot_interval: str = "10s"
    state_ttl: str = "20d"  # a sensor unheard this long (event time) loses its state
    watch_rules: bool = True
    detectors: bool = True  # streaming anomaly detectors and sensor-fault warnings
    #: An uncorroborated extreme that raises orange or red: "route" it at once as Possible,
    #: or "wait" one report interval for the next reading or a neighbour to confirm it.
    confirm: str = "route"
    anomaly_model: str | None = None  # a folder made by 'anomaly train' (hot-reloaded)
    forecast_max_age: str = "6h"  # a forecast not renewed this long after its issue expires
    nowcast_model: str | None = None  # a folder made by 'forecast train' (hot-reloaded)
    #: How long area rules wait for a member's out-of-order readings (docs/AREAS.md); at
    #: most lateness, which is the default. Shorter: area warnings sooner, the same events
    #: as backtest only while no accepted reading comes more than this behind.
    area_hold: str | None = None


@dataclass
class MetricsConfig:
    """Where ``/metrics`` is served; loopback unless configured."""

    host: str = "127.0.0.1"
    port: int = 9108
    enabled: bool = True


@dataclass
class OutputsConfig:
    """Local outputs besides MQTT and InfluxDB."""

    console: bool = True
    jsonl: str | None = None


@dataclass
class Notify:
    """The notification router: routing file, durable state, ack links and the CAP feed."""

    routing: str = "routing.yaml"
    state_dir: str = "notify"
    host: str = "127.0.0.1"  # ack links and the CAP feed; loopback unless configured
    port: int = 9110
    base_url: str | None = None  # how officers' phones reach host:port (a proxy, usually)
    ack_key_env: str | None = None
    ack_key_file: str | None = None  # default: a key generated once in state_dir
    ack_link_ttl: str = "24h"
    # The SMS gateway's inbound webhook (POST /sms/inbound): its bearer token, from the
    # environment or a file; without one, SMS carry no reply code.
    sms_inbound_token_env: str | None = None
    sms_inbound_token_file: str | None = None
    client_id: str = "hazard-warning-notify"
    tick: str = "1s"


@dataclass
class Config:
    """The whole run configuration."""

    rules: list[str] = field(default_factory=lambda: ["rules"])
    sensors: str | None = None
    mqtt: MQTT = field(default_factory=MQTT)
    influx: Influx | None = None
    pipeline: Pipeline = field(default_factory=Pipeline)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    notify: Notify | None = None
    kinds: dict[str, Any] = field(default_factory=dict)
    base_dir: str = "."

    def path(self, p: str) -> Path:
        """Resolve a path from the config file's directory."""
        return Path(p) if Path(p).is_absolute() else Path(self.base_dir) / p


_DURATION_FIELDS = {
    "lateness",
    "tick",
    "idle_tick_after",
    "max_future",
    "timeout",
    "snapshot_interval",
    "ack_link_ttl",
    "state_ttl",
    "area_hold",
}
_CHOICES = {
    "api": ("v1", "v2"),
    "unknown_sensors": ("reject", "accept"),
    "qos": (0, 1),
    "confirm": ("route", "wait"),
}
#: Numeric settings with bounds (inclusive).
_RANGES = {"linger_ms": (0, 1000)}


def _build(cls: type, node: Any, c: Checker, where: str, line: int) -> Any:
    if not isinstance(node, dict):
        c.add(line, "", where, f"expected a mapping, found {describe(node)}")
        return cls()
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "base_dir"]
    for key in node:
        if key not in names:
            line_of = node.line_of(str(key)) if isinstance(node, LineDict) else line
            c.add(
                line_of,
                "",
                f"{where}.{key}" if where else str(key),
                f"expected one of {', '.join(names)}, found unknown key {key!r}",
            )
    kwargs = {}
    for name in names:
        if name not in node:
            continue
        value = node[name]
        key = f"{where}.{name}" if where else name
        kline = node.line_of(name) if isinstance(node, LineDict) else line
        kwargs[name] = _value(hints[name], value, c, key, kline)
        if name in _DURATION_FIELDS and isinstance(value, str):
            try:
                parse_duration_ms(value)
            except ValueError as exc:
                c.add(kline, "", key, f"expected {exc}")
        if name in _CHOICES and value not in _CHOICES[name]:
            c.add(
                kline,
                "",
                key,
                f"expected one of {', '.join(map(str, _CHOICES[name]))}, found {describe(value)}",
            )
        bounds = _RANGES.get(name)
        if bounds and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
            c.add(kline, "", key, f"expected {bounds[0]} to {bounds[1]}, found {value}")
    return cls(**kwargs)


def _value(hint: Any, value: Any, c: Checker, key: str, line: int) -> Any:
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        if value is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        args = typing.get_args(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, c, key, line)
    origin = typing.get_origin(hint)
    if origin is list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            c.add(line, "", key, f"expected a list of texts, found {describe(value)}")
            return []
        return list(value)
    if origin is dict:
        if not isinstance(value, dict):
            c.add(line, "", key, f"expected a mapping, found {describe(value)}")
            return {}
        return value
    ok = {
        str: isinstance(value, str),
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, int | float) and not isinstance(value, bool),
    }[hint]
    if not ok:
        c.add(line, "", key, f"expected {hint.__name__}, found {describe(value)}")
    return value


def load_config(path: str | Path | None) -> Config:
    """Load a run configuration (or the defaults for None); raise ConfigError on any problem."""
    if path is None:
        return Config()
    c = Checker(str(path))
    doc = load_yaml(path)
    if doc is None:
        doc = LineDict()
        doc.line, doc.key_lines = 1, {}
    config = _build(Config, doc, c, "", 1)
    c.raise_if_any()
    config.base_dir = str(Path(path).parent)
    # Secret and certificate files, like every other path, are relative to the config file.
    for section, names in (
        (config.mqtt, ("password_file",)),
        (config.mqtt.tls, ("ca_file", "cert_file", "key_file")),
        (config.influx, ("password_file", "token_file", "ca_file")),
        (config.notify, ("routing", "state_dir", "ack_key_file", "sms_inbound_token_file")),
    ):
        for name in names if section is not None else ():
            if getattr(section, name):
                setattr(section, name, str(config.path(getattr(section, name))))
    return config


def secret(env: str | None, file: str | None, what: str) -> str | None:
    """Read a secret from an environment variable or a file; never from the config itself."""
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(
                [Problem("<env>", 0, "", what, f"expected environment variable {env} to be set")]
            )
        return value
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                [Problem(file, 0, "", what, f"cannot read secret file: {exc.strerror}")]
            ) from None
    return None
