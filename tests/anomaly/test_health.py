"""Fault diagnosis of one sensor, reading by reading, without a flow."""

from __future__ import annotations

import math
import pickle
import random
from copy import deepcopy

import pytest

from warning.anomaly.faults import FaultSettings
from warning.anomaly.health import Health, Monitor
from warning.records import Reading

T0 = 1_780_000_000_000
STEP = 300_000  # 5 min


def _gas(i: int, lel: float, h2s: float) -> Reading:
    return Reading("gs-1", "gas", "cx", T0 + i * STEP, {"lel_pct": lel, "h2s_ppm": h2s})


def _feed(m: Monitor, h: Health, readings: list[Reading]) -> list[tuple[int, str, str]]:
    out = []
    for i, r in enumerate(readings):
        for e in m.observe(h, r, {"name": "detector"}).events:
            out.append((i, e.event, e.rule_id))
    return out


def _noisy_gas(n: int, seed: int = 1) -> list[Reading]:
    rng = random.Random(seed)
    return [
        _gas(i, round(1.0 + rng.gauss(0, 0.2), 1), round(0.2 + rng.gauss(0, 0.05), 2))
        for i in range(n)
    ]


def test_clean_noisy_sensor_raises_nothing() -> None:
    """A week of healthy gas readings: no fault, never suspect."""
    m, h = Monitor(), Health()
    readings = _noisy_gas(2016)
    assert _feed(m, h, readings) == []
    assert h.suspect is None


def test_dropout_to_zero_is_named_at_once_when_every_field_reads_zero() -> None:
    """Both gas fields at 0.0 on the same reading: dropout on that reading, cleared later."""
    m, h = Monitor(), Health()
    readings = _noisy_gas(100)
    readings[60:66] = [_gas(i, 0.0, 0.0) for i in range(60, 66)]
    events = _feed(m, h, readings)
    assert events[0] == (60, "raised", "sensor_fault_dropout")
    assert events[1][1:] == ("cleared", "sensor_fault_dropout")
    assert events[1][0] == 65 + 6  # 30 min after the last zero


def test_spike_is_confirmed_on_the_next_reading_and_the_spike_reading_is_suspect() -> None:
    """One wild value between ordinary ones: suspect at once, a spike fault one reading on."""
    m, h = Monitor(), Health()
    readings = _noisy_gas(100)
    readings[50] = _gas(50, 60.0, 0.2)
    suspects = []
    events = []
    for i, r in enumerate(readings):
        v = m.observe(h, r, {})
        suspects.append(v.suspect)
        events += [(i, e.event, e.rule_id) for e in v.events]
    assert "spike candidate" in suspects[50]
    assert all(s is None for s in suspects[:50])
    assert events[0] == (51, "raised", "sensor_fault_spike")


def test_a_lasting_step_is_not_a_spike() -> None:
    """A level that jumps and stays (a real leak) is never called a spike."""
    m, h = Monitor(), Health()
    readings = _noisy_gas(100)
    readings[50:] = [_gas(i, 40.0 + (i % 3), 0.2) for i in range(50, 100)]
    assert [e for e in _feed(m, h, readings) if "spike" in e[2]] == []


def test_stuck_needs_a_sensor_that_usually_changes() -> None:
    """Repeats on a noisy sensor are stuck after 6; on a mostly flat one they are not judged."""
    m, h = Monitor(), Health()
    readings = _noisy_gas(100)
    readings[60:80] = [_gas(i, 1.3, 0.21) for i in range(60, 80)]
    events = _feed(m, h, readings)
    assert events[0] == (66, "raised", "sensor_fault_stuck")
    flat = [
        Reading("wl", "reservoir", "wx", T0 + i * STEP, {"level_m": 3.2 if i % 9 else 3.21})
        for i in range(400)
    ]
    assert _feed(Monitor(), Health(), flat) == []


def test_rain_gauge_zeros_are_rest_not_dropout() -> None:
    """Rain stopping after steady rain is neither dropout nor stuck."""
    readings = [
        Reading("rg", "rainfall", "wx", T0 + i * STEP, {"rain_mm": 0.5 if i < 100 else 0.0})
        for i in range(300)
    ]
    assert _feed(Monitor(), Health(), readings) == []


def test_clock_skew_is_a_late_reading_hours_behind() -> None:
    """A reading 8 h behind the sensor's latest is clock skew; 10 min behind is not."""
    m, h = Monitor(), Health()
    r = _gas(0, 1.0, 0.2)
    assert m.late(h, r, r.ts + 600_000, {}).events == ()
    (event,) = m.late(h, r, r.ts + 8 * 3_600_000, {}).events
    assert event.rule_id == "sensor_fault_clock_skew" and event.hazard == "sensor_fault"
    assert event.ts == r.ts + 8 * 3_600_000
    assert event.values["skew_h"] == -8.0
    assert "clock_skew" in event.message


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_health_snapshots_and_resumes_identically(how: str) -> None:
    """A pickled or deep-copied Health mid-stream gives the same verdicts afterwards."""
    m = Monitor()
    readings = _noisy_gas(300)
    readings[200:210] = [_gas(i, 0.0, 0.0) for i in range(200, 210)]
    readings[100] = _gas(100, 0.0, 0.0)  # a fault is active when the copy is taken
    h = Health()
    _feed(m, h, readings[:103])
    assert h.active
    copy = pickle.loads(pickle.dumps(h)) if how == "pickle" else deepcopy(h)
    for r in readings[103:]:
        assert m.observe(copy, r, {}) == m.observe(h, r, {})
    assert len(pickle.dumps(h)) < 8000


