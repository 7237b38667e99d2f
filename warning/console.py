"""Printing tables on the console for people to read."""

from __future__ import annotations

from typing import Any

from rich.console import Console


def print_tables(*tables: Any) -> None:
    """Print rich tables whole: wider than the terminal if need be, never with cut cells.

    Rich fits a table to the console (80 columns when output is not a terminal) by cutting
    or folding cells, so a FAR of 0.83 printed as "0.…" and a warning id over five lines.
    """
    console = Console()
    unbounded = console.options.update_width(10_000)
    need = max(console.measure(t, options=unbounded).maximum for t in tables)
    if need > console.width:
        console = Console(width=need)
    for t in tables:
        console.print(t)
