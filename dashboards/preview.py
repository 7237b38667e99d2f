"""Draw a static PNG of the situation overview from the dashboard's own InfluxQL queries.

Grafana is not needed: the queries are read from ``dashboards/json/overview.json``, run
against InfluxDB with every variable set to "All", and drawn with matplotlib (a test extra,
not a runtime dependency)::

    python -m dashboards.preview --influx-url http://127.0.0.1:8086 --database hazard
        --from 2026-07-05T12:00:00+08:00 --to 2026-07-05T18:00:00+08:00
        --output docs/situation_overview.png      (one line)
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: make ``dashboards`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboards.grafana import LEVELS  # noqa: E402
from dashboards.interpolate import interpolate  # noqa: E402
from dashboards.runner import InfluxQL, resolve_variables, tag_values  # noqa: E402

HERE = Path(__file__).resolve().parent
OVERVIEW = HERE / "json" / "overview.json"
GAZETTEER = HERE / "gazetteer" / "hazard-sensors.json"
# Grafana's dark theme, roughly.
BACKGROUND, PANEL, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
COLOURS = {
    "green": "#73bf69",
    "blue": "#5794f2",
    "yellow": "#fade2a",
    "orange": "#ff9830",
    "red": "#f2495c",
    "grey": "#8e8e8e",
}
LEVEL_HEX = {code: COLOURS[colour] for code, _, colour in LEVELS}
LEVEL_NAME = {code: name for code, name, _ in LEVELS}


def _panel(board: dict[str, Any], title: str) -> dict[str, Any]:
    return next(p for p in board["panels"] if p["title"] == title)


class Overview:
    """The overview's panels' data for one time range."""

    def __init__(self, client: InfluxQL, start_ms: int, end_ms: int, board_path: Path = OVERVIEW):
        self.client = client
        self.board = json.loads(board_path.read_text(encoding="utf-8"))
        self.start_ms, self.end_ms = start_ms, end_ms
        self.variables = resolve_variables(self.board, tag_values(client), start_ms, end_ms)

    def rows(self, title: str, ref: str = "A") -> list[dict[str, Any]]:
        """The rows of one panel's query."""
        target = next(t for t in _panel(self.board, title)["targets"] if t["refId"] == ref)
        q = interpolate(target["query"], self.variables, self.start_ms, self.end_ms)
        return self.client.rows(q)

    def targets(self, title: str) -> list[str]:
        """A panel's refIds."""
        return [t["refId"] for t in _panel(self.board, title)["targets"]]


def _style(ax: Any, title: str) -> None:
    ax.set_facecolor(PANEL)
    ax.set_title(title, color=TEXT, loc="left", fontsize=11, pad=8)
    ax.tick_params(colors=TEXT, labelsize=8)
    for spine in ax.spines.values():
        spine.set_color(GRID)


def _counts(fig: Any, grid: Any, data: Overview) -> None:
    title = "Active warnings by level"
    counts = {}
    for ref in data.targets(title):
        for row in data.rows(title, ref):
            counts.update({k: v for k, v in row.items() if k != "time"})
    for i, (code, name, _) in enumerate(reversed(LEVELS[1:])):
        ax = fig.add_subplot(grid[0, i])
        ax.set_facecolor(LEVEL_HEX[code])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.text(
            0.5,
            0.55,
            str(int(counts.get(name, 0))),
            ha="center",
            va="center",
            fontsize=26,
            color="#111217",
            weight="bold",
            transform=ax.transAxes,
        )
        ax.text(
            0.5,
            0.15,
            name,
            ha="center",
            va="center",
            fontsize=10,
            color="#111217",
            transform=ax.transAxes,
        )
        if i == 0:
            ax.set_title(title, color=TEXT, loc="left", fontsize=11, pad=8)


def _map(ax: Any, data: Overview, gazetteer: list[dict[str, Any]]) -> None:
    title = "Sensors by worst active warning level"
    _style(ax, title + " (preview: no base map)")
    places = {g["key"]: g for g in gazetteer}
    ax.scatter(
        [g["longitude"] for g in gazetteer],
        [g["latitude"] for g in gazetteer],
        s=14,
        color=COLOURS["grey"],
        zorder=2,
    )
    labelled: list[tuple[float, float]] = []
    # The worst on top where markers overlap.
    for row in sorted(data.rows(title), key=lambda r: r["level_code"]):
        place = places.get(row["subject"])
        if place is None:
            continue
        x, y = place["longitude"], place["latitude"]
        code = int(row["level_code"])
        ax.scatter(x, y, s=140, color=LEVEL_HEX[code], edgecolors="#111217", zorder=3)
        # A label under the marker when another one already sits just above it.
        crowded = any(abs(x - a) < 0.08 and abs(y - b) < 0.03 for a, b in labelled)
        labelled.append((x, y))
        ax.annotate(
            row["subject"],
            (x, y),
            textcoords="offset points",
            xytext=(0, -16 if crowded else 9),
            ha="center",
            fontsize=7,
            color=TEXT,
            zorder=4,
        )
    ax.set_xlabel("longitude", color=TEXT, fontsize=8)
    ax.set_ylabel("latitude", color=TEXT, fontsize=8)
    ax.grid(color=GRID, linewidth=0.5)
    ax.set_aspect(1 / 0.86)  # roughly equal distances at 30.8 N


