"""MQTT security against real Mosquitto: TLS with client certificates, and passwords.

A throwaway CA, server certificate (CN/SAN 127.0.0.1, localhost) and client certificates are
made with ``openssl``; one Mosquitto listens with TLS and ``require_certificate true``, another
with a ``password_file`` and ``allow_anonymous false``. Clients come from
``warning.mqtt.make_client`` exactly as the pipeline builds them, and the pipeline itself runs
as a subprocess over both brokers.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import MQTTErrorCode

from tests.support.live_helpers import metric
from warning.config import MQTT, TLS, load_config
from warning.demo.broker import (
    MOSQUITTO_LIMITS,
    free_port,
    mosquitto_path,
    stop_process,
    wait_for_port,
)
from warning.mqtt import make_client

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
PASSWORD = "Zq7-corr3ct-h0rse-#S3cr3t"  # never to be seen in any log
WRONG = "Wr0ng-but-still-$ecret-9x"
USER = "pipeline"


# Certificates --------------------------------------------------------------------------


@dataclass
class PKI:
    dir: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    rogue_cert: Path  # a client certificate from a CA the broker does not trust
    rogue_key: Path


def _openssl(cwd: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(d: Path, name: str) -> None:
    _openssl(
        d,
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.crt",
        "-subj",
        f"/CN=hazard test {name}",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )


def _leaf(d: Path, name: str, ca: str, cn: str, ext: str) -> None:
    (d / f"{name}.ext").write_text(ext)
    _openssl(
        d,
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
        "-subj",
        f"/CN={cn}",
    )
    _openssl(
        d,
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        f"{ca}.crt",
        "-CAkey",
        f"{ca}.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        f"{name}.crt",
        "-extfile",
        f"{name}.ext",
    )


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> PKI:
    assert shutil.which("openssl"), "openssl is not installed"
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "ca")
    _ca(d, "rogue-ca")
    _leaf(
        d,
        "server",
        "ca",
        "127.0.0.1",
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    client_ext = (
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n"
    )
    _leaf(d, "client", "ca", "hazard-pipeline", client_ext)
    _leaf(d, "rogue", "rogue-ca", "intruder", client_ext)
    return PKI(
        d,
        d / "ca.crt",
        d / "server.crt",
        d / "server.key",
        d / "client.crt",
        d / "client.key",
        d / "rogue.crt",
        d / "rogue.key",
    )


# Brokers -------------------------------------------------------------------------------


class Mosquitto:
    """Mosquitto with one loopback listener and the given security settings."""

    def __init__(self, directory: Path, settings: str):
        self.port = free_port()
        self.dir = directory
        self.conf = directory / "mosquitto.conf"
        # As root, Mosquitto would switch to user "mosquitto", who cannot read pytest's
        # private temporary directories; "user root" keeps it as it is (ignored otherwise).
        user = "user root\n" if os.geteuid() == 0 else ""
        self.conf.write_text(
            f"{user}listener {self.port} 127.0.0.1\n{settings}\n"
            f"{MOSQUITTO_LIMITS}log_type all\nconnection_messages true\n"
        )
        self.log = directory / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        path = mosquitto_path()
        assert path, "mosquitto is not installed"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [path, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while self.proc.poll() is None and time.monotonic() < deadline:
            try:
                wait_for_port(self.port, 0.2)
                return self
            except TimeoutError:
                pass
        self.stop()
        raise AssertionError(f"mosquitto did not start: {self.log.read_text()}")

    def log_since(self, offset: int) -> str:
        """The broker's log after ``offset`` bytes (it is written as things happen)."""
        deadline = time.monotonic() + 5
        while True:
            text = self.log.read_bytes()[offset:].decode(errors="replace")
            if "disconnected" in text or time.monotonic() > deadline:
                return text
            time.sleep(0.02)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


@pytest.fixture(scope="module")
def tls_broker(pki, tmp_path_factory):
    b = Mosquitto(
        tmp_path_factory.mktemp("tls-broker"),
        f"allow_anonymous true\ncafile {pki.ca}\ncertfile {pki.server_cert}\n"
        f"keyfile {pki.server_key}\nrequire_certificate true\n",
    ).start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def password_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("password-broker")
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run(
        [passwd, "-b", "-c", str(d / "passwd"), USER, PASSWORD], check=True, capture_output=True
    )
    subprocess.run(
        [passwd, "-b", str(d / "passwd"), "observer", "observer-pw"],
        check=True,
        capture_output=True,
    )
    assert PASSWORD not in (d / "passwd").read_text()  # stored hashed
    b = Mosquitto(d, f"allow_anonymous false\npassword_file {d / 'passwd'}\n").start()
    yield b
    b.stop()


