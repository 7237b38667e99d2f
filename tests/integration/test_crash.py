"""kill -9 of the pipeline loses no reading and no warning event.

Messages are acknowledged to the broker only after the epoch that read them is covered by a
committed bytewax snapshot, so after a hard kill the broker sends the rest again to the
persistent session and bytewax resumes from its snapshot: every reading ends up in InfluxDB
once, and every warning event of an uninterrupted run is published (a few possibly twice:
at-least-once, and the events carry their warning id and event for idempotent consumers).
"""

from __future__ import annotations

import time

from tests.support.live_helpers import (
    metric,
    normal,
    recoverable_case,
    start_pipeline,
    stop_pipeline,
    stored_readings,
    wait,
)
from tests.support.mqtt_helpers import Collector, publish_all


def test_kill_minus_nine_loses_nothing(tmp_path, broker, influxdb):
    config, messages, expected, port = recoverable_case(
        tmp_path, broker, "crash-under-test", influxdb
    )
    third = len(messages) // 3
    collector = Collector(broker.port, "hazard/warnings/#")

    proc, log = start_pipeline(tmp_path, config, "first")
    wait(lambda: metric(port, "hazard_mqtt_connected") == 1, 30, "subscription")
    publish_all(broker.port, messages[:third])
    wait(lambda: metric(port, "hazard_readings_received_total") == third, 30, "a third")
    time.sleep(1.0)  # a few snapshots
    publish_all(broker.port, messages[third : 2 * third])
    proc.kill()  # SIGKILL in the middle of the second third
    proc.wait(10)
    log.close()

    publish_all(broker.port, messages[2 * third :])  # while it is dead

    proc, log = start_pipeline(tmp_path, config, "second")
    try:
        wait(lambda: stored_readings(influxdb) == len(messages), 60, "every reading in InfluxDB")
        got = collector.wait_for("hazard/warnings/", len(expected), 30)
        time.sleep(1.0)  # let late duplicates, if any, arrive before counting
        again = metric(port, "hazard_readings_received_total")
    finally:
        assert stop_pipeline(proc, log) == 0
    events = [w for _, w in collector.json("hazard/warnings/")]
    assert sorted(set(normal(events))) == sorted(set(normal(expected)))
    assert len(normal(expected)) == len(set(normal(expected)))
    duplicates = len(events) - len(set(normal(events)))
    # The second run got the last third plus what the killed run had read but not yet
    # acknowledged (redelivered by the broker).
    redelivered = again - (len(messages) - 2 * third)
    print(
        f"{len(got)} warning messages, {duplicates} repeated after the kill; "
        f"{redelivered:.0f} readings redelivered"
    )
    assert redelivered >= 0
    assert stored_readings(influxdb) == len(messages)
    warnings = influxdb.query("SELECT count(level_code) FROM warning", db=influxdb.db)
    assert int(warnings[0]["count"]) == len(expected)  # the same point again, not a new one
