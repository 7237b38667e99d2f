"""Ops can tell from /metrics which build a process runs: compiled (setup.py) or pure."""

from __future__ import annotations

from prometheus_client import generate_latest

import warning
from tests.compiled.storm import is_compiled
from warning.metrics import Metrics


def test_build_info_says_whether_the_engine_runs_compiled():
    text = generate_latest(Metrics().registry).decode()
    want = "true" if is_compiled() else "false"
    assert f'hazard_build_info{{compiled="{want}",version="{warning.__version__}"}} 1.0' in text
    assert warning.compiled() is is_compiled()
