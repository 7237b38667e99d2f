"""Sensor faults: their names, settings, per-field scale floors and the warnings they raise.

Fault warnings have their own hazard, ``sensor_fault``, so the notification router sends them
to maintenance and not to the public; the fault's name is in the rule id
(``sensor_fault_stuck``), the values (``fault_stuck: 1``) and the message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from warning.lang import DEFAULT
from warning.pipeline.lifecycle import warning_id
from warning.records import Level, WarningEvent
from warning.registry import place_name, region_name

HAZARD = "sensor_fault"
#: Every fault this package diagnoses.
FAULTS = ("spike", "stuck", "dropout", "drift", "clock_skew")
LEVEL = Level.BLUE
INSTRUCTION = (
    "Maintenance: inspect the sensor; treat its readings as suspect until this warning clears."
)

#: The smallest meaningful change per field (about the reporting resolution, in the field's
#: unit): scale floors for detectors, so that a flat series does not make noise look infinite.
FIELD_SCALE: dict[str, float] = {
    "rain_mm": 1.0,
    "level_m": 0.01,
    "inflow_m3s": 1.0,
    "outflow_m3s": 1.0,
    "displacement_mm": 0.1,
    "tilt_deg": 0.01,
    "temp_c": 0.3,
    "rh_pct": 2.0,
    "wind_kmh": 2.0,
    "lel_pct": 0.5,
    "h2s_ppm": 0.1,
    "co_ppm": 1.0,
    "cl2_ppm": 0.05,
    "nh3_ppm": 1.0,
    "o2_pct": 0.1,
}
#: Fields whose rest state is zero (a dry gauge, calm air): zeros and repeats are normal, so
#: they are never judged for dropout or stuck.
ZERO_REST = frozenset({"rain_mm", "wind_kmh", "inflow_m3s", "outflow_m3s"})
#: Fields compared with neighbours for drift: slowly varying, comparable across a region.
DRIFT_FIELDS = frozenset({"level_m", "temp_c", "rh_pct", "o2_pct"})


def scale_of(name: str) -> float:
    """Return a field's scale floor (0.01 for fields not in ``FIELD_SCALE``)."""
    return FIELD_SCALE.get(name, 0.01)


@dataclass(frozen=True)
class FaultSettings:
    """Thresholds of the diagnosis; every one is in the field's own scale or in readings."""

    window: int = 24  # readings in the rolling median/MAD
    spike_z: float = 10.0  # robust z of a spike candidate; it must return within half of it
    stuck_false_rate: float = 1e-6  # chance that a run this long of a healthy sensor repeats
    stuck_min_change: float = 0.5  # only sensors whose readings change this often can stick
    stuck_min_run: int = 6  # at least this many repeats (30 min at 5 min reports)
    stuck_min_seen: int = 24  # readings needed before stuck can be judged
    dropout_min_zeros: int = 2  # zeros in a row (1 when every field reads zero at once)
    skew_ms: int = 3_600_000  # behind the sensor's own latest by this much: a clock fault
    clear_after_ms: int = 1_800_000  # no evidence for this long: the fault clears
    #: An anomaly score this high makes a reading suspect; off by default, since a real
    #: hazard's onset is anomalous too (suspect means a fault sign, not an unusual value).
    suspect_score: float | None = None
    drift_k: float = 3.0  # drift: offset to neighbours, in field scales, held ...
    drift_hold: int = 6  # ... for this many readings in a row
    drift_alpha: float = 0.01  # drift: per-reading weight of the slow baselines
    #: Certainty by corroboration (warning/anomaly/corroborate.py): a neighbour's reading this
    #: close in event time that moved by this share of a spike candidate's departure makes it
    #: real; ``confirm`` says what happens to an uncorroborated orange or red warning: "route"
    #: (sent at once as Possible, with its spike fault) or "wait" (held one report interval
    #: for the next reading or a neighbour to confirm it).
    corroborate_ms: int = 900_000
    corroborate_share: float = 0.3
    confirm: str = "route"

    def stuck_run(self, change_rate: float, longest: int = 0) -> float:
        """Return the repeats that make a sensor stuck.

        A sensor whose readings change at ``change_rate`` repeats ``n`` times by chance with
        probability ``(1 - rate) ** n``; runs are not independent in real data, so the run
        must also be twice the ``longest`` healthy run seen. Sensors that change less often
        than ``stuck_min_change`` (a level gauge in still water) are never judged stuck.

        >>> s = FaultSettings()
        >>> s.stuck_run(0.95), s.stuck_run(0.6), s.stuck_run(0.6, longest=10), s.stuck_run(0.3)
        (6, 16, 20, inf)
        """
        if change_rate < self.stuck_min_change:
            return math.inf
        if change_rate >= 1:
            return max(self.stuck_min_run, 2 * longest)
        chance = math.ceil(math.log(self.stuck_false_rate) / math.log(1 - change_rate))
        return max(self.stuck_min_run, chance, 2 * longest)


