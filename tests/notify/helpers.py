"""Shared builders for notification tests: a routing file, warning events, a clock."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from warning.notify.routing_file import Routing, load_routing
from warning.records import Level, WarningEvent

TZ = ZoneInfo("Asia/Shanghai")
#: A Wednesday morning in flood season (epoch seconds).
T0 = datetime(2026, 7, 1, 10, 0, tzinfo=TZ).timestamp()

ROUTING = """\
timezone: Asia/Shanghai
ack_level: yellow
channels:
  duty:   {url: "json://127.0.0.1:{port}/duty", backoff: 200ms, style: sms}
  backup: {url: "json://127.0.0.1:{port}/backup", backoff: 200ms, style: push}
  deputy: {url: "json://127.0.0.1:{port}/deputy", style: sms}
  leader: {url: "json://127.0.0.1:{port}/leader", style: sms, language: en}
  maint:  {url: "json://127.0.0.1:{port}/maint", style: webhook}
people:
  zhang: {display: 张伟, channels: [duty, backup]}
  li:    {display: 李娜, channels: [duty]}
  wang:  {channels: [deputy]}
  chen:  {channels: [leader]}
schedules:
  duty: {rotation: [zhang, li], handover: "08:30", period: 1d, start: 2026-06-01}
receivers:
  region-duty:
    schedule: duty
    escalate_from: orange
    escalation:
      - {after: 15m, to: deputy}
      - {after: 30m, to: leader}
  deputy: {people: [wang]}
  leader: {people: [chen]}
  maint:  {channels: [maint]}
route:
  receiver: region-duty
  group_by: [hazard, region]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - match: {hazard: sensor_fault}
      receiver: maint
silences:
  - match: {subject: rg-repair}
    starts: 2026-07-01T08:00:00+08:00
    ends: 2026-07-01T12:00:00+08:00
    comment: gauge under repair
maintenance:
  - match: {sensor.operator: calib}
    days: [wed]
    from: "09:00"
    to: "11:00"
    comment: weekly calibration
inhibit:
  - source: {min_level: red}
    target: {}
    equal: [hazard, region]
"""


def routing_file(tmp: Path, port: int = 9, text: str = ROUTING, **replace: str) -> Path:
    """Write the test routing file (channels pointing at ``port``) and return its path."""
    body = text.replace("{port}", str(port))
    for old, new in replace.items():
        body = body.replace(old, new)
    path = tmp / "routing.yaml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def routing(tmp: Path, port: int = 9) -> Routing:
    """Load the test routing file."""
    return load_routing(routing_file(tmp, port))


def event(
    wid: str,
    kind: str,
    level: str | None,
    *,
    subject: str = "rg-1",
    region: str = "wuxing",
    hazard: str = "rainstorm",
    ts_s: float = T0,
    previous: str | None = None,
) -> WarningEvent:
    """Build one warning event."""
    return WarningEvent(
        warning_id=wid,
        event=kind,
        rule_id=hazard,
        hazard=hazard,
        level=Level.parse(level) if level else None,
        previous_level=Level.parse(previous) if previous else None,
        subject=subject,
        region=region,
        ts=int(ts_s * 1000),
        values={"rain_3h_mm": 57.5},
        message=f"{subject}: 57 mm in 3 h",
        instruction="Check drainage.",
    )
