"""False alarms per sensor-year of a backtest score, per hazard and level.

A count of false alarms says little until it is divided by the watched sensor-time: 30 false
alarms are many for 4 gauges over a season and few for 400 over a year. The sensor-time of a
hazard is the span of readings (first to last) of every sensor that one of its rules watches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from warning.authoring.score import ROWS, Score

YEAR_MS = 365.25 * 86_400_000


def sensor_spans(readings: Iterable[Any]) -> dict[str, tuple[str, str, int, int]]:
    """Return each sensor's ``(kind, region, first ts, last ts)`` over parsed readings."""
    spans: dict[str, tuple[str, str, int, int]] = {}
    for r in readings:
        old = spans.get(r.sensor_id)
        spans[r.sensor_id] = (
            (r.kind, r.region, r.ts, r.ts)
            if old is None
            else (old[0], old[1], min(old[2], r.ts), max(old[3], r.ts))
        )
    return spans


def sensor_years(
    spans: Mapping[str, tuple[str, str, int, int]], rules: Iterable[Any]
) -> dict[str, float]:
    """Return, per hazard, the years of record of the sensors its rules watch.

    >>> from types import SimpleNamespace as NS
    >>> rule = NS(hazard="landslide", applies_to=lambda sid, kind, region: region == "anji")
    >>> spans = {"a": ("rainfall", "anji", 0, int(YEAR_MS)), "b": ("rainfall", "wuxing", 0, 9)}
    >>> sensor_years(spans, [rule])
    {'landslide': 1.0}
    """
    watched: dict[str, set[str]] = {}
    for rule in rules:
        watched.setdefault(rule.hazard, set()).update(
            sid for sid, (kind, region, _, _) in spans.items() if rule.applies_to(sid, kind, region)
        )
    return {
        hazard: sum(spans[sid][3] - spans[sid][2] for sid in sids) / YEAR_MS
        for hazard, sids in sorted(watched.items())
    }


def false_alarm_rates(s: Score, years: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    """Return, per scored hazard, its sensor-years and false alarms per sensor-year by row.

    Rows are those of the score (``all``, then each level as "at least this level"); a rate
    is None when the hazard's rules watched no sensor-time.
    """
    out: dict[str, dict[str, Any]] = {}
    for hazard, rows in s.rows.items():
        yrs = years.get(hazard, 0.0)
        out[hazard] = {
            "sensor_years": round(yrs, 4),
            "per_sensor_year": {
                name: (round(row.false_alarms / yrs, 3) if yrs > 0 else None)
                for name, row in rows.items()
            },
        }
    return out


def rate_table(rates: Mapping[str, Mapping[str, Any]]) -> Any:
    """The false alarms per sensor-year as a rich Table for the console."""
    from rich.table import Table

    t = Table(
        title="false alarms per sensor-year",
        box=None,
        pad_edge=False,
        title_justify="left",
        header_style="bold underline",
    )
    t.add_column("hazard", no_wrap=True)
    t.add_column("sensor-years", justify="right")
    for name in ROWS:
        t.add_column(name if name == "all" else f">={name}", justify="right")
    for hazard, r in rates.items():
        t.add_row(
            hazard,
            f"{r['sensor_years']:.3g}",
            *("-" if v is None else f"{v:.1f}" for v in r["per_sensor_year"].values()),
        )
    short = [h for h, r in rates.items() if 0 < r["sensor_years"] < 1]
    if short:
        # One false alarm in a 6-hour storm at one gauge reads as 1,460 a year: say so.
        days = min(rates[h]["sensor_years"] for h in short) * 365.25
        t.caption = (
            f"{', '.join(short)}: less than a sensor-year watched (from {days:.2g} sensor-days): "
            "a rate extrapolated from so little says little; see the false alarms (FA) above"
        )
    return t
