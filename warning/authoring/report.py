"""A self-contained HTML report of a scored backtest: the score table and a plot per episode.

Plots are drawn with matplotlib (Agg) to PNG and embedded as base64, so the report is one file.
Each plot shows the subject's readings from the input, registry thresholds for the plotted field
(keys ending in ``_<field>``, e.g. ``warning_level_m`` for ``level_m``), the warning as bands
coloured by level, and the labels' onset, peak and end as vertical lines.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from warning.authoring.score import (
    INF,
    TABLE_HEADER,
    Label,
    LabelOutcome,
    Score,
    WarnedEpisode,
    episodes,
    table_rows,
)
from warning.records import LEVEL_NAMES

COLOURS = {"blue": "#2f6fdf", "yellow": "#f2c618", "orange": "#f28c18", "red": "#d62828"}
MARGIN_MS = 2 * 3_600_000


@dataclass(frozen=True)
class Panel:
    """What one plot shows: a subject over a time span, its episodes and labels."""

    title: str
    subject: str
    start_ms: float
    end_ms: float
    episodes: tuple[WarnedEpisode, ...]
    labels: tuple[Label, ...]
    verdict: str
    data_end_ms: float = INF  # an active episode's band stops here
    value_names: frozenset[str] = frozenset()  # the episode's event values: fields shown first


def panels(
    result: Score, events: Iterable[Mapping[str, Any]], data_end_ms: float | None
) -> list[Panel]:
    """One panel per episode (time order), then one per missed label that no episode touched."""
    out = []
    labels = [o.label for o in result.outcomes]
    hit_by: dict[str, list[LabelOutcome]] = {}
    for o in result.outcomes:
        for wid in o.episodes:
            hit_by.setdefault(wid, []).append(o)
    false_ids = {e.warning_id for e in result.false_alarms}
    tol = result.tolerance_ms
    names: dict[str, set[str]] = {}
    for e in events:
        names.setdefault(e["warning_id"], set()).update(e.get("values") or {})
    for ep in episodes(events):
        mine = tuple(
            lb
            for lb in labels
            if lb.subject == ep.subject
            and lb.hazard == ep.hazard
            and ep.start <= lb.end
            and ep.cleared >= lb.onset - tol
        )
        end = ep.cleared if ep.cleared != INF else (data_end_ms or ep.steps[-1][0])
        times = [ep.start, end, *(lb.onset for lb in mine), *(lb.end for lb in mine)]
        if ep.cleared == INF:
            verdict_end = "; still active at the end of the data"
        else:
            verdict_end = ""
        if ep.warning_id in false_ids:
            verdict = "false alarm"
        elif ep.hazard not in result.rows:
            verdict = "not scored (no labels for this hazard)"
        else:
            verdict = "; ".join(_verdict(ep, o, tol) for o in hit_by.get(ep.warning_id, []))
        right = max(times) + MARGIN_MS
        if data_end_ms is not None:  # not far past the data
            right = max(min(right, data_end_ms + MARGIN_MS / 8), max(times))
        out.append(
            Panel(
                f"{ep.warning_id}  ({ep.hazard}, peak {LEVEL_NAMES[ep.peak - 1]})",
                ep.subject,
                min(times) - MARGIN_MS,
                right,
                (ep,),
                mine,
                verdict + verdict_end,
                data_end_ms or INF,
                frozenset(names.get(ep.warning_id, ())),
            )
        )
    out.sort(key=lambda p: p.episodes[0].hazard not in result.rows)  # scored ones first
    for o in result.outcomes:
        if not o.hit and not o.episodes:
            lb = o.label
            out.append(
                Panel(
                    f"missed: {lb.hazard} {LEVEL_NAMES[lb.level - 1]} label on {lb.subject}",
                    lb.subject,
                    lb.onset - tol - MARGIN_MS,
                    lb.end + MARGIN_MS,
                    (),
                    (lb,),
                    "miss (no warning)",
                )
            )
    return out


def _verdict(ep: WarnedEpisode, o: Any, tolerance_ms: int) -> str:
    """What this episode did for a label it overlaps."""
    from warning.authoring.score import _first_cover

    lb = o.label
    name = LEVEL_NAMES[lb.level - 1]
    a = "an" if name == "orange" else "a"
    mine = _first_cover([ep], lb.level, lb.onset - tolerance_ms, lb.end)
    if mine is not None:
        return f"{name} label hit by this warning, lead {_lead(lb.onset - mine)}"
    if o.hit:
        return (
            f"overlaps {a} {name} label hit by another warning (lead {_lead(o.lead_ms)}); "
            f"this one stayed below {name}"
        )
    return f"overlaps {a} {name} label but stays below its level: the label is a miss"


def _ordered_fields(series: Mapping[str, Any], hints: frozenset[str]) -> list[str]:
    """Fields the episode's values name first (``rain_mm`` for ``rain_24h_mm``), then others.

    >>> _ordered_fields({"h2s_ppm": 0, "lel_pct": 0, "o2_pct": 0}, frozenset({"lel_pct"}))
    ['lel_pct', 'h2s_ppm', 'o2_pct']
    >>> _ordered_fields({"level_m": 0, "inflow_m3s": 0}, frozenset({"rise_m_per_h"}))
    ['inflow_m3s', 'level_m']
    """

    def named(field: str) -> bool:
        stem = field.rsplit("_", 1)[0]
        return any(h == field or h.startswith(stem + "_") for h in hints)

    return sorted(series, key=lambda f: (not named(f), f))


def _broken(points: Sequence[tuple[int, float]], dt: Any) -> tuple[list, list]:
    """Plot coordinates with a gap (NaN) where readings stop for over 3 typical intervals."""
    steps = sorted(b[0] - a[0] for a, b in zip(points, points[1:], strict=False))
    typical = steps[len(steps) // 2] if steps else 0
    xs, ys = [], []
    for i, (t, v) in enumerate(points):
        if i and typical and t - points[i - 1][0] > 3 * typical:
            xs.append(dt(t - typical))  # the step up to t covers only its own interval
            ys.append(float("nan"))
        xs.append(dt(t))
        ys.append(v)
    return xs, ys


def _lead(ms: int | None) -> str:
    from warning.authoring.score import format_lead

    return format_lead(ms / 1000 if ms is not None else None)


def plot_panel(
    panel: Panel,
    series: Mapping[str, Sequence[tuple[int, float]]],
    registry_entry: Mapping[str, Any],
    tz: tzinfo,
) -> bytes:
    """Draw one panel: up to three fields, thresholds, warning spans and labels; PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    def dt(ms: float) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz)

    fields = [
        f
        for f in _ordered_fields(series, panel.value_names)
        if any(panel.start_ms <= t <= panel.end_ms for t, _ in series[f])
    ][:3] or [""]
    fig, axes = plt.subplots(
        len(fields), 1, figsize=(11, 2.2 + 1.6 * len(fields)), sharex=True, squeeze=False
    )
    for ax, name in zip(axes[:, 0], fields, strict=True):
        points = [(t, v) for t, v in series.get(name, ()) if panel.start_ms <= t <= panel.end_ms]
        _plot_field(ax, name, points, dt)
        _plot_thresholds(ax, name, registry_entry)
        _plot_warnings(ax, panel, dt)
        ax.grid(alpha=0.3)
    _annotate_moments(axes[0, 0], panel, dt)
    bottom = axes[-1, 0]
    bottom.set_xlim(dt(panel.start_ms), dt(panel.end_ms))
    bottom.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=tz))
    fig.suptitle(f"{panel.title}\n{panel.verdict}", fontsize=10, x=0.01, ha="left")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def _plot_field(
    ax: Any, name: str, points: list[tuple[int, float]], dt: Callable[[float], datetime]
) -> None:
    """One field's readings; rain also as its running total, on a second axis."""
    if not points:
        ax.text(
            0.5,
            0.5,
            "no readings from this sensor in this span",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="#666",
        )
        return
    xs, ys = [dt(t) for t, _ in points], [v for _, v in points]
    ax.plot(*_broken(points, dt), color="#222", lw=1.2, drawstyle="steps-pre")
    ax.set_ylabel(name)
    low, high = min(ys), max(ys)
    if low >= 0 and (low <= 0.25 * high or low == high):  # amounts from zero
        ax.set_ylim(0, max(ys) * 1.15 or 1)
    elif low == high:  # levels: their own range
        ax.set_ylim(low - 1, high + 1)
    if "rain" in name:  # amounts per report: their running total tells the story
        total, sums = 0.0, []
        for v in ys:
            total += v
            sums.append(total)
        twin = ax.twinx()
        twin.plot(xs, sums, color="#0b7", lw=1.4)
        twin.set_ylabel(f"{name}, total in view", color="#0b7")
        twin.set_ylim(0, max(sums) * 1.15 or 1)


