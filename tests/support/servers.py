"""Real servers for integration tests, on free loopback ports: InfluxDB 1.x and Prometheus."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from warning.demo.broker import free_port, stop_process, wait_for_port


class Server:
    """A Debian server binary in its own temporary directory, on a free loopback port."""

    name = ""  # binary, and the prefix of the directory and log
    ready_path = "/"  # answers 2xx once the server takes requests

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix=f"hazard-{self.name}-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return (self.dir / f"{self.name}.log").read_text(errors="replace")

    def launch(self, *args: str) -> None:
        """Start the binary with ``args`` and wait until it is ready (30 s at most)."""
        binary = shutil.which(self.name) or f"/usr/bin/{self.name}"
        self.proc = subprocess.Popen(
            [binary, *args],
            stdout=subprocess.DEVNULL,
            stderr=(self.dir / f"{self.name}.log").open("wb"),
        )
        wait_for_port(self.port, 30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        msg = f"{self.name} not ready after 30 s: {self.log()[-2000:]}"
        raise TimeoutError(msg)

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class InfluxDB(Server):
    """Debian's influxd (1.x, v1 API)."""

    name = "influxd"
    ready_path = "/ping"

    def start(self) -> InfluxDB:
        conf = self.dir / "influxdb.conf"
        conf.write_text(f"""
reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
""")
        self.launch("-config", str(conf))
        return self

    def query(self, q: str, db: str = "hazard") -> list[dict]:
        """Run InfluxQL; return the first result's series as dicts of column -> value rows."""
        data = urllib.parse.urlencode({"q": q, "db": db, "epoch": "ms"}).encode()
        with urllib.request.urlopen(f"{self.url}/query", data=data, timeout=10) as resp:
            body = json.load(resp)
        result = body["results"][0]
        if "error" in result:
            raise RuntimeError(result["error"])
        rows = []
        for series in result.get("series", []):
            for values in series["values"]:
                row = dict(zip(series["columns"], values, strict=True))
                row.update(series.get("tags", {}))
                rows.append(row)
        return rows

    def create_database(self, name: str = "hazard") -> None:
        self.query(f'CREATE DATABASE "{name}"', db="")


class Prometheus(Server):
    """Scrapes what ``config`` says; ``query`` and ``query_range`` go to its HTTP API."""

    name = "prometheus"
    ready_path = "/-/ready"

    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self.config = config

    def start(self) -> Prometheus:
        conf = self.dir / "prometheus.yml"
        conf.write_text(yaml.safe_dump(self.config))
        self.launch(
            f"--config.file={conf}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        )
        return self

    def api(self, path: str, **params: Any) -> Any:
        """GET an API path; return ``data``, or raise RuntimeError with Prometheus' error."""
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=10) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        if body.get("status") != "success":
            msg = f"{body.get('errorType')}: {body.get('error')} ({path} {params})"
            raise RuntimeError(msg)
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        params = {"query": expr} | ({"time": at} if at is not None else {})
        return self.api("query", **params)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """A range query's result matrix."""
        return self.api("query_range", query=expr, start=start, end=end, step=step)["result"]
