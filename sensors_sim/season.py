"""A long history to train nowcasts on: a flood season of random storms over the network.

``season(days, seed)`` builds a scenario: storms arrive about every 4 days, each with a peak
intensity, duration and track drawn from the seed (gauges get the storm scaled and lagged as it
passes), and the water-level stations answer their basins' rain as in the typhoon scenario, in
the lake and the reservoir draining between storms, so that a season does not fill them for
ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from sensors_sim.events import Level, Rain
from sensors_sim.network import huzhou
from sensors_sim.scenario import Scenario

#: Water-level stations: (sensor, base level m, basin gauges, gain, lag h, mode, recession h);
#: as in the typhoon scenario, with the lake and the reservoir draining between storms.
STATIONS = (
    ("wl-wx-01", 3.90, ("rg-aj-01", "rg-aj-02", "rg-dq-01", "rg-wx-02"), 0.042, 3.0, "flow", None),
    (
        "wl-wx-02",
        3.40,
        (
            "rg-aj-01",
            "rg-aj-02",
            "rg-dq-01",
            "rg-dq-02",
            "rg-wx-01",
            "rg-wx-02",
            "rg-cx-01",
            "rg-nx-01",
        ),
        0.0019,
        6.0,
        "storage",
        96.0,
    ),
    ("rs-aj-01", 127.20, ("rg-aj-01",), 0.003, 1.0, "storage", 48.0),
)
GAUGES = (
    "rg-aj-01",
    "rg-aj-02",
    "rg-dq-01",
    "rg-dq-02",
    "rg-wx-01",
    "rg-wx-02",
    "rg-cx-01",
    "rg-nx-01",
    "ws-wx-01",
)


def season(days: int = 92, seed: int = 2026, start: str = "2026-06-01T00:00:00+08:00") -> Scenario:
    """Return a ``days``-long scenario of random storms (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    events: list = []
    t = float(rng.uniform(6, 48))
    while t < days * 24 - 12:
        peak = float(np.clip(rng.lognormal(np.log(14.0), 0.6), 3.0, 70.0))
        dur = float(rng.uniform(6, 36))
        profile = (
            (t, 0.0),
            (t + 0.3 * dur, 0.5 * peak),
            (t + 0.5 * dur, peak),
            (t + 0.7 * dur, 0.4 * peak),
            (t + dur, 0.0),
        )
        for gauge in GAUGES:
            events.append(
                Rain(
                    sensors=(gauge,),
                    profile=profile,
                    scale=float(rng.uniform(0.3, 1.1)),
                    lag_h=float(rng.uniform(0.0, 2.0)),
                )
            )
        t += dur + float(rng.exponential(72.0)) + 6.0
    for sensor, base, basin, gain, lag, mode, recession in STATIONS:
        events.append(
            Level(
                sensor=sensor,
                base_m=base,
                driven_by=basin,
                gain_m=gain,
                lag_h=lag,
                mode=mode,
                recession_h=recession,
            )
        )
    begin = datetime.fromisoformat(start).astimezone(ZoneInfo("Asia/Shanghai"))
    return Scenario(
        f"season-{days}d",
        f"{days} days of random storms (seed {seed})",
        huzhou(),
        begin,
        timedelta(days=days),
        timedelta(minutes=5),
        seed,
        tuple(events),
    )
