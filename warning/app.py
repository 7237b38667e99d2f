"""Assemble the pieces from a configuration and run the flow live or over a file."""

from __future__ import annotations

import dataclasses
import gc
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bytewax.recovery import RecoveryConfig
from bytewax.run import cli_main

from warning.anomaly.faults import FaultSettings
from warning.anomaly.trained import ModelError, ModelScorer
from warning.config import Config
from warning.kinds import kinds_from_config
from warning.metrics import Metrics
from warning.nowcast.model import Nowcaster, NowcastError
from warning.pipeline.areas import area_hold_ms
from warning.pipeline.evaluate import state_ttl_ms
from warning.pipeline.flow import Outputs, build_flow
from warning.pipeline.ingest import Ingest
from warning.pipeline.parse import LIVE_MIN_TS_MS, REPLAY_MIN_TS_MS, ParseSettings
from warning.pipeline.steps import Steps
from warning.records import parse_duration_ms, zone
from warning.registry import Registry, load_registry
from warning.reload import Reloader
from warning.rules.load import load_rules
from warning.sinks.influx import InfluxSink
from warning.sinks.local import ConsoleSink, JsonLinesSink
from warning.sinks.mqtt import MQTTDeadLetterSink, MQTTWarningSink, Publisher
from warning.sinks.writers import make_writer
from warning.sources.files import ReadingsFileSource
from warning.sources.mqtt import MQTTSource
from warning.yamlfile import ConfigError, Problem

log = logging.getLogger(__name__)

#: The cyclic garbage collector's thresholds while a backtest runs. The engine keeps a large
#: state for the whole run (every sensor's windows, episodes and detectors) and allocates
#: short-lived containers per reading that reference counting frees. With CPython's defaults
#: (700, 10, 10) a bench backtest of 100,000 readings made ~1,000 collections, walking that
#: state for ~0.8 s of ~12 s CPU; with these it makes 3-4 (docs/PERFORMANCE.md). A live run
#: keeps the defaults: it has no end, and a cycle that reached an old generation would wait
#: for ~5 M net allocations.
GC_THRESHOLDS = (50_000, 10, 10)


class _LeanGC:
    """The entries inside ``lean_gc`` (threads, nesting) and what to restore after the last."""

    lock = threading.Lock()
    users = 0
    saved = (700, 10, 10)
    thaw = False


@contextmanager
def lean_gc() -> Iterator[None]:
    """Inside, what was built before is frozen (never walked again) and collections are rarer.

    After the last of overlapping entries leaves (threads, nesting), the collector is as it was
    before the first: a process that runs many backtests (the tests) keeps nothing frozen, and
    a caller's own ``gc.freeze`` stays.
    """
    with _LeanGC.lock:
        if _LeanGC.users == 0:
            _LeanGC.saved = gc.get_threshold()
            _LeanGC.thaw = gc.get_freeze_count() == 0
            gc.freeze()  # rules, registry, models and modules
            gc.set_threshold(*GC_THRESHOLDS)
        _LeanGC.users += 1
    try:
        yield
    finally:
        with _LeanGC.lock:
            _LeanGC.users -= 1
            if _LeanGC.users == 0:
                gc.set_threshold(*_LeanGC.saved)
                if _LeanGC.thaw:
                    gc.unfreeze()


@dataclass
class Setup:
    """What every mode shares: parse settings, the steps, timing and the display zone."""

    config: Config
    settings: ParseSettings
    steps: Steps
    metrics: Metrics

    @property
    def lateness_ms(self) -> int:
        """The lateness allowance."""
        return parse_duration_ms(self.config.pipeline.lateness)

    def make_ingest(self) -> Ingest:
        """Return a fresh per-partition ingest (parser and watermark)."""
        return Ingest(
            self.settings,
            self.lateness_ms,
            parse_duration_ms(self.config.pipeline.tick),
            self.metrics.received,
        )


def for_files(config: Config, rules: Sequence[Path], sensors: Path | None) -> Config:
    """Return a copy of ``config`` with these rule files and registry (for offline commands).

    Without a registry every sensor is accepted, with its region taken from the readings.
    """
    cfg = dataclasses.replace(
        config,
        rules=[str(Path(r).resolve()) for r in rules],
        sensors=str(Path(sensors).resolve()) if sensors else None,
        pipeline=dataclasses.replace(config.pipeline),
    )
    if sensors is None:
        cfg.pipeline.unknown_sensors = "accept"
    return cfg


