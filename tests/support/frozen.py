"""Frozen results of the engine: what today's code gives on fixed workloads, for differential tests.

Each case replays a fixed input through the real backtest (``setup`` + ``run_backtest``) and
returns its output records, one JSON object per line: warning events, dead letters and, where a
case asks, indicator records. The records are stored gzipped under ``tests/data/frozen/``.

Cases: the bench workload (``bench/pipeline_bench.make_workload``), every simulator scenario,
every rule test case under ``rules/`` (the CMA rainstorm cases among them) and the 1985 FWI
reference table.

Refreeze only on purpose (a rule or text change meant to change results), and say so in the
commit::

    python -m tests.support.frozen [CASE ...]
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
FROZEN = ROOT / "tests" / "data" / "frozen"
RULES = ROOT / "rules"
#: Numbers may differ by this much (absolute, or relative above 1): sums stay exact to 1e-9.
TOLERANCE = 1e-9

Records = list[dict[str, Any]]


def _lines(path: Path) -> Records:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _replay(
    folder: Path, config: Any, readings: Path, indicators: bool = False, replay: bool = True
) -> Records:
    """Run the backtest of ``readings``; return events, then dead letters, then indicators."""
    from warning.app import run_backtest, setup
    from warning.metrics import Metrics

    s = setup(config, Metrics(), replay=replay)
    out, rejected, ind = folder / "events.jsonl", folder / "rejected.jsonl", folder / "ind.jsonl"
    run_backtest(s, readings, out, rejected=rejected, indicators=ind if indicators else None)
    return [
        *({"record": "event", **e} for e in _lines(out)),
        *({"record": "rejected", **r} for r in _lines(rejected)),
        *({"record": "indicator", **r} for r in _lines(ind)),
    ]


def bench_workload(folder: Path) -> Records:
    """The bench workload, smaller: 200 gauges (a storm over ~30 %) and 10 stations, 24 h."""
    spec = importlib.util.spec_from_file_location(
        "pipeline_bench", ROOT / "bench/pipeline_bench.py"
    )
    assert spec is not None and spec.loader is not None
    bench = sys.modules.get("pipeline_bench") or importlib.util.module_from_spec(spec)
    if "pipeline_bench" not in sys.modules:
        sys.modules["pipeline_bench"] = bench  # dataclasses look their module up
        spec.loader.exec_module(bench)
    work = bench.make_workload(
        60_480, 200, 10, end=datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    )  # 288 steps of 5 minutes
    registry, readings = folder / "sensors.yaml", folder / "readings.jsonl"
    bench.write_registry(work.registry, registry)
    readings.write_bytes(b"".join(p + b"\n" for _, p in work.messages))
    return _replay(folder, bench.pipeline_config(0, "frozen", registry), readings)


def scenario(name: str) -> Callable[[Path], Records]:
    """A shipped simulator scenario through the shipped rules, detectors on (the defaults)."""

    def run(folder: Path) -> Records:
        from sensors_sim.files import write_readings, write_registry
        from sensors_sim.generate import generate
        from sensors_sim.scenario import load_scenario
        from warning.config import Config

        sc = load_scenario(name)
        readings, registry = folder / "readings.jsonl", folder / "sensors.yaml"
        write_readings(generate(sc), readings)
        with registry.open("w", encoding="utf-8") as out:
            write_registry(sc.network, out)
        return _replay(
            folder, Config(rules=[str(RULES)], sensors=str(registry)), readings, indicators=True
        )

    return run


def rule_tests(_folder: Path) -> Records:
    """Every case of every shipped rule test file, in file and case order."""
    from warning.authoring.ruletest.load import find_test_files, load_test_files
    from warning.authoring.ruletest.run import replay_case

    out: Records = []
    for tf in load_test_files(find_test_files([RULES])):
        for case in tf.cases:
            events, rejected = replay_case(tf, case)
            where = f"{Path(tf.path).name}::{case.name}"
            out.extend({"record": "event", "case": where, **e} for e in events)
            out.extend({"record": "rejected", "case": where, **r} for r in rejected)
    return out


def fwi_reference(folder: Path) -> Records:
    """The 1985 FWI reference days (Van Wagner and Pickett) with their dates, indicators on."""
    from warning.config import Config

    with (ROOT / "tests/data/fwi_reference_1985.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    readings = folder / "readings.jsonl"
    readings.write_text(
        "".join(
            json.dumps(
                {
                    "sensor_id": "ws-ref",
                    "kind": "weather",
                    "seq": i + 1,
                    "ts": f"{r['YR']}-{int(r['MON']):02d}-{int(r['DAY']):02d}T12:00:00-07:00",
                    "values": {
                        "temp_c": float(r["TEMP"]),
                        "rh_pct": float(r["RH"]),
                        "wind_kmh": float(r["WS"]),
                        "rain_mm": float(r["PREC"]),
                    },
                }
            )
            + "\n"
            for i, r in enumerate(rows)
        )
    )
    registry = folder / "sensors.yaml"
    registry.write_text(
        yaml.safe_dump(
            {
                "sensors": [
                    {
                        "id": "ws-ref",
                        "kind": "weather",
                        "name": "Reference",
                        "region": "test",
                        "lat": float(rows[0]["LAT"]),
                        "lon": float(rows[0]["LONG"]),
                        "tz": "Etc/GMT+7",
                    }
                ]
            }
        )
    )
    config = Config(rules=[str(RULES)], sensors=str(registry))
    return _replay(folder, config, readings, indicators=True)


def cases() -> dict[str, Callable[[Path], Records]]:
    """Every frozen case by name."""
    from sensors_sim.scenario import shipped_scenarios

    found: dict[str, Callable[[Path], Records]] = {
        "bench": bench_workload,
        "rule_tests": rule_tests,
        "fwi_reference": fwi_reference,
    }
    for name in sorted(shipped_scenarios()):
        found[f"scenario_{name}"] = scenario(name)
    return found


def run(name: str) -> Records:
    """Replay one case in a temporary folder; return its records."""
    with tempfile.TemporaryDirectory(prefix=f"frozen-{name}-") as tmp:
        return cases()[name](Path(tmp))


def path_of(name: str) -> Path:
    """Where a case's frozen records are stored."""
    return FROZEN / f"{name}.jsonl.gz"


