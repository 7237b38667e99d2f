"""Cost of each indicator, in computations per second, against a window sum in the same run.

    python bench/indicators_bench.py [--seconds 1.0]

Each rule function is timed on a realistic series (5-minute reports; the window its shipped
rule uses), through the same Context the engine evaluates with, against ``sum(field, 3h)``
on the same series as the baseline. The daily FWI step is timed as well.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

from warning.pipeline.daily_fwi import DailyFWI, fwi_step
from warning.records import Reading, zone
from warning.rules.compile import Context, compile_node
from warning.rules.expr import parse
from warning.rules.windows import Series

M = 60_000
H = 60 * M
STEP = 5 * M


def series(fn, hours: int) -> Series:
    s = Series()
    for i in range(hours * 12 + 1):
        s.add(i * STEP, fn(i * STEP / H))
    return s


def rate(expr: str, field: str, s: Series, sensor: dict, seconds: float) -> float:
    f = compile_node(parse(expr))
    now = s.ts[-1]
    n, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(100):
            f(Context({field: s}, sensor, now))  # a fresh context: no cached result
        n += 100
    return n / (time.perf_counter() - started)


def fwi_rate(seconds: float) -> float:
    tz = zone("UTC")
    rain = Series()
    n, day, started = 0, 0, time.perf_counter()
    attrs = {"lat": 30.9}
    while time.perf_counter() - started < seconds:
        st = DailyFWI()
        for day in range(100):
            ts = (20_000 + day) * 86_400_000 + 12 * H
            rain.add(ts, 1.0)
            fwi_step(
                st,
                Reading(
                    "ws", "weather", "r", ts, {"temp_c": 25.0, "rh_pct": 40.0, "wind_kmh": 15.0}
                ),
                rain,
                attrs,
                tz,
            )
        n += 100
    return n / (time.perf_counter() - started)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    a = ap.parse_args()
    rain = series(lambda h: 2.0 + math.sin(h), 24)
    level = series(lambda h: 3.0 + 0.05 * h, 24)
    slope = series(lambda h: 10 * math.log(100 / (100 - h)), 24)
    gas = series(lambda h: 5 + math.sin(h * 7), 8)
    sensor = {"warning_level_m": 4.5, "uniform_velocity_mm_h": 0.1}
    base = rate("sum(rain_mm, 3h)", "rain_mm", rain, sensor, a.seconds)
    cases = [
        ("sum(rain_mm, 12h)", "rain_mm", rain),
        ("rate(level_m, 1h)", "level_m", level),
        ("time_to(level_m, sensor.warning_level_m)", "level_m", level),
        ("id_exceedance(rain_mm, 14.82, -0.39, 24h)", "rain_mm", rain),
        ("failure_in(displacement_mm, 24h)", "displacement_mm", slope),
        (
            "tangent_angle(displacement_mm, sensor.uniform_velocity_mm_h, 6h)",
            "displacement_mm",
            slope,
        ),
        ("stel(h2s_ppm)", "h2s_ppm", gas),
        ("twa(h2s_ppm)", "h2s_ppm", gas),
    ]
    print(f"python {platform.python_version()} on {platform.machine()}; 5-min reports")
    print(f"{'indicator':66} {'per s':>10} {'vs sum(3h)':>10}")
    print(f"{'sum(rain_mm, 3h) [baseline]':66} {base:10,.0f} {1:10.3f}")
    for expr, field, s in cases:
        r = rate(expr, field, s, sensor, a.seconds)
        print(f"{expr:66} {r:10,.0f} {r / base:10.3f}")
    r = fwi_rate(a.seconds)
    print(f"{'daily FWI step (once per station per day)':66} {r:10,.0f} {r / base:10.3f}")


if __name__ == "__main__":
    main()
