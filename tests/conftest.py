"""Fixtures: real Mosquitto and InfluxDB on free loopback ports, stopped afterwards."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers import InfluxDB  # noqa: E402

from warning.localserver import Broker, mosquitto_path  # noqa: E402


@pytest.fixture
def broker():
    """A fresh Mosquitto broker (queue limits lifted, as deploy/mosquitto.conf ships)."""
    assert mosquitto_path(), "mosquitto is not installed: .ci/run installs it with apt-get"
    with Broker(prefer="mosquitto") as b:
        yield b


@pytest.fixture(scope="session")
def influx_server():
    """One InfluxDB 1.x server for the session; each test gets its own database."""
    server = InfluxDB().start()
    yield server
    server.cleanup()


@pytest.fixture
def influxdb(influx_server):
    """An InfluxDB server with a fresh database; ``influxdb.db`` names it."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    influx_server.create_database(name)
    influx_server.db = name
    yield influx_server
    influx_server.query(f'DROP DATABASE "{name}"', db="")