@dataclass
class ActiveFault:
    """One fault episode of one sensor: its warning id and the last evidence (event time)."""

    warning_id: str
    since: int
    last: int
    field: str
    detail: str
    early: bool = False  # a spike named on its candidate reading, before the next one
    #: A dropout named on a logger's no-data code: the field's next reading with data clears it.
    nodata: bool = False


#: The faults and the instruction in Chinese, for officers' messages.
FAULTS_ZH = {
    "spike": "跳变",
    "stuck": "卡值",
    "dropout": "掉线",
    "drift": "漂移",
    "clock_skew": "时钟偏差",
}
INSTRUCTION_ZH = "维护：检修该传感器；预警解除前，其读数视为可疑。"


def _texts(
    name: str, subject: str, attrs: Mapping[str, Any], field: str, cleared: bool
) -> dict[str, dict[str, Any]]:
    """Return a fault event's texts for officers, in Chinese and English (no field keys)."""
    zh = f"{place_name(attrs, subject, 'zh-CN')}：传感器{FAULTS_ZH.get(name, '')}故障"
    en = (
        f"{place_name(attrs, subject, 'en')}: sensor fault ({name.replace('_', ' ')}) on "
        f"{field.replace('_', ' ')}"
    )
    return {
        "zh-CN": {
            "message": ("已解除：" + zh) if cleared else zh,
            "instruction": "" if cleared else INSTRUCTION_ZH,
            "place": place_name(attrs, subject, "zh-CN"),
            "region": region_name(attrs, "zh-CN"),
            "labels": {},
            "units": {},
        },
        "en": {
            "message": ("Cleared: " + en) if cleared else en,
            "instruction": "" if cleared else INSTRUCTION,
            "place": place_name(attrs, subject, "en"),
            "region": region_name(attrs, "en"),
            "labels": {},
            "units": {},
        },
    }


def raised(
    name: str,
    subject: str,
    region: str,
    ts: int,
    field: str,
    detail: str,
    values: Mapping[str, float | None],
    attrs: Mapping[str, Any],
    received_at: float = 0.0,
) -> tuple[ActiveFault, WarningEvent]:
    """Return the new fault episode and its ``raised`` warning event."""
    rule_id = f"{HAZARD}_{name}"
    wid = warning_id(rule_id, subject, ts)
    message = f"{place_name(attrs, subject, DEFAULT)}: sensor fault {name} on {field}: {detail}"
    event = WarningEvent(
        wid,
        "raised",
        rule_id,
        HAZARD,
        LEVEL,
        None,
        subject,
        region,
        ts,
        {f"fault_{name}": 1.0, **values},
        message,
        INSTRUCTION,
        "Observed",
        received_at,
        _texts(name, subject, attrs, field, False),
    )
    return ActiveFault(wid, ts, ts, field, detail), event


def cleared(
    name: str,
    fault: ActiveFault,
    subject: str,
    region: str,
    ts: int,
    attrs: Mapping[str, Any],
    received_at: float = 0.0,
) -> WarningEvent:
    """Return the ``cleared`` event of a fault episode."""
    message = (
        f"Cleared: {place_name(attrs, subject, DEFAULT)}: sensor fault {name} on "
        f"{fault.field} (no evidence since the reading at its last sign)"
    )
    return WarningEvent(
        fault.warning_id,
        "cleared",
        f"{HAZARD}_{name}",
        HAZARD,
        None,
        LEVEL,
        subject,
        region,
        ts,
        {f"fault_{name}": 0.0},
        message,
        "",
        "Observed",
        received_at,
        _texts(name, subject, attrs, fault.field, True),
    )
