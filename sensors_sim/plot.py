"""Plot a scenario's main series with its labelled hazards and faults (PNG via matplotlib)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sensors_sim.generate import generate
from sensors_sim.labels import labels
from sensors_sim.scenario import Scenario
from sensors_sim.wire import RawPayload

#: The field(s) drawn for each kind; rain is drawn cumulatively, the rest as reported.
MAIN_FIELDS: dict[str, tuple[str, ...]] = {
    "rainfall": ("rain_mm",),
    "reservoir": ("level_m",),
    "slope": ("displacement_mm",),
    "gas": ("lel_pct", "h2s_ppm"),
    "weather": ("temp_c", "rh_pct", "wind_kmh"),
}
COLOURS = {"blue": "#1f5fd6", "yellow": "#e6c200", "orange": "#f07f00", "red": "#d01c1c"}
#: Registry levels drawn as dashed lines on water-level panels.
LEVEL_LINES = ("warning_level_m", "guaranteed_level_m", "historical_max_m", "flood_limit_m")
MAX_PANELS = 8


def _series(scenario: Scenario) -> dict[str, dict[str, list[Any]]]:
    out: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in generate(scenario):
        if isinstance(r, RawPayload):
            continue
        s = out[r["sensor_id"]]
        s["t"].append(datetime.fromisoformat(r["ts"]))
        for k, v in r["values"].items():
            s[k].append(v)
    return out


def _panels(scenario: Scenario, found: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """Return ``(kind, sensor ids)`` per panel: all rain subjects together, others alone."""
    kinds = {s.id: s.kind for s in scenario.network}
    subjects = list(dict.fromkeys(lb["subject"] for lb in found))
    rain = [
        s
        for s in subjects
        if any(lb["subject"] == s and lb.get("hazard") == "rainstorm" for lb in found)
    ]
    panels: list[tuple[str, list[str]]] = [("rainfall", rain)] if rain else []
    panels += [(kinds[s], [s]) for s in subjects if s not in rain]
    if not panels:  # nothing labelled: one sensor of each kind
        seen: dict[str, str] = {}
        for s in scenario.network:
            seen.setdefault(s.kind, s.id)
        panels = [(k, [sid]) for k, sid in seen.items()]
    return panels[:MAX_PANELS]


def plot_scenario(scenario: Scenario, output: str | Path) -> Path:
    """Draw the scenario's main series and labelled events into the PNG file ``output``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    found = labels(scenario)
    data = _series(scenario)
    panels = _panels(scenario, found)
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(11, 2.3 * len(panels) + 0.8), sharex=True, squeeze=False
    )
    for ax, (kind, ids) in zip(axes[:, 0], panels, strict=True):
        curves: dict[str, tuple[list[datetime], list[float]]] = {}
        for sid in ids:
            s = data[sid]
            if kind in ("rainfall",) or (kind == "weather" and len(ids) > 1):
                total, cum = 0.0, []
                for v in s["rain_mm"]:
                    total += v
                    cum.append(total)
                ax.plot(s["t"], cum, lw=1.2, label=f"{sid} cumulative rain (mm)")
                curves[sid] = (s["t"], cum)
            else:
                first, *rest = MAIN_FIELDS[kind]
                ax.plot(s["t"], s[first], lw=1.2, color="k", label=f"{sid} {first}")
                if rest:
                    twin = ax.twinx()
                    for f, c in zip(rest, ("tab:green", "tab:purple"), strict=False):
                        twin.plot(s["t"], s[f], lw=0.8, color=c, label=f)
                    twin.legend(loc="upper right", fontsize=7)
                thresholds = dict(scenario.network.get(sid).thresholds)
                for key in LEVEL_LINES:
                    if key in thresholds:
                        ax.axhline(thresholds[key], ls="--", lw=0.7, color="grey")
                        ax.annotate(key, (s["t"][0], thresholds[key]), fontsize=6, color="grey")
        for lb in found:
            if lb["subject"] not in ids:
                continue
            onset, peak = (datetime.fromisoformat(lb[k]) for k in ("onset", "peak"))
            end = datetime.fromisoformat(lb["end"])
            if lb["type"] == "fault":
                ax.axvspan(onset, end, color="grey", alpha=0.25)
                ax.annotate(
                    lb["fault"], (onset, 0.9), xycoords=("data", "axes fraction"), fontsize=7
                )
                continue
            colour = COLOURS[lb["level"]]
            if len(ids) > 1:  # many gauges in one panel: mark onset and peak on each curve
                times, cum = curves[lb["subject"]]
                marks = ((onset, lb["onset_level"], "o"), (peak, lb["level"], "^"))
                for when, lvl, marker in marks:
                    y = cum[times.index(when)]
                    ax.plot([when], [y], marker=marker, color=COLOURS[lvl], mec="k", ms=6)
                continue
            ax.axvspan(onset, end, color=colour, alpha=0.06)
            ax.axvline(onset, color=COLOURS[lb["onset_level"]], lw=0.8)
            ax.axvline(peak, color=colour, lw=1.4, ls=":")
            if len(ids) == 1:
                ax.annotate(
                    f"{lb['hazard']} {lb['onset_level']}->{lb['level']}",
                    (onset, 0.05),
                    xycoords=("data", "axes fraction"),
                    fontsize=7,
                )
        ax.set_ylabel(kind, fontsize=8)
        ax.legend(loc="upper left", fontsize=7, ncol=3)
        ax.grid(alpha=0.3)
    fig.suptitle(
        f"{scenario.name}: {scenario.description}\n"
        "onset: solid line / circle (colour = onset level); peak: dotted line / triangle"
        " (colour = peak level); shaded: onset..end; grey band: fault",
        fontsize=9,
    )
    fig.autofmt_xdate()
    fig.tight_layout()
    path = Path(output)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
