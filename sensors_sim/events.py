"""Scenario events: what happens to which sensors, as frozen dataclasses parsed strictly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from sensors_sim.schema import (
    ScenarioError,
    from_mapping,
    parse_hours,
    parse_ids,
    parse_number,
    parse_number_map,
    parse_profile,
    spec,
)


def _mode(value: object, where: str) -> str:
    if value not in ("flow", "storage"):
        msg = f"{where}: expected 'flow' or 'storage'; got {value!r}"
        raise ScenarioError(msg)
    return str(value)


def _one_id(value: object, where: str) -> str:
    if not isinstance(value, str):
        msg = f"{where}: expected one sensor id; got {value!r}"
        raise ScenarioError(msg)
    return value


@dataclass(frozen=True)
class Rain:
    """Rain at some gauges, as an intensity profile in mm/h between breakpoints."""

    kinds: ClassVar[frozenset[str]] = frozenset({"rainfall", "weather"})

    sensors: tuple[str, ...] = spec("sensors", parse_ids)
    profile: tuple[tuple[float, float], ...] = spec("profile", parse_profile)
    scale: float = spec("scale", parse_number, default=1.0)
    lag_h: float = spec("lag", parse_hours, default=0.0)


@dataclass(frozen=True)
class Level:
    """A water level that responds to basin rain through a lagged unit hydrograph."""

    kinds: ClassVar[frozenset[str]] = frozenset({"reservoir"})

    sensor: str = spec("sensor", _one_id)
    base_m: float = spec("base_m", parse_number)
    driven_by: tuple[str, ...] = spec("driven_by", parse_ids, default=())
    # Metres per mm/h of routed rain ("flow": a river stage) or per mm ("storage": a lake).
    gain_m: float = spec("gain_m", parse_number, default=0.0)
    lag_h: float = spec("lag", parse_hours, default=1.0)
    mode: str = spec("mode", _mode, default="flow")
    # Storage only: the store drains with this time constant (outflow, evaporation); none:
    # it keeps what it gets (a short event).
    recession_h: float | None = spec("recession", parse_hours, default=None)

    @property
    def sensors(self) -> tuple[str, ...]:
        """The sensors this event changes."""
        return (self.sensor,)


@dataclass(frozen=True)
class Creep:
    """Slope creep at a steady rate that may turn into exponential acceleration."""

    kinds: ClassVar[frozenset[str]] = frozenset({"slope"})

    sensor: str = spec("sensor", _one_id)
    velocity_mm_h: float = spec("velocity_mm_h", parse_number)
    start_mm: float = spec("start_mm", parse_number, default=0.0)
    accelerate_h: float | None = spec("accelerate_at", parse_hours, default=None)
    e_folding_h: float = spec("e_folding", parse_hours, default=1.0)

    @property
    def sensors(self) -> tuple[str, ...]:
        """The sensors this event changes."""
        return (self.sensor,)


@dataclass(frozen=True)
class Leak:
    """A gas release that builds up to a peak concentration and then disperses."""

    kinds: ClassVar[frozenset[str]] = frozenset({"gas"})

    sensor: str = spec("sensor", _one_id)
    start_h: float = spec("start", parse_hours)
    peak_h: float = spec("peak_at", parse_hours)
    decay_h: float = spec("decay", parse_hours)
    peak: tuple[tuple[str, float], ...] = spec("peak", parse_number_map)

    @property
    def sensors(self) -> tuple[str, ...]:
        """The sensors this event changes."""
        return (self.sensor,)


@dataclass(frozen=True)
class Weather:
    """Ordinary weather at a station: diurnal temperature, humidity and wind."""

    kinds: ClassVar[frozenset[str]] = frozenset({"weather"})

    sensor: str = spec("sensor", _one_id)
    temp_mean_c: float = spec("temp_mean_c", parse_number, default=27.0)
    temp_amp_c: float = spec("temp_amp_c", parse_number, default=3.0)
    rh_mean_pct: float = spec("rh_mean_pct", parse_number, default=75.0)
    rh_amp_pct: float = spec("rh_amp_pct", parse_number, default=12.0)
    wind_mean_kmh: float = spec("wind_mean_kmh", parse_number, default=10.0)
    # Afternoon wind is stronger than the night's: relative amplitude of the diurnal cycle.
    wind_amp: float = spec("wind_amp", parse_number, default=0.0)

    @property
    def sensors(self) -> tuple[str, ...]:
        """The sensors this event changes."""
        return (self.sensor,)


#: Faults that change values (applied to the simulated series).
VALUE_FAULTS = frozenset({"stuck", "spike", "dropout", "drift"})
#: Faults that change the message stream (what is sent, when, and in which order).
STREAM_FAULTS = frozenset({"silent", "clock_skew", "duplicate", "out_of_order", "malformed"})
#: Malformed payloads the simulator can write, by name; each breaks the wire contract one way.
MALFORMED = {
    "truncated": lambda r: r[: len(r) // 2],
    "not_json": lambda r: "rain gauge says hello",
    "array": lambda r: "[" + r + "]",
    "missing_ts": lambda r: r.replace('"ts":', '"time":'),
    "values_not_object": lambda r: r.split(',"values":')[0] + ',"values":"oops"}',
    "bad_ts": lambda r: re.sub(r'"ts":"[^"]*"', '"ts":"yesterday noon"', r),
}


def _fault_name(value: object, where: str) -> str:
    names = VALUE_FAULTS | STREAM_FAULTS
    if value not in names:
        msg = f"{where}: expected one of {sorted(names)}; got {value!r}"
        raise ScenarioError(msg)
    return str(value)


def _signed_hours(value: object, where: str) -> float:
    if isinstance(value, str) and value.startswith("-"):
        return -parse_hours(value[1:], where)
    return parse_hours(value, where)


def _field(value: object, where: str) -> str:
    if not isinstance(value, str):
        msg = f"{where}: expected a field name such as 'rain_mm'; got {value!r}"
        raise ScenarioError(msg)
    return value


@dataclass(frozen=True)
class Fault:
    """A sensor fault between ``start`` and ``end`` (offsets from the scenario start).

    Value faults: ``stuck`` (repeats the value at onset), ``spike`` (adds ``magnitude`` to the
    one report at ``start``), ``dropout`` (reads zero), ``drift`` (adds ``magnitude`` per hour
    since onset). Stream faults: ``silent`` (sends nothing), ``clock_skew`` (stamps ``skew``
    off the true time), ``duplicate`` (sends each report twice), ``out_of_order`` (swaps each
    pair of reports), ``malformed`` (sends raw, invalid payload text instead of the report).
    """

    kinds: ClassVar[frozenset[str]] = frozenset(
        {"rainfall", "reservoir", "slope", "weather", "gas"}
    )

    sensor: str = spec("sensor", _one_id)
    fault: str = spec("fault", _fault_name)
    start_h: float = spec("start", parse_hours)
    end_h: float = spec("end", parse_hours)
    field: str | None = spec("field", _field, default=None)
    magnitude: float = spec("magnitude", parse_number, default=0.0)
    skew_h: float = spec("skew", _signed_hours, default=0.0)

    @property
    def sensors(self) -> tuple[str, ...]:
        """The sensors this event changes."""
        return (self.sensor,)


Event = Rain | Level | Creep | Leak | Weather | Fault

#: Event classes by the ``type`` key that selects them in a scenario file.
EVENT_TYPES: dict[str, type[Event]] = {
    "rain": Rain,
    "level": Level,
    "creep": Creep,
    "leak": Leak,
    "weather": Weather,
    "fault": Fault,
}


def parse_event(data: object, where: str) -> Event:
    """Parse one event mapping; its ``type`` key chooses the event class."""
    if not isinstance(data, dict) or "type" not in data:
        msg = f"{where}: expected a mapping with a 'type' key; got {data!r}"
        raise ScenarioError(msg)
    cls = EVENT_TYPES.get(data["type"])
    if cls is None:
        msg = f"{where}.type: expected one of {sorted(EVENT_TYPES)}; got {data['type']!r}"
        raise ScenarioError(msg)
    event = from_mapping(cls, data, where, skip=("type",))
    if isinstance(event, Leak) and not event.start_h < event.peak_h:
        msg = f"{where}: 'peak_at' must come after 'start'"
        raise ScenarioError(msg)
    if isinstance(event, Fault) and not event.start_h < event.end_h:
        msg = f"{where}: 'end' must come after 'start'"
        raise ScenarioError(msg)
    return event