def test_settings_change_the_verdict() -> None:
    """A stricter spike threshold lets a moderate spike pass (the setting is used)."""
    readings = _noisy_gas(100)
    readings[50] = _gas(50, 8.0, 0.2)  # robust z 14: 7 above the median, scale floor 0.5
    for monitor, candidate in ((Monitor(), True), (Monitor(FaultSettings(spike_z=50.0)), False)):
        h = Health()
        verdicts = [monitor.observe(h, r, {}) for r in readings]
        assert (verdicts[50].spike is not None) is candidate
        assert (verdicts[50].suspect is not None) is candidate


def test_a_sensor_with_an_active_fault_keeps_its_state_past_the_ttl() -> None:
    """State TTL: a quiet sensor is forgotten, unless a fault warning of it is still raised."""
    from warning.pipeline.evaluate import SensorState, may_expire
    from warning.pipeline.nodata import Expire

    m, h = Monitor(), Health()
    readings = _noisy_gas(100)
    readings[98:] = [_gas(i, 0.0, 0.0) for i in (98, 99)]
    _feed(m, h, readings)
    state = SensorState(watermark=readings[-1].ts, health=h)
    later = Expire("gs-1", "gas", "cx", readings[-1].ts + 1)
    assert h.active and not may_expire(state, later)
    h.active.clear()
    assert may_expire(state, later)


def _lone_rain(values: list[float]) -> list[tuple[int, str | None, object, list[str]]]:
    """Feed a rain gauge with no neighbour to ask; return (index, suspect, fell_back, faults)."""
    from warning.anomaly.corroborate import support

    m, h, s = Monitor(), Health(), FaultSettings()
    out = []
    for i, v in enumerate(values):
        r = Reading("rg-1", "rainfall", "r", T0 + i * STEP, {"rain_mm": v})
        verdict = m.observe(
            h, r, {}, lambda name, x, median, t=r.ts: support({}, "rainfall", name, x, median, t, s)
        )
        out.append((i, verdict.suspect, verdict.fell_back, [e.rule_id for e in verdict.events]))
    return out


def test_a_lone_gauges_bursty_rain_is_no_spike() -> None:
    """Daily rain at a station with no neighbour (12.2 or 40 mm between dry days) is rain: its
    shape alone proves nothing, and the default detector sees such bursts as the series' own."""
    rng = random.Random(3)
    days = [rng.choice([0.0] * 6 + [3.2, 12.2, 16.4, 25.0, 40.0]) for _ in range(300)]
    assert [x for x in _lone_rain(days) if x[1] or x[3]] == []


def test_a_lone_gauges_glitch_is_named_by_the_default_detector_on_the_next_reading() -> None:
    """60 mm between the small tips of a long record: not suspect when it comes (no neighbour to
    disagree), named a spike on the next reading by the default detector's sign, and handed
    back for quarantine (``fell_back``)."""
    rng = random.Random(1)
    tips = [rng.choice([0.0, 0.0, 0.0, 0.0, 0.2, 0.4, 1.0, 2.5]) for _ in range(300)]
    seen = _lone_rain([*tips, 60.0, 0.0, 0.0])
    assert [x for x in seen[:300] if x[1] or x[3]] == []
    assert seen[300][1:] == (None, (), [])
    i, suspect, fell_back, named = seen[301]
    assert named == ["sensor_fault_spike"]
    assert fell_back == (("rain_mm", 60.0, pytest.approx(0.2), T0 + 300 * STEP),)


def _one(field: str, values: list[float], kind: str = "reservoir") -> list[Reading]:
    return [Reading("s-1", kind, "wx", T0 + i * STEP, {field: v}) for i, v in enumerate(values)]


def _wave(n: int, amp: float = 10.0, base: float = 20.0) -> list[float]:
    """A smooth series that changes on every reading (steps of about 0.3 at amplitude 10)."""
    return [round(base + amp * math.sin(2 * math.pi * i / 200), 3) for i in range(n)]


def test_no_data_codes_are_a_dropout_cleared_by_the_next_reading_with_data() -> None:
    """-9999 on a field not at rest: a lone one is a spike candidate (named a spike when the
    next reading comes back, as before); a run of them is named a dropout on the second (the
    default detector's sentinel sign, no_data in its values), and the field's next reading
    with data clears it. No code is learned."""
    m, h = Monitor(), Health()
    values = _wave(160)
    values[100] = -9999.0
    values[130:134] = [-9999.0] * 4
    got = []
    for i, r in enumerate(_one("level_m", values)):
        v = m.observe(h, r, {})
        got += [(i, e.event, e.rule_id, e.values.get("no_data")) for e in v.events]
        if i in (100, 130, 131):
            assert v.suspect
            assert -9999.0 not in h.fields["level_m"].robust.values
    assert got[0] == (101, "raised", "sensor_fault_spike", None)
    assert [e for e in got if e[2] == "sensor_fault_dropout"] == [
        (131, "raised", "sensor_fault_dropout", -9999.0),
        (134, "cleared", "sensor_fault_dropout", None),
    ]


