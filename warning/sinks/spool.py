"""A bounded, durable, ordered queue of unsent batches on local disk."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


class Spool:
    """Batches wait here, one file each, and leave in the order they came.

    When the spool is over ``max_bytes`` the oldest *readings* batches are dropped (and
    counted); warning batches are never dropped.
    """

    def __init__(self, directory: str | Path, max_bytes: int):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        files = self.files()
        self.counter = int(files[-1].name.split(".")[0]) + 1 if files else 0
        self.size = sum(f.stat().st_size for f in files)
        self.dropped_lines = 0

    def files(self) -> list[Path]:
        """Return the waiting batches, oldest first."""
        return sorted(self.dir.glob("*.lp"))

    def __bool__(self) -> bool:
        return self.size > 0

    def put(self, kind: str, body: bytes) -> None:
        """Store a batch durably (written, flushed, fsynced, then renamed into place)."""
        name = f"{self.counter:012d}.{kind}.lp"
        self.counter += 1
        tmp = self.dir / (name + ".tmp")
        with tmp.open("wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        tmp.rename(self.dir / name)
        self.size += len(body)
        self._bound()

    def _bound(self) -> None:
        if self.size <= self.max_bytes:
            return
        for f in self.files():
            if self.size <= self.max_bytes:
                break
            if ".readings." in f.name:
                data = f.read_bytes()
                f.unlink()
                self.size -= len(data)
                self.dropped_lines += data.count(b"\n") + 1
                log.error(
                    "spool over %d bytes: dropped %s (%d readings)",
                    self.max_bytes,
                    f.name,
                    data.count(b"\n") + 1,
                )

    def peek(self) -> tuple[Path, bytes] | None:
        """Return the oldest batch without removing it."""
        files = self.files()
        return (files[0], files[0].read_bytes()) if files else None

    def remove(self, path: Path) -> None:
        """Remove a batch once it is safely stored elsewhere."""
        size = path.stat().st_size
        path.unlink()
        self.size -= size
