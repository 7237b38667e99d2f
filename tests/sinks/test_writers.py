"""The InfluxDB writers: V1 against a real influxd, V2 against a recording loopback server.

The v2 request shape checked here is the documented one (InfluxDB OSS v2 API, "Write data"):
``POST /api/v2/write?org=ORG&bucket=BUCKET&precision=ms`` with ``Authorization: Token TOKEN``,
``Content-Type: text/plain; charset=utf-8`` and line protocol as the body; 204 on success.
InfluxDB 1.8+ serves the same endpoint with ``Token user:password`` and ``bucket=db/rp``.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.servers import InfluxDB
from warning.config import Influx
from warning.demo.broker import free_port
from warning.sinks.writers import V1Writer, V2Writer, WriteError, make_writer

TS0 = 1783231200000
BODY = (
    f"reading,sensor_id=rg-1,kind=rainfall,region=wuxing rain_mm=1.5,seq=1i {TS0}\n"
    f"reading,sensor_id=rg-2,kind=rainfall,region=nanxun rain_mm=0.25 {TS0 + 1}"
).encode()


class Recorder:
    """A loopback HTTP server noting every request and answering with ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 204
        self.delay = 0.0
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                url = urllib.parse.urlsplit(self.path)
                recorder.requests.append(
                    {
                        "method": "POST",
                        "path": url.path,
                        "query": dict(urllib.parse.parse_qsl(url.query)),
                        "headers": dict(self.headers.items()),
                        "body": self.rfile.read(length),
                    }
                )
                time.sleep(recorder.delay)
                body = (
                    b""
                    if recorder.status == 204
                    else json.dumps(
                        {"code": "invalid", "message": f"status {recorder.status}"}
                    ).encode()
                )
                try:
                    self.send_response(recorder.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.close()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# V1 against the real InfluxDB 1.x --------------------------------------------------------


def test_v1_writes_lines_with_ms_precision(influxdb):
    writer = make_writer(Influx(url=influxdb.url, database=influxdb.db))
    assert isinstance(writer, V1Writer)
    writer.write(BODY)
    rows = influxdb.query("SELECT rain_mm, seq, sensor_id FROM reading", db=influxdb.db)
    assert [(r["time"], r["sensor_id"], r["rain_mm"], r["seq"]) for r in rows] == [
        (TS0, "rg-1", 1.5, 1),
        (TS0 + 1, "rg-2", 0.25, None),
    ]
    writer.close()


def test_v1_writes_into_the_configured_retention_policy(influxdb):
    influxdb.query(
        f'CREATE RETENTION POLICY "short" ON "{influxdb.db}" DURATION 3650d REPLICATION 1', db=""
    )
    V1Writer(Influx(url=influxdb.url, database=influxdb.db, retention_policy="short")).write(BODY)
    assert influxdb.query("SELECT count(rain_mm) FROM reading", db=influxdb.db) == []
    rows = influxdb.query(
        f'SELECT count(rain_mm) FROM "{influxdb.db}"."short"."reading"', db=influxdb.db
    )
    assert rows[0]["count"] == 2


def test_v1_malformed_lines_are_refused_not_retryable(influxdb):
    with pytest.raises(WriteError) as bad:
        V1Writer(Influx(url=influxdb.url, database=influxdb.db)).write(b"reading rain_mm=")
    assert bad.value.retry is False and "400" in str(bad.value)


def test_v1_unreachable_store_is_retryable():
    with pytest.raises(WriteError) as refused:
        V1Writer(Influx(url=f"http://127.0.0.1:{free_port()}")).write(BODY)
    assert refused.value.retry is True and "unreachable" in str(refused.value)


@pytest.fixture(scope="module")
def auth_influx():
    """An InfluxDB 1.x with authentication on, an admin ``admin`` and a writer ``pipeline``."""
    mp = pytest.MonkeyPatch()
    mp.setenv("INFLUXDB_HTTP_AUTH_ENABLED", "true")  # influxd reads config overrides from env
    try:
        server = InfluxDB().start()
    finally:
        mp.undo()

    def q(text: str, user: str | None = "admin", password: str = "admin-pw") -> dict:
        data = urllib.parse.urlencode({"q": text}).encode()
        req = urllib.request.Request(f"{server.url}/query", data=data)
        if user:
            req.add_header("Authorization", basic(user, password))
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)

    try:
        q("CREATE USER admin WITH PASSWORD 'admin-pw' WITH ALL PRIVILEGES", user=None)
        q('CREATE DATABASE "hazard"')
        q("CREATE USER pipeline WITH PASSWORD 'pipe-pw'")
        q('GRANT WRITE ON "hazard" TO pipeline')
        server.admin_query = q
        yield server
    finally:
        server.cleanup()


