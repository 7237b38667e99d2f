"""A durable outbox: warning messages kept on disk until the broker has acknowledged them.

paho keeps QoS 1 messages in memory while the broker is away, which a crash loses. With
recovery on, the outbox closes that gap: the sink appends each message and fsyncs before its
batch returns (so before bytewax can snapshot the epoch that produced it), and marks it done
when paho reports the broker's PUBACK. On start, whatever is not done is published again:
at-least-once, and the events carry ``warning_id`` and ``event`` for idempotent consumers.

One JSON object per line: ``{"n": 7, "topic": ..., "payload": ...}`` adds, ``{"done": 7}``
marks done. The file is rewritten without finished entries at start and whenever it empties.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class Outbox:
    """Unacknowledged messages, in order, durable on local disk."""

    def __init__(self, directory: str | Path):
        self.path = Path(directory) / "outbox.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.Lock()
        self.pending: dict[int, tuple[str, bytes]] = {}
        if self.path.exists():
            self._read()
        self.next = max(self.pending, default=-1) + 1
        self._rewrite()
        if self.pending:
            log.warning(
                "%d warning messages from the last run wait in %s; sending them",
                len(self.pending),
                self.path,
            )

    def _read(self) -> None:
        for line in self.path.read_bytes().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: its batch never returned
            if "done" in entry:
                self.pending.pop(entry["done"], None)
            else:
                self.pending[entry["n"]] = (entry["topic"], base64.b64decode(entry["payload"]))

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            for n, (topic, payload) in self.pending.items():
                f.write(self._line(n, topic, payload))
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        self.file = self.path.open("ab")

    @staticmethod
    def _line(n: int, topic: str, payload: bytes) -> bytes:
        return (
            json.dumps(
                {"n": n, "topic": topic, "payload": base64.b64encode(payload).decode()}
            ).encode()
            + b"\n"
        )

    def add(self, topic: str, payload: bytes) -> int:
        """Append a message (durable after ``sync``); return its number."""
        with self.lock:
            n = self.next
            self.next += 1
            self.pending[n] = (topic, payload)
            self.file.write(self._line(n, topic, payload))
            return n

    def sync(self) -> None:
        """Make every added message durable."""
        with self.lock:
            self.file.flush()
            os.fsync(self.file.fileno())

    def done(self, n: int) -> None:
        """Mark a message acknowledged by the broker (any thread)."""
        with self.lock:
            if self.pending.pop(n, None) is None:
                return
            if self.pending:
                self.file.write(json.dumps({"done": n}).encode() + b"\n")
            else:  # nothing waits: start an empty file rather than grow this one
                self.file.close()
                self._rewrite()

    def close(self) -> None:
        """Flush and close the file."""
        with self.lock:
            self.file.flush()
            self.file.close()
