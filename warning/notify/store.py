"""The router's durable state in one SQLite file: inbox, router state and outbox.

Warning events and acknowledgements enter the inbox as soon as they are received; the router
consumes inbox rows, saves its new state, queues notifications in the outbox and stages the
audit records of what it decided in one transaction, so a crash at any point neither loses an
event nor applies it twice, and the audit log (a file of its own) gets every record of the
router's decisions. The delivery loop stages each attempt's records in the transaction that
takes the notification out of the outbox (or schedules its retry) in the same way.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                                  body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (notification_id TEXT PRIMARY KEY, body TEXT NOT NULL,
                                   attempts INTEGER NOT NULL DEFAULT 0,
                                   next_try REAL NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit_queue (id INTEGER PRIMARY KEY AUTOINCREMENT,
                                        body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ack_codes (code TEXT PRIMARY KEY, notification_id TEXT NOT NULL,
                                      person TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reply_codes (person TEXT NOT NULL, number TEXT NOT NULL,
                                        code TEXT NOT NULL, expires INTEGER NOT NULL,
                                        PRIMARY KEY (person, number));
"""


class RouterStore:
    """Inbox, state, outbox, staged audit and code tables behind one lock; thread-safe."""

    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(path)
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        self.lock = threading.Lock()

    def put(self, kind: str, body: dict[str, Any]) -> None:
        """Append one event (``kind="event"``) or acknowledgement (``"ack"``) to the inbox."""
        with self.lock:
            self.db.execute(
                "INSERT INTO inbox (kind, body) VALUES (?, ?)",
                (kind, json.dumps(body, ensure_ascii=False)),
            )

    def inbox(self, limit: int = 1000) -> list[tuple[int, str, dict[str, Any]]]:
        """Return the oldest inbox rows, without removing them."""
        with self.lock:
            rows = self.db.execute(
                "SELECT id, kind, body FROM inbox ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(i, k, json.loads(b)) for i, k, b in rows]

    def inbox_size(self) -> int:
        """Return how many inbox rows wait."""
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]

    def commit(
        self,
        state: dict[str, Any],
        consumed_up_to: int,
        notifications: list[dict[str, Any]],
        now: float,
        codes: list[tuple[str, str, str, int]] | None = None,
        replies: list[tuple[str, str, str, int]] | None = None,
        audit: list[dict[str, Any]] | None = None,
    ) -> None:
        """Save the router state, drop consumed inbox rows, queue notifications, atomically.

        ``codes`` are short acknowledgement codes (code, notification id, person, expiry),
        ``replies`` SMS reply numbers (person, number, code, expiry); expired ones are dropped.
        ``audit`` are audit records to stage until the audit log has them (``staged_audit``).
        """
        with self.lock, self._transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO state VALUES ('router', ?)",
                (json.dumps(state, ensure_ascii=False),),
            )
            self.db.execute("DELETE FROM inbox WHERE id <= ?", (consumed_up_to,))
            self.db.executemany(
                "INSERT OR IGNORE INTO outbox (notification_id, body, next_try, created) "
                "VALUES (?, ?, ?, ?)",
                [
                    (n["notification_id"], json.dumps(n, ensure_ascii=False), now, now)
                    for n in notifications
                ],
            )
            self.db.executemany("INSERT OR REPLACE INTO ack_codes VALUES (?, ?, ?, ?)", codes or [])
            self.db.executemany(
                "INSERT OR REPLACE INTO reply_codes VALUES (?, ?, ?, ?)", replies or []
            )
            self._stage(audit)
            if codes:
                self.db.execute("DELETE FROM ack_codes WHERE expires < ?", (now,))
                self.db.execute("DELETE FROM reply_codes WHERE expires < ?", (now,))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # One transaction; the caller holds the lock.
        self.db.execute("BEGIN IMMEDIATE")  # if this fails, nothing was begun
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:  # SQLite may have rolled back itself (disk full, I/O)
                self.db.execute("ROLLBACK")
            raise

    def _stage(self, audit: list[dict[str, Any]] | None) -> None:
        self.db.executemany(
            "INSERT INTO audit_queue (body) VALUES (?)",
            [(json.dumps(r, ensure_ascii=False),) for r in audit or []],
        )

    def staged_audit(self, limit: int = 5000) -> list[tuple[int, dict[str, Any]]]:
        """Return the oldest staged audit records, without removing them."""
        with self.lock:
            rows = self.db.execute(
                "SELECT id, body FROM audit_queue ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [(i, json.loads(b)) for i, b in rows]

    def drop_audit(self, up_to: int) -> None:
        """Remove staged audit records up to id ``up_to``, once the audit log holds them."""
        with self.lock:
            self.db.execute("DELETE FROM audit_queue WHERE id <= ?", (up_to,))

    def state(self) -> dict[str, Any] | None:
        """Return the saved router state, or None on a first start."""
        with self.lock:
            row = self.db.execute("SELECT body FROM state WHERE name = 'router'").fetchone()
        return json.loads(row[0]) if row else None

    def due(self, now: float, limit: int = 100) -> list[tuple[dict[str, Any], int]]:
        """Return queued notifications whose next attempt is due, oldest first, with attempts."""
        with self.lock:
            rows = self.db.execute(
                "SELECT body, attempts FROM outbox WHERE next_try <= ? "
                "ORDER BY created, notification_id LIMIT ?",
                (now, limit),
            ).fetchall()
        return [(json.loads(b), a) for b, a in rows]

    def delivered(self, notification_id: str, audit: list[dict[str, Any]] | None = None) -> None:
        """Remove a delivered notification from the outbox and stage its ``audit`` records."""
        with self.lock, self._transaction():
            self.db.execute("DELETE FROM outbox WHERE notification_id = ?", (notification_id,))
            self._stage(audit)

    def retry_later(
        self, notification_id: str, next_try: float, audit: list[dict[str, Any]] | None = None
    ) -> None:
        """Count a failed round, set the next attempt and stage the round's ``audit`` records."""
        with self.lock, self._transaction():
            self.db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_try = ? WHERE notification_id = ?",
                (next_try, notification_id),
            )
            self._stage(audit)

    def outbox_size(self) -> int:
        """Return how many notifications wait for delivery."""
        with self.lock:
            return self.db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def code(self, code: str) -> tuple[str, str, int] | None:
        """Return the notification id, person and expiry a short code stands for, or None."""
        with self.lock:
            row = self.db.execute(
                "SELECT notification_id, person, expires FROM ack_codes WHERE code = ?", (code,)
            ).fetchone()
        return (row[0], row[1], int(row[2])) if row else None

    def replies_in_use(self, person: str, now: float) -> set[str]:
        """Return the reply numbers a person holds that have not expired."""
        with self.lock:
            rows = self.db.execute(
                "SELECT number FROM reply_codes WHERE person = ? AND expires >= ?", (person, now)
            ).fetchall()
        return {r[0] for r in rows}

    def reply(self, person: str, number: str) -> str | None:
        """Return the short code a person's reply number stands for, or None."""
        with self.lock:
            row = self.db.execute(
                "SELECT code FROM reply_codes WHERE person = ? AND number = ?", (person, number)
            ).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        """Close the database."""
        with self.lock:
            self.db.close()
