"""The demo command works on embedded defaults and shows the storm's warnings."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("broker", ["mosquitto", "amqtt"])
def test_demo_shows_the_storm(broker, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "warning", "demo", "--speed", "6000", "--broker", broker],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"{broker} broker" in text
    assert "InfluxDB not configured: storage skipped" in text
    red = [
        line
        for line in text.splitlines()
        if "RED" in line and "ESCALATED" in line and "rainstorm" in line
    ]
    assert len(red) == 1 and "rg-aj-01" in red[0], text
    assert "1080 readings received, 0 rejected" in text
    # Officers' phones: the gateway prints each message; anji's red warnings go to county duty.
    # (At this speed the storm passes within a few group intervals: fewer messages than at 900x.)
    sms = [line for line in text.splitlines() if "SMS → li_na" in line]
    assert any("红色预警" in line and "安吉县" in line and "确认:http" in line for line in sms), (
        text
    )
    assert "messages reached on-call officers' phones" in text
    assert "Traceback" not in out.stderr