def _regions(ax: Any, data: Overview) -> None:
    title = "Regions ranked by risk"
    _style(ax, title)
    rows = sorted(data.rows(title), key=lambda r: r["risk"])
    ax.barh(
        [r["region"] for r in rows],
        [r["risk"] for r in rows],
        color=[LEVEL_HEX[int(r["worst"])] for r in rows],
    )
    for i, r in enumerate(rows):
        ax.text(
            r["risk"],
            i,
            f"  {r['risk']:.0f} ({r['active']:.0f} active)",
            va="center",
            color=TEXT,
            fontsize=8,
        )
    ax.set_xlabel("sum of active level codes (colour: worst level)", color=TEXT, fontsize=8)
    ax.margins(x=0.35)


def _by_hazard(ax: Any, data: Overview) -> None:
    title = "Active warnings by hazard and level"
    _style(ax, title)
    table: dict[str, dict[str, float]] = {}
    for ref in data.targets(title):
        for row in data.rows(title, ref):
            level = next(k for k in row if k not in ("time", "hazard"))
            table.setdefault(row["hazard"], {})[level] = row[level]
    hazards = sorted(table)
    left = [0.0] * len(hazards)
    for code, name, _ in reversed(LEVELS[1:]):
        widths = [table[h].get(name, 0) for h in hazards]
        ax.barh(hazards, widths, left=left, color=LEVEL_HEX[code], label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.legend(
        facecolor=PANEL, labelcolor=TEXT, fontsize=8, frameon=False, ncols=4, loc="lower right"
    )


def _events(ax: Any, data: Overview, timezone: str) -> None:
    title = "Latest warning events"
    _style(ax, title)
    ax.set_xticks([])
    ax.set_yticks([])
    tz = ZoneInfo(timezone)
    for i, row in enumerate(data.rows(title)[:14]):
        when = datetime.fromtimestamp(row["time"] / 1000, tz).strftime("%m-%d %H:%M")
        code = int(row["level_code"])
        colour = LEVEL_HEX[code] if row["event"] != "cleared" else COLOURS["green"]
        y = 0.95 - i * 0.068
        ax.text(0.01, y, when, color=TEXT, fontsize=8, transform=ax.transAxes, va="top")
        ax.text(
            0.13,
            y,
            f"{row['event']:<11} {LEVEL_NAME[code]:<6}",
            color=colour,
            fontsize=8,
            transform=ax.transAxes,
            va="top",
            family="monospace",
        )
        ax.text(
            0.38,
            y,
            f"{row['hazard']} {row['subject']} ({row['region']})",
            color=TEXT,
            fontsize=8,
            transform=ax.transAxes,
            va="top",
        )


def render(
    data: Overview, output: Path, timezone: str = "Asia/Shanghai", gazetteer_path: Path = GAZETTEER
) -> Path:
    """Draw the overview to a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gazetteer = json.loads(gazetteer_path.read_text(encoding="utf-8"))
    fig = plt.figure(figsize=(16, 11), facecolor=BACKGROUND, dpi=100)
    grid = fig.add_gridspec(
        3,
        4,
        height_ratios=[1, 4.2, 3.2],
        hspace=0.35,
        wspace=0.3,
        left=0.05,
        right=0.98,
        top=0.92,
        bottom=0.05,
    )
    tz = ZoneInfo(timezone)
    span = " to ".join(
        datetime.fromtimestamp(t / 1000, tz).strftime("%Y-%m-%d %H:%M")
        for t in (data.start_ms, data.end_ms)
    )
    fig.suptitle(
        f"{data.board['title']}   {span} ({timezone})   static preview, not Grafana",
        color=TEXT,
        fontsize=14,
        x=0.05,
        ha="left",
    )
    _counts(fig, grid, data)
    _map(fig.add_subplot(grid[1, 0:2]), data, gazetteer)
    _regions(fig.add_subplot(grid[1, 2:4]), data)
    _by_hazard(fig.add_subplot(grid[2, 0:2]), data)
    _events(fig.add_subplot(grid[2, 2:4]), data, timezone)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, facecolor=BACKGROUND)
    plt.close(fig)
    return output


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def main(argv: list[str] | None = None) -> int:
    """Render the preview from a running InfluxDB."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--influx-url", default="http://127.0.0.1:8086")
    parser.add_argument("--database", default="hazard")
    parser.add_argument("--from", dest="start", required=True, help="ISO time with offset")
    parser.add_argument("--to", dest="end", required=True, help="ISO time with offset")
    parser.add_argument("--timezone", default="Asia/Shanghai")
    parser.add_argument("--output", type=Path, default=Path("situation_overview.png"))
    args = parser.parse_args(argv)
    data = Overview(InfluxQL(args.influx_url, args.database), _ms(args.start), _ms(args.end))
    print(f"wrote {render(data, args.output, args.timezone)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
