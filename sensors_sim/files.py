"""Write readings to JSON Lines or CSV files, and a network's registry to YAML."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

import yaml

from sensors_sim.network import Network, registry
from sensors_sim.wire import RawPayload, encode

Reading = Mapping[str, Any] | RawPayload
_BASE_COLUMNS = ("sensor_id", "kind", "ts", "seq")


def write_jsonl(readings: Iterable[Reading], out: TextIO) -> int:
    """Write one JSON object per line; return the number of readings written."""
    count = 0
    for reading in readings:
        out.write(encode(reading).decode("utf-8"))
        out.write("\n")
        count += 1
    return count


def write_csv(readings: Iterable[Reading], out: TextIO) -> int:
    """Write ``sensor_id,kind,ts,seq,<field>...`` rows; return the number written."""
    # The header needs every field name first, so the readings are gathered up front.
    rows = list(readings)
    fields = sorted({f for r in rows if not isinstance(r, RawPayload) for f in r["values"]})
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*_BASE_COLUMNS, *fields])
    for r in rows:
        if isinstance(r, RawPayload):  # written as its raw text, a line the reader rejects
            out.write(r.text + "\n")
            continue
        values = r["values"]
        writer.writerow(
            [*(r.get(c, "") for c in _BASE_COLUMNS), *(_cell(values.get(f)) for f in fields)]
        )
    return len(rows)


def _cell(value: object) -> object:
    return "" if value is None else value


def write_readings(readings: Iterable[Reading], path: str | Path) -> int:
    """Write readings to ``path``: CSV for a ``.csv`` suffix, JSON Lines otherwise."""
    path = Path(path)
    writer = write_csv if path.suffix.lower() == ".csv" else write_jsonl
    with path.open("w", encoding="utf-8", newline="") as out:
        return writer(readings, out)


def write_registry(network: Network, out: TextIO) -> None:
    """Write the network's sensor registry as YAML."""
    yaml.safe_dump(registry(network), out, allow_unicode=True, sort_keys=False)


def write_labels(labels: Iterable[Mapping[str, Any]], out: TextIO) -> int:
    """Write ground-truth labels as JSON Lines; return how many were written."""
    count = 0
    for label in labels:
        out.write(json.dumps(label, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count
