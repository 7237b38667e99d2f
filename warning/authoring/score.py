"""Score a backtest's warning events against labelled ground truth (warning verification).

Labels are JSON Lines, one labelled event per line (extra keys are ignored; lines with a
``type`` other than ``hazard``, such as the simulator's fault labels, are skipped)::

    {"subject": "rg-1", "hazard": "rainstorm", "onset": "2026-07-05T06:00:00+08:00",
     "peak": "2026-07-05T09:00:00+08:00", "end": "2026-07-05T12:00:00+08:00", "level": "red"}

Warning events are grouped into episodes by ``warning_id`` (raised .. cleared). For each hazard
that has labels, and within it:

- row ``all``: a label is *hit* when a warning of the same subject and hazard is at least at the
  labelled level at some moment in ``[onset - tolerance, end]``; otherwise it is a *miss*. An
  episode in force at no moment of any label's window (same subject and hazard) is a *false
  alarm*; an episode that overlaps a label but stays below its level is not a false alarm, the
  label is a miss (under-warning).
- rows ``blue`` .. ``red`` (thresholds, "at least this level"): the same with labels of at least
  that level as events and the stretches of each episode at at least that level as warnings.

POD = hits / (hits + misses), FAR = false alarms / (hits + false alarms),
CSI = hits / (hits + misses + false alarms) (None when the denominator is 0). Lead time of a
hit = the moment the label reached the row's level - the time the warning stretch that covered
the window reached it; positive when warned ahead, negative when late. The moment is the label's
``reached[level]`` when given (the simulator's labels give it per level), else its onset (row
``all``: the labelled level's moment). Median, 10th percentile and worst (smallest) lead are over
the hits. ``lead_gain`` compares two scores of the same labels (a rule set against an
observed-only one) row by row.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from warning.records import LEVEL_NAMES, Level

INF = float("inf")
ROWS = ("all", *LEVEL_NAMES)


class LabelError(ValueError):
    """A label line that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Label:
    """One labelled hazard event; times are epoch milliseconds."""

    subject: str
    hazard: str
    onset: int
    end: int
    level: int  # 1 blue .. 4 red
    peak: int | None = None
    #: When the event first reached each level, ``(level, epoch ms)`` pairs (may be empty).
    reached: tuple[tuple[int, int], ...] = ()

    def reached_at(self, level: int) -> int:
        """When the event first reached ``level`` (its onset when the label does not say)."""
        return dict(self.reached).get(level, self.onset)


@dataclass(frozen=True)
class WarnedEpisode:
    """One warning episode: its level steps ``(ts_ms, level)`` and when it cleared."""

    warning_id: str
    rule_id: str
    hazard: str
    subject: str
    steps: tuple[tuple[int, int], ...]  # level 0 after clearing is not stored here
    cleared: float = INF  # epoch ms, or INF when still active at the end of the run

    @property
    def start(self) -> int:
        """When the episode was raised."""
        return self.steps[0][0]

    @property
    def peak(self) -> int:
        """The highest level reached."""
        return max(level for _, level in self.steps)

    def stretches(self, level: int) -> list[tuple[int, float]]:
        """The intervals ``[from, to)`` during which the episode is at least at ``level``."""
        out: list[tuple[int, float]] = []
        begun: int | None = None
        for i, (ts, lv) in enumerate(self.steps):
            nxt = self.steps[i + 1][0] if i + 1 < len(self.steps) else self.cleared
            if lv >= level and begun is None:
                begun = ts
            if lv < level and begun is not None:
                out.append((begun, ts))
                begun = None
            if i + 1 == len(self.steps) and begun is not None:
                out.append((begun, nxt))
        return out


