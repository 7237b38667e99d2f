"""The demo's stand-in for SMS and push gateways: prints what on-call officers receive."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rich.console import Console
from rich.markup import escape

#: Demo routing: every region's duty officer by SMS and push, escalation to the duty leader
#: after 10 s without acknowledgement (demo speed; production uses 15 min and more),
#: sensor faults and silent gauges to maintenance. Group timers are shortened for the demo.
DEMO_ROUTING = """\
timezone: Asia/Shanghai
ack_level: yellow
channels:
  zhang-sms:   {url: "json://127.0.0.1:{port}/sms/zhang_wei", style: sms, language: zh-CN}
  li-sms:      {url: "json://127.0.0.1:{port}/sms/li_na", style: sms, language: zh-CN}
  leader-push: {url: "json://127.0.0.1:{port}/push/chen_jun", style: push, language: zh-CN}
  maintenance: {url: "json://127.0.0.1:{port}/webhook/maintenance", style: webhook}
people:
  zhang_wei: {display: 张伟, channels: [zhang-sms]}
  li_na:     {display: 李娜, channels: [li-sms]}
  chen_jun:  {display: 陈军, channels: [leader-push]}
receivers:
  city-duty:
    people: [zhang_wei]
    escalate_from: orange
    escalation:
      - {after: 10s, to: duty-leader}
  county-duty:
    people: [li_na]
    escalate_from: orange
    escalation:
      - {after: 10s, to: duty-leader}
  duty-leader: {people: [chen_jun]}
  maintenance: {channels: [maintenance]}
route:
  receiver: city-duty
  group_by: [hazard, region]
  group_wait: 2s
  group_interval: 5s
  repeat_interval: 1h
  routes:
    - match: {hazard: [silence, sensor_fault]}
      receiver: maintenance
      group_by: [region]
    - match: {region: [anji, deqing, changxing]}
      receiver: county-duty
inhibit:
  - source: {min_level: red}
    target: {}
    equal: [hazard, region]
"""


class Gateway:
    """A loopback HTTP server that prints each message it receives, as a phone would show it."""

    def __init__(self, console: Console):
        self.console = console
        self.count = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.show(self.path, body)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port

    def show(self, path: str, body: bytes) -> None:
        """Print one received message."""
        self.count += 1
        channel, _, who = path.strip("/").partition("/")
        try:
            data = json.loads(body)
        except ValueError:
            data = {"message": body.decode("utf-8", "replace")}
        text = str(data.get("message") or data.get("body") or "")
        if channel == "webhook":
            text = data.get("title") or text[:200]
        self.console.print(
            f"  [bold magenta]{channel.upper()} → {escape(who)}[/]: {escape(text)}", highlight=False
        )

    def __enter__(self) -> Gateway:
        threading.Thread(target=self.server.serve_forever, name="demo-gateway", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
