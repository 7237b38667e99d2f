"""A file of readings (JSON Lines or CSV in the wire format) as a resumable bytewax source."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from warning.pipeline.ingest import Ingest
from warning.records import RawMessage, Reading, Rejected, Tick

Item = Reading | Rejected | Tick
_META = ("sensor_id", "kind", "ts", "seq")


def csv_row_to_object(row: dict[str, str]) -> dict[str, Any]:
    """Turn a CSV row (``sensor_id,kind,ts,[seq,]<field>...``) into a wire-format object.

    >>> csv_row_to_object({"sensor_id": "rg-1", "kind": "rainfall", "ts": "1783231200",
    ...                    "seq": "", "rain_mm": "1.5", "level_m": ""})
    {'sensor_id': 'rg-1', 'kind': 'rainfall', 'ts': 1783231200.0, 'values': {'rain_mm': 1.5}}
    """
    obj: dict[str, Any] = {"sensor_id": row.get("sensor_id"), "kind": row.get("kind")}
    ts = row.get("ts") or ""
    try:
        obj["ts"] = float(ts)
    except ValueError:
        obj["ts"] = ts
    if row.get("seq"):
        try:
            obj["seq"] = int(row["seq"])
        except ValueError:
            obj["seq"] = row["seq"]
    values: dict[str, Any] = {}
    for key, text in row.items():
        if key in _META or key is None or text in ("", None):
            continue
        try:
            values[key] = float(text)
        except ValueError:
            values[key] = text
    obj["values"] = values
    return obj


class _FilePartition(StatefulSourcePartition[Item, tuple[int, Any]]):
    def __init__(self, path: Path, ingest: Ingest, batch: int, resume: tuple[int, Any] | None,
                 progress: Callable[[int], None] | None):
        self.path = path
        self.ingest = ingest
        self.batch = batch
        self.progress = progress
        self.is_csv = path.suffix.lower() == ".csv"
        self.file = path.open("rb")
        self.header: list[str] | None = None
        if self.is_csv:
            first = self.file.readline().decode("utf-8", "replace")
            self.header = next(csv.reader([first]))
        if resume is not None:
            offset, watermark = resume
            self.file.seek(offset)
            self.ingest.watermark = watermark
        self.line = 0

    def next_batch(self) -> list[Item]:
        lines = self.file.readlines(self.batch * 120)
        if not lines:
            raise StopIteration
        now = time.time()
        topic = ""
        if self.is_csv:
            assert self.header is not None
            text = io.StringIO(b"".join(lines).decode("utf-8", "replace"))
            msgs = [RawMessage(topic, csv_row_to_object(row), now)
                    for row in csv.DictReader(text, fieldnames=self.header)]
        else:
            msgs = [RawMessage(topic, raw.rstrip(b"\r\n"), now) for raw in lines if raw.strip()]
        if self.progress is not None:
            self.progress(self.file.tell())
        return self.ingest.take(msgs)

    def snapshot(self) -> tuple[int, Any]:
        return (self.file.tell(), self.ingest.watermark)

    def close(self) -> None:
        self.file.close()


class ReadingsFileSource(FixedPartitionedSource[Item, tuple[int, Any]]):
    """Readings from one JSON Lines or CSV file, parsed, with event-time ticks interleaved."""

    def __init__(self, path: str | Path, make_ingest: Callable[[], Ingest], batch: int = 2000,
                 progress: Callable[[int], None] | None = None):
        self.path = Path(path)
        self.make_ingest = make_ingest
        self.batch = batch
        self.progress = progress

    def list_parts(self) -> list[str]:
        return [str(self.path)]

    def build_part(self, step_id: str, for_part: str,
                   resume_state: tuple[int, Any] | None) -> _FilePartition:
        return _FilePartition(self.path, self.make_ingest(), self.batch, resume_state,
                              self.progress)