# Clients -------------------------------------------------------------------------------


def connect(cfg: MQTT, timeout: float = 10) -> tuple[paho.Client | None, str]:
    """Connect a make_client() client; return it running, or None and why it failed."""
    client = make_client(cfg, f"test-{uuid.uuid4().hex[:8]}", persistent=False)
    outcome: queue.SimpleQueue[str] = queue.SimpleQueue()
    client.on_connect = lambda _c, _u, _f, reason, _p: outcome.put(
        "connected" if not reason.is_failure else f"refused: {reason}"
    )
    client.on_disconnect = lambda _c, _u, _f, reason, _p: outcome.put(f"disconnected: {reason}")
    try:
        client.connect(cfg.host, cfg.port, keepalive=10)
    except OSError as exc:  # ssl.SSLError included: the TLS handshake failed
        return None, f"error: {exc}"
    deadline = time.monotonic() + timeout
    while outcome.empty() and time.monotonic() < deadline:
        rc = client.loop(0.05)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and outcome.empty():
            return None, f"lost: {rc}"
    result = outcome.get_nowait() if not outcome.empty() else "timed out"
    if result != "connected":
        client.disconnect()
        return None, result
    client.loop_start()
    return client, result


def close(client: paho.Client) -> None:
    client.disconnect()
    client.loop_stop()


def round_trip(cfg: MQTT) -> bytes:
    """Subscribe and publish with two clients built from ``cfg``; return what came back."""
    sub, why = connect(cfg)
    assert sub is not None, why
    pub, why = connect(cfg)
    assert pub is not None, why
    got: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    subscribed: queue.SimpleQueue[bool] = queue.SimpleQueue()
    sub.on_message = lambda _c, _u, m: got.put(m.payload)
    sub.on_subscribe = lambda *_: subscribed.put(True)
    topic = f"hazard/test/{uuid.uuid4().hex[:8]}"
    sub.subscribe(topic, qos=1)
    subscribed.get(timeout=10)
    payload = f"hello {topic}".encode()
    pub.publish(topic, payload, qos=1).wait_for_publish(10)
    try:
        return got.get(timeout=10)
    finally:
        close(sub)
        close(pub)


# TLS -----------------------------------------------------------------------------------


def test_tls_with_client_certificate_connects_and_receives(pki, tls_broker):
    cfg = MQTT(
        port=tls_broker.port, tls=TLS(str(pki.ca), str(pki.client_cert), str(pki.client_key))
    )
    assert round_trip(cfg).startswith(b"hello hazard/test/")


def test_tls_without_or_with_an_untrusted_client_certificate_is_refused(pki, tls_broker):
    seen = len(tls_broker.log.read_bytes())
    no_cert, why = connect(MQTT(port=tls_broker.port, tls=TLS(str(pki.ca))), timeout=5)
    assert no_cert is None, f"the broker must require a client certificate ({why})"
    assert "peer did not return a certificate" in tls_broker.log_since(seen)

    seen = len(tls_broker.log.read_bytes())
    rogue, why = connect(
        MQTT(port=tls_broker.port, tls=TLS(str(pki.ca), str(pki.rogue_cert), str(pki.rogue_key))),
        timeout=5,
    )
    assert rogue is None, f"a certificate from an unknown CA must be refused ({why})"
    assert "certificate verify failed" in tls_broker.log_since(seen)


def test_tls_server_certificate_is_verified(pki, tls_broker):
    # Trusting only the rogue CA, the client must refuse the broker's certificate.
    client, why = connect(
        MQTT(
            port=tls_broker.port,
            tls=TLS(str(pki.dir / "rogue-ca.crt"), str(pki.client_cert), str(pki.client_key)),
        ),
        timeout=5,
    )
    assert client is None and "CERTIFICATE_VERIFY_FAILED" in why


def test_plain_mqtt_to_the_tls_listener_fails(tls_broker):
    seen = len(tls_broker.log.read_bytes())
    client, why = connect(MQTT(port=tls_broker.port), timeout=3)
    assert client is None, why
    assert "wrong version number" in tls_broker.log_since(seen)


# Passwords -----------------------------------------------------------------------------


def test_password_from_env_works(password_broker, monkeypatch):
    monkeypatch.setenv("TEST_MQTT_PASSWORD", PASSWORD)
    cfg = MQTT(port=password_broker.port, username=USER, password_env="TEST_MQTT_PASSWORD")
    assert round_trip(cfg).startswith(b"hello")


def test_password_from_file_works(password_broker, tmp_path):
    (tmp_path / "mqtt.pass").write_text(PASSWORD + "\n")  # a trailing newline is stripped
    cfg = MQTT(port=password_broker.port, username=USER, password_file=str(tmp_path / "mqtt.pass"))
    assert round_trip(cfg).startswith(b"hello")


