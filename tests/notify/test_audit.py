"""The audit log: durable across reopen, queryable, safe across threads, line protocol out."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from warning.cli import app
from warning.config import Influx
from warning.notify.audit import AuditLog, audit_line, lines
from warning.notify.records import AuditRecord
from warning.records import zone
from warning.sinks.writers import V1Writer

TZ = zone("Asia/Shanghai")
T = datetime(2026, 7, 5, 14, 0, tzinfo=TZ).timestamp()


def storm() -> list[AuditRecord]:
    """One warning's story: issued, a failed SMS, delivered by push, escalated, acknowledged."""
    return [
        AuditRecord(T, "issued", "w-1", "n-1", "duty", "li", None, "firing step 0"),
        AuditRecord(T + 1, "failed", "w-1", "n-1", "duty", "li", "sms", "HTTP 500"),
        AuditRecord(T + 2, "delivered", "w-1", "n-1", "duty", "li", "push", ""),
        AuditRecord(
            T + 900,
            "escalated",
            "w-1",
            "n-2",
            "chief",
            "wang",
            None,
            "not acknowledged by li after 15 min",
        ),
        AuditRecord(T + 905, "delivered", "w-1", "n-2", "chief", "wang", "sms", ""),
        AuditRecord(T + 960, "acknowledged", "w-1", "n-2", "chief", "wang", None, "via link"),
        AuditRecord(T + 30, "issued", "w-2", "n-3", "duty", "li", None, ""),
    ]


def test_records_survive_reopen_and_are_queryable(tmp_path):
    path = tmp_path / "state" / "audit.sqlite"
    with AuditLog(path) as log:
        log.record(storm()[0])
        log.record_all(storm()[1:])
    with AuditLog(path) as log:  # a restart
        assert log.count() == 7
        story = log.query(warning_id="w-1")
        assert story == sorted(storm()[:6], key=lambda r: r.at)
        assert [r.action for r in log.query(action="delivered")] == ["delivered"] * 2
        assert [r.person for r in log.query(receiver="chief")] == ["wang"] * 3
        window = log.query(since=T + 1, until=T + 900)  # since inclusive, until exclusive
        assert [r.at - T for r in window] == [1, 2, 30]
        since = datetime(2026, 7, 5, 14, 15, tzinfo=TZ)
        assert [r.action for r in log.query(warning_id="w-1", since=since)] == [
            "escalated",
            "delivered",
            "acknowledged",
        ]


def test_database_is_wal_with_full_sync_and_indexes(tmp_path):
    path = tmp_path / "audit.sqlite"
    AuditLog(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {row[1] for row in db.execute("PRAGMA index_list(audit)")}
    assert {"audit_warning_id", "audit_at"} <= indexes
    log = AuditLog(path)
    assert log._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    log.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")

    def write(worker: int) -> None:
        for i in range(50):
            log.record(AuditRecord(T + i, "delivered", f"w-{worker}", f"n-{i}", "duty"))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.count() == 200
    assert len(log.query(warning_id="w-3")) == 50
    log.close()


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            AuditRecord(T, "sent", "w-1"),
            "audit action must be one of received, issued, delivered, failed",
        ),
        (AuditRecord(T, "issued", ""), "an audit record needs a warning_id; found ''"),
    ],
)
def test_bad_records_are_refused_and_nothing_is_written(tmp_path, record, message):
    with AuditLog(tmp_path / "a.sqlite") as log:
        with pytest.raises(ValueError, match=message):
            log.record_all([storm()[0], record])
        assert log.count() == 0


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        # tags and string fields escaped by the store's own helpers
        (
            AuditRecord(T, "delivered", 'w"1', "n 1", "duty room,a=b", "李 四", "sms\\x", "a\nb"),
            "notification,action=delivered,receiver=duty\\ room\\,a\\=b,channel=sms\\\\x "
            'warning_id="w\\"1",notification_id="n 1",person="李 四",detail="a b" 1783231200000',
        ),
        # absent receiver, person and channel: no empty tags, no fields
        (
            AuditRecord(T + 0.0004, "acknowledged", "w-1"),
            'notification,action=acknowledged warning_id="w-1",detail="" 1783231200000',
        ),
    ],
)
def test_line_protocol(record, expected):
    assert audit_line(record) == expected


def test_lines_keep_records_of_one_series_in_one_millisecond_apart():
    same = [AuditRecord(T, "failed", "w-1", "n-1", "duty", None, "sms", str(i)) for i in range(3)]
    other = AuditRecord(T, "failed", "w-1", "n-1", "duty", None, "push")
    stamps = [line.rsplit(" ", 1)[1] for line in lines([*same, other])]
    assert stamps == ["1783231200000", "1783231200001", "1783231200002", "1783231200000"]


