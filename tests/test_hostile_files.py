"""Hostile configuration, rule and registry files, and ids that would inject into topics.

Whatever the text, each loader returns a loaded object or raises ConfigError whose problems name
the file and a line: never another exception, never a hang (hypothesis deadlines), and alias
bombs are refused before they expand. Sensor ids, regions and hazards that are not one safe
topic level (``+``, ``#``, ``/``, NUL, over-long) are refused by the loaders and the parser.

The routing file of ``warning/notify`` is one more entry of ``LOADERS``.
"""

from __future__ import annotations

import copy
import json
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import storm
from tests.support.mqtt_helpers import Collector, publish_all
from tests.support.sockets import LOOPBACK, listening
from warning.config import load_config
from warning.notify.routing_file import load_routing
from warning.pipeline.parse import ParseSettings, parse_message
from warning.records import RawMessage, Reading, Rejected
from warning.registry import Registry, load_registry
from warning.rules.load import load_rules
from warning.yamlfile import ConfigError

ROOT = Path(__file__).parents[1]
LOADERS = {
    "rules": lambda p: load_rules([p]),
    "registry": load_registry,
    "config": load_config,
    "routing": load_routing,
}


def _routing_example() -> dict:
    doc = yaml.safe_load((ROOT / "deploy" / "routing.example.yaml").read_text())
    for channel in doc["channels"].values():  # secrets from env or file: inline URLs instead
        if channel.pop("url_env", None) or channel.pop("url_file", None):
            channel["url"] = "json://example.org/hook"
    return doc


VALID = {
    "rules": [
        yaml.safe_load(f.read_text())
        for f in sorted((ROOT / "rules").glob("*.yaml"))
        if not f.name.endswith(".test.yaml")
    ],
    "registry": [storm.REGISTRY],
    "config": [yaml.safe_load((ROOT / "deploy" / "config.example.yaml").read_text())],
    "routing": [_routing_example()],
}
FUZZ = settings(
    max_examples=150,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _load(which: str, text: str) -> Any:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{which}.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return LOADERS[which](path)
        except ConfigError as exc:
            for p in exc.problems:
                assert p.file.startswith(d) and p.line >= 1, (
                    f"expected a problem naming {path} and a line, found {p}"
                )
            return exc


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["1h", "-5m", "0s", "red", "#", "a/b"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: Any, path: tuple, op: str, value: Any) -> Any:
    if not path:
        return value if op == "replace" else doc
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if op == "delete":
        del parent[last]
    elif op == "replace":
        parent[last] = value
    elif isinstance(parent, dict):
        parent[f"x_{last}"] = value  # an unknown key beside a known one
    else:
        parent.insert(last, value)
    return doc


@pytest.mark.parametrize("which", LOADERS)
@FUZZ
@given(text=st.text(max_size=400))
def test_any_text_loads_or_is_refused_with_a_line(which, text):
    _load(which, text)


@pytest.mark.parametrize("which", LOADERS)
@FUZZ
@given(data=st.data())
def test_mutated_valid_files_load_or_are_refused_with_a_line(which, data):
    doc = copy.deepcopy(data.draw(st.sampled_from(VALID[which])))
    path = data.draw(st.sampled_from(_paths(doc)))
    op = data.draw(st.sampled_from(["replace", "delete", "add"]))
    doc = _mutate(doc, path, op, data.draw(VALUES))
    _load(which, yaml.safe_dump(doc, allow_unicode=True))


def test_valid_files_load():
    for which, docs in VALID.items():
        for doc in docs:
            assert not isinstance(_load(which, yaml.safe_dump(doc)), ConfigError), which


BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
)


@pytest.mark.parametrize("which", LOADERS)
def test_alias_bomb_is_refused_in_bounded_memory(which):
    tracemalloc.start()
    try:
        found = _load(which, BOMB)  # 10**9 nodes if expanded
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(found, ConfigError)
    assert "alias bomb" in str(found), f"expected the alias bomb named, found {found}"
    assert peak < 20 << 20, f"expected under 20 MB to refuse it, found {peak >> 20} MB"


def test_recursive_alias_is_refused():
    assert "recursive" in str(_load("config", "kinds: &a {x: *a}\n"))


INJECTIONS = ["rg+1", "rg#", "wu/xing", "rg\x001", "a" * 65, "", "+", "#"]


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("key", ["id", "region"])
def test_registry_refuses_unsafe_ids_and_regions(bad, key):
    sensor = {"id": "rg-1", "kind": "rainfall", "region": "wuxing", key: bad}
    found = _load("registry", yaml.safe_dump({"sensors": [sensor]}))
    assert isinstance(found, ConfigError) and f"{key}: expected 1-64 of" in str(found)