def _plot_thresholds(ax: Any, name: str, registry_entry: Mapping[str, Any]) -> None:
    """The sensor's own levels for this field (``warning_level_m`` for ``level_m``...)."""
    for key, value in sorted(registry_entry.items()):
        if name and key.endswith("_" + name) and isinstance(value, int | float):
            ax.axhline(value, color="#555", lw=0.8, ls=(0, (6, 3)))
            ax.annotate(
                key,
                (1, value),
                xycoords=("axes fraction", "data"),
                fontsize=7,
                ha="right",
                va="bottom",
                color="#555",
            )


def _plot_warnings(ax: Any, panel: Panel, dt: Callable[[float], datetime]) -> None:
    """Warning levels as coloured spans; labelled onset, peak and end as vertical lines."""
    for ep in panel.episodes:
        end = min(ep.cleared, panel.end_ms, panel.data_end_ms)
        for i, (ts, level) in enumerate(ep.steps):
            to = ep.steps[i + 1][0] if i + 1 < len(ep.steps) else end
            ax.axvspan(dt(ts), dt(to), color=COLOURS[LEVEL_NAMES[level - 1]], alpha=0.35, lw=0)
    for lb in panel.labels:
        colour = COLOURS[LEVEL_NAMES[lb.level - 1]]
        ax.axvline(dt(lb.onset), color=colour, lw=1.8, ls="--")
        ax.axvline(dt(lb.end), color=colour, lw=1.8, ls=":")
        if lb.peak is not None:
            ax.axvline(dt(lb.peak), color=colour, lw=1, ls="-.")


