"""The storage sink against a real InfluxDB 1.x: points, outage spooling, bounds, refusals.

Partitions are built from ``InfluxSink`` and fed with ``write_batch`` as bytewax would. The
writer is the real ``V1Writer``, wrapped only to note which batches the server accepted, so
that "exactly once, in order" can be checked (InfluxDB itself silently merges duplicates).
Time for the retry backoff comes from an injected clock: no test waits for it.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.support.store_helpers import FakeClock, RecordingWriter, restart
from warning.config import Influx
from warning.metrics import Metrics
from warning.records import Level, Reading, WarningEvent
from warning.sinks.influx import InfluxSink
from warning.sinks.lineproto import reading_line, warning_line
from warning.sinks.writers import V1Writer

pytestmark = pytest.mark.integration

TS0 = 1783231200000  # 2026-07-05T06:00:00Z; every point stays inside one shard group
MINUTE = 60_000


def rain(i: int, sensor: str = "rg-1") -> Reading:
    return Reading(sensor, "rainfall", "wuxing", TS0 + i * MINUTE, {"rain_mm": i + 0.5}, seq=i)


def gas(i: int) -> Reading:
    return Reading("gs-1", "gas", "plant", TS0 + i * MINUTE, {"lel_pct": float(i)}, seq=i)


def event(i: int) -> WarningEvent:
    return WarningEvent(
        f"rainstorm/rg-1/{i}",
        "raised",
        "rainstorm",
        "rainstorm",
        Level.ORANGE,
        Level.YELLOW,
        "rg-1",
        "wuxing",
        TS0 + i * MINUTE,
        {"rain_3h_mm": 50.0 + i},
        f"event {i}",
        "go",
        "Observed",
    )


def batch(n: int) -> list[Reading | WarningEvent]:
    """Batch ``n``: three readings and one warning event, each with its own timestamp."""
    return [rain(3 * n), event(n), rain(3 * n + 1), rain(3 * n + 2)]


def bodies(n: int) -> list[bytes]:
    """What the sink sends for batch ``n`` (batch size 100): warnings first, then readings."""
    items = batch(n)
    return [
        "\n".join(warning_line(e) for e in items if isinstance(e, WarningEvent)).encode(),
        "\n".join(reading_line(r) for r in items if isinstance(r, Reading)).encode(),
    ]


class Store:
    """An InfluxSink partition over a recording V1Writer, with its metrics and spool folder."""

    def __init__(
        self,
        server,
        spool_dir: Path,
        clock: FakeClock,
        max_bytes: int = 1 << 30,
        batch_size: int = 100,
    ):
        self.metrics = Metrics()
        self.writers: list[RecordingWriter] = []
        cfg = Influx(url=server.url, database=server.db)

        def make_writer() -> RecordingWriter:
            self.writers.append(RecordingWriter(V1Writer(cfg)))
            return self.writers[-1]

        self.sink = InfluxSink(
            make_writer, spool_dir, max_bytes, self.metrics, batch_size, clock=clock
        )
        self.part = self.sink.build("store", 0, 1)
        self.dir = spool_dir / "worker-0"

    @property
    def writer(self) -> RecordingWriter:
        return self.writers[-1]

    def spooled(self) -> list[Path]:
        return sorted(self.dir.glob("*.lp"))

    def refused(self) -> list[Path]:
        return sorted((self.dir / "refused").glob("*.lp"))

    def gauge(self) -> float:
        return self.metrics.registry.get_sample_value("hazard_spool_bytes", {"sink": "influx"})

    def failures(self, kind: str) -> float:
        return self.metrics.registry.get_sample_value(
            "hazard_sink_write_failures_total", {"sink": f"influx_{kind}"}
        )


def rows(server, q: str) -> list[dict]:
    return server.query(q, db=server.db)


def times(server, measurement: str) -> list[int]:
    field = "rain_mm" if measurement == "reading" else "level_code"
    return [r["time"] for r in rows(server, f"SELECT {field} FROM {measurement}")]


def raw_write(server, body: str) -> None:
    url = f"{server.url}/write?db={server.db}&precision=ms"
    with urllib.request.urlopen(
        urllib.request.Request(url, data=body.encode(), method="POST"), timeout=10
    ) as resp:
        assert resp.status == 204


# (a) -------------------------------------------------------------------------------------


def test_readings_and_events_land_with_documented_tags_and_fields(influxdb, tmp_path, clock):
    store = Store(influxdb, tmp_path / "spool", clock, batch_size=2)
    readings = [
        Reading("rg-1", "rainfall", "wuxing", TS0, {"rain_mm": 1.5}, seq=7),
        Reading("gauge 7,n=1", "rainfall", "wu xing", TS0 + MINUTE, {"rain_mm": 0.0}),
        Reading("gs-1", "gas", "plant", TS0, {"lel_pct": 60.0, "h2s_ppm": 3.25}),
    ]
    raised = WarningEvent(
        "rainstorm/rg-1/20260705T060000Z",
        "raised",
        "rainstorm",
        "rainstorm",
        Level.ORANGE,
        None,
        "rg-1",
        "wuxing",
        TS0,
        {"rain_3h_mm": 57.5, "missing": None, "nan": float("nan"), "inf": float("inf")},
        'Gauge "one": 57 mm \\ 3 h',
        "Move people\nuphill",
        "Observed",
    )
    cleared = WarningEvent(
        "rainstorm/rg-1/20260705T060000Z",
        "cleared",
        "rainstorm",
        "rainstorm",
        None,
        Level.ORANGE,
        "rg-1",
        "wuxing",
        TS0 + 3 * MINUTE,
    )
    store.part.write_batch([readings[0], raised, readings[1], cleared, readings[2]])

    # Batches of at most batch_size lines: one of warnings, two of readings; nothing spooled.
    assert [body.count(b"\n") + 1 for body in store.writer.sent] == [2, 2, 1]
    assert store.spooled() == [] and store.gauge() == 0
    assert store.failures("readings") == store.failures("warnings") == 0

    # Readings: measurement `reading`, tags sensor_id/kind/region, values as float fields,
    # seq as an integer field, time in ms.
    assert {r["tagKey"] for r in rows(influxdb, "SHOW TAG KEYS FROM reading")} == {
        "sensor_id",
        "kind",
        "region",
    }
    assert {
        r["fieldKey"]: r["fieldType"] for r in rows(influxdb, "SHOW FIELD KEYS FROM reading")
    } == {"rain_mm": "float", "seq": "integer", "lel_pct": "float", "h2s_ppm": "float"}
    got = {r["sensor_id"]: r for r in rows(influxdb, "SELECT * FROM reading")}
    assert got["rg-1"] == {
        "time": TS0,
        "sensor_id": "rg-1",
        "kind": "rainfall",
        "region": "wuxing",
        "rain_mm": 1.5,
        "seq": 7,
        "lel_pct": None,
        "h2s_ppm": None,
    }
    assert got["gauge 7,n=1"]["region"] == "wu xing"  # escaped tags come back intact
    assert got["gauge 7,n=1"]["time"] == TS0 + MINUTE and got["gauge 7,n=1"]["seq"] is None
    assert (got["gs-1"]["kind"], got["gs-1"]["lel_pct"], got["gs-1"]["h2s_ppm"]) == (
        "gas",
        60.0,
        3.25,
    )

    # Warning events: measurement `warning`, tags rule_id/hazard/region/subject/event/level,
    # level codes as integers, texts as strings, numeric finite values as v_<name>.
    assert {r["tagKey"] for r in rows(influxdb, "SHOW TAG KEYS FROM warning")} == {
        "rule_id",
        "hazard",
        "region",
        "subject",
        "event",
        "level",
    }
    assert {
        r["fieldKey"]: r["fieldType"] for r in rows(influxdb, "SHOW FIELD KEYS FROM warning")
    } == {
        "warning_id": "string",
        "level_code": "integer",
        "previous_level_code": "integer",
        "message": "string",
        "instruction": "string",
        "certainty": "string",
        "v_rain_3h_mm": "float",
    }
    events = {r["event"]: r for r in rows(influxdb, "SELECT * FROM warning")}
    assert events["raised"] == {
        "time": TS0,
        "rule_id": "rainstorm",
        "hazard": "rainstorm",
        "region": "wuxing",
        "subject": "rg-1",
        "event": "raised",
        "level": "orange",
        "warning_id": "rainstorm/rg-1/20260705T060000Z",
        "level_code": 3,
        "previous_level_code": 0,
        "message": 'Gauge "one": 57 mm \\ 3 h',
        "instruction": "Move people uphill",
        "certainty": "Observed",
        "v_rain_3h_mm": 57.5,
    }
    assert (
        events["cleared"]["level"],
        events["cleared"]["level_code"],
        events["cleared"]["previous_level_code"],
        events["cleared"]["time"],
    ) == ("none", 0, 3, TS0 + 3 * MINUTE)


# (b) -------------------------------------------------------------------------------------


def test_outage_spools_to_disk_and_drains_exactly_once_in_order(own_influx, tmp_path, clock):
    store = Store(own_influx, tmp_path / "spool", clock)
    store.part.write_batch(batch(0))
    assert store.writer.sent == bodies(0)

    own_influx.stop()
    store.part.write_batch(batch(1))  # must not raise
    assert [p.name for p in store.spooled()] == [
        "000000000000.warnings.lp",
        "000000000001.readings.lp",
    ]
    assert [p.read_bytes() for p in store.spooled()] == bodies(1)
    assert store.gauge() == sum(p.stat().st_size for p in store.spooled()) > 0
    # The warnings batch was tried and failed; its readings queued behind it untried.
    assert store.failures("warnings") == 1 and store.failures("readings") == 0

    clock.advance(0.5)  # inside the first 1 s backoff: nothing is tried
    store.part.write_batch(batch(2))
    assert len(store.writer.attempts) == 3
    clock.advance(1.0)  # past it: the oldest batch is tried again, fails, backoff doubles
    store.part.write_batch(batch(3))
    assert len(store.writer.attempts) == 4 and store.failures("warnings") == 2
    assert [p.read_bytes() for p in store.spooled()] == bodies(1) + bodies(2) + bodies(3)
    assert store.gauge() == sum(p.stat().st_size for p in store.spooled())

    restart(own_influx)
    clock.advance(1.5)  # still inside the 2 s backoff: even though the store is back
    store.part.write_batch(batch(4))
    assert len(store.writer.attempts) == 4
    clock.advance(1.0)
    store.part.write_batch(batch(5))

    assert store.writer.sent == [b for n in range(6) for b in bodies(n)]
    assert store.spooled() == [] and store.gauge() == 0 and store.refused() == []
    assert times(own_influx, "reading") == [TS0 + i * MINUTE for i in range(18)]
    assert times(own_influx, "warning") == [TS0 + i * MINUTE for i in range(6)]
    # Back to normal: the next batch goes straight out, no backoff left over.
    store.part.write_batch(batch(6))
    assert store.writer.sent[-2:] == bodies(6) and store.spooled() == []

    # A second outage starts again from the shortest backoff (1 s), not where the first ended.
    own_influx.stop()
    store.part.write_batch(batch(7))
    tried = len(store.writer.attempts)
    clock.advance(1.0)
    store.part.write_batch(batch(8))
    assert len(store.writer.attempts) == tried + 1


def test_close_during_outage_keeps_the_spool(own_influx, tmp_path, clock):
    store = Store(own_influx, tmp_path / "spool", clock)
    own_influx.stop()
    store.part.write_batch(batch(0))
    store.part.close()  # tries once more regardless of backoff, then leaves the files
    assert len(store.writer.attempts) == 2
    assert [p.read_bytes() for p in store.spooled()] == bodies(0)


# (c) -------------------------------------------------------------------------------------


def readings_only(n: int) -> list[Reading]:
    return [rain(3 * n), rain(3 * n + 1), rain(3 * n + 2)]


def test_spool_bound_drops_the_oldest_readings_first(own_influx, tmp_path, clock):
    warn_size = len(warning_line(event(0)))
    readings_size = len(bodies(0)[1])
    store = Store(
        own_influx,
        tmp_path / "spool",
        clock,
        max_bytes=warn_size + 2 * readings_size + readings_size // 2,
    )
    own_influx.stop()
    store.part.write_batch([event(0)])
    for n in range(6):
        store.part.write_batch(readings_only(n))

    names = [p.name for p in store.spooled()]
    assert names == [
        "000000000000.warnings.lp",
        "000000000005.readings.lp",
        "000000000006.readings.lp",
    ]
    dropped = store.metrics.registry.get_sample_value(
        "hazard_spool_dropped_readings_total", {"sink": "influx"}
    )
    assert dropped == 12  # four batches of three readings, counted where operators see them
    assert (
        store.gauge()
        == sum(p.stat().st_size for p in store.spooled())
        <= store.part.spool.max_bytes
    )

    restart(own_influx)
    clock.advance(10)
    store.part.write_batch([])  # an empty batch still drains
    assert store.spooled() == []
    assert times(own_influx, "warning") == [TS0]
    assert times(own_influx, "reading") == [TS0 + i * MINUTE for i in range(12, 18)]


def test_spool_bound_never_drops_warnings(own_influx, tmp_path, clock):
    store = Store(own_influx, tmp_path / "spool", clock, max_bytes=1)
    own_influx.stop()
    store.part.write_batch(readings_only(0))
    for n in range(5):
        store.part.write_batch([event(n)])
    store.part.write_batch(readings_only(1))

    assert [p.name.split(".")[1] for p in store.spooled()] == ["warnings"] * 5
    assert store.gauge() == sum(p.stat().st_size for p in store.spooled()) > 1

    restart(own_influx)
    clock.advance(10)
    store.part.write_batch([])
    assert store.spooled() == [] and store.gauge() == 0
    assert times(own_influx, "warning") == [TS0 + i * MINUTE for i in range(5)]
    assert times(own_influx, "reading") == []


# (d) -------------------------------------------------------------------------------------


def test_refused_batch_is_kept_aside_not_retried_and_others_proceed(influxdb, tmp_path, clock):
    # rain_mm is a string in this shard now: float rain_mm is a field type conflict (400).
    raw_write(influxdb, f'reading,sensor_id=rg-9,kind=rainfall,region=wuxing rain_mm="wet" {TS0}')
    store = Store(influxdb, tmp_path / "spool", clock)
    store.part.write_batch(batch(0))

    warnings_body, readings_body = bodies(0)
    assert store.writer.attempts == [(warnings_body, "ok"), (readings_body, "refused")]
    [kept] = store.refused()
    assert kept.read_bytes() == readings_body and kept.name.endswith(".readings.lp")
    assert store.spooled() == [] and store.gauge() == 0
    assert store.failures("readings") == 1

    # No backoff and no retry: the next batches go straight out, the refused one never again.
    store.part.write_batch([gas(1), event(1)])
    store.part.write_batch([gas(2)])
    assert [outcome for _, outcome in store.writer.attempts] == ["ok", "refused", "ok", "ok", "ok"]
    assert sum(body == readings_body for body, _ in store.writer.attempts) == 1
    assert store.refused() == [kept]
    assert times(influxdb, "warning") == [TS0, TS0 + MINUTE]
    assert [r["lel_pct"] for r in rows(influxdb, "SELECT lel_pct FROM reading")] == [1.0, 2.0]


def test_refused_batch_in_the_spool_does_not_block_the_batches_behind_it(
    own_influx, tmp_path, clock
):
    raw_write(own_influx, f'reading,sensor_id=rg-9,kind=rainfall,region=wuxing rain_mm="wet" {TS0}')
    store = Store(own_influx, tmp_path / "spool", clock)
    own_influx.stop()
    store.part.write_batch(readings_only(0))  # will be refused once the store is back
    store.part.write_batch([event(0)])
    store.part.write_batch([gas(1)])
    assert len(store.spooled()) == 3

    restart(own_influx)
    clock.advance(10)
    store.part.write_batch([])
    assert store.spooled() == [] and store.gauge() == 0
    [kept] = store.refused()
    assert kept.read_bytes() == bodies(0)[1]
    assert [outcome for _, outcome in store.writer.attempts] == ["retry", "refused", "ok", "ok"]
    assert times(own_influx, "warning") == [TS0]
    assert [r["lel_pct"] for r in rows(own_influx, "SELECT lel_pct FROM reading")] == [1.0]
    store.part.write_batch([])
    assert len(store.writer.attempts) == 4


# (e) -------------------------------------------------------------------------------------


def test_spool_survives_a_restart_and_drains_in_the_new_process(own_influx, tmp_path, clock):
    own_influx.stop()
    first = Store(own_influx, tmp_path / "spool", clock)
    first.part.write_batch(batch(0))
    first.part.write_batch(batch(1))
    first.part.close()
    assert [p.read_bytes() for p in first.spooled()] == bodies(0) + bodies(1)
    # A batch torn by a crash mid-write never became a spool file: it must not be sent.
    (first.dir / "000000000004.readings.lp.tmp").write_bytes(b"torn")

    # The pipeline starts again, with fresh metrics, while the store is still away.
    later = FakeClock(5000.0)
    second = Store(own_influx, tmp_path / "spool", later)
    assert second.gauge() == sum(p.stat().st_size for p in second.spooled()) > 0
    second.part.write_batch(batch(2))  # queues behind the old batches, numbering continues
    assert [p.name for p in second.spooled()][-2:] == [
        "000000000004.warnings.lp",
        "000000000005.readings.lp",
    ]

    restart(own_influx)
    later.advance(100)  # past any backoff
    second.part.write_batch(batch(3))
    assert second.writer.sent == [b for n in range(4) for b in bodies(n)]
    assert second.spooled() == [] and second.gauge() == 0
    assert times(own_influx, "reading") == [TS0 + i * MINUTE for i in range(12)]
    assert times(own_influx, "warning") == [TS0 + i * MINUTE for i in range(4)]


def test_forecasts_land_per_valid_time_and_a_newer_issue_overwrites(influxdb, tmp_path, clock):
    from warning.records import Forecast

    store = Store(influxdb, tmp_path / "spool", clock)
    old = Forecast(
        "rg-1",
        "rainfall",
        "wuxing",
        "zj-qpf",
        TS0,
        TS0 + 360 * MINUTE,
        (TS0 + 60 * MINUTE, TS0 + 120 * MINUTE),
        {"rain_mm": (4.0, 9.5)},
    )
    new = Forecast(
        "rg-1",
        "rainfall",
        "wuxing",
        "zj-qpf",
        TS0 + 60 * MINUTE,
        TS0 + 420 * MINUTE,
        (TS0 + 120 * MINUTE, TS0 + 180 * MINUTE),
        {"rain_mm": (12.0, 3.0)},
    )
    store.part.write_batch([old])
    store.part.write_batch([new])
    got = rows(
        influxdb, "SELECT rain_mm, issued, expires, issuer FROM forecast WHERE sensor_id = 'rg-1'"
    )
    # time = valid time; the 2 h point of the older issue was replaced by the newer issue's
    assert [(r["time"], r["rain_mm"], r["issued"]) for r in got] == [
        (TS0 + 60 * MINUTE, 4.0, TS0),
        (TS0 + 120 * MINUTE, 12.0, TS0 + 60 * MINUTE),
        (TS0 + 180 * MINUTE, 3.0, TS0 + 60 * MINUTE),
    ]
    assert {r["issuer"] for r in got} == {"zj-qpf"}
    assert got[-1]["expires"] == TS0 + 420 * MINUTE
