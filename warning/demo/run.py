"""``hazard-warning demo``: broker, simulated storm and live pipeline, with no setup by hand."""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from rich.console import Console

from warning.app import Setup, live_outputs, run_live, setup
from warning.config import Config, Influx, MetricsConfig, Notify
from warning.demo.broker import Broker, free_port
from warning.demo.gateway import DEMO_ROUTING, Gateway

if TYPE_CHECKING:
    from sensors_sim.scenario import Scenario

log = logging.getLogger(__name__)


def rules_dir() -> Path:
    """Find the shipped rules: $HAZARD_RULES_DIR, beside the package, or ./rules."""
    candidates = [
        os.environ.get("HAZARD_RULES_DIR"),
        Path(__file__).resolve().parents[2] / "rules",
        Path.cwd() / "rules",
    ]
    for c in candidates:
        if c and Path(c, "rainstorm.yaml").exists():
            return Path(c)
    msg = "cannot find the shipped rules/ directory; set HAZARD_RULES_DIR"
    raise FileNotFoundError(msg)


def run_demo(
    duration: float | None = None,
    speed: float = 900.0,
    scenario: str = "storm",
    influx_url: str | None = None,
    console: Console | None = None,
    broker: str = "mosquitto",
) -> None:
    """Run the demo until the storm is over (or ``duration`` seconds, or Ctrl-C).

    ``broker`` is ``mosquitto`` (used where installed, else amqtt) or ``amqtt``.
    """
    from sensors_sim.network import registry
    from sensors_sim.scenario import load_scenario

    console = console or Console()
    sim = _ending_now(load_scenario(scenario))
    work = Path(tempfile.mkdtemp(prefix="hazard-demo-"))
    (work / "sensors.yaml").write_text(yaml.safe_dump(registry(sim.network), allow_unicode=True))
    stop = threading.Event()
    gateway = Gateway(console)
    (work / "routing.yaml").write_text(
        DEMO_ROUTING.replace("{port}", str(gateway.port)), encoding="utf-8"
    )
    with Broker(prefer=broker) as mqtt, gateway:
        s = setup(_config(work, mqtt.port, influx_url))
        _introduce(console, s, mqtt, sim, speed, influx_url)
        threading.Thread(
            target=_simulate,
            args=(s, sim, mqtt.port, speed, stop, duration, console),
            name="simulator",
            daemon=True,
        ).start()
        if duration is not None:
            threading.Timer(duration, stop.set).start()
        started = time.monotonic()
        run_live(s, stop, live_outputs(s))
        _summary(console, s, time.monotonic() - started)
        console.print(
            f"{gateway.count} messages reached on-call officers' phones (SMS, push) "
            f"and maintenance's webhook; the audit log is in "
            f"{work / 'notify' / 'audit.sqlite'} (hazard-warning notify audit --db "
            f"...).",
            highlight=False,
        )


