"""Throughput of the live pipeline and of backtest, each against a baseline from the same run.

    python bench/pipeline_bench.py [--messages N] [--sensors S] [--stations W] [--sink]
                                   [--rounds R] [--rules PATH] [--no-live] [--no-floor]
                                   [--linger-ms MS ...]

One Mosquitto broker (``warning.demo.broker.Broker``, queue limits lifted) serves every row.
Before anything is measured, one persistent QoS 1 session per consumer is created and the whole
backlog of N wire-format readings is published once (the broker keeps a copy per session), so
the publisher never shares the cores with a consumer under measurement. Then, one at a time:

1. raw paho:  a plain paho-mqtt 2.x subscriber (QoS 1, fixed client id, clean_session=False)
              drains its backlog and ``json.loads`` every payload: the ceiling for any consumer.
2. pipeline:  ``warning.app.run_live`` with the shipped rules and a registry of the sensors,
              with empty Outputs (ingest + parse + rules + lifecycle + silence watch only);
              with --sink, a second row with the MQTT warning sink on. It is "done" once every
              message was taken (``metrics.received``) and went through rule evaluation
              (accepted + duplicates + rejected); then the stop event is set.
3. backtest:  ``warning.app.run_backtest`` over a JSON Lines file of the same readings, one
              worker, against a plain ``json.loads`` loop over the same file; and a "floor"
              row: the same ``build_flow`` over pre-parsed items with steps that do nothing,
              i.e. what bytewax itself costs per reading.

"CPU us/item" is this process's CPU time (all threads, broker excluded) per item; "flow thread"
is the part of it spent in the thread that runs the dataflow (live, paho receives in another
one: the difference is paho's receive thread and the bench's own watcher). The machine
is shared: the load average printed before and after says how far to trust a row, and
``--rounds R`` repeats every consumer and prints the median ratio.

Rates are messages over wall time from the moment the consumer starts (connect, or the call
into bytewax) to the moment the last message is through, so start-up costs are included.
Goals (issue 19): pipeline >= 0.7 x raw paho; backtest >= 100,000 readings per CPU-second
(``bench/backtest_bench.py`` compares backtest with a pandas pass; ``latency_bench``,
``memory_bench`` and ``scaling_bench`` cover the rest).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from importlib.metadata import version
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH, so another checkout can be measured

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition  # noqa: E402

from warning.app import Setup, run_backtest, run_live, setup  # noqa: E402
from warning.config import (  # noqa: E402
    MQTT,
    Config,
    MetricsConfig,  # noqa: E402
    OutputsConfig,  # noqa: E402
)
from warning.demo.broker import Broker  # noqa: E402
from warning.pipeline.flow import Outputs, build_flow  # noqa: E402
from warning.records import zone  # noqa: E402
from warning.sinks.mqtt import MQTTWarningSink, Publisher  # noqa: E402

PREFIX = "hazard"
TOPIC = f"{PREFIX}/readings/#"
REGIONS = ("wuxing", "nanxun", "deqing", "changxing", "anji")
CST = timezone(timedelta(hours=8))
STEP = timedelta(minutes=5)
RAW_ID = "bench-raw"
PIPE_ID = "bench-pipeline"
SINK_ID = "bench-pipeline-sink"
TARGET_LIVE_RATIO = 0.7  # issue 19: drains >= 0.7 x raw paho, QoS 1
TARGET_BACKTEST = 100_000  # issue 19: readings per CPU-second


# --------------------------------------------------------------------------------- messages


@dataclass
class Workload:
    """The backlog: (topic, payload) in event-time order, and the registry entries."""

    messages: list[tuple[str, bytes]]
    registry: list[dict]
    steps: int
    start: datetime


def make_workload(
    n: int, gauges: int, stations: int, seed: int = 7, end: datetime | None = None
) -> Workload:
    """Return ``n`` wire-format readings of ``gauges`` rain gauges and ``stations`` level stations.

    Reports every 5 min, ending 10 min before now (so none is "in the future"). A storm crosses
    the middle of the period over ~30 % of the gauges (enough rain for blue..red rainstorm
    warnings), the other gauges drizzle; the level stations rise after the storm, some past
    their warning, guaranteed or historical-maximum level.
    """
    rnd = random.Random(seed)
    sensors: list[dict] = []
    for i in range(1, gauges + 1):
        sensors.append(
            {
                "id": f"rg-{i:04d}",
                "kind": "rainfall",
                "name": f"Rain gauge {i:04d}",
                "region": REGIONS[i % len(REGIONS)],
                "lat": round(30.4 + rnd.random() * 0.7, 4),
                "lon": round(119.4 + rnd.random() * 1.1, 4),
            }
        )
    for i in range(1, stations + 1):
        warn = round(rnd.uniform(3.0, 5.0), 2)
        sensors.append(
            {
                "id": f"wl-{i:04d}",
                "kind": "reservoir",
                "name": f"Water level {i:04d}",
                "region": REGIONS[i % len(REGIONS)],
                "lat": round(30.4 + rnd.random() * 0.7, 4),
                "lon": round(119.4 + rnd.random() * 1.1, 4),
                "warning_level_m": warn,
                "guaranteed_level_m": round(warn + 0.5, 2),
                "historical_max_m": round(warn + 1.2, 2),
            }
        )
    steps = max(1, math.ceil(n / len(sensors)))
    if end is None:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        end = now - timedelta(minutes=10 + now.minute % 5)
    start = end - steps * STEP
    peak, sigma = steps * 0.55, max(2.0, steps / 8)

    # Per-sensor parameters.
    storm = {
        s["id"]: rnd.uniform(0.5, 7.0) if rnd.random() < 0.3 else 0.0
        for s in sensors
        if s["kind"] == "rainfall"
    }
    level = {
        s["id"]: (s["warning_level_m"] - rnd.uniform(0.2, 1.0), rnd.uniform(0.0, 2.2))
        for s in sensors
        if s["kind"] == "reservoir"
    }

    messages: list[tuple[str, bytes]] = []
    for step in range(1, steps + 1):
        ts = (start + step * STEP).astimezone(CST).isoformat(timespec="seconds")
        shape = math.exp(-0.5 * ((step - peak) / sigma) ** 2)
        rise = 1 / (1 + math.exp(-(step - peak - sigma) / sigma))  # lags the storm
        for s in sensors:
            sid = s["id"]
            if s["kind"] == "rainfall":
                mm = storm[sid] * shape * rnd.uniform(0.5, 1.5)
                if mm < 0.05:
                    mm = rnd.choice((0.0, 0.0, 0.0, 0.0, 0.1, 0.2, 0.3))
                values = {"rain_mm": round(mm, 1)}
            else:
                base, amp = level[sid]
                values = {"level_m": round(base + amp * rise + rnd.uniform(-0.01, 0.01), 2)}
            payload = {"sensor_id": sid, "kind": s["kind"], "ts": ts, "seq": step, "values": values}
            topic = f"{PREFIX}/readings/{s['region']}/{s['kind']}/{sid}"
            messages.append((topic, json.dumps(payload, separators=(",", ":")).encode()))
            if len(messages) == n:
                return Workload(messages, sensors, steps, start)
    return Workload(messages, sensors, steps, start)


def write_registry(sensors: list[dict], path: Path) -> None:
    """Write the registry YAML (``sensors: [{id, kind, name, region, lat, lon, ...}]``)."""
    lines = ["sensors:"]
    for s in sensors:
        first = True
        for key, value in s.items():
            text = json.dumps(value) if isinstance(value, str) else repr(value)
            lines.append(f"  {'- ' if first else '  '}{key}: {text}")
            first = False
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------- MQTT


def _client(client_id: str, persistent: bool = True) -> paho.Client:
    return paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=not persistent,
        protocol=paho.MQTTv311,
    )


def create_session(port: int, client_id: str, topic: str = TOPIC) -> None:
    """Subscribe once with a persistent session, so the broker keeps what is published next."""
    client = _client(client_id)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_a: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    client.subscribe(topic, qos=1)
    if not subscribed.wait(10):
        raise RuntimeError(f"subscription of {client_id} not acknowledged")
    client.disconnect()
    client.loop_stop()


def publish_backlog(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Publish every message with QoS 1 and wait for all PUBACKs; return the seconds taken."""
    client = _client("bench-publisher", persistent=False)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.perf_counter()
    infos = []
    for topic, payload in messages:
        delay = 0.001
        while True:
            info = client.publish(topic, payload, qos=1)
            if info.rc != MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        infos.append(info)
    for info in infos:
        info.wait_for_publish(120)
        if not info.is_published():
            raise RuntimeError("publisher: a message was not acknowledged")
    took = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    return took


