"""The Prometheus side as files: alert rules (checked and unit-tested by promtool), the scrape
configuration, and the compose file's services, mounts and inline configurations."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.dashboards.dashboard_files import ROOT
from warning.config import load_config

PROMETHEUS_DIR = ROOT / "dashboards" / "prometheus"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"


def promtool(*args: str, cwd=PROMETHEUS_DIR) -> str:
    binary = shutil.which("promtool") or "/usr/bin/promtool"
    done = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_alert_rules_are_valid():
    out = promtool("check", "rules", "alerts.yml")
    assert "SUCCESS: 9 rules found" in out


def test_alert_rules_unit_tests():
    promtool("test", "rules", "alerts_test.yml")


def test_every_alert_is_unit_tested():
    alerts = {
        r["alert"]
        for g in yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())["groups"]
        for r in g["rules"]
    }
    tests = yaml.safe_load((PROMETHEUS_DIR / "alerts_test.yml").read_text())["tests"]
    tested = {
        case["alertname"] for t in tests for case in t["alert_rule_test"] if case.get("exp_alerts")
    }
    assert alerts == tested
    assert alerts >= {
        "HazardIngestStalled",
        "HazardRejectionRatioHigh",
        "HazardSinkFailing",
        "HazardSpoolGrowing",
        "HazardMQTTDisconnected",
        "HazardWarningDelayHigh",
        "HazardNoRulesLoaded",
    }


def test_deploy_prometheus_config_is_valid():
    out = promtool("check", "config", "prometheus.yml", cwd=ROOT / "deploy")
    assert "SUCCESS: 9 rules found" in out  # the alert rules, found by the relative path
    config = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["job_name"] == "hazard-warning"
    assert job["static_configs"][0]["targets"] == ["localhost:9108"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_brings_up_the_stack(compose):
    services = compose["services"]
    assert {"mosquitto", "influxdb", "grafana", "prometheus", "pipeline", "simulator"} <= set(
        services
    )
    assert services["pipeline"]["build"]["dockerfile"] == "Dockerfile"
    assert (ROOT / "Dockerfile").exists()
    assert services["influxdb"]["image"].startswith("influxdb:1.8")
    # Every file or folder mounted from the repository exists.
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (COMPOSE.parent / source).exists(), (name, source)


def test_compose_inline_configs_are_valid(compose, tmp_path):
    pipeline = tmp_path / "config.yaml"
    pipeline.write_text(compose["configs"]["pipeline"]["content"])
    config = load_config(pipeline)  # strict: unknown keys and wrong types are errors
    assert config.mqtt.host == "mosquitto" and config.influx.url == "http://influxdb:8086"
    assert config.metrics.port == 9108 and config.influx.password_env
    prom = yaml.safe_load(compose["configs"]["prometheus"]["content"])
    assert prom["scrape_configs"][0]["static_configs"][0]["targets"] == ["pipeline:9108"]
    prom["rule_files"] = [str(PROMETHEUS_DIR / "alerts.yml")]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prom))
    promtool("check", "config", "prometheus.yml", cwd=tmp_path)