@pytest.mark.parametrize("username,password", [(USER, WRONG), ("nobody", PASSWORD), (None, None)])
def test_wrong_or_missing_credentials_are_refused(password_broker, monkeypatch, username, password):
    if password:
        monkeypatch.setenv("TEST_MQTT_PASSWORD", password)
    cfg = MQTT(
        port=password_broker.port,
        username=username,
        password_env="TEST_MQTT_PASSWORD" if password else None,
    )
    client, why = connect(cfg)
    assert client is None
    assert why == "refused: Not authorized", why


# The pipeline --------------------------------------------------------------------------

GAS_REGISTRY = {
    "sensors": [
        {
            "id": "gs-1",
            "kind": "gas",
            "name": "Unit 3 detector",
            "region": "plant",
            "lat": 30.1,
            "lon": 120.2,
        }
    ]
}


def _wait(predicate, timeout: float, what: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the pipeline exited early:\n{log.read_text()}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()}")


class Pipeline:
    """``python -m warning run --config ...`` as a subprocess, output to a log file."""

    def __init__(self, config: Path, cwd: Path, env: dict[str, str], verbose: bool = True):
        self.log = cwd / f"pipeline-{uuid.uuid4().hex[:6]}.log"
        self.out = self.log.open("wb")
        args = [sys.executable, "-m", "warning", "run", "--config", str(config)]
        self.proc = subprocess.Popen(
            args + (["--verbose"] if verbose else []),
            cwd=cwd,
            stdout=self.out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        )

    def wait(self, predicate, timeout: float, what: str) -> None:
        _wait(predicate, timeout, what, self.proc, self.log)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        return self.log.read_text(errors="replace")


def _config(path: Path, mqtt: dict, metrics_port: int, influx: dict | None = None) -> Path:
    (path.parent / "sensors.yaml").write_text(yaml.safe_dump(GAS_REGISTRY))
    cfg = {
        "rules": [str(ROOT / "rules")],
        "sensors": "sensors.yaml",
        "mqtt": mqtt,
        "pipeline": {"idle_tick_after": "1h"},
        "metrics": {"port": metrics_port},
        "outputs": {"console": True},
    }
    if influx is not None:
        cfg["influx"] = influx
    path.write_text(yaml.safe_dump(cfg))
    return path


def _gas_reading(lel_pct: float) -> bytes:
    ts = datetime.now(UTC).replace(microsecond=0).isoformat()
    return json.dumps(
        {"sensor_id": "gs-1", "kind": "gas", "ts": ts, "seq": 1, "values": {"lel_pct": lel_pct}}
    ).encode()


def _expect_red_gas_warning(cfg: MQTT, pipeline: Pipeline, metrics_port: int) -> dict:
    """Publish one reading over ``cfg`` and return the warning that comes back."""
    collector, why = connect(cfg)
    assert collector is not None, why
    got: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
    subscribed: queue.SimpleQueue[bool] = queue.SimpleQueue()
    collector.on_message = lambda _c, _u, m: got.put((m.topic, m.payload))
    collector.on_subscribe = lambda *_: subscribed.put(True)
    collector.subscribe("hazard/warnings/#", qos=1)
    subscribed.get(timeout=10)
    pipeline.wait(
        lambda: metric(metrics_port, "hazard_mqtt_connected") == 1, 30, "the pipeline to subscribe"
    )
    publisher, why = connect(cfg)
    assert publisher is not None, why
    publisher.publish("hazard/readings/plant/gas/gs-1", _gas_reading(60.0), qos=1).wait_for_publish(
        10
    )
    try:
        topic, payload = got.get(timeout=30)
    except queue.Empty:
        raise AssertionError(f"no warning arrived:\n{pipeline.log.read_text()}") from None
    finally:
        close(publisher)
        close(collector)
    assert topic == "hazard/warnings/plant/gas_leak"
    return json.loads(payload)