@pytest.mark.integration
def test_lines_are_stored_and_queryable_in_influxdb(influxdb):
    records = storm() + [
        AuditRecord(T + 1, "failed", "w-1", "n-1", "duty", "li", "sms", 'second "try", same ms')
    ]
    V1Writer(Influx(url=influxdb.url, database=influxdb.db)).write(
        "\n".join(lines(records)).encode()
    )
    rows = influxdb.query("SELECT * FROM notification WHERE warning_id = 'w-1'", db=influxdb.db)
    assert len(rows) == 7  # nothing overwritten
    failed = [r for r in rows if r["action"] == "failed"]
    assert [(r["time"], r["detail"]) for r in failed] == [
        (round(T * 1000) + 1000, "HTTP 500"),
        (round(T * 1000) + 1001, 'second "try", same ms'),
    ]
    by_channel = influxdb.query(
        "SELECT count(warning_id) FROM notification WHERE action = 'delivered' GROUP BY channel",
        db=influxdb.db,
    )
    assert {r["channel"]: r["count"] for r in by_channel} == {"push": 1, "sms": 1}


def test_cli_audit_table_and_json(tmp_path):
    path = tmp_path / "audit.sqlite"
    with AuditLog(path) as log:
        log.record_all(storm())
    runner = CliRunner()
    out = runner.invoke(
        app,
        [
            "notify",
            "audit",
            "--db",
            str(path),
            "--warning-id",
            "w-1",
            "--since",
            "2026-07-05T14:10",
        ],
        env={"COLUMNS": "200"},
    )
    assert out.exit_code == 0, out.output
    assert "3 audit records" in out.output and "2026-07-05 14:15:00" in out.output
    assert "not acknowledged by li after 15 min" in out.output
    out = runner.invoke(
        app, ["notify", "audit", "--db", str(path), "--json", "--action", "delivered"]
    )
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert [(r["channel"], r["time"]) for r in rows] == [
        ("push", "2026-07-05T14:00:02.000+08:00"),
        ("sms", "2026-07-05T14:15:05.000+08:00"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "missing.sqlite"], "expected an audit log file; found nothing at missing.sqlite"),
        (["--since", "yesterday"], "expected an ISO time such as 2026-07-05T14:00"),
        (["--action", "sent"], "expected one of received, issued, delivered"),
    ],
)
def test_cli_audit_errors_say_expected_and_found(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    AuditLog(tmp_path / "a.sqlite").close()
    base = ["notify", "audit", "--db", "a.sqlite"]
    out = CliRunner().invoke(app, base + args, env={"COLUMNS": "300"})
    assert out.exit_code == 2
    assert message in " ".join(out.output.replace("│", " ").split())


def test_console_script_prints_the_audit(tmp_path):
    path = tmp_path / "audit.sqlite"
    with AuditLog(path) as log:
        log.record_all(storm())
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "warning", "notify", "audit", "--db", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 7


def test_a_record_written_again_under_its_id_is_kept_once(tmp_path):
    record = AuditRecord(T, "received", "w-1", detail="raised:orange", record_id="r1")
    with AuditLog(tmp_path / "audit.sqlite") as log:
        first = log.record_all([record, AuditRecord(T, "received", "w-2")])
        again = log.record_all([record, AuditRecord(T, "received", "w-2")])  # no id: new
        assert [r.warning_id for r in first] == ["w-1", "w-2"]
        assert [r.warning_id for r in again] == ["w-2"], "the appended records, for the copy"
        assert [(r.warning_id, r.record_id) for r in log.query()] == [
            ("w-1", "r1"),
            ("w-2", None),
            ("w-2", None),
        ]


def test_a_log_from_before_record_ids_gains_the_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "audit.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, "
        "action TEXT NOT NULL, warning_id TEXT NOT NULL, notification_id TEXT, receiver TEXT, "
        "person TEXT, channel TEXT, detail TEXT NOT NULL DEFAULT '');"
        f"INSERT INTO audit (at, action, warning_id) VALUES ({T}, 'issued', 'old');"
    )
    db.commit()
    db.close()
    with AuditLog(path) as log:
        log.record_all([AuditRecord(T + 1, "issued", "new", record_id="r1")] * 2)
        assert [(r.warning_id, r.record_id) for r in log.query()] == [
            ("old", None),
            ("new", "r1"),
        ]


def test_a_record_with_a_missing_time_is_still_an_error(tmp_path):
    with AuditLog(tmp_path / "audit.sqlite") as log:
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            log.record_all([AuditRecord(None, "issued", "w-1", record_id="r1")])  # type: ignore[arg-type]
        assert log.count() == 0
