"""The audit log: who was warned of what, when and by which channel, kept in SQLite."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from warning.notify.records import AUDIT_ACTIONS, AuditRecord
from warning.sinks.lineproto import string_field, tag

_COLUMNS = (
    "at",
    "action",
    "warning_id",
    "notification_id",
    "receiver",
    "person",
    "channel",
    "detail",
    "record_id",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    action TEXT NOT NULL,
    warning_id TEXT NOT NULL,
    notification_id TEXT,
    receiver TEXT,
    person TEXT,
    channel TEXT,
    detail TEXT NOT NULL DEFAULT '',
    record_id TEXT
);
CREATE INDEX IF NOT EXISTS audit_warning_id ON audit (warning_id);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""
#: A log written before records had ids gains the column; old rows keep NULL (never equal).
_RECORD_ID = """
CREATE UNIQUE INDEX IF NOT EXISTS audit_record_id ON audit (record_id);
"""


class AuditLog:
    """An append-only audit table in one SQLite file (WAL, fsync on every commit).

    One connection shared by all threads behind a lock: a record is on disk when
    ``record`` returns, and survives a crash or restart.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            msg = f"audit log {self.path}: expected journal_mode wal; found {mode}"
            raise OSError(msg)
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(audit)")}
        if "record_id" not in columns:
            try:
                self._db.execute("ALTER TABLE audit ADD COLUMN record_id TEXT")
            except sqlite3.OperationalError as exc:  # another process added it just now
                if "duplicate column" not in str(exc):
                    raise
        self._db.executescript(_RECORD_ID)

    def record(self, r: AuditRecord) -> None:
        """Append one record; it is durable when this returns."""
        self.record_all([r])

    def record_all(self, records: Iterable[AuditRecord]) -> list[AuditRecord]:
        """Append records in one transaction (all or none); return those appended.

        A record whose ``record_id`` the log already holds is skipped (written again after a
        crash), and left out of the returned list.
        """
        records = list(records)
        rows = [_row(r) for r in records]
        if not rows:
            return []
        marks = ", ".join("?" * len(_COLUMNS))
        insert = (
            f"INSERT INTO audit ({', '.join(_COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (record_id) DO NOTHING"
        )
        appended: list[AuditRecord] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for r, row in zip(records, rows, strict=True):
                    if self._db.execute(insert, row).rowcount:  # 0: its record_id is held
                        appended.append(r)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return appended

    def query(
        self,
        warning_id: str | None = None,
        since: float | datetime | None = None,
        until: float | datetime | None = None,
        action: str | None = None,
        receiver: str | None = None,
        limit: int | None = None,
    ) -> list[AuditRecord]:
        """Return matching records, oldest first; ``since`` is inclusive, ``until`` exclusive."""
        where: list[str] = []
        args: list[str | float] = []
        for column, value in (
            ("warning_id", warning_id),
            ("action", action),
            ("receiver", receiver),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("at >= ?")
            args.append(_seconds(since))
        if until is not None:
            where.append("at < ?")
            args.append(_seconds(until))
        sql = f"SELECT {', '.join(_COLUMNS)} FROM audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY at, id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [AuditRecord(*row) for row in rows]

    def count(self) -> int:
        """Return how many records the log holds."""
        with self._lock:
            return self._db.execute("SELECT count(*) FROM audit").fetchone()[0]

    def close(self) -> None:
        """Close the database (the WAL is checkpointed into the main file)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _row(r: AuditRecord) -> tuple:
    if r.action not in AUDIT_ACTIONS:
        msg = f"audit action must be one of {', '.join(AUDIT_ACTIONS)}; found {r.action!r}"
        raise ValueError(msg)
    if not r.warning_id:
        msg = f"an audit record needs a warning_id; found {r.warning_id!r}"
        raise ValueError(msg)
    return tuple(getattr(r, c) for c in _COLUMNS)


def _seconds(t: float | datetime) -> float:
    if isinstance(t, datetime):
        if t.tzinfo is None:
            msg = f"a time with a zone offset; found naive {t.isoformat()}"
            raise ValueError(msg)
        return t.timestamp()
    return float(t)


def audit_line(r: AuditRecord, ts_ms: int | None = None) -> str:
    r"""Encode a record: measurement ``notification``, tags action/receiver/channel, ms time.

    >>> line = audit_line(AuditRecord(1783231200.5, "delivered", "w 1", "n,1", "duty=a",
    ...                               None, "sms", 'said "ok"'))
    >>> print(line.replace(" ", "\n", 1))
    notification,action=delivered,receiver=duty\=a,channel=sms
    warning_id="w 1",notification_id="n,1",detail="said \"ok\"" 1783231200500
    """
    tags = "".join(
        f",{k}={tag(v)}"
        for k, v in (("action", r.action), ("receiver", r.receiver), ("channel", r.channel))
        if v
    )
    fields = [f"warning_id={string_field(r.warning_id)}"]
    fields += [
        f"{k}={string_field(v)}"
        for k, v in (("notification_id", r.notification_id), ("person", r.person))
        if v is not None
    ]
    fields.append(f"detail={string_field(r.detail)}")
    ts = round(r.at * 1000) if ts_ms is None else ts_ms
    return f"notification{tags} {','.join(fields)} {ts}"


def lines(records: Iterable[AuditRecord]) -> list[str]:
    """Encode records as line protocol, ms precision, for the InfluxDB sink.

    Two records of one series in the same millisecond would overwrite each other in
    InfluxDB, so the later one is moved on by a millisecond (within this batch).
    """
    out: list[str] = []
    used: dict[tuple, set[int]] = {}
    for r in records:
        taken = used.setdefault((r.action, r.receiver, r.channel), set())
        ts = round(r.at * 1000)
        while ts in taken:
            ts += 1
        taken.add(ts)
        out.append(audit_line(r, ts))
    return out
