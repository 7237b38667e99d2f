"""Every warning of real backtests over simulated scenarios renders as a schema-valid CAP alert."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict

import pytest
from lxml import etree

from sensors_sim.files import write_readings, write_registry
from sensors_sim.generate import generate
from sensors_sim.scenario import load_scenario
from tests.notify.cap_helpers import NS, ROOT, assert_valid, episode
from warning.notify.cap.files import read_events
from warning.notify.service import event_from_wire
from warning.records import zone


def _run(*args: str) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "warning", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", ["storm", "sensor_faults", "plant_gas_leak"])
def test_backtest_warnings_render_as_valid_cap(tmp_path, name):
    sc = load_scenario(name)
    readings, sensors = tmp_path / "readings.jsonl", tmp_path / "sensors.yaml"
    write_readings(generate(sc), readings)
    with sensors.open("w", encoding="utf-8") as out:
        write_registry(sc.network, out)
    warnings, out_dir = tmp_path / "warnings.jsonl", tmp_path / "cap"
    _run(
        "backtest",
        "--rules",
        str(ROOT / "rules"),
        "--input",
        str(readings),
        "--sensors",
        str(sensors),
        "--output",
        str(warnings),
        "--no-progress",
    )
    _run(
        "cap",
        "render",
        "--input",
        str(warnings),
        "--sensors",
        str(sensors),
        "--regions",
        str(ROOT / "deploy" / "regions.yaml"),
        "--output",
        str(out_dir),
    )

    events = read_events(warnings)
    assert events, f"the {name} scenario raised no warnings"
    files = sorted(out_dir.glob("*.xml"))
    assert len(files) == len(events)  # one alert per event, identifiers distinct
    by_episode = defaultdict(list)
    for path in files:
        root = assert_valid(path.read_bytes())
        wid = root.findtext(
            "cap:info/cap:parameter[cap:valueName='warning_id']/cap:value", namespaces=NS
        )
        by_episode[wid].append(root)
    for wid, roots in by_episode.items():
        roots.sort(key=lambda r: r.findtext("cap:sent", namespaces=NS))
        kinds = [r.findtext("cap:msgType", namespaces=NS) for r in roots]
        assert kinds[0] == "Alert" and "Alert" not in kinds[1:], (wid, kinds)
        assert all(k != "Cancel" for k in kinds[:-1]), (wid, kinds)
        for i, r in enumerate(roots):
            refs = r.findtext("cap:references", default="", namespaces=NS).split()
            assert len(refs) == i, (wid, i)
            assert all(
                ref.split(",")[1] == roots[j].findtext("cap:identifier", namespaces=NS)
                for j, ref in enumerate(refs)
            )
    feed = etree.parse(str(out_dir / "feed.atom")).getroot()
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    open_at_end = {
        wid
        for wid, roots in by_episode.items()
        if roots[-1].findtext("cap:msgType", namespaces=NS) != "Cancel"
    }
    entries = feed.findall("atom:entry", NS)
    assert len(entries) <= len(by_episode)
    shown = {
        e.findtext(
            "atom:content/cap:alert/cap:info/cap:parameter[cap:valueName='warning_id']/cap:value",
            namespaces=NS,
        )
        for e in entries
    }
    # every episode still open at the end of a 4-6 h scenario is in the feed (validity 6 h)
    assert open_at_end <= shown
    summary = {"events": len(events), "episodes": len(by_episode), "entries": len(entries)}
    print(name, json.dumps(summary))


def test_events_read_back_from_the_wire_format_equal_the_originals():
    for e in episode():
        assert event_from_wire(json.loads(json.dumps(e.to_dict(zone("Asia/Shanghai"))))) == e


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('{"event": "raised"}', "w.jsonl:1: expected a warning event with 'warning_id'"),
        ("not json", "w.jsonl:1: Expecting value"),
        (
            '{"warning_id": "w", "event": "opened", "rule_id": "r", "hazard": "h", "subject": "s",'
            ' "region": "x", "ts": "2026-07-05T00:00:00+08:00"}',
            "1: expected event one of raised, escalated, deescalated, confirmed, cleared; found 'opened'",
        ),
        (
            '{"warning_id": "w", "event": "raised", "rule_id": "r", "hazard": "h", "subject": "s",'
            ' "region": "x", "ts": "2026-07-05T00:00:00"}',
            "has no UTC offset",
        ),
    ],
)
def test_bad_event_files_name_the_line(tmp_path, line, words):
    path = tmp_path / "w.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=words):
        read_events(path)
