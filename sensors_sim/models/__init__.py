"""Sensor models: one module per kind, each turning events into report-by-report values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from sensors_sim.events import Event
from sensors_sim.network import Sensor


@dataclass(frozen=True, eq=False)
class Context:
    """What a model may know: the report times, the rain everywhere, and its own events."""

    #: End of each report interval, in hours since the scenario start.
    hours: np.ndarray
    step_h: float
    #: Local clock hour at the scenario start, for diurnal cycles.
    local_hour0: float
    #: True (unbucketed) rain intensity in mm/h per report interval, for every sensor.
    rain: Mapping[str, np.ndarray]
    #: The scenario's events that name this sensor.
    events: tuple[Event, ...]


Model = Callable[[Sensor, Context, np.random.Generator], dict[str, np.ndarray]]


def _models() -> dict[str, Model]:
    # Imported here so that each kind module can import Context from this package.
    from sensors_sim.models import gas, level, rain, slope, weather

    return {
        "rainfall": rain.rainfall,
        "reservoir": level.level,
        "slope": slope.slope,
        "weather": weather.weather,
        "gas": gas.gas,
    }


def model_for(kind: str) -> Model:
    """Return the model that simulates sensors of ``kind``."""
    return _models()[kind]


def lognormal_factor(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    """Return multiplicative noise with mean 1, so that noise does not bias totals."""
    return np.exp(sigma * rng.standard_normal(size) - sigma**2 / 2)
