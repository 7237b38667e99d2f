"""Helpers for the store tests: a fake monotonic clock, a recording writer, a restart."""

from __future__ import annotations

from tests.support.servers import InfluxDB
from warning.sinks.writers import WriteError, Writer


class FakeClock:
    """A monotonic clock that moves only when told to (the sink's backoff reads it)."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingWriter:
    """Wraps a real writer; notes every attempt and every batch the server accepted."""

    def __init__(self, inner: Writer):
        self.inner = inner
        self.attempts: list[tuple[bytes, str]] = []  # (body, "ok" | "retry" | "refused")

    def write(self, body: bytes) -> None:
        try:
            self.inner.write(body)
        except WriteError as exc:
            self.attempts.append((body, "retry" if exc.retry else "refused"))
            raise
        self.attempts.append((body, "ok"))

    @property
    def sent(self) -> list[bytes]:
        return [body for body, outcome in self.attempts if outcome == "ok"]

    def close(self) -> None:
        self.inner.close()


def restart(server: InfluxDB) -> None:
    """Start a stopped server again on the same port with the same data directory."""
    server.stop()
    server.start()