def load(name: str) -> Records:
    """The frozen records of a case."""
    with gzip.open(path_of(name), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write(name: str, records: Records) -> None:
    """Freeze a case's records (gzip without a timestamp, so equal records give equal bytes)."""
    FROZEN.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    with path_of(name).open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(text.encode("utf-8"))


def differences(frozen: Any, got: Any, where: str = "") -> Iterator[str]:
    """Yield where ``got`` differs from ``frozen``: numbers within TOLERANCE, all else exact."""
    if isinstance(frozen, dict) and isinstance(got, dict):
        for key in sorted(frozen.keys() | got.keys()):
            if key not in got:
                yield f"{where}.{key}: missing (was {frozen[key]!r})"
            elif key not in frozen:
                yield f"{where}.{key}: new ({got[key]!r})"
            else:
                yield from differences(frozen[key], got[key], f"{where}.{key}")
    elif isinstance(frozen, list) and isinstance(got, list) and len(frozen) == len(got):
        for i, (a, b) in enumerate(zip(frozen, got, strict=True)):
            yield from differences(a, b, f"{where}[{i}]")
    elif _number(frozen) and _number(got):
        if not math.isclose(frozen, got, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            yield f"{where}: {frozen!r} -> {got!r}"
    elif frozen != got or type(frozen) is not type(got):
        yield f"{where}: {frozen!r} -> {got!r}"


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def main(argv: list[str]) -> None:
    """Refreeze the named cases (all without names)."""
    for name in argv or list(cases()):
        records = run(name)
        write(name, records)
        print(f"{name}: {len(records)} records -> {path_of(name).relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
