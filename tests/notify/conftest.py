"""Notification tests: a loopback gateway standing in for SMS and push services."""

from __future__ import annotations

import pytest

from tests.support.http_receiver import Receiver, Request, gateway

__all__ = ["Receiver", "Request"]


@pytest.fixture
def receiver():
    """A gateway on 127.0.0.1 (port 0, its own thread), stopped after the test."""
    with gateway() as rx:
        yield rx
