"""Compare two rule sets over the same readings: which warning events appear, disappear or change.

Both rule sets run through the real flow (``setup`` and ``run_backtest``, as ``backtest`` does).
Events are matched by rule id, subject and event time; a matched pair whose event or level
differs is a change.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from warning.config import Config

APPEARED, DISAPPEARED, CHANGED = "appeared", "disappeared", "changed"
MARKS = {APPEARED: "+", DISAPPEARED: "-", CHANGED: "~"}


@dataclass(frozen=True)
class Change:
    """One difference; ``old``/``new`` are the events (None when absent on that side)."""

    kind: str
    ts: str
    rule_id: str
    subject: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


@dataclass(frozen=True)
class Diff:
    """The differences in event-time order, and how many events matched unchanged."""

    changes: tuple[Change, ...]
    unchanged: int

    def count(self, kind: str) -> int:
        """How many changes of a kind."""
        return sum(1 for c in self.changes if c.kind == kind)


def _key(e: Mapping[str, Any]) -> tuple[str, str, float]:
    return (str(e["rule_id"]), str(e["subject"]), datetime.fromisoformat(e["ts"]).timestamp())


def diff_events(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> Diff:
    """Match events by (rule id, subject, time) and list what differs.

    >>> e = {"rule_id": "r", "subject": "s", "ts": "2026-07-05T05:00:00+08:00",
    ...      "event": "raised", "level": "yellow"}
    >>> d = diff_events([e], [{**e, "level": "orange"}, {**e, "subject": "t"}])
    >>> [(c.kind, c.subject) for c in d.changes], d.unchanged
    ([('changed', 's'), ('appeared', 't')], 0)
    """
    before: dict[tuple[str, str, float], list[Mapping[str, Any]]] = {}
    for e in old:
        before.setdefault(_key(e), []).append(e)
    changes: list[tuple[float, int, Change]] = []
    unchanged = 0
    for e in new:
        k = _key(e)
        same = before.get(k)
        if not same:
            changes.append((k[2], len(changes), Change(APPEARED, e["ts"], k[0], k[1], None, e)))
            continue
        o = same.pop(0)
        if (o.get("event"), o.get("level")) == (e.get("event"), e.get("level")):
            unchanged += 1
        else:
            changes.append((k[2], len(changes), Change(CHANGED, e["ts"], k[0], k[1], o, e)))
    for k, rest in before.items():
        for o in rest:
            changes.append((k[2], len(changes), Change(DISAPPEARED, o["ts"], k[0], k[1], o, None)))
    changes.sort(key=lambda x: (x[0], x[2].rule_id, x[2].subject, x[1]))
    return Diff(tuple(c for _, _, c in changes), unchanged)


def _what(e: Mapping[str, Any] | None) -> str:
    if e is None:
        return "-"
    return f"{e.get('event')} {e.get('level') or ''}".strip()


def render(d: Diff) -> list[str]:
    r"""Readable lines: ``MARK TIME RULE SUBJECT WHAT``, then a summary line.

    >>> e = {"rule_id": "rainstorm", "subject": "rg-1", "ts": "2026-07-05T08:15:00+08:00",
    ...      "event": "escalated", "level": "red"}
    >>> print("\n".join(render(diff_events([e], [{**e, "level": "orange"}]))))
    ~ 2026-07-05T08:15:00+08:00  rainstorm  rg-1  escalated red -> escalated orange
    0 unchanged, 0 appeared, 0 disappeared, 1 changed
    """
    rule_w = max((len(c.rule_id) for c in d.changes), default=0)
    subj_w = max((len(c.subject) for c in d.changes), default=0)
    lines = []
    for c in d.changes:
        what = (
            _what(c.new)
            if c.kind == APPEARED
            else _what(c.old)
            if c.kind == DISAPPEARED
            else f"{_what(c.old)} -> {_what(c.new)}"
        )
        lines.append(
            f"{MARKS[c.kind]} {c.ts}  {c.rule_id:<{rule_w}}  {c.subject:<{subj_w}}  {what}"
        )
    lines.append(
        f"{d.unchanged} unchanged, {d.count(APPEARED)} appeared, "
        f"{d.count(DISAPPEARED)} disappeared, {d.count(CHANGED)} changed"
    )
    return lines


def backtest_events(
    config: Config,
    rules: Sequence[Path],
    input_path: Path,
    sensors: Path | None,
    forecasts: Path | None = None,
) -> list[dict[str, Any]]:
    """Run one rule set over the readings with the real flow; return its warning events."""
    import json

    from warning.app import for_files, run_backtest, setup
    from warning.metrics import Metrics

    s = setup(for_files(config, rules, sensors), Metrics(), replay=True)
    with tempfile.TemporaryDirectory(prefix="rulediff-") as tmp:
        out = Path(tmp) / "events.jsonl"
        run_backtest(s, input_path, out, forecasts=forecasts)
        if not out.exists():
            return []
        return [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines() if x]
