"""Ground truth: the hazards and faults a scenario injects, computed from its generated data.

Each label is one JSON object (JSON Lines in files)::

    {"type": "hazard", "hazard": "rainstorm", "subject": "rg-aj-01",
     "onset": "...", "onset_level": "blue", "peak": "...", "level": "red", "end": "...",
     "criterion": "...", "peak_values": {"rain_3h_mm": 131.2}}
    {"type": "fault", "fault": "malformed", "subject": "rg-cx-01",
     "onset": "...", "peak": "...", "end": "...", "level": null, "count": 6}

``onset`` is the first report at which the hazard's lowest level holds, ``peak`` the first
report at its highest level ``level``, ``end`` the last report at which any level holds, and
``reached`` maps each level the episode reached to the first report at or above it (the moment
``backtest --labels`` scores that level's lead time against).
Levels follow DOMAIN.md's criteria applied to the simulated (true, fault-free) values, so the
labels are true by construction; episodes less than ``MERGE_GAP`` apart are one episode.
Fault labels give the first and last report the fault touches and how many messages it made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from sensors_sim import fwi
from sensors_sim.events import MALFORMED, Fault
from sensors_sim.generate import simulate
from sensors_sim.network import Sensor
from sensors_sim.scenario import Scenario

LEVELS = ("blue", "yellow", "orange", "red")
#: Episodes of one hazard at one sensor closer than this are merged (noise at a threshold).
MERGE_GAP = timedelta(hours=1)
#: "Approaching the warning level" is taken as within 0.30 m, as rules/water_level.yaml does.
APPROACH_M = 0.3
#: GB/T 50493-2019 alarm levels (DOMAIN.md): first alarm -> orange, second -> red.
GAS_ALARMS = {"lel_pct": (25.0, 50.0), "h2s_ppm": (7.1, 14.1)}
GAS_HAZARD = {"lel_pct": "gas_leak", "h2s_ppm": "gas_toxic"}

Label = dict[str, Any]


def _window_sum(values: np.ndarray, n: int) -> np.ndarray:
    """Sum of the last ``n`` reports (the window ``(t - w, t]``), at every report."""
    c = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(1, len(values) + 1)
    return np.round(c[idx] - c[np.maximum(idx - n, 0)], 6)


def _reports(hours: float, step_h: float) -> int:
    return max(1, round(hours / step_h))


def rainstorm_levels(rain: np.ndarray, step_h: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """CMA rainstorm signal at each report: 0 none, 1 blue .. 4 red."""
    s3 = _window_sum(rain, _reports(3, step_h))
    s6 = _window_sum(rain, _reports(6, step_h))
    s12 = _window_sum(rain, _reports(12, step_h))
    level = np.select([s3 >= 100, s3 >= 50, s6 >= 50, s12 >= 50], [4, 3, 2, 1], 0)
    return level, {"rain_3h_mm": s3, "rain_6h_mm": s6, "rain_12h_mm": s12}


def flood_levels(sensor: Sensor, level_m: np.ndarray) -> np.ndarray:
    """MWR water-level signal from the station's registry levels: 0 none .. 4 red."""
    t = dict(sensor.thresholds)
    out = np.zeros(len(level_m), dtype=int)
    checks = [
        ("warning_level_m", -APPROACH_M, 1),
        ("warning_level_m", 0.0, 2),
        ("guaranteed_level_m", 0.0, 3),
        ("historical_max_m", 0.0, 4),
    ]
    for key, offset, lvl in checks:
        if key in t:
            out = np.where(level_m >= t[key] + offset - 1e-9, lvl, out)
    return out


def slope_levels(displacement: np.ndarray, step_h: float, uniform_v: float) -> np.ndarray:
    """Tangent-angle class over the last 6 h: yellow > 45, orange >= 80, red >= 85 degrees."""
    n = _reports(6, step_h)
    v = np.full(len(displacement), np.nan)
    v[n:] = (displacement[n:] - displacement[:-n]) / (n * step_h)
    angle = np.degrees(np.arctan(np.nan_to_num(v, nan=0.0) / uniform_v))
    return np.select([angle >= 85, angle >= 80, angle > 45], [4, 3, 2], 0)


