"""The reloader notices changed files and hands valid rules to the engine between readings."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from warning.app import setup
from warning.config import Config
from warning.metrics import Metrics
from warning.reload import Reloader

ROOT = Path(__file__).parents[1]


def test_watch_reloads_a_changed_file(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(ROOT / "rules" / "rainstorm.yaml", rules / "rainstorm.yaml")
    cfg = Config(rules=[str(rules)])
    s = setup(cfg, Metrics())
    reloader = Reloader(cfg, s.steps)
    assert not reloader.changed()
    (rules / "gas.yaml").write_text((ROOT / "rules" / "gas.yaml").read_text())
    assert reloader.changed()  # a new file counts
    stop = threading.Event()
    reloader.watch(stop, every=0.05)
    deadline = time.monotonic() + 5
    while s.steps._pending is None and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    pending_rules, _ = s.steps._pending
    assert "gas_combustible" in {r.id for r in pending_rules.rules}
    assert s.metrics.registry.get_sample_value("hazard_rules_last_reload_success") == 1
    # Applied only between readings, by the dataflow's own thread.
    assert "gas_combustible" not in {r.id for r in s.steps.rules.rules}
    s.steps._apply_pending()
    assert "gas_combustible" in {r.id for r in s.steps.rules.rules}
    assert s.metrics.registry.get_sample_value("hazard_rules_loaded") == len(s.steps.rules.rules)


def test_broken_file_keeps_the_running_rules(tmp_path, caplog):
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(ROOT / "rules" / "rainstorm.yaml", rules / "rainstorm.yaml")
    cfg = Config(rules=[str(rules)])
    s = setup(cfg, Metrics())
    (rules / "rainstorm.yaml").write_text("rules:\n  - id: x\n")
    os.utime(rules / "rainstorm.yaml")
    assert Reloader(cfg, s.steps).reload() is False
    assert s.steps._pending is None
    assert s.metrics.registry.get_sample_value("hazard_rules_last_reload_success") == 0
    assert "rainstorm.yaml:2: rule 'x': hazard: expected this key, found it missing" in caplog.text