def _count(server) -> int:
    series = server.admin_query('SELECT count(rain_mm) FROM "hazard".."reading"')["results"][0]
    return series["series"][0]["values"][0][1] if "series" in series else 0


def test_v1_basic_auth_from_env_or_file_is_accepted(auth_influx, monkeypatch, tmp_path):
    monkeypatch.setenv("TEST_INFLUX_PASSWORD", "pipe-pw")
    V1Writer(
        Influx(url=auth_influx.url, username="pipeline", password_env="TEST_INFLUX_PASSWORD")
    ).write(BODY)
    assert _count(auth_influx) == 2
    (tmp_path / "influx.pass").write_text("pipe-pw\n")
    V1Writer(
        Influx(
            url=auth_influx.url, username="pipeline", password_file=str(tmp_path / "influx.pass")
        )
    ).write(BODY.replace(b"rg-", b"xx-"))
    assert _count(auth_influx) == 4


@pytest.mark.parametrize("username,password", [("pipeline", "wrong"), (None, None)])
def test_v1_wrong_or_missing_credentials_are_refused(auth_influx, monkeypatch, username, password):
    if password:
        monkeypatch.setenv("TEST_INFLUX_PASSWORD", password)
    writer = V1Writer(
        Influx(
            url=auth_influx.url,
            username=username,
            password_env="TEST_INFLUX_PASSWORD" if password else None,
        )
    )
    with pytest.raises(WriteError) as refused:
        writer.write(BODY)
    # Wrong credentials are an operator's mistake to fix, not bad data: keep retrying.
    assert "401" in str(refused.value) and refused.value.retry is True
    assert "wrong" not in str(refused.value)