def test_a_rest_state_fields_no_data_code_or_repeats_are_never_dropout_or_stuck() -> None:
    """Rain is at rest: a -9999 there is judged (a spike) but never a dropout, nor are its
    long runs of equal tips stuck."""
    values = [0.0] * 100 + [0.5] * 100 + [-9999.0] + [0.5] * 40
    named = {e[2] for e in _feed(Monitor(), Health(), _one("rain_mm", values, "rainfall"))}
    assert not named & {"sensor_fault_dropout", "sensor_fault_stuck"}


def test_a_first_zero_is_judged_by_the_zero_check_not_the_detectors_sign() -> None:
    """A level that never read 0 reads 0 three times: named a dropout on the second zero (the
    Monitor's own check), the first only suspect. A gas background of 1-3 ppm that reads 0 once
    (clean air), a frost at exactly 0.0 and a slope at rest are no faults, however often."""
    values = _wave(120)
    values[100:103] = [0.0, 0.0, 0.0]
    events = _feed(Monitor(), Health(), _one("level_m", values))
    assert events[0] == (101, "raised", "sensor_fault_dropout")
    rng = random.Random(2)
    co = [float(rng.choice([1, 2, 3])) for _ in range(200)]
    for i in (80, 120, 160):
        co[i] = 0.0
    assert _feed(Monitor(), Health(), _one("co_ppm", co, "gas")) == []
    frost = [round(3 * math.cos(i / 20), 1) for i in range(120)]
    assert 0.0 in frost[60:] and _feed(Monitor(), Health(), _one("temp_c", frost, "weather")) == []


def test_a_held_level_let_go_with_a_rise_is_no_fault() -> None:
    """A river level held 4 reports then rising fast (a flood's onset) is no stuck sensor,
    though the default detector's held-release sign is there."""
    values = _wave(150)
    values[120:124] = [values[120]] * 4
    values[124] = values[120] + 6.0
    values[125:] = [v + 6.0 for v in values[125:]]
    assert _feed(Monitor(), Health(), _one("level_m", values)) == []


def test_a_field_held_while_the_others_move_is_not_stuck() -> None:
    """Humidity at 100 % for hours while the temperature moves: the default detector's stuck
    sign on rh_pct is no fault of the sensor."""
    m, h = Monitor(), Health()
    temps = _wave(300, amp=3.0, base=24.0)
    signs = []
    for i, t in enumerate(temps):
        rh = 100.0 if i >= 150 else round(80 + 15 * math.sin(i / 7), 1)
        r = Reading("ws-1", "weather", "wx", T0 + i * STEP, {"temp_c": t, "rh_pct": rh})
        assert m.observe(h, r, {}).events == ()
        signs.append(h.fields["rh_pct"].default.sign(rh, r.ts))
    assert "stuck" in signs  # the sign was there; it named nothing


def test_a_spike_the_robust_check_cannot_see_is_named_by_the_default_detector() -> None:
    """On a smooth swing the 24-reading window is wide (robust z of +8 is about 3), but +8 is
    25 typical steps and comes back: named a spike on the next reading and handed back for
    quarantine; the same spike that a neighbour bore out is real and not named."""
    values = _wave(150)
    values[120] += 8.0
    for support, named in ((None, True), (lambda *a: ("s-2", "s-2 level_m 28"), False)):
        m, h = Monitor(), Health()
        got = []
        for i, r in enumerate(_one("level_m", values)):
            v = m.observe(h, r, {}, support)
            if i == 120:
                assert v.suspect is None and v.spike is None  # no robust candidate
            if v.events or v.fell_back:
                got.append((i, [e.rule_id for e in v.events], v.fell_back))
        if named:
            assert got[0][:2] == (121, ["sensor_fault_spike"])
            assert got[0][2][0][:2] == ("level_m", values[120])  # the window's median follows
            assert got[0][2][0][3] == T0 + 120 * STEP  # quarantined by the spike's own time
        else:
            assert got == []


def test_a_gas_cell_that_never_moved_is_not_stuck_when_another_gas_does() -> None:
    """A six-gas detector in clean air: constant readings of every cell for 40 h, but for a CO
    rise one afternoon. The CO rise makes the sensor one that changes; the LEL cell that never
    moved (a constant offset) is still no stuck cell."""
    m, h = Monitor(), Health()
    for i in range(1, 577):
        bump = math.exp(-((((i / 12) - 22) / 2) ** 2))
        values = {"lel_pct": 0.5, "h2s_ppm": 0.1, "co_ppm": round(2 + 9 * bump, 2), "o2_pct": 20.9}
        assert m.observe(h, Reading("gs-2", "gas", "cx", T0 + i * STEP, values), {}).events == ()
