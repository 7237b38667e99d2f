"""The payload parser against the malformed corpus and valid variants."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.corpus import MALFORMED, REGISTRY, obj, topic
from warning.kinds import BUILTIN_KINDS
from warning.pipeline.parse import REASONS, ParseSettings, parse_message, parse_ts
from warning.records import RawMessage, Reading, Rejected
from warning.registry import Registry

NOW = 1_800_000_000.0  # 2027-01-15, after every corpus timestamp but the future one
SETTINGS = ParseSettings(Registry({s["id"]: s for s in REGISTRY["sensors"]}), BUILTIN_KINDS)


def parse(t, payload):
    return parse_message(RawMessage(t, payload, NOW), SETTINGS)


@pytest.mark.parametrize(
    ("t", "payload", "reason"), MALFORMED, ids=[f"{i}-{m[2]}" for i, m in enumerate(MALFORMED)]
)
def test_malformed_is_rejected_with_reason(t, payload, reason):
    out = parse(t, payload)
    assert isinstance(out, Rejected), out
    assert out.reason == reason, out.detail
    assert out.detail  # a human-readable explanation


def test_corpus_covers_every_parse_reason():
    covered = Counter(m[2] for m in MALFORMED)
    assert len(MALFORMED) >= 30
    # "late" and stale/superseded forecasts are decided per sensor in the engine, not by the
    # parser; "bad_series" is a forecast's (tests/forecast/test_wire.py covers forecasts).
    assert set(REASONS) - set(covered) == {
        "late",
        "bad_series",
        "superseded_forecast",
        "stale_forecast",
    }


@pytest.mark.parametrize(
    ("ts", "expected_ms"),
    [
        ("2026-07-05T14:00:00+08:00", 1783231200000),
        ("2026-07-05T06:00:00Z", 1783231200000),
        ("2026-07-05T06:00:00.250+00:00", 1783231200250),
        (1783231200, 1783231200000),
        (1783231200.5, 1783231200500),
    ],
)
def test_timestamps(ts, expected_ms):
    assert parse_ts(ts) == expected_ms


def test_valid_reading():
    out = parse(topic(), obj(values={"rain_mm": 2}))
    assert out == Reading("rg-1", "rainfall", "wuxing", 1783231200000, {"rain_mm": 2.0}, 1, NOW)


def test_file_sources_skip_topic_checks():
    out = parse("", json.loads(obj()))
    assert isinstance(out, Reading)


def test_unknown_sensor_accepted_when_configured():
    s = ParseSettings(Registry({}, accept_unknown=True), BUILTIN_KINDS)
    out = parse_message(
        RawMessage(topic(sensor="x-9", region="deqing"), obj(sensor_id="x-9"), NOW), s
    )
    assert isinstance(out, Reading) and out.region == "deqing"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_give_reading_or_rejection(payload):
    assert isinstance(parse(topic(), payload), Reading | Rejected)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["sensor_id", "kind", "ts", "seq", "values", "x"]), json_values, max_size=6
    )
)
def test_any_json_object_gives_reading_or_rejection(d):
    out = parse(topic(), json.dumps(d).encode())
    assert isinstance(out, Reading | Rejected)
    if isinstance(out, Reading):
        assert all(math.isfinite(v) for v in out.values.values())
