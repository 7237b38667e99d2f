"""Cost of the I-D rain event per reading on long events: numpy against the plain loop, same run.

    python bench/rain_event_bench.py [--hours 36]

A gauge drizzles (two reports in three wet) for ``--hours``, so from the 24th hour on the
event fills the whole 24 h window of ``id_exceedance``. For 1-minute and 5-minute reports, and
for each way of reading the event's wet reports (numpy from 32 reports in its span, the
shipped setting; the plain loop for every span, what it replaced), the bench times
``RainEvent.rain`` + ``Rain.ratio`` after ``RainEvent.update`` on every reading from the 24th
hour on, checks that both ways give the same ratio bit for bit, and prints us per reading and
the loop's cost over numpy's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent))

from warning.rules import rainevent  # noqa: E402
from warning.rules.functions import ID_DRY_GAP_MS, H  # noqa: E402
from warning.rules.rainevent import RainEvent  # noqa: E402
from warning.rules.windows import Series  # noqa: E402

M = 60_000


def run(step_min: int, hours: float, span: int) -> tuple[float, list[float | None]]:
    """Return us per reading of rain() + ratio() once the event fills the window, and the ratios."""
    s, event = Series(), RainEvent(24 * H, ID_DRY_GAP_MS)
    saved, rainevent._NUMPY_SPAN = rainevent._NUMPY_SPAN, span
    took, timed, ratios = 0.0, 0, []
    try:
        for k in range(int(hours * 60 // step_min)):
            now = k * step_min * M
            s.add(now, 0.2 if k % 3 else 0.0)
            event.update(s, now)
            t0 = time.perf_counter()
            rain = event.rain(s, now)
            ratio = rain.ratio(now, 14.82, -0.39) if rain is not None else None
            dt = time.perf_counter() - t0
            if now >= 24 * H:  # the event fills the window
                took, timed = took + dt, timed + 1
                ratios.append(ratio)
    finally:
        rainevent._NUMPY_SPAN = saved
    return took / timed * 1e6, ratios


def main() -> None:
    """Print the rows."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=36.0)
    args = ap.parse_args()
    if args.hours <= 24:
        ap.error("--hours must exceed 24: the event has to fill the 24 h window")
    print(f"{'reports':<10} {'numpy us/rd':>12} {'loop us/rd':>11} {'loop / numpy':>13}  same")
    for step in (1, 5):
        fast, a = run(step, args.hours, rainevent._NUMPY_SPAN)
        slow, b = run(step, args.hours, 10**9)
        print(f"{step}-min{'':<5} {fast:>12.1f} {slow:>11.1f} {slow / fast:>13.2f}  {a == b}")


if __name__ == "__main__":
    main()
