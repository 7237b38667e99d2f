"""Run rule test cases through the real dataflow and compare the events they give.

Every case runs through ``setup`` and ``run_backtest``, as the ``backtest`` command does, over a
temporary file of readings, so a rule test shows what live would do.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from warning.authoring.ruletest.expect import Expected
from warning.authoring.ruletest.load import Case, RuleTestFile
from warning.authoring.ruletest.notation import format_offset
from warning.config import Config


@dataclass(frozen=True)
class Got:
    """A warning event the flow produced, reduced to what a test compares."""

    ts_ms: int
    rule: str
    event: str
    level: str | None
    previous: str | None
    subject: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: passed or not, and the lines that explain a failure."""

    file: str
    case: str
    passed: bool
    diff: tuple[tuple[str, str], ...] = ()  # (mark, text): "-" missing, "+" unexpected, " " ok
    rejected: tuple[str, ...] = ()


def run_case(tf: RuleTestFile, case: Case, config: Config | None = None) -> CaseResult:
    """Run one case through the real flow and compare its warning events with the expected."""
    events, rejected = replay_case(tf, case, config)
    got = [
        Got(
            round(datetime.fromisoformat(e["ts"]).timestamp() * 1000),
            e["rule_id"],
            e["event"],
            e.get("level"),
            e.get("previous_level"),
            e["subject"],
            e["values"],
        )
        for e in events
    ]
    passed, diff = compare(case, got)
    shown_rejects = tuple(f"{r['reason']}: {r['detail']} ({r.get('payload')})" for r in rejected)
    return CaseResult(str(tf.path), case.name, passed and not rejected, tuple(diff), shown_rejects)


def replay_case(
    tf: RuleTestFile, case: Case, config: Config | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run one case's readings through ``setup`` and ``run_backtest``; return events, rejections."""
    from warning.app import run_backtest, setup  # bytewax is imported only to run
    from warning.metrics import Metrics

    with tempfile.TemporaryDirectory(prefix="ruletest-") as tmp:
        d = Path(tmp)
        registry: dict[str, Any] = {"sensors": list(case.sensors)}
        ids = {s["id"] for s in case.sensors}
        areas = [
            {**a, "sensors": [m for m in a.get("sensors", []) if m in ids]} for a in tf.areas
        ]  # a case may use fewer sensors than the file
        if any(a["sensors"] for a in areas):
            registry["areas"] = [a for a in areas if a["sensors"]]
        (d / "sensors.yaml").write_text(
            yaml.safe_dump(registry, allow_unicode=True), encoding="utf-8"
        )
        (d / "readings.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in case.readings), encoding="utf-8"
        )
        cfg = dataclasses.replace(
            config or Config(),
            rules=[str(p) for p in tf.rule_files],
            sensors=str(d / "sensors.yaml"),
        )
        s = setup(cfg, Metrics(), replay=True)  # test data may lie in any year
        run_backtest(s, d / "readings.jsonl", d / "events.jsonl", d / "rejected.jsonl")
        events = [json.loads(x) for x in (d / "events.jsonl").read_text().splitlines()]
        rejected = (
            [json.loads(x) for x in (d / "rejected.jsonl").read_text().splitlines()]
            if (d / "rejected.jsonl").exists()
            else []
        )
    return events, rejected


def compare(case: Case, got: list[Got]) -> tuple[bool, list[tuple[str, str]]]:
    """Match expected events to got ones; return (passed, diff lines in event-time order)."""
    tested = [g for g in got if g.rule in case.rules]
    remaining = list(tested)
    rows: list[tuple[int, str, str]] = []
    missing = 0
    for e in sorted(case.expect, key=lambda e: e.at_ms):
        fits = [g for g in remaining if _fits(e, g)]
        if fits:
            best = min(fits, key=lambda g: abs(g.ts_ms - e.at_ms))
            remaining.remove(best)
            rows.append((best.ts_ms, " ", _show_got(case, best)))
        else:
            missing += 1
            rows.append((e.at_ms, "-", _show_expected(case, e)))
    unexpected = remaining if case.no_other_events else []
    rows.extend((g.ts_ms, "+", _show_got(case, g)) for g in unexpected)
    rows.sort(key=lambda r: r[0])
    return not missing and not unexpected, [(mark, text) for _, mark, text in rows]


def _fits(e: Expected, g: Got) -> bool:
    return (
        g.rule == e.rule
        and g.event == e.event
        and g.subject == e.subject
        and (e.level is None or g.level == e.level)
        and (e.previous is None or g.previous == e.previous)
        and abs(g.ts_ms - e.at_ms) <= e.within_ms
        and all(
            isinstance(g.values.get(k), int | float) and abs(g.values[k] - v) <= 1e-6
            for k, v in e.values.items()
        )
    )


def _line(
    case: Case,
    ts: int,
    rule: str,
    event: str,
    level: str | None,
    previous: str | None,
    subject: str,
    values: str,
    within: int = 0,
) -> str:
    stamp = datetime.fromtimestamp(ts / 1000, case.tz).isoformat()
    when = f"{format_offset(ts - case.start_ms):>9} {stamp}"
    if within:
        when += f" ±{format_offset(within)[1:]}"
    shown = " ".join(x for x in (level, f"(from {previous})" if previous else None) if x)
    return f"{when}  {rule} {event} {shown} {subject}{values}"


def _show_expected(case: Case, e: Expected) -> str:
    values = "".join(f" {k}={v:g}" for k, v in e.values.items())
    return _line(
        case, e.at_ms, e.rule, e.event, e.level, e.previous, e.subject, values, e.within_ms
    )


def _show_got(case: Case, g: Got) -> str:
    keys = [k for e in case.expect if e.rule == g.rule for k in e.values]
    values = "".join(f" {k}={_number(g.values.get(k))}" for k in dict.fromkeys(keys))
    return _line(case, g.ts_ms, g.rule, g.event, g.level, g.previous, g.subject, values)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def run_tests(
    files: list[RuleTestFile], config: Config | None = None, on_result: Any = None
) -> list[CaseResult]:
    """Run every case of every file, calling ``on_result`` after each; return the results."""
    results = []
    for tf in files:
        for case in tf.cases:
            try:
                result = run_case(tf, case, config)
            except Exception as exc:  # noqa: BLE001 - one broken case must not hide the rest
                result = CaseResult(
                    str(tf.path), case.name, False, (("!", f"error: {type(exc).__name__}: {exc}"),)
                )
            if on_result is not None:
                on_result(result)
            results.append(result)
    return results


def result_lines(result: CaseResult) -> list[tuple[str, str]]:
    """Return the (style, text) lines printed for one result."""
    head = "PASS" if result.passed else "FAIL"
    out = [("green" if result.passed else "bold red", f"{head} {result.file}::{result.case}")]
    if result.passed:
        return out
    if any(mark != " " for mark, _ in result.diff):
        out.append(("dim", "    - expected, not produced   + produced, not expected"))
    style = {"-": "red", "+": "green", " ": "", "!": "yellow"}
    out.extend((style[mark], f"  {mark} {text}") for mark, text in result.diff)
    out.extend(("yellow", f"  ! rejected reading: {r}") for r in result.rejected)
    return out


def summary(results: list[CaseResult]) -> str:
    """Return the last line of a run: ``N passed, M failed``."""
    failed = sum(1 for r in results if not r.passed)
    return f"{len(results) - failed} passed, {failed} failed"
