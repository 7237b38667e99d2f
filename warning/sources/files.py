"""A file of readings (JSON Lines or CSV in the wire format) as a resumable bytewax source.

A file of forecasts (JSON Lines, docs/FORECASTS.md) may ride along: each forecast is delivered
just before the first reading at or after its issue time, as it would arrive live.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition

from warning.pipeline.ingest import Ingest
from warning.records import Forecast, RawMessage, Reading, Rejected, Tick

Item = Reading | Forecast | Rejected | Tick
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


def read_forecasts(path: Path, ingest: Ingest) -> list[Forecast | Rejected]:
    """Parse a file of forecasts; rejected ones first, then forecasts by issue time."""
    now = time.time()
    with path.open("rb") as f:
        msgs = [RawMessage("", raw.rstrip(b"\r\n"), now) for raw in f if raw.strip()]
    items = [x for x in ingest.take(msgs, forecasts=True) if isinstance(x, Forecast | Rejected)]
    return sorted(items, key=lambda x: x.issued if isinstance(x, Forecast) else -1)


class _FilePartition(StatefulSourcePartition[Item, tuple[Any, ...]]):
    def __init__(
        self,
        path: Path,
        ingest: Ingest,
        batch: int,
        resume: tuple[Any, ...] | None,
        progress: Callable[[int], None] | None,
        forecasts: list[Forecast | Rejected] | None = None,
    ):
        self.forecasts = forecasts or []
        self.next_forecast = 0
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
            offset, watermark, *rest = resume
            self.file.seek(offset)
            self.ingest.watermark = watermark
            self.next_forecast = rest[0] if rest else 0
        self.line = 0

    def next_batch(self) -> list[Item]:
        lines = self.file.readlines(self.batch * 120)
        if not lines:
            if self.next_forecast < len(self.forecasts):
                rest: list[Item] = list(self.forecasts[self.next_forecast :])
                self.next_forecast = len(self.forecasts)
                return rest
            raise StopIteration
        now = time.time()
        topic = ""
        if self.is_csv:
            assert self.header is not None
            text = io.StringIO(b"".join(lines).decode("utf-8", "replace"))
            msgs = [
                RawMessage(topic, csv_row_to_object(row), now)
                for row in csv.DictReader(text, fieldnames=self.header)
            ]
        else:
            msgs = [RawMessage(topic, raw.rstrip(b"\r\n"), now) for raw in lines if raw.strip()]
        if self.progress is not None:
            self.progress(self.file.tell())
        items = self.ingest.take(msgs)
        return self._with_forecasts(items) if self.forecasts else items

    def _with_forecasts(self, items: list[Item]) -> list[Item]:
        """Put each forecast before the first reading at or after its issue time."""
        out: list[Item] = []
        fc, i = self.forecasts, self.next_forecast
        for item in items:
            if isinstance(item, Reading):
                while i < len(fc):
                    f = fc[i]
                    if isinstance(f, Forecast) and f.issued > item.ts:
                        break
                    out.append(f)
                    i += 1
            out.append(item)
        self.next_forecast = i
        return out

    def snapshot(self) -> tuple[Any, ...]:
        return (self.file.tell(), self.ingest.watermark, self.next_forecast)

    def close(self) -> None:
        self.file.close()


#: Readings per batch. A batch costs per sensor, not per reading (each sensor's readings and its
#: neighbours' ride as one item), so bigger batches cost less per reading: 105 CPU us per
#: reading at 2,000 on the bench workload (1,050 sensors), 97 at 8,000, 95 at 30,000; a batch of
#: 8,000 parsed readings holds ~10 MB.
BATCH = 8000


class ReadingsFileSource(FixedPartitionedSource[Item, tuple[Any, ...]]):
    """Readings from one JSON Lines or CSV file, parsed, with event-time ticks interleaved."""

    def __init__(
        self,
        path: str | Path,
        make_ingest: Callable[[], Ingest],
        batch: int = BATCH,
        progress: Callable[[int], None] | None = None,
        forecasts: str | Path | None = None,
    ):
        self.forecasts = Path(forecasts) if forecasts is not None else None
        self.path = Path(path)
        self.make_ingest = make_ingest
        self.batch = batch
        self.progress = progress

    def list_parts(self) -> list[str]:
        return [str(self.path)]

    def build_part(
        self, step_id: str, for_part: str, resume_state: tuple[Any, ...] | None
    ) -> _FilePartition:
        ingest = self.make_ingest()
        forecasts = read_forecasts(self.forecasts, ingest) if self.forecasts else None
        return _FilePartition(self.path, ingest, self.batch, resume_state, self.progress, forecasts)