def _ending_now(sim: Scenario) -> Scenario:
    """The scenario moved in time to end now (on its report interval).

    Its readings are unchanged but for the weather stations' daily cycle, which follows the
    new time of day.

    Warnings then carry today's times and the CAP feed shows them: its alerts expire by the
    wall clock, so a storm replayed at its own date (months ago) left the feed empty.
    """
    step_s = sim.interval.total_seconds()
    end = datetime.fromtimestamp(time.time() // step_s * step_s, sim.start.tzinfo)
    return dataclasses.replace(sim, start=end - sim.duration)


def _config(work: Path, mqtt_port: int, influx_url: str | None) -> Config:
    """The demo's run configuration: shipped rules, its registry and routing, free ports."""
    notify = Notify(
        routing=str(work / "routing.yaml"),
        state_dir=str(work / "notify"),
        port=free_port(),
        tick="250ms",
    )
    cfg = Config(
        rules=[str(rules_dir())],
        sensors=str(work / "sensors.yaml"),
        metrics=MetricsConfig(port=free_port()),
        base_dir=str(work),
        notify=notify,
    )
    cfg.mqtt.port = mqtt_port
    cfg.mqtt.client_id = f"hazard-demo-{os.getpid()}"
    if influx_url:
        cfg.influx = Influx(url=influx_url, spool_dir=str(work / "spool"))
    return cfg


def _introduce(
    console: Console, s: Setup, mqtt: Broker, sim: Scenario, speed: float, influx_url: str | None
) -> None:
    """Say what runs where, before the first warning."""
    cfg = s.config
    minutes = sim.duration.total_seconds() / 60
    console.print(
        f"[bold]hazard-warning demo[/]: {mqtt.kind} broker on "
        f"127.0.0.1:{mqtt.port}; scenario [bold]{sim.name}[/] "
        f"({minutes:.0f} simulated minutes ending now, at {speed:g}x, about "
        f"{minutes * 60 / speed:.0f} s); {len(s.steps.rules.rules)} rules; "
        f"metrics on http://127.0.0.1:{cfg.metrics.port}/metrics",
        highlight=False,
    )
    notify_port = cfg.notify.port if cfg.notify else 0
    console.print(
        f"Notifications: on-call officers' SMS and push arrive at a local "
        f"gateway and are printed below; CAP feed on "
        f"http://127.0.0.1:{notify_port}/cap/feed.atom",
        highlight=False,
    )
    if not influx_url:
        console.print(
            "InfluxDB not configured: storage skipped (use --influx-url "
            "http://HOST:8086 to store readings and warnings).",
            highlight=False,
        )


def _simulate(
    s: Setup,
    sim: Scenario,
    port: int,
    speed: float,
    stop: threading.Event,
    duration: float | None,
    console: Console,
) -> None:
    """Publish the scenario once the pipeline listens; end the demo once all is told."""
    from sensors_sim.generate import generate
    from sensors_sim.publish import publish

    deadline = time.monotonic() + 30
    while s.metrics.mqtt_connected._value.get() != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        sent = publish(
            generate(sim), "127.0.0.1", port, speed=speed, stop_event=stop, network=sim.network
        )
    except Exception as exc:  # the broker stopped taking readings: end, never hang
        console.print(f"[bold red]the simulator stopped[/]: {exc}", highlight=False)
        stop.set()
        return
    # Let the pipeline drain what was just published, and the officers be told what the
    # storm started (group waits are wall time), then end the demo.
    deadline = time.monotonic() + 10
    while s.metrics.received._value.get() < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    if s.metrics.received._value.get() < sent:
        console.print(
            f"[bold red]the pipeline received {s.metrics.received._value.get():.0f} of the "
            f"{sent} readings published[/] within 10 s of the last",
            highlight=False,
        )
    deadline = time.monotonic() + 20
    while not _officers_told(s) and time.monotonic() < deadline:
        time.sleep(0.1)
    if duration is None:
        stop.set()


def _officers_told(s) -> bool:
    """Every warning event reached the router, and nothing waits in a group or the outbox."""
    value = s.metrics.registry.get_sample_value
    events = sum(
        sample.value
        for metric in s.metrics.warning_events.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
    return (
        (value("hazard_notify_events_received_total") or 0) >= events
        and value("hazard_notify_inbox_depth") == 0
        and value("hazard_notify_groups_pending") == 0
        and value("hazard_notify_outbox_depth") == 0
    )


def _summary(console: Console, s, seconds: float) -> None:
    m = s.metrics.registry
    received = m.get_sample_value("hazard_readings_received_total") or 0
    events: dict[str, float] = {}
    for metric in s.metrics.warning_events.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.value:
                key = sample.labels["event"]
                events[key] = events.get(key, 0) + int(sample.value)
    rejected = sum(
        sample.value
        for metric in s.metrics.rejected.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )
    parts = ", ".join(f"{n} {e}" for e, n in sorted(events.items())) or "no warning events"
    console.print(
        f"[bold]demo over[/] after {seconds:.0f} s: {int(received)} readings "
        f"received, {int(rejected)} rejected; {parts}.",
        highlight=False,
    )
