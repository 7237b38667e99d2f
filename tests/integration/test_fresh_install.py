"""The README's first command on a machine with nothing but Python: a fresh venv, no extras.

``pip install -e .`` must bring everything the demo needs, the embedded broker included, so
that ``hazard-warning demo --broker amqtt`` shows warnings and officers' messages and exits 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_fresh_venv_without_extras_runs_the_demo(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "COLUMNS": "200",
    }
    pip = subprocess.run(
        [
            str(venv / "bin" / "pip"),
            "install",
            "-q",
            "--disable-pip-version-check",
            "-e",
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
    )
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import warning, amqtt; print(warning.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert where.stdout.strip() == str(REPO / "warning" / "__init__.py"), where.stderr
    out = subprocess.run(
        [str(venv / "bin" / "hazard-warning"), "demo", "--broker", "amqtt", "--speed", "6000"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    text = out.stdout
    assert "amqtt broker" in text
    assert any(
        "RED" in line and "ESCALATED" in line and "rainstorm" in line for line in text.splitlines()
    ), text
    assert "SMS →" in text and "messages reached on-call officers' phones" in text, text
    assert "Traceback" not in out.stderr
