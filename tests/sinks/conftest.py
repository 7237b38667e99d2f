"""Fixtures for the store tests: a private InfluxDB that a test may stop and start again."""

from __future__ import annotations

import pytest

from tests.support.servers import InfluxDB
from tests.support.store_helpers import FakeClock


@pytest.fixture
def own_influx():
    """A private InfluxDB 1.x with database ``hazard`` (``.db``), free to stop and restart."""
    server = InfluxDB().start()
    try:
        server.create_database("hazard")
        server.db = "hazard"
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
