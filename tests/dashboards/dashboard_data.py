"""Data for the dashboard tests: the simulator's storm and the days after it, stored by the
pipeline's own flow and InfluxDB sink, as ``hazard-warning backtest`` would process them.

Two runs into one database: the storm scenario (every sensor, 2026-07-05 12:00-18:00 +08:00)
and ``after_the_storm.yaml`` (fire weather, a slope failing, an H2S release; 18:00 to 18:00
two days later) with a multi-gas detector whose gases the simulator does not model.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from bytewax.run import cli_main

from sensors_sim.generate import generate
from sensors_sim.network import registry
from sensors_sim.scenario import load_scenario
from warning.app import setup
from warning.config import Config, Influx
from warning.metrics import Metrics
from warning.pipeline.flow import Outputs, build_flow
from warning.sinks.influx import InfluxSink
from warning.sinks.writers import make_writer
from warning.sources.files import ReadingsFileSource

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
AFTER = HERE / "after_the_storm.yaml"
AFTER_SENSORS = ("ws-wx-01", "sl-aj-01", "gs-cx-01")
#: The Tianhuangping slope's uniform-stage velocity (the storm's creep rate). The simulator's
#: registry has none, which leaves the tangent angle unknown.
UNIFORM_VELOCITY = {"sl-aj-01": 0.05}
MULTI_GAS = {
    "id": "gs-cx-02",
    "kind": "gas",
    "name": "Changxing ETDZ multi-gas detector",
    "region": "changxing",
    "lat": 30.995,
    "lon": 119.97,
    "tz": "Asia/Shanghai",
}


@dataclass(frozen=True)
class Stored:
    """What the tests query: the server, its database, the time range and the registry."""

    url: str
    database: str
    start_ms: int
    end_ms: int
    storm_end_ms: int
    sensors: list[dict]


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _registry(network, keep: tuple[str, ...] | None = None) -> list[dict]:
    sensors = [s for s in registry(network)["sensors"] if keep is None or s["id"] in keep]
    for s in sensors:
        if s["id"] in UNIFORM_VELOCITY:
            s["uniform_velocity_mm_h"] = UNIFORM_VELOCITY[s["id"]]
    return sensors


def multi_gas_readings(start: datetime, hours: int) -> list[dict]:
    """Clean air at a six-gas detector, with a small CO rise in the afternoon."""
    rows = []
    for i in range(1, hours * 12 + 1):
        ts = start + timedelta(minutes=5 * i)
        bump = math.exp(-((((i / 12) - 22) / 2) ** 2))
        rows.append(
            {
                "sensor_id": MULTI_GAS["id"],
                "kind": "gas",
                "ts": ts.isoformat(),
                "seq": i,
                "values": {
                    "lel_pct": 0.5,
                    "h2s_ppm": 0.1,
                    "co_ppm": round(2 + 9 * bump, 2),
                    "cl2_ppm": 0.02,
                    "nh3_ppm": 1.0,
                    "o2_pct": 20.9,
                },
            }
        )
    return rows


def store(readings: list[dict], sensors: list[dict], url: str, database: str, work: Path) -> None:
    """Run the pipeline's flow over readings with an InfluxDB sink, as a backtest."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "sensors.yaml").write_text(yaml.safe_dump({"sensors": sensors}, allow_unicode=True))
    (work / "readings.jsonl").write_text("".join(json.dumps(r) + "\n" for r in readings))
    s = setup(Config(rules=[str(ROOT / "rules")], sensors=str(work / "sensors.yaml")), Metrics())
    influx = Influx(url=url, database=database)
    sink = InfluxSink(lambda: make_writer(influx), work / "spool", 1 << 30, s.metrics)
    source = ReadingsFileSource(work / "readings.jsonl", s.make_ingest)
    cli_main(build_flow(source, s.steps, Outputs(store=[sink])))
    assert not any((work / "spool").rglob("*.lp")), "batches left in the spool"


def fill(url: str, database: str, work: Path) -> Stored:
    """Store both runs; return the range that covers them."""
    storm = load_scenario("storm")
    storm_sensors = _registry(storm.network)
    store(list(generate(storm)), storm_sensors, url, database, work / "storm")
    after = load_scenario(AFTER)
    after_sensors = [*_registry(after.network, AFTER_SENSORS), MULTI_GAS]
    readings = [r for r in generate(after) if r["sensor_id"] in AFTER_SENSORS]
    readings += multi_gas_readings(after.start, int(after.duration.total_seconds() // 3600))
    readings.sort(key=lambda r: datetime.fromisoformat(r["ts"]))
    store(readings, after_sensors, url, database, work / "after")
    return Stored(
        url,
        database,
        _ms(storm.start),
        _ms(after.start + after.duration),
        _ms(storm.start + storm.duration),
        storm_sensors + [MULTI_GAS],
    )
