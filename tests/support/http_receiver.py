"""A real HTTP server on a free loopback port, standing in for SMS and push gateways."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    """One request as the gateway saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """The gateway: records requests; answers ``status`` or hangs, as the test commands."""

    port: int = 0
    requests: list[Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # the answer to each request, in order
    failures: list[int] = field(default_factory=list)  # statuses for the next requests
    status: int = 200  # then this one
    hang_s: float = 0.0  # seconds to wait before answering
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, scheme: str = "json", path: str = "/hook", query: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}{'?' + query if query else ''}"

    def fail_next(self, n: int, status: int = 500) -> None:
        with self.lock:
            self.failures = [status] * n

    def answer(self, request: Request) -> int:
        with self.lock:
            self.requests.append(request)
            status = self.failures.pop(0) if self.failures else self.status
            self.statuses.append(status)
            return status


@contextlib.contextmanager
def gateway():
    """A gateway on 127.0.0.1 (port 0, its own thread), stopped on leaving."""
    rx = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size)
            status = rx.answer(
                Request(self.command, self.path, dict(self.headers), body, time.monotonic())
            )
            if rx.hang_s:
                rx.release.wait(rx.hang_s)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "boom"}')
            except OSError:
                pass  # the client gave up waiting

        do_POST = do_PUT = do_GET = _any

        def log_message(self, format, *args):  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rx.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    thread.start()
    yield rx
    rx.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)