def fire_levels(
    scenario: Scenario, sensor: Sensor, values: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Daily FWI class (0 none, 1 blue .. 4 red) held from each noon to the next, and the FWI.

    The day's weather is the first report at or after 12:00 local time (within 3 h); its rain
    is the sum of the reports of the 24 h ending then. Codes start at the start-up values.
    """
    zone = ZoneInfo(sensor.tz)
    step_h = scenario.interval.total_seconds() / 3600.0
    rain24 = _window_sum(values["rain_mm"], _reports(24, step_h))
    level = np.zeros(scenario.steps, dtype=int)
    shown = np.zeros(scenario.steps)
    codes, done, current, value = fwi.Codes(), set(), 0, 0.0
    for i in range(scenario.steps):
        local = (scenario.start + (i + 1) * scenario.interval).astimezone(zone)
        if 12 <= local.hour < 15 and local.date() not in done:
            done.add(local.date())
            codes, out = fwi.daily(
                codes,
                float(values["temp_c"][i]),
                float(values["rh_pct"][i]),
                float(values["wind_kmh"][i]),
                float(rain24[i]),
                local.month,
            )
            current, value = fwi.danger_class(out["fwi"]), out["fwi"]
        level[i], shown[i] = current, value
    return level, shown


def _episodes(level: np.ndarray, step_h: float) -> Iterator[tuple[int, int]]:
    """Yield ``(first, last)`` report indices of runs with level > 0, merging short gaps."""
    gap = _reports(MERGE_GAP.total_seconds() / 3600, step_h)
    on = np.flatnonzero(level > 0)
    if len(on) == 0:
        return
    start = prev = int(on[0])
    for i in on[1:]:
        if i - prev > gap:
            yield start, prev
            start = i
        prev = int(i)
    yield start, prev


def _stamp(scenario: Scenario, sensor: Sensor, i: int) -> str:
    when = scenario.start + (i + 1) * scenario.interval
    return when.astimezone(ZoneInfo(sensor.tz)).isoformat(timespec="seconds")


def _hazard_labels(
    scenario: Scenario,
    sensor: Sensor,
    hazard: str,
    level: np.ndarray,
    criterion: str,
    shown: dict[str, np.ndarray],
    what: str | None = None,
) -> Iterator[Label]:
    """Yield one label per episode of ``level``.

    ``hazard`` is the name the shipped rules use; ``what`` names the criterion where one
    hazard has several (water level and flood limit are both floods).
    """
    step_h = scenario.interval.total_seconds() / 3600.0
    for first, last in _episodes(level, step_h):
        part = level[first : last + 1]
        peak = first + int(np.argmax(part))
        yield {
            "type": "hazard",
            "hazard": hazard,
            "what": what or hazard,
            "subject": sensor.id,
            "onset": _stamp(scenario, sensor, first),
            "onset_level": LEVELS[int(level[first]) - 1],
            "peak": _stamp(scenario, sensor, peak),
            "level": LEVELS[int(level[peak]) - 1],
            "end": _stamp(scenario, sensor, last),
            "reached": {
                LEVELS[n - 1]: _stamp(scenario, sensor, first + int(np.argmax(part >= n)))
                for n in range(1, int(level[peak]) + 1)
                if (part >= n).any()
            },
            "criterion": criterion,
            "peak_values": {k: round(float(v[peak]), 3) for k, v in shown.items()},
        }


def _sensor_hazards(scenario: Scenario, sensor: Sensor, values: dict[str, np.ndarray]):
    step_h = scenario.interval.total_seconds() / 3600.0
    if "rain_mm" in values:
        level, sums = rainstorm_levels(values["rain_mm"], step_h)
        yield from _hazard_labels(
            scenario,
            sensor,
            "rainstorm",
            level,
            "CMA: blue 12h>=50, yellow 6h>=50, orange 3h>=50, red 3h>=100 mm",
            sums,
        )
    thresholds = dict(sensor.thresholds)
    if sensor.kind == "reservoir":
        lv = values["level_m"]
        yield from _hazard_labels(
            scenario,
            sensor,
            "flood",
            flood_levels(sensor, lv),
            f"MWR: blue >= warning-{APPROACH_M}, yellow >= warning, orange >= guaranteed, "
            "red >= historical max",
            {"level_m": lv},
            "water_level",
        )
        if "flood_limit_m" in thresholds:
            over = np.where(lv > thresholds["flood_limit_m"] + 1e-9, 2, 0)
            yield from _hazard_labels(
                scenario,
                sensor,
                "flood",
                over,
                "level above flood-limit level (yellow)",
                {"level_m": lv},
                "flood_limit",
            )
    if sensor.kind == "slope" and "uniform_velocity_mm_h" in thresholds:
        d = values["displacement_mm"]
        yield from _hazard_labels(
            scenario,
            sensor,
            "landslide",
            slope_levels(d, step_h, thresholds["uniform_velocity_mm_h"]),
            "tangent angle over 6 h: yellow > 45, orange >= 80, red >= 85 deg",
            {"displacement_mm": d},
            "slope_acceleration",
        )
    if sensor.kind == "weather":
        level, fwi_values = fire_levels(scenario, sensor, values)
        yield from _hazard_labels(
            scenario,
            sensor,
            "forest_fire",
            level,
            "daily FWI from the noon reading (Van Wagner 1987), EFFIS classes: blue moderate "
            ">= 11.2, yellow high >= 21.3, orange very high >= 38, red extreme >= 50",
            {"fwi": fwi_values},
        )
    if sensor.kind == "gas":
        for field, (first, second) in GAS_ALARMS.items():
            if field in values:
                v = values[field]
                lvl = np.select([v >= second, v >= first], [4, 3], 0)
                yield from _hazard_labels(
                    scenario,
                    sensor,
                    GAS_HAZARD[field],
                    lvl,
                    f"GB/T 50493: {field} first alarm {first} (orange), second {second} (red)",
                    {field: v},
                )


def _fault_label(scenario: Scenario, sensor: Sensor, fault: Fault) -> Label | None:
    step_h = scenario.interval.total_seconds() / 3600.0
    hit = [i for i in range(scenario.steps) if fault.start_h <= (i + 1) * step_h < fault.end_h]
    if not hit:
        return None
    first, last = hit[0], hit[-1]
    if fault.fault == "spike":
        last = first
    count = {"spike": 1, "duplicate": 2 * len(hit)}.get(fault.fault, len(hit))
    label: Label = {
        "type": "fault",
        "fault": fault.fault,
        "subject": sensor.id,
        "onset": _stamp(scenario, sensor, first),
        "peak": _stamp(scenario, sensor, first),
        "end": _stamp(scenario, sensor, last),
        "level": None,
        "count": count,
    }
    if fault.field:
        label["field"] = fault.field
    if fault.fault in ("spike", "drift"):
        label["magnitude"] = fault.magnitude
    if fault.fault == "clock_skew":
        label["skew_h"] = fault.skew_h
    if fault.fault == "malformed":
        label["variants"] = sorted(MALFORMED)[: min(count, len(MALFORMED))]
    return label


def labels(scenario: Scenario) -> list[Label]:
    """Return the scenario's hazard and fault labels, ordered by onset, then subject."""
    true = simulate(scenario)
    out: list[Label] = []
    for sensor in scenario.network:
        out.extend(_sensor_hazards(scenario, sensor, true[sensor.id]))
        for event in scenario.events:
            if isinstance(event, Fault) and event.sensor == sensor.id:
                label = _fault_label(scenario, sensor, event)
                if label is not None:
                    out.append(label)
    key: Callable[[Label], tuple[datetime, str, str]] = lambda lb: (  # noqa: E731
        datetime.fromisoformat(lb["onset"]),
        lb["subject"],
        lb.get("hazard") or lb["fault"],
    )
    return sorted(out, key=key)
