"""Fixtures: real Mosquitto and InfluxDB on free loopback ports, stopped afterwards."""

from __future__ import annotations

import os
import uuid

import pytest
from hypothesis import settings

from tests.support.servers import InfluxDB
from warning.demo.broker import Broker, mosquitto_path

# CI must not fail by chance: the same examples on every run, no example database carried
# between runs. Locally, examples stay random (HYPOTHESIS_PROFILE=ci to replay CI's).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


#: The compiled build's own tests run in the compiled copy scripts/test.sh makes, beside the
#: pure checkout it names; elsewhere there is no compiled build to compare.
collect_ignore = [] if os.environ.get("HAZARD_WARNING_PURE_TREE") else ["compiled"]


#: Fixtures that start a real server: a test using one is an integration test.
SERVER_FIXTURES = frozenset(
    {
        "broker",
        "influx_server",
        "influxdb",
        "own_influx",
        "sim_broker",
        "stored",
        "live",
        "receiver",
    }
)


def pytest_collection_modifyitems(items):
    """Mark integration tests: those in tests/integration or using a server fixture.

    ``pytest -m "not integration"`` is then the fast loop of pure-logic tests.
    """
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if "integration" in item.path.parts or names & SERVER_FIXTURES:
            item.add_marker(pytest.mark.integration)


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