@pytest.mark.parametrize("bad", ["rain/storm", "rain#", "+", "x" * 65])
def test_rules_refuse_unsafe_hazards(bad):
    rule = {
        "id": "r",
        "hazard": bad,
        "for_kind": "rainfall",
        "levels": {"red": "sum(rain_mm, 1h) >= 1"},
    }
    found = _load("rules", yaml.safe_dump({"rules": [rule]}))
    assert isinstance(found, ConfigError) and "hazard: expected a hazard name" in str(found)


@pytest.mark.parametrize("bad", INJECTIONS)
def test_parser_refuses_unsafe_sensor_ids_and_regions(bad):
    from warning.kinds import BUILTIN_KINDS

    s = ParseSettings(Registry({}, accept_unknown=True), BUILTIN_KINDS, max_future_ms=None)
    body = {"sensor_id": "rg-1", "kind": "rainfall", "ts": 1783231200, "values": {"rain_mm": 1.0}}
    by_id = parse_message(RawMessage("", json.dumps({**body, "sensor_id": bad}).encode(), 0.0), s)
    assert isinstance(by_id, Rejected) and by_id.reason in ("bad_id", "bad_type")
    by_region = parse_message(
        RawMessage(f"hazard/readings/{bad}/rainfall/rg-1", json.dumps(body).encode(), 0.0), s
    )
    assert isinstance(by_region, Rejected), f"expected {bad!r} refused, found {by_region}"
    assert by_region.reason in ("bad_id", "topic_mismatch")
    ok = parse_message(
        RawMessage("hazard/readings/wuxing/rainfall/rg-1", json.dumps(body).encode(), 0.0), s
    )
    assert isinstance(ok, Reading) and ok.region == "wuxing"


def test_no_injected_region_reaches_a_warnings_topic(tmp_path, broker):
    """Readings under regions the broker accepts but we refuse raise no warning anywhere."""
    from tests.support.live_helpers import metric, start_pipeline, stop_pipeline, wait
    from warning.demo.broker import free_port

    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "rules": [str(ROOT / "rules")],
                "mqtt": {"port": broker.port, "client_id": "inject-under-test"},
                "pipeline": {
                    "idle_tick_after": "1h",
                    "unknown_sensors": "accept",
                    "max_future": "3650d",
                },
                "metrics": {"port": port},
                "outputs": {"console": False},
            }
        )
    )
    collector = Collector(broker.port, "#")
    proc, log = start_pipeline(tmp_path, config)
    regions = ["wu.xing-" + "a" * 60, "ä", "wu xing", "%2F"]  # topic levels MQTT allows
    messages = [
        (
            f"hazard/readings/{r}/rainfall/rg-{i}",
            json.dumps(
                {
                    "sensor_id": f"rg-{i}",
                    "kind": "rainfall",
                    "ts": 1783231200 + 300 * k,
                    "values": {"rain_mm": 60.0},
                }
            ).encode(),
        )
        for i, r in enumerate(regions)
        for k in range(4)
    ]
    try:
        wait(lambda: metric(port, "hazard_mqtt_connected") == 1, 30, "subscription")
        assert listening(port) == {LOOPBACK}  # the running pipeline's /metrics and /-/reload
        publish_all(broker.port, messages)
        wait(
            lambda: metric(port, "hazard_readings_received_total") == len(messages),
            30,
            "the readings",
        )
        refused = metric(port, 'hazard_readings_rejected_total{reason="bad_id"}')
    finally:
        assert stop_pipeline(proc, log) == 0
        collector.close()
    topics = {t for t, _ in collector.messages}
    assert refused == len(messages)
    assert not [t for t in topics if t.startswith("hazard/warnings/")]
    assert len([t for t in topics if t == "hazard/deadletter/bad_id"]) == 1


@pytest.mark.parametrize("which", LOADERS)
def test_deep_nesting_is_refused_quickly_with_a_line(which):
    started = time.monotonic()
    flow = _load(which, "a: 1\nb: " + "[" * 3_000 + "]" * 3_000 + "\n")
    block = _load(which, "".join(" " * i + f"k{i}:\n" for i in range(2_000)))
    assert isinstance(flow, ConfigError) and "nested at most" in str(flow)
    assert flow.problems[0].line == 2
    assert isinstance(block, ConfigError)
    assert time.monotonic() - started < 2.0, "expected a quick refusal (PyYAML is quadratic)"