class DroppedWatch:
    """Follow Mosquitto's ``$SYS`` dropped-messages counter for the whole run.

    Mosquitto publishes it only when it changes, so "none reported" means it stayed at 0.
    """

    TOPIC = "$SYS/broker/publish/messages/dropped"

    def __init__(self, port: int):
        self.value: int | None = None
        self.client = _client("bench-sys", persistent=False)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_a: c.subscribe(self.TOPIC, qos=0)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c, _u, msg) -> None:
        try:
            self.value = int(msg.payload)
        except ValueError:
            pass

    def close(self) -> str:
        """Stop following; return the last value seen, as text."""
        time.sleep(1.5)  # one sys_interval, for a last update
        self.client.disconnect()
        self.client.loop_stop()
        return "none reported (0)" if self.value is None else str(self.value)


@dataclass
class Row:
    """One measured consumer."""

    name: str
    count: int
    seconds: float
    first_after: float | None = None  # seconds from start to the first message taken
    events: int | None = None
    rejected: int | None = None
    note: str = ""
    cpu: float | None = None  # CPU seconds of this process (all threads) while measuring
    base: float | None = None  # the baseline rate this row is compared with (same round)
    flow_cpu: float | None = None  # CPU seconds of the thread that runs the dataflow

    @property
    def rate(self) -> float:
        """Messages per second over the wall time."""
        return self.count / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_us(self) -> float | None:
        """CPU microseconds of this process per message (broker excluded)."""
        return None if self.cpu is None or not self.count else self.cpu / self.count * 1e6

    @property
    def flow_us(self) -> float | None:
        """CPU microseconds per message of the dataflow's thread alone (paho's excluded)."""
        return None if self.flow_cpu is None or not self.count else self.flow_cpu / self.count * 1e6