def _annotate_moments(top: Any, panel: Panel, dt: Callable[[float], datetime]) -> None:
    """Name the labelled moments and each warning step on the top plot."""
    ymax = top.get_ylim()[1]
    for lb in panel.labels:
        for ms, text in ((lb.onset, "onset"), (lb.peak, "peak"), (lb.end, "end")):
            if ms is not None:
                top.annotate(
                    f"{text} ({LEVEL_NAMES[lb.level - 1]})",
                    (dt(ms), ymax),
                    rotation=90,
                    fontsize=8,
                    ha="right",
                    va="top",
                    xytext=(-2, -2),
                    textcoords="offset points",
                )
    for ep in panel.episodes:
        for ts, level in ep.steps:
            top.annotate(
                LEVEL_NAMES[level - 1],
                (dt(ts), top.get_ylim()[0]),
                fontsize=7,
                xytext=(2, 2),
                textcoords="offset points",
                color="#333",
            )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 20px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;white-space:nowrap}
table.num td:nth-child(n+3),table.num th:nth-child(n+3){text-align:right}
thead{background:#f2f2f2} h2{margin-top:28px} .note{color:#555;font-size:13px}
figure{margin:16px 0;border-top:1px solid #ddd;padding-top:8px} img{max-width:100%}
"""


def render_html(
    result: Score, figures: Sequence[tuple[Panel, bytes]], tz: tzinfo, source: str
) -> str:
    """The report as one HTML document."""

    def local(ms: float) -> str:
        return datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")

    label_rows = [
        (
            o.label.hazard,
            o.label.subject,
            LEVEL_NAMES[o.label.level - 1],
            local(o.label.onset),
            local(o.label.end),
            "hit" if o.hit else "miss",
            local(o.warned_ms) if o.warned_ms is not None else "-",
            _lead(o.lead_ms),
            ", ".join(o.episodes) or "-",
        )
        for o in result.outcomes
    ]
    fa_rows = [
        (e.hazard, e.subject, e.warning_id, local(e.start), LEVEL_NAMES[e.peak - 1])
        for e in result.false_alarms
    ]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Backtest report</title>",
        f"<style>{CSS}</style></head><body><h1>Backtest report</h1>",
        f"<p class='note'>Readings: {html.escape(source)}. Tolerance "
        f"{_lead(result.tolerance_ms)[1:]} before onset. Rows <i>&gt;=level</i> count labels "
        "and warnings of at least that level; lead = onset - warning time (negative: late). "
        "FA: false alarms.</p>",
        "<h2>Scores</h2>",
        _table(TABLE_HEADER, table_rows(result), "num"),
    ]
    if result.unlabelled:
        parts.append(
            "<p class='note'>Not scored (no labels): "
            + html.escape(
                ", ".join(f"{h} ({n} episodes)" for h, n in sorted(result.unlabelled.items()))
            )
            + "</p>"
        )
    parts += [
        "<h2>Labels</h2>",
        _table(
            ("hazard", "subject", "level", "onset", "end", "outcome", "warned", "lead", "episodes"),
            label_rows,
        ),
    ]
    if fa_rows:
        parts += [
            "<h2>False alarms</h2>",
            _table(("hazard", "subject", "warning id", "raised", "peak"), fa_rows),
        ]
    parts.append(
        "<h2>Episodes</h2><p class='note'>Bands: warning level in force; dashed line: "
        "labelled onset, dotted: end, dash-dot: peak.</p>"
    )
    for panel, png in figures:
        data = base64.b64encode(png).decode("ascii")
        parts.append(
            f"<figure><img alt='{html.escape(panel.title, quote=True)}' "
            f"src='data:image/png;base64,{data}'><figcaption class='note'>"
            f"{html.escape(panel.title)}: {html.escape(panel.verdict)}</figcaption>"
            "</figure>"
        )
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(
    path: Path, result: Score, events: list[dict[str, Any]], input_path: Path, setup: Any
) -> None:
    """Read the subject's series from ``input_path``, draw every panel, write the HTML file."""
    from warning.authoring.explain import read_readings
    from warning.records import zone

    tz = zone(setup.config.pipeline.timezone)
    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    last = None
    for r in read_readings(input_path, setup.settings):
        for name, value in r.values.items():
            if isinstance(value, int | float):
                series.setdefault(r.sensor_id, {}).setdefault(name, []).append((r.ts, value))
        last = r.ts if last is None else max(last, r.ts)
    registry = setup.settings.registry
    figures = []
    for panel in panels(result, events, last):
        entry = registry.get(panel.subject) or {}
        figures.append((panel, plot_panel(panel, series.get(panel.subject, {}), entry, tz)))
    path.write_text(render_html(result, figures, tz, str(input_path)), encoding="utf-8")
