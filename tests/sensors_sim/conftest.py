"""Fixtures for the simulator tests: a real Mosquitto broker on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

MOSQUITTO = "/usr/sbin/mosquitto"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(
    port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 10.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            msg = f"mosquitto exited with {proc.returncode}: {log.read_text(errors='replace')}"
            raise RuntimeError(msg)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    output = log.read_text(errors="replace")
    msg = f"mosquitto did not listen on port {port} within {timeout} s: {output}"
    raise RuntimeError(msg)


@pytest.fixture
def sim_broker(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """Start Mosquitto on a free loopback port, yield ``(host, port)``, then stop it."""
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    log = tmp_path / "mosquitto.log"
    # Unlimited queueing: the default of 1000 silently drops messages for a subscriber that
    # falls behind (DOMAIN.md), which would make the no-loss check flaky rather than wrong.
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n",
        encoding="utf-8",
    )
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT
        )
        try:
            _wait_for_port(port, proc, log)
            yield "127.0.0.1", port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
