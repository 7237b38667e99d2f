"""Fixtures for the dashboard tests: the dashboards, InfluxDB filled with simulated data, and
a live pipeline scraped by a real Prometheus that evaluates the alert rules."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
import yaml

from sensors_sim.generate import generate
from sensors_sim.network import registry
from sensors_sim.publish import publish
from sensors_sim.scenario import load_scenario
from tests.dashboards.dashboard_data import UNIFORM_VELOCITY, fill
from tests.dashboards.dashboard_files import ROOT, load_boards
from tests.support.live_helpers import metric, start_pipeline, stop_pipeline, wait
from tests.support.servers import Prometheus
from warning.demo.broker import Broker, free_port, mosquitto_path


@pytest.fixture(scope="session")
def boards() -> dict[str, dict]:
    return load_boards()


@pytest.fixture(scope="session")
def stored(influx_server, tmp_path_factory):
    """InfluxDB holding the storm and the two days after it, as the pipeline stores them."""
    name = f"dash_{uuid.uuid4().hex[:8]}"
    influx_server.create_database(name)
    yield fill(influx_server.url, name, tmp_path_factory.mktemp("dashboard-data"))
    influx_server.query(f'DROP DATABASE "{name}"', db="")


@dataclass
class Live:
    """A pipeline that processed the storm live, and the Prometheus that watched it."""

    prometheus: Prometheus
    published_at: float
    done_at: float
    readings: int


def prometheus_config(metrics_port: int) -> dict:
    """deploy/prometheus.yml, scraping the test's pipeline every second."""
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(ROOT / "dashboards" / "prometheus" / "alerts.yml")]
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "hazard-warning")
    job["static_configs"] = [{"targets": [f"127.0.0.1:{metrics_port}"]}]
    return config


@pytest.fixture(scope="session")
def live(influx_server, tmp_path_factory):
    """`hazard-warning run` fed the storm over MQTT, scraped by Prometheus every second."""
    assert mosquitto_path(), "mosquitto is not installed: scripts/test.sh installs it"
    tmp = tmp_path_factory.mktemp("live")
    storm = load_scenario("storm")
    sensors = registry(storm.network)["sensors"]
    for s in sensors:
        s.update(
            {"uniform_velocity_mm_h": UNIFORM_VELOCITY[s["id"]]}
            if s["id"] in UNIFORM_VELOCITY
            else {}
        )
    (tmp / "sensors.yaml").write_text(yaml.safe_dump({"sensors": sensors}, allow_unicode=True))
    database = f"live_{uuid.uuid4().hex[:8]}"
    influx_server.create_database(database)
    metrics_port = free_port()
    readings = list(generate(storm))
    with Broker(prefer="mosquitto") as broker:
        config = {
            "rules": [str(ROOT / "rules")],
            "sensors": "sensors.yaml",
            "mqtt": {"port": broker.port, "client_id": "dashboards-under-test"},
            "influx": {
                "url": influx_server.url,
                "database": database,
                "batch_size": 500,
                "spool_dir": "spool",
            },
            "pipeline": {"idle_tick_after": "1h"},
            "metrics": {"port": metrics_port},
            "outputs": {"console": False},
        }
        (tmp / "config.yaml").write_text(yaml.safe_dump(config))
        proc, log = start_pipeline(tmp, tmp / "config.yaml")
        prom = Prometheus(prometheus_config(metrics_port))
        try:
            wait(
                lambda: metric(metrics_port, "hazard_mqtt_connected") == 1,
                30,
                "the pipeline to subscribe",
            )
            prom.start()
            wait(
                lambda: prom.query('up{job="hazard-warning"} == 1'),
                20,
                "Prometheus to scrape the pipeline",
            )
            published_at = time.time()
            publish(iter(readings), "127.0.0.1", broker.port, speed=0, qos=1, network=storm.network)
            wait(
                lambda: metric(metrics_port, "hazard_readings_received_total") == len(readings),
                60,
                "the pipeline to take every reading",
            )
            wait(
                lambda: prom.query(f"hazard_readings_received_total == {len(readings)}"),
                20,
                "Prometheus to see every reading",
            )
            done_at = time.time()
            time.sleep(3)  # a few more scrapes: rates over the end of the run need two samples
            yield Live(prom, published_at, done_at, len(readings))
        finally:
            prom.cleanup()
            code = stop_pipeline(proc, log)
            influx_server.query(f'DROP DATABASE "{database}"', db="")
    assert code == 0, (tmp / "pipeline.log").read_text()
