"""A sensor's state pickled under 0.1's module names restores and evaluates as the original."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pickle
from pathlib import Path

from warning import legacy
from warning.app import for_files, setup
from warning.config import Config
from warning.records import Reading

ROOT = Path(__file__).parents[1]
T0 = 1_783_231_200_000


@contextlib.contextmanager
def old_module_names():
    """Make every class of a moved module pickle under its 0.1 module name."""
    legacy.install()
    patched = []
    for old, new in legacy.MOVED.items():
        module = importlib.import_module(new)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == new:
                cls.__module__ = old
                patched.append((cls, new))
    try:
        yield
    finally:
        for cls, new in patched:
            cls.__module__ = new


def test_a_state_pickled_by_0_1_restores_with_its_warning_raised():
    s = setup(for_files(Config(), [ROOT / "rules"], None), replay=True)
    state = None
    raised = []
    for m in range(60):  # 2 mm a minute: a rainstorm warning is raised within the hour
        r = Reading("rg-1", "rainfall", "r", T0 + 60_000 * m, {"rain_mm": 2.0}, m + 1)
        state, outcome = s.steps.evaluate(state, r)
        raised += [e for e in outcome.events if e.event == "raised"]
    assert raised, "the test needs a raised warning in the state"
    with old_module_names():
        blob = pickle.dumps(state)
    assert b"warning.engine" in blob and b"warning.lifecycle" in blob
    restored = pickle.loads(blob)
    nxt = Reading("rg-1", "rainfall", "r", T0 + 60_000 * 60, {"rain_mm": 2.0}, 61)
    _, want = s.steps.evaluate(state, nxt)
    _, got = s.steps.evaluate(restored, nxt)
    assert got.events == want.events
    assert [e.event for e in got.events] != ["raised"]  # the episode went on, not anew


def test_a_state_pickled_by_0_2_restores_compact_and_evaluates_as_one_built_now():
    # tests/data/state-0.2.pickle: a hill gauge (landslide I-D rule, detectors on) after 3 h of
    # minute reports with a 2 mm/min hour, pickled by release 0.2 (float64 series arrays, the
    # rain event's reports in the series memo, deques in the detectors and for duplicates).
    # Made with the readings below: PYTHONPATH=<0.2 checkout> python - < (this loop + pickle).
    s = setup(for_files(Config(), [ROOT / "rules"], None), replay=True)

    def reading(m: int) -> Reading:
        mm = 2.0 if 60 <= m < 120 else (0.1 if m % 3 == 0 else 0.0)
        return Reading("rg-1", "rainfall", "anji", T0 + 60_000 * m, {"rain_mm": mm}, m + 1)

    fresh = None
    for m in range(180):
        fresh, _ = s.steps.evaluate(fresh, reading(m))
    restored = pickle.loads((ROOT / "tests" / "data" / "state-0.2.pickle").read_bytes())
    rain = restored.series["rain_mm"]
    assert rain.scale == 10 and rain.times.ts is None and len(rain) == len(fresh.series["rain_mm"])
    assert list(restored.recent) == list(fresh.recent)
    assert sorted(restored.episodes) == ["landslide_rain", "rainstorm"]
    assert pickle.dumps(restored) == pickle.dumps(fresh)
    for m in range(180, 240):
        restored, got = s.steps.evaluate(restored, reading(m))
        fresh, want = s.steps.evaluate(fresh, reading(m))
        assert got.events == want.events
    again = pickle.loads(pickle.dumps(restored))  # and the new form round-trips
    assert pickle.dumps(again) == pickle.dumps(restored)


def test_a_snapshot_older_than_a_field_restores_with_its_default():
    """Each pickled form of a slots dataclass restores; fields added since take their defaults."""
    import pytest

    from warning.anomaly.detectors import RobustZ
    from warning.anomaly.health import FieldWatch
    from warning.anomaly.judge import Judge
    from warning.pipeline.areas import AreaMark
    from warning.records import Level

    # a frozen dataclass pickles the list of its values: one from before ``withdrawn``
    mark = AreaMark.__new__(AreaMark)
    mark.__setstate__(["anji", "rainstorm", "rainstorm", "rg-1", Level.RED, 5, 1.5, "Possible"])
    assert mark == AreaMark("anji", "rainstorm", "rainstorm", "rg-1", Level.RED, 5, 1.5, "Possible")
    assert mark.withdrawn == ()

    # 0.2 pickled a field watch's __dict__, before the lone-burst and jump fields
    robust, judge = RobustZ(), Judge()
    watch = FieldWatch.__new__(FieldWatch)
    old = {"robust": robust, "default": judge, "prev_z": 1.5, "pending_spike": 9.0, "zeros": 2}
    watch.__setstate__(old)
    assert watch == FieldWatch(robust, judge, 1.5, 9.0, 2)
    assert (watch.lone, watch.spike_ts, watch.real, watch.jumped) == (None, 0, False, False)

    # a field with no default must be in the snapshot
    with pytest.raises(TypeError, match="lacks 'default'"):
        FieldWatch.__new__(FieldWatch).__setstate__({"robust": robust})


def _pickled_as_before(obj: object, state: dict) -> bytes:
    """Pickle ``obj`` with ``state``, as an older release whose class lacked some fields did."""
    import copyreg
    import io

    class Older(pickle.Pickler):
        def reducer_override(self, o):
            return (copyreg.__newobj__, (type(o),), state) if o is obj else NotImplemented

    out = io.BytesIO()
    Older(out).dump(obj)
    return out.getvalue()


def _event():
    from warning.records import Level, WarningEvent

    return WarningEvent("w-1", "raised", "rainstorm", "flood", Level.BLUE, None, "rg-1", "anji", T0)


def test_fields_newer_than_a_snapshot_take_their_defaults_in_either_build():
    """A plain dataclass pickled before a field was added restores with the field's default."""
    from warning.anomaly.corroborate import NOT_KEPT, Held, PeerSeen
    from warning.anomaly.neighbours import Gauge, Peer, RegionState

    cases = [
        (
            Held,
            {
                "event": _event(),
                "why": "spike",
                "field": "rain_mm",
                "value": 9.0,
                "median": 0.0,
                "ts": T0,
                "deadline": T0 + 1,
                "kind": "rainfall",
            },
            {"routed": False, "before": NOT_KEPT},
        ),
        (PeerSeen, {"ts": T0, "kind": "rainfall", "values": {"rain_mm": 1.0}}, {"before": {}}),
        (RegionState, {"peers": {}, "gauges": {}, "wet_until": 0}, {"counted_at": -(2**62)}),
        (Peer, {"group": "anji/rainfall", "ts": T0}, {"n": 0, "active": None, "held": {}}),
        (Gauge, {}, {"total": 0.0}),
    ]
    for cls, old, defaults in cases:
        restored = pickle.loads(_pickled_as_before(cls(**old), old))
        assert type(restored) is cls
        for name, value in {**old, **defaults}.items():
            assert getattr(restored, name) == value, (cls.__name__, name)


