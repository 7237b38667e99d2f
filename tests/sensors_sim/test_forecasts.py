"""Simulated forecasts: valid wire objects, the truth without errors, errors that grow."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np

from sensors_sim.forecasts import ForecastErrors, forecasts
from sensors_sim.generate import simulate
from sensors_sim.network import registry
from sensors_sim.scenario import load_scenario
from warning.kinds import BUILTIN_KINDS
from warning.pipeline.parse import ParseSettings, parse_forecast
from warning.records import Forecast, RawMessage
from warning.registry import Registry

PERFECT = ForecastErrors(timedelta(0), 0.0, 0.0)


def test_every_forecast_is_accepted_by_the_pipeline_and_runs_are_identical():
    sc = load_scenario("typhoon")
    made = list(forecasts(sc))
    assert json.dumps(made) == json.dumps(list(forecasts(sc)))
    reg = Registry({s["id"]: s for s in registry(sc.network)["sensors"]})
    settings = ParseSettings(reg, BUILTIN_KINDS, max_future_ms=None)
    parsed = [parse_forecast(RawMessage("", f, 0), settings) for f in made]
    assert all(isinstance(p, Forecast) for p in parsed)
    assert {f["issuer"] for f in made} == {"sim-qpf", "sim-hydro"}
    issued = [f["issued"] for f in made]
    assert issued == sorted(issued)  # by issue time


def test_without_errors_the_rain_forecast_is_the_rain_that_falls():
    sc = load_scenario("typhoon")
    true = simulate(sc)["rg-aj-01"]["rain_mm"]
    fc = next(
        f
        for f in forecasts(sc, PERFECT)
        if f["sensor_id"] == "rg-aj-01" and f["issued"].startswith("2026-08-10T06:00")
    )
    hourly = [s["values"]["rain_mm"] for s in fc["series"]]
    # reports 73..84 fall in 06:00-07:00 (report i stamped at (i + 1) x 5 min)
    expected = [round(float(true[72 + 12 * k : 84 + 12 * k].sum()), 1) for k in range(12)]
    assert hourly == expected


def test_realistic_errors_grow_with_lead_time():
    sc = load_scenario("meiyu")
    true = simulate(sc)["wl-wx-01"]["level_m"]
    errors = {k: [] for k in range(1, 13)}
    for f in forecasts(sc):
        if f["sensor_id"] != "wl-wx-01":
            continue
        for k, step in enumerate(f["series"], 1):
            i = (
                round(
                    (np.datetime64(step["valid"][:19]) - np.datetime64("2026-06-20T00:00"))
                    / np.timedelta64(5, "m")
                )
                - 1
            )
            if 0 <= i < len(true):
                errors[k].append(step["values"]["level_m"] - true[i])
    rmse = [float(np.sqrt(np.mean(np.square(errors[k])))) for k in (1, 6, 12)]
    assert rmse[0] < rmse[1] < rmse[2]
