"""Malformed messages, each with the reason the pipeline must give for rejecting it.

Sensors in REGISTRY: rg-1 (rainfall), ws-1 (weather). Valid base reading: BASE.
"""

from __future__ import annotations

import json

REGISTRY = {
    "sensors": [
        {
            "id": "rg-1",
            "kind": "rainfall",
            "name": "Gauge one",
            "region": "wuxing",
            "lat": 30.87,
            "lon": 120.09,
        },
        {
            "id": "rg-2",
            "kind": "rainfall",
            "name": "Gauge two",
            "region": "nanxun",
            "lat": 30.88,
            "lon": 120.42,
        },
        {
            "id": "ws-1",
            "kind": "weather",
            "name": "Weather one",
            "region": "anji",
            "lat": 30.63,
            "lon": 119.68,
        },
    ]
}
TS = "2026-07-05T14:00:00+08:00"


def topic(kind: str = "rainfall", sensor: str = "rg-1", region: str = "wuxing") -> str:
    return f"hazard/readings/{region}/{kind}/{sensor}"


def obj(**changes) -> bytes:
    base = {"sensor_id": "rg-1", "kind": "rainfall", "ts": TS, "seq": 1, "values": {"rain_mm": 1.0}}
    for key, value in changes.items():
        if value is _DROP:
            base.pop(key)
        else:
            base[key] = value
    return json.dumps(base).encode()


_DROP = object()


def raw(text: str) -> bytes:
    return text.encode()


# (topic, payload, expected reason)
MALFORMED: list[tuple[str, bytes, str]] = [
    (topic(), b"", "bad_json"),
    (topic(), b"not json", "bad_json"),
    (topic(), b"{", "bad_json"),
    (topic(), b"\xff\xfe\x00\x01binary", "not_utf8"),
    (topic(), b"[1, 2, 3]", "not_object"),
    (topic(), b'"a string"', "not_object"),
    (topic(), b"null", "not_object"),
    (topic(), b"x" * (10 * 1024 * 1024), "too_large"),
    (topic(), raw('{"a":' * 50 + "1" + "}" * 50), "too_deep"),
    (topic(), raw("[" * 60_000), "too_deep"),
    (
        topic(),
        raw(
            '{"sensor_id": "rg-1", "kind": "rainfall", "ts": "'
            + TS
            + '", "values": {"rain_mm": NaN}}'
        ),
        "not_finite",
    ),
    (
        topic(),
        raw(
            '{"sensor_id": "rg-1", "kind": "rainfall", "ts": "'
            + TS
            + '", "values": {"rain_mm": Infinity}}'
        ),
        "not_finite",
    ),
    (topic(), obj(sensor_id=_DROP), "missing_field"),
    (topic(), obj(ts=_DROP), "missing_field"),
    (topic(), obj(values=_DROP), "missing_field"),
    (topic(), obj(sensor_id=42), "bad_type"),
    (topic(), obj(values=[1.0]), "bad_type"),
    (topic(), obj(values={"rain_mm": "1.2"}), "bad_type"),
    (topic(), obj(values={"rain_mm": True}), "bad_type"),
    (topic(), obj(values={"rain_mm": None}), "bad_type"),
    (topic(), obj(seq=-1), "bad_type"),
    (topic(), obj(seq=2**70), "bad_type"),
    (topic(), obj(seq="7"), "bad_type"),
    (topic(), obj(values={"rain_mm": -0.5}), "out_of_range"),
    (topic(), obj(values={"rain_mm": 1e9}), "out_of_range"),
    (
        topic("weather", "ws-1", "anji"),
        obj(sensor_id="ws-1", kind="weather", values={"rh_pct": 150.0}),
        "out_of_range",
    ),
    (topic(), obj(ts="2099-01-01T00:00:00+08:00"), "future_timestamp"),
    (topic(), obj(ts="yesterday"), "bad_timestamp"),
    (topic(), obj(ts="2026-07-05T14:00:00"), "bad_timestamp"),
    (topic(), obj(ts=0), "bad_timestamp"),
    (topic(), obj(ts=True), "bad_timestamp"),
    (topic(), obj(ts=[2026]), "bad_timestamp"),
    (topic("tsunami"), obj(kind="tsunami"), "unknown_kind"),
    (topic("gas"), obj(kind="gas", values={"lel_pct": 3.0}), "kind_mismatch"),
    (topic(sensor="rg-999"), obj(sensor_id="rg-999"), "unknown_sensor"),
    (topic(sensor="rg-2", region="nanxun"), obj(), "topic_mismatch"),
    (topic(), obj(values={}), "no_values"),
    (topic(), obj(values={"snow_mm": 1.0}), "unknown_field"),
    (topic(), obj(cmd="rm -rf /"), "unknown_field"),
    (topic(), obj(sensor_id="rg/1"), "bad_id"),
    (topic(), obj(sensor_id="rg-1\u0000x"), "bad_id"),
    (topic(), obj(sensor_id=""), "bad_id"),
    ("hazard/readings/rg-1", obj(), "topic_mismatch"),
]