@dataclass
class Row:
    """A contingency table with lead times (ms) of the hits."""

    hits: int = 0
    misses: int = 0
    false_alarms: int = 0
    leads_ms: list[int] = field(default_factory=list)

    @property
    def pod(self) -> float | None:
        """Probability of detection."""
        return _ratio(self.hits, self.hits + self.misses)

    @property
    def far(self) -> float | None:
        """False alarm ratio."""
        return _ratio(self.false_alarms, self.hits + self.false_alarms)

    @property
    def csi(self) -> float | None:
        """Critical success index."""
        return _ratio(self.hits, self.hits + self.misses + self.false_alarms)

    @property
    def median_lead_s(self) -> float | None:
        """Median lead time of the hits, seconds."""
        return statistics.median(self.leads_ms) / 1000 if self.leads_ms else None

    @property
    def p10_lead_s(self) -> float | None:
        """10th percentile of the hits' lead times (nine in ten were warned at least this early)."""
        return _percentile(self.leads_ms, 10) / 1000 if self.leads_ms else None

    @property
    def worst_lead_s(self) -> float | None:
        """Smallest (latest) lead time of the hits, seconds."""
        return min(self.leads_ms) / 1000 if self.leads_ms else None

    def to_dict(self) -> dict[str, Any]:
        """The row for the JSON summary."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "pod": self.pod,
            "far": self.far,
            "csi": self.csi,
            "median_lead_s": self.median_lead_s,
            "p10_lead_s": self.p10_lead_s,
            "worst_lead_s": self.worst_lead_s,
        }


@dataclass(frozen=True)
class LabelOutcome:
    """What became of one label in the ``all`` row."""

    label: Label
    hit: bool
    warned_ms: int | None  # when the matching warning reached the labelled level
    lead_ms: int | None
    episodes: tuple[str, ...]  # warning ids overlapping the window


@dataclass
class Score:
    """The scores of a run: rows per hazard, per-label outcomes, false alarm episodes."""

    tolerance_ms: int
    rows: dict[str, dict[str, Row]]  # hazard -> row name ("all", "blue" ..) -> row
    outcomes: list[LabelOutcome]
    false_alarms: list[WarnedEpisode]
    unlabelled: dict[str, int]  # hazards with episodes but no labels -> episode count

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary (for CI)."""
        return {
            "tolerance_s": self.tolerance_ms / 1000,
            "hazards": {
                h: {name: row.to_dict() for name, row in rows.items()}
                for h, rows in self.rows.items()
            },
            "labels": [
                {
                    "subject": o.label.subject,
                    "hazard": o.label.hazard,
                    "onset": _iso(o.label.onset),
                    "end": _iso(o.label.end),
                    "level": LEVEL_NAMES[o.label.level - 1],
                    "hit": o.hit,
                    "warned": _iso(o.warned_ms) if o.warned_ms is not None else None,
                    "lead_s": o.lead_ms / 1000 if o.lead_ms is not None else None,
                    "episodes": list(o.episodes),
                }
                for o in self.outcomes
            ],
            "false_alarms": [
                {
                    "warning_id": e.warning_id,
                    "hazard": e.hazard,
                    "subject": e.subject,
                    "raised": _iso(e.start),
                    "peak_level": LEVEL_NAMES[e.peak - 1],
                }
                for e in self.false_alarms
            ],
            "unlabelled_hazards": dict(self.unlabelled),
        }


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _percentile(values: list[int], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of a non-empty list.

    >>> _percentile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 10)
    10.0
    """
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _iso(ms: float) -> str:
    from datetime import UTC

    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: Any) -> int:
    """Parse an RFC 3339 time with an offset into epoch milliseconds.

    >>> parse_time("2026-07-05T08:00:00+08:00"), parse_time("2026-07-05T00:00:00Z")
    (1783209600000, 1783209600000)
    """
    if not isinstance(text, str):
        raise ValueError(f"an RFC 3339 time, found {text!r}")
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"an RFC 3339 time with an offset, found {text!r}")
    return round(moment.timestamp() * 1000)


def parse_level(name: Any) -> int:
    """Return 1 (blue) .. 4 (red) for a level name."""
    if name not in LEVEL_NAMES:
        raise ValueError(f"a level among {', '.join(LEVEL_NAMES)}, found {name!r}")
    return int(Level.parse(name))


def label_from_dict(obj: Mapping[str, Any]) -> Label:
    """Build a label from one decoded line; unknown keys are ignored."""
    for key in ("subject", "hazard", "onset", "end", "level"):
        if key not in obj:
            raise ValueError(f"{key}: expected this key, found it missing")
    onset, end = parse_time(obj["onset"]), parse_time(obj["end"])
    if end < onset:
        raise ValueError("end: expected a time not before onset")
    peak = parse_time(obj["peak"]) if obj.get("peak") is not None else None
    reached = obj.get("reached") or {}
    if not isinstance(reached, dict):
        raise ValueError(f"reached: expected an object of level: time, found {reached!r}")
    try:
        moments = tuple(sorted((parse_level(k), parse_time(v)) for k, v in reached.items()))
    except ValueError as exc:
        raise ValueError(f"reached: {exc}") from None
    return Label(
        str(obj["subject"]),
        str(obj["hazard"]),
        onset,
        end,
        parse_level(obj["level"]),
        peak,
        moments,
    )


def read_labels(path: Path) -> list[Label]:
    """Read a labels file (JSON Lines); raise LabelError naming the line on a bad one.

    Lines whose ``type`` is present and not ``hazard`` (the simulator's fault labels) are
    skipped.
    """
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            if obj.get("type", "hazard") != "hazard":
                continue  # e.g. the simulator's {"type": "fault", ...}: not a hazard event
            out.append(label_from_dict(obj))
        except ValueError as exc:
            raise LabelError(f"{path}:{n}: {exc}") from None
    return out


def read_events(path: Path) -> list[dict[str, Any]]:
    """Read warning events (the backtest's JSON Lines output)."""
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def episodes(events: Iterable[Mapping[str, Any]]) -> list[WarnedEpisode]:
    """Group warning events into episodes by ``warning_id``, in order of raising."""
    steps: dict[str, list[tuple[int, int]]] = {}
    meta: dict[str, Mapping[str, Any]] = {}
    cleared: dict[str, int] = {}
    for e in sorted(events, key=lambda e: parse_time(e["ts"])):
        wid = e["warning_id"]
        ts = parse_time(e["ts"])
        if e["event"] == "cleared":
            cleared[wid] = ts
            continue
        meta.setdefault(wid, e)
        steps.setdefault(wid, []).append((ts, parse_level(e["level"])))
    out = [
        WarnedEpisode(
            wid,
            str(m["rule_id"]),
            str(m["hazard"]),
            str(m["subject"]),
            tuple(steps[wid]),
            cleared.get(wid, INF),
        )
        for wid, m in meta.items()
    ]
    return sorted(out, key=lambda ep: (ep.start, ep.warning_id))


def _first_cover(eps: Iterable[WarnedEpisode], level: int, lo: int, hi: int) -> int | None:
    """When the earliest stretch at >= level that overlaps [lo, hi] began; None if none."""
    starts = [a for ep in eps for a, b in ep.stretches(level) if a <= hi and b >= lo]
    return min(starts) if starts else None


def _overlaps(ep: WarnedEpisode, lo: int, hi: int) -> bool:
    return ep.start <= hi and ep.cleared >= lo


def score(
    labels: list[Label], events: Iterable[Mapping[str, Any]], tolerance_ms: int = 3_600_000
) -> Score:
    """Score warning events against labels (see the module docstring)."""
    eps = episodes(events)
    hazards = sorted({lb.hazard for lb in labels})
    rows: dict[str, dict[str, Row]] = {h: {name: Row() for name in ROWS} for h in hazards}
    by_key: dict[tuple[str, str], list[WarnedEpisode]] = {}
    for ep in eps:
        by_key.setdefault((ep.hazard, ep.subject), []).append(ep)
    outcomes = []
    for lb in sorted(labels, key=lambda x: (x.hazard, x.onset, x.subject)):
        mine = by_key.get((lb.hazard, lb.subject), [])
        lo, hi = lb.onset - tolerance_ms, lb.end
        for name in ROWS:
            need = lb.level if name == "all" else int(Level.parse(name))
            if lb.level < need:
                continue
            row = rows[lb.hazard][name]
            warned = _first_cover(mine, need, lo, hi)
            moment = lb.reached_at(need)
            if warned is None:
                row.misses += 1
            else:
                row.hits += 1
                row.leads_ms.append(moment - warned)
            if name == "all":
                outcomes.append(
                    LabelOutcome(
                        lb,
                        warned is not None,
                        warned,
                        moment - warned if warned is not None else None,
                        tuple(ep.warning_id for ep in mine if _overlaps(ep, lo, hi)),
                    )
                )
    false_alarms = []
    unlabelled: dict[str, int] = {}
    for ep in eps:
        if ep.hazard not in rows:
            unlabelled[ep.hazard] = unlabelled.get(ep.hazard, 0) + 1
            continue
        truth = [lb for lb in labels if lb.hazard == ep.hazard and lb.subject == ep.subject]
        if not any(_overlaps(ep, lb.onset - tolerance_ms, lb.end) for lb in truth):
            rows[ep.hazard]["all"].false_alarms += 1
            false_alarms.append(ep)
        for name in LEVEL_NAMES:
            need = int(Level.parse(name))
            stretches = ep.stretches(need)
            if stretches and not any(
                a <= lb.end and b >= lb.onset - tolerance_ms
                for a, b in stretches
                for lb in truth
                if lb.level >= need
            ):
                rows[ep.hazard][name].false_alarms += 1
    return Score(tolerance_ms, rows, outcomes, false_alarms, unlabelled)


def format_lead(seconds: float | None) -> str:
    """Format a lead time in seconds as ``+1h05m`` / ``-10m``; ``-`` when None.

    >>> format_lead(3900), format_lead(-600), format_lead(None)
    ('+1h05m', '-10m', '-')
    """
    if seconds is None:
        return "-"
    sign = "-" if seconds < 0 else "+"
    minutes = round(abs(seconds) / 60)
    h, m = divmod(minutes, 60)
    return f"{sign}{h}h{m:02d}m" if h else f"{sign}{m}m"


def format_ratio(value: float | None) -> str:
    """Format a ratio with two decimals; ``-`` when undefined."""
    return "-" if value is None else f"{value:.2f}"


TABLE_HEADER = (
    "hazard",
    "level",
    "hits",
    "misses",
    "FA",
    "POD",
    "FAR",
    "CSI",
    "lead med",
    "lead p10",
    "lead min",
)


def table_rows(s: Score) -> list[tuple[str, ...]]:
    """The summary table as text cells (rows with no labels and no warnings are left out)."""
    out: list[tuple[str, ...]] = []
    for hazard, rows in s.rows.items():
        for name, r in rows.items():
            if name != "all" and not (r.hits or r.misses or r.false_alarms):
                continue
            level = "all" if name == "all" else f">={name}"
            out.append(
                (
                    hazard,
                    level,
                    str(r.hits),
                    str(r.misses),
                    str(r.false_alarms),
                    format_ratio(r.pod),
                    format_ratio(r.far),
                    format_ratio(r.csi),
                    format_lead(r.median_lead_s),
                    format_lead(r.p10_lead_s),
                    format_lead(r.worst_lead_s),
                )
            )
    return out


def rich_table(s: Score) -> Any:
    """The summary as a rich Table for the console."""
    from rich.table import Table

    t = Table(
        title=f"backtest score (tolerance {format_lead(s.tolerance_ms / 1000)[1:]}; "
        "FA: false alarms, lead: level reached - warning)",
        box=None,
        pad_edge=False,
        title_justify="left",
        header_style="bold underline",
    )
    for i, h in enumerate(TABLE_HEADER):
        t.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
    for cells in table_rows(s):
        t.add_row(*cells)
    if s.unlabelled:
        t.caption = "not scored (no labels): " + ", ".join(
            f"{h} ({n} episodes)" for h, n in sorted(s.unlabelled.items())
        )
    return t
