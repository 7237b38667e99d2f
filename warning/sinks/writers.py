"""Write line protocol to InfluxDB over the v1 ``/write`` API or the v2 write API."""

from __future__ import annotations

import base64
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from warning.config import Influx, secret
from warning.records import parse_duration_ms

#: Statuses that mean "this data will never be accepted"; anything else (5xx, 429, and also
#: 401/403/404 from wrong credentials or a missing database) is an outage to wait out.
REFUSED_STATUSES = frozenset({400, 413, 422})


class WriteError(Exception):
    """A failed write; ``retry`` says whether sending the same data later can succeed."""

    def __init__(self, message: str, retry: bool):
        super().__init__(message)
        self.retry = retry


class Writer(Protocol):
    """Sends a batch of line-protocol lines, raising WriteError."""

    def write(self, body: bytes) -> None:
        """Send one batch."""

    def close(self) -> None:
        """Release connections."""


class V1Writer:
    """InfluxDB 1.x ``POST /write?db=...&precision=ms`` (also served by 2.x and 3.x)."""

    def __init__(self, cfg: Influx):
        query = {"db": cfg.database, "precision": "ms"}
        if cfg.retention_policy:
            query["rp"] = cfg.retention_policy
        self.url = f"{cfg.url.rstrip('/')}/write?{urllib.parse.urlencode(query)}"
        self.headers = {"Content-Type": "text/plain; charset=utf-8"}
        token = secret(cfg.token_env, cfg.token_file, "influx.token")
        password = secret(cfg.password_env, cfg.password_file, "influx.password")
        if token:
            self.headers["Authorization"] = f"Token {token}"
        elif cfg.username:
            pair = f"{cfg.username}:{password or ''}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        self.timeout = parse_duration_ms(cfg.timeout) / 1000
        self.context = _tls_context(cfg) if cfg.url.startswith("https") else None

    def write(self, body: bytes) -> None:
        """POST one batch; 5xx and connection errors are retryable, 4xx are not."""
        req = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise WriteError(
                f"InfluxDB answered {exc.code}: {detail}", retry=exc.code not in REFUSED_STATUSES
            ) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise WriteError(f"InfluxDB unreachable: {reason}", retry=True) from None

    def close(self) -> None:
        """Nothing to release: each write opens its own connection."""


class V2Writer:
    """InfluxDB 2.x/3.x (and 1.8+ compatibility) through influxdb-client's write API."""

    def __init__(self, cfg: Influx):
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        token = secret(cfg.token_env, cfg.token_file, "influx.token")
        if token is None and cfg.username:
            token = f"{cfg.username}:{secret(cfg.password_env, cfg.password_file, 'p') or ''}"
        self.bucket = cfg.bucket or (
            f"{cfg.database}/{cfg.retention_policy}" if cfg.retention_policy else cfg.database
        )
        self.org = cfg.org or "-"
        self.client = InfluxDBClient(
            url=cfg.url,
            token=token or "",
            org=self.org,
            timeout=parse_duration_ms(cfg.timeout),
            verify_ssl=cfg.verify_tls,
            ssl_ca_cert=cfg.ca_file,
        )
        self.api = self.client.write_api(write_options=SYNCHRONOUS)

    def write(self, body: bytes) -> None:
        """Write one batch with millisecond precision."""
        from influxdb_client import WritePrecision
        from influxdb_client.rest import ApiException

        try:
            precision: Any = WritePrecision.MS  # a str constant; the stubs say an enum
            self.api.write(bucket=self.bucket, org=self.org, record=body, write_precision=precision)
        except ApiException as exc:
            status = exc.status or 0
            raise WriteError(
                f"InfluxDB answered {status}: {(exc.body or '')[:300]}",
                retry=status not in REFUSED_STATUSES,
            ) from None
        except Exception as exc:  # urllib3 raises a family of connection errors
            raise WriteError(f"InfluxDB unreachable: {exc}", retry=True) from None

    def close(self) -> None:
        """Close the client."""
        self.client.close()


def _tls_context(cfg: Influx) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cfg.ca_file)
    if not cfg.verify_tls:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def make_writer(cfg: Influx) -> Writer:
    """Return the writer for the configured API."""
    return V2Writer(cfg) if cfg.api == "v2" else V1Writer(cfg)