def raw_receive(port: int, n: int, timeout: float, client_id: str = RAW_ID) -> Row:
    """Drain the raw session's backlog with plain paho, ``json.loads`` each payload."""
    count = 0
    first: float | None = None
    last = 0.0
    done = threading.Event()
    loads = json.loads

    def on_message(_c, _u, msg) -> None:
        nonlocal count, first, last
        loads(msg.payload)
        count += 1
        if count == 1:
            first = time.perf_counter()
        if count >= n:
            last = time.perf_counter()
            done.set()

    client = _client(client_id)
    client.on_message = on_message
    client.on_connect = lambda c, *_a: c.subscribe(TOPIC, qos=1)
    cpu = time.process_time()
    started = time.perf_counter()
    client.connect("127.0.0.1", port)
    client.loop_start()
    finished = done.wait(timeout)
    cpu = time.process_time() - cpu
    if not finished:
        last = time.perf_counter()
    client.disconnect()
    client.loop_stop()
    return Row(
        "raw paho, json.loads",
        count,
        last - started,
        None if first is None else first - started,
        cpu=cpu,
        note="" if finished else f"TIMEOUT after {timeout:.0f} s",
    )


def _total(counter) -> int:
    return int(
        sum(s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total"))
    )


RULES = [ROOT / "rules"]


def pipeline_config(
    port: int, client_id: str, registry: Path, linger_ms: int | None = None
) -> Config:
    """The run configuration of a bench pipeline: shipped rules, bench registry, no extras.

    ``linger_ms`` overrides ``mqtt.linger_ms`` (None: the shipped default).
    """
    mqtt = MQTT(host="127.0.0.1", port=port, client_id=client_id, topic_prefix=PREFIX)
    if linger_ms is not None:
        mqtt.linger_ms = linger_ms
    return Config(
        rules=[str(r) for r in RULES],
        sensors=str(registry),
        mqtt=mqtt,
        metrics=MetricsConfig(enabled=False),
        outputs=OutputsConfig(console=False),
        base_dir=str(ROOT),
    )


def pipeline_receive(s: Setup, n: int, outputs: Outputs, name: str, timeout: float) -> Row:
    """Run the live pipeline until all ``n`` messages were taken in and evaluated."""
    stop = threading.Event()
    m = s.metrics
    marks: dict[str, float] = {}
    # bytewax runs the dataflow in this thread; paho receives in its own
    flow_clock = time.pthread_getcpuclockid(threading.get_ident())

    def processed() -> int:
        return _total(m.accepted) + int(m.duplicates._value.get()) + _total(m.rejected)

    def monitor() -> None:
        received = m.received._value.get
        deadline = time.perf_counter() + timeout
        while not stop.is_set():
            now = time.perf_counter()
            got = received()
            if got and "first" not in marks:
                marks["first"] = now
            if got >= n:
                if "received" not in marks:
                    marks["received"] = now
                if processed() >= n:
                    marks["done"] = now
                    marks["cpu"] = time.process_time()
                    marks["flow_cpu"] = time.clock_gettime(flow_clock)
                    stop.set()
                    return
                time.sleep(0.01)
                continue
            if now > deadline:
                marks["timeout"] = now
                stop.set()
                return
            time.sleep(0.01)

    watcher = threading.Thread(target=monitor, name="bench-monitor", daemon=True)
    started = time.perf_counter()
    marks["start"] = started
    cpu = time.process_time()
    flow_cpu = time.clock_gettime(flow_clock)
    watcher.start()
    run_live(s, stop, outputs=outputs, workers=1, serve_metrics=False)
    returned = time.perf_counter()
    watcher.join(5)
    end = marks.get("done", returned)
    note = f"TIMEOUT after {timeout:.0f} s" if "timeout" in marks else ""
    return Row(
        name,
        int(m.received._value.get()),
        end - started,
        marks["first"] - started if "first" in marks else None,
        _total(m.warning_events),
        _total(m.rejected),
        note,
        marks.get("cpu", time.process_time()) - cpu,
        flow_cpu=marks.get("flow_cpu", time.clock_gettime(flow_clock)) - flow_cpu,
    )


# ------------------------------------------------------------------------------- backtest


def json_baseline(path: Path) -> Row:
    """Read the file and ``json.loads`` every line: the floor under any JSON Lines backtest."""
    loads = json.loads
    cpu = time.process_time()
    started = time.perf_counter()
    count = 0
    with path.open("rb") as f:
        for line in f:
            loads(line)
            count += 1
    return Row(
        "json.loads loop", count, time.perf_counter() - started, cpu=time.process_time() - cpu
    )


def backtest(s: Setup, path: Path, out: Path) -> Row:
    """Run ``run_backtest`` over the file with one worker."""
    cpu, flow_cpu = time.process_time(), time.thread_time()
    started = time.perf_counter()
    run_backtest(s, path, out, workers=1)
    took = time.perf_counter() - started
    cpu, flow_cpu = time.process_time() - cpu, time.thread_time() - flow_cpu
    m = s.metrics
    return Row(
        "run_backtest",
        int(m.received._value.get()),
        took,
        None,
        _total(m.warning_events),
        _total(m.rejected),
        cpu=cpu,
        flow_cpu=flow_cpu,
    )


class _NoOpEngine:
    """Stands in for ``warning.pipeline.steps.Steps``: same flow, steps that do nothing."""

    faults = None  # no anomaly steps
    model = None
    nowcast = None

    def __init__(self, metrics) -> None:
        self.metrics = metrics

    def area_ticks(self, _items):
        return []

    def to_sensors(self, items):
        groups: dict[str, list] = {}
        for item in items:
            groups.setdefault(item.sensor_id, []).append(item)
        return [(sid, (sid, group)) for sid, group in groups.items()]

    def evaluate_batch(self, state, value, _kept=None):
        return (state or True), value[1]

    def watch_no_data(self, state, _value):
        return (state or True), []

    def count_event(self, _event) -> None:
        pass


class _ListSource(FixedPartitionedSource):
    def __init__(self, items: list, batch: int = 2000):
        self.items, self.batch = items, batch

    def list_parts(self) -> list[str]:
        return ["items"]

    def build_part(self, _step_id, _for_part, _resume) -> StatefulSourcePartition:
        items, batch = self.items, self.batch

        class Part(StatefulSourcePartition):
            i = 0

            def next_batch(self) -> list:
                if self.i >= len(items):
                    raise StopIteration
                self.i += batch
                return items[self.i - batch : self.i]

            def snapshot(self) -> None:
                return None

        return Part()


def flow_floor(s: Setup, path: Path) -> Row:
    """The same dataflow over pre-parsed readings with no-op steps: bytewax's own cost."""
    from bytewax.run import cli_main

    from warning.records import RawMessage

    now = time.time()
    with path.open("rb") as f:
        items = s.make_ingest().take([RawMessage("", line.rstrip(b"\n"), now) for line in f])
    flow = build_flow(_ListSource(items), _NoOpEngine(s.metrics), Outputs())
    from warning import app

    lean = getattr(app, "lean_gc", contextlib.nullcontext)  # as a backtest runs (older: none)
    cpu = time.process_time()
    started = time.perf_counter()
    with lean():
        cli_main(flow, workers_per_process=1)
    took = time.perf_counter() - started
    return Row(
        "floor: no-op steps",
        len(items),
        took,
        cpu=time.process_time() - cpu,
        note="floor: the same build_flow over pre-parsed items (readings + ticks) with "
        "steps that do nothing: what bytewax itself costs",
    )


# --------------------------------------------------------------------------------- report


def machine_info() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mosq = subprocess.run(
            ["mosquitto", "-h"], capture_output=True, text=True, timeout=5
        ).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        mosq = "?"
    return [
        ("nproc", str(len(os.sched_getaffinity(0)))),
        ("cpu", cpu),
        ("python", platform.python_version()),
        ("bytewax", version("bytewax")),
        ("paho-mqtt", version("paho-mqtt")),
        ("broker", mosq),
    ]


def print_report(
    info: list[tuple[str, str]], setup_rows: list[tuple[str, str]], live: list[Row], back: list[Row]
) -> None:
    """Print the machine, the workload and the results as tables."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(width=140)
    t = Table(title="machine and workload", show_header=False, box=None, title_justify="left")
    for key, value in info + setup_rows:
        t.add_row(key, value)
    console.print(t)

    for title, rows, unit, check in (
        (
            f"live: drain a QoS 1 backlog from Mosquitto (target >= {TARGET_LIVE_RATIO} x raw)",
            live,
            "msg/s",
            _live_check,
        ),
        (
            f"backtest: JSON Lines, one worker (target >= {TARGET_BACKTEST:,} readings per "
            "CPU-second)",
            back,
            "readings/s",
            _back_check,
        ),
    ):
        if not rows:
            continue
        t = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
        for col, just in (
            ("consumer", "left"),
            ("items", "right"),
            ("wall s", "right"),
            (unit, "right"),
            ("x base", "right"),
            ("CPU us/item", "right"),
            ("flow thread", "right"),
            ("events", "right"),
            ("rejected", "right"),
            ("target", "left"),
        ):
            t.add_column(col, justify=just, no_wrap=True)
        notes = []
        ratios: dict[str, list[float]] = {}
        for r in rows:
            mark = ""
            if r.note:
                notes.append(r.note)
                mark = f" [{len(notes)}]"
            if r.base:
                ratios.setdefault(r.name.split(" #")[0], []).append(r.rate / r.base)
            t.add_row(
                r.name + mark,
                f"{r.count:,}",
                f"{r.seconds:.2f}",
                f"{r.rate:,.0f}",
                "base" if r.base is None else f"{r.rate / r.base:.2f}",
                "" if r.cpu_us is None else f"{r.cpu_us:.1f}",
                "" if r.flow_us is None else f"{r.flow_us:.1f}",
                "" if r.events is None else f"{r.events:,}",
                "" if r.rejected is None else f"{r.rejected:,}",
                check(r, r.base) if r.base and not r.name.startswith("floor") else "",
            )
        console.print(t)
        for name, values in ratios.items():
            if len(values) > 1:
                console.print(
                    f"  {name}: median {statistics.median(values):.2f} x base over "
                    f"{len(values)} rounds ({', '.join(f'{v:.2f}' for v in values)})",
                    highlight=False,
                    markup=False,
                )
        for k, note in enumerate(notes, 1):
            console.print(f"  [{k}] {note}", highlight=False, markup=False)


def _live_check(r: Row, base: float) -> str:
    return "PASS" if r.rate >= TARGET_LIVE_RATIO * base else "MISS"


def _back_check(r: Row, _base: float) -> str:
    per_cpu_s = 1e6 / r.cpu_us if r.cpu_us else 0.0
    return f"{'PASS' if per_cpu_s >= TARGET_BACKTEST else 'MISS'} {per_cpu_s:,.0f}/CPU-s"


# ----------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    """Run every row against one broker and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", "-n", type=int, default=100_000, help="readings (N)")
    ap.add_argument("--sensors", "-s", type=int, default=1000, help="rain gauges (S)")
    ap.add_argument(
        "--stations", type=int, default=None, help="water-level stations (default S/20)"
    )
    ap.add_argument(
        "--sink", action="store_true", help="add a pipeline row with the MQTT warning sink on"
    )
    ap.add_argument("--no-live", action="store_true", help="backtest rows only")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per live consumer")
    ap.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="repeat every consumer R times (one backlog per session, published "
        "up front); each pipeline row is compared with the raw row of its round",
    )
    ap.add_argument(
        "--rules",
        type=Path,
        action="append",
        help="rule file or directory (default: the shipped rules/)",
    )
    ap.add_argument("--no-floor", action="store_true", help="skip the bytewax floor row")
    ap.add_argument(
        "--linger-ms",
        type=int,
        action="append",
        help="a pipeline row per value of mqtt.linger_ms (default: the shipped one)",
    )
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    lingers: list[int | None] = list(args.linger_ms or [None])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.rules:
        RULES[:] = [r.resolve() for r in args.rules]
    stations = args.stations if args.stations is not None else max(1, args.sensors // 20)

    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    t0 = time.perf_counter()
    work = make_workload(args.messages, args.sensors, stations, args.seed)
    n = len(work.messages)
    avg = sum(len(p) for _, p in work.messages) / n
    tmp = tempfile.TemporaryDirectory(prefix="hazard-bench-")
    tmpdir = Path(tmp.name)
    registry = tmpdir / "sensors.yaml"
    write_registry(work.registry, registry)
    readings = tmpdir / "readings.jsonl"
    readings.write_bytes(b"".join(p + b"\n" for _, p in work.messages))
    setup_rows = [
        (
            "workload",
            f"{n:,} readings, {args.sensors:,} rain gauges + {stations} water-level "
            f"stations, {work.steps} x 5-min reports from "
            f"{work.start.astimezone(CST):%Y-%m-%d %H:%M%z}",
        ),
        ("payload", f"{avg:.0f} bytes on average, e.g. {work.messages[0][1].decode()}"),
        ("generated in", f"{time.perf_counter() - t0:.1f} s"),
    ]
    import warning

    probe = setup(pipeline_config(0, "probe", registry))
    setup_rows.append(
        (
            "rules",
            f"{len(probe.steps.rules.rules)} rules from "
            f"{', '.join(str(r) for r in RULES)}; warning package from "
            f"{Path(warning.__file__).parent}",
        )
    )

    live: list[Row] = []
    if not args.no_live:
        with Broker(prefer="mosquitto", extra_conf="sys_interval 1\n") as broker:
            if broker.kind != "mosquitto":
                print("Mosquitto not found; amqtt figures are not comparable", file=sys.stderr)
            dropped = DroppedWatch(broker.port)
            per_round = [RAW_ID] + [f"{PIPE_ID}-l{i}" for i in range(len(lingers))]
            per_round += [SINK_ID] if args.sink else []
            ids = [f"{cid}-{r}" for r in range(args.rounds) for cid in per_round]
            for cid in ids:
                create_session(broker.port, cid)
            took = publish_backlog(broker.port, work.messages)
            setup_rows.append(
                (
                    "backlog published",
                    f"{n:,} QoS 1 messages x {len(ids)} sessions in {took:.1f} s "
                    f"({n / took:,.0f} msg/s), before any measurement",
                )
            )
            time.sleep(1.0)  # let the broker settle

            for r in range(args.rounds):
                tag = f" #{r + 1}" if args.rounds > 1 else ""
                raw = raw_receive(broker.port, n, args.timeout, f"{RAW_ID}-{r}")
                raw.name += tag
                live.append(raw)
                for i, linger in enumerate(lingers):
                    cfg = pipeline_config(broker.port, f"{PIPE_ID}-l{i}-{r}", registry, linger)
                    name = "pipeline, no sinks" + (
                        "" if linger is None else f", linger {linger} ms"
                    )
                    live.append(
                        pipeline_receive(setup(cfg), n, Outputs(), name + tag, args.timeout)
                    )
                    live[-1].base = raw.rate
                if args.sink:
                    cfg = pipeline_config(broker.port, f"{SINK_ID}-{r}", registry)
                    s = setup(cfg)
                    sink = MQTTWarningSink(Publisher(cfg.mqtt), zone(cfg.pipeline.timezone))
                    live.append(
                        pipeline_receive(
                            s,
                            n,
                            Outputs(warnings=[sink]),
                            f"pipeline + MQTT sink{tag}",
                            args.timeout,
                        )
                    )
                    live[-1].base = raw.rate
            setup_rows.append(("broker dropped", dropped.close()))

    back: list[Row] = []
    for r in range(args.rounds):
        tag = f" #{r + 1}" if args.rounds > 1 else ""
        base = json_baseline(readings)
        base.name += tag
        s = setup(pipeline_config(0, "bench-backtest", registry))
        back += [base, backtest(s, readings, tmpdir / "events.jsonl")]
        back[-1].name += tag
        back[-1].base = base.rate
    if not args.no_floor:
        back.append(flow_floor(s, readings))
        back[-1].base = back[0].rate
    setup_rows.append(("total bench time", f"{time.perf_counter() - t0:.0f} s"))
    setup_rows.append(
        (
            "load average",
            f"{load0} at start, "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at end "
            f"(other processes on these cores skew every row)",
        )
    )
    print_report(machine_info(), setup_rows, live, back)
    tmp.cleanup()


if __name__ == "__main__":
    main()