def test_pipeline_over_tls_turns_a_reading_into_a_warning(pki, tls_broker, tmp_path):
    # Certificates named relative to the config file, which is not in the working directory
    # (as in the Docker image: config in /etc/hazard-warning, work dir /var/lib/hazard).
    conf_dir = tmp_path / "etc"
    (conf_dir / "certs").mkdir(parents=True)
    for p in (pki.ca, pki.client_cert, pki.client_key):
        shutil.copy(p, conf_dir / "certs" / p.name)
    metrics_port = free_port()
    tls = {
        "ca_file": "certs/ca.crt",
        "cert_file": "certs/client.crt",
        "key_file": "certs/client.key",
    }
    config = _config(
        conf_dir / "config.yaml",
        {"port": tls_broker.port, "tls": tls, "client_id": f"tls-{uuid.uuid4().hex[:6]}"},
        metrics_port,
    )
    work = tmp_path / "work"
    work.mkdir()
    pipeline = Pipeline(config, work, {}, verbose=False)
    try:
        client_tls = TLS(str(pki.ca), str(pki.client_cert), str(pki.client_key))
        warning = _expect_red_gas_warning(
            MQTT(port=tls_broker.port, tls=client_tls), pipeline, metrics_port
        )
    finally:
        output = pipeline.stop()
    assert pipeline.proc.returncode == 0, output
    assert "Traceback" not in output
    assert (warning["event"], warning["rule_id"], warning["level"], warning["subject"]) == (
        "raised",
        "gas_combustible",
        "red",
        "gs-1",
    )
    assert warning["values"] == {"lel_pct": 60.0}


def test_relative_secret_and_tls_paths_are_taken_from_the_config_directory(tmp_path, monkeypatch):
    (tmp_path / "etc").mkdir()
    path = tmp_path / "etc" / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "mqtt": {
                    "password_file": "mqtt.pass",
                    "tls": {"ca_file": "ca.crt", "cert_file": "c.crt", "key_file": "c.key"},
                },
                "influx": {
                    "password_file": "influx.pass",
                    "token_file": "/abs/token",
                    "ca_file": "influx-ca.crt",
                },
            }
        )
    )
    monkeypatch.chdir(tmp_path)
    cfg = load_config(Path("etc/config.yaml"))
    etc = Path("etc")
    assert Path(cfg.mqtt.password_file) == etc / "mqtt.pass"
    assert cfg.mqtt.tls is not None
    assert [
        Path(p) for p in (cfg.mqtt.tls.ca_file, cfg.mqtt.tls.cert_file, cfg.mqtt.tls.key_file)
    ] == [etc / "ca.crt", etc / "c.crt", etc / "c.key"]
    assert cfg.influx is not None
    assert Path(cfg.influx.password_file) == etc / "influx.pass"
    assert Path(cfg.influx.ca_file) == etc / "influx-ca.crt"
    assert cfg.influx.token_file == "/abs/token"  # absolute paths stay as they are


def test_pipeline_never_logs_the_passwords(password_broker, influxdb, tmp_path, monkeypatch):
    metrics_port = free_port()
    env = {"TEST_MQTT_PASSWORD": PASSWORD, "TEST_INFLUX_PASSWORD": "influx-" + PASSWORD}
    config = _config(
        tmp_path / "config.yaml",
        {
            "port": password_broker.port,
            "username": USER,
            "password_env": "TEST_MQTT_PASSWORD",
            "client_id": f"pw-{uuid.uuid4().hex[:6]}",
        },
        metrics_port,
        {
            "url": influxdb.url,
            "database": influxdb.db,
            "username": "pipeline",
            "password_env": "TEST_INFLUX_PASSWORD",
            "batch_size": 1,
        },
    )
    monkeypatch.setenv("TEST_MQTT_PASSWORD", PASSWORD)  # for this test's own clients
    pipeline = Pipeline(config, tmp_path, env, verbose=True)
    try:
        cfg = MQTT(port=password_broker.port, username=USER, password_env="TEST_MQTT_PASSWORD")
        warning = _expect_red_gas_warning(cfg, pipeline, metrics_port)
        assert warning["rule_id"] == "gas_combustible"
        pipeline.wait(
            lambda: influxdb.query("SELECT count(lel_pct) FROM reading", db=influxdb.db) != [],
            30,
            "the reading stored",
        )
    finally:
        output = pipeline.stop()
    assert pipeline.proc.returncode == 0, output
    assert "connected to MQTT" in output  # the log was really captured, at debug level
    assert PASSWORD not in output and "influx-" + PASSWORD not in output

    # A wrong password: refused (and said so), but the secret is still never logged.
    metrics_port = free_port()
    config = _config(
        tmp_path / "config-wrong.yaml",
        {
            "port": password_broker.port,
            "username": USER,
            "password_env": "TEST_MQTT_PASSWORD",
            "client_id": f"pw-{uuid.uuid4().hex[:6]}",
        },
        metrics_port,
    )
    wrong = Pipeline(config, tmp_path, {"TEST_MQTT_PASSWORD": WRONG}, verbose=True)
    try:
        wrong.wait(
            lambda: "refused the connection" in wrong.log.read_text(),
            30,
            "the broker to refuse the pipeline",
        )
    finally:
        output = wrong.stop()
    assert "Not authorized" in output
    assert WRONG not in output and PASSWORD not in output
