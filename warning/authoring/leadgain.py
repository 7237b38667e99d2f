"""Lead time gained by one rule set over another (e.g. forecast-driven over observed-only).

Both are scored against the same labels (``warning.authoring.score.score``); rows are
compared per hazard and level: median and 10th-percentile lead, and FAR, before and after.
"""

from __future__ import annotations

from typing import Any

from warning.authoring.score import Score, format_lead, format_ratio


def lead_gain(before: Score, after: Score) -> list[tuple[str, ...]]:
    """Per hazard and level: median and p10 lead and FAR before and after, and the gain.

    Rows present in both scores with hits or false alarms in either are listed. Cells:
    hazard, level, median before, median after, gain, p10 before, p10 after, FAR before and
    FAR after.
    """
    out: list[tuple[str, ...]] = []
    for hazard, rows in after.rows.items():
        old_rows = before.rows.get(hazard, {})
        for name, new in rows.items():
            old = old_rows.get(name)
            if old is None or not (old.hits or old.false_alarms or new.hits or new.false_alarms):
                continue
            gain = (
                None
                if old.median_lead_s is None or new.median_lead_s is None
                else new.median_lead_s - old.median_lead_s
            )
            level = "all" if name == "all" else f">={name}"
            out.append(
                (
                    hazard,
                    level,
                    format_lead(old.median_lead_s),
                    format_lead(new.median_lead_s),
                    format_lead(gain),
                    format_lead(old.p10_lead_s),
                    format_lead(new.p10_lead_s),
                    format_ratio(old.far),
                    format_ratio(new.far),
                )
            )
    return out


def rich_gain_table(before: Score, after: Score, title: str) -> Any:
    """``lead_gain`` as a rich Table for the console."""
    from rich.table import Table

    t = Table(
        title=title, box=None, pad_edge=False, title_justify="left", header_style="bold underline"
    )
    heads = (
        "hazard",
        "level",
        "lead med before",
        "after",
        "gain",
        "lead p10 before",
        "after",
        "FAR before",
        "after",
    )
    for i, h in enumerate(heads):
        t.add_column(h, justify="left" if i < 2 else "right", no_wrap=True)
    for cells in lead_gain(before, after):
        t.add_row(*cells)
    return t