def setup(config: Config, metrics: Metrics | None = None, *, replay: bool = False) -> Setup:
    """Load kinds, registry and rules named by the config; raise ConfigError on problems.

    ``replay`` (backtests, rule tests, explain, diff) accepts readings from 1900 on and of any
    date ahead; live readings must lie between 2000 and ``pipeline.max_future`` ahead.
    """
    metrics = metrics or Metrics()
    kinds = kinds_from_config(config.kinds)
    p = config.pipeline
    registry = load_registry(
        config.path(config.sensors) if config.sensors else None,
        kinds,
        accept_unknown=p.unknown_sensors == "accept",
    )
    rules = load_rules([config.path(r) for r in config.rules], kinds)
    settings = ParseSettings(
        registry,
        kinds,
        config.mqtt.topic_prefix,
        p.max_payload_bytes,
        max_future_ms=None if replay else parse_duration_ms(p.max_future),
        min_ts_ms=REPLAY_MIN_TS_MS if replay else LIVE_MIN_TS_MS,
        forecast_max_age_ms=parse_duration_ms(p.forecast_max_age),
    )
    steps = Steps(
        rules,
        registry,
        parse_duration_ms(p.lateness),
        metrics,
        kinds,
        p.timezone,
        state_ttl_ms(p.state_ttl, p.lateness, rules),
        area_hold_ms=area_hold_ms(p.area_hold, p.lateness),
        faults=FaultSettings(confirm=p.confirm) if p.detectors else None,
        model=_model(config, kinds),
        nowcast=_nowcast(config, registry),
    )
    return Setup(config, settings, steps, metrics)


def _nowcast(config: Config, registry: Registry) -> Nowcaster | None:
    p = config.pipeline
    if not p.nowcast_model:
        return None
    try:
        return Nowcaster(config.path(p.nowcast_model), registry.sensors)
    except (NowcastError, OSError, KeyError) as exc:
        raise ConfigError([Problem("config", 0, "pipeline", "nowcast_model", str(exc))]) from None


def _model(config: Config, kinds: dict) -> ModelScorer | None:
    p = config.pipeline
    if not p.anomaly_model:
        return None
    try:
        return ModelScorer(
            config.path(p.anomaly_model), {name: k.field_names for name, k in kinds.items()}
        )
    except (ModelError, OSError) as exc:
        raise ConfigError([Problem("config", 0, "pipeline", "anomaly_model", str(exc))]) from None


#: The epoch of a flow without recovery: bytewax deep-copies every state touched in an epoch
#: at its end, recovery or not, and without recovery nothing reads the copies (items are
#: processed as they come, not held to the epoch's end).
NO_RECOVERY_EPOCH = timedelta(days=1)


def _recovery(config: Config) -> dict:
    p = config.pipeline
    if not p.recovery_dir:
        return {"epoch_interval": NO_RECOVERY_EPOCH}
    from warning import legacy

    legacy.install()  # snapshots written by 0.1 name the modules as they were then
    directory = config.path(p.recovery_dir)
    if not any(directory.glob("part-*.sqlite3")):
        from bytewax.recovery import init_db_dir

        directory.mkdir(parents=True, exist_ok=True)
        init_db_dir(directory, 1)
    seconds = parse_duration_ms(p.snapshot_interval) / 1000
    return {
        "recovery_config": RecoveryConfig(str(directory)),
        "epoch_interval": timedelta(seconds=seconds),
    }


def live_outputs(s: Setup, console_sink: ConsoleSink | None = None) -> Outputs:
    """Sinks for a live run, as configured."""
    cfg = s.config
    tz = zone(cfg.pipeline.timezone)
    out = Outputs()
    if cfg.outputs.console:
        out.warnings.append(console_sink or ConsoleSink(tz))
    if cfg.outputs.jsonl:
        out.warnings.append(JsonLinesSink(cfg.path(cfg.outputs.jsonl), tz))
    # With recovery, warnings wait on disk until the broker has them (a crash keeps them).
    recovery = cfg.pipeline.recovery_dir
    publisher = Publisher(cfg.mqtt, cfg.path(recovery) / "mqtt-outbox" if recovery else None)
    if cfg.mqtt.publish_warnings:
        out.warnings.append(MQTTWarningSink(publisher, tz))
    if cfg.mqtt.publish_dead_letters:
        out.dead_letters.append(MQTTDeadLetterSink(publisher))
    if cfg.influx is not None:
        influx = cfg.influx
        out.store.append(
            InfluxSink(
                lambda: make_writer(influx),
                cfg.path(influx.spool_dir),
                influx.spool_max_bytes,
                s.metrics,
                influx.batch_size,
            )
        )
    return out