def test_v1_request_shape(recorder, monkeypatch):
    V1Writer(Influx(url=recorder.url, database="hazard db")).write(BODY)
    monkeypatch.setenv("TEST_INFLUX_PASSWORD", "p:w d")
    V1Writer(
        Influx(
            url=recorder.url + "/",
            database="hazard",
            retention_policy="raw",
            username="pipeline",
            password_env="TEST_INFLUX_PASSWORD",
        )
    ).write(BODY)
    monkeypatch.setenv("TEST_INFLUX_TOKEN", "tok-123")
    V1Writer(
        Influx(
            url=recorder.url,
            username="pipeline",
            password_env="TEST_INFLUX_PASSWORD",
            token_env="TEST_INFLUX_TOKEN",
        )
    ).write(BODY)
    anonymous, with_user, with_token = recorder.requests
    assert anonymous["path"] == "/write"
    assert anonymous["query"] == {"db": "hazard db", "precision": "ms"}
    assert "Authorization" not in anonymous["headers"]  # basic auth only with a username
    assert anonymous["body"] == BODY
    assert anonymous["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert with_user["path"] == "/write"
    assert with_user["query"] == {"db": "hazard", "precision": "ms", "rp": "raw"}
    assert with_user["headers"]["Authorization"] == basic("pipeline", "p:w d")
    assert with_token["headers"]["Authorization"] == "Token tok-123"  # a token wins


@pytest.mark.parametrize(
    "status,retry",
    [
        (500, True),
        (503, True),
        (429, True),
        (400, False),
        (401, True),
        (403, True),
        (404, True),
        (413, False),
    ],
)
def test_v1_status_decides_retry(recorder, status, retry):
    recorder.status = status
    with pytest.raises(WriteError) as exc:
        V1Writer(Influx(url=recorder.url)).write(BODY)
    assert exc.value.retry is retry and str(status) in str(exc.value)
    assert len(recorder.requests) == 1


def test_v1_timeout_is_retryable(recorder):
    recorder.delay = 1.0
    started = time.monotonic()
    with pytest.raises(WriteError) as exc:
        V1Writer(Influx(url=recorder.url, timeout="0.2s")).write(BODY)
    assert exc.value.retry is True and time.monotonic() - started < 0.9


# V2 against a recording loopback server --------------------------------------------------


def v2(recorder, **kw) -> V2Writer:
    writer = make_writer(Influx(url=recorder.url, api="v2", **kw))
    assert isinstance(writer, V2Writer)
    return writer


def test_v2_request_shape_with_token_from_env(recorder, monkeypatch):
    monkeypatch.setenv("TEST_INFLUX_TOKEN", "s3cr3t-token==")
    writer = v2(recorder, org="acme", bucket="hazard-raw", token_env="TEST_INFLUX_TOKEN")
    writer.write(BODY)
    writer.close()
    [req] = recorder.requests
    assert req["method"] == "POST" and req["path"] == "/api/v2/write"
    assert req["query"] == {"org": "acme", "bucket": "hazard-raw", "precision": "ms"}
    assert req["headers"]["Authorization"] == "Token s3cr3t-token=="
    assert req["headers"]["Content-Type"].startswith("text/plain")
    assert req["headers"].get("Content-Encoding", "identity") == "identity"
    assert req["body"].splitlines() == BODY.splitlines()


def test_v2_token_from_file(recorder, tmp_path):
    (tmp_path / "token").write_text("file-token\n")
    v2(recorder, org="acme", bucket="b", token_file=str(tmp_path / "token")).write(BODY)
    assert recorder.requests[0]["headers"]["Authorization"] == "Token file-token"


def test_v2_defaults_for_influxdb_1_8_compatibility(recorder, monkeypatch):
    # No bucket: database/retention_policy; no org: "-"; no token: "Token user:password".
    monkeypatch.setenv("TEST_INFLUX_PASSWORD", "pipe-pw")
    v2(
        recorder,
        database="hazard",
        retention_policy="autogen",
        username="pipeline",
        password_env="TEST_INFLUX_PASSWORD",
    ).write(BODY)
    v2(recorder, database="hazard").write(BODY)
    compat, anonymous = recorder.requests
    assert compat["query"] == {"org": "-", "bucket": "hazard/autogen", "precision": "ms"}
    assert compat["headers"]["Authorization"] == "Token pipeline:pipe-pw"
    assert anonymous["query"]["bucket"] == "hazard"
    assert "Authorization" not in anonymous["headers"]


@pytest.mark.parametrize(
    "status,retry",
    [
        (500, True),
        (503, True),
        (429, True),
        (400, False),
        (401, True),
        (403, True),
        (404, True),
        (413, False),
    ],
)
def test_v2_status_decides_retry(recorder, monkeypatch, status, retry):
    monkeypatch.setenv("TEST_INFLUX_TOKEN", "t")
    recorder.status = status
    with pytest.raises(WriteError) as exc:
        v2(recorder, org="o", bucket="b", token_env="TEST_INFLUX_TOKEN").write(BODY)
    assert exc.value.retry is retry and str(status) in str(exc.value)
    assert len(recorder.requests) == 1  # no hidden retries inside the client library


def test_v2_connection_refused_and_timeout_are_retryable(recorder):
    with pytest.raises(WriteError) as refused:
        make_writer(Influx(url=f"http://127.0.0.1:{free_port()}", api="v2", bucket="b")).write(BODY)
    assert refused.value.retry is True
    recorder.delay = 1.0
    started = time.monotonic()
    with pytest.raises(WriteError) as slow:
        v2(recorder, bucket="b", timeout="0.2s").write(BODY)
    assert slow.value.retry is True and time.monotonic() - started < 0.9