def test_frozen_records_of_the_compiled_modules_pickle_and_copy():
    import copy

    from warning.anomaly.corroborate import Peer
    from warning.anomaly.health import Verdict
    from warning.pipeline.evaluate import Outcome
    from warning.pipeline.ingest import Watermark
    from warning.pipeline.lifecycle import Episode, Transition
    from warning.pipeline.steps import Kept
    from warning.records import Level

    reading = Reading("rg-1", "rainfall", "anji", T0, {"rain_mm": 2.0}, 1)
    objects = [
        Peer("rg-2", reading),
        Verdict("spike", (_event(),), ("rain_mm", 9.0, 0.0)),
        Outcome(reading, None, (_event(),), seq_gap=2),
        Kept(readings=False),
        Watermark(lateness_ms=300_000, tick_ms=60_000, newest=T0),
        Episode("w-1", Level.RED, T0, (T0, T0, None, None), expected=True),
        Transition("raised", Level.RED, None, "w-1"),
    ]
    for obj in objects:
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj


def test_an_episode_pickles_the_list_of_its_values_as_earlier_releases_read():
    """Rolling back to a release before the compiled build still reads a new snapshot."""
    from warning.pipeline.lifecycle import Episode
    from warning.records import Level

    episode = Episode("w-1", Level.RED, T0, (T0, None, None, None))
    assert episode.__reduce_ex__(4)[2] == ["w-1", Level.RED, T0, (T0, None, None, None), False]
