"""Real servers for integration tests, on free loopback ports: InfluxDB 1.x and Prometheus."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from warning.demo.broker import free_port, stop_process, wait_for_port


class InfluxDB:
    """Debian's influxd (1.x, v1 API) in a temporary directory."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hazard-influx-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        binary = shutil.which("influxd") or "/usr/bin/influxd"
        self.proc = subprocess.Popen([binary, "-config", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=(self.dir / "influxd.log").open("wb"))
        wait_for_port(self.port, 30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/ping", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
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

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
