"""A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, in a temp dir."""

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


class Prometheus:
    """Scrapes what ``config`` says; ``query`` and ``query_range`` go to its HTTP API."""

    def __init__(self, config: dict[str, Any]):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hazard-prometheus-"))
        self.config = config
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Prometheus:
        conf = self.dir / "prometheus.yml"
        conf.write_text(yaml.safe_dump(self.config))
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        self.proc = subprocess.Popen(
            [binary, f"--config.file={conf}", f"--storage.tsdb.path={self.dir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=(self.dir / "prometheus.log").open("wb"))
        wait_for_port(self.port, 30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/-/ready", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        msg = f"Prometheus not ready: {self.log()}"
        raise TimeoutError(msg)

    def log(self) -> str:
        return (self.dir / "prometheus.log").read_text(errors="replace")

    def api(self, path: str, **params: Any) -> Any:
        """GET an API path; return ``data``, or raise RuntimeError with Prometheus' error."""
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}",
                                        timeout=10) as resp:
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

    def query_range(self, expr: str, start: float, end: float, step: float
                    ) -> list[dict[str, Any]]:
        """A range query's result matrix."""
        return self.api("query_range", query=expr, start=start, end=end, step=step)["result"]

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