def cluster_member(config: Config, process_id: int, addresses: Sequence[str]) -> Config:
    """Return the config of one process of a cluster: its own MQTT session in a share group.

    Every process subscribes with its own client id (``<client_id>-<process_id>``) to the
    shared subscription ``$share/<share_group>/...`` (the group defaults to the client id), so
    the broker spreads the readings over the processes; bytewax routes each sensor's
    readings to the one worker that keeps its state.
    """
    if not 0 <= process_id < len(addresses):
        msg = (
            f"process id must be in 0..{len(addresses) - 1} for {len(addresses)} addresses, "
            f"got {process_id}"
        )
        raise ValueError(msg)
    m = config.mqtt
    mqtt = dataclasses.replace(
        m, client_id=f"{m.client_id}-{process_id}", share_group=m.share_group or m.client_id
    )
    return dataclasses.replace(config, mqtt=mqtt)


def run_live(
    s: Setup,
    stop: threading.Event,
    outputs: Outputs | None = None,
    workers: int = 1,
    serve_metrics: bool = True,
    process_id: int | None = None,
    addresses: Sequence[str] | None = None,
) -> None:
    """Run the live pipeline until ``stop`` is set (SIGINT/SIGTERM set it too).

    With ``addresses`` (``host:port`` of every process, this one at ``process_id``) the
    process joins a bytewax cluster; see ``cluster_member``.
    """
    cluster: dict = {}
    if addresses:
        s.config = cluster_member(s.config, process_id or 0, addresses)
        cluster = {"process_id": process_id or 0, "addresses": list(addresses)}
    cfg = s.config
    reloader = Reloader(cfg, s.steps)
    if serve_metrics and cfg.metrics.enabled:
        s.metrics.serve(cfg.metrics.host, cfg.metrics.port, reload=reloader.reload)
        log.info(
            "metrics on http://%s:%d/metrics (POST /-/reload reloads the rules)",
            cfg.metrics.host,
            cfg.metrics.port,
        )
    if cfg.pipeline.watch_rules:
        reloader.watch(stop)
    reloader.on_sighup()
    if cfg.notify is not None:
        from warning.notify.serve import start as start_router

        reloader.notify = start_router(
            cfg, stop, s.metrics, lambda sid: dict(s.steps.registry.get(sid) or {})
        )
    source = MQTTSource(
        cfg.mqtt,
        s.make_ingest,
        s.metrics,
        stop,
        parse_duration_ms(cfg.pipeline.idle_tick_after),
        ack_on_snapshot=bool(cfg.pipeline.recovery_dir),
    )
    flow = build_flow(source, s.steps, outputs or live_outputs(s))
    with StopOnSignals(stop):
        cli_main(flow, workers_per_process=workers, **cluster, **_recovery(cfg))


class StopOnSignals:
    """Set an event on SIGINT/SIGTERM while inside, when on the main thread."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.saved: dict[int, object] = {}

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, lambda *_: self.stop.set())
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def run_backtest(
    s: Setup,
    input_path: Path,
    output: Path,
    rejected: Path | None = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    indicators: Path | None = None,
    forecasts: Path | None = None,
) -> None:
    """Run the same flow over a file of readings; events go to ``output`` in event-time order.

    ``forecasts``, a file of forecasts, are fed in by issue time among the readings.
    """
    tz = zone(s.config.pipeline.timezone)
    outputs = Outputs(warnings=[JsonLinesSink(output, tz, in_order=True)])
    if rejected is not None:
        outputs.dead_letters.append(JsonLinesSink(rejected, tz))
        rejected.unlink(missing_ok=True)
    if indicators is not None:
        outputs.indicators.append(JsonLinesSink(indicators, tz, in_order=True))
    source = ReadingsFileSource(input_path, s.make_ingest, progress=progress, forecasts=forecasts)
    flow = build_flow(source, s.steps, outputs)
    started = time.monotonic()
    with lean_gc():
        cli_main(
            flow,
            workers_per_process=workers,
            epoch_interval=NO_RECOVERY_EPOCH,  # a backtest keeps no recovery
        )
    log.info("backtest took %.2f s", time.monotonic() - started)
